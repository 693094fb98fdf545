//! The fields a stage reads, writes and removes, computed from its typed [`Op`].
use spl_parser::ast::{Expr, ExprKind};

use super::{Op, Stage};

/// A set of field names, or "decided by the data" (parse-json keys, wildcard patterns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    Named(Vec<String>),
    /// Names known only per row, with a description (`keys of content`, `a*`).
    Dynamic(String),
}

impl Fields {
    pub(crate) fn named(names: impl IntoIterator<Item = String>) -> Fields {
        let mut v: Vec<String> = Vec::new();
        for n in names {
            if !v.contains(&n) {
                v.push(n);
            }
        }
        Fields::Named(v)
    }

    pub(crate) fn none() -> Fields {
        Fields::Named(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Fields::Named(v) if v.is_empty())
    }

    /// True when `name` may be in the set (always for dynamic sets).
    pub fn may_contain(&self, name: &str) -> bool {
        match self {
            Fields::Named(v) => v.iter().any(|n| n == name),
            Fields::Dynamic(_) => true,
        }
    }

    /// The union of two sets (dynamic when either is).
    fn union(self, other: Fields) -> Fields {
        match (self, other) {
            (Fields::Named(a), Fields::Named(b)) => Fields::named(a.into_iter().chain(b)),
            (d @ Fields::Dynamic(_), _) | (_, d @ Fields::Dynamic(_)) => d,
        }
    }
}

impl std::fmt::Display for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fields::Named(v) => f.write_str(&v.join(", ")),
            Fields::Dynamic(d) => write!(f, "<{d}>"),
        }
    }
}

impl Stage {
    /// The fields the stage reads (for a merged `extend`, those it reads from its input).
    pub fn reads(&self) -> Fields {
        match &self.op {
            Op::Where(predicates) => {
                Fields::named(predicates.iter().flat_map(|p| columns(&p.expr)))
            }
            Op::Extend(assignments) => {
                // A later assignment may read an earlier one: reads are the outside fields.
                let mut reads = Vec::new();
                let mut written: Vec<String> = Vec::new();
                for a in assignments {
                    let a = &a.assignment;
                    reads.extend(columns(&a.value).filter(|c| !written.contains(c)));
                    written.push(a.output.name.clone());
                }
                Fields::named(reads)
            }
            Op::Project { items, wildcard } => {
                if *wildcard {
                    Fields::Dynamic("fields matching the patterns".into())
                } else {
                    Fields::named(items.iter().map(|p| p.field.name.clone()))
                }
            }
            Op::ProjectAway { .. } | Op::Limit { .. } => Fields::none(),
            Op::ProjectRename { renames } => {
                Fields::named(renames.iter().map(|r| r.field.name.clone()))
            }
            Op::ParseRegexp(p) => Fields::named([p.field.clone()]),
            Op::ParseCsv { field, .. }
            | Op::ParseJson { field, .. }
            | Op::ParseKv { field, .. }
            | Op::ExpandValues { field, .. } => Fields::named([field.clone()]),
            Op::PackFields { .. } => Fields::Dynamic("fields matching -include/-exclude".into()),
            Op::LogToMetric { .. } | Op::MetricToMetric { .. } => {
                Fields::Dynamic("metric fields".into())
            }
            Op::Stats {
                aggregates,
                group_by,
                ..
            } => Fields::named(
                aggregates
                    .iter()
                    .flat_map(|a| columns(&a.value))
                    .chain(group_by.iter().flat_map(|g| columns(&g.value))),
            ),
            Op::Sort { keys } => Fields::named(keys.iter().flat_map(|k| columns(&k.value))),
            Op::MakeSeries { instr } => match &instr.kind {
                spl_parser::InstructionKind::MakeSeries {
                    series, time, by, ..
                } => Fields::named(
                    series
                        .iter()
                        .map(|s| s.field.name.clone())
                        .chain([time.name.clone()])
                        .chain(by.iter().map(|b| b.name.clone())),
                ),
                _ => Fields::Dynamic("make-series fields".into()),
            },
            // The chart may use any field (series names come from the fields it does not plot).
            Op::Render { .. } => Fields::Dynamic("the fields it charts".into()),
            Op::FilterFirst { filter, stages } => {
                let mut reads = Fields::named(filter.iter().flat_map(|p| columns(&p.expr)));
                for s in stages {
                    reads = reads.union(s.reads());
                }
                reads
            }
            Op::LateExtract { extract, filter } => extract
                .reads()
                .union(Fields::named(filter.iter().flat_map(|p| columns(&p.expr)))),
        }
    }

    /// The fields the stage writes.
    pub fn writes(&self) -> Fields {
        match &self.op {
            Op::Where(_)
            | Op::ProjectAway { .. }
            | Op::Sort { .. }
            | Op::Limit { .. }
            | Op::Render { .. } => Fields::none(),
            Op::Extend(assignments) => {
                Fields::named(assignments.iter().map(|a| a.assignment.output.name.clone()))
            }
            Op::Project { items, .. } => Fields::named(
                items
                    .iter()
                    .filter_map(|p| p.output.as_ref())
                    .map(|o| o.name.clone()),
            ),
            Op::ProjectRename { renames } => {
                Fields::named(renames.iter().map(|r| r.output.name.clone()))
            }
            Op::ParseRegexp(p) => match &p.outputs {
                Some(outputs) => {
                    Fields::named(outputs.iter().filter(|o| !p.pruned.contains(o)).cloned())
                }
                None => Fields::Dynamic("named groups".into()),
            },
            Op::ParseCsv { outputs, .. } => Fields::named(outputs.iter().cloned()),
            Op::ParseJson { field, only, .. } => match only {
                Some(only) => Fields::named(only.iter().cloned()),
                None => Fields::Dynamic(format!("keys found in {field}")),
            },
            Op::ParseKv { field, .. } => Fields::Dynamic(format!("keys found in {field}")),
            Op::ExpandValues { output, .. } => Fields::named([output.clone()]),
            Op::PackFields { output, .. } => Fields::named([output.clone()]),
            Op::LogToMetric { .. } | Op::MetricToMetric { .. } => Fields::named(
                ["__name__", "__labels__", "__time_nano__", "__value__"].map(String::from),
            ),
            Op::Stats {
                aggregates,
                group_by,
                ..
            } => Fields::named(
                group_by
                    .iter()
                    .map(|g| match (&g.output, &g.value.kind) {
                        (Some(o), _) => o.name.clone(),
                        (None, ExprKind::Column(c)) => c.clone(),
                        (None, _) => g.value.to_string(),
                    })
                    .chain(aggregates.iter().map(|a| a.output.name.clone())),
            ),
            Op::MakeSeries { instr } => match &instr.kind {
                spl_parser::InstructionKind::MakeSeries { series, by, .. } => Fields::named(
                    by.iter()
                        .map(|b| b.name.clone())
                        .chain([crate::ops::make_series::TIME_AXIS.to_string()])
                        .chain(series.iter().map(|s| s.output.name.clone())),
                ),
                _ => Fields::Dynamic("make-series fields".into()),
            },
            Op::FilterFirst { stages, .. } => stages
                .iter()
                .fold(Fields::none(), |w, s| w.union(s.writes())),
            Op::LateExtract { extract, .. } => extract.writes(),
        }
    }

    /// The fields the stage removes (`project-away`, the sources of `project-rename`), or a
    /// dynamic set for stages that remove fields not named in the program.
    pub fn removes(&self) -> Fields {
        match &self.op {
            Op::Project { .. } => Fields::Dynamic("all other fields but the time fields".into()),
            Op::ProjectAway { patterns, wildcard } => {
                let names = patterns.iter().map(|p| p.name.clone());
                if *wildcard {
                    Fields::Dynamic(format!(
                        "fields matching {}",
                        names.collect::<Vec<_>>().join(", ")
                    ))
                } else {
                    Fields::named(names)
                }
            }
            Op::ProjectRename { renames } => {
                Fields::named(renames.iter().map(|r| r.field.name.clone()))
            }
            Op::PackFields { keep: false, .. } => Fields::Dynamic("packed fields".into()),
            Op::Stats { .. } | Op::MakeSeries { .. } => Fields::Dynamic("all other fields".into()),
            Op::FilterFirst { stages, .. } => stages
                .iter()
                .fold(Fields::none(), |r, s| r.union(s.removes())),
            _ => Fields::none(),
        }
    }
}

/// The field names an expression reads (lambda parameters excluded).
pub fn columns(e: &Expr) -> impl Iterator<Item = String> {
    let mut out = Vec::new();
    collect(e, &[], &mut out);
    out.into_iter()
}

fn collect(e: &Expr, bound: &[String], out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Column(c) => {
            if !bound.contains(c) && !out.contains(c) {
                out.push(c.clone());
            }
        }
        ExprKind::Lambda { params, body } => {
            let mut inner = bound.to_vec();
            inner.extend(params.iter().cloned());
            collect(body, &inner, out);
        }
        _ => e.for_each_child(&mut |c, _| collect(c, bound, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::lower;

    #[test]
    fn fields_per_stage() {
        let p = lower(
            &spl_parser::parse(
                "* | where cast(status as bigint) >= 500 | extend a = lower(uri), b = a || host \
                 | parse-regexp content, '(?P<ip>\\S+) (?P<m>\\w+)' | project-away host \
                 | parse-json body | project ip",
            )
            .unwrap(),
        );
        let s = &p.chains[0].stages;
        assert_eq!(s[0].reads(), Fields::Named(vec!["status".into()]));
        assert_eq!(
            s[1].reads(),
            Fields::Named(vec!["uri".into(), "host".into()])
        );
        assert_eq!(s[1].writes(), Fields::Named(vec!["a".into(), "b".into()]));
        assert_eq!(s[2].writes(), Fields::Named(vec!["ip".into(), "m".into()]));
        assert_eq!(s[3].removes(), Fields::Named(vec!["host".into()]));
        assert!(matches!(s[4].writes(), Fields::Dynamic(_)));
        assert!(matches!(s[5].removes(), Fields::Dynamic(_)));
        assert!(s[0].can_fail() && s[1].can_fail() && !s[2].can_fail() && !s[3].can_fail());
        assert!(s[4].can_fail() && !s[5].can_fail());
    }

    #[test]
    fn lambda_parameters_are_not_fields() {
        let e = spl_parser::parse("* | where any_match(split(tags, ','), x -> x = want)").unwrap();
        let spl_parser::InstructionKind::Where { predicate } =
            &e.statements[0].pipeline.stages[0].kind
        else {
            panic!()
        };
        let cols: Vec<String> = columns(predicate).collect();
        assert_eq!(cols, vec!["tags".to_string(), "want".to_string()]);
    }
}

//! The logical plan: per statement its source and stages, and per stage the fields it reads,
//! writes and removes. `spl explain` prints it; the optimizer's field-aware rules use it.
use std::fmt::Write as _;

use spl_parser::ast::{self, Expr, ExprKind, InstructionKind, Program, Source};

/// A set of field names, or "decided by the data" (parse-json keys, wildcard patterns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    Named(Vec<String>),
    /// Names known only per row, with a description (`keys of content`, `a*`).
    Dynamic(String),
}

impl Fields {
    fn named(names: impl IntoIterator<Item = String>) -> Fields {
        let mut v: Vec<String> = Vec::new();
        for n in names {
            if !v.contains(&n) {
                v.push(n);
            }
        }
        Fields::Named(v)
    }

    fn none() -> Fields {
        Fields::Named(Vec::new())
    }

    fn is_empty(&self) -> bool {
        matches!(self, Fields::Named(v) if v.is_empty())
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

/// One stage of the plan.
#[derive(Debug, Clone)]
pub struct StagePlan {
    pub instruction: &'static str,
    /// The stage in canonical SPL.
    pub text: String,
    pub reads: Fields,
    pub writes: Fields,
    /// Fields the stage removes (`project-away`), or `Dynamic("all others")` for `project`.
    pub removes: Fields,
}

/// One statement.
#[derive(Debug, Clone)]
pub struct ChainPlan {
    /// `.let` name.
    pub name: Option<String>,
    /// `*` or `$name`.
    pub source: String,
    pub stages: Vec<StagePlan>,
}

/// Describes every statement of a program.
pub fn describe(program: &Program) -> Vec<ChainPlan> {
    program
        .statements
        .iter()
        .map(|st| ChainPlan {
            name: st.name.as_ref().map(|n| n.name.clone()),
            source: match &st.pipeline.source {
                Source::Star(_) => "*".into(),
                Source::Dataset(id) => format!("${}", id.name),
            },
            stages: st.pipeline.stages.iter().map(stage).collect(),
        })
        .collect()
}

fn stage(i: &ast::Instruction) -> StagePlan {
    use InstructionKind as K;
    let name = |id: &ast::Ident| id.name.clone();
    let (reads, writes, removes) = match &i.kind {
        K::Where { predicate } => (
            Fields::named(columns(predicate)),
            Fields::none(),
            Fields::none(),
        ),
        K::Extend { assignments } => {
            // A later assignment may read an earlier one: reads are the outside fields.
            let mut reads = Vec::new();
            let mut written: Vec<String> = Vec::new();
            for a in assignments {
                reads.extend(columns(&a.value).filter(|c| !written.contains(c)));
                written.push(a.output.name.clone());
            }
            (Fields::named(reads), Fields::named(written), Fields::none())
        }
        K::Project { items } => {
            let reads = if i.has("wildcard") {
                Fields::Dynamic("fields matching the patterns".into())
            } else {
                Fields::named(items.iter().map(|p| p.field.name.clone()))
            };
            let writes = Fields::named(items.iter().filter_map(|p| p.output.as_ref().map(name)));
            (
                reads,
                writes,
                Fields::Dynamic("all other fields but the time fields".into()),
            )
        }
        K::ProjectAway { patterns } => (
            Fields::none(),
            Fields::none(),
            Fields::named(patterns.iter().map(name)),
        ),
        K::ProjectRename { renames } => (
            Fields::named(renames.iter().map(|r| r.field.name.clone())),
            Fields::named(renames.iter().map(|r| r.output.name.clone())),
            Fields::named(renames.iter().map(|r| r.field.name.clone())),
        ),
        K::ExpandValues { field, output } => (
            Fields::named([field.name.clone()]),
            Fields::named([output.as_ref().unwrap_or(field).name.clone()]),
            Fields::none(),
        ),
        K::ParseRegexp {
            field,
            pattern,
            outputs,
        } => {
            let writes = if outputs.is_empty() {
                match regex::Regex::new(&pattern.value) {
                    Ok(re) => Fields::named(re.capture_names().flatten().map(str::to_string)),
                    Err(_) => Fields::Dynamic("named groups".into()),
                }
            } else {
                Fields::named(outputs.iter().map(name))
            };
            (Fields::named([field.name.clone()]), writes, Fields::none())
        }
        K::ParseCsv { field, outputs } => (
            Fields::named([field.name.clone()]),
            Fields::named(outputs.iter().map(name)),
            Fields::none(),
        ),
        K::ParseJson { field } | K::ParseKv { field, .. } => (
            Fields::named([field.name.clone()]),
            Fields::Dynamic(format!("keys found in {}", field.name)),
            Fields::none(),
        ),
        K::PackFields { output } => (
            Fields::Dynamic("fields matching -include/-exclude".into()),
            Fields::named([output.name.clone()]),
            if i.has("keep") {
                Fields::none()
            } else {
                Fields::Dynamic("packed fields".into())
            },
        ),
        K::LogToMetric | K::MetricToMetric => (
            Fields::Dynamic("metric fields".into()),
            Fields::named(
                ["__name__", "__labels__", "__time_nano__", "__value__"].map(String::from),
            ),
            Fields::none(),
        ),
        K::Stats {
            aggregates,
            group_by,
        } => {
            let mut reads: Vec<String> = Vec::new();
            for a in aggregates {
                reads.extend(columns(&a.value));
            }
            for g in group_by {
                reads.extend(columns(&g.value));
            }
            let writes = group_by
                .iter()
                .map(|g| match (&g.output, &g.value.kind) {
                    (Some(o), _) => o.name.clone(),
                    (None, ExprKind::Column(c)) => c.clone(),
                    (None, _) => g.value.to_string(),
                })
                .chain(aggregates.iter().map(|a| a.output.name.clone()));
            (
                Fields::named(reads),
                Fields::named(writes),
                Fields::Dynamic("all other fields".into()),
            )
        }
        K::Sort { keys } => (
            Fields::named(keys.iter().flat_map(|k| columns(&k.value))),
            Fields::none(),
            Fields::none(),
        ),
        K::Limit { .. } => (Fields::none(), Fields::none(), Fields::none()),
    };
    StagePlan {
        instruction: i.kind.name(),
        text: i.to_string(),
        reads,
        writes,
        removes,
    }
}

/// True when the program is one statement over the input whose stages only choose rows
/// (`where`, `limit`): every output row is an input row, unchanged, so a runner may write the
/// input line itself instead of re-encoding the row.
pub fn rows_unchanged(chains: &[ChainPlan]) -> bool {
    matches!(chains, [c] if c.source == "*"
        && c.stages.iter().all(|s| matches!(s.instruction, "where" | "limit")))
}

/// Which fields of its input events a program can observe.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldSelection {
    /// Any field may matter.
    #[default]
    All,
    /// Only these (time fields are always kept by decoders and not listed).
    Only(Vec<String>),
    /// All but these: removed (`project-away`) before anything read them.
    AllBut(Vec<String>),
}

impl FieldSelection {
    /// True when the field `name` of an input event may matter.
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            FieldSelection::All => true,
            FieldSelection::Only(names) => names.iter().any(|n| n == name),
            FieldSelection::AllBut(names) => !names.iter().any(|n| n == name),
        }
    }
}

/// The input fields a program can observe. Walking its stages: the fields read before being
/// written are needed; at the first stage that drops every other field (`project`, `stats`)
/// nothing else is, and fields removed by `project-away` before anything read them are never
/// seen. A stage that reads fields chosen by the data (`pack-fields`, metrics, `project
/// -wildcard`) makes every field matter. When rows reach the output with their other fields,
/// all but the removed ones matter — unless `whole_rows_from_input` says the runner writes output
/// rows from the input lines themselves ([`rows_unchanged`]). Only single-statement programs
/// over `*` are analysed.
pub fn input_fields(chains: &[ChainPlan], whole_rows_from_input: bool) -> FieldSelection {
    let [chain] = chains else {
        return FieldSelection::All;
    };
    if chain.source != "*" {
        return FieldSelection::All;
    }
    let mut needed: Vec<String> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut unseen: Vec<String> = Vec::new();
    for st in &chain.stages {
        let Fields::Named(reads) = &st.reads else {
            return FieldSelection::All;
        };
        for r in reads {
            if !written.contains(r) && !needed.contains(r) && !unseen.contains(r) {
                needed.push(r.clone());
            }
        }
        if matches!(st.instruction, "project" | "stats") {
            return FieldSelection::Only(needed);
        }
        if let Fields::Named(w) = &st.writes {
            written.extend(w.iter().cloned());
        }
        if let Fields::Named(removed) = &st.removes {
            let wildcard = st.text.contains("-wildcard");
            for r in removed {
                if st.instruction == "project-away"
                    && !wildcard
                    && !needed.contains(r)
                    && !unseen.contains(r)
                {
                    unseen.push(r.clone());
                }
            }
            // A removed field that is written again later is a new field, not the input's.
            written.retain(|w| !removed.contains(w));
        }
    }
    if whole_rows_from_input {
        FieldSelection::Only(needed)
    } else if unseen.is_empty() {
        FieldSelection::All
    } else {
        FieldSelection::AllBut(unseen)
    }
}

/// The fields written by stage `stage` of statement `chain` that nothing observes: every later
/// stage leaves them unread until one drops them (`project`, `stats`, or `project-away` by
/// name). A field that reaches the end of the statement counts as observed. Returns the unused
/// fields and, for each, the 1-based stage that drops it.
pub fn unused_outputs(chains: &[ChainPlan], chain: usize, stage: usize) -> Vec<(String, usize)> {
    let Some(c) = chains.get(chain) else {
        return Vec::new();
    };
    let Some(Fields::Named(writes)) = c.stages.get(stage).map(|s| &s.writes) else {
        return Vec::new();
    };
    let mut unused = Vec::new();
    'fields: for w in writes {
        for (j, later) in c.stages.iter().enumerate().skip(stage + 1) {
            match &later.reads {
                Fields::Named(reads) if !reads.contains(w) => {}
                _ => continue 'fields, // read, or maybe read
            }
            let drops = match later.instruction {
                "project" | "stats" => true,
                "project-away" => {
                    !later.text.contains("-wildcard")
                        && matches!(&later.removes, Fields::Named(r) if r.contains(w))
                }
                _ => false,
            };
            if drops {
                unused.push((w.clone(), j + 1));
                continue 'fields;
            }
        }
    }
    unused
}

/// For stage `stage` of statement `chain` when its outputs are named by the data (`parse-json`
/// keys): the fields later stages can observe before one drops all others (`project`,
/// `stats`), with that stage (1-based). `None` when a later stage reads fields chosen by the
/// data (`-wildcard`, `pack-fields`, metrics) or rows reach the end of the statement with all
/// their fields.
pub fn observed_dynamic_outputs(
    chains: &[ChainPlan],
    chain: usize,
    stage: usize,
) -> Option<(Vec<String>, usize)> {
    let c = chains.get(chain)?;
    if !matches!(c.stages.get(stage)?.writes, Fields::Dynamic(_)) {
        return None;
    }
    let mut observed: Vec<String> = Vec::new();
    for (j, later) in c.stages.iter().enumerate().skip(stage + 1) {
        let Fields::Named(reads) = &later.reads else {
            return None;
        };
        for r in reads {
            if !observed.contains(r) {
                observed.push(r.clone());
            }
        }
        if matches!(later.instruction, "project" | "stats") {
            return Some((observed, j + 1));
        }
    }
    None
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

/// The plan as an indented tree, one line per stage with its fields.
pub fn render(chains: &[ChainPlan], outputs: &[(String, usize)]) -> String {
    let mut s = String::new();
    for (ci, c) in chains.iter().enumerate() {
        let role = match (&c.name, outputs.iter().find(|(_, i)| *i == ci)) {
            (Some(n), _) => format!("dataset ${n}"),
            (None, Some((o, _))) => format!("output {o}"),
            (None, None) => "statement".to_string(),
        };
        let _ = writeln!(s, "{role} <- {}", c.source);
        for (si, st) in c.stages.iter().enumerate() {
            let last = si + 1 == c.stages.len();
            let (branch, cont) = if last {
                ("└─", "   ")
            } else {
                ("├─", "│  ")
            };
            let _ = writeln!(s, "  {branch} {}. {}", si + 1, st.text);
            let mut parts = Vec::new();
            if !st.reads.is_empty() {
                parts.push(format!("reads: {}", st.reads));
            }
            if !st.writes.is_empty() {
                parts.push(format!("writes: {}", st.writes));
            }
            if !st.removes.is_empty() {
                parts.push(format!("removes: {}", st.removes));
            }
            if !parts.is_empty() {
                let _ = writeln!(s, "  {cont}    {}", parts.join("; "));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(spl: &str) -> Vec<ChainPlan> {
        describe(&spl_parser::parse(spl).unwrap())
    }

    #[test]
    fn fields_per_stage() {
        let p = plan(
            "* | where cast(status as bigint) >= 500 | extend a = lower(uri), b = a || host \
             | parse-regexp content, '(?P<ip>\\S+) (?P<m>\\w+)' | project-away host \
             | parse-json body | project ip",
        );
        let s = &p[0].stages;
        assert_eq!(s[0].reads, Fields::Named(vec!["status".into()]));
        assert_eq!(s[1].reads, Fields::Named(vec!["uri".into(), "host".into()]));
        assert_eq!(s[1].writes, Fields::Named(vec!["a".into(), "b".into()]));
        assert_eq!(s[2].writes, Fields::Named(vec!["ip".into(), "m".into()]));
        assert_eq!(s[3].removes, Fields::Named(vec!["host".into()]));
        assert!(matches!(s[4].writes, Fields::Dynamic(_)));
        assert!(matches!(s[5].removes, Fields::Dynamic(_)));
    }

    #[test]
    fn input_fields_stop_at_the_first_total_projection() {
        use FieldSelection::{AllBut, Only};
        let fields = |spl: &str, whole| match input_fields(&plan(spl), whole) {
            Only(v) => Some(v),
            _ => None,
        };
        let w2 = "* | parse-regexp content, '(\\S+) (\\d+)' as ip, status \
                  | where cast(status as bigint) >= 500 | project ip, status";
        assert_eq!(fields(w2, false), Some(vec!["content".to_string()]));
        assert_eq!(
            fields("* | extend a = b || c | where a = d | project a, e", false),
            Some(vec!["b".into(), "c".into(), "d".into(), "e".into()])
        );
        assert_eq!(
            fields("* | stats n = count(1) by host", false),
            Some(vec!["host".into()])
        );
        // Rows keep all their fields: every field matters unless lines are re-emitted.
        assert_eq!(
            fields("* | where cast(status as bigint) >= 500", false),
            None
        );
        assert_eq!(
            fields("* | where cast(status as bigint) >= 500 | limit 5", true),
            Some(vec!["status".into()])
        );
        // Fields chosen by the data, and multi-statement programs, are not analysed.
        assert_eq!(fields("* | project -wildcard \"a*\"", false), None);
        assert_eq!(
            fields("* | pack-fields -include='a.*' as p | project p", false),
            None
        );
        assert_eq!(
            fields(".let a = * | project x; $a | project x", false),
            None
        );
        // Fields removed before anything reads them are never seen.
        let w3 = "* | extend latency_ms = cast(latency as double) * 1000 | project-away user_agent";
        assert_eq!(
            input_fields(&plan(w3), false),
            AllBut(vec!["user_agent".into()])
        );
        assert_eq!(
            input_fields(&plan("* | where length(a) > 1 | project-away a, b"), false),
            AllBut(vec!["b".into()])
        );
        assert_eq!(
            input_fields(&plan("* | project-away -wildcard \"a*\""), false),
            FieldSelection::All
        );
        assert!(AllBut(vec!["x".into()]).keeps("y") && !AllBut(vec!["x".into()]).keeps("x"));
        // The input's `a` is overwritten, then removed: `project a` cannot see it.
        assert_eq!(
            fields("* | extend a = '1' | project-away a | project a", false),
            Some(vec![])
        );
        // Read before its removal: needed.
        assert_eq!(
            fields("* | extend b = a | project-away a | project a, b", false),
            Some(vec!["a".into()])
        );
    }

    #[test]
    fn unused_outputs_are_those_dropped_unread() {
        let w2 = plan(
            "* | parse-regexp content, '(\\S+) (\\S+) (\\d+) (\\d+)' as ip, time, status, size \
             | where cast(status as bigint) >= 500 | project ip, status",
        );
        assert_eq!(
            unused_outputs(&w2, 0, 0),
            vec![("time".to_string(), 3), ("size".to_string(), 3)]
        );
        let kept = plan("* | parse-regexp content, '(\\S+) (\\S+)' as a, b | where a = b");
        assert!(unused_outputs(&kept, 0, 0).is_empty());
        let away = plan("* | parse-regexp content, '(\\S+) (\\S+)' as a, b | project-away b");
        assert_eq!(unused_outputs(&away, 0, 0), vec![("b".to_string(), 2)]);
        let dynamic = plan(
            "* | parse-regexp content, '(\\S+)' as a | pack-fields -include='a' as p | project p",
        );
        assert!(unused_outputs(&dynamic, 0, 0).is_empty());
    }

    #[test]
    fn observed_dynamic_outputs_stop_at_the_first_total_projection() {
        let p = plan("* | parse-json content | where a = '1' | extend c = b | project c, d");
        assert_eq!(
            observed_dynamic_outputs(&p, 0, 0),
            Some((vec!["a".into(), "b".into(), "c".into(), "d".into()], 4))
        );
        let p = plan("* | parse-json content | stats n = count(1) by host");
        assert_eq!(
            observed_dynamic_outputs(&p, 0, 0),
            Some((vec!["host".into()], 2))
        );
        for spl in [
            "* | parse-json content | where a = '1'",
            "* | parse-json content | project -wildcard \"a*\"",
            "* | parse-json content | pack-fields -include='a' as p | project p",
        ] {
            assert_eq!(observed_dynamic_outputs(&plan(spl), 0, 0), None, "{spl}");
        }
        // Named outputs are `unused_outputs`' business.
        let p = plan("* | parse-regexp content, '(\\S+)' as a | project a");
        assert_eq!(observed_dynamic_outputs(&p, 0, 0), None);
    }

    #[test]
    fn rows_unchanged_only_for_row_choosing_stages() {
        assert!(rows_unchanged(&plan("* | where a = '1' | limit 3")));
        assert!(rows_unchanged(&plan("*")));
        assert!(!rows_unchanged(&plan("* | where a = '1' | extend b = a")));
        assert!(!rows_unchanged(&plan(".let x = *; $x | where a = '1'")));
    }

    #[test]
    fn lambda_parameters_are_not_fields() {
        let e = spl_parser::parse("* | where any_match(split(tags, ','), x -> x = want)").unwrap();
        let InstructionKind::Where { predicate } = &e.statements[0].pipeline.stages[0].kind else {
            panic!()
        };
        let cols: Vec<String> = columns(predicate).collect();
        assert_eq!(cols, vec!["tags".to_string(), "want".to_string()]);
    }

    #[test]
    fn render_shows_tree() {
        let text = render(
            &plan("* | where a = '1' | project a"),
            &[("output1".into(), 0)],
        );
        assert!(text.starts_with("output output1 <- *\n"), "{text}");
        assert!(text.contains("├─ 1. where a = '1'"), "{text}");
        assert!(text.contains("└─ 2. project a"), "{text}");
        assert!(text.contains("reads: a"), "{text}");
    }
}

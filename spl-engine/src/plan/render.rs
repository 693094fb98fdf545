//! The plan as text (`spl explain`): per statement a tree of stages in the order they run,
//! each with its canonical SPL, the stages as written it runs, and the fields it reads, writes
//! and removes.
use std::fmt::Write as _;

use spl_parser::ast::{InstructionKind, Opt, OptValue};

use super::{instruction, Chain, Op, Part, Program, Stage};

/// The program as an indented tree, one entry per stage with its fields.
pub fn render(program: &Program) -> String {
    let mut s = String::new();
    for (ci, c) in program.chains.iter().enumerate() {
        let role = match (&c.name, program.outputs.iter().find(|o| o.chain == ci)) {
            (Some(n), _) => format!("dataset ${n}"),
            (None, Some(o)) => format!("output {}", o.name),
            (None, None) => "statement".to_string(),
        };
        let _ = writeln!(s, "{role} <- {}", c.source);
        s.push_str(&render_chain(c));
    }
    s
}

/// One row of the tree.
struct Row {
    parts: Vec<Part>,
    text: String,
    notes: Vec<String>,
}

/// The stages of one chain, one entry per stage as it runs (a pushed-down `where` first, then
/// the stages it moved ahead of), numbered by the stages as written.
pub fn render_chain(chain: &Chain) -> String {
    let mut rows = Vec::new();
    for st in &chain.stages {
        rows_of(st, &mut rows);
    }
    let mut s = String::new();
    for (i, row) in rows.iter().enumerate() {
        let last = i + 1 == rows.len();
        let (branch, cont) = if last {
            ("└─", "   ")
        } else {
            ("├─", "│  ")
        };
        let number: Vec<String> = row
            .parts
            .iter()
            .map(|p| (p.stage + 1).to_string())
            .collect();
        let _ = writeln!(s, "  {branch} {}. {}", number.join("+"), row.text);
        if !row.notes.is_empty() {
            let _ = writeln!(s, "  {cont}    {}", row.notes.join("; "));
        }
    }
    s
}

fn rows_of(st: &Stage, rows: &mut Vec<Row>) {
    if let Op::LateExtract { extract, filter } = &st.op {
        rows.push(row(extract));
        let filter_stage = Stage {
            op: Op::Where(filter.clone()),
            parts: st.parts[extract.parts.len()..].to_vec(),
        };
        let mut row = row(&filter_stage);
        if let Some(late) = super::late_outputs(extract, &filter_stage) {
            row.notes.push(format!(
                "{} extracted after it, for the rows it keeps",
                late.join(", ")
            ));
        }
        rows.push(row);
        return;
    }
    if let Op::FilterFirst { filter, stages } = &st.op {
        let filter_parts: Vec<Part> = st.parts[..stages_offset(filter)].to_vec();
        let filter = Stage {
            op: Op::Where(filter.clone()),
            parts: filter_parts,
        };
        let ahead: Vec<String> = stages
            .iter()
            .flat_map(|s| &s.parts)
            .map(|p| (p.stage + 1).to_string())
            .collect();
        let mut row = row(&filter);
        row.notes.push(format!(
            "runs before stage{} {}",
            if ahead.len() == 1 { "" } else { "s" },
            ahead.join(", ")
        ));
        rows.push(row);
        for s in stages {
            rows_of(s, rows);
        }
        return;
    }
    rows.push(row(st));
}

/// The number of parts a pushed-down filter's own conditions cover.
fn stages_offset(filter: &[super::Predicate]) -> usize {
    filter.iter().map(|p| p.part + 1).max().unwrap_or(1)
}

fn row(st: &Stage) -> Row {
    let mut notes = Vec::new();
    let fields = [
        ("reads", st.reads()),
        ("writes", st.writes()),
        ("removes", st.removes()),
    ];
    for (what, f) in fields {
        if !f.is_empty() {
            notes.push(format!("{what}: {f}"));
        }
    }
    match &st.op {
        Op::ParseRegexp(p) => {
            if !p.pruned.is_empty() {
                notes.push(format!("not extracted: {}", p.pruned.join(", ")));
            }
            if let Some(l) = &p.prefilter {
                notes.push(format!(
                    "prefilter: {:?}",
                    String::from_utf8_lossy(l).into_owned()
                ));
            }
        }
        Op::ParseJson { only: Some(_), .. } => notes.push("extracts only these keys".into()),
        Op::Stats {
            max_groups: Some(n),
            ..
        } => notes.push(format!("at most {n} groups")),
        _ => {}
    }
    Row {
        parts: st.parts.clone(),
        text: text(st),
        notes,
    }
}

/// The stage in canonical SPL; merged `where`s are written one after the other.
pub(super) fn text(st: &Stage) -> String {
    match &st.op {
        Op::Where(predicates)
        | Op::FilterFirst {
            filter: predicates, ..
        } => predicates
            .iter()
            .map(|p| {
                instruction(InstructionKind::Where {
                    predicate: p.expr.clone(),
                })
                .to_string()
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Op::Extend(assignments) => instruction(InstructionKind::Extend {
            assignments: assignments.iter().map(|a| a.assignment.clone()).collect(),
        })
        .to_string(),
        Op::Project { items, wildcard } => with_switch(
            InstructionKind::Project {
                items: items.clone(),
            },
            *wildcard,
        ),
        Op::ProjectAway { patterns, wildcard } => with_switch(
            InstructionKind::ProjectAway {
                patterns: patterns.clone(),
            },
            *wildcard,
        ),
        Op::ProjectRename { renames } => instruction(InstructionKind::ProjectRename {
            renames: renames.clone(),
        })
        .to_string(),
        Op::ParseRegexp(p) => p.instr.to_string(),
        Op::LateExtract { extract, filter } => format!(
            "{} | {}",
            text(extract),
            text(&Stage {
                op: Op::Where(filter.clone()),
                parts: Vec::new(),
            })
        ),
        Op::ParseCsv { instr, .. }
        | Op::ParseJson { instr, .. }
        | Op::ParseKv { instr, .. }
        | Op::ExpandValues { instr, .. }
        | Op::PackFields { instr, .. }
        | Op::LogToMetric { instr }
        | Op::MetricToMetric { instr }
        | Op::MakeSeries { instr }
        | Op::Render { instr } => instr.to_string(),
        Op::Stats {
            aggregates,
            group_by,
            ..
        } => instruction(InstructionKind::Stats {
            aggregates: aggregates.clone(),
            group_by: group_by.clone(),
        })
        .to_string(),
        Op::Sort { keys } => instruction(InstructionKind::Sort { keys: keys.clone() }).to_string(),
        Op::Limit { offset, count } => instruction(InstructionKind::Limit {
            offset: *offset,
            count: *count,
        })
        .to_string(),
    }
}

fn with_switch(kind: InstructionKind, wildcard: bool) -> String {
    let mut i = instruction(kind);
    if wildcard {
        i.options.push(Opt {
            name: "wildcard",
            value: OptValue::Switch,
            span: i.span,
        });
    }
    i.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_shows_tree() {
        let text = render(&crate::plan::lower(
            &spl_parser::parse("* | where a = '1' | project a").unwrap(),
        ));
        assert!(text.starts_with("output output1 <- *\n"), "{text}");
        assert!(text.contains("├─ 1. where a = '1'"), "{text}");
        assert!(text.contains("└─ 2. project a"), "{text}");
        assert!(text.contains("reads: a"), "{text}");
    }
}

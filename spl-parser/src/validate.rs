//! Checks on a parsed program that the grammar cannot express: dataset references, duplicate
//! outputs, time-field protection, and the argument forms of `parse-kv` and `log-to-metric`.
use std::collections::HashMap;

use crate::ast::*;
use crate::codes;
use crate::diagnostic::{Diagnostic, Diagnostics};

/// The time fields that only `extend` may write (spec §2.3).
pub const TIME_FIELDS: &[&str] = &["__time__", "__time_ns_part__"];

/// Validates `program`, adding errors and warnings to `diags`.
pub fn program(program: &Program, diags: &mut Diagnostics) {
    // name -> (definition span, used)
    let mut datasets: HashMap<&str, (Span, bool)> = HashMap::new();
    for stmt in &program.statements {
        if let Source::Dataset(name) = &stmt.pipeline.source {
            match datasets.get_mut(name.name.as_str()) {
                Some(entry) => entry.1 = true,
                None => {
                    let known: Vec<&str> = datasets.keys().copied().collect();
                    let help = crate::suggest::did_you_mean(&name.name, known.iter().copied())
                        .map(|s| format!("did you mean `${s}`?"));
                    let later = program
                        .statements
                        .iter()
                        .any(|s| s.name.as_ref().is_some_and(|n| n.name == name.name));
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_DATASET,
                        format!("unknown dataset `${}`", name.name),
                        name.span,
                        "not defined before this point",
                    );
                    if later {
                        d = d.with_note("a dataset must be defined by `.let` before it is used");
                    }
                    diags.push(d.with_help_opt(help));
                }
            }
        }
        for stage in &stmt.pipeline.stages {
            instruction(stage, diags);
        }
        if let Some(name) = &stmt.name {
            if let Some((first, _)) = datasets.get(name.name.as_str()) {
                diags.push(
                    Diagnostic::error(
                        codes::DUPLICATE_DATASET,
                        format!("dataset `{}` is defined twice", name.name),
                        name.span,
                        "defined again here",
                    )
                    .with_label(*first, "first defined here"),
                );
            } else {
                datasets.insert(&name.name, (name.span, false));
            }
        }
    }
    let mut unused: Vec<(&str, Span)> = datasets
        .iter()
        .filter(|(_, (_, used))| !used)
        .map(|(n, (s, _))| (*n, *s))
        .collect();
    unused.sort_by_key(|(_, s)| s.start);
    for (name, span) in unused {
        diags.push(
            Diagnostic::warning(
                codes::UNUSED_DATASET,
                format!("dataset `{name}` is never used"),
                span,
                "defined here",
            )
            .with_help(format!(
                "emit it with a statement `${name};` or use it as a source"
            )),
        );
    }
}

fn instruction(i: &Instruction, diags: &mut Diagnostics) {
    match &i.kind {
        InstructionKind::Extend { assignments } => {
            duplicates(assignments.iter().map(|a| &a.output), "extend", diags);
        }
        InstructionKind::Stats { aggregates, .. } => {
            duplicates(aggregates.iter().map(|a| &a.output), "stats", diags);
        }
        InstructionKind::ProjectRename { renames } => {
            duplicates(renames.iter().map(|r| &r.output), "project-rename", diags);
            let mut sources: HashMap<&str, Span> = HashMap::new();
            for r in renames {
                if let Some(prev) = sources.insert(&r.field.name, r.field.span) {
                    diags.push(
                        Diagnostic::error(
                            codes::DUPLICATE_OUTPUT,
                            format!("field `{}` is renamed twice", r.field.name),
                            r.field.span,
                            "renamed again here",
                        )
                        .with_label(prev, "first renamed here"),
                    );
                }
                for name in [&r.output, &r.field] {
                    if TIME_FIELDS.contains(&name.name.as_str()) {
                        diags.push(time_field(name, "project-rename"));
                    }
                }
            }
        }
        InstructionKind::Project { items } => {
            duplicates(
                items.iter().filter_map(|it| it.output.as_ref()),
                "project",
                diags,
            );
            for it in items {
                if let Some(out) = &it.output {
                    if TIME_FIELDS.contains(&out.name.as_str())
                        || TIME_FIELDS.contains(&it.field.name.as_str())
                    {
                        diags.push(time_field(out, "project"));
                    }
                }
            }
        }
        InstructionKind::ParseKv { args, .. } => parse_kv(i, args, diags),
        InstructionKind::LogToMetric if !i.has("names") => {
            diags.push(
                Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    "`log-to-metric` needs `-names`",
                    i.span,
                    "no -names option",
                )
                .with_help("write `log-to-metric -names='latency, size'`"),
            );
        }
        InstructionKind::ParseCsv { outputs, .. }
        | InstructionKind::ParseRegexp { outputs, .. } => {
            duplicates(outputs.iter(), i.kind.name(), diags);
        }
        _ => {}
    }
}

fn parse_kv(i: &Instruction, args: &[StrLit], diags: &mut Diagnostics) {
    let regexp = i.has("regexp");
    let old = i.has("delims") || i.has("kv-sep");
    let problem = match (regexp, old, args.len()) {
        (true, true, _) => Some("`-regexp` cannot be combined with `-delims`/`-kv-sep`"),
        (true, _, 1) => None,
        (true, _, _) => Some(
            "with `-regexp`, give exactly one pattern: `parse-kv -regexp field, '(\\w+)=(\\w+)'`",
        ),
        (false, true, 0) => None,
        (false, true, _) => {
            Some("`-delims`/`-kv-sep` (older form) cannot be combined with positional delimiters")
        }
        (false, false, 0) | (false, false, 2) => None,
        (false, false, _) => Some(
            "give both the pair delimiter and the key/value separator: `parse-kv field, '&', '='`",
        ),
    };
    if let Some(msg) = problem {
        diags.push(Diagnostic::error(
            codes::BAD_ARGUMENTS,
            msg,
            i.span,
            "in this parse-kv",
        ));
    }
    if i.has("greedy") && regexp {
        diags.push(Diagnostic::error(
            codes::BAD_ARGUMENTS,
            "`-greedy` does not apply with `-regexp`",
            i.span,
            "in this parse-kv",
        ));
    }
}

fn duplicates<'a>(names: impl Iterator<Item = &'a Ident>, instr: &str, diags: &mut Diagnostics) {
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for n in names {
        if let Some(prev) = seen.insert(&n.name, n.span) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE_OUTPUT,
                    format!("`{instr}` writes `{}` twice", n.name),
                    n.span,
                    "written again here",
                )
                .with_label(prev, "first written here"),
            );
        }
    }
}

fn time_field(name: &Ident, instr: &str) -> Diagnostic {
    Diagnostic::error(
        codes::TIME_FIELD,
        format!(
            "`{instr}` cannot rename or overwrite the time field `{}`",
            name.name
        ),
        name.span,
        "time field",
    )
    .with_help("only `extend` may set `__time__` and `__time_ns_part__`, with an integer value")
}

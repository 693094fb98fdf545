//! Building the plan from the AST: one chain per statement, one stage per instruction, with
//! `.let` sources resolved to chain indices and the emitted statements as outputs.
use spl_parser::ast::{self, InstructionKind};

use super::{Assign, Chain, Op, Output, ParseRegexp, Predicate, Program, Source, Stage};

/// The plan of a parsed program, as written. A statement reading an unknown dataset (which the
/// parser's validation reports) is left out.
pub fn lower(program: &ast::Program) -> Program {
    let mut chains: Vec<Chain> = Vec::new();
    let mut outputs = Vec::new();
    for (si, st) in program.statements.iter().enumerate() {
        let p = &st.pipeline;
        let source = match &p.source {
            ast::Source::Star(_) => Source::Input,
            ast::Source::Dataset(id) => {
                match chains
                    .iter()
                    .position(|c| c.name.as_deref() == Some(id.name.as_str()))
                {
                    Some(chain) => Source::Dataset {
                        name: id.name.clone(),
                        chain,
                    },
                    None => continue,
                }
            }
        };
        let index = chains.len();
        chains.push(Chain {
            name: st.name.as_ref().map(|n| n.name.clone()),
            source,
            stages: p
                .stages
                .iter()
                .enumerate()
                .map(|(i, instr)| Stage::written(op(instr), i))
                .collect(),
            statement: si,
        });
        if st.name.is_none() {
            let name = match (&p.source, p.stages.is_empty()) {
                (ast::Source::Dataset(id), true) => id.name.clone(),
                _ => format!("output{}", outputs.len() + 1),
            };
            outputs.push(Output { name, chain: index });
        }
    }
    Program { chains, outputs }
}

/// The typed stage of one instruction.
pub fn op(instr: &ast::Instruction) -> Op {
    use InstructionKind as K;
    let boxed = || Box::new(instr.clone());
    match &instr.kind {
        K::Where { predicate } => Op::Where(vec![Predicate {
            expr: predicate.clone(),
            part: 0,
        }]),
        K::Extend { assignments } => Op::Extend(
            assignments
                .iter()
                .map(|a| Assign {
                    assignment: a.clone(),
                    part: 0,
                })
                .collect(),
        ),
        K::Project { items } => Op::Project {
            items: items.clone(),
            wildcard: instr.has("wildcard"),
        },
        K::ProjectAway { patterns } => Op::ProjectAway {
            patterns: patterns.clone(),
            wildcard: instr.has("wildcard"),
        },
        K::ProjectRename { renames } => Op::ProjectRename {
            renames: renames.clone(),
        },
        K::ParseRegexp {
            field,
            pattern,
            outputs,
        } => {
            let flags = instr.text("flags").unwrap_or("");
            let source = if flags.is_empty() {
                pattern.value.clone()
            } else {
                format!("(?{flags}){}", pattern.value)
            };
            let regex = regex::Regex::new(&crate::re2::re2_to_rust(&source)).ok();
            let names = if outputs.is_empty() {
                regex.as_ref().map(|re| {
                    re.capture_names()
                        .flatten()
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
            } else {
                Some(outputs.iter().map(|o| o.name.clone()).collect())
            };
            Op::ParseRegexp(Box::new(ParseRegexp {
                instr: boxed(),
                field: field.name.clone(),
                groups: regex.as_ref().map_or(0, regex::Regex::captures_len),
                source,
                outputs: names,
                pruned: Vec::new(),
                prefilter: None,
            }))
        }
        K::ParseCsv { field, outputs } => Op::ParseCsv {
            instr: boxed(),
            field: field.name.clone(),
            outputs: outputs.iter().map(|o| o.name.clone()).collect(),
        },
        K::ParseJson { field } => Op::ParseJson {
            instr: boxed(),
            field: field.name.clone(),
            prefix: instr.text("prefix").unwrap_or("").to_string(),
            only: None,
        },
        K::ParseKv { field, .. } => Op::ParseKv {
            instr: boxed(),
            field: field.name.clone(),
        },
        K::ExpandValues { field, output } => Op::ExpandValues {
            instr: boxed(),
            field: field.name.clone(),
            output: output.as_ref().unwrap_or(field).name.clone(),
        },
        K::PackFields { output } => Op::PackFields {
            instr: boxed(),
            output: output.name.clone(),
            keep: instr.has("keep"),
        },
        K::LogToMetric => Op::LogToMetric { instr: boxed() },
        K::MetricToMetric => Op::MetricToMetric { instr: boxed() },
        K::Stats {
            aggregates,
            group_by,
        } => Op::Stats {
            aggregates: aggregates.clone(),
            group_by: group_by.clone(),
            max_groups: None,
        },
        K::Sort { keys } => Op::Sort { keys: keys.clone() },
        K::Limit { offset, count } => Op::Limit {
            offset: *offset,
            count: *count,
        },
        K::MakeSeries { .. } => Op::MakeSeries { instr: boxed() },
        K::Render { .. } => Op::Render { instr: boxed() },
    }
}

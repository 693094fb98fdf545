//! The physical step: each stage of an (optimized) plan becomes its operator
//! ([`crate::ops::Stage`]). Everything the optimizer decided is passed to the operator's
//! constructor (kept outputs, keys to extract, prefilter literal, merged parts).
use spl_parser::{Diagnostic, InstructionKind};

use super::{Op, Predicate, Stage};
use crate::ops;

/// The operator for a stage.
pub fn build(stage: &Stage) -> Result<ops::Stage, Box<Diagnostic>> {
    Ok(match &stage.op {
        Op::Stats {
            aggregates,
            group_by,
            max_groups,
        } => ops::Stage::Buffering(Box::new(
            ops::Stats::new(aggregates, group_by)?.with_max_groups(*max_groups),
        )),
        Op::Sort { keys } => ops::Stage::Buffering(Box::new(ops::Sort::new(keys))),
        Op::Limit { offset, count } => {
            ops::Stage::Buffering(Box::new(ops::Limit::new(*offset, *count)))
        }
        Op::MakeSeries { instr } => ops::Stage::Buffering(Box::new(ops::MakeSeries::new(instr)?)),
        _ => ops::Stage::Row(row_operator(stage)?),
    })
}

/// The operator for a row-level stage (not `stats`, `sort`, `limit`).
fn row_operator(stage: &Stage) -> Result<Box<dyn ops::Operator>, Box<Diagnostic>> {
    Ok(match &stage.op {
        Op::Where(predicates) => Box::new(filter(predicates)),
        Op::Extend(assignments) => {
            let mut runs: Vec<(usize, Vec<spl_parser::Assignment>)> = Vec::new();
            for a in assignments {
                match runs.last_mut() {
                    Some((part, run)) if *part == a.part => run.push(a.assignment.clone()),
                    _ => runs.push((a.part, vec![a.assignment.clone()])),
                }
            }
            let mut runs = runs.into_iter();
            let mut extend = ops::Extend::new(runs.next().map(|(_, r)| r).unwrap_or_default());
            for (part, run) in runs {
                extend.merge(ops::Extend::new(run), part);
            }
            Box::new(extend)
        }
        Op::Project { items, wildcard } => Box::new(ops::Project::new(items, *wildcard)),
        Op::ProjectAway { patterns, wildcard } => {
            Box::new(ops::ProjectAway::new(patterns, *wildcard))
        }
        Op::ProjectRename { renames } => Box::new(ops::ProjectRename::new(renames)),
        Op::ParseRegexp(p) => Box::new(parse_regexp(p)?),
        Op::LateExtract { extract, filter: f } => {
            let Op::ParseRegexp(p) = &extract.op else {
                return Err(Box::new(Diagnostic::error(
                    spl_parser::codes::UNSUPPORTED,
                    "internal: late extraction of a stage that is not `parse-regexp`",
                    spl_parser::Span::new(0, 0),
                    "here",
                )));
            };
            let reads: Vec<String> = f.iter().flat_map(|p| super::columns(&p.expr)).collect();
            Box::new(ops::LateExtract::new(parse_regexp(p)?, filter(f), &reads))
        }
        Op::ParseJson { instr, only, .. } => {
            let InstructionKind::ParseJson { field } = &instr.kind else {
                return Err(mismatch(instr));
            };
            Box::new(ops::ParseJson::new(instr, field)?.only(only.clone()))
        }
        Op::ParseCsv { instr, .. }
        | Op::ParseKv { instr, .. }
        | Op::ExpandValues { instr, .. }
        | Op::PackFields { instr, .. }
        | Op::LogToMetric { instr }
        | Op::MetricToMetric { instr }
        | Op::Render { instr } => ops::build(instr)?,
        Op::FilterFirst { filter: f, stages } => {
            let mut offset =
                stage.parts.len() - stages.iter().map(|s| s.parts.len()).sum::<usize>();
            let mut ahead = Vec::with_capacity(stages.len());
            for s in stages {
                ahead.push((row_operator(s)?, offset));
                offset += s.parts.len();
            }
            Box::new(ops::FilterFirst::new(filter(f), ahead))
        }
        Op::Stats { .. } | Op::Sort { .. } | Op::Limit { .. } | Op::MakeSeries { .. } => {
            return Err(Box::new(Diagnostic::error(
                spl_parser::codes::UNSUPPORTED,
                format!(
                    "`{}` buffers rows and cannot run inside another stage",
                    stage.name()
                ),
                spl_parser::Span::new(0, 0),
                "here",
            )))
        }
    })
}

/// The operator of a `parse-regexp` stage, with the outputs and prefilter the optimizer chose.
fn parse_regexp(p: &super::ParseRegexp) -> Result<ops::ParseRegexp, Box<Diagnostic>> {
    let InstructionKind::ParseRegexp {
        field,
        pattern,
        outputs,
    } = &p.instr.kind
    else {
        return Err(mismatch(&p.instr));
    };
    let mut op =
        ops::ParseRegexp::new(&p.instr, field, pattern, outputs)?.without_outputs(&p.pruned);
    if let Some(literal) = &p.prefilter {
        op = op.with_prefilter(literal);
    }
    Ok(op)
}

/// One `where` running the conditions in order, each tagged with its part.
fn filter(predicates: &[Predicate]) -> ops::Where {
    let mut it = predicates.iter();
    let (first, part) = it
        .next()
        .map(|p| (p.expr.clone(), p.part))
        .unwrap_or_else(|| {
            let yes = spl_parser::Expr::new(
                spl_parser::ExprKind::Literal(spl_parser::ast::Literal::Bool(true)),
                spl_parser::Span::new(0, 0),
            );
            (yes, 0)
        });
    let mut w = ops::Where::new(first).from_part(part);
    for p in it {
        w.merge(ops::Where::new(p.expr.clone()), p.part);
    }
    w
}

fn mismatch(instr: &spl_parser::Instruction) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(
        spl_parser::codes::UNSUPPORTED,
        format!(
            "internal: the plan's `{}` stage lost its instruction",
            instr.kind.name()
        ),
        instr.span,
        "here",
    ))
}

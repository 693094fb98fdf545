//! Compiling a program: parse, check it against the profile (instructions, limits), type-check
//! its expressions, build each statement's stages and wire the `.let` datasets into a DAG of
//! chains with named outputs. Every problem is a diagnostic; nothing fails later for a reason
//! that was visible at compile time.
use datafusion_common::DFSchema;
use spl_parser::{ast, codes, Diagnostic, Diagnostics, Expr, Instruction, InstructionKind, Span};

use super::profile::Profile;
use super::{Chain, ChainSource, OutputDef, Pipeline};
use crate::ops;

/// Builds the chains of a parsed program.
pub(super) fn chains(
    program: &ast::Program,
    source: &str,
    profile: Profile,
    diags: &mut Diagnostics,
) -> (Vec<Chain>, Vec<OutputDef>) {
    let limits = profile.limits();
    if let Some(max) = limits.max_script_bytes {
        if source.len() > max {
            diags.push(
                Diagnostic::error(
                    codes::LIMIT_EXCEEDED,
                    format!(
                        "the program is {} bytes long; the {profile} profile allows {max}",
                        source.len()
                    ),
                    Span::new(0, source.len().min(1)),
                    "program starts here",
                )
                .with_help("shorten the program or run it under another profile"),
            );
        }
    }
    let mut chains: Vec<Chain> = Vec::new();
    let mut outputs = Vec::new();
    for (si, st) in program.statements.iter().enumerate() {
        let p = &st.pipeline;
        if let Some(max) = limits.max_stages {
            if p.stages.len() > max {
                diags.push(Diagnostic::error(
                    codes::LIMIT_EXCEEDED,
                    format!(
                        "this statement has {} stages; the {profile} profile allows {max}",
                        p.stages.len()
                    ),
                    p.stages[max].span,
                    format!("stage {} is over the limit", max + 1),
                ));
            }
        }
        let source = match &p.source {
            ast::Source::Star(_) => ChainSource::Input,
            ast::Source::Dataset(id) => {
                match chains
                    .iter()
                    .position(|c| c.name.as_deref() == Some(id.name.as_str()))
                {
                    Some(i) => ChainSource::Chain(i),
                    // The parser's validation already reported the unknown dataset.
                    None => continue,
                }
            }
        };
        let mut stages = Vec::new();
        let mut parts = Vec::new();
        for (i, instr) in p.stages.iter().enumerate() {
            if let Some(why) = profile.rejects(&instr.kind) {
                diags.push(
                    Diagnostic::error(
                        codes::NOT_IN_PROFILE,
                        format!(
                            "`{}` is not available in the {profile} profile: {why}",
                            instr.kind.name()
                        ),
                        instr.span,
                        "not available here",
                    )
                    .with_help("choose another profile with --profile, or remove the stage"),
                );
                continue;
            }
            check_expressions(instr, diags);
            // Scan queries return the first N groups of a `stats` unless a `limit` follows.
            let limited = p.stages[i + 1..]
                .iter()
                .any(|s| matches!(s.kind, InstructionKind::Limit { .. }));
            let cap = if limited { None } else { limits.stats_groups };
            match ops::build_stage_capped(instr, cap) {
                Ok(stage) => {
                    stages.push(stage);
                    parts.push(vec![(i, instr.kind.name())]);
                }
                Err(d) => diags.push(*d),
            }
        }
        let emitted = st.name.is_none();
        let name = match (&st.name, &p.source) {
            (Some(n), _) => Some(n.name.clone()),
            _ => None,
        };
        let index = chains.len();
        chains.push(Chain {
            name,
            source,
            stages,
            parts,
            statement: si,
        });
        if emitted {
            let name = match (&p.source, p.stages.is_empty()) {
                (ast::Source::Dataset(id), true) => id.name.clone(),
                _ => format!("output{}", outputs.len() + 1),
            };
            outputs.push(OutputDef { name, chain: index });
        }
    }
    (chains, outputs)
}

/// Lowers every expression of the instruction against an empty schema (missing fields are
/// NULL), so unknown functions and wrong argument counts are reported at compile time.
fn check_expressions(instr: &Instruction, diags: &mut Diagnostics) {
    let exprs: Vec<&Expr> = match &instr.kind {
        InstructionKind::Where { predicate } => vec![predicate],
        InstructionKind::Extend { assignments } => assignments.iter().map(|a| &a.value).collect(),
        _ => Vec::new(),
    };
    let schema = DFSchema::empty();
    for e in exprs {
        if let Err(d) = crate::expr::lower(e, &schema) {
            diags.push(*d);
        }
    }
}

/// Field-aware rewrites that never change results (ARCHITECTURE.md, "Operators and the
/// plan"): outputs of extraction stages that nothing reads before they are dropped are not
/// extracted; then the rules of [`crate::optimize`] (constant folding, merging, filter
/// pushdown). Returns a sentence per rewrite for `spl explain`.
pub(super) fn optimize(
    chains: &mut [Chain],
    plan: &[crate::plan::ChainPlan],
    session: &crate::expr::Session,
) -> Vec<String> {
    let mut notes = prune(chains, plan);
    for chain in chains.iter_mut() {
        notes.extend(crate::optimize::chain(chain, plan, session));
    }
    notes
}

/// Outputs of extraction stages that nothing reads before they are dropped are not extracted.
fn prune(chains: &mut [Chain], plan: &[crate::plan::ChainPlan]) -> Vec<String> {
    let mut notes = Vec::new();
    for chain in chains.iter_mut() {
        notes.extend(prune_dynamic(chain, plan));
        for i in 0..chain.stages.len() {
            let unused = crate::plan::unused_outputs(plan, chain.statement, i);
            if unused.is_empty() {
                continue;
            }
            // A stage that fails on a row before the output is dropped (the dropping stage
            // included) would show the row in the error stream: with all its fields.
            let names: Vec<String> = unused
                .iter()
                .filter(|(_, at)| chain.stages_between_never_fail(i + 1, *at))
                .map(|(n, _)| n.clone())
                .collect();
            if names.is_empty() {
                continue;
            }
            let Some(ops::Stage::Row(op)) = chain.stages.get_mut(i) else {
                continue;
            };
            let pruned = op.prune_outputs(&names);
            if pruned.is_empty() {
                continue;
            }
            let dropped_at = unused
                .iter()
                .filter(|(n, _)| pruned.contains(n))
                .map(|(_, at)| *at)
                .max()
                .unwrap_or(i + 1);
            notes.push(format!(
                "statement {}, stage {} ({}): {} not extracted; nothing reads {} before stage {dropped_at} drops {}",
                chain.statement + 1,
                i + 1,
                op.name(),
                pruned.join(", "),
                if pruned.len() == 1 { "it" } else { "them" },
                if pruned.len() == 1 { "it" } else { "them" },
            ));
        }
    }
    notes
}

/// Stages whose outputs are named by the data (`parse-json`) extract only the keys later
/// stages can observe, when a `project` drops the others and every stage in between keeps every
/// row and fails for none: a failing row's error row would carry the unextracted keys.
fn prune_dynamic(chain: &mut Chain, plan: &[crate::plan::ChainPlan]) -> Vec<String> {
    let mut notes = Vec::new();
    for i in 0..chain.stages.len() {
        let Some((observed, at)) = crate::plan::observed_dynamic_outputs(plan, chain.statement, i)
        else {
            continue;
        };
        let drops_with_project = plan
            .get(chain.statement)
            .and_then(|c| c.stages.get(at - 1))
            .is_some_and(|s| s.instruction == "project");
        let between_never_fail = chain.stages_between_never_fail(i + 1, at - 1);
        if !drops_with_project || !between_never_fail {
            continue;
        }
        let Some(ops::Stage::Row(op)) = chain.stages.get_mut(i) else {
            continue;
        };
        let Some(kept) = op.keep_only_outputs(&observed) else {
            continue;
        };
        let kept = if kept.is_empty() {
            "no key".to_string()
        } else {
            format!("only {}", kept.join(", "))
        };
        notes.push(format!(
            "statement {}, stage {} ({}): {kept} extracted; nothing reads other keys before stage {at} drops them",
            chain.statement + 1,
            i + 1,
            op.name(),
        ));
    }
    notes
}

impl Chain {
    /// True when stages `from..to` (0-based, `to` excluded) exist and keep every row and fail
    /// for none ([`ops::Operator::never_fails`]).
    fn stages_between_never_fail(&self, from: usize, to: usize) -> bool {
        self.stages.get(from..to).is_some_and(|between| {
            between
                .iter()
                .all(|s| matches!(s, ops::Stage::Row(op) if op.never_fails()))
        })
    }
}

impl Pipeline {
    /// The number of stages, over all statements.
    pub fn stage_count(&self) -> usize {
        self.chains.iter().map(|c| c.stages.len()).sum()
    }
}

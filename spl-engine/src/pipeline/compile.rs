//! Compiling a program: check it against the profile (instructions, limits), type-check its
//! expressions, plan it ([`crate::plan::lower`]), and build each stage's operator
//! ([`crate::plan::physical`]); after the optimizer's rewrites, the operators are built again
//! from the optimized plan. Every problem is a diagnostic; nothing fails later for a reason that
//! was visible at compile time.
use datafusion_common::DFSchema;
use spl_parser::{ast, codes, Diagnostic, Diagnostics, Expr, Instruction, InstructionKind, Span};

use super::profile::Profile;
use super::{Chain, ChainSource, OutputDef};
use crate::plan::{self, physical, Op};

/// Plans a parsed program and builds its operators as written, reporting every problem.
pub(super) fn chains(
    program: &ast::Program,
    source: &str,
    profile: Profile,
    geoip: bool,
    diags: &mut Diagnostics,
) -> (plan::Program, Vec<Chain>) {
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
    let mut written = plan::lower(program);
    let mut chains = Vec::new();
    for c in written.chains.iter_mut() {
        let p = &program.statements[c.statement].pipeline;
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
            if matches!(instr.kind, InstructionKind::Render { .. }) && i + 1 < p.stages.len() {
                diags.push(
                    Diagnostic::error(
                        codes::RENDER_POSITION,
                        "`render` must be the last stage of its statement",
                        instr.span,
                        "stages follow it",
                    )
                    .with_help("move `render` to the end; it draws the statement's output"),
                );
            }
            check_calls(instr, profile, geoip, diags);
            // Scan queries return the first N groups of a `stats` unless a `limit` follows.
            let limited = p.stages[i + 1..]
                .iter()
                .any(|s| matches!(s.kind, InstructionKind::Limit { .. }));
            if let Op::Stats { max_groups, .. } = &mut c.stages[i].op {
                *max_groups = if limited { None } else { limits.stats_groups };
            }
            match physical::build(&c.stages[i]) {
                Ok(stage) => {
                    stages.push(stage);
                    parts.push(vec![(i, instr.kind.name())]);
                }
                Err(d) => diags.push(*d),
            }
        }
        chains.push(Chain {
            source: chain_source(&c.source),
            stages,
            parts,
            statement: c.statement,
        });
    }
    (written, chains)
}

/// The operators of a checked (and optimized) plan.
pub(super) fn physical(plan: &plan::Program) -> Result<Vec<Chain>, Box<Diagnostic>> {
    plan.chains
        .iter()
        .map(|c| {
            Ok(Chain {
                source: chain_source(&c.source),
                stages: c
                    .stages
                    .iter()
                    .map(physical::build)
                    .collect::<Result<_, _>>()?,
                parts: c
                    .stages
                    .iter()
                    .map(|s| s.parts.iter().map(|p| (p.stage, p.instruction)).collect())
                    .collect(),
                statement: c.statement,
            })
        })
        .collect()
}

/// The emitted datasets of a plan.
pub(super) fn outputs(plan: &plan::Program) -> Vec<OutputDef> {
    plan.outputs
        .iter()
        .map(|o| OutputDef {
            name: o.name.clone(),
            chain: o.chain,
        })
        .collect()
}

/// Per emitted dataset, the chart of its statement's final `render`, if it has one (`$name;`
/// emits the chart of the `.let` that defined it).
pub(super) fn charts(plan: &plan::Program) -> Vec<Option<crate::ops::ChartSpec>> {
    fn chart_of(plan: &plan::Program, chain: usize, depth: usize) -> Option<crate::ops::ChartSpec> {
        let c = plan.chains.get(chain)?;
        match (c.stages.last(), &c.source) {
            (Some(stage), _) => match &stage.op {
                Op::Render { instr } => crate::ops::ChartSpec::new(instr).ok(),
                _ => None,
            },
            // Datasets refer to earlier statements only; the depth bounds it all the same.
            (None, plan::Source::Dataset { chain, .. }) if depth < plan.chains.len() => {
                chart_of(plan, *chain, depth + 1)
            }
            (None, _) => None,
        }
    }
    plan.outputs
        .iter()
        .map(|o| chart_of(plan, o.chain, 0))
        .collect()
}

fn chain_source(source: &plan::Source) -> ChainSource {
    match source {
        plan::Source::Input => ChainSource::Input,
        plan::Source::Dataset { chain, .. } => ChainSource::Chain(*chain),
    }
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

/// Every expression of the instruction (`where`, `extend`, `stats` and `sort` hold them).
fn instruction_exprs(instr: &Instruction) -> Vec<&Expr> {
    match &instr.kind {
        InstructionKind::Where { predicate } => vec![predicate],
        InstructionKind::Extend { assignments } => assignments.iter().map(|a| &a.value).collect(),
        InstructionKind::Stats {
            aggregates,
            group_by,
        } => aggregates
            .iter()
            .map(|a| &a.value)
            .chain(group_by.iter().map(|g| &g.value))
            .collect(),
        InstructionKind::Sort { keys } => keys.iter().map(|k| &k.value).collect(),
        _ => Vec::new(),
    }
}

/// Calls `f(name, call)` for every function call in `e`, outermost first (the parser bounds
/// the nesting depth, as for the other walks over expressions).
fn each_call(e: &Expr, f: &mut dyn FnMut(&str, &Expr)) {
    if let ast::ExprKind::Call { name, .. } = &e.kind {
        f(name, e);
    }
    // As lowering does: continue on a heap segment when the thread's stack runs low.
    stacker::maybe_grow(256 * 1024, 1024 * 1024, || {
        e.for_each_child(&mut |c, _| each_call(c, f))
    });
}

/// Per function call: an IP geolocation function without a database is an error (E1015);
/// under the profiles of the hosted service, a function it does not run in SPL is a warning
/// (W0004).
fn check_calls(instr: &Instruction, profile: Profile, geoip: bool, diags: &mut Diagnostics) {
    let hosted = matches!(
        profile,
        Profile::Logtail | Profile::Consumer | Profile::Transform
    );
    for e in instruction_exprs(instr) {
        each_call(e, &mut |name, call| {
            if !geoip && crate::functions::geoip::NEEDS_DATABASE.contains(&name) {
                diags.push(
                    Diagnostic::error(
                        codes::NO_GEOIP_DATABASE,
                        crate::functions::geoip::no_database_message(name),
                        call.span,
                        "needs an IP geolocation database",
                    )
                    .with_help(
                        "pass a MaxMind DB file (GeoLite2-City or GeoIP2-City) with --geoip FILE",
                    ),
                );
            }
            if hosted {
                if let Some(why) = crate::functions::portability::reason(name) {
                    diags.push(Diagnostic::warning(
                        codes::NOT_ON_SERVICE,
                        format!(
                            "`{name}` will not run on the SLS service ({profile} profile): {}",
                            why.text()
                        ),
                        call.span,
                        "not available in hosted SPL",
                    ));
                }
            }
        });
    }
}

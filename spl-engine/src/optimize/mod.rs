//! The optimizer: rewrites of the logical plan ([`crate::plan`]) that never change results —
//! the same output rows and the same error rows (with the stage numbers the user wrote) under
//! every error policy. Each rule is a plain function over a [`Chain`] in its own file and
//! returns a sentence per rewrite, which `Pipeline::rewrites` keeps and `spl explain` prints
//! under `optimizations:`.
//!
//! Rules run in this order:
//! - [`prune`]: outputs of extraction stages that nothing reads before they are dropped are
//!   not extracted (`parse-regexp` groups, `parse-json` keys);
//! - [`fold`]: constant sub-expressions of `where`/`extend` become literals;
//! - [`merge`]: adjacent `where` stages become one, and so do adjacent `extend` stages;
//! - [`prefilter`]: a `parse-regexp` whose matches all contain a literal skips rows without it;
//! - [`pushdown`]: a `where` runs before the stages in front of it that never fail and touch
//!   none of the fields it reads;
//! - [`late`]: a `parse-regexp` right before a `where` that reads some of its outputs extracts
//!   the others only for the rows the `where` keeps.
//!
//! When stages become one, the stage keeps the list of stages as written that it runs
//! ([`crate::plan::Stage::parts`]), and its operators tag errors with the part that failed, so
//! error rows and messages name the original stage.
pub mod fold;
pub mod late;
pub mod merge;
pub mod prefilter;
pub mod prune;
pub mod pushdown;

pub use fold::fold_expr;

use crate::expr::Session;
use crate::plan::{Chain, Part, Program};

/// Applies every rule to every statement; returns what changed, a sentence each.
pub fn program(program: &mut Program, session: &Session) -> Vec<String> {
    let mut notes = Vec::new();
    for chain in program.chains.iter_mut() {
        notes.extend(prune::dynamic_outputs(chain));
        notes.extend(prune::unused_outputs(chain));
    }
    // Folding evaluates with its own session, so planned constants do not crowd the cache the
    // pipeline uses for batches.
    let folding = Session::new(session.tz);
    for chain in program.chains.iter_mut() {
        notes.extend(fold::run(chain, &folding));
        notes.extend(merge::run(chain));
        notes.extend(prefilter::run(chain));
        notes.extend(pushdown::run(chain));
        notes.extend(late::run(chain));
    }
    notes
}

/// "statement 1, stage 2 (where)" or "statement 1, stages 2, 3 (where)" for stage parts as
/// written.
fn label(chain: &Chain, parts: &[Part]) -> String {
    format!("statement {}, {}", chain.statement + 1, stages(parts))
}

/// "stage 2 (where)" or "stages 2, 3 (parse-regexp, extend)".
fn stages(parts: &[Part]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut names: Vec<&str> = Vec::new();
    for p in &sorted {
        if !names.contains(&p.instruction) {
            names.push(p.instruction);
        }
    }
    let list: Vec<String> = sorted.iter().map(|p| (p.stage + 1).to_string()).collect();
    format!(
        "stage{} {} ({})",
        if list.len() == 1 { "" } else { "s" },
        list.join(", "),
        names.join(", ")
    )
}

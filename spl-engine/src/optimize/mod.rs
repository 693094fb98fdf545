//! The optimizer: rewrites of a compiled statement that never change its results — the same
//! output rows and the same error rows (with the stage numbers the user wrote) under every
//! error policy. Each rule is one file and returns a sentence per rewrite, which
//! `Pipeline::rewrites` keeps and `spl explain` prints under `optimizations:`.
//!
//! Rules run in this order, after the plan-based pruning of `pipeline/compile.rs`:
//! - [`fold`]: constant sub-expressions of `where`/`extend` become literals;
//! - [`merge`]: adjacent `where` stages become one, and so do adjacent `extend` stages;
//! - [`prefilter`]: a `parse-regexp` whose matches all contain a literal skips rows without it;
//! - [`pushdown`]: a `where` runs before the stages in front of it that never fail and touch
//!   none of the fields it reads.
//!
//! When two stages become one, the stage keeps the list of stages as written that it runs
//! (`Chain::parts`), and its operators tag errors with the part that failed, so error rows and
//! messages name the original stage.
mod fold;
mod merge;
pub mod prefilter;
mod pushdown;

pub use fold::fold_expr;
pub use pushdown::FilterFirst;

use crate::expr::Session;
use crate::pipeline::Chain;
use crate::plan::ChainPlan;

/// Applies every rule to one statement; returns what changed, a sentence each.
pub(crate) fn chain(chain: &mut Chain, plan: &[ChainPlan], session: &Session) -> Vec<String> {
    // Folding evaluates with its own session, so planned constants do not crowd the cache the
    // pipeline uses for batches.
    let folding = Session::new(session.tz);
    let mut notes = fold::run(chain, &folding);
    notes.extend(merge::run(chain));
    notes.extend(prefilter::run(chain));
    if let Some(p) = plan.get(chain.statement) {
        notes.extend(pushdown::run(chain, p));
    }
    notes
}

/// "statement 1, stage 2 (where)" or "statement 1, stages 2, 3 (where)" for stage parts as
/// written (0-based indices).
fn label(statement: usize, parts: &[(usize, &'static str)]) -> String {
    format!("statement {}, {}", statement + 1, stages(parts))
}

/// "stage 2 (where)" or "stages 2, 3 (parse-regexp, extend)".
fn stages(parts: &[(usize, &'static str)]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    let mut names: Vec<&str> = Vec::new();
    for (_, n) in &sorted {
        if !names.contains(n) {
            names.push(n);
        }
    }
    let list: Vec<String> = sorted.iter().map(|(i, _)| (i + 1).to_string()).collect();
    format!(
        "stage{} {} ({})",
        if list.len() == 1 { "" } else { "s" },
        list.join(", "),
        names.join(", ")
    )
}

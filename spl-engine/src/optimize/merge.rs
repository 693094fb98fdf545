//! Merging adjacent stages of the same kind into one stage, one stage less to run:
//! - `where a | where b` → one `where` whose predicates run in order, each on the rows the
//!   previous one kept, so `b` never fails on a row that `a` dropped — exactly the two stages;
//! - `extend x = … | extend y = …` → one `extend` with the assignments in order, so a later one
//!   still sees what an earlier one wrote (as within one `extend`).
//!
//! A merged stage stops at the boundary between its parts when no row is left, as the runner
//! skips stages for empty batches, and tags errors with the part that failed.
use crate::ops::{Extend, Operator, Stage, Where};
use crate::pipeline::Chain;

/// Merges runs of adjacent `where` and of adjacent `extend` stages; a note per merged run.
pub(super) fn run(chain: &mut Chain) -> Vec<String> {
    let mut merged_at = Vec::new();
    let mut i = 0;
    while i + 1 < chain.stages.len() {
        let (head, tail) = chain.stages.split_at_mut(i + 1);
        let offset = chain.parts[i].len();
        if merge_into(&mut head[i], &mut tail[0], offset) {
            chain.stages.remove(i + 1);
            let next = chain.parts.remove(i + 1);
            chain.parts[i].extend(next);
            if merged_at.last() != Some(&i) {
                merged_at.push(i);
            }
        } else {
            i += 1;
        }
    }
    merged_at
        .into_iter()
        .map(|i| {
            let parts = &chain.parts[i];
            let how = if parts.iter().all(|(_, n)| *n == "where") {
                "each condition runs on the rows the previous one kept"
            } else {
                "assignments run in order, each seeing the ones before"
            };
            format!(
                "{}: merged into one stage; {how}",
                super::label(chain.statement, parts)
            )
        })
        .collect()
}

/// Moves `next`'s work into `stage` when both are `where` or both are `extend`.
fn merge_into(stage: &mut Stage, next: &mut Stage, offset: usize) -> bool {
    let (Stage::Row(a), Stage::Row(b)) = (stage, next) else {
        return false;
    };
    if let (Some(a), Some(b)) = (downcast::<Where>(a), downcast::<Where>(b)) {
        a.merge(b.take(), offset);
        return true;
    }
    if let (Some(a), Some(b)) = (downcast::<Extend>(a), downcast::<Extend>(b)) {
        a.merge(b.take(), offset);
        return true;
    }
    false
}

fn downcast<T: 'static>(op: &mut Box<dyn Operator>) -> Option<&mut T> {
    op.as_mut().as_any_mut().downcast_mut::<T>()
}

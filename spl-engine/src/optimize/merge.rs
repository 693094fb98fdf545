//! Merging adjacent stages of the same kind into one stage, one stage less to run:
//! - `where a | where b` → one `where` whose predicates run in order, each on the rows the
//!   previous one kept, so `b` never fails on a row that `a` dropped — exactly the two stages;
//! - `extend x = … | extend y = …` → one `extend` with the assignments in order, so a later one
//!   still sees what an earlier one wrote (as within one `extend`).
//!
//! A merged stage stops at the boundary between its parts when no row is left, as the runner
//! skips stages for empty batches, and tags errors with the part that failed.
use crate::plan::{Chain, Op, Stage};

/// Merges runs of adjacent `where` and of adjacent `extend` stages; a note per merged run.
pub fn run(chain: &mut Chain) -> Vec<String> {
    let mut merged_at = Vec::new();
    let mut i = 0;
    while i + 1 < chain.stages.len() {
        let next = chain.stages.remove(i + 1);
        match merge(&mut chain.stages[i], next) {
            None => {
                if merged_at.last() != Some(&i) {
                    merged_at.push(i);
                }
            }
            Some(next) => {
                chain.stages.insert(i + 1, next);
                i += 1;
            }
        }
    }
    merged_at
        .into_iter()
        .map(|i| {
            let stage = &chain.stages[i];
            let how = if matches!(stage.op, Op::Where(_)) {
                "each condition runs on the rows the previous one kept"
            } else {
                "assignments run in order, each seeing the ones before"
            };
            format!(
                "{}: merged into one stage; {how}",
                super::label(chain, &stage.parts)
            )
        })
        .collect()
}

/// Moves `next`'s work into `stage` when both are `where` or both are `extend`; gives `next`
/// back otherwise.
fn merge(stage: &mut Stage, next: Stage) -> Option<Stage> {
    let offset = stage.parts.len();
    match (&mut stage.op, next.op) {
        (Op::Where(a), Op::Where(b)) => a.extend(b.into_iter().map(|mut p| {
            p.part += offset;
            p
        })),
        (Op::Extend(a), Op::Extend(b)) => a.extend(b.into_iter().map(|mut x| {
            x.part += offset;
            x
        })),
        (_, op) => {
            return Some(Stage {
                op,
                parts: next.parts,
            })
        }
    }
    stage.parts.extend(next.parts);
    None
}

#[cfg(test)]
mod tests {
    use crate::plan::{lower, render_chain};

    fn merged(spl: &str) -> String {
        let mut p = lower(&spl_parser::parse(spl).unwrap());
        super::run(&mut p.chains[0]);
        render_chain(&p.chains[0])
    }

    #[test]
    fn adjacent_wheres_and_extends_become_one_stage_each() {
        let text =
            merged("* | where a = '1' | where b = '2' | extend x = a | extend y = x | project y");
        assert_eq!(
            text,
            "  ├─ 1+2. where a = '1' | where b = '2'\n  │      reads: a, b\n  \
             ├─ 3+4. extend x = a, y = x\n  │      reads: a; writes: x, y\n  \
             └─ 5. project y\n         reads: y; removes: <all other fields but the time fields>\n"
        );
    }
}

//! Filter pushdown: a `where` runs before the stages in front of it when that cannot change
//! any result, so rows it drops are never parsed or extended.
//!
//! A `where` moves ahead of a stage only when the stage
//! - keeps every row and never fails, for any row or batch ([`Stage::never_fails`]:
//!   `parse-regexp`, `parse-csv`, `project-rename`, `project-away`, and `extend` of literals and
//!   field copies) — so no error row and no pass-through row depends on which rows reach it;
//! - writes, removes and renames only fields known at compile time (not `parse-json`/`parse-kv`
//!   keys or `-wildcard` patterns), none of which the `where` reads — so the predicate sees the
//!   same values before the stage as after it.
//!
//! The result is an [`Op::FilterFirst`] stage: the `where` and the stages it moved ahead of.
//! The predicate can still fail on some rows, and such an error row must carry the fields the
//! stages wrote before it: the operator built from it ([`crate::ops::FilterFirst`]) runs the
//! batch in the order written when the predicate fails on any of its rows.
use crate::plan::{Chain, Fields, Op, Stage};

/// Moves each `where` ahead of the run of stages before it that it may skip; a note per move.
pub fn run(chain: &mut Chain) -> Vec<String> {
    let mut notes = Vec::new();
    let mut i = 0;
    while i < chain.stages.len() {
        let Op::Where(_) = chain.stages[i].op else {
            i += 1;
            continue;
        };
        let reads = match chain.stages[i].reads() {
            Fields::Named(r) => r,
            Fields::Dynamic(_) => {
                i += 1;
                continue;
            }
        };
        let mut k = i;
        while k > 0 && may_skip(&chain.stages[k - 1], &reads) {
            k -= 1;
        }
        if k == i {
            i += 1;
            continue;
        }
        let filter_stage = chain.stages.remove(i);
        let Op::Where(filter) = filter_stage.op else {
            unreachable!("checked above")
        };
        let skipped: Vec<Stage> = chain.stages.drain(k..i).collect();
        let mut parts = filter_stage.parts.clone();
        let skipped_parts: Vec<_> = skipped.iter().flat_map(|s| s.parts.clone()).collect();
        parts.extend(skipped_parts.iter().copied());
        let fields = if reads.is_empty() {
            "no field".to_string()
        } else {
            reads.join(", ")
        };
        let one = skipped_parts.len() == 1;
        notes.push(format!(
            "{}: runs before {}, which {} none of the fields it reads ({fields}) and never {}",
            super::label(chain, &filter_stage.parts),
            super::stages(&skipped_parts),
            if one { "changes" } else { "change" },
            if one { "fails" } else { "fail" },
        ));
        chain.stages.insert(
            k,
            Stage {
                op: Op::FilterFirst {
                    filter,
                    stages: skipped,
                },
                parts,
            },
        );
        i = k + 1;
    }
    notes
}

/// True when a `where` reading `reads` may run before `stage` (see the module documentation).
fn may_skip(stage: &Stage, reads: &[String]) -> bool {
    if !stage.never_fails() {
        return false;
    }
    [stage.writes(), stage.removes(), stage.reads_renamed()]
        .iter()
        .all(|f| match f {
            Fields::Named(names) => !names.iter().any(|n| reads.contains(n)),
            Fields::Dynamic(_) => false,
        })
}

impl Stage {
    /// The fields a `project-rename` takes away under their old names (none for other stages).
    fn reads_renamed(&self) -> Fields {
        match &self.op {
            Op::ProjectRename { .. } => self.reads(),
            _ => Fields::Named(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{lower, render_chain};

    fn pushed(spl: &str) -> (String, Vec<String>) {
        let mut p = lower(&spl_parser::parse(spl).unwrap());
        let notes = super::run(&mut p.chains[0]);
        (render_chain(&p.chains[0]), notes)
    }

    #[test]
    fn a_where_moves_ahead_of_stages_that_cannot_change_what_it_reads() {
        let (text, notes) = pushed(
            "* | parse-regexp content, '(\\S+) (\\S+)' as a, b | extend c = 'x' \
             | where level = 'ERROR' | project a",
        );
        assert_eq!(
            text,
            "  ├─ 3. where level = 'ERROR'\n  │      reads: level; runs before stages 1, 2\n  \
             ├─ 1. parse-regexp content, '(\\S+) (\\S+)' as a, b\n  │      reads: content; writes: a, b\n  \
             ├─ 2. extend c = 'x'\n  │      writes: c\n  \
             └─ 4. project a\n         reads: a; removes: <all other fields but the time fields>\n"
        );
        assert_eq!(notes.len(), 1);
        // Reading a written field, or after a stage that can fail: stays.
        for spl in [
            "* | parse-regexp content, '(\\S+)' as a | where a = '1'",
            "* | extend c = lower(a) | where level = 'ERROR'",
            "* | parse-json content | where level = 'ERROR'",
            "* | project-rename x = level | where x = 'ERROR'",
        ] {
            assert!(pushed(spl).1.is_empty(), "{spl}");
        }
    }
}

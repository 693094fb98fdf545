//! Late extraction: a `parse-regexp` followed by a `where` that reads some of its outputs
//! extracts the other outputs only for the rows the `where` keeps.
//!
//! The pattern still runs once per row, and the outputs the condition reads are written for
//! every row first; the group positions of the others are kept and cut only for kept rows.
//! Rows the `where` drops never show those fields to anyone, so results do not change, with
//! one exception the operator handles ([`crate::ops::LateExtract`]): a row on which the
//! condition fails goes to the error stream with all its fields, so a batch with such a row
//! gets every output before the `where` runs as written.
//!
//! Runs after [`super::pushdown`]: a `where` that reads none of the outputs has already moved
//! ahead of the extraction.
use crate::plan::{late_outputs, Chain, Op, Stage};

/// Joins each `parse-regexp` with the `where` right after it when that `where` leaves some
/// outputs unread; a note per join.
pub fn run(chain: &mut Chain) -> Vec<String> {
    let mut notes = Vec::new();
    let mut i = 0;
    while i + 1 < chain.stages.len() {
        let Some(late) = late_outputs(&chain.stages[i], &chain.stages[i + 1]) else {
            i += 1;
            continue;
        };
        let extract = chain.stages.remove(i);
        let filter_stage = chain.stages.remove(i);
        let Op::Where(mut filter) = filter_stage.op else {
            unreachable!("late_outputs checked the stage")
        };
        let offset = extract.parts.len();
        for p in &mut filter {
            p.part += offset;
        }
        let mut parts = extract.parts.clone();
        parts.extend(filter_stage.parts.iter().copied());
        notes.push(format!(
            "{}: {} extracted only for the rows the condition keeps",
            super::label(chain, &parts),
            late.join(", ")
        ));
        chain.stages.insert(
            i,
            Stage {
                op: Op::LateExtract {
                    extract: Box::new(extract),
                    filter,
                },
                parts,
            },
        );
        i += 1;
    }
    notes
}

#[cfg(test)]
mod tests {
    use crate::plan::{lower, render_chain};

    fn joined(spl: &str) -> (String, Vec<String>) {
        let mut p = lower(&spl_parser::parse(spl).unwrap());
        let notes = super::run(&mut p.chains[0]);
        (render_chain(&p.chains[0]), notes)
    }

    #[test]
    fn a_where_reading_some_outputs_gets_the_others_extracted_after_it() {
        let (text, notes) = joined(
            "* | parse-regexp content, '(\\S+) (\\S+) (\\d+)' as ip, uri, status \
             | where status = '500' | project ip, status",
        );
        assert_eq!(
            notes,
            [
                "statement 1, stages 1, 2 (parse-regexp, where): ip, uri extracted only for the \
              rows the condition keeps"
            ]
        );
        assert!(
            text.contains("├─ 2. where status = '500'\n  │      reads: status; ip, uri extracted after it, for the rows it keeps"),
            "{text}"
        );
        // Nothing left to defer, or no `where` right after: unchanged.
        for spl in [
            "* | parse-regexp content, '(\\S+)' as a | where a = '1'",
            "* | parse-regexp content, '(\\S+) (\\S+)' as a, b | where a = '1' and b = '2'",
            "* | parse-regexp content, '(\\S+) (\\S+)' as a, b | extend c = a | where a = '1'",
        ] {
            assert!(joined(spl).1.is_empty(), "{spl}");
        }
    }
}

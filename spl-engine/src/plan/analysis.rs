//! What a plan lets hosts and the optimizer skip: the input fields a program can observe
//! ([`input_fields`], for decoders), whether output rows are input rows unchanged
//! ([`rows_unchanged`]), and stage outputs nothing observes ([`unused_outputs`],
//! [`observed_dynamic_outputs`]).
pub use crate::codec::FieldSelection;
use crate::codec::SpliceSpec;

use super::{Chain, Fields, Op, Source};

/// True when the program is one statement over the input whose stages only choose rows
/// (`where`, `limit`): every output row is an input row, unchanged, so a runner may write the
/// input line itself instead of re-encoding the row.
pub fn rows_unchanged(chains: &[Chain]) -> bool {
    matches!(chains, [c] if c.source == Source::Input
        && c.stages.iter().all(|s| s.only_chooses_rows()))
}

/// The edit a program makes to every row it outputs, when all it does is remove fields
/// (`project-away` by name) and write fields (`extend`) on rows it chooses (`where`, `limit`):
/// such rows can be written by splicing their input line (`codec/splice.rs`), and need as
/// columns only the fields the stages read (`read`). `None` for any
/// other program, and for one that never changes a row ([`rows_unchanged`]).
pub fn splice_edit(chains: &[Chain]) -> Option<SpliceSpec> {
    let [chain] = chains else {
        return None;
    };
    if chain.source != Source::Input {
        return None;
    }
    let mut edit = SpliceSpec::default();
    for st in &chain.stages {
        match &st.op {
            _ if st.only_chooses_rows() => {}
            Op::Extend(_) => {
                let Fields::Named(written) = st.writes() else {
                    return None;
                };
                edit.written.extend(written);
            }
            Op::ProjectAway {
                wildcard: false, ..
            } => {
                let Fields::Named(removed) = st.removes() else {
                    return None;
                };
                edit.removed.extend(removed);
            }
            _ => return None,
        }
    }
    // A spliced row is written from its line: only what the stages read must become columns.
    edit.read = match input_fields(chains, true) {
        FieldSelection::Only(read) => Some(read),
        _ => None,
    };
    (!edit.removed.is_empty() || !edit.written.is_empty()).then_some(edit)
}

/// The input fields a program can observe. Walking its stages: the fields read before being
/// written on every row are needed (a `parse-regexp` that does not match leaves the input's
/// value of its output fields for later stages to read); at the first stage that drops every other field (`project`, `stats`)
/// nothing else is, and fields removed by `project-away` before anything read them are never
/// seen. A stage that reads fields chosen by the data (`pack-fields`, metrics, `project
/// -wildcard`) makes every field matter. When rows reach the output with their other fields,
/// all but the removed ones matter — unless `whole_rows_from_input` says the runner writes output
/// rows from the input lines themselves ([`rows_unchanged`]). Only single-statement programs
/// over `*` are analysed.
pub fn input_fields(chains: &[Chain], whole_rows_from_input: bool) -> FieldSelection {
    let [chain] = chains else {
        return FieldSelection::All;
    };
    if chain.source != Source::Input {
        return FieldSelection::All;
    }
    let mut needed: Vec<String> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    let mut unseen: Vec<String> = Vec::new();
    for st in &chain.stages {
        let Fields::Named(reads) = st.reads() else {
            return FieldSelection::All;
        };
        for r in reads {
            if !written.contains(&r) && !needed.contains(&r) && !unseen.contains(&r) {
                needed.push(r);
            }
        }
        if st.keeps_only_named() {
            return FieldSelection::Only(needed);
        }
        // Only a stage that writes a field on every row hides the input's value of it.
        if let (Fields::Named(w), true) = (st.writes(), st.writes_every_row()) {
            written.extend(w);
        }
        if let Fields::Named(removed) = st.removes() {
            if matches!(st.op, Op::ProjectAway { .. }) {
                for r in &removed {
                    if !needed.contains(r) && !unseen.contains(r) {
                        unseen.push(r.clone());
                    }
                }
            }
            // A removed field that is written again later is a new field, not the input's.
            written.retain(|w| !removed.contains(w));
        }
    }
    if whole_rows_from_input {
        FieldSelection::Only(needed)
    } else if unseen.is_empty() {
        FieldSelection::All
    } else {
        FieldSelection::AllBut(unseen)
    }
}

/// The fields written by stage `stage` of `chain` that nothing observes: every later stage
/// leaves them unread until one drops them (`project`, `stats`, or `project-away` by name). A
/// field that reaches the end of the statement counts as observed. Returns the unused fields
/// and, for each, the index (1-based) in `chain.stages` of the stage that drops it.
pub fn unused_outputs(chain: &Chain, stage: usize) -> Vec<(String, usize)> {
    let Some(Fields::Named(writes)) = chain.stages.get(stage).map(|s| s.writes()) else {
        return Vec::new();
    };
    let mut unused = Vec::new();
    'fields: for w in writes {
        for (j, later) in chain.stages.iter().enumerate().skip(stage + 1) {
            if later.reads().may_contain(&w) {
                continue 'fields; // read, or maybe read
            }
            if later.drops(&w) {
                unused.push((w, j + 1));
                continue 'fields;
            }
        }
    }
    unused
}

/// For stage `stage` of `chain` when its outputs are named by the data (`parse-json` keys):
/// the fields later stages can observe before one drops all others (`project`, `stats`), with
/// the index (1-based) of that stage. `None` when a later stage reads fields chosen by the data
/// (`-wildcard`, `pack-fields`, metrics) or rows reach the end of the statement with all their
/// fields.
pub fn observed_dynamic_outputs(chain: &Chain, stage: usize) -> Option<(Vec<String>, usize)> {
    if !matches!(chain.stages.get(stage)?.writes(), Fields::Dynamic(_)) {
        return None;
    }
    let mut observed: Vec<String> = Vec::new();
    for (j, later) in chain.stages.iter().enumerate().skip(stage + 1) {
        let Fields::Named(reads) = later.reads() else {
            return None;
        };
        for r in reads {
            if !observed.contains(&r) {
                observed.push(r);
            }
        }
        if later.keeps_only_named() {
            return Some((observed, j + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{lower, Program};

    fn plan(spl: &str) -> Program {
        lower(&spl_parser::parse(spl).unwrap())
    }

    #[test]
    fn input_fields_stop_at_the_first_total_projection() {
        use FieldSelection::{AllBut, Only};
        let fields = |spl: &str, whole| match input_fields(&plan(spl).chains, whole) {
            Only(v) => Some(v),
            _ => None,
        };
        let w2 = "* | parse-regexp content, '(\\S+) (\\d+)' as ip, status \
                  | where cast(status as bigint) >= 500 | project ip, status";
        // A row the pattern does not match keeps its own `status` and `ip` for the `where` and
        // the `project`: they are read from the input too.
        assert_eq!(
            fields(w2, false),
            Some(vec!["content".into(), "status".into(), "ip".into()])
        );
        assert_eq!(
            fields("* | extend a = b || c | where a = d | project a, e", false),
            Some(vec!["b".into(), "c".into(), "d".into(), "e".into()])
        );
        assert_eq!(
            fields("* | stats n = count(1) by host", false),
            Some(vec!["host".into()])
        );
        // Rows keep all their fields: every field matters unless lines are re-emitted.
        assert_eq!(
            fields("* | where cast(status as bigint) >= 500", false),
            None
        );
        assert_eq!(
            fields("* | where cast(status as bigint) >= 500 | limit 5", true),
            Some(vec!["status".into()])
        );
        // Fields chosen by the data, and multi-statement programs, are not analysed.
        assert_eq!(fields("* | project -wildcard \"a*\"", false), None);
        assert_eq!(
            fields("* | pack-fields -include='a.*' as p | project p", false),
            None
        );
        assert_eq!(
            fields(".let a = * | project x; $a | project x", false),
            None
        );
        // Fields removed before anything reads them are never seen.
        let w3 = "* | extend latency_ms = cast(latency as double) * 1000 | project-away user_agent";
        assert_eq!(
            input_fields(&plan(w3).chains, false),
            AllBut(vec!["user_agent".into()])
        );
        assert_eq!(
            input_fields(
                &plan("* | where length(a) > 1 | project-away a, b").chains,
                false
            ),
            AllBut(vec!["b".into()])
        );
        assert_eq!(
            input_fields(&plan("* | project-away -wildcard \"a*\"").chains, false),
            FieldSelection::All
        );
        assert!(AllBut(vec!["x".into()]).keeps("y") && !AllBut(vec!["x".into()]).keeps("x"));
        // The input's `a` is overwritten, then removed: `project a` cannot see it.
        assert_eq!(
            fields("* | extend a = '1' | project-away a | project a", false),
            Some(vec![])
        );
        // Read before its removal: needed.
        assert_eq!(
            fields("* | extend b = a | project-away a | project a, b", false),
            Some(vec!["a".into()])
        );
    }

    #[test]
    fn unused_outputs_are_those_dropped_unread() {
        let w2 = plan(
            "* | parse-regexp content, '(\\S+) (\\S+) (\\d+) (\\d+)' as ip, time, status, size \
             | where cast(status as bigint) >= 500 | project ip, status",
        );
        assert_eq!(
            unused_outputs(&w2.chains[0], 0),
            vec![("time".to_string(), 3), ("size".to_string(), 3)]
        );
        let kept = plan("* | parse-regexp content, '(\\S+) (\\S+)' as a, b | where a = b");
        assert!(unused_outputs(&kept.chains[0], 0).is_empty());
        let away = plan("* | parse-regexp content, '(\\S+) (\\S+)' as a, b | project-away b");
        assert_eq!(
            unused_outputs(&away.chains[0], 0),
            vec![("b".to_string(), 2)]
        );
        let dynamic = plan(
            "* | parse-regexp content, '(\\S+)' as a | pack-fields -include='a' as p | project p",
        );
        assert!(unused_outputs(&dynamic.chains[0], 0).is_empty());
    }

    #[test]
    fn observed_dynamic_outputs_stop_at_the_first_total_projection() {
        let p = plan("* | parse-json content | where a = '1' | extend c = b | project c, d");
        assert_eq!(
            observed_dynamic_outputs(&p.chains[0], 0),
            Some((vec!["a".into(), "b".into(), "c".into(), "d".into()], 4))
        );
        let p = plan("* | parse-json content | stats n = count(1) by host");
        assert_eq!(
            observed_dynamic_outputs(&p.chains[0], 0),
            Some((vec!["host".into()], 2))
        );
        for spl in [
            "* | parse-json content | where a = '1'",
            "* | parse-json content | project -wildcard \"a*\"",
            "* | parse-json content | pack-fields -include='a' as p | project p",
        ] {
            assert_eq!(
                observed_dynamic_outputs(&plan(spl).chains[0], 0),
                None,
                "{spl}"
            );
        }
        // Named outputs are `unused_outputs`' business.
        let p = plan("* | parse-regexp content, '(\\S+)' as a | project a");
        assert_eq!(observed_dynamic_outputs(&p.chains[0], 0), None);
    }

    #[test]
    fn rows_unchanged_only_for_row_choosing_stages() {
        assert!(rows_unchanged(&plan("* | where a = '1' | limit 3").chains));
        assert!(rows_unchanged(&plan("*").chains));
        assert!(!rows_unchanged(
            &plan("* | where a = '1' | extend b = a").chains
        ));
        assert!(!rows_unchanged(
            &plan(".let x = *; $x | where a = '1'").chains
        ));
    }
}

//! Output pruning: extraction stages do not extract what nothing reads before it is dropped.
//! - [`unused_outputs`]: `parse-regexp` groups that every later stage leaves unread until one
//!   drops them ([`crate::plan::unused_outputs`]);
//! - [`dynamic_outputs`]: `parse-json` extracts only the keys later stages can observe before a
//!   `project` drops the others.
//!
//! Only when every stage from the extraction up to the dropping one keeps every row and fails
//! for none: a failing row is shown in the error stream with all its fields, unextracted ones
//! included.
use crate::plan::{Chain, Op};

/// Outputs of `parse-regexp` stages that nothing reads before they are dropped are not
/// extracted; a note per stage.
pub fn unused_outputs(chain: &mut Chain) -> Vec<String> {
    let mut notes = Vec::new();
    for i in 0..chain.stages.len() {
        let unused = crate::plan::unused_outputs(chain, i);
        if unused.is_empty() {
            continue;
        }
        // A stage that fails on a row before the output is dropped (the dropping stage
        // included) would show the row in the error stream: with all its fields.
        let names: Vec<String> = unused
            .iter()
            .filter(|(_, at)| never_fail(chain, i + 1, *at))
            .map(|(n, _)| n.clone())
            .collect();
        let label = super::label(chain, &chain.stages[i].parts);
        let Op::ParseRegexp(p) = &mut chain.stages[i].op else {
            continue;
        };
        let pruned: Vec<String> = p
            .outputs
            .iter()
            .flatten()
            .filter(|o| names.contains(o) && !p.pruned.contains(o))
            .cloned()
            .collect();
        if pruned.is_empty() {
            continue;
        }
        p.pruned.extend(pruned.iter().cloned());
        let dropped_at = unused
            .iter()
            .filter(|(n, _)| pruned.contains(n))
            .map(|(_, at)| *at)
            .max()
            .unwrap_or(i + 1);
        let them = if pruned.len() == 1 { "it" } else { "them" };
        notes.push(format!(
            "{label}: {} not extracted; nothing reads {them} before stage {dropped_at} drops {them}",
            pruned.join(", "),
        ));
    }
    notes
}

/// `parse-json` stages extract only the keys later stages can observe, when a `project` drops
/// the others and every stage in between keeps every row and fails for none (a failing row's
/// error row would carry the unextracted keys); a note per stage.
pub fn dynamic_outputs(chain: &mut Chain) -> Vec<String> {
    let mut notes = Vec::new();
    for i in 0..chain.stages.len() {
        let Some((observed, at)) = crate::plan::observed_dynamic_outputs(chain, i) else {
            continue;
        };
        let drops_with_project = chain
            .stages
            .get(at - 1)
            .is_some_and(|s| matches!(s.op, Op::Project { .. }));
        if !drops_with_project || !never_fail(chain, i + 1, at - 1) {
            continue;
        }
        let label = super::label(chain, &chain.stages[i].parts);
        let Op::ParseJson { prefix, only, .. } = &mut chain.stages[i].op else {
            continue;
        };
        let kept: Vec<String> = observed
            .into_iter()
            .filter(|n| n.starts_with(prefix.as_str()) && !crate::batch::is_time_field(n))
            .collect();
        let what = if kept.is_empty() {
            "no key".to_string()
        } else {
            format!("only {}", kept.join(", "))
        };
        *only = Some(kept);
        notes.push(format!(
            "{label}: {what} extracted; nothing reads other keys before stage {at} drops them",
        ));
    }
    notes
}

/// True when stages `from..to` (0-based, `to` excluded) exist and keep every row and fail for
/// none.
fn never_fail(chain: &Chain, from: usize, to: usize) -> bool {
    chain
        .stages
        .get(from..to)
        .is_some_and(|between| between.iter().all(|s| s.never_fails()))
}

#[cfg(test)]
mod tests {
    use crate::plan::{lower, Op, Program};

    fn plan(spl: &str) -> Program {
        lower(&spl_parser::parse(spl).unwrap())
    }

    #[test]
    fn regexp_groups_dropped_unread_are_not_extracted() {
        let mut p = plan(
            "* | parse-regexp content, '(\\S+) (\\S+) (\\d+)' as ip, time, status \
             | extend s = status | project ip, s",
        );
        let notes = super::unused_outputs(&mut p.chains[0]);
        let Op::ParseRegexp(r) = &p.chains[0].stages[0].op else {
            panic!()
        };
        assert_eq!(r.pruned, vec!["time".to_string()]);
        assert_eq!(
            notes,
            vec!["statement 1, stage 1 (parse-regexp): time not extracted; nothing reads it before stage 3 drops it"]
        );
        assert_eq!(
            p.chains[0].stages[0].writes(),
            crate::plan::Fields::Named(vec!["ip".into(), "status".into()])
        );
        // A stage that can fail before the drop keeps every group.
        let mut p = plan(
            "* | parse-regexp content, '(\\S+) (\\S+)' as a, b \
             | where cast(a as bigint) > 1 | project a",
        );
        assert!(super::unused_outputs(&mut p.chains[0]).is_empty());
    }

    #[test]
    fn json_keys_not_projected_are_not_extracted() {
        let mut p = plan("* | parse-json -prefix='j_' content | project j_a, b");
        let notes = super::dynamic_outputs(&mut p.chains[0]);
        let Op::ParseJson { only, .. } = &p.chains[0].stages[0].op else {
            panic!()
        };
        assert_eq!(only.as_deref(), Some(&["j_a".to_string()][..]));
        assert_eq!(notes.len(), 1, "{notes:?}");
        let mut p = plan("* | parse-json content | where a = '1' | project a");
        assert!(super::dynamic_outputs(&mut p.chains[0]).is_empty());
    }
}

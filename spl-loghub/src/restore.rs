//! Rows a query leaves unchanged come back as stored, even when a log repeats a key.
//!
//! The engine holds a row as one value per field, so a log that repeats a key (`k=a, k=b`) is
//! seen as its last value (`k=b`), and the row it returns would lose the first. For a group
//! holding such a log, [`tag`] marks every log with its index under a private key; after the
//! query, [`untag`] removes the mark and puts back the stored log (every content, in stored
//! order) wherever the returned row equals what the engine saw of that log (same time, same
//! fields and values). A row the query changed (projected, extended, renamed) is returned as
//! the query made it. Groups without repeated keys are not touched.
use std::collections::BTreeMap;

use crate::proto::{Log, LogContent, LogGroup};

/// The private key carrying a log's index through the query.
const ROW_KEY: &[u8] = b"\x01spl-row";

/// True when some log of `group` repeats a key.
pub fn has_repeated_keys(group: &LogGroup) -> bool {
    group.logs.iter().any(|log| {
        let c = &log.contents;
        if c.len() < 2 {
            return false;
        }
        // A cheap 64-bit signature first; the exact check only on a collision.
        let mut seen = 0u64;
        let mut collision = false;
        for x in c {
            let k = &x.key;
            let h = (k.len() as u64)
                .wrapping_mul(31)
                .wrapping_add(u64::from(k.first().copied().unwrap_or(0)) * 7)
                .wrapping_add(u64::from(k.last().copied().unwrap_or(0)));
            let bit = 1u64 << (h % 64);
            collision |= seen & bit != 0;
            seen |= bit;
        }
        collision && (1..c.len()).any(|i| c[..i].iter().any(|y| y.key == c[i].key))
    })
}

/// A copy of `group` with every log marked with its index, or `None` when no log repeats a key
/// (the group is then processed as is).
pub fn tag(group: &LogGroup) -> Option<LogGroup> {
    if !has_repeated_keys(group) {
        return None;
    }
    let mut tagged = group.clone();
    for (i, log) in tagged.logs.iter_mut().enumerate() {
        log.contents.push(LogContent {
            key: ROW_KEY.to_vec(),
            value: i.to_string().into_bytes(),
        });
    }
    Some(tagged)
}

/// Removes the marks from an output group of a tagged input; a row equal to the engine's view
/// of its stored log becomes that stored log again.
pub fn untag(mut out: LogGroup, stored: &LogGroup) -> LogGroup {
    for log in &mut out.logs {
        let Some(at) = log.contents.iter().position(|c| c.key == ROW_KEY) else {
            continue;
        };
        let mark = log.contents.remove(at);
        let original = std::str::from_utf8(&mark.value)
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .and_then(|i| stored.logs.get(i));
        if let Some(original) = original {
            if unchanged(log, original) {
                *log = original.clone();
            }
        }
    }
    out
}

/// The fields the engine sees for a stored log: each key once with its last value, time keys
/// left out (the time comes with the event).
fn engine_view(log: &Log) -> BTreeMap<&[u8], &[u8]> {
    log.contents
        .iter()
        .filter(|c| c.key != b"__time__" && c.key != b"__time_ns_part__")
        .map(|c| (c.key.as_slice(), c.value.as_slice()))
        .collect()
}

fn unchanged(returned: &Log, stored: &Log) -> bool {
    let mut fields: BTreeMap<&[u8], &[u8]> = BTreeMap::new();
    for c in &returned.contents {
        if fields.insert(&c.key, &c.value).is_some() {
            return false;
        }
    }
    returned.time == stored.time
        && returned.time_ns.unwrap_or(0) == stored.time_ns.unwrap_or(0)
        && fields == engine_view(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(pairs: &[(&str, &str)]) -> Log {
        Log {
            time: 7,
            time_ns: None,
            contents: pairs
                .iter()
                .map(|(k, v)| LogContent {
                    key: k.as_bytes().to_vec(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn repeated_keys_are_found_exactly() {
        let group = |l: Log| LogGroup {
            logs: vec![l],
            ..LogGroup::default()
        };
        assert!(!has_repeated_keys(&group(log(&[("a", "1"), ("b", "2")]))));
        // Same signature (length, first and last byte), different keys.
        assert!(!has_repeated_keys(&group(log(&[
            ("axb", "1"),
            ("ayb", "2")
        ]))));
        assert!(has_repeated_keys(&group(log(&[
            ("k", "1"),
            ("x", "2"),
            ("k", "3")
        ]))));
        assert!(tag(&group(log(&[("a", "1")]))).is_none());
    }

    #[test]
    fn unchanged_rows_get_their_stored_contents_back() {
        let stored = LogGroup {
            logs: vec![
                log(&[("k", "first"), ("s", "1"), ("k", "last")]),
                log(&[("k", "x"), ("k", "y")]),
            ],
            ..LogGroup::default()
        };
        let tagged = tag(&stored).unwrap();
        assert_eq!(tagged.logs[1].contents.last().unwrap().value, b"1");
        // What the engine returns: row 0 as it saw it, row 1 projected to `s` (absent).
        let mut seen0 = log(&[("k", "last"), ("s", "1")]);
        seen0.contents.push(LogContent {
            key: ROW_KEY.to_vec(),
            value: b"0".to_vec(),
        });
        let mut changed1 = log(&[("k", "y"), ("n", "2")]);
        changed1.contents.push(LogContent {
            key: ROW_KEY.to_vec(),
            value: b"1".to_vec(),
        });
        let out = untag(
            LogGroup {
                logs: vec![seen0, changed1],
                ..LogGroup::default()
            },
            &stored,
        );
        assert_eq!(out.logs[0], stored.logs[0]);
        assert_eq!(out.logs[1], log(&[("k", "y"), ("n", "2")]));
    }
}

//! A pull's pushdown over stored wire groups: each protobuf LogGroup becomes an engine
//! [`EventGroup`](spl_engine::groups::EventGroup), the consumer's program runs on it
//! ([`Pushdown`]), and the groups it turns into are wire groups again, carrying the input's
//! `Reserved`/`MachineUUID`. The scan statistics add what depends on the wire: the scanned
//! groups' protobuf size (prost's `encoded_len`).
//!
//! Budgets per pull ([`Pull`]): the consumer profile's time budget counts from the start of
//! the pull over all the groups it scans, not per group. Each group runs inside a budget scope
//! holding the pull's deadline, so a stage stops at it (E2003) and the group is settled by the
//! profile's pass-through policy: returned unchanged and counted in
//! [`PushdownStats::budget_exceeded`]; once the deadline has passed, every later group of the
//! pull is returned unchanged the same way, without running. The memory ceiling applies to
//! each group's batch as everywhere; the pull's answer is bounded by the server's
//! `--max-pull-bytes`.
use std::time::Instant;

use arrow::buffer::Buffer;
use prost::Message;
use spl_engine::pipeline::ProcessError;
use spl_engine::pushdown::{Pushdown, PushdownStats};

use crate::columnar::{self, ScanPlan};
use crate::proto::LogGroup;

/// Counters of a pull's pushdown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// The engine's counters (groups and rows scanned, returned, failed).
    pub engine: PushdownStats,
    /// Bytes scanned: the protobuf size of the scanned groups.
    pub raw_bytes: u64,
}

impl ScanStats {
    /// Adds another scan's counters.
    pub fn add(&mut self, other: &ScanStats) {
        self.engine.add(&other.engine);
        self.raw_bytes += other.raw_bytes;
    }
}

/// One pull's pushdown, under the pull's time budget.
pub struct Pull<'p> {
    pushdown: &'p Pushdown,
    /// When the pull's time budget (the profile's per-batch time budget) runs out.
    deadline: Option<Instant>,
    /// How the query scans column by column, when it can ([`crate::columnar`]).
    columnar: Option<ScanPlan>,
}

/// Why a stored group could not be scanned.
#[derive(Debug)]
pub enum ScanError {
    /// The stored bytes are not a LogGroup.
    Corrupt(prost::DecodeError),
    /// The program failed under the fail policy.
    Process(ProcessError),
}

impl<'p> Pull<'p> {
    /// Starts a pull now.
    pub fn new(pushdown: &'p Pushdown) -> Pull<'p> {
        let limit = pushdown.pipeline().limits().batch_timeout;
        Pull {
            pushdown,
            deadline: limit.and_then(|l| Instant::now().checked_add(l)),
            columnar: ScanPlan::of(pushdown),
        }
    }

    /// Scans one stored group (its encoded bytes), appending the groups the query returns to
    /// `body` (a `LogGroupList`): column by column when the query and the group allow it
    /// ([`crate::columnar`]), else decoded ([`apply`]). Returns the number of groups appended
    /// and the counters.
    pub fn scan(&self, stored: Vec<u8>, body: &mut Vec<u8>) -> Result<(u64, ScanStats), ScanError> {
        let _scope = spl_engine::budget::enter(self.deadline, None);
        let stored = Buffer::from_vec(stored);
        if let Some(plan) = &self.columnar {
            if let Some((groups, engine)) = columnar::apply(plan, self.pushdown, &stored, body) {
                let raw_bytes = stored.len() as u64;
                return Ok((groups, ScanStats { engine, raw_bytes }));
            }
        }
        let wire = LogGroup::decode(stored.as_slice()).map_err(ScanError::Corrupt)?;
        let (out, stats) = apply(self.pushdown, &wire).map_err(ScanError::Process)?;
        for g in &out {
            crate::proto::append_group(body, &g.encode_to_vec());
        }
        Ok((out.len() as u64, stats))
    }

    /// Applies the pushdown to the pull's next wire group ([`apply`]), stopping at the pull's
    /// deadline.
    pub fn apply(&self, wire: &LogGroup) -> Result<(Vec<LogGroup>, ScanStats), ProcessError> {
        // Synchronous: the scope lives on this thread only while the group runs.
        let _scope = spl_engine::budget::enter(self.deadline, None);
        apply(self.pushdown, wire)
    }
}

/// Applies `pushdown` to one wire group: the wire groups it turns into (none when every row was
/// filtered out) and the counters.
pub fn apply(
    pushdown: &Pushdown,
    wire: &LogGroup,
) -> Result<(Vec<LogGroup>, ScanStats), ProcessError> {
    // A group with a log that repeats a key goes through marked, so unchanged rows come back
    // as stored (crate::restore).
    let tagged = crate::restore::tag(wire);
    let (groups, engine) =
        pushdown.apply_group(&tagged.as_ref().unwrap_or(wire).to_event_group())?;
    let out = groups
        .iter()
        .map(|g| LogGroup::from_event_group(g, pushdown.renderer(), Some(wire)))
        .map(|g| match &tagged {
            Some(_) => crate::restore::untag(g, wire),
            None => g,
        })
        .collect();
    Ok((
        out,
        ScanStats {
            engine,
            raw_bytes: wire.encoded_len() as u64,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Log, LogContent, LogTag};

    fn log(time: u32, status: &str) -> Log {
        Log {
            time,
            time_ns: None,
            contents: vec![LogContent {
                key: b"status".to_vec(),
                value: status.as_bytes().to_vec(),
            }],
        }
    }

    /// A consumer-profile pushdown with a time budget of `ms` milliseconds.
    fn with_budget(text: &str, ms: u64) -> Pushdown {
        let mut o = spl_engine::pipeline::Options::new(spl_engine::pipeline::Profile::Consumer);
        o.batch_timeout = Some(std::time::Duration::from_millis(ms));
        Pushdown::with_options(text, &o).unwrap()
    }

    fn group(status: &[&str]) -> LogGroup {
        LogGroup {
            logs: status.iter().map(|s| log(1, s)).collect(),
            reserved: None,
            topic: Some(b"web".to_vec()),
            source: None,
            machine_uuid: None,
            log_tags: Vec::new(),
        }
    }

    #[test]
    fn a_group_over_the_pull_budget_passes_through_counted() {
        // `status` × `status` one-element merge steps: 10⁸ for 10000, far over 50 ms.
        const RUNAWAY: &str = "* | extend r = reduce(sequence(1, cast(status as bigint)), 0, (s, x) -> s + reduce(sequence(1, cast(status as bigint)), 0, (t, y) -> t + y, t -> t), s -> s)";
        let p = with_budget(RUNAWAY, 50);
        let wire = group(&["10000"]);
        let pull = Pull::new(&p);
        let (out, stats) = pull.apply(&wire).unwrap();
        assert_eq!(out, vec![wire.clone()], "returned unchanged");
        assert_eq!(stats.engine.budget_exceeded, 1);
        assert_eq!(stats.engine.rows_failed, 1);
        // The pull's time is spent: a later, cheap group is returned unchanged at once.
        let cheap = group(&["1"]);
        let (out, stats) = pull.apply(&cheap).unwrap();
        assert_eq!(out, vec![cheap]);
        assert_eq!(stats.engine.budget_exceeded, 1);
        // Within its budget the same query computes `r`.
        let p = with_budget(RUNAWAY, 60_000);
        let (out, stats) = Pull::new(&p).apply(&group(&["1"])).unwrap();
        assert_eq!(stats.engine.budget_exceeded, 0);
        assert_eq!(out[0].logs[0].contents.len(), 2, "r was computed");
    }

    #[test]
    fn raw_bytes_are_the_encoded_size_and_metadata_is_kept() {
        let wire = LogGroup {
            logs: vec![log(1, "200"), log(2, "500")],
            reserved: Some(b"r".to_vec()),
            topic: Some(b"web".to_vec()),
            source: None,
            machine_uuid: Some(b"m".to_vec()),
            log_tags: vec![LogTag {
                key: b"host".to_vec(),
                value: b"a".to_vec(),
            }],
        };
        let p = Pushdown::compile("* | where status = '500'").unwrap();
        let (out, stats) = apply(&p, &wire).unwrap();
        assert_eq!(stats.raw_bytes, wire.encode_to_vec().len() as u64);
        assert_eq!((stats.engine.raw_rows, stats.engine.rows_returned), (2, 1));
        assert_eq!(
            out,
            vec![LogGroup {
                logs: vec![log(2, "500")],
                ..wire.clone()
            }]
        );
    }
}

#[cfg(test)]
mod columnar_tests {
    //! The columnar scan against the decoding path (here, so that `columnar` needs nothing
    //! from this module).
    use super::*;
    use crate::columnar::{apply as columnar_apply, ScanPlan};
    use crate::proto;
    use crate::proto::{Log, LogContent, LogTag};
    use spl_engine::pushdown::Pushdown;

    fn log(time: u32, ns: Option<u32>, kv: &[(&str, &[u8])]) -> Log {
        Log {
            time,
            time_ns: ns,
            contents: kv
                .iter()
                .map(|(k, v)| LogContent {
                    key: k.as_bytes().to_vec(),
                    value: v.to_vec(),
                })
                .collect(),
        }
    }

    fn group(logs: Vec<Log>) -> LogGroup {
        LogGroup {
            logs,
            reserved: Some(b"r".to_vec()),
            topic: Some(b"t".to_vec()),
            source: Some(b"10.0.0.1".to_vec()),
            machine_uuid: Some(b"m".to_vec()),
            log_tags: vec![LogTag {
                key: b"host".to_vec(),
                value: b"h1".to_vec(),
            }],
        }
    }

    fn access(n: u32) -> LogGroup {
        let statuses: [&[u8]; 4] = [b"200", b"500", b"404", b"503"];
        group(
            (0..n)
                .map(|i| {
                    let uri = format!("/api/item/{i}");
                    let lat = (i * 37 % 1000).to_string();
                    log(
                        1_700_000_000 + i,
                        (i % 3 == 0).then_some(i),
                        &[
                            ("status", statuses[i as usize % 4]),
                            ("uri", uri.as_bytes()),
                            ("latency", lat.as_bytes()),
                            ("ua", b"Mozilla/5.0 (X11; Linux x86_64) test agent"),
                        ],
                    )
                })
                .collect(),
        )
    }

    /// The decoding path's answer for `stored`.
    fn decoded(p: &Pushdown, stored: &[u8]) -> (Vec<u8>, ScanStats) {
        let wire = LogGroup::decode(stored).unwrap();
        let (out, stats) = apply(p, &wire).unwrap();
        let mut body = Vec::new();
        for g in &out {
            proto::append_group(&mut body, &g.encode_to_vec());
        }
        (body, stats)
    }

    /// The columnar answer, which must exist.
    fn columnar(p: &Pushdown, stored: &[u8]) -> Option<(Vec<u8>, ScanStats)> {
        let plan = ScanPlan::of(p)?;
        let mut body = Vec::new();
        let (_, engine) = columnar_apply(&plan, p, &Buffer::from(stored.to_vec()), &mut body)?;
        let stats = ScanStats {
            engine,
            raw_bytes: stored.len() as u64,
        };
        Some((body, stats))
    }

    #[test]
    fn columnar_answers_equal_the_decoding_path() {
        let stored = access(50).encode_to_vec();
        for q in [
            "* | where status = '200'",
            "* | where cast(latency as bigint) > 500",
            "* | where status = 'none'",
            "* | where cast(status as bigint) >= 500 | project status, uri",
            "* | where uri like '%/1%' | project uri, latency",
            "* | project status, ua",
            "* | extend x = concat(status, '-', uri) | project x",
            "* | where status = '404' | extend l = cast(latency as bigint) * 2 | project uri, l, __time__",
            "* | project status, __tag__:host",
        ] {
            let p = Pushdown::compile(q).unwrap();
            let got = columnar(&p, &stored);
            let want = decoded(&p, &stored);
            if q.contains("__tag__") {
                assert!(got.is_none(), "{q}: metadata is read, the decoding path runs");
                continue;
            }
            let got = got.unwrap_or_else(|| panic!("{q}: no columnar answer"));
            assert_eq!(got.1, want.1, "{q}: counters");
            assert_eq!(got.0, want.0, "{q}: body");
        }
    }

    #[test]
    fn plans_say_when_they_splice() {
        let plan = |q| ScanPlan::of(&Pushdown::compile(q).unwrap());
        assert!(plan("* | where a = '1'").unwrap().splice);
        assert_eq!(plan("* | where a = '1'").unwrap().fields, ["a"]);
        let p = plan("* | where a = '1' | project b").unwrap();
        assert!(!p.splice);
        assert_eq!(p.fields, ["a", "b"]);
        assert_eq!(
            plan("* | extend b = a"),
            None,
            "every field reaches the output"
        );
        assert_eq!(plan("* | where __topic__ = 'x'"), None);
    }

    #[test]
    fn a_filter_returns_stored_logs_byte_for_byte() {
        // Logs with their keys in different orders, and a key repeated in a field the query
        // does not read: the chosen logs come back exactly as stored.
        let g = group(vec![
            log(1_700_000_001, None, &[("a", b"1"), ("b", b"x")]),
            log(
                1_700_000_002,
                Some(7),
                &[("b", b"y"), ("a", b"1"), ("b", b"z")],
            ),
            log(1_700_000_003, None, &[("a", b"2")]),
        ]);
        let stored = g.encode_to_vec();
        let p = Pushdown::compile("* | where a = '1'").unwrap();
        let (body, stats) = columnar(&p, &stored).unwrap();
        let list = proto::LogGroupList::decode(&body[..]).unwrap();
        let mut want = g.clone();
        want.logs.truncate(2);
        assert_eq!(list.log_groups, vec![want]);
        assert_eq!(stats.engine.rows_returned, 2);
        assert_eq!(stats.raw_bytes, stored.len() as u64);
    }

    #[test]
    fn groups_the_fast_path_cannot_promise_take_the_decoding_path() {
        let p = Pushdown::compile("* | where cast(a as bigint) > 1 | project a").unwrap();
        for (why, logs) in [
            (
                "a row fails (pass-through)",
                vec![log(5, None, &[("a", b"x")])],
            ),
            (
                "a read field repeats",
                vec![log(5, None, &[("a", b"2"), ("a", b"3")])],
            ),
            (
                "a value is not UTF-8",
                vec![log(5, None, &[("a", b"2\xff")])],
            ),
            (
                "a row's own topic",
                vec![log(5, None, &[("a", b"2"), ("__topic__", b"t2")])],
            ),
            (
                "a row's own time",
                vec![log(5, None, &[("a", b"2"), ("__time__", b"9")])],
            ),
            ("time 0", vec![log(0, None, &[("a", b"2")])]),
            (
                "nanoseconds out of range",
                vec![log(5, Some(1_000_000_000), &[("a", b"2")])],
            ),
        ] {
            let stored = group(logs).encode_to_vec();
            assert!(columnar(&p, &stored).is_none(), "{why}");
        }
        assert!(columnar(&p, b"\x0a\x05ab").is_none(), "not a LogGroup");
        let mut g = group(vec![log(5, None, &[("a", b"2")])]);
        g.log_tags[0].key = b"h\xffst".to_vec();
        assert!(
            columnar(&p, &g.encode_to_vec()).is_none(),
            "a tag key is not UTF-8"
        );
        let mut g = group(vec![log(5, None, &[("a", b"2")])]);
        g.log_tags.push(g.log_tags[0].clone());
        g.log_tags[1].value = b"h2".to_vec();
        assert!(
            columnar(&p, &g.encode_to_vec()).is_none(),
            "a tag key repeats"
        );
        // And the scan's answer is the decoding path's.
        let stored = group(vec![
            log(5, None, &[("a", b"x")]),
            log(6, None, &[("a", b"7")]),
        ])
        .encode_to_vec();
        let filter = Pushdown::compile("* | where a = '2'").unwrap();
        let mut g = group(vec![log(5, None, &[("a", b"2"), ("k", b"v")])]);
        g.logs[0].contents[1].key = b"k\xff".to_vec();
        assert!(
            columnar(&filter, &g.encode_to_vec()).is_none(),
            "a spliced key is not UTF-8"
        );
        let mut body = Vec::new();
        let (_, stats) = Pull::new(&p).scan(stored.clone(), &mut body).unwrap();
        assert_eq!((body, stats), decoded(&p, &stored));
        assert_eq!(stats.engine.rows_failed, 1);
    }
}

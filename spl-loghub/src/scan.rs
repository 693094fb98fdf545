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

use prost::Message;
use spl_engine::pipeline::ProcessError;
use spl_engine::pushdown::{Pushdown, PushdownStats};

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
}

impl<'p> Pull<'p> {
    /// Starts a pull now.
    pub fn new(pushdown: &'p Pushdown) -> Pull<'p> {
        let limit = pushdown.pipeline().limits().batch_timeout;
        Pull {
            pushdown,
            deadline: limit.and_then(|l| Instant::now().checked_add(l)),
        }
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

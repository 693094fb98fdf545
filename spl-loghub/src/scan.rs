//! A pull's pushdown over stored wire groups: each protobuf LogGroup becomes an engine
//! [`EventGroup`](spl_engine::groups::EventGroup), the consumer's program runs on it
//! ([`Pushdown`]), and the groups it turns into are wire groups again, carrying the input's
//! `Reserved`/`MachineUUID`. The scan statistics add what depends on the wire: the scanned
//! groups' protobuf size (prost's `encoded_len`).
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

//! The LogHub protobuf messages (proto2; field numbers as in the official "Data encoding" page and
//! the SDKs' `log_logs.proto`), written by hand with prost's derive — the one wire model of the
//! crate — and their conversion to and from the engine's [`EventGroup`].
//!
//! Keys and values are `bytes` on the wire (the Python SDK's `log_logs_raw.proto` does the same):
//! a stored LogGroup is returned byte for byte whatever its encoding, and a value that is not
//! UTF-8 keeps its bytes through a query that does not touch its field.
use prost::Message;
use spl_engine::groups::{EventGroup, RowsBuilder};
use spl_engine::render::Renderer;

/// `Log.Content` (key 1, value 2).
#[derive(Clone, PartialEq, Message)]
pub struct LogContent {
    #[prost(bytes = "vec", required, tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub value: Vec<u8>,
}

/// `Log` (Time 1, Contents 2, Time_ns 4 as fixed32).
#[derive(Clone, PartialEq, Message)]
pub struct Log {
    #[prost(uint32, required, tag = "1")]
    pub time: u32,
    #[prost(message, repeated, tag = "2")]
    pub contents: Vec<LogContent>,
    #[prost(fixed32, optional, tag = "4")]
    pub time_ns: Option<u32>,
}

/// `LogTag` (key 1, value 2).
#[derive(Clone, PartialEq, Message)]
pub struct LogTag {
    #[prost(bytes = "vec", required, tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", required, tag = "2")]
    pub value: Vec<u8>,
}

/// `LogGroup` (Logs 1, Reserved/Category 2, Topic 3, Source 4, MachineUUID 5, LogTags 6).
#[derive(Clone, PartialEq, Message)]
pub struct LogGroup {
    #[prost(message, repeated, tag = "1")]
    pub logs: Vec<Log>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub reserved: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub topic: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "4")]
    pub source: Option<Vec<u8>>,
    #[prost(bytes = "vec", optional, tag = "5")]
    pub machine_uuid: Option<Vec<u8>>,
    #[prost(message, repeated, tag = "6")]
    pub log_tags: Vec<LogTag>,
}

/// `LogGroupList` (LogGroups 1): the PullLogs response body.
#[derive(Clone, PartialEq, Message)]
pub struct LogGroupList {
    #[prost(message, repeated, tag = "1")]
    pub log_groups: Vec<LogGroup>,
}

impl LogGroup {
    /// The engine's view of this group: one event per log, contents as fields (values as
    /// bytes: a value that is not UTF-8 keeps its bytes unless a stage touches its field), tags
    /// with their keys as text. `Reserved` and `MachineUUID` are not visible to SPL; the server
    /// copies them from the input group onto each output group. The group's input time (for
    /// rows whose time a program clears) is its first log's.
    pub fn to_event_group(&self) -> EventGroup {
        let mut rows = RowsBuilder::new();
        let mut fields: Vec<(&[u8], &[u8])> = Vec::new();
        for log in &self.logs {
            fields.clear();
            fields.extend(
                log.contents
                    .iter()
                    .map(|c| (c.key.as_slice(), c.value.as_slice())),
            );
            rows.push(i64::from(log.time), log.time_ns.map(i64::from), &fields);
        }
        let first = self.logs.first();
        EventGroup {
            time: first.map_or(0, |l| i64::from(l.time)),
            time_ns: first.and_then(|l| l.time_ns).map_or(0, i64::from),
            topic: self.topic.clone(),
            source: self.source.clone(),
            tags: self
                .log_tags
                .iter()
                .map(|t| {
                    (
                        String::from_utf8_lossy(&t.key).into_owned(),
                        t.value.clone(),
                    )
                })
                .collect(),
            rows: rows.finish(),
        }
    }

    /// A wire group from an engine group (typed values rendered by `renderer`), with
    /// `Reserved`/`MachineUUID` from `origin`. Times are clamped to the wire's ranges.
    pub fn from_event_group(
        group: &EventGroup,
        renderer: &Renderer,
        origin: Option<&LogGroup>,
    ) -> LogGroup {
        LogGroup {
            logs: group
                .events(renderer)
                .into_iter()
                .map(|e| Log {
                    time: e.time.unwrap_or(group.time).clamp(0, i64::from(u32::MAX)) as u32,
                    time_ns: e.time_ns.map(|n| n.clamp(0, 999_999_999) as u32),
                    contents: e
                        .fields
                        .into_iter()
                        .map(|(k, v)| LogContent {
                            key: k.as_bytes().to_vec(),
                            value: v.into_owned(),
                        })
                        .collect(),
                })
                .collect(),
            reserved: origin.and_then(|o| o.reserved.clone()),
            topic: group.topic.clone(),
            source: group.source.clone(),
            machine_uuid: origin.and_then(|o| o.machine_uuid.clone()),
            log_tags: group
                .tags
                .iter()
                .map(|(k, v)| LogTag {
                    key: k.as_bytes().to_vec(),
                    value: v.clone(),
                })
                .collect(),
        }
    }
}

/// Appends one already-encoded LogGroup to a `LogGroupList` body (field 1, length-delimited),
/// so stored groups are returned byte for byte without decoding.
pub fn append_group(list: &mut Vec<u8>, group: &[u8]) {
    list.push(0x0a);
    prost::encoding::encode_varint(group.len() as u64, list);
    list.extend_from_slice(group);
}

/// The size [`append_group`] adds for a group of `len` bytes.
pub fn framed_len(len: usize) -> usize {
    1 + prost::encoding::length_delimiter_len(len) + len
}

/// Decodes a LogGroup and checks what prost does not: every log has a `Time` and every content and
/// tag has a key and a value (proto2 `required`), and the group holds at least one log.
pub fn decode_group(bytes: &[u8]) -> Result<LogGroup, String> {
    let group = LogGroup::decode(bytes).map_err(|e| format!("invalid LogGroup protobuf: {e}"))?;
    if group.logs.is_empty() {
        return Err("the LogGroup holds no logs".to_string());
    }
    check_required(bytes)?;
    Ok(group)
}

/// Walks the wire format to find missing required fields (prost fills in defaults silently).
fn check_required(bytes: &[u8]) -> Result<(), String> {
    for (field, body) in fields(bytes)? {
        match field {
            1 => {
                let log = fields(body)?;
                if !log.iter().any(|(f, _)| *f == 1) {
                    return Err("a log has no Time (field 1)".to_string());
                }
                for (f, content) in &log {
                    if *f == 2 {
                        pair(content, "a log content")?;
                    }
                }
            }
            6 => pair(body, "a log tag")?,
            _ => {}
        }
    }
    Ok(())
}

fn pair(bytes: &[u8], what: &str) -> Result<(), String> {
    let f = fields(bytes)?;
    for (n, name) in [(1, "Key"), (2, "Value")] {
        if !f.iter().any(|(x, _)| *x == n) {
            return Err(format!("{what} has no {name} (field {n})"));
        }
    }
    Ok(())
}

/// The top-level fields of a message: (number, payload of length-delimited fields or empty).
fn fields(mut bytes: &[u8]) -> Result<Vec<(u32, &[u8])>, String> {
    use prost::encoding::{decode_key, decode_varint, WireType};
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (tag, wire) = decode_key(&mut bytes).map_err(|e| e.to_string())?;
        match wire {
            WireType::Varint => {
                decode_varint(&mut bytes).map_err(|e| e.to_string())?;
                out.push((tag, &[][..]));
            }
            WireType::ThirtyTwoBit | WireType::SixtyFourBit => {
                let n = if wire == WireType::ThirtyTwoBit { 4 } else { 8 };
                bytes = bytes.get(n..).ok_or("truncated fixed-width field")?;
                out.push((tag, &[][..]));
            }
            WireType::LengthDelimited => {
                let len = decode_varint(&mut bytes).map_err(|e| e.to_string())?;
                let len = usize::try_from(len).map_err(|_| "length out of range")?;
                let body = bytes.get(..len).ok_or("truncated length-delimited field")?;
                bytes = &bytes[len..];
                out.push((tag, body));
            }
            WireType::StartGroup | WireType::EndGroup => {
                return Err("protobuf groups are not supported".to_string())
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LogGroup{Logs=[Log{Time=1700000000, Contents=[{"a","b"}], Time_ns=5}], Topic="t",
    /// LogTags=[{"h","x"}]} encoded by hand from the schema.
    fn hand_built() -> Vec<u8> {
        let content = [0x0a, 0x01, b'a', 0x12, 0x01, b'b'];
        let mut log = vec![0x08];
        let mut t = 1_700_000_000u32;
        while t >= 0x80 {
            log.push((t as u8 & 0x7f) | 0x80);
            t >>= 7;
        }
        log.push(t as u8);
        log.push(0x12);
        log.push(content.len() as u8);
        log.extend_from_slice(&content);
        log.extend_from_slice(&[0x25, 5, 0, 0, 0]); // field 4, fixed32
        let mut g = vec![0x0a, log.len() as u8];
        g.extend_from_slice(&log);
        g.extend_from_slice(&[0x1a, 0x01, b't']);
        g.extend_from_slice(&[0x32, 0x06, 0x0a, 0x01, b'h', 0x12, 0x01, b'x']);
        g
    }

    #[test]
    fn decodes_and_reencodes_hand_built_bytes_exactly() {
        let bytes = hand_built();
        let g = decode_group(&bytes).unwrap();
        assert_eq!(g.logs[0].time, 1_700_000_000);
        assert_eq!(g.logs[0].time_ns, Some(5));
        assert_eq!(g.logs[0].contents[0].key, b"a");
        assert_eq!(g.topic.as_deref(), Some(&b"t"[..]));
        assert_eq!(g.log_tags[0].value, b"x");
        assert_eq!(g.encode_to_vec(), bytes);
        assert_eq!(g.encoded_len(), bytes.len());
        let model = g.to_event_group();
        assert_eq!(
            LogGroup::from_event_group(&model, &Renderer::default(), Some(&g)).encode_to_vec(),
            bytes
        );
        let mut list = Vec::new();
        append_group(&mut list, &bytes);
        assert_eq!(list.len(), framed_len(bytes.len()));
        let decoded = LogGroupList::decode(&list[..]).unwrap();
        assert_eq!(decoded.log_groups, vec![g]);
    }

    #[test]
    fn missing_required_fields_and_truncation_are_errors() {
        let bytes = hand_built();
        for cut in 1..bytes.len() {
            // Every strict prefix is either invalid or lacks something required.
            let _ = decode_group(&bytes[..cut]);
        }
        assert!(decode_group(&bytes[..bytes.len() - 3]).is_err());
        // A log without Time.
        let no_time = [0x0a, 0x05, 0x25, 0, 0, 0, 0];
        assert!(decode_group(&no_time).is_err());
        // A content without a value.
        let no_value = [0x0a, 0x07, 0x08, 0x01, 0x12, 0x03, 0x0a, 0x01, b'a'];
        let err = decode_group(&no_value).unwrap_err();
        assert!(err.contains("no Value"), "{err}");
        assert!(decode_group(&[]).is_err(), "no logs");
    }

    #[test]
    fn invalid_utf8_keeps_its_bytes_through_the_engine_model() {
        let g = LogGroup {
            logs: vec![Log {
                time: 1,
                contents: vec![LogContent {
                    key: b"k".to_vec(),
                    value: vec![b'a', 0xff],
                }],
                time_ns: None,
            }],
            reserved: None,
            topic: Some(vec![0xfe]),
            source: None,
            machine_uuid: None,
            log_tags: vec![LogTag {
                key: b"t".to_vec(),
                value: vec![0xc3],
            }],
        };
        let m = g.to_event_group();
        let back = LogGroup::from_event_group(&m, &Renderer::default(), None);
        assert_eq!(back, g);
    }
}

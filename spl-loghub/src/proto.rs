//! The LogHub protobuf messages (proto2; field numbers as in the official "Data encoding" page and
//! the SDKs' `log_logs.proto`), written by hand with prost's derive, and their conversion to the
//! engine's plain LogGroup model (`spl_engine::pushdown`).
//!
//! Keys and values are `bytes` on the wire (the Python SDK's `log_logs_raw.proto` does the same):
//! a stored LogGroup is returned byte for byte whatever its encoding, and text that is not UTF-8
//! is read with U+FFFD replacements only when a query has to look at it.
use prost::Message;
use spl_engine::pushdown;

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

/// Text from protobuf bytes: no copy when it is UTF-8, U+FFFD for invalid sequences otherwise.
fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl LogGroup {
    /// The engine's view of this group. `Reserved` and `MachineUUID` are not visible to SPL;
    /// the server copies them from the input group onto each output group.
    pub fn into_model(self) -> pushdown::LogGroup {
        pushdown::LogGroup {
            logs: self
                .logs
                .into_iter()
                .map(|l| pushdown::Log {
                    time: l.time,
                    time_ns: l.time_ns,
                    contents: l
                        .contents
                        .into_iter()
                        .map(|c| (text(c.key), text(c.value)))
                        .collect(),
                })
                .collect(),
            topic: self.topic.map(text),
            source: self.source.map(text),
            tags: self
                .log_tags
                .into_iter()
                .map(|t| (text(t.key), text(t.value)))
                .collect(),
        }
    }

    /// A wire group from the engine's model, with `Reserved`/`MachineUUID` from `origin`.
    pub fn from_model(group: pushdown::LogGroup, origin: Option<&LogGroup>) -> LogGroup {
        LogGroup {
            logs: group
                .logs
                .into_iter()
                .map(|l| Log {
                    time: l.time,
                    time_ns: l.time_ns,
                    contents: l
                        .contents
                        .into_iter()
                        .map(|(k, v)| LogContent {
                            key: k.into_bytes(),
                            value: v.into_bytes(),
                        })
                        .collect(),
                })
                .collect(),
            reserved: origin.and_then(|o| o.reserved.clone()),
            topic: group.topic.map(String::into_bytes),
            source: group.source.map(String::into_bytes),
            machine_uuid: origin.and_then(|o| o.machine_uuid.clone()),
            log_tags: group
                .tags
                .into_iter()
                .map(|(k, v)| LogTag {
                    key: k.into_bytes(),
                    value: v.into_bytes(),
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
        let model = g.clone().into_model();
        assert_eq!(model.encoded_len(), bytes.len());
        assert_eq!(LogGroup::from_model(model, Some(&g)).encode_to_vec(), bytes);
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
    fn invalid_utf8_is_replaced_only_in_the_model() {
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
            topic: None,
            source: None,
            machine_uuid: None,
            log_tags: vec![],
        };
        let m = g.into_model();
        assert_eq!(m.logs[0].contents[0].1, "a\u{fffd}");
    }
}

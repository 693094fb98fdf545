//! A zero-copy reader of one encoded LogGroup ([`GroupView`]): every log's time, nanosecond
//! part, key/value contents and its own encoded bytes as slices of the stored record, and the
//! group's metadata fields as slices too; plus the writers that put a group back together from
//! such slices ([`GroupView::write_with_logs`]). The columnar scan ([`crate::columnar`]) reads
//! stored groups through it instead of decoding them into owned messages.
//!
//! The reader follows protobuf's rules as prost applies them: fields in any order, unknown
//! fields skipped, the last value of a repeated scalar field wins. It returns `None` for
//! anything it does not read (malformed varints, lengths past the end, wire types that do not
//! match the schema); callers then take the decoding path, which reports the error.

/// One log of a group.
#[derive(Debug, Clone, Copy)]
pub struct LogView<'a> {
    /// The log's encoded message (without its tag and length).
    pub bytes: &'a [u8],
    pub time: u32,
    pub time_ns: Option<u32>,
    /// Range of this log's contents in [`GroupView::contents`].
    pub contents: (usize, usize),
}

/// One encoded LogGroup, read in place.
#[derive(Debug, Default)]
pub struct GroupView<'a> {
    pub logs: Vec<LogView<'a>>,
    /// Every log's key/value pairs, in order, log after log.
    pub contents: Vec<(&'a [u8], &'a [u8])>,
    pub reserved: Option<&'a [u8]>,
    pub topic: Option<&'a [u8]>,
    pub source: Option<&'a [u8]>,
    pub machine_uuid: Option<&'a [u8]>,
    /// The encoded `LogTag` messages, and their key and value.
    pub tags: Vec<(&'a [u8], &'a [u8], &'a [u8])>,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A cursor over protobuf fields.
struct Fields<'a> {
    buf: &'a [u8],
    at: usize,
}

/// One field's value.
enum Value<'a> {
    Varint(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Fields<'a> {
        Fields { buf, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.buf.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    /// The next field: `Some(None)` at the end, `None` when malformed.
    fn next(&mut self) -> Option<Option<(u64, Value<'a>)>> {
        if self.at == self.buf.len() {
            return Some(None);
        }
        let key = self.varint()?;
        let tag = key >> 3;
        if tag == 0 {
            return None;
        }
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => {
                self.take(8)?;
                Value::Other
            }
            LEN => {
                let n = usize::try_from(self.varint()?).ok()?;
                Value::Bytes(self.take(n)?)
            }
            FIXED32 => {
                let b = self.take(4)?;
                Value::Fixed32(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            _ => return None,
        };
        Some(Some((tag, value)))
    }
}

/// Reads a `(key 1, value 2)` message (`Log.Content`, `LogTag`).
fn pair(buf: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut f = Fields::new(buf);
    let (mut key, mut value): (&[u8], &[u8]) = (b"", b"");
    while let Some((tag, v)) = f.next()? {
        match (tag, v) {
            (1, Value::Bytes(b)) => key = b,
            (2, Value::Bytes(b)) => value = b,
            (1 | 2, _) => return None,
            _ => {}
        }
    }
    Some((key, value))
}

impl<'a> GroupView<'a> {
    /// Reads an encoded LogGroup; `None` when it is not one this reader accepts.
    pub fn parse(buf: &'a [u8]) -> Option<GroupView<'a>> {
        let mut g = GroupView::default();
        let mut f = Fields::new(buf);
        while let Some((tag, v)) = f.next()? {
            match (tag, v) {
                (1, Value::Bytes(b)) => g.log(b)?,
                (2, Value::Bytes(b)) => g.reserved = Some(b),
                (3, Value::Bytes(b)) => g.topic = Some(b),
                (4, Value::Bytes(b)) => g.source = Some(b),
                (5, Value::Bytes(b)) => g.machine_uuid = Some(b),
                (6, Value::Bytes(b)) => {
                    let (k, v) = pair(b)?;
                    g.tags.push((b, k, v));
                }
                (1..=6, _) => return None,
                _ => {}
            }
        }
        Some(g)
    }

    fn log(&mut self, buf: &'a [u8]) -> Option<()> {
        let start = self.contents.len();
        let mut f = Fields::new(buf);
        let (mut time, mut time_ns) = (0u32, None);
        while let Some((tag, v)) = f.next()? {
            match (tag, v) {
                (1, Value::Varint(t)) => time = t as u32,
                (2, Value::Bytes(b)) => self.contents.push(pair(b)?),
                (4, Value::Fixed32(n)) => time_ns = Some(n),
                (1 | 2 | 4, _) => return None,
                _ => {}
            }
        }
        self.logs.push(LogView {
            bytes: buf,
            time,
            time_ns,
            contents: (start, self.contents.len()),
        });
        Some(())
    }

    /// The contents of log `i`.
    pub fn log_contents(&self, i: usize) -> &[(&'a [u8], &'a [u8])] {
        let (a, b) = self.logs[i].contents;
        &self.contents[a..b]
    }

    /// Appends to `out` the encoded LogGroup holding the logs `picked` (indexes into
    /// [`GroupView::logs`], each written byte for byte as stored) and this group's metadata, in
    /// field order (what prost writes for the same values).
    pub fn write_with_logs(&self, picked: impl Iterator<Item = usize>, out: &mut Vec<u8>) {
        for i in picked {
            put_bytes(out, 1, self.logs[i].bytes);
        }
        for (tag, v) in [
            (2, self.reserved),
            (3, self.topic),
            (4, self.source),
            (5, self.machine_uuid),
        ] {
            if let Some(v) = v {
                put_bytes(out, tag, v);
            }
        }
        for (msg, _, _) in &self.tags {
            put_bytes(out, 6, msg);
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Writes a length-delimited field.
pub fn put_bytes(out: &mut Vec<u8>, tag: u32, v: &[u8]) {
    put_varint(out, u64::from(tag) << 3 | u64::from(LEN));
    put_varint(out, v.len() as u64);
    out.extend_from_slice(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Log, LogContent, LogGroup, LogTag};
    use prost::Message;

    fn sample() -> LogGroup {
        LogGroup {
            logs: (0..3)
                .map(|i| Log {
                    time: 1_700_000_000 + i,
                    time_ns: (i == 1).then_some(5),
                    contents: vec![
                        LogContent {
                            key: b"k".to_vec(),
                            value: format!("v{i}").into_bytes(),
                        },
                        LogContent {
                            key: b"bin".to_vec(),
                            value: vec![0xff, 0, i as u8],
                        },
                    ],
                })
                .collect(),
            reserved: None,
            topic: Some(b"t".to_vec()),
            source: Some(Vec::new()),
            machine_uuid: Some(b"m".to_vec()),
            log_tags: vec![LogTag {
                key: b"host".to_vec(),
                value: b"h1".to_vec(),
            }],
        }
    }

    #[test]
    fn reads_what_prost_writes() {
        let g = sample();
        let bytes = g.encode_to_vec();
        let v = GroupView::parse(&bytes).unwrap();
        assert_eq!(v.logs.len(), 3);
        assert_eq!(v.logs[1].time, 1_700_000_001);
        assert_eq!(v.logs[1].time_ns, Some(5));
        assert_eq!(v.logs[0].time_ns, None);
        assert_eq!(v.log_contents(2)[1], (&b"bin"[..], &[0xff, 0, 2][..]));
        assert_eq!(v.topic, Some(&b"t"[..]));
        assert_eq!(v.source, Some(&b""[..]));
        assert_eq!(v.reserved, None);
        assert_eq!(v.tags[0].1, b"host");
        // Every log, written back, is the group prost wrote.
        let mut out = Vec::new();
        v.write_with_logs(0..3, &mut out);
        assert_eq!(out, bytes);
        // A subset is what prost writes for that subset.
        let mut out = Vec::new();
        v.write_with_logs([0, 2].into_iter(), &mut out);
        let mut want = g.clone();
        want.logs.remove(1);
        assert_eq!(out, want.encode_to_vec());
    }

    #[test]
    fn malformed_input_is_refused_not_misread() {
        let bytes = sample().encode_to_vec();
        for cut in 1..bytes.len() {
            // A cut may land on a field boundary (a valid shorter group); otherwise refused.
            if let Some(v) = GroupView::parse(&bytes[..cut]) {
                assert_eq!(
                    LogGroup::decode(&bytes[..cut]).unwrap().logs.len(),
                    v.logs.len()
                );
            }
        }
        assert!(GroupView::parse(&[
            0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
        ])
        .is_none());
        assert!(
            GroupView::parse(&[0x08, 0x01]).is_none(),
            "Logs as a varint"
        );
        assert!(GroupView::parse(&[0x00]).is_none(), "field 0");
    }
}

//! PutLogs body handling as the server does it: a compression type and a declared raw size
//! (`x-log-bodyrawsize`, checked against the server's default limit first), decompression, then
//! LogGroup protobuf decoding with the required-field checks; then what a pull does with the
//! stored group: the engine's view of it and the wire form back, which must keep every log's
//! time and contents (last value per key), the tags and the group fields. Nothing may panic, and
//! decompression never produces more than the declared (capped) size, so a decompression bomb
//! cannot take memory.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use spl_engine::render::Renderer;
use spl_engine::timezone::SessionTz;
use spl_loghub::compress::Compression;
use spl_loghub::proto;

/// The server's default `max_raw_bytes` (10 MiB).
const MAX_RAW_BYTES: usize = 10 << 20;

/// Keys the engine takes as the log's time, not as fields.
const TIME_FIELDS: [&[u8]; 2] = [b"__time__", b"__time_ns_part__"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let compression = match selector % 4 {
        0 => Compression::None,
        1 => Compression::Lz4,
        2 => Compression::Zstd,
        _ => Compression::Deflate,
    };
    // Bit 2: a declared raw size follows (4 bytes, little endian), as the header would give it.
    let (raw_size, body) = if selector & 4 != 0 && rest.len() >= 4 {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        (Some(n), &rest[4..])
    } else {
        (None, rest)
    };
    if raw_size.unwrap_or(body.len()) > MAX_RAW_BYTES {
        return; // the server answers 413 before decompressing
    }
    let raw = match compression.decompress(body, raw_size) {
        Ok(raw) => raw,
        Err(_) => return,
    };
    assert!(
        raw.len() <= raw_size.unwrap_or(body.len()),
        "decompressed {} bytes, more than the declared {:?}",
        raw.len(),
        raw_size
    );
    let _ = proto::LogGroupList::decode(&raw[..]);
    let Ok(group) = proto::decode_group(&raw) else {
        return;
    };
    // What a pull does with the stored bytes: prost decode, the engine's view, the wire back
    // (no query: every field keeps its bytes).
    let stored = proto::LogGroup::decode(&raw[..]).expect("decode_group accepted it");
    assert_eq!(stored, group);
    let events = group.to_event_group();
    assert_eq!(events.rows.num_rows(), group.logs.len());
    let renderer = Renderer::new(SessionTz::UTC);
    let back = proto::LogGroup::from_event_group(&events, &renderer, Some(&group));
    assert_eq!(back.logs.len(), group.logs.len());
    assert_eq!(back.topic, group.topic);
    assert_eq!(back.source, group.source);
    assert_eq!(back.reserved, group.reserved);
    assert_eq!(back.machine_uuid, group.machine_uuid);
    let utf8_keys = group
        .logs
        .iter()
        .flat_map(|l| l.contents.iter().map(|c| &c.key))
        .chain(group.log_tags.iter().map(|t| &t.key))
        .all(|k| std::str::from_utf8(k).is_ok());
    let has_ns = group.logs.iter().any(|l| l.time_ns.is_some());
    for (a, b) in group.logs.iter().zip(&back.logs) {
        assert_eq!(a.time, b.time, "the time of a log changed");
        if has_ns {
            // Out-of-range nanoseconds are clamped to the wire's range on the way out.
            assert_eq!(
                a.time_ns.map(|n| n.min(999_999_999)),
                b.time_ns,
                "the nanoseconds of a log changed"
            );
        }
        if utf8_keys {
            // Contents: the last value of each key, time-field keys aside (the time comes
            // with the log); order may follow the group's first-seen key order.
            let expected: BTreeMap<&[u8], &[u8]> = a
                .contents
                .iter()
                .filter(|c| !TIME_FIELDS.contains(&&c.key[..]))
                .map(|c| (&c.key[..], &c.value[..]))
                .collect();
            let got: BTreeMap<&[u8], &[u8]> = b
                .contents
                .iter()
                .map(|c| (&c.key[..], &c.value[..]))
                .collect();
            assert_eq!(got, expected, "the contents of a log changed");
        }
    }
    if utf8_keys {
        let tags = |g: &proto::LogGroup| -> Vec<(Vec<u8>, Vec<u8>)> {
            g.log_tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect()
        };
        assert_eq!(tags(&back), tags(&group), "the tags changed");
    }
    let mut list = Vec::new();
    proto::append_group(&mut list, &back.encode_to_vec());
    let decoded = proto::LogGroupList::decode(&list[..]).expect("a list we encoded decodes");
    assert_eq!(decoded.log_groups.len(), 1);
    assert_eq!(decoded.log_groups[0], back);
});

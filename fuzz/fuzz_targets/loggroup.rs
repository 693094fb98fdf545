//! PutLogs body handling as the server does it: a compression type and a declared raw size
//! (`x-log-bodyrawsize`, checked against the server's default limit first), decompression, then
//! LogGroup protobuf decoding with the required-field checks, the engine's view of the group and
//! the wire form back. Nothing may panic and decompression may never produce more than the
//! declared (capped) size, so a decompression bomb cannot take memory.
#![no_main]
use libfuzzer_sys::fuzz_target;
use prost::Message;
use spl_engine::pushdown::group_to_batch;
use spl_loghub::compress::Compression;
use spl_loghub::proto;

/// The server's default `max_raw_bytes` (10 MiB).
const MAX_RAW_BYTES: usize = 10 << 20;

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
    let origin = group.clone();
    let model = group.into_model();
    let rows = model.logs.len();
    let batch = group_to_batch(&model);
    assert_eq!(batch.num_rows(), rows);
    let wire = proto::LogGroup::from_model(model, Some(&origin));
    let mut list = Vec::new();
    proto::append_group(&mut list, &wire.encode_to_vec());
    let decoded = proto::LogGroupList::decode(&list[..]).expect("a list we encoded decodes");
    assert_eq!(decoded.log_groups.len(), 1);
    assert_eq!(decoded.log_groups[0].logs.len(), rows);
});

//! PullLogs `query` handling as the server does it: arbitrary query text (trimmed, compiled under
//! the consumer profile by `Pushdown::compile`) applied through spl-loghub's scan path
//! (`scan::apply`: wire LogGroup → engine event group → pushdown → wire groups) to fuzzed
//! LogGroups, the output groups framed into a `LogGroupList` body as the server sends it.
//!
//! Input: the query is the bytes before the first NUL; the bytes after it (when there is one)
//! describe the stored groups (logs with keys from a small vocabulary or arbitrary bytes, values
//! from a list of typed-looking texts or arbitrary bytes, optional nanoseconds, topic, source,
//! tags); without a NUL a fixed four-log group is scanned. Nothing may panic; the counters add up
//! and the response body decodes to the groups returned. The server's own entry
//! (`scan::Pull::scan`, which runs a query column by column on the stored bytes when it can)
//! must give the same counters and the same logs when the query's answer repeats (each log's contents compared as a sorted
//! list: a filtering query returns logs exactly as stored, the decoding path in column order).
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use spl_engine::pushdown::Pushdown;
use spl_loghub::proto::{self, Log, LogContent, LogGroup, LogGroupList, LogTag};
use spl_loghub::scan::{self, ScanStats};

const KEYS: &[&[u8]] = &[
    b"level",
    b"status",
    b"msg",
    b"content",
    b"latency",
    b"a",
    b"__time__",
    b"__time_ns_part__",
    b"__topic__",
    b"__source__",
    b"__tag__:host",
    b"",
    b"\xff",
];

const VALUES: &[&[u8]] = &[
    b"ERROR",
    b"INFO",
    b"500",
    b"200",
    b"-1",
    b"12.5",
    b"1e308",
    b"NaN",
    b"true",
    b"",
    b"null",
    b"2024-01-02 03:04:05",
    b"{\"a\":1,\"b\":[1,2,{\"c\":null}]}",
    b"[1,2,3]",
    b"k1=v1&k2=v2",
    b"a,b,\"c,d\"",
    b"10.0.0.1 GET /a 500",
    "ünïcödé 🎉".as_bytes(),
    b"\xff\xfe",
];

fn pick<'a>(u: &mut Unstructured<'a>, list: &[&'a [u8]]) -> Result<Vec<u8>> {
    Ok(if u.ratio(1, 4)? {
        let n = u.int_in_range(0..=24usize)?;
        u.bytes(n.min(u.len()))?.to_vec()
    } else {
        u.choose(list)?.to_vec()
    })
}

fn log(u: &mut Unstructured) -> Result<Log> {
    let n = u.int_in_range(0..=6usize)?;
    let mut contents = Vec::with_capacity(n);
    for _ in 0..n {
        contents.push(LogContent {
            key: pick(u, KEYS)?,
            value: pick(u, VALUES)?,
        });
    }
    Ok(Log {
        time: if u.ratio(1, 8)? {
            u.arbitrary()?
        } else {
            1_700_000_000 + u.int_in_range(0..=100u32)?
        },
        contents,
        time_ns: if u.ratio(1, 3)? {
            Some(u.arbitrary()?)
        } else {
            None
        },
    })
}

fn group(u: &mut Unstructured) -> Result<LogGroup> {
    let logs = u.int_in_range(1..=8usize)?;
    let mut g = LogGroup {
        logs: Vec::with_capacity(logs),
        reserved: None,
        topic: None,
        source: None,
        machine_uuid: None,
        log_tags: Vec::new(),
    };
    for _ in 0..logs {
        g.logs.push(log(u)?);
    }
    if u.ratio(1, 2)? {
        g.topic = Some(pick(u, VALUES)?);
    }
    if u.ratio(1, 2)? {
        g.source = Some(pick(u, VALUES)?);
    }
    if u.ratio(1, 4)? {
        g.machine_uuid = Some(b"uuid".to_vec());
    }
    for _ in 0..u.int_in_range(0..=3usize)? {
        g.log_tags.push(LogTag {
            key: pick(u, &[b"host", b"zone", b"level", b"__receive_time__"])?,
            value: pick(u, VALUES)?,
        });
    }
    Ok(g)
}

fn fixed() -> &'static [LogGroup] {
    static GROUP: OnceLock<Vec<LogGroup>> = OnceLock::new();
    GROUP.get_or_init(|| {
        let log = |time: u32, ns: Option<u32>, fields: &[(&str, &str)]| Log {
            time,
            time_ns: ns,
            contents: fields
                .iter()
                .map(|(k, v)| LogContent {
                    key: k.as_bytes().to_vec(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
        };
        vec![LogGroup {
            logs: vec![
                log(
                    1_700_000_000,
                    Some(5),
                    &[
                        ("level", "ERROR"),
                        ("status", "500"),
                        ("msg", "disk full"),
                        ("content", "10.0.0.1 GET /a 500"),
                    ],
                ),
                log(
                    1_700_000_001,
                    None,
                    &[
                        ("level", "INFO"),
                        ("status", "200"),
                        ("msg", "ok"),
                        ("content", "{\"a\":1,\"b\":[1,2]}"),
                    ],
                ),
                log(
                    1_700_000_002,
                    Some(999_999_999),
                    &[
                        ("level", "WARN"),
                        ("status", "x"),
                        ("latency", "12.5"),
                        ("content", "k1=v1&k2=v2"),
                    ],
                ),
                log(
                    1_700_000_003,
                    None,
                    &[
                        ("status", ""),
                        ("msg", "ünïcödé 🎉"),
                        ("content", "a,b,\"c,d\""),
                    ],
                ),
            ],
            reserved: None,
            topic: Some(b"topic".to_vec()),
            source: Some(b"10.0.0.9".to_vec()),
            machine_uuid: Some(b"uuid".to_vec()),
            log_tags: vec![
                LogTag {
                    key: b"host".to_vec(),
                    value: b"h1".to_vec(),
                },
                LogTag {
                    key: b"zone".to_vec(),
                    value: b"z".to_vec(),
                },
            ],
        }]
    })
}

/// A response body with each log's contents sorted.
fn normal(body: &[u8]) -> LogGroupList {
    let mut list = LogGroupList::decode(body).expect("the response body decodes");
    for g in &mut list.log_groups {
        for l in &mut g.logs {
            l.contents
                .sort_by(|a, b| (&a.key, &a.value).cmp(&(&b.key, &b.value)));
        }
    }
    list
}

fuzz_target!(|data: &[u8]| {
    let (query, rest) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let text = String::from_utf8_lossy(query);
    // As the server: the query parameter trimmed, an empty one means no query.
    let query = text.trim();
    if query.is_empty() {
        return;
    }
    let Ok(pushdown) = Pushdown::compile(query) else {
        return;
    };
    let built;
    let groups: &[LogGroup] = match rest {
        None => fixed(),
        Some(rest) => {
            let mut u = Unstructured::new(rest);
            let mut v = Vec::new();
            while v.len() < 4 && !u.is_empty() {
                match group(&mut u) {
                    Ok(g) => v.push(g),
                    Err(_) => break,
                }
            }
            if v.is_empty() {
                return;
            }
            // Stored groups are what PutLogs accepted: they pass the wire checks.
            v.retain(|g| proto::decode_group(&g.encode_to_vec()).is_ok());
            built = v;
            &built
        }
    };
    let mut body = Vec::new();
    let mut returned = 0u64;
    let mut stats = ScanStats::default();
    for wire in groups {
        // The server reads the stored bytes back with prost.
        let wire = LogGroup::decode(&wire.encode_to_vec()[..]).expect("a group we encoded");
        let Ok((out, s)) = scan::apply(&pushdown, &wire) else {
            // Runtime failures are a 400 SplExecutionError, not a crash.
            return;
        };
        assert_eq!(s.engine.raw_groups, 1);
        assert_eq!(s.engine.raw_rows, wire.logs.len() as u64);
        assert_eq!(s.engine.groups_returned, out.len() as u64);
        assert_eq!(
            s.engine.rows_returned,
            out.iter().map(|g| g.logs.len() as u64).sum::<u64>()
        );
        assert_eq!(s.raw_bytes, wire.encoded_len() as u64);
        for g in &out {
            assert!(!g.logs.is_empty(), "an empty group was returned");
            assert_eq!(g.machine_uuid, wire.machine_uuid, "MachineUUID is kept");
            proto::append_group(&mut body, &g.encode_to_vec());
            returned += 1;
        }
        stats.add(&s);
        // The server's entry point agrees with the decoding path.
        let mut fast = Vec::new();
        if let Ok((n, fs)) = scan::Pull::new(&pushdown).scan(wire.encode_to_vec(), &mut fast) {
            let mut slow = Vec::new();
            for g in &out {
                proto::append_group(&mut slow, &g.encode_to_vec());
            }
            // Only a query whose answer repeats can be compared (`rand()`, `uuid()`, ...).
            let again = scan::apply(&pushdown, &wire).map(|(again, _)| again == out);
            if again.unwrap_or(false) {
                assert_eq!(n, out.len() as u64, "groups returned");
                assert_eq!(fs.engine, s.engine, "counters");
                assert_eq!(normal(&fast), normal(&slow), "the columnar scan differs");
            }
        }
    }
    let list = LogGroupList::decode(&body[..]).expect("the response body decodes");
    assert_eq!(list.log_groups.len() as u64, returned);
    assert_eq!(stats.engine.groups_returned, returned);
});

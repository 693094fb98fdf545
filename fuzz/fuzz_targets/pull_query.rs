//! PullLogs `query` handling: arbitrary query text, trimmed as the server does, compiled under the
//! consumer profile and applied to a fixed small LogGroup through the pushdown API, then turned
//! back into wire groups. Nothing may panic; the counters must add up.
#![no_main]
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use prost::Message;
use spl_engine::pushdown::{Log, LogGroup, Pushdown};
use spl_loghub::proto;

fn group() -> &'static LogGroup {
    static GROUP: OnceLock<LogGroup> = OnceLock::new();
    GROUP.get_or_init(|| {
        let log = |time: u32, fields: &[(&str, &str)]| Log {
            time,
            time_ns: Some(time % 1000),
            contents: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        LogGroup {
            logs: vec![
                log(
                    1_700_000_000,
                    &[
                        ("level", "ERROR"),
                        ("status", "500"),
                        ("msg", "disk full"),
                        ("content", "10.0.0.1 GET /a 500"),
                    ],
                ),
                log(
                    1_700_000_001,
                    &[
                        ("level", "INFO"),
                        ("status", "200"),
                        ("msg", "ok"),
                        ("content", "{\"a\":1,\"b\":[1,2]}"),
                    ],
                ),
                log(
                    1_700_000_002,
                    &[
                        ("level", "WARN"),
                        ("status", "x"),
                        ("latency", "12.5"),
                        ("content", "k1=v1&k2=v2"),
                    ],
                ),
                log(
                    1_700_000_003,
                    &[
                        ("status", ""),
                        ("msg", "ünïcödé 🎉"),
                        ("content", "a,b,\"c,d\""),
                    ],
                ),
            ],
            topic: Some("topic".into()),
            source: Some("10.0.0.9".into()),
            tags: vec![("host".into(), "h1".into()), ("zone".into(), "z".into())],
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let query = text.trim();
    if query.is_empty() {
        return;
    }
    let Ok(pushdown) = Pushdown::compile(query) else {
        return;
    };
    let group = group();
    let Ok((out, stats)) = pushdown.apply_group(group) else {
        return;
    };
    assert_eq!(stats.raw_rows, group.logs.len() as u64);
    assert_eq!(stats.groups_returned, out.len() as u64);
    assert_eq!(
        stats.rows_returned,
        out.iter().map(|g| g.logs.len() as u64).sum::<u64>()
    );
    let origin = proto::LogGroup::default();
    let mut body = Vec::new();
    for g in out {
        let wire = proto::LogGroup::from_model(g, Some(&origin));
        proto::append_group(&mut body, &wire.encode_to_vec());
    }
    let list = proto::LogGroupList::decode(&body[..]).expect("the response body decodes");
    assert_eq!(list.log_groups.len() as u64, stats.groups_returned);
});

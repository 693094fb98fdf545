//! The server over real HTTP: PutLogs/ListShards/GetCursor/PullLogs round trips, pushdown
//! headers, cursor edge cases, restart without data loss, malformed and oversized bodies, and SPL
//! errors. A tiny HTTP/1.1 client over `std::net` keeps the test free of client libraries.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use prost::Message;
use spl_loghub::proto::{Log, LogContent, LogGroup, LogGroupList, LogTag};
use spl_loghub::{Config, Server};

struct TestServer {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
}

impl TestServer {
    fn start(dir: &PathBuf, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir);
        tweak(&mut config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = rt.block_on(Server::bind(config)).unwrap();
        let addr = server.local_addr().unwrap();
        rt.spawn(server.run_until(std::future::pending()));
        TestServer { rt: Some(rt), addr }
    }

    fn stop(mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(Duration::from_secs(10));
        }
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        request(self.addr, method, path, headers, body)
    }

    fn put(&self, path: &str, group: &LogGroup) -> Resp {
        let raw = group.encode_to_vec();
        let body = lz4_flex::block::compress(&raw);
        let size = raw.len().to_string();
        self.call(
            "POST",
            path,
            &[
                ("x-log-compresstype", "lz4"),
                ("x-log-bodyrawsize", &size),
                ("content-type", "application/x-protobuf"),
            ],
            &body,
        )
    }

    fn cursor(&self, ls: &str, shard: u32, from: &str) -> String {
        let r = self.call(
            "GET",
            &format!("/logstores/{ls}/shards/{shard}?type=cursor&from={from}"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["cursor"].as_str().unwrap().to_string()
    }

    fn pull(&self, ls: &str, shard: u32, params: &str, encoding: &str) -> Resp {
        self.call(
            "GET",
            &format!("/logstores/{ls}/shards/{shard}?type=log&{params}"),
            &[
                ("accept-encoding", encoding),
                ("accept", "application/x-protobuf"),
            ],
            b"",
        )
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

struct Resp {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
    fn h(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no header {name} in {:?}", self.headers))
    }
    fn error_code(&self) -> String {
        self.json()["errorCode"].as_str().unwrap_or("").to_string()
    }
    /// The pulled LogGroupList, decompressed per the response headers.
    fn groups(&self) -> Vec<LogGroup> {
        let raw: usize = self.h("x-log-bodyrawsize").parse().unwrap();
        if raw == 0 {
            assert!(self.body.is_empty());
            return Vec::new();
        }
        let bytes = match self.headers.get("x-log-compresstype").map(String::as_str) {
            Some("lz4") => lz4_flex::block::decompress(&self.body, raw).unwrap(),
            Some("zstd") => zstd::bulk::decompress(&self.body, raw).unwrap(),
            None => self.body.clone(),
            Some(other) => panic!("unexpected compression {other}"),
        };
        assert_eq!(bytes.len(), raw);
        let list = LogGroupList::decode(&bytes[..]).unwrap();
        assert_eq!(
            list.log_groups.len().to_string(),
            self.h("x-log-count"),
            "x-log-count matches the groups in the body"
        );
        list.log_groups
    }
}

fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: proj.loghub.test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect::<HashMap<_, _>>();
    for k in headers.keys() {
        assert_eq!(k, &k.to_ascii_lowercase(), "header names are lower case");
    }
    Resp {
        status,
        headers,
        body: out[split + 4..].to_vec(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spl-loghub-http-{name}-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn content(k: &str, v: &str) -> LogContent {
    LogContent {
        key: k.as_bytes().to_vec(),
        value: v.as_bytes().to_vec(),
    }
}

fn access_group(host: &str, statuses: &[&str]) -> LogGroup {
    LogGroup {
        logs: statuses
            .iter()
            .enumerate()
            .map(|(i, st)| Log {
                time: 1_700_000_000 + i as u32,
                contents: vec![
                    content("status", st),
                    content("uri", &format!("/p/{i}")),
                    content("ua", "curl/8"),
                ],
                time_ns: None,
            })
            .collect(),
        reserved: None,
        topic: Some(b"access".to_vec()),
        source: Some(b"10.0.0.9".to_vec()),
        machine_uuid: Some(b"m-1".to_vec()),
        log_tags: vec![LogTag {
            key: b"host".to_vec(),
            value: host.as_bytes().to_vec(),
        }],
    }
}

fn b64(n: u64) -> String {
    spl_loghub::server::encode_cursor(n)
}

fn unb64(c: &str) -> u64 {
    spl_loghub::server::decode_cursor(Some(c)).unwrap()
}

#[test]
fn put_list_cursor_and_pull_round_trip_byte_for_byte() {
    let dir = temp_dir("roundtrip");
    let srv = TestServer::start(&dir, |_| {});
    let groups: Vec<LogGroup> = (0..6)
        .map(|i| access_group(&format!("h{i}"), &["200", "500", "404"]))
        .collect();
    for (i, g) in groups.iter().enumerate() {
        let path = if i % 2 == 0 {
            "/logstores/web/shards/lb"
        } else {
            "/logstores/web"
        };
        let r = srv.put(path, g);
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.body.is_empty());
        assert!(!r.h("x-log-requestid").is_empty());
    }
    let shards = srv.call("GET", "/logstores/web/shards", &[], b"").json();
    assert_eq!(shards.as_array().unwrap().len(), 2, "{shards}");
    assert_eq!(shards[0]["shardID"], 0);
    assert_eq!(shards[0]["status"], "readwrite");
    assert_eq!(
        shards[1]["exclusiveEndKey"],
        "ffffffffffffffffffffffffffffffff"
    );
    let mut pulled = Vec::new();
    for shard in 0..2 {
        let begin = srv.cursor("web", shard, "begin");
        let end = srv.cursor("web", shard, "end");
        assert_eq!(
            unb64(&end) - unb64(&begin),
            3,
            "round robin puts 3 groups per shard"
        );
        for encoding in ["lz4", "zstd", ""] {
            let r = srv.pull(
                "web",
                shard,
                &format!("cursor={begin}&count=1000"),
                encoding,
            );
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(r.h("x-log-cursor"), end);
            assert!(
                !r.headers.contains_key("x-log-rawdatacount"),
                "only with a query"
            );
            let got = r.groups();
            assert_eq!(got.len(), 3);
            if encoding == "lz4" {
                pulled.extend(got);
            }
        }
        // At the tail: same cursor back, nothing in the body.
        let r = srv.pull("web", shard, &format!("cursor={end}&count=10"), "lz4");
        assert_eq!(r.status, 200);
        assert_eq!(r.h("x-log-cursor"), end);
        assert_eq!(r.h("x-log-count"), "0");
        assert_eq!(r.h("x-log-bodyrawsize"), "0");
        assert!(!r.headers.contains_key("x-log-compresstype"));
        assert!(r.body.is_empty());
    }
    let mut want: Vec<Vec<u8>> = groups.iter().map(|g| g.encode_to_vec()).collect();
    let mut got: Vec<Vec<u8>> = pulled.iter().map(|g| g.encode_to_vec()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "every group comes back byte for byte");
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pull_with_query_filters_projects_and_reports_raw_counts() {
    let dir = temp_dir("query");
    let srv = TestServer::start(&dir, |c| c.store.default_shards = 1);
    let groups = [
        access_group("a", &["200", "500", "503"]),
        access_group("b", &["200", "301"]),
        access_group("c", &["502", "oops"]),
    ];
    for g in &groups {
        assert_eq!(srv.put("/logstores/web/shards/lb", g).status, 200);
    }
    let begin = srv.cursor("web", 0, "begin");
    let end = srv.cursor("web", 0, "end");
    let query = "*%20%7C%20where%20cast(status%20as%20bigint)%20%3E%3D%20500%20%7C%20project%20status%2C%20uri";
    let r = srv.pull(
        "web",
        0,
        &format!("cursor={begin}&count=100&query={query}"),
        "lz4",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.h("x-log-cursor"), end);
    assert_eq!(r.h("x-log-rawdatacount"), "3");
    let stored: usize = groups.iter().map(|g| g.encoded_len()).sum();
    assert_eq!(r.h("x-log-rawdatasize"), stored.to_string());
    assert_eq!(r.h("x-log-rawdatalines"), "7");
    // 500, 503, 502 match; `oops` fails the cast and passes through unchanged.
    assert_eq!(r.h("x-log-resultlines"), "4");
    assert_eq!(r.h("x-log-failedlines"), "1");
    let got = r.groups();
    assert_eq!(got.len(), 2, "group b is left empty and dropped");
    assert_eq!(got[0].log_tags, groups[0].log_tags);
    assert_eq!(got[0].topic, groups[0].topic);
    assert_eq!(got[0].machine_uuid, groups[0].machine_uuid);
    let fields: Vec<Vec<(String, String)>> = got[0]
        .logs
        .iter()
        .map(|l| {
            l.contents
                .iter()
                .map(|c| {
                    (
                        String::from_utf8(c.key.clone()).unwrap(),
                        String::from_utf8(c.value.clone()).unwrap(),
                    )
                })
                .collect()
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            vec![
                ("status".into(), "500".into()),
                ("uri".into(), "/p/1".into())
            ],
            vec![
                ("status".into(), "503".into()),
                ("uri".into(), "/p/2".into())
            ],
        ]
    );
    assert_eq!(got[0].logs[0].time, 1_700_000_001);
    assert_eq!(
        got[1].logs[1], groups[2].logs[1],
        "the failed row comes back whole"
    );

    // A query that matches nothing still advances the cursor; `type=logs` and `+` spaces work.
    let r = srv.call(
        "GET",
        &format!("/logstores/web/shards/0?type=logs&cursor={begin}&count=2&query=*+|+where+status+%3D+%27999%27"),
        &[("accept-encoding", "lz4")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.h("x-log-count"), "0");
    assert_eq!(r.h("x-log-rawdatacount"), "2");
    assert_eq!(unb64(r.h("x-log-cursor")), unb64(&begin) + 2);
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cursor_edge_cases() {
    let dir = temp_dir("cursors");
    let srv = TestServer::start(&dir, |c| c.store.default_shards = 1);
    for i in 0..5 {
        let g = access_group(&format!("h{i}"), &["200"]);
        assert_eq!(srv.put("/logstores/web/shards/lb", &g).status, 200);
    }
    let begin = unb64(&srv.cursor("web", 0, "begin"));
    let end = unb64(&srv.cursor("web", 0, "end"));
    assert_eq!(end, begin + 5);
    // count steps through the shard.
    let r = srv.pull("web", 0, &format!("cursor={}&count=2", b64(begin)), "lz4");
    assert_eq!(r.groups().len(), 2);
    assert_eq!(unb64(r.h("x-log-cursor")), begin + 2);
    assert_eq!(r.h("x-log-read-last-cursor"), (begin + 1).to_string());
    // end_cursor (Python/Go/Java) and endCursor (Rust) stop the scan.
    for name in ["end_cursor", "endCursor"] {
        let r = srv.pull(
            "web",
            0,
            &format!(
                "cursor={}&count=100&{name}={}",
                b64(begin + 1),
                b64(begin + 3)
            ),
            "lz4",
        );
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.groups().len(), 2, "{name}");
        assert_eq!(unb64(r.h("x-log-cursor")), begin + 3);
    }
    // end_cursor == cursor: nothing, cursor unchanged.
    let r = srv.pull(
        "web",
        0,
        &format!("cursor={}&end_cursor={}", b64(begin + 2), b64(begin + 2)),
        "lz4",
    );
    assert_eq!(
        (r.h("x-log-count"), unb64(r.h("x-log-cursor"))),
        ("0", begin + 2)
    );
    // An end_cursor past the tail stops at the tail.
    let r = srv.pull(
        "web",
        0,
        &format!("cursor={}&end_cursor={}", b64(begin), b64(end + 100)),
        "",
    );
    assert_eq!(unb64(r.h("x-log-cursor")), end);
    // Bad cursors.
    for bad in [
        "not-base64!".to_string(),
        b64(end + 1),
        b64(begin - 1),
        "YWJj".to_string(),
    ] {
        let r = srv.pull("web", 0, &format!("cursor={bad}&count=1"), "lz4");
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert_eq!(r.error_code(), "InvalidCursor", "{bad}");
    }
    let r = srv.pull(
        "web",
        0,
        &format!("cursor={}&end_cursor={}", b64(begin + 2), b64(begin)),
        "",
    );
    assert_eq!(r.error_code(), "InvalidCursor");
    let r = srv.pull("web", 0, "count=1", "");
    assert_eq!(r.error_code(), "InvalidCursor", "a missing cursor");
    let r = srv.pull("web", 0, &format!("cursor={}&count=0", b64(begin)), "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "ParameterInvalid")
    );
    // Unknown shard and logstore.
    let r = srv.pull("web", 7, &format!("cursor={}", b64(begin)), "");
    assert_eq!((r.status, r.error_code().as_str()), (404, "ShardNotExist"));
    let r = srv.pull("nope", 0, &format!("cursor={}", b64(begin)), "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (404, "LogStoreNotExist")
    );
    let r = srv.call("GET", "/logstores/nope/shards", &[], b"");
    assert_eq!(r.error_code(), "LogStoreNotExist");
    // GetCursor by time and GetCursorTime.
    assert_eq!(unb64(&srv.cursor("web", 0, "0")), begin);
    assert_eq!(unb64(&srv.cursor("web", 0, "99999999999")), end);
    let r = srv.call(
        "GET",
        &format!(
            "/logstores/web/shards/0?type=cursor_time&cursor={}",
            b64(begin)
        ),
        &[],
        b"",
    );
    assert!(r.json()["cursor_time"].as_u64().unwrap() > 1_600_000_000);
    let r = srv.call(
        "GET",
        "/logstores/web/shards/0?type=cursor&from=yesterday",
        &[],
        b"",
    );
    assert_eq!(r.error_code(), "ParameterInvalid");
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn restart_keeps_every_acknowledged_group() {
    let dir = temp_dir("restart");
    let srv = TestServer::start(&dir, |_| {});
    let groups: Vec<LogGroup> = (0..10)
        .map(|i| access_group(&format!("h{i}"), &["200", "500"]))
        .collect();
    for g in &groups {
        assert_eq!(srv.put("/logstores/web/shards/lb", g).status, 200);
    }
    let before: Vec<(String, String)> = (0..2)
        .map(|s| (srv.cursor("web", s, "begin"), srv.cursor("web", s, "end")))
        .collect();
    srv.stop();

    let srv = TestServer::start(&dir, |c| c.store.default_shards = 5);
    let mut got = Vec::new();
    for (s, (begin, end)) in before.iter().enumerate() {
        let s = s as u32;
        assert_eq!(&srv.cursor("web", s, "begin"), begin);
        assert_eq!(&srv.cursor("web", s, "end"), end);
        let r = srv.pull("web", s, &format!("cursor={begin}"), "lz4");
        got.extend(r.groups().iter().map(|g| g.encode_to_vec()));
    }
    let shards = srv.call("GET", "/logstores/web/shards", &[], b"").json();
    assert_eq!(
        shards.as_array().unwrap().len(),
        2,
        "the shard count is kept"
    );
    let mut want: Vec<Vec<u8>> = groups.iter().map(|g| g.encode_to_vec()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    // Writing continues after the old tail.
    assert_eq!(srv.put("/logstores/web/shards/lb", &groups[0]).status, 200);
    let ends: u64 = (0..2).map(|s| unb64(&srv.cursor("web", s, "end"))).sum();
    let old: u64 = before.iter().map(|(_, e)| unb64(e)).sum();
    assert_eq!(ends, old + 1);
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

/// (name, headers, body, expected status, expected error code)
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    Vec<u8>,
    u16,
    &'static str,
);

#[test]
fn malformed_and_oversized_bodies_are_rejected_with_4xx() {
    let dir = temp_dir("malformed");
    let srv = TestServer::start(&dir, |c| c.max_body_bytes = 64 << 10);
    let raw = access_group("h", &["200"]).encode_to_vec();
    let lz4 = lz4_flex::block::compress(&raw);
    let size = raw.len().to_string();
    let cases: Vec<Case> = vec![
        (
            "bad lz4",
            vec![
                ("x-log-compresstype", "lz4".into()),
                ("x-log-bodyrawsize", size.clone()),
            ],
            vec![0xff; 40],
            400,
            "PostBodyUncompressError",
        ),
        (
            "wrong bodyrawsize",
            vec![
                ("x-log-compresstype", "lz4".into()),
                ("x-log-bodyrawsize", (raw.len() + 7).to_string()),
            ],
            lz4.clone(),
            400,
            "PostBodyUncompressError",
        ),
        (
            "lz4 without bodyrawsize",
            vec![("x-log-compresstype", "lz4".into())],
            lz4.clone(),
            400,
            "PostBodyUncompressError",
        ),
        (
            "truncated protobuf",
            vec![],
            raw[..raw.len() - 5].to_vec(),
            400,
            "PostBodyInvalid",
        ),
        (
            "not protobuf",
            vec![],
            b"hello world".to_vec(),
            400,
            "PostBodyInvalid",
        ),
        ("empty", vec![], Vec::new(), 400, "PostBodyInvalid"),
        (
            "unknown compression",
            vec![
                ("x-log-compresstype", "snappy".into()),
                ("x-log-bodyrawsize", size.clone()),
            ],
            raw.clone(),
            400,
            "InvalidCompressType",
        ),
        (
            "declared raw size over 10 MB",
            vec![
                ("x-log-compresstype", "lz4".into()),
                ("x-log-bodyrawsize", "20000000".into()),
            ],
            lz4.clone(),
            413,
            "PostBodyTooLarge",
        ),
        (
            "body over the limit",
            vec![],
            vec![0; 100 << 10],
            413,
            "PostBodyTooLarge",
        ),
    ];
    for (name, headers, body, status, code) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = srv.call("POST", "/logstores/web/shards/lb", &headers, &body);
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert_eq!(r.error_code(), code, "{name}");
        assert!(!r.json()["errorMessage"].as_str().unwrap().is_empty());
    }
    // Nothing was stored (the logstore was never created) and the server still works.
    assert_eq!(
        srv.call("GET", "/logstores/web/shards", &[], b"")
            .error_code(),
        "LogStoreNotExist"
    );
    let zstd = zstd::bulk::compress(&raw, 1).unwrap();
    let r = srv.call(
        "POST",
        "/logstores/web/shards/route?key=ffffffffffffffffffffffffffffffff",
        &[("x-log-compresstype", "zstd"), ("x-log-bodyrawsize", &size)],
        &zstd,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(srv.cursor("web", 0, "begin"), srv.cursor("web", 0, "end"));
    assert_ne!(
        srv.cursor("web", 1, "begin"),
        srv.cursor("web", 1, "end"),
        "routed by key"
    );
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn spl_errors_are_400_with_the_diagnostic() {
    let dir = temp_dir("spl");
    let srv = TestServer::start(&dir, |_| {});
    assert_eq!(
        srv.put("/logstores/web", &access_group("h", &["500"]))
            .status,
        200
    );
    let begin = srv.cursor("web", 0, "begin");
    for (query, code) in [
        ("*%20%7C%20where%20status%20%3D%3D%20500", "E0"),
        ("*%20%7C%20stats%20c%20%3D%20count(*)", "E1006"),
        ("*%20%7C%20extend%20x%20%3D%20nope(status)", "E1001"),
    ] {
        for _ in 0..2 {
            let r = srv.pull("web", 0, &format!("cursor={begin}&query={query}"), "lz4");
            assert_eq!(r.status, 400, "{query}");
            assert_eq!(r.error_code(), "InvalidSplQuery");
            let message = r.json()["errorMessage"].as_str().unwrap().to_string();
            assert!(message.contains(code), "{query}: {message}");
            assert!(
                message.contains('^'),
                "the diagnostic points at the text: {message}"
            );
        }
    }
    let r = srv.pull("web", 0, &format!("cursor={begin}&processor=p1"), "lz4");
    assert_eq!(r.error_code(), "ParameterInvalid");
    let r = srv.call("PATCH", "/logstores/web", &[], b"");
    assert_eq!(r.status, 405);
    let r = srv.call("GET", "/", &[], b"");
    assert_eq!(r.status, 404);
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn values_that_are_not_utf8_come_back_byte_for_byte_from_a_query_that_does_not_touch_them() {
    let dir = temp_dir("bytes");
    let srv = TestServer::start(&dir, |c| c.store.default_shards = 1);
    let mut g = access_group("h\u{e9}", &["500", "200", "503"]);
    let raw: [&[u8]; 3] = [b"\xff\xfe", b"ok \xc3(", b"\x80tail"];
    for (log, bytes) in g.logs.iter_mut().zip(raw) {
        log.contents.push(LogContent {
            key: b"blob".to_vec(),
            value: bytes.to_vec(),
        });
    }
    g.topic = Some(b"t\xff".to_vec());
    assert_eq!(srv.put("/logstores/bin/shards/lb", &g).status, 200);
    let begin = srv.cursor("bin", 0, "begin");
    let blobs = |groups: &[LogGroup]| -> Vec<Vec<u8>> {
        groups
            .iter()
            .flat_map(|g| &g.logs)
            .flat_map(|l| &l.contents)
            .filter(|c| c.key == b"blob")
            .map(|c| c.value.clone())
            .collect()
    };
    // `where` on another field, `extend` of a new one, `project` keeping it: untouched.
    let query = "*%20%7C%20where%20status%20%3D%20%27500%27%20or%20status%20%3D%20%27503%27%20%7C%20extend%20n%20%3D%201%20%7C%20project%20status%2C%20blob%2C%20n";
    let r = srv.pull(
        "bin",
        0,
        &format!("cursor={begin}&count=10&query={query}"),
        "lz4",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = r.groups();
    assert_eq!(blobs(&got), vec![raw[0].to_vec(), raw[2].to_vec()]);
    assert_eq!(got[0].topic, g.topic, "the topic's bytes are kept too");
    // The identity query returns the stored group as it was put.
    let r = srv.pull("bin", 0, &format!("cursor={begin}&count=10&query=*"), "lz4");
    assert_eq!(r.groups(), vec![g.clone()]);
    // A query that reads the field sees text with U+FFFD for the invalid sequences.
    let r = srv.pull(
        "bin",
        0,
        &format!("cursor={begin}&count=10&query=*%20%7C%20where%20blob%20like%20%27ok%25%27"),
        "lz4",
    );
    assert_eq!(blobs(&r.groups()), vec!["ok \u{fffd}(".as_bytes().to_vec()]);
    srv.stop();
    std::fs::remove_dir_all(&dir).unwrap();
}

//! Logstore management, consumer groups and the regressions found with the SDKs, over real
//! HTTP: CreateLogStore/Get/List/Update/Delete with the service's naming rules, split/merge
//! refused, consumer groups (create/list/update/delete, heartbeats, checkpoints with an entry for
//! every shard) durable across a restart; a 1-shard logstore routed by hash key, empty 200
//! answers without a JSON content type, `count` over 1000 refused, logs that repeat a key
//! returned as stored by a query, and the drop policy for rows that fail a query.
mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use common::*;
use prost::Message;
use spl_engine::pipeline::ErrorPolicy;
use spl_loghub::proto::{Log, LogContent, LogGroup};
use spl_loghub::{Config, Server};

struct TestServer {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
}

impl TestServer {
    fn start(dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), dir);
        tweak(&mut config);
        let rt = spl_loghub::runtime().unwrap();
        let server = rt.block_on(Server::bind(config)).unwrap();
        let addr = server.local_addr().unwrap();
        rt.spawn(server.run_until(std::future::pending()));
        TestServer { rt: Some(rt), addr }
    }

    fn call(&self, method: &str, path: &str, body: &str) -> Resp {
        request(self.addr, method, path, &[], body.as_bytes()).unwrap()
    }

    fn ok(&self, method: &str, path: &str, body: &str) -> Resp {
        let r = self.call(method, path, body);
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
        r
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(std::time::Duration::from_secs(10));
        }
    }
}

fn cleanup(dir: PathBuf) {
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn logstores_are_created_listed_updated_and_deleted() {
    let dir = temp_dir("manage-ls");
    let srv = TestServer::start(&dir, |_| {});
    // Empty answers carry no JSON content type (the Node SDK parses any `application/json`).
    let r = srv.ok(
        "POST",
        "/logstores",
        r#"{"logstoreName":"app-logs","ttl":7,"shardCount":3}"#,
    );
    assert!(r.body.is_empty());
    assert_eq!(r.headers.get("content-type"), None);
    assert!(r.headers.contains_key("x-log-requestid"));
    srv.call(
        "POST",
        "/logstores",
        r#"{"logstoreName":"app-logs","shardCount":1}"#,
    )
    .assert_error(400, "LogStoreAlreadyExist");
    for bad in [
        r#"{"logstoreName":"ab"}"#,
        r#"{"logstoreName":"Upper"}"#,
        r#"{"logstoreName":"-dash"}"#,
        r#"{"logstoreName":"tail_"}"#,
        r#"{"logstoreName":"ok-name","shardCount":0}"#,
        r#"{"logstoreName":"ok-name","shardCount":257}"#,
        r#"{"logstoreName":"ok-name","ttl":0}"#,
        r#"{"shardCount":2}"#,
    ] {
        srv.call("POST", "/logstores", bad)
            .assert_error(400, "ParameterInvalid");
    }
    srv.call("POST", "/logstores", "not json")
        .assert_error(400, "PostBodyInvalid");
    let v = srv.ok("GET", "/logstores/app-logs", "").json();
    assert_eq!(v["logstoreName"], "app-logs");
    assert_eq!(
        (v["ttl"].as_u64(), v["shardCount"].as_u64()),
        (Some(7), Some(3))
    );
    for key in [
        "enable_tracking",
        "appendMeta",
        "autoSplit",
        "maxSplitShard",
    ] {
        assert!(!v[key].is_null(), "{key}");
    }
    assert_eq!(
        srv.ok("GET", "/logstores/app-logs/shards", "")
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
    srv.ok(
        "PUT",
        "/logstores/app-logs",
        r#"{"logstoreName":"app-logs","ttl":30,"shardCount":3}"#,
    );
    assert_eq!(srv.ok("GET", "/logstores/app-logs", "").json()["ttl"], 30);
    srv.call("PUT", "/logstores/app-logs", r#"{"ttl":30,"shardCount":4}"#)
        .assert_error(400, "Unsupported");
    srv.call(
        "POST",
        "/logstores/app-logs/shards/0?action=split&key=8",
        "",
    )
    .assert_error(400, "Unsupported");
    srv.call("POST", "/logstores/app-logs/shards/1?action=merge", "")
        .assert_error(400, "Unsupported");
    srv.call("POST", "/logstores/app-logs/shards/9?action=merge", "")
        .assert_error(404, "ShardNotExist");
    // PutLogs to a new name creates it, but only under the naming rules.
    assert_eq!(put(srv.addr, "second", &group("1", 1)).unwrap().status, 200);
    put(srv.addr, "No_Good", &group("1", 1))
        .unwrap()
        .assert_error(400, "ParameterInvalid");
    let list = srv.ok("GET", "/logstores?offset=0&size=100", "").json();
    assert_eq!(list["logstores"], serde_json::json!(["app-logs", "second"]));
    assert_eq!(
        (list["count"].as_u64(), list["total"].as_u64()),
        (Some(2), Some(2))
    );
    let page = srv
        .ok("GET", "/logstores?offset=1&size=1&logstoreName=s", "")
        .json();
    assert_eq!(page["logstores"], serde_json::json!(["second"]));
    assert_eq!(page["total"], 2);
    let r = srv.ok("DELETE", "/logstores/app-logs", "");
    assert_eq!(r.headers.get("content-type"), None);
    srv.call("GET", "/logstores/app-logs", "")
        .assert_error(404, "LogStoreNotExist");
    srv.call("DELETE", "/logstores/app-logs", "")
        .assert_error(404, "LogStoreNotExist");
    drop(srv);
    // The TTL and the deletion are durable.
    let srv = TestServer::start(&dir, |_| {});
    assert_eq!(
        srv.ok("GET", "/logstores", "").json()["logstores"],
        serde_json::json!(["second"])
    );
    drop(srv);
    cleanup(dir);
}

#[test]
fn a_one_shard_logstore_takes_hash_keyed_puts_and_count_stays_within_1000() {
    let dir = temp_dir("manage-1shard");
    let srv = TestServer::start(&dir, |_| {});
    srv.ok(
        "POST",
        "/logstores",
        r#"{"logstoreName":"one","shardCount":1}"#,
    );
    let shards = srv.ok("GET", "/logstores/one/shards", "").json();
    assert_eq!(shards[0]["inclusiveBeginKey"], "0".repeat(32));
    assert_eq!(shards[0]["exclusiveEndKey"], "f".repeat(32));
    for key in ["0".repeat(32), "f".repeat(32), "8".repeat(32)] {
        let raw = group(&key, 1).encode_to_vec();
        let r = request(
            srv.addr,
            "POST",
            &format!("/logstores/one/shards/route?key={key}"),
            &[("x-log-bodyrawsize", &raw.len().to_string())],
            &raw,
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.headers.get("content-type"), None);
    }
    assert_eq!(pull_all(srv.addr, "one").len(), 3);
    let cursor = srv
        .ok("GET", "/logstores/one/shards/0?type=cursor&from=begin", "")
        .json()["cursor"]
        .as_str()
        .unwrap()
        .replace('=', "%3D");
    for count in ["1001", "0", "-1"] {
        srv.call(
            "GET",
            &format!("/logstores/one/shards/0?type=log&cursor={cursor}&count={count}"),
            "",
        )
        .assert_error(400, "ParameterInvalid");
    }
    srv.ok(
        "GET",
        &format!("/logstores/one/shards/0?type=log&cursor={cursor}&count=1000"),
        "",
    );
    drop(srv);
    cleanup(dir);
}

fn log(time: u32, pairs: &[(&str, &str)]) -> Log {
    Log {
        time,
        time_ns: None,
        contents: pairs
            .iter()
            .map(|(k, v)| LogContent {
                key: k.as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            })
            .collect(),
    }
}

fn pull_query(addr: SocketAddr, ls: &str, query: &str) -> (Resp, Vec<LogGroup>) {
    let cursor = request(
        addr,
        "GET",
        &format!("/logstores/{ls}/shards/0?type=cursor&from=begin"),
        &[],
        b"",
    )
    .unwrap()
    .json()["cursor"]
        .as_str()
        .unwrap()
        .replace('=', "%3D");
    let q: String = query
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let r = request(
        addr,
        "GET",
        &format!("/logstores/{ls}/shards/0?type=log&cursor={cursor}&count=100&query={q}"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    let groups = r.groups();
    (r, groups)
}

#[test]
fn logs_that_repeat_a_key_come_back_as_stored_when_a_query_leaves_them_unchanged() {
    let dir = temp_dir("manage-dup");
    let srv = TestServer::start(&dir, |_| {});
    srv.ok(
        "POST",
        "/logstores",
        r#"{"logstoreName":"dups","shardCount":1}"#,
    );
    let stored = LogGroup {
        logs: vec![
            log(1, &[("k", "first"), ("status", "500"), ("k", "last")]),
            log(2, &[("k", "a"), ("status", "200"), ("k", "b")]),
            log(3, &[("status", "503"), ("uri", "/x")]),
        ],
        topic: Some(b"t".to_vec()),
        ..LogGroup::default()
    };
    assert_eq!(put(srv.addr, "dups", &stored).unwrap().status, 200);
    // A filter leaves rows unchanged: they come back with every repeated key, in stored order.
    let (_, got) = pull_query(srv.addr, "dups", "* | where status <> '200'");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].logs,
        vec![stored.logs[0].clone(), stored.logs[2].clone()]
    );
    // A projection changes rows: they are what the query made (the engine's one value per key).
    let (_, got) = pull_query(srv.addr, "dups", "* | where status = '500' | project k");
    assert_eq!(got[0].logs, vec![log(1, &[("k", "last")])]);
    drop(srv);
    cleanup(dir);
}

#[test]
fn rows_that_fail_are_passed_through_by_default_or_dropped_when_configured() {
    let query = "* | where cast(status as bigint) >= 500 | project status, uri";
    let stored = LogGroup {
        logs: vec![
            log(1, &[("status", "503"), ("uri", "/a"), ("ua", "x")]),
            log(2, &[("status", "abc"), ("uri", "/b"), ("ua", "y")]),
            log(3, &[("status", "200"), ("uri", "/c"), ("ua", "z")]),
        ],
        ..LogGroup::default()
    };
    for (policy, expect) in [
        (
            ErrorPolicy::PassThrough,
            vec![
                log(1, &[("status", "503"), ("uri", "/a")]),
                stored.logs[1].clone(),
            ],
        ),
        (
            ErrorPolicy::Drop,
            vec![log(1, &[("status", "503"), ("uri", "/a")])],
        ),
    ] {
        let dir = temp_dir("manage-policy");
        let srv = TestServer::start(&dir, |c| c.pushdown_failures = policy);
        srv.ok(
            "POST",
            "/logstores",
            r#"{"logstoreName":"web","shardCount":1}"#,
        );
        assert_eq!(put(srv.addr, "web", &stored).unwrap().status, 200);
        let (r, got) = pull_query(srv.addr, "web", query);
        let logs: Vec<Log> = got.into_iter().flat_map(|g| g.logs).collect();
        assert_eq!(logs, expect, "{policy:?}");
        assert_eq!(r.headers["x-log-failedlines"], "1", "{policy:?}");
        drop(srv);
        cleanup(dir);
    }
}

#[test]
fn consumer_groups_balance_checkpoint_and_survive_a_restart() {
    let dir = temp_dir("manage-cg");
    let srv = TestServer::start(&dir, |_| {});
    srv.call("GET", "/logstores/nope/consumergroups", "")
        .assert_error(404, "LogStoreNotExist");
    srv.ok(
        "POST",
        "/logstores",
        r#"{"logstoreName":"web","shardCount":2}"#,
    );
    let base = "/logstores/web/consumergroups";
    let r = srv.ok(
        "POST",
        base,
        r#"{"consumerGroup":"cg-1","timeout":30,"order":false}"#,
    );
    assert_eq!(r.headers.get("content-type"), None);
    srv.call(
        "POST",
        base,
        r#"{"consumerGroup":"cg-1","timeout":30,"order":false}"#,
    )
    .assert_error(400, "ConsumerGroupAlreadyExist");
    srv.call("POST", base, r#"{"consumerGroup":"Bad Name","timeout":30}"#)
        .assert_error(400, "ParameterInvalid");
    srv.call("POST", base, r#"{"consumerGroup":"cg-2","timeout":0}"#)
        .assert_error(400, "ParameterInvalid");
    srv.ok(
        "PUT",
        &format!("{base}/cg-1"),
        r#"{"order":true,"timeout":20}"#,
    );
    srv.call("PUT", &format!("{base}/none"), r#"{"timeout":20}"#)
        .assert_error(404, "ConsumerGroupNotExist");
    assert_eq!(
        srv.ok("GET", base, "").json(),
        serde_json::json!([{"name": "cg-1", "timeout": 20, "order": true}])
    );
    // No checkpoint yet: an entry per shard with an empty checkpoint.
    let all = srv.ok("GET", &format!("{base}/cg-1"), "").json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[1]["shard"], 1);
    assert_eq!(all[1]["checkpoint"], "");
    assert_eq!(
        srv.ok("GET", &format!("{base}/cg-1?shard=1"), "").json()[0]["checkpoint"],
        ""
    );
    assert_eq!(
        srv.ok("GET", &format!("{base}/cg-1?shard=7"), "").json(),
        serde_json::json!([])
    );
    // Heartbeats: the first consumer gets both shards; a second waits until one is let go.
    let hb = |c: &str, held: &str| {
        srv.ok(
            "POST",
            &format!("{base}/cg-1?type=heartbeat&consumer={c}"),
            held,
        )
        .json()
    };
    assert_eq!(hb("a", "[]"), serde_json::json!([0, 1]));
    assert_eq!(hb("b", "[]"), serde_json::json!([]));
    assert_eq!(hb("a", "[0, 1]"), serde_json::json!([0]));
    assert_eq!(
        hb("b", "[]"),
        serde_json::json!([]),
        "a still reports shard 1"
    );
    assert_eq!(hb("a", "[0]"), serde_json::json!([0]));
    assert_eq!(hb("b", "[]"), serde_json::json!([1]));
    srv.call(
        "POST",
        &format!("{base}/cg-1?type=heartbeat&consumer=a"),
        "{}",
    )
    .assert_error(400, "PostBodyInvalid");
    srv.call("POST", &format!("{base}/cg-1?type=heartbeat"), "[]")
        .assert_error(400, "ParameterInvalid");
    srv.call(
        "POST",
        &format!("{base}/nope?type=heartbeat&consumer=a"),
        "[]",
    )
    .assert_error(404, "ConsumerGroupNotExist");
    // Checkpoints: the holder writes; another consumer cannot take the shard's progress back.
    let ckpt = |c: &str, force: &str, body: &str| {
        srv.call(
            "POST",
            &format!("{base}/cg-1?type=checkpoint&consumer={c}&forceSuccess={force}"),
            body,
        )
    };
    let r = ckpt("b", "True", r#"{"shard":1,"checkpoint":"MTIz"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.headers.get("content-type"), None);
    ckpt("a", "true", r#"{"shard":1,"checkpoint":"MTI0"}"#).assert_error(400, "ConsumerNotMatch");
    ckpt("zed", "false", r#"{"shard":0,"checkpoint":"MTI0"}"#)
        .assert_error(400, "ConsumerNotMatch");
    ckpt("b", "true", r#"{"shard":1,"checkpoint":"not a cursor"}"#)
        .assert_error(400, "InvalidShardCheckPoint");
    ckpt("b", "true", r#"{"shard":5,"checkpoint":"MTIz"}"#).assert_error(404, "ShardNotExist");
    let one = srv.ok("GET", &format!("{base}/cg-1?shard=1"), "").json();
    assert_eq!(one[0]["checkpoint"], "MTIz");
    assert_eq!(one[0]["consumer"], "b");
    assert!(one[0]["updateTime"].as_u64().unwrap() > 1_600_000_000_000_000);
    drop(srv);

    // Groups and checkpoints are durable; membership starts over (shards a consumer reports are
    // confirmed at once, others wait for the group's timeout).
    let srv = TestServer::start(&dir, |_| {});
    assert_eq!(
        srv.ok("GET", base, "").json(),
        serde_json::json!([{"name": "cg-1", "timeout": 20, "order": true}])
    );
    let all = srv.ok("GET", &format!("{base}/cg-1"), "").json();
    assert_eq!(
        (all[0]["checkpoint"].as_str(), all[1]["checkpoint"].as_str()),
        (Some(""), Some("MTIz"))
    );
    assert_eq!(
        srv.ok(
            "POST",
            &format!("{base}/cg-1?type=heartbeat&consumer=b"),
            "[1]"
        )
        .json(),
        serde_json::json!([1])
    );
    srv.ok("DELETE", &format!("{base}/cg-1"), "");
    srv.call("DELETE", &format!("{base}/cg-1"), "")
        .assert_error(404, "ConsumerGroupNotExist");
    assert_eq!(srv.ok("GET", base, "").json(), serde_json::json!([]));
    drop(srv);
    cleanup(dir);
}

#[test]
fn without_keys_the_server_listens_on_loopback_only_unless_told_otherwise() {
    let dir = temp_dir("manage-anon");
    let rt = spl_loghub::runtime().unwrap();
    let open = Config::new("0.0.0.0:0".parse().unwrap(), &dir);
    let e = rt
        .block_on(Server::bind(open.clone()))
        .err()
        .expect("refused");
    assert!(e.to_string().contains("--allow-anonymous"), "{e}");
    let mut anyone = open.clone();
    anyone.allow_anonymous = true;
    assert!(rt.block_on(Server::bind(anyone)).is_ok());
    let mut keyed = open;
    keyed.keys = Some(spl_loghub::auth::Keys::single("ak", "secret"));
    assert!(rt.block_on(Server::bind(keyed)).is_ok());
    drop(rt);
    cleanup(dir);
}

#[test]
fn with_keys_unsigned_and_wrongly_signed_requests_are_refused() {
    let dir = temp_dir("manage-keys");
    let srv = TestServer::start(&dir, |c| {
        c.keys = Some(spl_loghub::auth::Keys::single("ak", "secret"))
    });
    srv.call("GET", "/logstores", "")
        .assert_error(401, "Unauthorized");
    let date = chrono::Utc::now().to_rfc2822().replace("+0000", "GMT");
    let get = |secret: &str, date: &str| {
        let text = format!("GET\n\n\n{date}\nx-log-apiversion:0.6.0\n/logstores?offset=0");
        let auth = format!("LOG ak:{}", spl_loghub::auth::sign(secret, &text));
        request(
            srv.addr,
            "GET",
            "/logstores?offset=0",
            &[
                ("authorization", auth.as_str()),
                ("date", date),
                ("x-log-apiversion", "0.6.0"),
            ],
            b"",
        )
        .unwrap()
    };
    assert_eq!(get("secret", &date).status, 200);
    get("nope", &date).assert_error(401, "SignatureNotMatch");
    get("secret", "Mon, 01 Jan 2024 00:00:00 GMT").assert_error(400, "RequestTimeExpired");
    drop(srv);
    cleanup(dir);
}

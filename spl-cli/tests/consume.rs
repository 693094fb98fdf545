//! `spl consume` from the outside: `spl serve` with keys on a 4-shard logstore, rows put with
//! signed PutLogs, three workers in one group with a pushed-down query, one killed with SIGKILL
//! mid-run. The union of their outputs holds every matching row with only the projected fields;
//! duplicates are counted, printed, and allowed only for rows the killed worker wrote (its last
//! unsaved batch per shard: at-least-once). Unsigned and wrongly signed requests are refused, and
//! `--local` gives the same rows as pushdown.
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prost::Message;
use spl_loghub::client::{AccessKey, Client};
use spl_loghub::proto::{Log, LogContent, LogGroup};

const QUERY: &str = "* | where status >= 500 | extend kind = 'error' | project id, uri, kind";
const ROWS_PER_GROUP: u32 = 5;
const BATCH: u32 = 2;

struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("spl-consume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn serve(name: &str) -> Server {
    let dir = temp_dir(name);
    std::fs::write(dir.join("keys"), "# test keys\nak1:s3cret\n").unwrap();
    let (child, addr) = serve_at(&dir, "127.0.0.1:0");
    Server { child, addr, dir }
}

/// `spl serve` over the data and keys in `dir`, listening on `listen`.
fn serve_at(dir: &Path, listen: &str) -> (Child, String) {
    common::start_serve(
        Command::new(env!("CARGO_BIN_EXE_spl"))
            .args(["serve", "--listen", listen, "--shards", "4", "--keys-file"])
            .arg(dir.join("keys"))
            .arg("--data-dir")
            .arg(dir.join("data")),
    )
}

fn key() -> AccessKey {
    AccessKey {
        id: "ak1".into(),
        secret: "s3cret".into(),
    }
}

/// Puts groups `from..to` (ROWS_PER_GROUP rows each); row n has status 500 when n.is_multiple_of(3).
fn put(server: &Server, from: u32, to: u32) {
    let client = Client::new(&server.addr, "demo", Some(key())).unwrap();
    for g in from..to {
        let logs = (0..ROWS_PER_GROUP)
            .map(|i| {
                let n = g * ROWS_PER_GROUP + i;
                let kv = |k: &str, v: String| LogContent {
                    key: k.as_bytes().to_vec(),
                    value: v.into_bytes(),
                };
                Log {
                    time: 1_700_000_000 + n,
                    contents: vec![
                        kv("id", format!("r{n}")),
                        kv(
                            "status",
                            if n.is_multiple_of(3) { "500" } else { "200" }.into(),
                        ),
                        kv("uri", format!("/p/{n}")),
                        kv("agent", "curl".into()),
                    ],
                    time_ns: None,
                }
            })
            .collect();
        let group = LogGroup {
            logs,
            ..Default::default()
        };
        let r = client.put_logs("web", &group.encode_to_vec()).unwrap();
        assert_eq!(r.status, 200, "{}", r.error_text());
    }
}

fn expected_ids(groups: u32) -> BTreeSet<String> {
    (0..groups * ROWS_PER_GROUP)
        .filter(|n| n.is_multiple_of(3))
        .map(|n| format!("r{n}"))
        .collect()
}

fn consume(server: &Server, group: &str, name: &str, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["consume", "--endpoint"])
        .arg(format!("http://{}", server.addr))
        .args(["--project", "demo", "--logstore", "web", "--group", group])
        .args(["--consumer", name, "--query", QUERY])
        .args(["--heartbeat-interval", "0.2", "--timeout", "2"])
        .args(["--batch", &BATCH.to_string()])
        .arg("--output-dir")
        .arg(out)
        .args(extra)
        .env("SPL_ACCESS_KEY_ID", "ak1")
        .env("SPL_ACCESS_KEY_SECRET", "s3cret")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spl consume starts")
}

/// Every output row of the JSON-lines files under `dir`.
fn rows_in(dir: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut rows = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return rows;
    };
    for e in entries {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        // A line being written may be incomplete: only whole lines count.
        for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            rows.push(v.as_object().unwrap().clone());
        }
    }
    rows
}

fn ids_in(dir: &Path) -> Vec<String> {
    rows_in(dir)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// Waits (polling; the limit only turns a hang into a failure) until `done` holds.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM, then the exit status and stderr.
fn terminate(mut child: Child) -> (bool, String) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.success(), err)
}

#[test]
fn three_workers_share_a_group_and_survive_a_kill() {
    let server = serve("group");
    put(&server, 0, 10);
    let root = temp_dir("group-out");
    let outs: Vec<PathBuf> = (1..=3).map(|i| root.join(format!("c{i}"))).collect();
    let mut workers: Vec<Option<Child>> = outs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            Some(consume(
                &server,
                "workers",
                &format!("c{}", i + 1),
                out,
                &[],
            ))
        })
        .collect();
    // Rows keep arriving, one group at a time; c1 is killed once it has written rows (it holds
    // a shard once the group is balanced), and 40 more groups follow.
    let mut c1 = workers[0].take().unwrap();
    let (mut put_groups, mut killed_at) = (10, None);
    while killed_at.is_none_or(|k| put_groups < k + 40) {
        assert!(put_groups < 100_000, "c1 never wrote a row");
        put(&server, put_groups, put_groups + 1);
        put_groups += 1;
        if killed_at.is_none() {
            if let Some(status) = c1.try_wait().unwrap() {
                let mut err = String::new();
                c1.stderr.take().unwrap().read_to_string(&mut err).unwrap();
                panic!("c1 ended early ({status}): {err}");
            }
            if !ids_in(&outs[0]).is_empty() {
                c1.kill().unwrap();
                c1.wait().unwrap();
                killed_at = Some(put_groups);
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = c1.kill();
    let _ = c1.wait();
    let expected = expected_ids(put_groups);
    wait_for("every matching row", || {
        let seen: BTreeSet<String> = outs.iter().flat_map(|o| ids_in(o)).collect();
        seen.is_superset(&expected)
    });
    for w in workers.iter_mut().skip(1) {
        let (ok, err) = terminate(w.take().unwrap());
        assert!(ok, "worker failed: {err}");
        assert!(err.contains("stopped;"), "{err}");
    }

    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for out in &outs {
        for row in rows_in(out) {
            let mut keys: Vec<&str> = row.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                ["id", "kind", "uri"],
                "only the projected fields: {row:?}"
            );
            assert_eq!(row["kind"], "error");
            let id = row["id"].as_str().unwrap().to_string();
            let n: u32 = id[1..].parse().unwrap();
            assert_eq!(row["uri"], format!("/p/{n}"));
            *count.entry(id).or_default() += 1;
        }
    }
    let seen: BTreeSet<String> = count.keys().cloned().collect();
    assert_eq!(seen, expected, "the union is exactly the matching rows");
    let dups: Vec<(&String, &usize)> = count.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "duplicates (at-least-once window of the killed worker): {}: {dups:?}",
        dups.len()
    );
    // Only rows the killed worker wrote can come again, at most its last unsaved batch per
    // shard (4 shards x BATCH groups x matching rows per group), each at most twice.
    let c1_ids: BTreeSet<String> = ids_in(&outs[0]).into_iter().collect();
    for (id, n) in &dups {
        assert!(
            c1_ids.contains(*id),
            "{id} duplicated though the killed worker never wrote it"
        );
        assert_eq!(**n, 2, "{id} written {n} times");
    }
    assert!(dups.len() as u32 <= 4 * BATCH * ROWS_PER_GROUP.div_ceil(3) + 4);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn local_gives_the_same_rows_as_pushdown() {
    let server = serve("local");
    put(&server, 0, 30);
    let root = temp_dir("local-out");
    let (pushed, local) = (root.join("pushdown"), root.join("local"));
    let a = consume(&server, "gp", "p", &pushed, &[]);
    let b = consume(&server, "gl", "l", &local, &["--local"]);
    let expected = expected_ids(30);
    wait_for("both outputs", || {
        ids_in(&pushed).len() >= expected.len() && ids_in(&local).len() >= expected.len()
    });
    for w in [a, b] {
        let (ok, err) = terminate(w);
        assert!(ok, "{err}");
    }
    let sorted = |dir: &Path| {
        let mut rows: Vec<String> = rows_in(dir)
            .into_iter()
            .map(|r| serde_json::Value::Object(r).to_string())
            .collect();
        rows.sort();
        rows
    };
    let (p, l) = (sorted(&pushed), sorted(&local));
    assert_eq!(p.len(), expected.len());
    assert_eq!(p, l);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_server_restart_costs_the_worker_a_wait_not_its_life() {
    let mut server = serve("restart");
    put(&server, 0, 6);
    let out = temp_dir("restart-out");
    let worker = consume(&server, "gr", "r", &out, &["--stats"]);
    wait_for("the first rows", || {
        ids_in(&out).len() >= expected_ids(6).len()
    });
    // The server goes away; the worker keeps calling and backs off.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let (child, addr) = serve_at(&server.dir, &server.addr);
    assert_eq!(addr, server.addr);
    server.child = child;
    put(&server, 6, 12);
    let expected = expected_ids(12);
    wait_for("the rows put after the restart", || {
        ids_in(&out).into_iter().collect::<BTreeSet<_>>() == expected
    });
    let (ok, err) = terminate(worker);
    assert!(ok, "{err}");
    assert!(err.contains("retrying in"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_worker_gives_up_after_retry_for() {
    let server = serve("giveup");
    let addr = server.addr.clone();
    drop(server); // nothing listens there any more
    let out = temp_dir("giveup-out");
    let o = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["consume", "--endpoint"])
        .arg(format!("http://{addr}"))
        .args(["--project", "demo", "--logstore", "web", "--group", "g"])
        .args(["--retry-for", "1", "--output-dir"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("retrying in"), "{err}");
    assert!(err.contains("retried for"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn unsigned_and_wrongly_signed_requests_are_refused() {
    let server = serve("auth");
    put(&server, 0, 2);
    // No signature at all.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    write!(
        s,
        "GET /logstores/web/shards HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // The right key id with the wrong secret.
    let wrong = AccessKey {
        id: "ak1".into(),
        secret: "guess".into(),
    };
    let r = Client::new(&server.addr, "demo", Some(wrong))
        .unwrap()
        .request("GET", "/logstores/web/shards", &[], &[])
        .unwrap();
    assert_eq!(
        (r.status, r.error_code().as_deref()),
        (401, Some("SignatureNotMatch"))
    );
    // The signed request passes.
    let r = Client::new(&server.addr, "demo", Some(key()))
        .unwrap()
        .request("GET", "/logstores/web/shards", &[], &[])
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.error_text());
    // spl consume with a wrong secret stops with the server's refusal.
    let out = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["consume", "--endpoint", &server.addr, "--project", "demo"])
        .args([
            "--logstore",
            "web",
            "--group",
            "g",
            "--access-key-id",
            "ak1",
        ])
        .args(["--access-key-secret", "guess"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SignatureNotMatch"), "{err}");
}

#[test]
fn bad_flags_are_refused() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_spl"))
            .args([
                "consume",
                "--endpoint",
                "http://127.0.0.1:1",
                "--project",
                "p",
            ])
            .args(["--logstore", "l", "--group", "g"])
            .args(args)
            .output()
            .unwrap()
    };
    for (args, message) in [
        (&["--local"][..], "--local needs"),
        (&["--from", "yesterday"][..], "--from must be"),
        (&["--heartbeat-interval", "0"][..], "--heartbeat-interval"),
        (
            &["--access-key-id", "x"][..],
            "both the access key id and secret",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    // Nothing listens on port 1: a clear error, exit 1 (at once without retries).
    let out = run(&["--retry-for", "0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect"));
}

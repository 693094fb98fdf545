//! Faults against the real server binary: kill -9 during concurrent PutLogs (every acknowledged
//! log comes back after a restart, over many rounds), and a full disk (an injected ENOSPC, and a
//! tiny tmpfs when this machine lets the test mount one): PutLogs fails with a JSON error,
//! nothing acknowledged is lost, reads keep working.
mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;

struct Running {
    child: Child,
    addr: SocketAddr,
}

/// Starts `spl-loghub-server` on a free port over `dir`; `env` adds variables.
fn start(dir: &Path, env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_spl-loghub-server"))
        .args(["--listen", "127.0.0.1:0", "--shards", "2", "--data-dir"])
        .arg(dir)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Running { child, addr }
}

impl Running {
    fn kill9(mut self) {
        // SIGKILL on Unix.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn kill_9_during_concurrent_writes_loses_no_acknowledged_log() {
    let dir = temp_dir("kill9");
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    for round in 0..10 {
        let srv = start(&dir, &[]);
        // The store reopened cleanly: everything acknowledged so far is there.
        let have: BTreeSet<String> = if round == 0 {
            BTreeSet::new()
        } else {
            ids(&pull_all(srv.addr, "kill")).into_iter().collect()
        };
        let missing: Vec<String> = acked.lock().unwrap().difference(&have).cloned().collect();
        assert!(missing.is_empty(), "round {round}: lost {missing:?}");
        // Four writers; the server is killed once they have 40 acknowledgements between them.
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (stop, count, acked, addr) =
                    (stop.clone(), count.clone(), acked.clone(), srv.addr);
                std::thread::spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let id = format!("r{round}-w{w}-{i}");
                        i += 1;
                        match put(addr, "kill", &group(&id, 300)) {
                            Ok(r) if r.status == 200 => {
                                acked.lock().unwrap().insert(id);
                                count.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(r) => panic!("{id}: {} {}", r.status, r.text()),
                            // The server is gone: this write was not acknowledged.
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        // (If every writer stopped early, the joins below report why.)
        while count.load(Ordering::Relaxed) < 40 && !writers.iter().all(|w| w.is_finished()) {
            std::thread::yield_now();
        }
        srv.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        assert!(count.load(Ordering::Relaxed) >= 40, "round {round}");
    }
    let srv = start(&dir, &[]);
    let have: Vec<String> = ids(&pull_all(srv.addr, "kill"));
    let set: BTreeSet<&String> = have.iter().collect();
    assert_eq!(set.len(), have.len(), "no log is stored twice");
    let acked = acked.lock().unwrap();
    assert!(acked.len() >= 400);
    eprintln!(
        "kill -9: 10 rounds, {} acknowledged logs, {} stored, none lost",
        acked.len(),
        have.len()
    );
    for id in acked.iter() {
        assert!(set.contains(id), "acknowledged {id} was lost");
    }
    drop(srv);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The disk-full scenario on a running server whose writes start failing when `fill` is
/// called: PutLogs fails with a JSON error, reads return every acknowledged log, and after
/// `unfill` and a restart nothing acknowledged is missing.
fn disk_full(
    dir: &Path,
    env: &[(&str, &str)],
    fill: impl Fn(SocketAddr) -> usize,
    unfill: impl Fn(),
) {
    let srv = start(dir, env);
    let mut acked = Vec::new();
    for i in 0..10 {
        let id = format!("before-{i}");
        let r = put(srv.addr, "full", &group(&id, 100)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        acked.push(id);
    }
    let filled = fill(srv.addr);
    for i in 0..5 {
        let r = put(srv.addr, "full", &group(&format!("during-{i}"), 10_000)).unwrap();
        r.assert_error(507, "StorageFull");
        assert!(r.text().contains("full"), "{}", r.text());
        // Reads keep working and return everything acknowledged.
        let have: BTreeSet<String> = ids(&pull_all(srv.addr, "full")).into_iter().collect();
        for id in &acked {
            assert!(have.contains(id), "{id} unreadable while the disk is full");
        }
        assert_eq!(have.len(), acked.len() + filled);
    }
    unfill();
    let r = put(srv.addr, "full", &group("after", 100)).unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    acked.push("after".to_string());
    srv.kill9();
    let srv = start(dir, &[]);
    let have: BTreeSet<String> = ids(&pull_all(srv.addr, "full")).into_iter().collect();
    for id in &acked {
        assert!(have.contains(id), "{id} lost after the disk was full");
    }
    assert!(have.iter().all(|id| !id.starts_with("during-")));
}

#[test]
fn an_injected_full_disk_fails_putlogs_with_a_json_error_and_keeps_reads() {
    let dir = temp_dir("enospc");
    let flag = dir.with_extension("full");
    let flag_text = flag.to_string_lossy().into_owned();
    disk_full(
        &dir,
        &[(spl_loghub::args::FAULT_DISK_FULL_ENV, flag_text.as_str())],
        |_| {
            std::fs::write(&flag, b"").unwrap();
            0
        },
        || std::fs::remove_file(&flag).unwrap(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A real full disk: a 1 MiB tmpfs as the data directory, filled by PutLogs until the first
/// failure. Needs permission to mount; where that is not given the test says so and returns
/// (the injected variant above covers the server's side).
#[test]
fn a_full_tmpfs_fails_putlogs_with_a_json_error_and_keeps_reads() {
    let dir: PathBuf = temp_dir("tmpfs");
    std::fs::create_dir_all(&dir).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here");
        std::fs::remove_dir_all(&dir).unwrap();
        return;
    }
    let unmount = || {
        let _ = Command::new("umount").arg(&dir).status();
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        disk_full(
            &dir,
            &[],
            |addr| {
                // Fill it: writes of 10 kB until one fails (that one is not acknowledged).
                let mut n = 0;
                loop {
                    let r = put(addr, "full", &group(&format!("fill-{n}"), 10_000)).unwrap();
                    if r.status != 200 {
                        r.assert_error(507, "StorageFull");
                        eprintln!("tmpfs of 1 MiB full after {n} PutLogs of 10 kB");
                        return n;
                    }
                    n += 1;
                    assert!(n < 1000, "a 1 MiB tmpfs never filled up");
                }
            },
            || {
                // Make room, as an operator would: grow the filesystem.
                let ok = Command::new("mount")
                    .args(["-o", "remount,size=8m"])
                    .arg(&dir)
                    .status()
                    .is_ok_and(|s| s.success());
                assert!(ok, "remount");
            },
        )
    }));
    unmount();
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

//! The C example `examples/agent.c`, compiled with the system C compiler against the static
//! library of this build and run on files: results, chunking at 512 KB, tags, time, budgets
//! under pass-through, invalid UTF-8, compile errors.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The directory of this build's artifacts (`target/debug`), from the test executable's path.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/debug/deps/agent-HASH → target/debug
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

fn work_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("spl-capi-agent-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Builds `agent` once per test process.
fn agent() -> &'static Path {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        // `cargo test` builds the static library into target/debug/deps (fresh for this build);
        // only `cargo build` copies it up to target/debug.
        let lib = [
            target_dir().join("deps/libspl_capi.a"),
            target_dir().join("libspl_capi.a"),
        ]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("libspl_capi.a not built in {}", target_dir().display()));
        let out = work_dir().join("agent");
        let status = Command::new("cc")
            .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
            .arg(manifest.join("include"))
            .arg(manifest.join("examples/agent.c"))
            .arg(&lib)
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&out)
            .output()
            .expect("run cc");
        assert!(
            status.status.success(),
            "cc failed: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        out
    })
}

fn run(spl: &str, input: &[u8], env: &[(&str, &str)]) -> Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = work_dir().join(format!("input-{n}.log"));
    std::fs::write(&file, input).unwrap();
    let mut cmd = Command::new(agent());
    cmd.arg(spl).arg(&file).env("SPL_AGENT_TIME", "1700000000");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run agent");
    let _ = std::fs::remove_file(&file);
    out
}

fn rows(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8 output")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn parses_filters_and_prints_json_lines() {
    let out = run(
        "* | parse-regexp content, '(\\S+) (\\S+) (\\d+)' as method, path, status \
         | where cast(status as bigint) >= 500 | extend slow = 'yes'",
        b"GET /a 200\nPOST /b 500\r\nshort\nPUT /\"q\" 503",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let got = rows(&out);
    assert_eq!(
        got,
        vec![
            serde_json::json!({"__time__": 1700000000, "content": "POST /b 500", "method": "POST", "path": "/b", "status": "500", "slow": "yes"}),
            serde_json::json!({"__time__": 1700000000, "content": "PUT /\"q\" 503", "method": "PUT", "path": "/\"q\"", "status": "503", "slow": "yes"}),
        ]
    );
    assert!(
        stderr(&out).contains("rows_in=4 rows_out=2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn reads_in_512_kb_chunks_without_losing_or_splitting_lines() {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < 1_300_000 {
        text.push_str(&format!("line {n} {}\n", "x".repeat(n % 97)));
        n += 1;
    }
    let out = run("* | where content like 'line %'", text.as_bytes(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<String> = rows(&out)
        .iter()
        .map(|r| r["content"].as_str().unwrap().to_string())
        .collect();
    let want: Vec<&str> = text.lines().collect();
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(a, b)| a == b));
    // 1.3 MB in 512 KB chunks.
    assert!(stderr(&out).contains("batches=3 "), "{}", stderr(&out));
}

#[test]
fn tags_and_time_from_the_pipeline() {
    let out = run(
        "* | extend \"__tag__:level\" = split_part(content, ' ', 1) \
         | extend __time__ = if(content like '%keep%', 1600000000, 0)",
        b"INFO keep\nWARN x\nINFO y\n",
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        rows(&out),
        vec![
            serde_json::json!({"__time__": 1600000000, "__tag__:level": "INFO", "content": "INFO keep"}),
            // A fallback time takes both input parts; a kept time without one has none.
            serde_json::json!({"__time__": 1700000000, "__time_ns_part__": 0, "__tag__:level": "INFO", "content": "INFO y"}),
            serde_json::json!({"__time__": 1700000000, "__time_ns_part__": 0, "__tag__:level": "WARN", "content": "WARN x"}),
        ]
    );
}

#[test]
fn over_budget_batches_pass_through_unchanged() {
    let input = b"a 1\nb 2\nc 3\n";
    let out = run(
        "* | parse-regexp content, '(\\S+) (\\S+)' as k, v | extend w = upper(k)",
        input,
        &[("SPL_AGENT_MAX_MEMORY", "64")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("SPL_ERR_MEMORY_EXCEEDED"),
        "{}",
        stderr(&out)
    );
    let got: Vec<Value> = rows(&out);
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[2],
        serde_json::json!({"__time__": 1700000000, "content": "c 3"})
    );
    assert!(stderr(&out).contains("budget_exceeded=1"));
    // Under the fail policy the batch is reported and nothing is printed.
    let out = run(
        "* | parse-regexp content, '(\\S+) (\\S+)' as k, v",
        input,
        &[("SPL_AGENT_MAX_MEMORY", "64"), ("SPL_AGENT_POLICY", "fail")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(rows(&out).is_empty());
}

#[test]
fn invalid_utf8_lines_are_repaired() {
    let out = run("* | extend n = length(content)", b"ok\n\xff\xfeok\n", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let got = rows(&out);
    assert_eq!(got[1]["content"], "\u{fffd}\u{fffd}ok");
    assert_eq!(got[1]["n"], "4");
}

#[test]
fn compile_errors_print_diagnostics() {
    let out = run("* | where", b"x\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("SPL_ERR_COMPILE"), "{err}");
    let json = err.lines().nth(1).unwrap_or_default();
    let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert_eq!(v[0]["severity"], "error");
}

#[test]
fn three_stage_pipeline_over_512_kb_chunks() {
    // Not a timing assertion: reports the per-chunk time for the record.
    let line = "10.57.12.190 - - [14/Nov/2023:22:13:20 +0000] \"GET /static/app.js?id=96531 HTTP/1.1\" 302 48540 \"-\" \"python-requests/2.31.0\"\n";
    let text = line.repeat(2 * 1024 * 1024 / line.len());
    let out = run(
        "* | parse-regexp content, '^(\\S+) \\S+ \\S+ \\[([^\\]]*)\\] \"(\\S+) (\\S+) [^\"]*\" (\\d+) (\\d+)' as ip, ts, method, path, status, bytes \
         | where cast(status as bigint) >= 300 | extend kb = cast(bytes as double) / 1024",
        text.as_bytes(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let got = rows(&out);
    assert_eq!(got.len(), text.lines().count());
    assert_eq!(got[0]["kb"], "47.40234375");
    eprintln!("{}", stderr(&out));
}

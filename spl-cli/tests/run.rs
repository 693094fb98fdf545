//! End-to-end tests of `spl run`: every flag, input and output format, profiles, threads,
//! multiple outputs, compressed inputs and bad input (invalid UTF-8, long lines, malformed
//! JSON, empty and missing files), run against the real binary on `testdata/logs`.
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;

fn spl() -> Command {
    Command::cargo_bin("spl").expect("spl binary")
}

fn logs(name: &str) -> String {
    format!("{}/../testdata/logs/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// What a run printed and how it ended.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> &Out {
        assert_eq!(self.code, Some(0), "stderr: {}", self.stderr);
        self
    }

    fn json(&self) -> Vec<Value> {
        json_lines(&self.stdout)
    }
}

fn out_of(o: std::process::Output) -> Out {
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn run(args: &[&str]) -> Out {
    out_of(spl().args(args).output().unwrap())
}

fn run_stdin(args: &[&str], stdin: impl Into<Vec<u8>>) -> Out {
    out_of(spl().args(args).write_stdin(stdin).output().unwrap())
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spl-run-test")
        .tempdir()
        .unwrap()
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_str().unwrap().to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).unwrap()
}

/// JSON lines of a few MB (several 1 MiB chunks): `i` counts up, `lvl` cycles, every 997th
/// line is malformed.
fn big_jsonl(lines: usize) -> String {
    let mut s = String::new();
    for i in 0..lines {
        if i % 997 == 500 {
            s.push_str(&format!("{{\"i\":{i}, broken\n"));
        } else {
            s.push_str(&format!(
                "{{\"i\":{i},\"lvl\":\"{}\",\"pad\":\"{}\"}}\n",
                ["a", "b", "c"][i % 3],
                "x".repeat(i % 61)
            ));
        }
    }
    s
}

const TWO_OUTPUTS: &str = ".let errs = * | where level = 'ERROR' | project service, msg;
.let slow = * | where cast(duration_ms as bigint) > 2000 | project service, duration_ms;
$errs;
$slow;
";

// ---------------------------------------------------------------- input formats

#[test]
fn auto_input_detects_json_raw_and_csv_by_extension() {
    let json = run(&["run", "* | where level = 'ERROR'", &logs("app.jsonl")]);
    let rows = json.ok().json();
    assert_eq!(rows.len(), 21);
    assert!(rows.iter().all(|r| r["level"] == "ERROR"));

    let raw = run(&["run", "*", &logs("access.log")]);
    let rows = raw.ok().json();
    assert_eq!(rows.len(), 300);
    assert!(rows[0]["content"]
        .as_str()
        .unwrap()
        .starts_with("10.57.12.190 - - [14/Nov/2023:22:13:20 +0000]"));

    let csv = run(&["run", "* | where country = 'JP'", &logs("orders.csv")]);
    let rows = csv.ok().json();
    assert!(!rows.is_empty());
    assert_eq!(rows[0]["order_id"], "100000");
    assert_eq!(rows[0]["note"], "express, fragile");
    assert!(rows.iter().all(|r| r["country"] == "JP"));

    // The extension decides, not the content: the same CSV named .txt is raw text.
    let dir = tempdir();
    let txt = write(
        dir.path(),
        "orders.txt",
        std::fs::read(logs("orders.csv")).unwrap(),
    );
    let rows = run(&["run", "* | limit 1", &txt]).ok().json();
    assert_eq!(
        rows[0]["content"],
        "order_id,created_at,customer,country,amount,currency,status,note"
    );
    // .csv.gz is CSV too.
    let gz = write(
        dir.path(),
        "orders.CSV.gz",
        gzip(&std::fs::read(logs("orders.csv")).unwrap()),
    );
    let rows = run(&["run", "* | limit 1", &gz]).ok().json();
    assert_eq!(rows[0]["order_id"], "100000");
}

#[test]
fn explicit_input_formats() {
    // raw: a JSON file read line by line into `content`.
    let rows = run(&["run", "-i", "raw", "* | limit 1", &logs("app.jsonl")])
        .ok()
        .json();
    assert_eq!(rows.len(), 1);
    assert!(rows[0]["content"]
        .as_str()
        .unwrap()
        .starts_with("{\"__time__\":1700000000,"));
    assert_eq!(rows[0].as_object().unwrap().len(), 1);

    // csv on a file without the extension.
    let dir = tempdir();
    let f = write(dir.path(), "orders.dat", "a,b\n1,\"x, y\"\n2,\n");
    let rows = run(&["run", "--input-format", "csv", "*", &f]).ok().json();
    assert_eq!(
        rows,
        json_lines("{\"a\":\"1\",\"b\":\"x, y\"}\n{\"a\":\"2\",\"b\":\"\"}")
    );

    // json on text that is not JSON: every line is an error row, none is lost.
    let out = run(&["run", "-i", "json", "*", &logs("access.log")]);
    out.ok();
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("300 rows failed"),
        "stderr: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("line 1: invalid JSON"),
        "{}",
        out.stderr
    );

    // JSON values become text, objects compact JSON, __time__ a number (a stage that changes
    // rows, so they are encoded from their fields rather than written as their input line).
    let rows = run(&[
        "run",
        "-i",
        "json",
        "* | limit 1 | extend seen = 'y'",
        &logs("app.jsonl"),
    ])
    .ok()
    .json();
    assert_eq!(rows[0]["__time__"], 1700000000);
    assert_eq!(rows[0]["duration_ms"], "297");
    assert_eq!(
        rows[0]["user"],
        "{\"id\":421,\"region\":\"ap-southeast-1\"}"
    );
}

#[test]
fn stdin_input_and_query_files() {
    let app = std::fs::read(logs("app.jsonl")).unwrap();
    // No file: stdin.
    let rows = run_stdin(&["run", "* | where level = 'ERROR'"], app.clone())
        .ok()
        .json();
    assert_eq!(rows.len(), 21);
    // `-` is stdin, also among files (read in argument order).
    let out = run_stdin(
        &["run", "* | where level = 'ERROR'", &logs("app.jsonl"), "-"],
        app.clone(),
    );
    assert_eq!(out.ok().json().len(), 42);

    let dir = tempdir();
    let q = write(
        dir.path(),
        "q.spl",
        "-- errors only\n* | where level = 'ERROR'\n  | project service\n",
    );
    // -q: every positional argument is an input file.
    let out = run(&["run", "-q", &q, &logs("app.jsonl"), &logs("app.jsonl")]);
    let rows = out.ok().json();
    assert_eq!(rows.len(), 42);
    assert_eq!(rows[0]["service"], "auth");
    // -q - reads the query from stdin.
    let out = run_stdin(
        &["run", "-q", "-", &logs("app.jsonl")],
        "* | where level = 'WARN'",
    );
    assert_eq!(out.ok().json().len(), 31);
    // stdin cannot be both.
    let out = run_stdin(&["run", "-q", "-", "-"], "*");
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("stdin ('-') can be read only once"));
    // A missing query file names it.
    let out = run(&["run", "-q", "/nonexistent/q.spl", &logs("app.jsonl")]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("/nonexistent/q.spl"), "{}", out.stderr);
}

#[test]
fn gzip_and_zstd_inputs_read_like_the_plain_file() {
    let plain = std::fs::read(logs("app.jsonl")).unwrap();
    let dir = tempdir();
    let gz = write(dir.path(), "app.jsonl.gz", gzip(&plain));
    // The magic bytes decide, whatever the name.
    let zst = write(dir.path(), "app.bin", zstd(&plain));
    let spl = "* | where level <> 'INFO' | project level, service";
    let expected = run(&["run", spl, &logs("app.jsonl")]).ok().stdout.clone();
    assert_eq!(expected.lines().count(), 77);
    assert_eq!(run(&["run", spl, &gz]).ok().stdout, expected);
    assert_eq!(run(&["run", spl, &zst]).ok().stdout, expected);
    // Compressed stdin.
    assert_eq!(run_stdin(&["run", spl], gzip(&plain)).ok().stdout, expected);
    assert_eq!(run_stdin(&["run", spl], zstd(&plain)).ok().stdout, expected);
    // A multi-chunk compressed file.
    let big = big_jsonl(60_000);
    let bz = write(dir.path(), "big.jsonl.zst", zstd(big.as_bytes()));
    let bp = write(dir.path(), "big.jsonl", &big);
    let a = run(&["run", "* | where lvl = 'a'", &bp]);
    let b = run(&["run", "* | where lvl = 'a'", &bz]);
    assert_eq!(a.ok().stdout, b.ok().stdout);
    assert_eq!(a.json().len(), 19_980);
}

// ---------------------------------------------------------------- output formats

#[test]
fn json_output_has_typed_numbers_and_booleans() {
    let spl = "* | where level = 'ERROR' | extend d = cast(duration_ms as bigint), slow = d > 1000, half = d / 2.0 | project service, d, slow, half | limit 2";
    let out = run(&["run", "-o", "json", spl, &logs("app.jsonl")]);
    assert_eq!(
        out.ok().stdout,
        "{\"__time__\":1700000081,\"service\":\"auth\",\"d\":352,\"slow\":false,\"half\":176.0}\n\
         {\"__time__\":1700000093,\"service\":\"search\",\"d\":800,\"slow\":false,\"half\":400.0}\n"
    );
}

#[test]
fn table_csv_and_raw_output() {
    let spl = "* | where level = 'ERROR' | extend d = cast(duration_ms as bigint) | project service, d | limit 3";
    let table = run(&["run", "-o", "table", spl, &logs("app.jsonl")]);
    assert_eq!(
        table.ok().stdout,
        "  __time__  service     d\n\
         ----------  -------  ----\n\
         1700000081  auth      352\n\
         1700000093  search    800\n\
         1700000099  search   1411\n"
    );

    let csv = run(&[
        "run",
        "--output-format",
        "csv",
        "* | where country = 'JP' | project order_id, amount, note | limit 3",
        &logs("orders.csv"),
    ]);
    assert_eq!(
        csv.ok().stdout,
        "order_id,amount,note\n100000,616.37,\"express, fragile\"\n100003,213.08,\"\"\n100020,225.27,\"express, fragile\"\n"
    );

    // raw writes `content` as it is: the access log round-trips byte for byte.
    let raw = run(&["run", "-o", "raw", "*", &logs("access.log")]);
    assert_eq!(
        raw.ok().stdout,
        std::fs::read_to_string(logs("access.log")).unwrap()
    );
    // A row without `content` is written as JSON rather than lost.
    let raw = run(&[
        "run",
        "-o",
        "raw",
        "* | project level | limit 1",
        &logs("app.jsonl"),
    ]);
    assert_eq!(
        raw.ok().stdout,
        "{\"__time__\":1700000000,\"level\":\"INFO\"}\n"
    );
}

#[test]
fn csv_output_warns_about_fields_that_appear_after_the_header() {
    let dir = tempdir();
    // Over 1 MiB before `late` shows up, so it is in a later batch than the header.
    let mut s = String::new();
    for i in 0..30_000 {
        s.push_str(&format!("{{\"i\":{i},\"pad\":\"{}\"}}\n", "p".repeat(40)));
    }
    s.push_str("{\"i\":30000,\"late\":\"x\"}\n");
    let f = write(dir.path(), "late.jsonl", s);
    let out = run(&["run", "-o", "csv", "--threads", "2", "*", &f]);
    out.ok();
    assert!(out.stdout.starts_with("i,pad\n"));
    assert!(out.stdout.ends_with("\n30000,\n"), "the row is kept");
    assert_eq!(out.stdout.lines().count(), 30_002);
    assert!(
        out.stderr
            .contains("warning: field `late` is not in the CSV header"),
        "stderr: {}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("warning").count(), 1);
}

// ---------------------------------------------------------------- session options

#[test]
fn timezone_changes_how_timestamps_render() {
    let spl = "* | extend t = from_unixtime(cast(__time__ as bigint)), h = date_format(t, '%H') | project t, h | limit 1";
    let utc = run(&["run", spl, &logs("app.jsonl")]).ok().json();
    assert_eq!(utc[0]["t"], "2023-11-14 22:13:20.000");
    assert_eq!(utc[0]["h"], "22");
    for tz in ["Asia/Shanghai", "+08:00"] {
        let rows = run(&["run", "--timezone", tz, spl, &logs("app.jsonl")])
            .ok()
            .json();
        assert_eq!(rows[0]["t"], "2023-11-15 06:13:20.000", "{tz}");
        assert_eq!(rows[0]["h"], "06", "{tz}");
    }
    // The CSV and table formats render in the session zone too.
    let csv = run(&[
        "run",
        "-o",
        "csv",
        "--timezone",
        "-05:00",
        "* | extend t = from_unixtime(cast(__time__ as bigint)) | project t | limit 1",
        &logs("app.jsonl"),
    ]);
    assert_eq!(
        csv.ok().stdout,
        "__time__,t\n1700000000,2023-11-14 17:13:20.000\n"
    );
    let bad = run(&["run", "--timezone", "Mars/Base", "*", &logs("app.jsonl")]);
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("unknown time zone 'Mars/Base'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn logtail_profile_rejects_buffering_stages_with_a_caret() {
    let out = run(&[
        "run",
        "--profile",
        "logtail",
        "* | stats c = count(*) by level",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("error[E1006]: `stats` is not available in the logtail profile"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("^^^^^^^^^^^^^^^^^^^^^^^^^^^ not available here"));
    // The same program runs under cli and scan.
    for profile in ["cli", "scan"] {
        let rows = run(&[
            "run",
            "--profile",
            profile,
            "* | stats c = count(*) by level | sort c desc",
            &logs("app.jsonl"),
        ])
        .ok()
        .json();
        assert_eq!(rows[0], serde_json::json!({"level": "INFO", "c": 123}));
    }
}

#[test]
fn compile_errors_of_profiles_exit_2() {
    let stages: String = (1..=17).map(|i| format!(" | extend a{i} = 1")).collect();
    let out = run(&[
        "run",
        "--profile",
        "agent",
        &format!("*{stages}"),
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .contains("error[E1007]: this statement has 17 stages; the logtail profile allows 16"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "run",
        "--profile",
        "consumer",
        "* | pack-fields -include='a' as b",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.code, Some(2));
    assert!(out
        .stderr
        .contains("error[E1006]: `pack-fields` is not available in the consumer profile"));
    let out = run(&["run", "--profile", "nope", "*"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("invalid value 'nope'"),
        "{}",
        out.stderr
    );
}

#[test]
fn logtail_passes_failed_rows_through_unchanged_in_order() {
    let dir = tempdir();
    let f = write(
        dir.path(),
        "n.jsonl",
        "{\"n\":\"1\"}\n{\"n\":\"x\"}\n{\"n\":\"3\"}\n",
    );
    let spl = "* | extend d = cast(n as bigint) * 2";
    let out = run(&["run", "--profile", "logtail", spl, &f]);
    assert_eq!(
        out.ok().stdout,
        "{\"n\":\"1\",\"d\":2}\n{\"n\":\"x\"}\n{\"n\":\"3\",\"d\":6}\n"
    );
    assert!(
        out.stderr.contains(
            "warning: 1 row failed in the pipeline and was passed through unchanged (pass-through policy of the logtail profile)"
        ),
        "{}",
        out.stderr
    );
    // Under cli the row goes to the error stream instead.
    let out = run(&["run", spl, &f]);
    assert_eq!(
        out.ok().stdout,
        "{\"n\":\"1\",\"d\":2}\n{\"n\":\"3\",\"d\":6}\n"
    );
    assert!(
        out.stderr.contains("1 row failed (use --errors"),
        "{}",
        out.stderr
    );
    // --fail-fast makes the first failure fatal under logtail too.
    let out = run(&["run", "--profile", "logtail", "--fail-fast", spl, &f]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("[E2001]"), "{}", out.stderr);
}

// ---------------------------------------------------------------- runner flags

#[test]
fn threads_give_identical_output_in_input_order() {
    let dir = tempdir();
    let f = write(dir.path(), "big.jsonl", big_jsonl(80_000));
    assert!(
        std::fs::metadata(&f).unwrap().len() > 3 << 20,
        "several chunks"
    );
    let spl = "* | where lvl <> 'b' | extend j = cast(i as bigint) * 2 | project i, j";
    let mut outputs = Vec::new();
    for threads in ["1", "4"] {
        let errors = dir.path().join(format!("errors-{threads}.jsonl"));
        let out = run(&[
            "run",
            "--threads",
            threads,
            "--errors",
            errors.to_str().unwrap(),
            spl,
            &f,
        ]);
        out.ok();
        outputs.push((out.stdout, std::fs::read_to_string(&errors).unwrap()));
    }
    assert_eq!(
        outputs[0].0, outputs[1].0,
        "rows differ between 1 and 4 threads"
    );
    assert_eq!(
        outputs[0].1, outputs[1].1,
        "errors differ between 1 and 4 threads"
    );
    let rows = json_lines(&outputs[0].0);
    let ids: Vec<i64> = rows
        .iter()
        .map(|r| r["i"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "input order");
    assert_eq!(rows.len(), 53_279);
    assert!(rows
        .iter()
        .all(|r| r["j"].as_i64().unwrap() == 2 * r["i"].as_str().unwrap().parse::<i64>().unwrap()));
    // Malformed lines keep their line numbers across chunks.
    let errors = json_lines(&outputs[0].1);
    assert_eq!(errors.len(), 80);
    let e: Value = serde_json::from_str(errors[79]["__error__"].as_str().unwrap()).unwrap();
    assert_eq!(e["line"], 79 * 997 + 500 + 1);

    let zero = run(&["run", "--threads", "0", "*", &f]);
    assert_eq!(zero.code, Some(2));
}

#[test]
fn limit_stops_after_n_rows_per_output() {
    let rows = run(&["run", "--limit", "5", "*", &logs("access.log")])
        .ok()
        .json();
    assert_eq!(rows.len(), 5);
    let dir = tempdir();
    let q = write(dir.path(), "two.spl", TWO_OUTPUTS);
    let out = run(&["run", "--limit", "2", "-q", &q, &logs("app.jsonl")]);
    let rows = out.ok().json();
    assert_eq!(rows.len(), 4);
    assert!(rows[..2].iter().all(|r| r.get("msg").is_some()));
    assert!(rows[2..].iter().all(|r| r.get("duration_ms").is_some()));
    // A large input stops early and --stats counts what was written.
    let f = write(dir.path(), "big.jsonl", big_jsonl(60_000));
    let out = run(&["run", "--limit", "3", "--stats", "*", &f]);
    assert_eq!(out.ok().json().len(), 3);
    assert!(out.stderr.contains(" 3 out, "), "{}", out.stderr);
    assert!(
        out.stderr.contains("(stopped at --limit 3)"),
        "{}",
        out.stderr
    );
    assert_eq!(run(&["run", "--limit", "0", "*", &f]).code, Some(2));
}

#[test]
fn errors_file_gets_failed_rows_as_json_lines() {
    let dir = tempdir();
    let errors = dir.path().join("failed.jsonl");
    let out = run(&[
        "run",
        "--errors",
        errors.to_str().unwrap(),
        "* | where level = 'ERROR' | extend d = cast(msg as bigint) | project service, d",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.ok().stdout, "");
    assert!(
        out.stderr
            .contains(&format!("21 rows failed; written to {}", errors.display())),
        "{}",
        out.stderr
    );
    let rows = json_lines(&std::fs::read_to_string(&errors).unwrap());
    assert_eq!(rows.len(), 21);
    // The row as it entered the failing stage, plus __error__.
    assert_eq!(rows[0]["service"], "auth");
    assert_eq!(rows[0]["msg"], "database connection refused");
    let e: Value = serde_json::from_str(rows[0]["__error__"].as_str().unwrap()).unwrap();
    assert_eq!(e["code"], "E2001");
    assert_eq!(e["statement"], 1);
    assert_eq!(e["stage"], 2);
    assert_eq!(e["instruction"], "extend");
    assert!(e["message"]
        .as_str()
        .unwrap()
        .contains("database connection refused"));

    // Without --errors: a count and the first five on stderr.
    let out = run(&[
        "run",
        "* | extend d = cast(msg as bigint)",
        &logs("app.jsonl"),
    ]);
    out.ok();
    assert!(out.stderr.starts_with(
        "200 rows failed (use --errors FILE to keep them, --fail-fast to stop):\n  stage 1 (`extend`): "
    ), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 6);

    // Errors of a later statement name it.
    let out = run(&[
        "run",
        "* | where level = 'ERROR'; * | where level = 'WARN' | extend d = cast(msg as bigint)",
        &logs("app.jsonl"),
    ]);
    assert!(
        out.ok().stderr.contains("31 rows failed (use --errors FILE to keep them, --fail-fast to stop):\n  statement 2, stage 2 (`extend`): "),
        "{}",
        out.stderr
    );
}

#[test]
fn fail_fast_exits_1_at_the_first_error() {
    let out = run(&[
        "run",
        "--fail-fast",
        "* | extend d = cast(msg as bigint)",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.starts_with(
            "error: stage 1 (`extend`): Cast error: Cannot cast string 'order created'"
        ),
        "{}",
        out.stderr
    );
    // An undecodable input line is an error too, with its line number.
    let dir = tempdir();
    let f = write(dir.path(), "m.jsonl", "{\"a\":1}\n{\"a\":\n{\"a\":3}\n");
    let out = run(&["run", "--fail-fast", "*", &f]);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("error: line 2: invalid JSON"),
        "{}",
        out.stderr
    );
}

#[test]
fn stats_report_on_stderr() {
    let out = run(&[
        "run",
        "--stats",
        "* | where level = 'ERROR' | extend d = cast(duration_ms as bigint)",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.ok().json().len(), 21);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines[0], "rows: 200 in, 21 out, 0 errors, 179 dropped");
    assert!(
        lines[1].starts_with("input: 200 lines, 0.03 MB in "),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("stage "), "{}", lines[2]);
    let stage = |l: &str| l.split_whitespace().take(5).collect::<Vec<_>>().join(" ");
    assert_eq!(stage(lines[3]), "1 where 200 21 0");
    assert_eq!(stage(lines[4]), "2 extend 21 21 0");
    assert_eq!(lines.len(), 5);

    // Several outputs: rows per output and stages numbered statement.stage.
    let dir = tempdir();
    let q = write(dir.path(), "two.spl", TWO_OUTPUTS);
    let out = run(&["run", "--stats", "-q", &q, &logs("app.jsonl")]);
    out.ok();
    assert!(
        out.stderr.contains(
            "rows: 200 in, 55 out, 0 errors\n  output errs: 21 rows\n  output slow: 34 rows\n"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("\n2.1 where "), "{}", out.stderr);
    // stats reshapes rows: no `dropped`.
    let out = run(&[
        "run",
        "--stats",
        "* | stats c = count(*) by level",
        &logs("app.jsonl"),
    ]);
    assert!(
        out.ok()
            .stderr
            .starts_with("rows: 200 in, 4 out, 0 errors\n"),
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------- several outputs

#[test]
fn several_outputs_go_to_stdout_in_statement_order() {
    let dir = tempdir();
    let q = write(dir.path(), "two.spl", TWO_OUTPUTS);
    let out = run(&["run", "-q", &q, &logs("app.jsonl")]);
    let rows = out.ok().json();
    assert_eq!(rows.len(), 55);
    assert!(rows[..21].iter().all(|r| r.get("msg").is_some()));
    assert!(rows[21..].iter().all(|r| r.get("duration_ms").is_some()));
    assert!(out
        .stderr
        .contains("note: 2 outputs (errs, slow) are written to stdout one after another"));

    let out = run(&[
        "run",
        "-o",
        "table",
        "--limit",
        "1",
        "-q",
        &q,
        &logs("app.jsonl"),
    ]);
    assert_eq!(
        out.ok().stdout,
        "== errs ==\n  __time__  service  msg\n----------  -------  ---------------------------\n1700000081  auth     database connection refused\n\n\
         == slow ==\n  __time__  service  duration_ms\n----------  -------  -----------\n1700000006  auth     2258\n"
    );
    assert_eq!(out.stderr, "");
    // Statements without .let are outputs too, named output<N>.
    let out = run(&[
        "run",
        "* | where level = 'ERROR' | project level; * | where level = 'WARN' | project level",
        &logs("app.jsonl"),
    ]);
    let rows = out.ok().json();
    assert_eq!(rows.len(), 52);
    assert!(rows[..21].iter().all(|r| r["level"] == "ERROR"));
    assert!(rows[21..].iter().all(|r| r["level"] == "WARN"));
}

#[test]
fn output_dir_writes_one_file_per_dataset() {
    let dir = tempdir();
    let q = write(dir.path(), "two.spl", TWO_OUTPUTS);
    let od = dir.path().join("out/nested");
    let out = run(&[
        "run",
        "--output-dir",
        od.to_str().unwrap(),
        "-q",
        &q,
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.ok().stdout, "");
    let errs = std::fs::read_to_string(od.join("errs.jsonl")).unwrap();
    let slow = std::fs::read_to_string(od.join("slow.jsonl")).unwrap();
    assert_eq!(json_lines(&errs).len(), 21);
    assert_eq!(json_lines(&slow).len(), 34);
    let mut names: Vec<String> = std::fs::read_dir(&od)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["errs.jsonl", "slow.jsonl"]);
    // The extension follows the format; unnamed outputs are output<N>.
    let od2 = dir.path().join("csv");
    run(&[
        "run",
        "-o",
        "csv",
        "--output-dir",
        od2.to_str().unwrap(),
        "* | where level = 'ERROR' | project level; * | project service | limit 1",
        &logs("app.jsonl"),
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(od2.join("output2.csv")).unwrap(),
        "__time__,service\n1700000000,payments\n"
    );
    assert_eq!(
        std::fs::read_to_string(od2.join("output1.csv"))
            .unwrap()
            .lines()
            .count(),
        22
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn invalid_utf8_is_replaced_and_warned_never_lost() {
    let dir = tempdir();
    let raw = write(dir.path(), "latin1.log", b"caf\xe9 ok\nplain\n\xff\xfe\n");
    let out = run(&["run", "*", &raw]);
    assert_eq!(
        out.ok().json(),
        json_lines("{\"content\":\"caf\u{FFFD} ok\"}\n{\"content\":\"plain\"}\n{\"content\":\"\u{FFFD}\u{FFFD}\"}")
    );
    assert!(
        out.stderr.contains(
            "warning: 2 input lines were not valid UTF-8; invalid bytes were replaced with U+FFFD"
        ),
        "{}",
        out.stderr
    );
    let json = write(
        dir.path(),
        "bad.jsonl",
        b"{\"a\":\"x\xff\"}\n{\"a\":\"ok\"}\n",
    );
    let out = run(&["run", "*", &json]);
    assert_eq!(out.ok().stdout, "{\"a\":\"x\u{FFFD}\"}\n{\"a\":\"ok\"}\n");
    assert!(
        out.stderr
            .contains("warning: 1 input line was not valid UTF-8"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_10_mb_line_works() {
    let dir = tempdir();
    let long = "y".repeat(10 << 20);
    let raw = write(dir.path(), "long.log", format!("short\n{long}\nafter\n"));
    let out = run(&["run", "* | extend n = length(content) | project n", &raw]);
    assert_eq!(out.ok().stdout, "{\"n\":5}\n{\"n\":10485760}\n{\"n\":5}\n");
    let json = write(
        dir.path(),
        "long.jsonl",
        format!("{{\"a\":\"{long}\"}}\n{{\"a\":\"b\"}}\n"),
    );
    let out = run(&[
        "run",
        "--threads",
        "3",
        "* | extend n = length(a) | project n",
        &json,
    ]);
    assert_eq!(out.ok().stdout, "{\"n\":10485760}\n{\"n\":1}\n");
}

#[test]
fn malformed_json_lines_are_reported_with_their_line_and_kept() {
    let dir = tempdir();
    let f = write(
        dir.path(),
        "m.jsonl",
        "{\"a\":1}\n{\"a\":\n\n{\"a\":3}\n[1]\n",
    );
    let out = run(&["run", "*", &f]);
    // Rows the pipeline does not change are written as their input lines.
    assert_eq!(out.ok().stdout, "{\"a\":1}\n{\"a\":3}\n");
    assert_eq!(
        out.stderr,
        "2 rows failed (use --errors FILE to keep them, --fail-fast to stop):\n\
         \x20 line 2: invalid JSON at column 5: EOF while parsing a value [E2002]\n\
         \x20 line 5: expected a JSON object at column 1, found an array [E2002]\n"
    );
    let errors = dir.path().join("e.jsonl");
    let out = run(&["run", "--errors", errors.to_str().unwrap(), "*", &f]);
    out.ok();
    let rows = json_lines(&std::fs::read_to_string(&errors).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["content"], "{\"a\":");
    let e: Value = serde_json::from_str(rows[0]["__error__"].as_str().unwrap()).unwrap();
    assert_eq!(
        e,
        serde_json::json!({"code": "E2002", "instruction": "input", "line": 2,
            "message": "invalid JSON at column 5: EOF while parsing a value"})
    );
    assert_eq!(rows[1]["content"], "[1]");
}

#[test]
fn empty_input_prints_nothing_and_succeeds() {
    let dir = tempdir();
    let f = write(dir.path(), "empty.log", "");
    for format in ["json", "table", "csv", "raw"] {
        let out = run(&["run", "-o", format, "* | where a = '1'", &f]);
        assert_eq!(out.ok().stdout, "", "{format}");
        assert_eq!(out.stderr, "", "{format}");
    }
    let out = run_stdin(&["run", "*"], "");
    assert_eq!(out.ok().stdout, "");
    let blank = write(dir.path(), "blank.jsonl", "\n  \n\n");
    assert_eq!(run(&["run", "*", &blank]).ok().stdout, "");
    // stats over nothing is no group at all.
    let out = run(&["run", "* | stats c = count(*)", &f]);
    out.ok();
}

#[test]
fn missing_input_files_exit_1_naming_the_file_before_any_output() {
    let out = run(&["run", "*", &logs("app.jsonl"), "/nonexistent/x.log"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout, "",
        "nothing is written when an input is missing"
    );
    assert!(
        out.stderr
            .starts_with("error: cannot read /nonexistent/x.log: "),
        "{}",
        out.stderr
    );
    let dir = tempdir();
    let out = run(&["run", "*", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("it is a directory"), "{}", out.stderr);
    // An unwritable --errors file or --output-dir is a runtime failure too.
    let out = run(&[
        "run",
        "--errors",
        "/nonexistent/e.jsonl",
        "*",
        &logs("app.jsonl"),
    ]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("cannot create /nonexistent/e.jsonl"));
    // A broken gzip file names the file.
    let gz = write(
        dir.path(),
        "broken.gz",
        b"\x1f\x8b\x08\x00garbage that is not deflate",
    );
    let out = run(&["run", "*", &gz]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("broken.gz"), "{}", out.stderr);
}

#[test]
fn usage_and_syntax_errors_exit_2() {
    let out = run(&["run", "--bogus", "*"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("unexpected argument '--bogus'"));
    let out = run(&["run", "-o", "xml", "*"]);
    assert_eq!(out.code, Some(2));
    let out = run(&["run"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("no SPL given"));
    let out = run(&["run", "* | where", &logs("app.jsonl")]);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("error[E0025]: expected an expression, found end of input"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("<spl>:1:10"), "{}", out.stderr);
    assert!(
        out.stderr.contains("^ expected an expression here"),
        "{}",
        out.stderr
    );
    // Unknown functions are compile errors too.
    let out = run(&["run", "* | extend a = nope(b)", &logs("app.jsonl")]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("E1001"), "{}", out.stderr);
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = tempdir();
    let f = write(dir.path(), "big.jsonl", big_jsonl(60_000));
    for q in ["*", "* | where lvl = 'a'; * | where lvl = 'b'"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_spl"))
            .args([
                "run",
                "--errors",
                dir.path().join("e").to_str().unwrap(),
                q,
                &f,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 16];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{q}: {stderr}");
        assert!(!stderr.contains("error"), "{q}: {stderr}");
    }
}

#[test]
fn unchanged_rows_are_written_as_their_input_lines() {
    let dir = tempdir();
    let lines = "{ \"status\": \"503\", \"n\": 1.50, \"z\": null, \"d\": 1, \"d\": 2 }\n\
                 {\"status\":\"200\",\"n\":2}\n\
                 {\"status\":\"500\",\"msg\":\"say \\\"hi\\\"\",\"o\":{\"k\": [1, 2]}}\n";
    let f = write(dir.path(), "u.jsonl", lines);
    let filter = "* | where cast(status as bigint) >= 500";
    let out = run(&["run", "-o", "json", filter, &f]);
    let want: Vec<&str> = lines.lines().filter(|l| !l.contains("200")).collect();
    assert_eq!(out.ok().stdout, format!("{}\n", want.join("\n")));
    // Any other output format, or a stage that changes rows, encodes rows from their fields.
    let out = run(&["run", "-o", "csv", &format!("{filter} | limit 1"), &f]);
    assert_eq!(out.ok().stdout, "status,n,d,msg,o\n503,1.50,2,,\n");
    let out = run(&[
        "run",
        "-o",
        "json",
        &format!("{filter} | extend s = 'x'"),
        &f,
    ]);
    assert_eq!(
        out.ok().stdout.lines().next().unwrap(),
        r#"{"status":"503","n":"1.50","d":"2","s":"x"}"#
    );
}

#[test]
fn error_rows_keep_all_fields_when_only_some_are_decoded() {
    let dir = tempdir();
    let f = write(
        dir.path(),
        "e.jsonl",
        "{\"status\":\"oops\",\"ip\":\"10.0.0.1\",\"n\":7}\n{\"status\":\"500\",\"ip\":\"10.0.0.2\"}\n",
    );
    let errors = dir.path().join("errors.jsonl");
    for spl in [
        "* | where cast(status as bigint) >= 500",
        "* | extend s = cast(status as bigint) | project ip, s",
    ] {
        let out = run(&[
            "run",
            "--errors",
            &errors.to_string_lossy(),
            "-o",
            "json",
            spl,
            &f,
        ]);
        assert!(out.ok().stdout.contains("10.0.0.2"), "{spl}");
        let rows: Vec<serde_json::Value> = std::fs::read_to_string(&errors)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 1, "{spl}");
        assert_eq!(rows[0]["ip"], "10.0.0.1", "{spl}");
        assert_eq!(rows[0]["n"], "7", "{spl}");
        assert_eq!(rows[0]["status"], "oops", "{spl}");
        assert!(
            rows[0]["__error__"].as_str().unwrap().contains("E2001"),
            "{spl}"
        );
    }
}

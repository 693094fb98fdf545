//! End-to-end tests of `spl explain` (plan tree, profile line, `--analyze`), `spl test`
//! (pass/fail counts, diffs, exit codes, `--update`, `--filter`) and the examples in every
//! command's `--help`.
use assert_cmd::Command;

fn spl() -> Command {
    Command::cargo_bin("spl").expect("spl binary")
}

fn repo(rel: &str) -> String {
    format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"))
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Out {
    let o = spl().args(args).output().unwrap();
    Out {
        code: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spl-explain-test")
        .tempdir()
        .unwrap()
}

#[test]
fn explain_prints_the_plan_tree_with_reads_and_writes() {
    let out = run(&[
        "explain",
        "* | where level = 'ERROR' | extend d = cast(duration_ms as bigint) | project service, d",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "output output1 <- *
  ├─ 1. where level = 'ERROR'
  │      reads: level
  ├─ 2. extend d = CAST(duration_ms AS BIGINT)
  │      reads: duration_ms; writes: d
  └─ 3. project service, d
         reads: service, d; removes: <all other fields but the time fields>
JSON input: decodes only level, duration_ms, service and the time fields
profile cli: stages/statement unlimited, script bytes unlimited, batch memory unlimited, batch timeout unlimited, errors: error-stream, time zone UTC
"
    );
}

#[test]
fn explain_shows_datasets_outputs_and_the_profile() {
    let out = run(&[
        "explain",
        "--profile",
        "logtail",
        "--timezone",
        "+08:00",
        "-q",
        &repo("testdata/pipelines/app-json.spl"),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for expected in [
        "dataset $parsed <- *\n",
        "dataset $errors <- $parsed\n",
        "output errors <- $errors\n",
        "output warnings <- $warnings\n",
        "      reads: content; writes: <keys found in content>\n",
        "profile logtail: stages/statement 16, script bytes 65536, batch memory 52428800, batch timeout 1s, errors: pass-through, time zone +08:00\n",
    ] {
        assert!(out.stdout.contains(expected), "{expected}\n---\n{}", out.stdout);
    }
}

#[test]
fn explain_analyze_runs_the_pipeline_and_counts_rows_per_stage() {
    let out = run(&[
        "explain",
        "-i",
        "raw",
        "--analyze",
        &repo("testdata/logs/access.log"),
        "-q",
        &repo("testdata/pipelines/nginx-errors.spl"),
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let report = out
        .stdout
        .split("\n\n")
        .nth(1)
        .expect("a report after the plan");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "rows: 300 in, 9 out, 0 errors, 291 dropped");
    assert!(
        lines[1].starts_with("input: 300 lines, 0.05 MB in "),
        "{}",
        lines[1]
    );
    let stage = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words[..words.len() - 2].join(" ")
    };
    // Stages 1 and 2 run as one (late extraction); lines are numbered as written.
    assert_eq!(stage(lines[3]), "1+2 parse-regexp + where 300 9 0");
    assert_eq!(stage(lines[4]), "3 project 9 9 0");
    // No rows are printed.
    assert!(!out.stdout.contains("10.46.24.221"));

    // Several statements: stages numbered statement.stage.
    let out = run(&[
        "explain",
        "--analyze",
        &repo("testdata/logs/app.jsonl"),
        "* | where level = 'ERROR'; * | where level = 'WARN' | project msg",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("\n1.1 where "), "{}", out.stdout);
    assert!(out.stdout.contains("\n2.2 project "), "{}", out.stdout);
    assert!(
        out.stdout.contains("  output output2: 31 rows\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn explain_errors() {
    let out = run(&["explain", "* | where"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("error[E0025]"), "{}", out.stderr);
    assert!(out.stderr.contains('^'), "{}", out.stderr);
    let out = run(&["explain", "--analyze", "/nonexistent/a.log", "*"]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("/nonexistent/a.log"), "{}", out.stderr);
    let out = run(&["explain", "--profile", "consumer", "* | sort a"]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("E1006"), "{}", out.stderr);
}

const CASES: &str = r#"{"id": "concat-ok", "spl": "* | extend b = a || 'x'", "input": [{"a": "1"}], "output": [{"a": "1", "b": "1x"}]}
# comments and blank lines are skipped

{"id": "concat-wrong", "spl": "* | extend b = a || 'y'", "input": [{"a": "1"}], "output": [{"a": "1", "b": "1x"}]}
{"id": "cast-error", "spl": "* | extend n = cast(a as bigint)", "input": [{"a": "x"}, {"a": "2"}], "output": [{"a": "2", "n": "2"}], "errors": [{"a": "x", "__error__": "E2001"}]}
"#;

#[test]
fn test_command_counts_diffs_and_exit_codes() {
    let dir = tempdir();
    let f = dir.path().join("cases.jsonl");
    std::fs::write(&f, CASES).unwrap();
    let path = f.to_str().unwrap();
    let out = run(&["test", path]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stdout,
        format!(
            "FAIL concat-wrong ({path}:4)\n    output: expected 1 rows, got 1\n      - {{\"a\":\"1\",\"b\":\"1x\"}}\n      + {{\"a\":\"1\",\"b\":\"1y\"}}\n2 passed, 1 failed\n"
        )
    );
    // --filter runs only matching ids.
    let out = run(&["test", "--filter", "cast", path]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert_eq!(out.stdout, "1 passed, 0 failed\n");
    // The repository's conformance files pass.
    let conformance: Vec<String> = std::fs::read_dir(repo("testdata/conformance"))
        .unwrap()
        .map(|e| e.unwrap().path().to_str().unwrap().to_string())
        .filter(|p| p.ends_with(".jsonl"))
        .collect();
    assert!(!conformance.is_empty());
    let mut args = vec!["test"];
    args.extend(conformance.iter().map(String::as_str));
    let out = run(&args);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(
        out.stdout.ends_with(" passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn test_update_rewrites_failing_cases_only() {
    let dir = tempdir();
    let f = dir.path().join("cases.jsonl");
    std::fs::write(&f, CASES).unwrap();
    let path = f.to_str().unwrap();
    let out = run(&["test", "--update", path]);
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(
        out.stdout
            .ends_with("2 passed, 1 failed\nupdated 1 cases\n"),
        "{}",
        out.stdout
    );
    let text = std::fs::read_to_string(&f).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Passing cases, comments and blank lines stay byte for byte.
    assert_eq!(lines[0], CASES.lines().next().unwrap());
    assert_eq!(lines[1], "# comments and blank lines are skipped");
    assert_eq!(lines[2], "");
    assert!(
        lines[3].contains(r#""output":[{"a":"1","b":"1y"}]"#),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], CASES.lines().nth(4).unwrap());
    let out = run(&["test", path]);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stdout, "3 passed, 0 failed\n");
}

#[test]
fn test_command_bad_files() {
    let out = run(&["test", "/nonexistent/cases.jsonl"]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.contains("cannot read /nonexistent/cases.jsonl"),
        "{}",
        out.stderr
    );
    let dir = tempdir();
    let f = dir.path().join("bad.jsonl");
    std::fs::write(&f, "{\"id\": \"a\", \"spl\": \"*\"}\n{not json\n").unwrap();
    let out = run(&["test", f.to_str().unwrap()]);
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("bad.jsonl: line 2: "), "{}", out.stderr);
    let out = run(&["test"]);
    assert_eq!(out.code, Some(2));
}

#[test]
fn every_command_has_examples_in_its_help() {
    for sub in [
        &["--help"][..],
        &["run", "--help"],
        &["check", "--help"],
        &["explain", "--help"],
        &["test", "--help"],
        &["fmt", "--help"],
    ] {
        let out = run(sub);
        assert_eq!(out.code, Some(0), "{sub:?}");
        assert!(
            out.stdout.contains("\nExamples:\n  spl "),
            "{sub:?}: {}",
            out.stdout
        );
    }
    let out = run(&["--version"]);
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.starts_with("spl "));
    let out = run(&["nope"]);
    assert_eq!(out.code, Some(2));
}

#[test]
fn explain_shows_optimizations_and_what_json_input_decodes() {
    let w2 = "* | parse-regexp content, '^(\\S+) (\\S+) (\\d+)' as ip, time, status \
              | project-rename addr = ip | project addr, status";
    let out = run(&["explain", w2]).stdout;
    assert!(
        out.contains("optimizations:\n  - statement 1, stage 1 (parse-regexp): time not extracted; nothing reads it before stage 3 drops it\n"),
        "{out}"
    );
    assert!(
        out.contains("  - statement 1, stage 1 (parse-regexp): the anchored pattern is matched in one pass, without backtracking\n"),
        "{out}"
    );
    assert!(
        // A row the pattern does not match keeps its own `ip` and `status` (and `addr`,
        // which the rename writes only from an `ip`): they are decoded too.
        out.contains("JSON input: decodes only content, ip, addr, status and the time fields"),
        "{out}"
    );
    let out = run(&["explain", "* | where cast(status as bigint) >= 500"]).stdout;
    assert!(
        out.contains("JSON input to JSON output: decodes only status and the time fields; rows are written as their input lines"),
        "{out}"
    );
    let out = run(&["explain", "* | extend a = '1' | project-away user_agent"]).stdout;
    assert!(
        out.contains("JSON input: does not decode user_agent"),
        "{out}"
    );
    assert!(
        out.contains("JSON input to JSON output: rows are spliced from their input lines where they can be; those rows decode only the time fields\n"),
        "{out}"
    );
    let w3 = "* | extend ms = cast(latency as double) * 1000 | project-away user_agent";
    let out = run(&["explain", w3]).stdout;
    assert!(
        out.contains("those rows decode only latency and the time fields\n"),
        "{out}"
    );
    assert!(!out.contains("optimizations:"), "{out}");
}

#[test]
fn explain_lists_the_parse_json_keys_a_projection_keeps() {
    let out = run(&["explain", "* | parse-json content | project ip, status"]).stdout;
    assert!(
        out.contains("optimizations:\n  - statement 1, stage 1 (parse-json): only ip, status extracted; nothing reads other keys before stage 2 drops them\n"),
        "{out}"
    );
    // A stage in between that may fail keeps every key: its error rows show them.
    let out = run(&[
        "explain",
        "* | parse-json content | where cast(status as bigint) >= 500 | project ip",
    ])
    .stdout;
    assert!(!out.contains("(parse-json)"), "{out}");
}

#[test]
fn explain_shows_the_plan_that_runs_and_written_shows_the_plan_as_written() {
    let spl = "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where status > 400 + 99";
    let out = run(&["explain", spl]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    // The folded constant is in the stage text; the pushed-down `where` runs first and keeps
    // the number it was written with.
    assert!(
        out.stdout.starts_with(
            "output output1 <- *
  ├─ 2. where status > 499
  │      reads: status; runs before stage 1
  └─ 1. parse-regexp content, '(\\S+) (\\S+)' as ip, method
         reads: content; writes: ip, method
optimizations:
  - statement 1, stage 2 (where): `400 + 99` folded to `499`
"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "  - statement 1, stage 2 (where): runs before stage 1 (parse-regexp), which changes none of the fields it reads (status) and never fails\n"
        ),
        "{}",
        out.stdout
    );
    let out = run(&["explain", "--written", spl]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "output output1 <- *
  ├─ 1. parse-regexp content, '(\\S+) (\\S+)' as ip, method
  │      reads: content; writes: ip, method
  └─ 2. where status > 400 + 99
         reads: status
profile cli"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn explain_shows_merged_stages_with_the_stages_they_run() {
    let out = run(&[
        "explain",
        "* | where a = '1' | where b = '2' | extend x = a | extend y = x | project y",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            "output output1 <- *
  ├─ 1+2. where a = '1' | where b = '2'
  │      reads: a, b
  ├─ 3+4. extend x = a, y = x
  │      reads: a; writes: x, y
  └─ 5. project y
"
        ),
        "{}",
        out.stdout
    );
}

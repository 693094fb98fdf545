//! End-to-end tests of the `spl` binary: exit codes, diagnostics on stderr, JSON output, fmt.
use assert_cmd::Command;

fn spl() -> Command {
    Command::cargo_bin("spl").expect("spl binary")
}

fn repo(rel: &str) -> String {
    format!("{}/../{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_accepts_valid_spl() {
    let out = spl()
        .args(["check", "* | where status >= 500 | project status, uri"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(out.stderr.is_empty());
}

#[test]
fn check_rejects_syntax_errors_with_carets() {
    let out = spl()
        .args(["check", "--color", "never", "* | wher status >= 500"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("error[E0005]: unknown instruction `wher`"),
        "{err}"
    );
    assert!(err.contains("^^^^ not an SPL instruction"), "{err}");
    assert!(err.contains("did you mean `where`?"), "{err}");
}

#[test]
fn check_reads_query_files_and_reports_their_name() {
    for f in ["nginx-errors.spl", "app-json.spl", "csv-orders.spl"] {
        let out = spl()
            .args(["check", "-q", &repo(&format!("testdata/pipelines/{f}"))])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{f}: {}", stderr_of(&out));
    }
    let dir = tempdir();
    let bad = dir.path().join("bad.spl");
    std::fs::write(&bad, "* |\n| where a = 1").unwrap();
    let out = spl()
        .args(["check", "--color", "never", "-q", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("bad.spl:1:3"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn check_reads_stdin() {
    let out = spl()
        .args(["check", "-q", "-"])
        .write_stdin("* | where a = 1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
}

#[test]
fn check_json_format_for_tools() {
    let out = spl()
        .args(["check", "--format", "json", "* | project 'a'"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON diagnostics");
    assert_eq!(v[0]["code"], "E0011");
    assert_eq!(v[0]["labels"][0]["line"], 1);
    assert_eq!(v[0]["labels"][0]["column"], 13);
}

#[test]
fn check_warnings_do_not_fail() {
    let out = spl()
        .args([
            "check",
            "--color",
            "never",
            ".let unused = *; * | where a = 1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr_of(&out).contains("warning[W0001]"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = spl()
        .args(["check", "--no-such-flag", "*"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = spl().args(["check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no SPL given"));
    let out = spl()
        .args(["check", "-q", "/nonexistent/x.spl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("cannot read /nonexistent/x.spl"));
}

#[test]
fn check_rejects_invalid_utf8_query_files() {
    let dir = tempdir();
    let f = dir.path().join("latin1.spl");
    std::fs::write(&f, b"* | where a = '\xe9'").unwrap();
    let out = spl()
        .args(["check", "-q", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not valid UTF-8"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn fmt_prints_canonical_form_and_check_mode() {
    let out = spl()
        .args(["fmt", "*|where a=1|PROJECT a,b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "* | where a = 1 | project a, b\n"
    );

    let dir = tempdir();
    let f = dir.path().join("p.spl");
    std::fs::write(&f, "*|where a=1").unwrap();
    let out = spl()
        .args(["fmt", "--check", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = spl()
        .args(["fmt", "--write", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "* | where a = 1\n");
    let out = spl()
        .args(["fmt", "--check", f.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn fmt_reports_syntax_errors() {
    let out = spl().args(["fmt", "* | where"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("expected an expression"));
}

#[test]
fn help_has_examples() {
    for sub in ["check", "fmt"] {
        let out = spl().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{sub}"
        );
    }
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("spl-cli-test")
        .tempdir()
        .unwrap()
}

/// SPL that opens with a `--` comment is the program, not an unknown flag, in every
/// subcommand that takes SPL text as an argument; real flags around it keep working.
#[test]
fn spl_text_starting_with_a_comment_is_the_program() {
    let dir = tempdir();
    let data = dir.path().join("f.jsonl");
    std::fs::write(&data, "{\"a\":\"1\"}\n{\"a\":\"2\"}\n").unwrap();
    let program = "-- note\n* | where a = 1";
    let out = spl()
        .args(["run", "-o", "json", program])
        .arg(&data)
        .arg("--limit")
        .arg("5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"a":"1"}"#);
    // A comment on its own line without a space after `--` is SPL too (a flag never spans lines).
    let out = spl()
        .args(["run", "-o", "json", "--note\n* | where a = 2"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"a":"2"}"#);
    let out = spl().args(["check", program]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = spl().args(["explain", program]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("where"));
    let out = spl().args(["fmt", program]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("where a = 1"));
}

/// Unknown flags in the SPL position are still usage errors (exit 2), in every subcommand.
#[test]
fn unknown_flags_in_the_spl_position_still_fail() {
    for args in [
        &["check", "--no-such-flag"][..],
        &["explain", "--no-such-flag"],
        &["fmt", "--no-such-flag"],
        &["run", "--no-such-flag", "*"],
        &["run", "-q", "x.spl", "--no-such-flag"],
        &["run", "-Z", "*"],
    ] {
        let out = spl().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr_of(&out).contains("--no-such-flag") || stderr_of(&out).contains("-Z"),
            "{args:?}: {}",
            stderr_of(&out)
        );
    }
}

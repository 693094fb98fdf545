//! Long flat operator chains (the reproducers of a stack overflow): `spl check` and `spl run`
//! (with worker threads) answer E0020 for chains deeper than the parser's limit, and run chains
//! at the limit, instead of aborting.
use assert_cmd::Command;

fn spl() -> Command {
    Command::cargo_bin("spl").expect("spl binary")
}

fn logs(name: &str) -> String {
    format!("{}/../testdata/logs/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn plus_chain(n: usize) -> String {
    format!("* | extend x = {}", vec!["1"; n].join("+"))
}

fn and_chain(n: usize) -> String {
    format!("* | where {}", vec!["level = 'ERROR'"; n].join(" AND "))
}

/// Runs `spl args…` with `query` on stdin (read by `-q -`; a 10,000-term chain is longer than
/// one command-line argument may be); returns the exit code, stdout and stderr.
fn spl_q(args: &[&str], query: &str) -> (Option<i32>, String, String) {
    let o = spl().args(args).write_stdin(query).output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_too_deep((code, _, stderr): (Option<i32>, String, String)) {
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("E0020"), "{stderr}");
    assert!(stderr.contains("levels deep"), "{stderr}");
}

#[test]
fn check_answers_e0020_for_long_chains() {
    for text in [
        plus_chain(800),
        plus_chain(3_000),
        plus_chain(10_000),
        and_chain(1_000),
        and_chain(5_000),
        and_chain(10_000),
    ] {
        assert_too_deep(spl_q(&["check", "--color", "never", "-q", "-"], &text));
        assert_too_deep(spl_q(
            &[
                "check",
                "--color",
                "never",
                "--profile",
                "consumer",
                "-q",
                "-",
            ],
            &text,
        ));
    }
}

#[test]
fn run_with_worker_threads_answers_e0020_for_long_chains() {
    let file = logs("app.jsonl");
    for text in [plus_chain(10_000), and_chain(1_000), and_chain(10_000)] {
        assert_too_deep(spl_q(&["run", "--threads", "2", "-q", "-", &file], &text));
    }
}

#[test]
fn chains_at_the_limit_run_on_worker_threads() {
    let max = spl_parser::MAX_EXPR_DEPTH;
    let file = logs("app.jsonl");
    let run = |text: &str| spl_q(&["run", "--threads", "2", "-q", "-", &file], text);
    let (code, stdout, stderr) = run(&format!("{} | project x", plus_chain(max)));
    assert_eq!(code, Some(0), "{stderr}");
    let first = stdout.lines().next().expect("rows");
    assert!(first.ends_with(&format!("\"x\":{max}}}")), "{first}");
    let all = run("*").1.lines().count();
    let errors = run("* | where level = 'ERROR'").1.lines().count();
    let (code, stdout, stderr) = run(&and_chain(max - 1));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), errors);
    assert!(errors > 0 && errors < all);
}

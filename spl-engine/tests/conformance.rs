//! Runs every conformance file in `testdata/conformance/` (JSON lines, see
//! `spl_engine::conformance`) through the real path and reports every failing case at once.
use std::path::PathBuf;

use spl_engine::conformance;

#[test]
fn conformance_cases_pass() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no conformance files in {}",
        dir.display()
    );
    let (mut total, mut failures) = (0, Vec::new());
    for f in &files {
        for case in conformance::load(f).unwrap_or_else(|e| panic!("{e}")) {
            total += 1;
            let outcome = conformance::run(&case);
            if let Some(why) = outcome.failure {
                failures.push(format!(
                    "{} ({}:{})\n    {}",
                    case.id,
                    f.file_name().unwrap().to_string_lossy(),
                    case.line,
                    why.replace('\n', "\n    ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} conformance cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The runner itself must be able to fail: a wrong expectation is reported with a diff.
#[test]
fn a_wrong_expectation_fails_with_a_diff() {
    let cases = conformance::parse(
        r#"{"id":"x","spl":"* | extend b = 'B'","input":[{"a":"1"}],"output":[{"a":"1","b":"C"}]}"#,
    )
    .unwrap();
    let o = conformance::run(&cases[0]);
    let why = o.failure.expect("must fail");
    assert!(why.contains(r#"- {"a":"1","b":"C"}"#), "{why}");
    assert!(why.contains(r#"+ {"a":"1","b":"B"}"#), "{why}");
}

#[test]
fn compile_errors_and_error_rows_are_checked() {
    let cases = conformance::parse(concat!(
        r#"{"id":"c","spl":"* | stats n = count(*)","options":{"profile":"consumer"},"compile_error":"E1006"}"#,
        "\n",
        r#"{"id":"e","spl":"* | extend n = cast(a as bigint)","input":[{"a":"x"},{"a":"2"}],"output":[{"a":"2","n":"2"}],"errors":[{"a":"x","__error__":"E2001"}]}"#,
        "\n",
        r#"{"id":"u","spl":"* | extend n = cast(a as bigint)","input":[{"a":"x"}],"output":[]}"#,
    ))
    .unwrap();
    assert_eq!(conformance::run(&cases[0]).failure, None);
    assert_eq!(conformance::run(&cases[1]).failure, None);
    let why = conformance::run(&cases[2])
        .failure
        .expect("unexpected error rows fail");
    assert!(why.contains("errors: expected 0 rows, got 1"), "{why}");
}

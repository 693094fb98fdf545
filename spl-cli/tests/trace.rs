//! `spl trace` from the outside: the file-driven cases of `testdata/trace/` (program, input,
//! flags, expected output; `SPL_UPDATE_TRACE=1` rewrites the expected output), and checks that a
//! drop's explanation names the stage and the values that decided it.
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/trace")
}

/// Splits `--row 2 --where "a = 'b'"` into arguments (double quotes group words).
fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    args.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        args.push(cur);
    }
    args
}

struct Case {
    args: Vec<String>,
    spl: String,
    input: String,
    expected: String,
}

fn parse_case(text: &str) -> Case {
    let (head, rest) = text.split_once("--- spl\n").expect("a `--- spl` section");
    let args = head
        .lines()
        .find_map(|l| l.strip_prefix("# args:"))
        .map(split_args)
        .unwrap_or_default();
    let (spl, rest) = rest
        .split_once("--- input\n")
        .expect("a `--- input` section");
    let (input, expected) = rest
        .split_once("--- expected\n")
        .expect("a `--- expected` section");
    Case {
        args,
        spl: spl.to_string(),
        input: input.to_string(),
        expected: expected.to_string(),
    }
}

fn trace(dir: &Path, spl: &str, input: &str, args: &[String]) -> (bool, String, String) {
    let q = dir.join("q.spl");
    let i = dir.join("input.jsonl");
    std::fs::write(&q, spl).unwrap();
    std::fs::write(&i, input).unwrap();
    let out = Command::cargo_bin("spl")
        .unwrap()
        .arg("trace")
        .arg("-q")
        .arg(&q)
        .arg(&i)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn file_driven_cases() {
    let update = std::env::var_os("SPL_UPDATE_TRACE").is_some();
    let dir = tempfile::tempdir().unwrap();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 20, "cases missing: {paths:?}");
    let mut failures = Vec::new();
    for path in &paths {
        let text = std::fs::read_to_string(path).unwrap();
        let case = parse_case(&text);
        let (ok, stdout, stderr) = trace(dir.path(), &case.spl, &case.input, &case.args);
        assert!(ok, "{}: spl trace failed: {stderr}", path.display());
        if update {
            let head = &text[..text.find("--- expected\n").unwrap() + "--- expected\n".len()];
            std::fs::write(path, format!("{head}{stdout}")).unwrap();
        } else if stdout != case.expected {
            failures.push(format!(
                "{}:\n--- expected\n{}--- actual\n{stdout}",
                path.display(),
                case.expected
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ (SPL_UPDATE_TRACE=1 rewrites them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const INPUT: &str = "{\"status\":\"500\",\"uri\":\"/a\"}\n{\"status\":\"200\",\"uri\":\"/b\"}\n";

#[test]
fn a_drop_names_the_stage_the_predicate_and_the_values() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = trace(
        dir.path(),
        "* | extend x = 1 | where status = '500'",
        INPUT,
        &["--row".into(), "2".into()],
    );
    assert!(ok, "{err}");
    assert!(out.contains("[2] where status = '500' → dropped"), "{out}");
    assert!(
        out.contains("`status = '500'` is not true: status=\"200\""),
        "{out}"
    );
    assert!(out.contains("reaches no output"), "{out}");
}

#[test]
fn json_lines_name_the_outcome_code_and_values_of_a_failed_row() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = trace(
        dir.path(),
        "* | extend n = cast(uri as bigint)",
        INPUT,
        &["-o".into(), "json".into()],
    );
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let step = &rows[0]["steps"][0];
    assert_eq!(step["outcome"], "failed");
    assert_eq!(step["code"], "E2001");
    assert_eq!(step["values"]["uri"], "/a");
}

#[test]
fn summary_counts_rows_per_stage_with_top_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = trace(
        dir.path(),
        "* | where status = '500'",
        INPUT,
        &["--summary".into(), "-o".into(), "json".into()],
    );
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = &v["stages"][0];
    assert_eq!(
        (s["rows_in"].as_u64(), s["rows_out"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(s["dropped"], 1);
    assert_eq!(s["reasons"][0]["rows"], 1);
}

#[test]
fn bad_row_numbers_and_compile_errors_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = trace(
        dir.path(),
        "* | where true",
        INPUT,
        &["--row".into(), "9".into()],
    );
    assert!(!ok && err.contains("the input has 2 row(s)"), "{err}");
    let (ok, _, err) = trace(dir.path(), "* | wher x", INPUT, &[]);
    assert!(!ok && err.contains("error"), "{err}");
}

#[test]
fn an_instruction_outside_the_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = trace(
        dir.path(),
        "* | sort uri",
        INPUT,
        &["--profile".into(), "logtail".into()],
    );
    assert!(!ok, "{err}");
}

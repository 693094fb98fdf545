//! `make-series` through `spl run`, file-driven: each `testdata/series/NAME.spl` runs on
//! `testdata/logs/access-latency.log` and its JSON-lines output must equal
//! `NAME.expected.jsonl` (set `SPL_UPDATE_SERIES=1` to rewrite the expected files); likewise
//! each `testdata/series/functions/NAME.spl` on `testdata/series/functions/metrics.log` (three
//! synthetic hosts over 240 minutes: a = sine + trend + noise with spikes at minutes 50, 130 and
//! 200, b = pure sine, c = noise), where make-series output feeds the series functions. Also the
//! `--from/--to` run range and the profile check.
use assert_cmd::Command;
use serde_json::Value;

fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::cargo_bin("spl")
        .expect("spl binary")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn rows(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

#[test]
fn series_cases_match_their_expected_output() {
    let ran = run_cases("testdata/series", "testdata/logs/access-latency.log");
    assert!(ran >= 1);
}

#[test]
fn series_function_cases_match_their_expected_output() {
    let ran = run_cases(
        "testdata/series/functions",
        "testdata/series/functions/metrics.log",
    );
    assert!(ran >= 5, "{ran} cases");
}

/// Runs every `.spl` of `dir` on `log` and compares with its `.expected.jsonl`; the count.
fn run_cases(dir: &str, log: &str) -> usize {
    let dir = repo(dir);
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("spl") {
            continue;
        }
        let spl = path.to_str().unwrap();
        let (ok, out, err) = run(&["run", "-o", "json", "-q", spl, &repo(log)]);
        assert!(ok, "{spl}: {err}");
        let expected_path = path.with_extension("expected.jsonl");
        if std::env::var_os("SPL_UPDATE_SERIES").is_some() {
            std::fs::write(&expected_path, &out).unwrap();
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
        assert_eq!(rows(&out), rows(&expected), "{spl}");
        ran += 1;
    }
    ran
}

#[test]
fn from_and_to_set_the_run_range() {
    let spl = "* | parse-regexp content, '\\[([^\\]]+)\\] \"\\S+ ([^ ?\"]+)[^\"]*\" \\d+ \\d+ \"[^\"]*\" \"[^\"]*\" (\\S+)' as t, uri, lat \
               | where uri = '/login' \
               | make-series lat = lat default = 0 on t from 'sls_begin_time' to 'sls_end_time' step '2m'";
    let (ok, out, err) = run(&[
        "run",
        "-o",
        "json",
        "--from",
        "2023-11-14 21:58:00",
        "--to",
        "2023-11-14T22:04:00Z",
        spl,
        &repo("testdata/logs/access-latency.log"),
    ]);
    assert!(ok, "{err}");
    let rows = rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(
        rows[0]["__ts__"],
        "[1699999080000000000,1699999200000000000,1699999320000000000]"
    );
    assert_eq!(rows[0]["lat"], "[0.0,0.4,0.0]");
    let (ok, _, err) = run(&["run", "--from", "soon", "--to", "later", "*"]);
    assert!(!ok && err.contains("--from"), "{err}");
}

#[test]
fn make_series_is_refused_outside_scan_profiles() {
    let (ok, _, err) = run(&[
        "check",
        "--profile",
        "logtail",
        "* | make-series v = v on t",
    ]);
    assert!(!ok);
    assert!(
        err.contains("E1006") && err.contains("make-series"),
        "{err}"
    );
}

/// Hostile input to the series functions: NULL or an `error_msg` object for data they cannot
/// use, a clear row or compile error for bad arguments, never a crash.
#[test]
fn series_functions_survive_hostile_input() {
    let cases: &[(&str, &str)] = &[
        ("series_forecast(array[], 3)", "at least 31 known points"),
        (
            "series_forecast(cast(array[null, null] as array(double)), 3)",
            "at least 31 known points",
        ),
        // A NULL result: the row has no `r`.
        ("series_forecast(null, 3)", "{}"),
        (
            "series_forecast(array[1, 2], -1)",
            "periods must be between 0 and 10000",
        ),
        (
            "series_forecast(array[1, 2], 100000)",
            "periods must be between 0 and 10000",
        ),
        (
            "series_forecast(array[1, 2, 3], array[1.0, 2.0], 3)",
            "the time axis has 3 points but the series has 2",
        ),
        (
            "series_forecast(transform(sequence(1, 40), x -> x % 5), 3, '{\"period\": 30}')",
            "period 30 needs",
        ),
        (
            "series_decompose_anomalies(array[nan(), nan(), 1])",
            "at least 8 known points, the series has 1",
        ),
        (
            "series_decompose_anomalies(array[1, 2], '{bad')",
            "options are not valid JSON",
        ),
        (
            "series_decompose_anomalies(array[1, 2], '{\"nope\": 1}')",
            "unknown option",
        ),
        (
            "series_decompose_anomalies('abc')",
            "must be an ARRAY of numbers",
        ),
        (
            "series_decompose_anomalies(array[1, 2], '{\"threshold\": -1}')",
            "threshold must be a positive number",
        ),
        (
            "series_pattern_anomalies(array[])",
            "at least 16 known points",
        ),
        (
            "series_pattern_anomalies(transform(sequence(1, 40), x -> x), '{\"window\": 39}')",
            "window 39 needs",
        ),
        ("series_describe(array[])", r#"\"point_count\":0"#),
        (
            "series_describe(cast(array[null] as array(double)))",
            r#"\"missing_point_count\":1"#,
        ),
        (
            "correlation(array[1, 2], array[1, 2, 3])",
            "different lengths",
        ),
        (
            "correlation(array[1, 2], array[1, 2], 'kendall')",
            "unknown method",
        ),
        ("cluster(array[array[]])", "series 1 has no value"),
        ("cluster(array[array[1, 2]], 'nope')", "unknown method"),
        ("cluster(array[array[1, 2], array[3]])", "same length"),
        (
            "series_drilldown(array['a'], array[array[1]], array[array[1.0], array[2.0]], 1, 1)",
            "one element per series",
        ),
        (
            "series_drilldown(array['a'], array[array[1, 2]], array[array[1.0]], 1, 1)",
            "has 1 points but 2 timestamps",
        ),
        (
            "series_drilldown(array['a'], array[array[1]], array[array[1.0]], 2, 1)",
            "begin is after end",
        ),
    ];
    for (expr, want) in cases {
        let spl = format!("* | extend r = {expr} | project r");
        let o = Command::cargo_bin("spl")
            .expect("spl binary")
            .args(["run", "-o", "json", &spl])
            .write_stdin("x\n")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{expr}: {err}");
        assert!(
            out.contains(want) || err.contains(want),
            "{expr}: want {want:?}\nstdout: {out}\nstderr: {err}"
        );
    }
}

//! Row-level operators (`where`, `extend`, `project`, `project-away`, `project-rename`) on small
//! batches, compared as rows of text (spec §18.4), including data-error isolation (§18.11).
mod common;
use common::{batch, rows_of, Row};

use arrow::record_batch::RecordBatch;
use spl_engine::expr::Session;
use spl_engine::ops::{self, StageOutput};

/// Runs the stages of a one-statement SPL text over `input`.
fn run(spl: &str, input: RecordBatch) -> (Vec<Row>, Vec<(Row, String)>) {
    let program = spl_parser::parse(spl).unwrap_or_else(|d| panic!("{d}"));
    let session = Session::default();
    let mut batches = vec![input];
    let mut errors = Vec::new();
    for stage in &program.statements[0].pipeline.stages {
        let op = ops::build(stage).unwrap_or_else(|d| panic!("{}", d.message));
        let mut next = Vec::new();
        for b in batches {
            let StageOutput {
                batches: out,
                errors: errs,
            } = op
                .process(b, &session)
                .unwrap_or_else(|e| panic!("{}", e.message));
            next.extend(out);
            for e in errs {
                for r in rows_of(&e.rows) {
                    errors.push((r, e.message.clone()));
                }
            }
        }
        batches = next;
    }
    (batches.iter().flat_map(rows_of).collect(), errors)
}

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const T: (&str, &str) = ("__time__", "1700000000");

#[test]
fn where_filters_with_sls_coercion() {
    let input = batch(&[
        &[("status", "500")],
        &[("status", "60")],
        &[("status", "abc")],
        &[("other", "x")],
    ]);
    let (out, errors) = run("* | where status >= 500", input);
    assert_eq!(out, vec![row(&[T, ("status", "500")])]);
    assert!(errors.is_empty());
}

#[test]
fn extend_is_sequential_and_null_removes() {
    let input = batch(&[&[("a", "2")], &[("a", "x")]]);
    let (out, _) = run(
        "* | extend b = cast(a as bigint) * 10, c = b + 1, d = try_cast(a as bigint)",
        input,
    );
    // In the second row the cast fails: it is a data error, so that row goes to the errors.
    assert_eq!(
        out,
        vec![row(&[T, ("a", "2"), ("b", "20"), ("c", "21"), ("d", "2")])]
    );
    let input = batch(&[&[("a", "2"), ("gone", "x")]]);
    let (out, _) = run("* | extend gone = NULL, a = concat(a, '!')", input);
    assert_eq!(out, vec![row(&[T, ("a", "2!")])]);
}

#[test]
fn data_errors_isolate_the_failing_rows() {
    let input = batch(&[&[("n", "1")], &[("n", "oops")], &[("n", "3")]]);
    let (out, errors) = run("* | extend m = cast(n as bigint)", input);
    assert_eq!(
        out,
        vec![
            row(&[T, ("n", "1"), ("m", "1")]),
            row(&[T, ("n", "3"), ("m", "3")])
        ]
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, row(&[T, ("n", "oops")]));
    assert!(errors[0].1.contains("oops"), "{}", errors[0].1);
}

#[test]
fn extend_sets_time_fields_only_with_integers() {
    let input = batch(&[&[("ts", "1700000123")]]);
    let (out, _) = run("* | extend __time__ = cast(ts as bigint)", input);
    assert_eq!(out[0]["__time__"], "1700000123");
}

#[test]
fn project_keeps_listed_fields_time_and_renames() {
    let input = batch(&[&[
        ("level", "ERROR"),
        ("msg", "m"),
        ("__tag__:node", "n1"),
        ("__tag__:path", "/p"),
    ]]);
    let (out, _) = run("* | project log_level=level, msg, missing", input.clone());
    assert_eq!(out, vec![row(&[T, ("msg", "m"), ("log_level", "ERROR")])]);
    let (out, _) = run("* | project -wildcard \"__tag__:*\"", input.clone());
    assert_eq!(
        out,
        vec![row(&[T, ("__tag__:node", "n1"), ("__tag__:path", "/p")])]
    );
    let (out, _) = run("* | project \"__tag__:*\"", input);
    assert_eq!(out, vec![row(&[T])]);
}

#[test]
fn project_away_and_rename() {
    let input = batch(&[&[("age", "18"), ("name", "lily"), ("x_1", "a"), ("x_2", "b")]]);
    let (out, _) = run(
        "* | project-away age, nope | project-away -wildcard \"x_*\"",
        input.clone(),
    );
    assert_eq!(out, vec![row(&[T, ("name", "lily")])]);
    let (out, _) = run(
        "* | project-rename new_age=age, new_name=name, z=absent",
        input.clone(),
    );
    assert_eq!(
        out,
        vec![row(&[
            T,
            ("new_age", "18"),
            ("new_name", "lily"),
            ("x_1", "a"),
            ("x_2", "b")
        ])]
    );
    // Renaming onto an existing field overwrites it.
    let (out, _) = run("* | project-rename name=age", input);
    assert_eq!(
        out,
        vec![row(&[T, ("name", "18"), ("x_1", "a"), ("x_2", "b")])]
    );
}

#[test]
fn doc_case_where_3() {
    let input = batch(&[
        &[("status1", "200"), ("status2", "404")],
        &[("status1", "200"), ("status2", "200")],
    ]);
    let (out, _) = run("* | where status1='200'| extend status1_info='normal' | where status2='404'| extend status2_info='error'", input);
    assert_eq!(
        out,
        vec![row(&[
            T,
            ("status1", "200"),
            ("status2", "404"),
            ("status1_info", "normal"),
            ("status2_info", "error")
        ])]
    );
}

#[test]
fn parse_regexp_positional_named_and_unmatched() {
    let line = "10.0.0.0 GET /index.html 15824 0.043";
    let input = batch(&[&[("content", line)], &[("content", "-")], &[("other", "x")]]);
    let (out, _) = run(
        "* | parse-regexp content, '(\\S+)\\s+(\\w+)' as ip, method",
        input.clone(),
    );
    assert_eq!(
        out[0],
        row(&[T, ("content", line), ("ip", "10.0.0.0"), ("method", "GET")])
    );
    // No match: unchanged; absent field: unchanged.
    assert_eq!(out[1], row(&[T, ("content", "-")]));
    assert_eq!(out[2], row(&[T, ("other", "x")]));
    let (out, _) = run(
        "* | parse-regexp content, '(?P<ip>\\S+)\\s+(?P<method>\\w+)'",
        input,
    );
    assert_eq!(out[0]["method"], "GET");
}

#[test]
fn parse_regexp_overwrites_and_keeps_on_non_participation() {
    let input = batch(&[&[("request", "GET /a HTTP/1.1"), ("v", "old")]]);
    // doc case parse-regexp-4: the output may overwrite the source field
    let (out, _) = run(
        "* | parse-regexp request, '(\\S+)' as request_method | parse-regexp request, '\\S+\\s+\\S+\\s+(\\S+)' as http_version | parse-regexp request, '\\S+\\s+(\\S+)' as request",
        input.clone(),
    );
    assert_eq!(out[0]["request"], "/a");
    assert_eq!(out[0]["request_method"], "GET");
    assert_eq!(out[0]["http_version"], "HTTP/1.1");
    let (out, _) = run("* | parse-regexp request, '(GET)|(POST)' as g, v", input);
    assert_eq!(out[0]["g"], "GET");
    assert_eq!(
        out[0]["v"], "old",
        "non-participating group leaves the field as it was"
    );
}

#[test]
fn parse_regexp_flags_and_compile_errors() {
    let input = batch(&[&[("c", "ERROR here")]]);
    let (out, _) = run("* | parse-regexp -flags='i' c, '(error)' as lvl", input);
    assert_eq!(out[0]["lvl"], "ERROR");
    for (spl, code) in [
        ("* | parse-regexp c, '(unclosed' as a", "E1004"),
        ("* | parse-regexp c, '(a)' as x, y", "E0027"),
        ("* | parse-regexp c, '(a)'", "E0027"),
        ("* | parse-regexp -flags='q' c, '(a)' as x", "E0007"),
    ] {
        let p = spl_parser::parse(spl).unwrap();
        let d = ops::build(&p.statements[0].pipeline.stages[0]).expect_err(spl);
        assert_eq!(d.code.id, code, "{spl}: {}", d.message);
    }
}

#[test]
fn parse_json_first_level_prefix_path_and_mode() {
    let data = r#"{"k1": "v1", "k2": {"k3": "v3", "k4": 4}, "n": 1.5, "b": true, "z": null, "__time__": 5}"#;
    let input = batch(&[
        &[("data", data)],
        &[("data", "not json")],
        &[("data", "[1,2]")],
    ]);
    let (out, _) = run("* | parse-json data", input.clone());
    // doc case parse-json-1: nested objects become compact JSON text; null sets nothing;
    // a key named like a time field is ignored.
    assert_eq!(
        out[0],
        row(&[
            T,
            ("data", data),
            ("k1", "v1"),
            ("k2", r#"{"k3":"v3","k4":4}"#),
            ("n", "1.5"),
            ("b", "true")
        ])
    );
    assert_eq!(out[1], row(&[T, ("data", "not json")]));
    assert_eq!(out[2], row(&[T, ("data", "[1,2]")]));
    let (out, _) = run("* | parse-json -prefix='p_' -path='$.k2' data", input);
    assert_eq!(out[0]["p_k3"], "v3");
    assert_eq!(out[0]["p_k4"], "4");
    assert!(!out[0].contains_key("k1"));

    let input = batch(&[&[("j", r#"{"a": "new", "b": "x"}"#), ("a", "old")]]);
    let (out, _) = run("* | parse-json -mode='preserve' j", input.clone());
    assert_eq!(out[0]["a"], "old");
    let (out, _) = run("* | parse-json j", input);
    assert_eq!(out[0]["a"], "new");
}

#[test]
fn parse_json_keys_vary_per_row() {
    let input = batch(&[&[("j", r#"{"a": "1"}"#)], &[("j", r#"{"b": "2"}"#)]]);
    let (out, _) = run("* | parse-json j", input);
    assert_eq!(out[0]["a"], "1");
    assert!(!out[0].contains_key("b"));
    assert_eq!(out[1]["b"], "2");
    assert!(!out[1].contains_key("a"));
}

#[test]
fn parse_csv_delims_quotes_and_strict() {
    let input = batch(&[
        &[("c", "10.0.0.1|2024|\"a|b\"")],
        &[("c", "1|2")],
        &[("c", "1|2|3|4")],
    ]);
    let (out, _) = run(
        "* | parse-csv -delim='|' c as ip, time, host",
        input.clone(),
    );
    assert_eq!(
        out[0],
        row(&[
            T,
            ("c", "10.0.0.1|2024|\"a|b\""),
            ("ip", "10.0.0.1"),
            ("time", "2024"),
            ("host", "a|b")
        ])
    );
    // Non-strict: missing values leave fields unset, surplus values are ignored.
    assert_eq!(out[1], row(&[T, ("c", "1|2"), ("ip", "1"), ("time", "2")]));
    assert_eq!(out[2]["host"], "3");
    let (out, _) = run(
        "* | parse-csv -strict -delim='|' c as ip, time, host",
        input,
    );
    assert!(out[0].contains_key("ip"));
    assert_eq!(out[1], row(&[T, ("c", "1|2")]));
    assert_eq!(out[2], row(&[T, ("c", "1|2|3|4")]));
    let input = batch(&[&[("c", "a\tb\tc")]]);
    let (out, _) = run("* | parse-csv -delim='\\x09' c as x, y, z", input);
    assert_eq!(out[0]["z"], "c");
}

#[test]
fn parse_kv_all_forms() {
    // doc case parse-kv-1 / parse-kv-7: the source field is not modified
    let input = batch(&[&[("k1", "q=asd&a=1&b=2&__1__=3")]]);
    let expect = row(&[
        T,
        ("k1", "q=asd&a=1&b=2&__1__=3"),
        ("q", "asd"),
        ("a", "1"),
        ("b", "2"),
        ("__1__", "3"),
    ]);
    assert_eq!(
        run("* | parse-kv -delims='&' k1", input.clone()).0[0],
        expect
    );
    assert_eq!(run("* | parse-kv k1, '&', '='", input.clone()).0[0], expect);
    // doc case parse-kv-9
    let (out, _) = run("* | parse-kv -prefix='start_' k1, '&', '='", input);
    assert_eq!(out[0]["start_q"], "asd");
    // doc case parse-kv-2: segments without the separator are skipped
    let input = batch(&[&[(
        "u",
        "/video/getlist/s?ver=3.2.3&app_type=supplier&os=Android8.1.0",
    )]]);
    let (out, _) = run("* | parse-kv -delims='&?' u", input);
    assert_eq!(out[0]["ver"], "3.2.3");
    assert_eq!(out[0]["app_type"], "supplier");
    assert_eq!(out[0]["os"], "Android8.1.0");
    // -regexp: every match
    let input = batch(&[&[("c", "k1=v1&k2=v2?k3=v3")]]);
    let (out, _) = run("* | parse-kv -regexp c, '(\\w+)=(\\w+)'", input);
    assert_eq!((out[0]["k1"].as_str(), out[0]["k3"].as_str()), ("v1", "v3"));
    // quotes are kept by default (§18.5); keys are trimmed; -strip-quotes removes them
    let input = batch(&[&[("c", "k1=\"helloworld\",the change world, k2=\"good\"")]]);
    let (out, _) = run("* | parse-kv -delims=',' c", input.clone());
    assert_eq!(out[0]["k1"], "\"helloworld\"");
    assert_eq!(out[0]["k2"], "\"good\"");
    let (out, _) = run("* | parse-kv -strip-quotes c, ',', '='", input);
    assert_eq!(out[0]["k1"], "helloworld");
    // -greedy: a value runs up to the next key=
    let input = batch(&[&[("c", "a=1,2,3,b=4")]]);
    let (out, _) = run("* | parse-kv -greedy c, ',', '='", input.clone());
    assert_eq!((out[0]["a"].as_str(), out[0]["b"].as_str()), ("1,2,3", "4"));
    let (out, _) = run("* | parse-kv c, ',', '='", input);
    assert_eq!(out[0]["a"], "1");
}

#[test]
fn pack_fields_doc_cases() {
    // pack-fields-1: sources removed by default
    let input = batch(&[&[("test1", "123"), ("test2", "456"), ("test3", "789")]]);
    let (out, _) = run("* | pack-fields -include='\\w+' as test", input);
    assert_eq!(
        out[0],
        row(&[
            T,
            ("test", r#"{"test1":"123","test2":"456","test3":"789"}"#)
        ])
    );
    // pack-fields-3: include is a full match; -keep keeps the sources; key order = field order
    let input = batch(&[&[("abcd@#%", "123"), ("test", "456"), ("abcd", "789")]]);
    let (out, _) = run(
        "* | pack-fields -keep -include='\\w+' as content",
        input.clone(),
    );
    assert_eq!(
        out[0],
        row(&[
            T,
            ("abcd@#%", "123"),
            ("test", "456"),
            ("abcd", "789"),
            ("content", r#"{"test":"456","abcd":"789"}"#)
        ])
    );
    let (out, _) = run("* | pack-fields -exclude='abcd.*' -ltrim='te' as p", input);
    assert_eq!(
        out[0],
        row(&[
            T,
            ("abcd@#%", "123"),
            ("abcd", "789"),
            ("p", r#"{"st":"456"}"#)
        ])
    );
}

#[test]
fn expand_values_arrays_objects_and_passthrough() {
    // The reference's example: -path into the body, -keep the source.
    let content = r#"{"body": [0, {"a": 1, "b": 2}]}"#;
    let input = batch(&[
        &[("content", content)],
        &[("content", "not json")],
        &[("content", r#"{"body": []}"#)],
    ]);
    let (out, _) = run(
        "* | expand-values -path='$.body' -keep content as body",
        input.clone(),
    );
    assert_eq!(
        out,
        vec![
            row(&[T, ("content", content), ("body", "0")]),
            row(&[T, ("content", content), ("body", r#"{"a":1,"b":2}"#)]),
            row(&[T, ("content", "not json")]),
            row(&[T, ("content", r#"{"body": []}"#)]),
        ]
    );
    // Without -keep the source leaves the expanded rows (but not the unchanged ones).
    let (out, _) = run("* | expand-values -path='$.body' content as body", input);
    assert_eq!(out[0], row(&[T, ("body", "0")]));
    assert_eq!(out[2], row(&[T, ("content", "not json")]));
    // Objects: one row per key; -keys adds the key; -limit caps; no `as` writes the field itself.
    let input = batch(&[&[("m", r#"{"x": "1", "y": "2", "z": "3"}"#), ("id", "7")]]);
    let (out, _) = run("* | expand-values -keys -limit=2 m", input);
    assert_eq!(
        out,
        vec![
            row(&[T, ("m", "1"), ("id", "7"), ("m_key", "x")]),
            row(&[T, ("m", "2"), ("id", "7"), ("m_key", "y")])
        ]
    );
}

//! `log-to-metric` and `metric-to-metric` on small batches, compared as rows of text (spec
//! §18.4), plus the column types of metric rows and the build-time diagnostics. The decisions
//! these pin are in docs/decisions.md.
mod common;
use common::{rows_of, Row};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use spl_engine::expr::Session;
use spl_engine::ops::{self, StageOutput};

const T: i64 = 1_614_739_608;
const T_NS: &str = "1614739608000000000";

/// A batch of VARCHAR fields (absent = NULL) plus `__time__` = [`T`] as BIGINT.
fn batch(rows: &[&[(&str, &str)]]) -> RecordBatch {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        for (k, _) in *r {
            if !names.contains(k) {
                names.push(k);
            }
        }
    }
    let mut fields = vec![Field::new("__time__", DataType::Int64, true)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![T; rows.len()]))];
    for n in &names {
        fields.push(Field::new(*n, DataType::Utf8View, true));
        let vals: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.iter().find(|(k, _)| k == n).map(|(_, v)| *v))
            .collect();
        cols.push(Arc::new(StringViewArray::from(vals)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

/// `b` with the column `name` added or replaced.
fn with(b: RecordBatch, name: &str, col: ArrayRef) -> RecordBatch {
    spl_engine::batch::set_column(&b, name, col).unwrap()
}

/// `b` without the column `name`.
fn without(b: RecordBatch, name: &str) -> RecordBatch {
    spl_engine::batch::retain_columns(&b, |_, n| n != name).unwrap()
}

/// Runs the stages of a one-statement SPL text over `input`: output batches and error rows.
fn run_batches(spl: &str, input: RecordBatch) -> (Vec<RecordBatch>, Vec<(Row, String)>) {
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
    (batches, errors)
}

fn run(spl: &str, input: RecordBatch) -> (Vec<Row>, Vec<(Row, String)>) {
    let (batches, errors) = run_batches(spl, input);
    (batches.iter().flat_map(rows_of).collect(), errors)
}

/// The build-time diagnostic of the last stage.
fn build_error(spl: &str) -> String {
    let program = spl_parser::parse(spl).unwrap_or_else(|d| panic!("{d}"));
    let stages = &program.statements[0].pipeline.stages;
    match ops::build(stages.last().unwrap()) {
        Ok(op) => panic!("{spl} built: {op:?}"),
        Err(d) => d.message,
    }
}

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A metric row as text, with `__time__` = [`T`].
fn metric(name: &str, labels: &str, time_nano: &str, value: &str) -> Row {
    row(&[
        ("__time__", "1614739608"),
        ("__name__", name),
        ("__labels__", labels),
        ("__time_nano__", time_nano),
        ("__value__", value),
    ])
}

// ---- log-to-metric ----

#[test]
fn one_metric_row_per_name_and_only_metric_fields_kept() {
    let input = batch(&[&[
        ("rt", "123"),
        ("qps", "10"),
        ("host", "myhost"),
        ("msg", "hello"),
    ]]);
    let (out, errors) = run("* | log-to-metric -names='rt, qps' -labels='host'", input);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        out,
        vec![
            metric("rt", "host#$#myhost", T_NS, "123.0"),
            metric("qps", "host#$#myhost", T_NS, "10.0"),
        ]
    );
}

#[test]
fn list_forms_are_equivalent() {
    let input = || batch(&[&[("rt", "1"), ("qps", "2"), ("host", "h")]]);
    let a = run("* | log-to-metric -names='rt, qps' -labels='host'", input());
    let b = run(
        r#"* | log-to-metric -names='["rt", "qps"]' -labels='["host"]'"#,
        input(),
    );
    let c = run(
        r#"* | log-to-metric -names=["rt", "qps"] -labels=["host"]"#,
        input(),
    );
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a.0.len(), 2);
}

#[test]
fn output_column_types() {
    let input = batch(&[&[("rt", "1.5"), ("host", "h")]]);
    let (batches, _) = run_batches("* | log-to-metric -names='rt' -labels='host'", input);
    let schema = batches[0].schema();
    let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("__name__"), DataType::Utf8View);
    assert_eq!(ty("__labels__"), DataType::Utf8View);
    assert_eq!(ty("__time_nano__"), DataType::Int64);
    assert_eq!(ty("__value__"), DataType::Float64);
    assert_eq!(ty("__time__"), DataType::Int64);
    let v = batches[0]
        .column_by_name("__value__")
        .unwrap()
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .value(0);
    assert_eq!(v, 1.5);
}

#[test]
fn labels_are_sorted_by_key() {
    let input = batch(&[&[("rt", "1"), ("zone", "z1"), ("app", "web"), ("host", "h1")]]);
    let (out, _) = run(
        "* | log-to-metric -names='rt' -labels='zone, app, host'",
        input,
    );
    assert_eq!(out[0]["__labels__"], "app#$#web|host#$#h1|zone#$#z1");
}

#[test]
fn missing_name_field_gives_no_sample_for_that_row() {
    let input = batch(&[
        &[("rt", "1"), ("qps", "2")],
        &[("rt", "3")],
        &[("other", "x")],
    ]);
    let (out, errors) = run("* | log-to-metric -names='rt, qps'", input);
    assert!(errors.is_empty());
    let got: Vec<(&str, &str)> = out
        .iter()
        .map(|r| (r["__name__"].as_str(), r["__value__"].as_str()))
        .collect();
    assert_eq!(got, vec![("rt", "1.0"), ("qps", "2.0"), ("rt", "3.0")]);
    // No labels: an empty __labels__.
    assert_eq!(out[0]["__labels__"], "");
}

#[test]
fn non_numeric_values_are_skipped_not_nan_and_not_errors() {
    let input = batch(&[&[
        ("a", "abc"),
        ("b", ""),
        ("c", " 2.5 "),
        ("d", "1e3"),
        ("e", "NaN"),
        ("f", "-Inf"),
        ("g", "12ms"),
    ]]);
    let (out, errors) = run("* | log-to-metric -names='a, b, c, d, e, f, g'", input);
    assert!(errors.is_empty());
    let got: Vec<(&str, &str)> = out
        .iter()
        .map(|r| (r["__name__"].as_str(), r["__value__"].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("c", "2.5"),
            ("d", "1000.0"),
            ("e", "NaN"),
            ("f", "-Infinity")
        ]
    );
}

#[test]
fn typed_values_convert_to_double() {
    let input = with(
        batch(&[&[("host", "h")]]),
        "n",
        Arc::new(Int64Array::from(vec![42])),
    );
    let (out, _) = run("* | log-to-metric -names='n' -labels='host'", input);
    assert_eq!(out[0]["__value__"], "42.0");
    // A typed label renders as text.
    let input = with(
        batch(&[&[("rt", "1")]]),
        "status",
        Arc::new(Int64Array::from(vec![200])),
    );
    let (out, _) = run("* | log-to-metric -names='rt' -labels='status'", input);
    assert_eq!(out[0]["__labels__"], "status#$#200");
}

#[test]
fn missing_or_empty_label_is_left_out() {
    let input = batch(&[&[("rt", "1"), ("host", "h"), ("zone", "")], &[("rt", "2")]]);
    let (out, _) = run("* | log-to-metric -names='rt' -labels='host, zone'", input);
    assert_eq!(out[0]["__labels__"], "host#$#h");
    assert_eq!(out[1]["__labels__"], "");
}

#[test]
fn wildcard_names_and_labels() {
    let input = batch(&[&[
        ("latency_ms", "12"),
        ("queue_ms", "3"),
        ("size", "100"),
        ("tag_app", "web"),
        ("tag_env", "prod"),
    ]]);
    let (out, _) = run(
        "* | log-to-metric -wildcard -names='*_ms' -labels='tag_*'",
        input,
    );
    let names: Vec<&str> = out.iter().map(|r| r["__name__"].as_str()).collect();
    assert_eq!(names, vec!["latency_ms", "queue_ms"]);
    assert_eq!(out[0]["__labels__"], "tag_app#$#web|tag_env#$#prod");
}

#[test]
fn wildcard_star_never_selects_labels_time_fields_or_the_time_field() {
    let input = batch(&[&[
        ("rt", "1"),
        ("qps", "2"),
        ("host", "h"),
        ("ts", "1614739608"),
    ]]);
    let (out, _) = run(
        "* | log-to-metric -wildcard -names='*' -labels='host' -time_field='ts'",
        input,
    );
    let names: Vec<&str> = out.iter().map(|r| r["__name__"].as_str()).collect();
    assert_eq!(names, vec!["rt", "qps"]);
}

#[test]
fn wildcard_skips_invalid_names_unless_format() {
    let input = || {
        batch(&[&[
            ("a.b_ms", "1"),
            ("ok_ms", "2"),
            ("__tag__:zone", "z"),
            ("host", "h"),
        ]])
    };
    let (out, _) = run(
        "* | log-to-metric -wildcard -names='*_ms' -labels='*'",
        input(),
    );
    let names: Vec<&str> = out.iter().map(|r| r["__name__"].as_str()).collect();
    assert_eq!(names, vec!["ok_ms"]);
    // The `__tag__:zone` field is not a valid label key: skipped.
    assert_eq!(out[0]["__labels__"], "host#$#h");
    let (out, _) = run(
        "* | log-to-metric -wildcard -format -names='*_ms' -labels='host'",
        input(),
    );
    let names: Vec<&str> = out.iter().map(|r| r["__name__"].as_str()).collect();
    assert_eq!(names, vec!["a_b_ms", "ok_ms"]);
}

#[test]
fn without_wildcard_star_is_literal() {
    let input = batch(&[&[("a*", "1"), ("ab", "2")]]);
    let msg = build_error(r#"* | log-to-metric -names='a*'"#);
    assert!(msg.contains("not a valid metric name"), "{msg}");
    let (out, _) = run("* | log-to-metric -format -names='a*'", input);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["__name__"], "a_");
    assert_eq!(out[0]["__value__"], "1.0");
}

#[test]
fn invalid_explicit_names_and_keys_are_build_errors() {
    let msg = build_error(r#"* | log-to-metric -names='req.time'"#);
    assert!(
        msg.contains("`req.time` is not a valid metric name"),
        "{msg}"
    );
    let msg = build_error(r#"* | log-to-metric -names='rt' -labels='__tag__:host'"#);
    assert!(msg.contains("not a valid label key"), "{msg}");
    // -format does not make an invalid label key acceptable (it cannot be repaired).
    let msg = build_error(r#"* | log-to-metric -format -names='rt' -labels='a-b'"#);
    assert!(msg.contains("not a valid label key"), "{msg}");
}

#[test]
fn format_normalises_explicit_names() {
    let input = batch(&[&[("req.time", "5"), ("9lives", "1")]]);
    let (out, _) = run("* | log-to-metric -format -names='req.time, 9lives'", input);
    let names: Vec<&str> = out.iter().map(|r| r["__name__"].as_str()).collect();
    assert_eq!(names, vec!["req_time", "_9lives"]);
}

#[test]
fn label_value_with_separators_is_an_error_unless_format() {
    let input = || {
        batch(&[
            &[("rt", "1"), ("path", "a|b#$#c")],
            &[("rt", "2"), ("path", "ok")],
        ])
    };
    let (out, errors) = run("* | log-to-metric -names='rt' -labels='path'", input());
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["__labels__"], "path#$#ok");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].0["path"], "a|b#$#c",
        "the error row is the input row"
    );
    assert!(errors[0].1.contains("-format"), "{}", errors[0].1);
    let (out, errors) = run(
        "* | log-to-metric -format -names='rt' -labels='path'",
        input(),
    );
    assert!(errors.is_empty());
    assert_eq!(out[0]["__labels__"], "path#$#a_b_c");
}

#[test]
fn time_from_event_time_with_ns_part() {
    let input = with(
        batch(&[&[("rt", "1")]]),
        "__time_ns_part__",
        Arc::new(Int64Array::from(vec![123_456_789])),
    );
    let (out, _) = run("* | log-to-metric -names='rt'", input);
    assert_eq!(out[0]["__time_nano__"], "1614739608123456789");
    assert_eq!(out[0]["__time_ns_part__"], "123456789");
}

#[test]
fn row_without_event_time_is_an_error() {
    let input = without(batch(&[&[("rt", "1")]]), "__time__");
    let (out, errors) = run("* | log-to-metric -names='rt'", input);
    assert!(out.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].1.contains("__time__"), "{}", errors[0].1);
}

#[test]
fn time_field_units_by_digit_count() {
    let input = batch(&[
        &[("rt", "1"), ("ts", "1614739700")],
        &[("rt", "2"), ("ts", "1614739700123")],
        &[("rt", "3"), ("ts", "1614739700123456")],
        &[("rt", "4"), ("ts", "1614739700123456789")],
        &[("rt", "5"), ("ts", "1614739700.5")],
    ]);
    let (out, errors) = run("* | log-to-metric -names='rt' -time_field='ts'", input);
    assert!(errors.is_empty(), "{errors:?}");
    let times: Vec<&str> = out.iter().map(|r| r["__time_nano__"].as_str()).collect();
    assert_eq!(
        times,
        vec![
            "1614739700000000000",
            "1614739700123000000",
            "1614739700123456000",
            "1614739700123456789",
            "1614739700500000000",
        ]
    );
    // The event time fields are carried over unchanged.
    assert_eq!(out[0]["__time__"], "1614739608");
    // The time field is not a label or sample unless listed.
    assert!(!out[0].contains_key("ts"));
}

#[test]
fn time_field_typed_values() {
    let input = with(
        batch(&[&[("rt", "1")], &[("rt", "2")]]),
        "ts",
        Arc::new(Float64Array::from(vec![
            1_614_739_700.25,
            1_614_739_700_123.0,
        ])),
    );
    let (out, _) = run("* | log-to-metric -names='rt' -time_field='ts'", input);
    assert_eq!(out[0]["__time_nano__"], "1614739700250000000");
    assert_eq!(out[1]["__time_nano__"], "1614739700123000000");
    let input = with(
        batch(&[&[("rt", "1")]]),
        "ts",
        Arc::new(Int64Array::from(vec![1_614_739_700_123])),
    );
    let (out, _) = run("* | log-to-metric -names='rt' -time_field='ts'", input);
    assert_eq!(out[0]["__time_nano__"], "1614739700123000000");
}

#[test]
fn time_field_from_a_timestamp_expression() {
    let input = batch(&[&[("rt", "1"), ("t", "2021-03-03 02:46:48")]]);
    let (out, errors) = run(
        "* | extend ts = date_parse(t, '%Y-%m-%d %H:%i:%s') | log-to-metric -names='rt' -time_field='ts'",
        input,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(out[0]["__time_nano__"], T_NS);
}

#[test]
fn bad_or_missing_time_field_is_an_error_row() {
    let input = batch(&[
        &[("rt", "1"), ("ts", "yesterday")],
        &[("rt", "2")],
        &[("rt", "3"), ("ts", "12345678901234567890")],
        &[("rt", "4"), ("ts", "1614739700")],
    ]);
    let (out, errors) = run("* | log-to-metric -names='rt' -time_field='ts'", input);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["__value__"], "4.0");
    let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(messages.len(), 3);
    assert!(messages[0].contains("not a Unix timestamp"), "{messages:?}");
    assert!(messages[1].contains("missing"), "{messages:?}");
    assert!(messages[2].contains("19 digits"), "{messages:?}");
}

#[test]
fn metric_rows_feed_metric_to_metric() {
    let input = batch(&[&[("rt", "1"), ("host", "h"), ("env", "prod")]]);
    let (out, errors) = run(
        "* | log-to-metric -names='rt' -labels='host' | extend env = 'prod' | metric-to-metric -add_labels='env'",
        input,
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(out[0]["__labels__"], "env#$#prod|host#$#h");
}

// ---- metric-to-metric ----

/// Metric rows as they come from a Metricstore: every field VARCHAR.
fn metric_input(rows: &[(&str, &str, &str, &str)]) -> RecordBatch {
    let rows: Vec<Vec<(&str, &str)>> = rows
        .iter()
        .map(|(n, l, t, v)| {
            vec![
                ("__name__", *n),
                ("__labels__", *l),
                ("__time_nano__", *t),
                ("__value__", *v),
            ]
        })
        .collect();
    let refs: Vec<&[(&str, &str)]> = rows.iter().map(|r| r.as_slice()).collect();
    batch(&refs)
}

#[test]
fn add_rename_and_delete_labels() {
    let input = with(
        metric_input(&[("cpu", "host#$#h1|pod#$#p1|zone#$#z1", T_NS, "0.5")]),
        "env",
        Arc::new(StringViewArray::from(vec!["prod"])),
    );
    let (out, errors) = run(
        "* | metric-to-metric -add_labels='env' -del_labels='pod' -rename_label='host=hostname'",
        input,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let mut want = metric("cpu", "env#$#prod|hostname#$#h1|zone#$#z1", T_NS, "0.5");
    want.insert("env".into(), "prod".into());
    assert_eq!(out, vec![want], "other fields are kept");
}

#[test]
fn rename_then_delete_and_add_overwrites() {
    let input = with(
        metric_input(&[("cpu", "a#$#1|b#$#2", T_NS, "1")]),
        "b",
        Arc::new(StringViewArray::from(vec!["new"])),
    );
    // add (b=new) → rename (a→c) → delete (a: already renamed, nothing to do).
    let (out, _) = run(
        "* | metric-to-metric -add_labels='b' -rename_label='a=c' -del_labels='a'",
        input,
    );
    assert_eq!(out[0]["__labels__"], "b#$#new|c#$#1");
}

#[test]
fn rename_label_json_object_form() {
    let input = metric_input(&[("cpu", "host#$#h1|ip#$#1.2.3.4", T_NS, "1")]);
    let (out, _) = run(
        r#"* | metric-to-metric -rename_label='{"host": "hostname", "ip": "addr"}'"#,
        input,
    );
    assert_eq!(out[0]["__labels__"], "addr#$#1.2.3.4|hostname#$#h1");
}

#[test]
fn add_label_empty_value_removes_and_missing_field_keeps() {
    let input = with(
        metric_input(&[
            ("cpu", "env#$#old|x#$#1", T_NS, "1"),
            ("cpu", "env#$#old|x#$#1", T_NS, "1"),
        ]),
        "env",
        Arc::new(StringViewArray::from(vec![Some(""), None])),
    );
    let (out, _) = run("* | metric-to-metric -add_labels='env'", input);
    assert_eq!(out[0]["__labels__"], "x#$#1");
    assert_eq!(out[1]["__labels__"], "env#$#old|x#$#1");
}

#[test]
fn labels_are_resorted_and_fields_typed() {
    let input = metric_input(&[("cpu", "z#$#1|a#$#2", "1614739608000000001", "3")]);
    let (batches, errors) = run_batches("* | metric-to-metric", input);
    assert!(errors.is_empty());
    let out: Vec<Row> = batches.iter().flat_map(rows_of).collect();
    assert_eq!(
        out,
        vec![metric("cpu", "a#$#2|z#$#1", "1614739608000000001", "3.0")]
    );
    let schema = batches[0].schema();
    let ty = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
    assert_eq!(ty("__time_nano__"), DataType::Int64);
    assert_eq!(ty("__value__"), DataType::Float64);
    assert_eq!(ty("__labels__"), DataType::Utf8View);
}

#[test]
fn invalid_labels_are_errors_without_format() {
    let input = || {
        metric_input(&[
            ("cpu", "host#$#h1", T_NS, "1"),
            ("cpu", "host", T_NS, "1"),
            ("cpu", "bad-key#$#1|ok#$#2", T_NS, "1"),
            ("cpu", "a#$#1|a#$#2", T_NS, "1"),
            ("cpu", "a#$#1|", T_NS, "1"),
        ])
    };
    let (out, errors) = run("* | metric-to-metric", input());
    assert_eq!(out.len(), 1);
    assert_eq!(errors.len(), 4);
    assert!(errors
        .iter()
        .all(|(_, m)| m.contains("not a valid metric") && m.contains("__labels__")));
    // -format drops what is broken and keeps the rest.
    let (out, errors) = run("* | metric-to-metric -format", input());
    assert!(errors.is_empty(), "{errors:?}");
    let labels: Vec<&str> = out.iter().map(|r| r["__labels__"].as_str()).collect();
    assert_eq!(labels, vec!["host#$#h1", "", "ok#$#2", "a#$#2", "a#$#1"]);
}

#[test]
fn rows_that_are_not_metrics_are_errors_even_with_format() {
    let input = batch(&[
        &[
            ("__labels__", "a#$#1"),
            ("__time_nano__", T_NS),
            ("__value__", "1"),
        ],
        &[
            ("__name__", "cpu"),
            ("__time_nano__", T_NS),
            ("__value__", "high"),
        ],
        &[("__name__", "cpu"), ("__value__", "1")],
        &[
            ("__name__", "cpu"),
            ("__time_nano__", T_NS),
            ("__value__", "2"),
        ],
    ]);
    let (out, errors) = run("* | metric-to-metric -format", input);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0]["__labels__"], "", "no __labels__ field = no labels");
    let messages: Vec<&str> = errors.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(messages.len(), 3);
    assert!(messages[0].contains("no __name__"));
    assert!(messages[1].contains("__value__"));
    assert!(messages[2].contains("__time_nano__"));
}

#[test]
fn invalid_metric_name_is_normalised_with_format() {
    let input = || metric_input(&[("http.requests", "", T_NS, "1")]);
    let (out, errors) = run("* | metric-to-metric", input());
    assert!(out.is_empty());
    assert!(errors[0].1.contains("not a valid metric name"));
    let (out, _) = run("* | metric-to-metric -format", input());
    assert_eq!(out[0]["__name__"], "http_requests");
}

#[test]
fn added_label_value_with_separator() {
    let input = || {
        with(
            metric_input(&[("cpu", "", T_NS, "1")]),
            "path",
            Arc::new(StringViewArray::from(vec!["/a|b"])),
        )
    };
    let (_, errors) = run("* | metric-to-metric -add_labels='path'", input());
    assert_eq!(errors.len(), 1);
    let (out, _) = run("* | metric-to-metric -format -add_labels='path'", input());
    assert_eq!(out[0]["__labels__"], "path#$#/a_b");
}

#[test]
fn metric_to_metric_build_errors() {
    let msg = build_error(r#"* | metric-to-metric -add_labels='__tag__:host'"#);
    assert!(msg.contains("not a valid label key"), "{msg}");
    let msg = build_error("* | metric-to-metric -rename_label='host'");
    assert!(msg.contains("not a rename"), "{msg}");
    let msg = build_error("* | metric-to-metric -rename_label='host=a-b'");
    assert!(msg.contains("not a valid label key"), "{msg}");
}

// ---- conformance cases ----

/// Runs testdata/conformance/metrics.jsonl: input values are text (`__time__` and
/// `__time_ns_part__` become BIGINT), outputs compared as rows of text in order.
#[test]
fn conformance_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/conformance/metrics.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut count = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = case["id"].as_str().unwrap();
        let input: Vec<Row> = serde_json::from_value(case["input"].clone()).unwrap();
        let want: Vec<Row> = serde_json::from_value(case["output"].clone()).unwrap();
        let mut names: Vec<&String> = Vec::new();
        for r in &input {
            for k in r.keys() {
                if !names.contains(&k) {
                    names.push(k);
                }
            }
        }
        let mut fields = Vec::new();
        let mut cols: Vec<ArrayRef> = Vec::new();
        for n in names {
            let vals = input.iter().map(|r| r.get(n).map(String::as_str));
            if n == "__time__" || n == "__time_ns_part__" {
                fields.push(Field::new(n, DataType::Int64, true));
                let ints: Int64Array = vals.map(|v| v.map(|v| v.parse().unwrap())).collect();
                cols.push(Arc::new(ints));
            } else {
                fields.push(Field::new(n, DataType::Utf8View, true));
                cols.push(Arc::new(vals.collect::<StringViewArray>()));
            }
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();
        let (out, errors) = run(case["spl"].as_str().unwrap(), batch);
        assert!(errors.is_empty(), "{id}: {errors:?}");
        assert_eq!(out, want, "{id}");
        count += 1;
    }
    assert_eq!(count, 5);
}

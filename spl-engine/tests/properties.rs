//! Properties over generated pipelines and generated JSON rows: the optimizer never changes a
//! result (output rows with values and types, error rows with `__error__`, counters, whole-batch
//! failures) under any error policy, and a pipeline whose stages keep every row accounts for
//! every row: rows in = rows out + error rows.
use arrow::record_batch::RecordBatch;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use spl_engine::codec::{Decoder, InputFormat};
use spl_engine::pipeline::{with_error_column, ErrorPolicy, Options, Pipeline};
use spl_engine::render::Renderer;

const POLICIES: [ErrorPolicy; 4] = [
    ErrorPolicy::ErrorStream,
    ErrorPolicy::PassThrough,
    ErrorPolicy::Drop,
    ErrorPolicy::Fail,
];

/// A JSON value for a field: numbers as text and JSON, text that does not cast, booleans,
/// nested JSON, empty and non-ASCII text; `None` leaves the field out.
fn value() -> impl Strategy<Value = Option<serde_json::Value>> {
    use serde_json::json;
    prop::option::weighted(
        0.85,
        prop_oneof![
            (-50i64..50).prop_map(|n| json!(n.to_string())),
            (-50i64..50).prop_map(|n| json!(n)),
            Just(json!("1.5")),
            Just(json!("x")),
            Just(json!("")),
            Just(json!(" 7 ")),
            Just(json!("true")),
            Just(json!(false)),
            Just(json!("10-abc")),
            Just(json!("{\"a\": [1, \"b\"]}")),
            Just(json!("k=v&n=3")),
            Just(json!("é🎉-9")),
            Just(json!({"a": 1})),
        ],
    )
}

/// JSON lines with fields `a`, `b`, `c` (each maybe absent).
fn rows() -> impl Strategy<Value = String> {
    prop::collection::vec((value(), value(), value()), 0..12).prop_map(|rows| {
        rows.into_iter()
            .map(|(a, b, c)| {
                let mut o = serde_json::Map::new();
                for (k, v) in [("a", a), ("b", b), ("c", c)] {
                    if let Some(v) = v {
                        o.insert(k.to_string(), v);
                    }
                }
                serde_json::Value::Object(o).to_string() + "\n"
            })
            .collect()
    })
}

fn operand() -> BoxedStrategy<String> {
    prop_oneof![
        prop::sample::select(&["a", "b", "c", "x"][..]).prop_map(str::to_string),
        (-5i64..20).prop_map(|n| n.to_string()),
        prop::sample::select(&["'1'", "'x'", "''", "NULL", "true"][..]).prop_map(str::to_string),
    ]
    .boxed()
}

/// Expressions that can fail per row (casts) and that the optimizer can fold or merge.
fn expr() -> BoxedStrategy<String> {
    operand()
        .prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (
                    inner.clone(),
                    prop::sample::select(&["+", "-", "*", "%"][..]),
                    inner.clone()
                )
                    .prop_map(|(a, op, b)| format!("cast({a} as bigint) {op} cast({b} as bigint)")),
                (
                    inner.clone(),
                    prop::sample::select(&["cast", "try_cast"][..]),
                    prop::sample::select(&["bigint", "double", "boolean"][..])
                )
                    .prop_map(|(e, k, t)| format!("{k}({e} as {t})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("concat({a}, {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("coalesce({a}, {b})")),
                inner.clone().prop_map(|e| format!("upper({e})")),
                inner.clone().prop_map(|e| format!("length({e})")),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(c, t, e)| format!("CASE WHEN {c} IS NULL THEN {t} ELSE {e} END")),
            ]
        })
        .boxed()
}

fn predicate() -> BoxedStrategy<String> {
    prop_oneof![
        (
            expr(),
            prop::sample::select(&["=", "<>", "<", ">="][..]),
            expr()
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        expr().prop_map(|e| format!("{e} IS NOT NULL")),
        (operand(), operand()).prop_map(|(a, b)| format!("{a} = {b} or {a} IS NULL")),
        Just("1 = 1".to_string()),
        Just("cast(a as bigint) > 0 and b <> 'x'".to_string()),
    ]
    .boxed()
}

/// One stage and whether it keeps every row (outputs one row per input row or an error row).
fn stage() -> BoxedStrategy<(String, bool)> {
    prop_oneof![
        3 => (prop::sample::select(&["x", "a", "y"][..]), expr())
            .prop_map(|(f, e)| (format!("extend {f} = {e}"), true)),
        2 => predicate().prop_map(|p| (format!("where {p}"), false)),
        1 => prop::sample::select(&["b", "c", "x"][..]).prop_map(|f| (format!("project-away {f}"), true)),
        1 => Just(("project a, x, c".to_string(), true)),
        1 => Just(("project-rename z = b".to_string(), true)),
        1 => Just(("parse-regexp c, '(\\d+)-(\\w+)' as n, w".to_string(), true)),
        1 => Just(("parse-json c".to_string(), true)),
        1 => Just(("parse-kv c, '&', '='".to_string(), true)),
    ]
    .boxed()
}

fn program() -> impl Strategy<Value = (String, bool)> {
    prop::collection::vec(stage(), 1..5).prop_map(|stages| {
        let keeps = stages.iter().all(|(_, k)| *k);
        let text = std::iter::once("*".to_string())
            .chain(stages.into_iter().map(|(s, _)| s))
            .collect::<Vec<_>>()
            .join(" | ");
        (text, keeps)
    })
}

fn compile(spl: &str, policy: ErrorPolicy, optimize: bool) -> Result<Pipeline, String> {
    let options = Options {
        error_policy: Some(policy),
        optimize,
        ..Options::default()
    };
    Pipeline::compile(spl, &options).map_err(|d| d.render("spl", spl, false))
}

fn input(lines: &str) -> RecordBatch {
    let decoded = Decoder::new(InputFormat::Json).decode(lines.as_bytes(), 1);
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    decoded.batch
}

/// Everything a caller can observe of processing `batch`, as text.
fn outcome(p: &Pipeline, batch: RecordBatch) -> String {
    let r = Renderer::default();
    let show = |b: &RecordBatch| {
        let types: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect();
        format!("[{}] {:?}", types.join(", "), r.rows(b))
    };
    match p.process(batch) {
        Err(e) => format!("failed: {e} ({})", e.code()),
        Ok(out) => {
            let mut s = String::new();
            for (i, d) in out.datasets.iter().enumerate() {
                s.push_str(&format!("output {i}:\n"));
                for b in d.iter().filter(|b| b.num_rows() > 0) {
                    s.push_str(&format!("  {}\n", show(b)));
                }
            }
            for e in &out.errors {
                let rows = with_error_column(e).expect("error column");
                s.push_str(&format!("error {}: {}\n", e.code, show(&rows)));
            }
            s.push_str(&format!(
                "error rows {}, budget {}\n",
                out.error_rows, out.budget_exceeded
            ));
            s
        }
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn the_optimizer_never_changes_a_result() {
    let compiled = std::cell::Cell::new(0u32);
    runner(96)
        .run(&(program(), rows()), |((spl, _), lines)| {
            let batch = input(&lines);
            for policy in POLICIES {
                // A generated program may not type-check; then it must fail the same way
                // with and without the optimizer.
                let (plain, optimized) =
                    match (compile(&spl, policy, false), compile(&spl, policy, true)) {
                        (Ok(p), Ok(o)) => (p, o),
                        (Err(a), Err(b)) => {
                            prop_assert_eq!(a, b);
                            continue;
                        }
                        (a, b) => {
                            return Err(TestCaseError::fail(format!(
                                "{spl}: compiles only {}: {:?}",
                                if a.is_ok() {
                                    "without the optimizer"
                                } else {
                                    "with the optimizer"
                                },
                                a.err().or(b.err())
                            )))
                        }
                    };
                compiled.set(compiled.get() + 1);
                prop_assert_eq!(
                    outcome(&plain, batch.clone()),
                    outcome(&optimized, batch.clone()),
                    "{} under {:?}; rewrites: {:?}\ninput:\n{}",
                    &spl,
                    policy,
                    optimized.rewrites(),
                    &lines
                );
            }
            Ok(())
        })
        .unwrap();
    let compiled = compiled.get();
    assert!(
        compiled >= 96,
        "only {compiled} of 384 generated programs compiled"
    );
}

#[test]
fn row_preserving_pipelines_account_for_every_row() {
    let keeping = program().prop_filter("keeps every row", |(_, keeps)| *keeps);
    runner(96)
        .run(&(keeping, rows()), |((spl, _), lines)| {
            let batch = input(&lines);
            let rows_in = batch.num_rows() as u64;
            for policy in POLICIES {
                for optimize in [false, true] {
                    let Ok(p) = compile(&spl, policy, optimize) else {
                        continue; // does not type-check (covered by the test above)
                    };
                    let out = match p.process(batch.clone()) {
                        Ok(out) => out,
                        Err(e) => {
                            prop_assert_eq!(policy, ErrorPolicy::Fail, "{}: {}", &spl, e);
                            continue;
                        }
                    };
                    let rows_out = out.rows() as u64;
                    let stream: u64 = out.errors.iter().map(|e| e.rows.num_rows() as u64).sum();
                    let accounted = match policy {
                        // Failed rows go to the error stream (or are counted when settled).
                        ErrorPolicy::ErrorStream => rows_out + stream + out.error_rows,
                        // Failed rows are emitted unchanged (and counted).
                        ErrorPolicy::PassThrough | ErrorPolicy::Fail => rows_out,
                        // Failed rows are counted and dropped.
                        ErrorPolicy::Drop => rows_out + out.error_rows,
                    };
                    prop_assert_eq!(
                        rows_in,
                        accounted,
                        "{} under {:?} (optimize {}): out {}, stream {}, error rows {}\ninput:\n{}",
                        &spl,
                        policy,
                        optimize,
                        rows_out,
                        stream,
                        out.error_rows,
                        &lines
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

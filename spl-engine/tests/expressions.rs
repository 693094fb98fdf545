//! SLS expression semantics through the engine (coercion §18.2, NULLs, CASE and conditional
//! functions, casts): each line of testdata/expressions.tsv is an expression and its expected
//! rendered result on a fixed row.
use std::sync::Arc;

use arrow::array::{ArrayRef, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use spl_engine::expr::eval::EvalError;
use spl_engine::expr::{evaluate, Session};
use spl_engine::render::Renderer;
use spl_parser::InstructionKind;

fn row() -> RecordBatch {
    let fields = [
        ("status", "600"),
        ("small", "60"),
        ("word", "abc"),
        ("dec", "1.5"),
        ("t1", "10"),
        ("t2", "4"),
        ("empty", ""),
    ];
    let schema = Schema::new(
        fields
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8View, true))
            .collect::<Vec<_>>(),
    );
    let cols: Vec<ArrayRef> = fields
        .iter()
        .map(|(_, v)| Arc::new(StringViewArray::from(vec![*v])) as ArrayRef)
        .collect();
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

#[test]
fn expression_table() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/expressions.tsv"
    ))
    .unwrap();
    let batch = row();
    let session = Session::default();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (expr, expected) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("no tab in {line:?}"));
        n += 1;
        let program = spl_parser::parse(&format!("* | extend x = {expr}"))
            .unwrap_or_else(|d| panic!("{expr}: {d}"));
        let InstructionKind::Extend { assignments } =
            &program.statements[0].pipeline.stages[0].kind
        else {
            unreachable!()
        };
        let got = match evaluate(&assignments[0].value, &batch, &session) {
            Ok(a) => Renderer::default()
                .text(a.as_ref(), 0)
                .unwrap_or_else(|| "NULL".into()),
            Err(EvalError::Compile(d)) => format!("ERROR:{}", d.code.id),
            Err(EvalError::Runtime(m)) => format!("RUNTIME:{m}"),
        };
        if got != expected {
            failures.push(format!("{expr}: got {got}, expected {expected}"));
        }
    }
    assert!(n >= 40);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn eval_with(expr: &str, session: &Session) -> Result<String, EvalError> {
    let program = spl_parser::parse(&format!("* | extend x = {expr}")).unwrap();
    let InstructionKind::Extend { assignments } = &program.statements[0].pipeline.stages[0].kind
    else {
        unreachable!()
    };
    let a = evaluate(&assignments[0].value, &row(), session)?;
    Ok(Renderer::new(session.tz)
        .text(a.as_ref(), 0)
        .unwrap_or_else(|| "NULL".into()))
}

#[test]
fn session_time_zone_governs_text_timestamps() {
    // The general-reference example: 2023-11-11 01:23:45 at UTC+8 is 1699637025 (spec §18.1).
    let utc8 = Session::new(spl_engine::timezone::SessionTz::parse("+08:00").unwrap());
    let e = "cast(to_unixtime(cast('2023-11-11 01:23:45' as timestamp)) as bigint)";
    assert_eq!(eval_with(e, &utc8).unwrap(), "1699637025");
    assert_eq!(eval_with(e, &Session::default()).unwrap(), "1699665825");
    // Shown back in the session zone.
    assert_eq!(
        eval_with("cast('2023-11-11 01:23:45' as timestamp)", &utc8).unwrap(),
        "2023-11-11 01:23:45.000"
    );
}

#[test]
fn failing_casts_are_runtime_errors() {
    match eval_with("cast(word as bigint)", &Session::default()) {
        Err(EvalError::Runtime(m)) => assert!(m.contains("abc"), "{m}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
    match eval_with("cast('soon' as timestamp)", &Session::default()) {
        Err(EvalError::Runtime(m)) => assert!(m.contains("cannot cast 'soon' to TIMESTAMP"), "{m}"),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

#[test]
fn integer_overflow_is_a_runtime_error_not_a_wrap() {
    for e in [
        "9223372036854775807 + 1",
        "-9223372036854775807 - 10",
        "9223372036854775807 * 2",
        "cast(status as bigint) * 9223372036854775807",
    ] {
        match eval_with(e, &Session::default()) {
            Err(EvalError::Runtime(m)) => {
                assert!(m.to_lowercase().contains("overflow"), "{e}: {m}")
            }
            other => panic!("{e}: expected an overflow error, got {other:?}"),
        }
    }
    // DOUBLE arithmetic does not overflow into an error.
    assert_eq!(
        eval_with("9223372036854775807.0 * 2", &Session::default()).unwrap(),
        "1.8446744073709552e19"
    );
}

#[test]
fn try_turns_row_errors_into_null() {
    let s = Session::default();
    assert_eq!(eval_with("try(cast(word as bigint))", &s).unwrap(), "NULL");
    assert_eq!(eval_with("coalesce(try(1 / 0), -1)", &s).unwrap(), "-1");
    assert_eq!(
        eval_with("try(cast(status as bigint)) + 1", &s).unwrap(),
        "601"
    );
    assert_eq!(
        eval_with(
            "try(json_parse(word)) IS NULL AND try(9223372036854775807 + 1) IS NULL",
            &s
        )
        .unwrap(),
        "true"
    );
    // Nested: the inner try absorbs the error, the outer sees a value.
    assert_eq!(
        eval_with("try(coalesce(try(1 / 0), 2) * 3)", &s).unwrap(),
        "6"
    );
    // Without try the same expression is a row error.
    assert!(matches!(
        eval_with("cast(word as bigint)", &s),
        Err(EvalError::Runtime(_))
    ));
}

#[test]
fn timestamp_date_casts_follow_the_session_zone() {
    let utc8 = Session::new(spl_engine::timezone::SessionTz::parse("+08:00").unwrap());
    // 1534521600 is 2018-08-17 16:00 UTC, 2018-08-18 00:00 at UTC+8.
    assert_eq!(
        eval_with("cast(from_unixtime(1534521600) as date)", &utc8).unwrap(),
        "2018-08-18"
    );
    assert_eq!(
        eval_with("cast(from_unixtime(1534521600) as varchar)", &utc8).unwrap(),
        "2018-08-18 00:00:00.000"
    );
    assert_eq!(
        eval_with("to_unixtime(cast(date('2018-08-18') as timestamp))", &utc8).unwrap(),
        "1534521600.0"
    );
}

/// Plans are cached per expression and schema: a second batch with the same schema reuses the
/// plan, a batch where the field has another type gets its own (and the right result).
#[test]
fn plans_are_cached_per_schema() {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    let session = spl_engine::expr::Session::default();
    let e = spl_parser::parse("* | where x + 1 > 2").unwrap();
    let spl_parser::InstructionKind::Where { predicate } = &e.statements[0].pipeline.stages[0].kind
    else {
        panic!("where")
    };
    let text = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Utf8View, true)])),
        vec![Arc::new(StringViewArray::from(vec!["1", "5"]))],
    )
    .unwrap();
    let ints = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)])),
        vec![Arc::new(Int64Array::from(vec![9, 0]))],
    )
    .unwrap();
    let compiled = spl_engine::expr::CompiledExpr::new(predicate.clone());
    let render = |b: &RecordBatch| {
        let v = compiled.evaluate(b, &session).unwrap();
        let r = spl_engine::render::Renderer::default();
        (0..v.len())
            .map(|i| r.text(v.as_ref(), i).unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(render(&text), ["false", "true"]);
    assert_eq!(compiled.plans_made(), 1);
    assert_eq!(render(&text.clone()), ["false", "true"]);
    assert_eq!(compiled.plans_made(), 1);
    assert_eq!(render(&ints), ["true", "false"]);
    assert_eq!(compiled.plans_made(), 2);
}

/// The value expression of `* | extend x = <text>`.
fn parse_value(text: &str) -> spl_parser::Expr {
    let program = spl_parser::parse(&format!("* | extend x = {text}")).unwrap();
    let InstructionKind::Extend { assignments } = &program.statements[0].pipeline.stages[0].kind
    else {
        panic!("not an extend");
    };
    assignments[0].value.clone()
}

/// A batch of one VARCHAR column `name` holding `values`.
fn column(name: &str, values: Vec<&str>) -> RecordBatch {
    let schema = Schema::new(vec![Field::new(name, DataType::Utf8View, true)]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(StringViewArray::from(values)) as ArrayRef],
    )
    .unwrap()
}

#[test]
fn a_compiled_expression_is_planned_once_per_schema_across_threads() {
    use spl_engine::expr::CompiledExpr;
    let compiled = CompiledExpr::new(parse_value("cast(v as bigint) + 1"));
    let session = Session::default();
    let batch = column("v", vec!["1", "2", "3"]);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                for _ in 0..50 {
                    let out = compiled.evaluate(&batch.clone(), &session).unwrap();
                    assert_eq!(out.len(), 3);
                }
            });
        }
    });
    assert_eq!(compiled.plans_made(), 1);
    // Another batch with an equal schema (a different Arc) reuses the plan.
    compiled
        .evaluate(&column("v", vec!["7"]), &session)
        .unwrap();
    assert_eq!(compiled.plans_made(), 1);
    // A new schema plans again.
    let two = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("v", DataType::Utf8View, true),
            Field::new("w", DataType::Utf8View, true),
        ])),
        vec![
            Arc::new(StringViewArray::from(vec!["5"])) as ArrayRef,
            Arc::new(StringViewArray::from(vec!["x"])) as ArrayRef,
        ],
    )
    .unwrap();
    compiled.evaluate(&two, &session).unwrap();
    assert_eq!(compiled.plans_made(), 2);
}

#[test]
fn the_plan_cache_of_a_compiled_expression_is_bounded() {
    use spl_engine::expr::eval::MAX_PLANS_PER_EXPR;
    use spl_engine::expr::CompiledExpr;
    let compiled = CompiledExpr::new(parse_value("coalesce(v, 'none')"));
    let session = Session::default();
    for i in 0..(MAX_PLANS_PER_EXPR * 3) {
        // Each batch adds a differently named column: a new schema every time.
        let schema = Schema::new(vec![
            Field::new("v", DataType::Utf8View, true),
            Field::new(format!("extra{i}"), DataType::Utf8View, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringViewArray::from(vec!["a"])) as ArrayRef,
                Arc::new(StringViewArray::from(vec!["b"])) as ArrayRef,
            ],
        )
        .unwrap();
        compiled.evaluate(&batch, &session).unwrap();
    }
    assert_eq!(compiled.plans_made(), MAX_PLANS_PER_EXPR * 3);
    assert!(compiled.cached_plans() <= MAX_PLANS_PER_EXPR);
}

#[test]
fn row_errors_are_isolated_without_planning_again() {
    use spl_engine::expr::CompiledExpr;
    let compiled = CompiledExpr::new(parse_value("cast(v as bigint) * 2"));
    let session = Session::default();
    let values: Vec<String> = (0..100)
        .map(|i| {
            if i % 37 == 5 {
                format!("bad{i}")
            } else {
                i.to_string()
            }
        })
        .collect();
    let batch = column("v", values.iter().map(String::as_str).collect());
    let iso = compiled.evaluate_isolating(&batch, &session).unwrap();
    let failed: Vec<String> = iso
        .failed
        .iter()
        .map(|(rows, _)| {
            Renderer::default()
                .text(rows.column(0).as_ref(), 0)
                .unwrap()
        })
        .collect();
    assert_eq!(failed, vec!["bad5", "bad42", "bad79"]);
    let good: usize = iso.good.iter().map(|(b, _)| b.num_rows()).sum();
    assert_eq!(good, 97);
    assert_eq!(compiled.plans_made(), 1);
}

#[test]
fn try_keeps_working_in_a_compiled_expression_and_plans_once() {
    use spl_engine::expr::CompiledExpr;
    let compiled = CompiledExpr::new(parse_value("coalesce(try(cast(v as bigint)), -1)"));
    let session = Session::default();
    let batch = column("v", vec!["4", "x", "6"]);
    for _ in 0..3 {
        let out = compiled.evaluate(&batch, &session).unwrap();
        let r = Renderer::default();
        let got: Vec<String> = (0..3).map(|i| r.text(out.as_ref(), i).unwrap()).collect();
        assert_eq!(got, vec!["4", "-1", "6"]);
    }
    // One plan for the hoisted `try` argument, one for the whole expression.
    assert_eq!(compiled.plans_made(), 2);
}

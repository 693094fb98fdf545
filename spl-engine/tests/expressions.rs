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

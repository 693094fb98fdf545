//! Every example in the function library's metadata, evaluated through the engine's real path
//! (parse → lower with SLS coercion → DataFusion physical expression → §18.4 rendering), gives
//! the documented result.
use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use spl_engine::expr::{evaluate, Session};
use spl_engine::render::Renderer;
use spl_parser::InstructionKind;

fn parse_expr(text: &str) -> spl_parser::Expr {
    let program = spl_parser::parse(&format!("* | extend x = {text}"))
        .unwrap_or_else(|d| panic!("{text}: {d}"));
    match &program.statements[0].pipeline.stages[0].kind {
        InstructionKind::Extend { assignments } => assignments[0].value.clone(),
        _ => unreachable!(),
    }
}

#[test]
fn every_example_evaluates_to_its_documented_result() {
    let one_row = RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        vec![],
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .unwrap();
    // The geolocation examples answer from the small test database the engine can write.
    let session =
        Session::default().with_geoip(Some(spl_engine::functions::geoip::mmdb::sample_db()));
    let renderer = Renderer::default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for f in spl_engine::functions::all() {
        for ex in f.examples {
            let e = parse_expr(ex.expr);
            // Volatile results (now(), random()) are checked for type only by the family tests.
            match evaluate(&e, &one_row, &session) {
                Ok(array) => {
                    checked += 1;
                    let got = renderer.text(array.as_ref(), 0);
                    if got.as_deref() != ex.result {
                        failures.push(format!(
                            "{}: {} => {:?}, documented {:?}",
                            f.name, ex.expr, got, ex.result
                        ));
                    }
                }
                Err(err) => failures.push(format!("{}: {} => error: {err}", f.name, ex.expr)),
            }
        }
    }
    println!("{checked} examples checked");
    assert!(
        failures.is_empty(),
        "{} of {} examples failed:\n{}",
        failures.len(),
        checked + failures.len(),
        failures.join("\n")
    );
}

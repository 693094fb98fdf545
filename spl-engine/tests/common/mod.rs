//! Helpers shared by the engine's integration tests: batches of text fields built from pairs,
//! and rows rendered back as text (spec §18.4).
#![allow(dead_code)]
use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use spl_engine::render::Renderer;

/// One row as field → text.
pub type Row = BTreeMap<String, String>;

/// A batch of VARCHAR fields (absent = NULL) plus `__time__` as BIGINT.
pub fn batch(rows: &[&[(&str, &str)]]) -> RecordBatch {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        for (k, _) in *r {
            if !names.contains(k) {
                names.push(k);
            }
        }
    }
    let mut fields = vec![Field::new("__time__", DataType::Int64, true)];
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![1_700_000_000; rows.len()]))];
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

/// The rows of `b` as text, NULL fields left out.
pub fn rows_of(b: &RecordBatch) -> Vec<Row> {
    Renderer::default().rows(b)
}

//! `where <expr>`: keeps the rows whose predicate is TRUE; FALSE and NULL drop the row.
use arrow::array::AsArray;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::Expr;

use super::{evaluate_isolating, BatchError, Operator, StageOutput};
use crate::expr::Session;

#[derive(Debug)]
pub struct Where {
    predicate: Expr,
}

impl Where {
    pub fn new(predicate: Expr) -> Where {
        Where { predicate }
    }
}

impl Operator for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let out = evaluate_isolating(&self.predicate, batch, session)?;
        let mask = match out.values.data_type() {
            DataType::Boolean => out.values.as_boolean().clone(),
            DataType::Null => arrow::array::BooleanArray::from(vec![None; out.values.len()]),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                text_as_boolean(out.values.as_ref())
            }
            t if t.is_numeric() => arrow::compute::cast(&out.values, &DataType::Boolean)
                .map_err(|e| BatchError(e.to_string()))?
                .as_boolean()
                .clone(),
            other => {
                return Err(BatchError(format!(
                    "the `where` condition must be a boolean, found {other}"
                )))
            }
        };
        let kept = arrow::compute::filter_record_batch(&out.batch, &mask)
            .map_err(|e| BatchError(e.to_string()))?;
        Ok(StageOutput {
            batches: vec![kept],
            errors: out.errors,
        })
    }
}

/// A text condition as a boolean, as `TRY_CAST(x AS BOOLEAN)` reads it: `true`/`false`, `t`/`f`,
/// `1`/`0` (any case, surrounding spaces ignored); any other text is NULL, so the row is dropped.
fn text_as_boolean(values: &dyn arrow::array::Array) -> arrow::array::BooleanArray {
    let renderer = crate::render::Renderer::default();
    let text = |i: usize| renderer.text(values, i);
    (0..values.len())
        .map(|i| {
            let t = text(i)?;
            match t.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Some(true),
                "false" | "f" | "0" => Some(false),
                _ => None,
            }
        })
        .collect()
}

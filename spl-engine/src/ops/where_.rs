//! `where <expr>`: keeps the rows whose predicate is TRUE; FALSE and NULL drop the row.
//!
//! The optimizer may merge adjacent `where` stages into one ([`Where::merge`]): the predicates
//! then run in order, each on the rows the previous one kept, exactly as separate stages would.
use arrow::array::{AsArray, BooleanArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::Expr;

use super::{evaluate_isolating, BatchError, Operator, StageOutput};
use crate::expr::{CompiledExpr, Session};

#[derive(Debug)]
pub struct Where {
    /// Each predicate with the part (original stage) it came from.
    predicates: Vec<(CompiledExpr, usize)>,
}

impl Where {
    pub fn new(predicate: Expr) -> Where {
        Where {
            predicates: vec![(CompiledExpr::new(predicate), 0)],
        }
    }

    /// Appends the predicates of `next` (the `where` right after this one); its parts are
    /// numbered after `offset`.
    pub fn merge(&mut self, next: Where, offset: usize) {
        self.predicates.extend(
            next.predicates
                .into_iter()
                .map(|(p, part)| (p, part + offset)),
        );
    }

    /// The predicates, in the order they run.
    pub fn predicates(&self) -> impl Iterator<Item = &Expr> {
        self.predicates.iter().map(|(p, _)| p.expr())
    }

    /// The rows kept when every predicate evaluates without a row error and to a usable type;
    /// `None` otherwise (the caller then falls back to the isolating path, [`Operator::process`]).
    pub fn try_filter(&self, batch: &RecordBatch, session: &Session) -> Option<RecordBatch> {
        let mut batch = batch.clone();
        for (p, _) in &self.predicates {
            if batch.num_rows() == 0 {
                break;
            }
            let values = p.evaluate(&batch, session).ok()?;
            let mask = mask(&values).ok()?;
            batch = arrow::compute::filter_record_batch(&batch, &mask).ok()?;
        }
        Some(batch)
    }
}

impl Operator for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let mut batch = batch;
        let mut errors = Vec::new();
        for (p, part) in &self.predicates {
            // Separate stages never see an empty batch: stop where they would.
            if batch.num_rows() == 0 {
                break;
            }
            let in_part = |mut e: BatchError| {
                e.part = *part;
                e
            };
            let out = evaluate_isolating(p, batch, session).map_err(in_part)?;
            errors.extend(out.errors.into_iter().map(|mut e| {
                e.part = *part;
                e
            }));
            let mask = mask(&out.values).map_err(in_part)?;
            batch = arrow::compute::filter_record_batch(&out.batch, &mask)
                .map_err(|e| in_part(BatchError::new(e.to_string())))?;
        }
        Ok(StageOutput {
            batches: vec![batch],
            errors,
        })
    }
}

/// The predicate's values as a keep-mask: booleans as they are, NULL drops, text as
/// [`text_as_boolean`], numbers are true unless 0.
fn mask(values: &arrow::array::ArrayRef) -> Result<BooleanArray, BatchError> {
    Ok(match values.data_type() {
        DataType::Boolean => values.as_boolean().clone(),
        DataType::Null => BooleanArray::from(vec![None; values.len()]),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            text_as_boolean(values.as_ref())
        }
        t if t.is_numeric() => arrow::compute::cast(values, &DataType::Boolean)
            .map_err(|e| BatchError::new(e.to_string()))?
            .as_boolean()
            .clone(),
        other => {
            return Err(BatchError::new(format!(
                "the `where` condition must be a boolean, found {other}"
            )))
        }
    })
}

/// A text condition as a boolean, as `TRY_CAST(x AS BOOLEAN)` reads it: `true`/`false`, `t`/`f`,
/// `1`/`0` (any case, surrounding spaces ignored); any other text is NULL, so the row is dropped.
fn text_as_boolean(values: &dyn arrow::array::Array) -> BooleanArray {
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

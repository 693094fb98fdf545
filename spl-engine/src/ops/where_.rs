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

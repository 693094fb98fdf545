//! `extend out = expr, ...`: computes fields left to right (a later assignment sees earlier ones,
//! spec §18.9); a NULL value leaves the field absent in that row. Only `extend` may write the
//! time fields, and only with integers.
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::Assignment;

use super::{evaluate_isolating, BatchError, Operator, StageOutput};
use crate::batch::{is_time_field, set_column};
use crate::expr::coerce::is_integral;
use crate::expr::Session;

#[derive(Debug)]
pub struct Extend {
    assignments: Vec<Assignment>,
}

impl Extend {
    pub fn new(assignments: Vec<Assignment>) -> Extend {
        Extend { assignments }
    }
}

impl Operator for Extend {
    fn name(&self) -> &'static str {
        "extend"
    }

    fn process(
        &self,
        mut batch: RecordBatch,
        session: &Session,
    ) -> Result<StageOutput, BatchError> {
        let mut errors = Vec::new();
        for a in &self.assignments {
            let out = evaluate_isolating(&a.value, batch, session)?;
            errors.extend(out.errors);
            let mut values = out.values;
            if is_time_field(&a.output.name) {
                if !is_integral(values.data_type()) && values.data_type() != &DataType::Null {
                    return Err(BatchError(format!(
                        "`{}` must be set to an integer, found {}",
                        a.output.name,
                        values.data_type()
                    )));
                }
                values = arrow::compute::cast(&values, &DataType::Int64)
                    .map_err(|e| BatchError(e.to_string()))?;
            }
            batch = set_column(&out.batch, &a.output.name, Arc::clone(&values))
                .map_err(|e| BatchError(e.to_string()))?;
        }
        Ok(StageOutput {
            batches: vec![batch],
            errors,
        })
    }
}

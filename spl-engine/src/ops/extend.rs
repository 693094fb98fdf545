//! `extend out = expr, ...`: computes fields left to right (a later assignment sees earlier ones,
//! spec §18.9); a NULL value leaves the field absent in that row. Only `extend` may write the
//! time fields, and only with integers.
//!
//! The optimizer may merge adjacent `extend` stages into one ([`Extend::merge`]): assignments
//! keep their order, so a later one still sees what an earlier one wrote.
use std::sync::Arc;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::{Assignment, Ident};

use super::{evaluate_isolating, BatchError, Operator, StageOutput};
use crate::batch::{is_time_field, set_column};
use crate::expr::coerce::is_integral;
use crate::expr::{CompiledExpr, Session};

#[derive(Debug)]
pub struct Extend {
    /// Each assignment (output field, compiled value) with the part (original stage) it came
    /// from.
    assignments: Vec<(Ident, CompiledExpr, usize)>,
}

impl Extend {
    pub fn new(assignments: Vec<Assignment>) -> Extend {
        Extend {
            assignments: assignments
                .into_iter()
                .map(|a| (a.output, CompiledExpr::new(a.value), 0))
                .collect(),
        }
    }

    /// Appends the assignments of `next` (the `extend` right after this one); its parts are
    /// numbered after `offset`.
    pub fn merge(&mut self, next: Extend, offset: usize) {
        self.assignments.extend(
            next.assignments
                .into_iter()
                .map(|(o, v, part)| (o, v, part + offset)),
        );
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
        let mut current = self.assignments.first().map_or(0, |(_, _, part)| *part);
        for (output, value, part) in &self.assignments {
            // Separate stages never see an empty batch: a merged part stops where they would.
            if *part != current && batch.num_rows() == 0 {
                break;
            }
            current = *part;
            let in_part = |mut e: BatchError| {
                e.part = *part;
                e
            };
            let out = evaluate_isolating(value, batch, session).map_err(in_part)?;
            errors.extend(out.errors.into_iter().map(|mut e| {
                e.part = *part;
                e
            }));
            let mut values = out.values;
            if is_time_field(&output.name) {
                if !is_integral(values.data_type()) && values.data_type() != &DataType::Null {
                    return Err(in_part(BatchError::new(format!(
                        "`{}` must be set to an integer, found {}",
                        output.name,
                        values.data_type()
                    ))));
                }
                values = arrow::compute::cast(&values, &DataType::Int64)
                    .map_err(|e| in_part(BatchError::new(e.to_string())))?;
            }
            batch = set_column(&out.batch, &output.name, Arc::clone(&values))
                .map_err(|e| in_part(BatchError::new(e.to_string())))?;
        }
        Ok(StageOutput {
            batches: vec![batch],
            errors,
        })
    }
}

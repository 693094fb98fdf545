//! `project-rename out=field, ...`: renames fields and keeps all others. A missing source does
//! nothing; a target that already exists is overwritten (spec §8.2 default). Time fields are
//! rejected by the parser.
use std::sync::Arc;

use arrow::datatypes::Field;
use arrow::record_batch::RecordBatch;
use spl_parser::Rename;

use super::{BatchError, Operator, StageOutput};
use crate::batch::from_columns;
use crate::expr::Session;

#[derive(Debug)]
pub struct ProjectRename {
    /// (output, source)
    renames: Vec<(String, String)>,
}

impl ProjectRename {
    pub fn new(renames: &[Rename]) -> ProjectRename {
        ProjectRename {
            renames: renames
                .iter()
                .map(|r| (r.output.name.clone(), r.field.name.clone()))
                .collect(),
        }
    }
}

impl Operator for ProjectRename {
    fn name(&self) -> &'static str {
        "project-rename"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let schema = batch.schema();
        let present: Vec<&(String, String)> = self
            .renames
            .iter()
            .filter(|(_, src)| schema.index_of(src).is_ok())
            .collect();
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            let name = match present.iter().find(|(_, src)| src == f.name()) {
                Some((out, _)) => out.clone(),
                // A field that a rename overwrites disappears.
                None if present.iter().any(|(out, _)| out == f.name()) => continue,
                None => f.name().clone(),
            };
            fields.push(Field::new(name, f.data_type().clone(), true));
            columns.push(Arc::clone(batch.column(i)));
        }
        let out = from_columns(fields, columns, batch.num_rows())
            .map_err(|e| BatchError::new(e.to_string()))?;
        Ok(StageOutput::one(out))
    }
}

//! `project [-wildcard] field, out=field, ...`: keeps only the listed fields (time fields always
//! stay), in the order listed; renames are applied after all keeps. Absent fields are skipped.
use std::sync::Arc;

use arrow::datatypes::Field;
use arrow::record_batch::RecordBatch;
use spl_parser::ProjectItem;

use super::{BatchError, Operator, StageOutput};
use crate::batch::{from_columns, glob_match, is_time_field};
use crate::expr::Session;

#[derive(Debug)]
pub struct Project {
    /// (output name, source name or pattern)
    items: Vec<(Option<String>, String)>,
    wildcard: bool,
}

impl Project {
    pub fn new(items: &[ProjectItem], wildcard: bool) -> Project {
        Project {
            items: items
                .iter()
                .map(|i| {
                    (
                        i.output.as_ref().map(|o| o.name.clone()),
                        i.field.name.clone(),
                    )
                })
                .collect(),
            wildcard,
        }
    }
}

impl Operator for Project {
    fn name(&self) -> &'static str {
        "project"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let schema = batch.schema();
        // (output name, column index); a later choice of the same name replaces an earlier one.
        let mut chosen: Vec<(String, usize)> = Vec::new();
        let mut choose = |name: &str, idx: usize| {
            chosen.retain(|(n, _)| n != name);
            chosen.push((name.to_string(), idx));
        };
        let names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        for (i, name) in names.iter().enumerate() {
            if is_time_field(name) {
                choose(name, i);
            }
        }
        for (_, field) in self.items.iter().filter(|(o, _)| o.is_none()) {
            for (i, name) in names.iter().enumerate() {
                if if self.wildcard {
                    glob_match(field, name)
                } else {
                    *name == field
                } {
                    choose(name, i);
                }
            }
        }
        for (output, field) in self
            .items
            .iter()
            .filter_map(|(o, f)| o.as_ref().map(|o| (o, f)))
        {
            if let Some(i) = names.iter().position(|n| *n == field) {
                if !is_time_field(output) {
                    choose(output, i);
                }
            }
        }
        let fields = chosen
            .iter()
            .map(|(n, i)| Field::new(n, schema.field(*i).data_type().clone(), true))
            .collect();
        let columns = chosen
            .iter()
            .map(|(_, i)| Arc::clone(batch.column(*i)))
            .collect();
        let out = from_columns(fields, columns, batch.num_rows())
            .map_err(|e| BatchError::new(e.to_string()))?;
        Ok(StageOutput::one(out))
    }
}

//! `project-away [-wildcard] field, ...`: removes the listed fields (globs with `-wildcard`);
//! time fields always stay; removing an absent field does nothing.
use arrow::record_batch::RecordBatch;
use spl_parser::Ident;

use super::{BatchError, Operator, StageOutput};
use crate::batch::{glob_match, is_time_field, retain_columns};
use crate::expr::Session;

#[derive(Debug)]
pub struct ProjectAway {
    patterns: Vec<String>,
    wildcard: bool,
}

impl ProjectAway {
    pub fn new(patterns: &[Ident], wildcard: bool) -> ProjectAway {
        ProjectAway {
            patterns: patterns.iter().map(|p| p.name.clone()).collect(),
            wildcard,
        }
    }
}

impl Operator for ProjectAway {
    fn name(&self) -> &'static str {
        "project-away"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let out = retain_columns(&batch, |_, name| {
            is_time_field(name)
                || !self.patterns.iter().any(|p| {
                    if self.wildcard {
                        glob_match(p, name)
                    } else {
                        p == name
                    }
                })
        })
        .map_err(|e| BatchError::new(e.to_string()))?;
        Ok(StageOutput::one(out))
    }
}

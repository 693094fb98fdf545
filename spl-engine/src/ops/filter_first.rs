//! A `where` moved ahead of the stages that preceded it (filter pushdown, planned by
//! `optimize/pushdown.rs`): rows it drops are never parsed or extended.
//!
//! The condition can fail on some rows, and such an error row must carry the fields the
//! stages wrote before it. So the predicate runs first and, when it fails on any row of the
//! batch (or does not compile for it), the batch runs in the order written instead; the fast
//! path is for batches without row errors.
use arrow::record_batch::RecordBatch;

use super::{BatchError, Operator, StageOutput, Where};
use crate::expr::Session;

/// A `where` and the stages it runs before.
#[derive(Debug)]
pub struct FilterFirst {
    filter: Where,
    /// The stages it moved ahead of, in order, each with the part number of its first part.
    stages: Vec<(Box<dyn Operator>, usize)>,
}

impl FilterFirst {
    /// `filter` runs before `stages` (each with the part number of its first part, see
    /// [`super::ErrorRows::part`]). The stages must keep every row and never fail, and write,
    /// remove or rename none of the fields the filter reads.
    pub fn new(filter: Where, stages: Vec<(Box<dyn Operator>, usize)>) -> FilterFirst {
        FilterFirst { filter, stages }
    }

    /// Runs the stages in order over `batch` (never over an empty batch, as the runner).
    fn run_stages(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let mut batches = vec![batch];
        let mut errors = Vec::new();
        for (op, offset) in &self.stages {
            let mut next = Vec::with_capacity(batches.len());
            for b in batches {
                if b.num_rows() == 0 {
                    continue;
                }
                let out = op.process(b, session).map_err(|mut e| {
                    e.part += offset;
                    e
                })?;
                errors.extend(out.errors.into_iter().map(|mut e| {
                    e.part += offset;
                    e
                }));
                next.extend(out.batches);
            }
            batches = next;
        }
        Ok(StageOutput { batches, errors })
    }
}

impl Operator for FilterFirst {
    fn name(&self) -> &'static str {
        "where (pushed down)"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        if let Some(kept) = self.filter.try_filter(&batch, session) {
            return self.run_stages(kept, session);
        }
        // Some row fails the predicate: the order as written gives the error rows.
        let out = self.run_stages(batch, session)?;
        let mut errors = out.errors;
        let mut batches = Vec::with_capacity(out.batches.len());
        for b in out.batches {
            if b.num_rows() == 0 {
                continue;
            }
            let filtered = self.filter.process(b, session)?;
            errors.extend(filtered.errors);
            batches.extend(filtered.batches);
        }
        Ok(StageOutput { batches, errors })
    }
}

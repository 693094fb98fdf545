//! A `parse-regexp` followed by a `where` that reads some of its outputs (planned by
//! `optimize/late.rs`): every row is matched once, the outputs the condition reads are written
//! for every row, and the others only for the rows it keeps, from the group positions the one
//! match recorded. Rows the condition drops never get the fields nothing would see.
//!
//! The condition can fail on some rows, and such an error row must carry every output. So when
//! it fails on any row of the batch, the remaining outputs are written for every row and the
//! `where` runs as written; the fast path is for batches without row errors. The fields come
//! out in the order the stages as written give them.
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

use super::{varchar_source, BatchError, Operator, ParseRegexp, StageOutput, Where};
use crate::expr::Session;

/// An extraction and the `where` after it.
#[derive(Debug)]
pub struct LateExtract {
    extract: ParseRegexp,
    /// Positions (in the extraction's outputs) of the outputs the condition reads.
    early: Vec<usize>,
    /// Positions of the others, written for kept rows only.
    late: Vec<usize>,
    filter: Where,
}

impl LateExtract {
    /// `filter` runs right after `extract` and reads none of the outputs not named in
    /// `reads` (its parts numbered after the extraction's).
    pub fn new(extract: ParseRegexp, filter: Where, reads: &[String]) -> LateExtract {
        let (early, late) = extract
            .output_names()
            .enumerate()
            .map(|(i, n)| (i, reads.iter().any(|r| r == n)))
            .partition::<Vec<_>, _>(|(_, read)| *read);
        LateExtract {
            extract,
            early: early.into_iter().map(|(i, _)| i).collect(),
            late: late.into_iter().map(|(i, _)| i).collect(),
            filter,
        }
    }

    /// The columns of `out` in the order extracting every output of `input` at once gives:
    /// `input`'s fields where they were, then the new outputs in the extraction's order.
    fn in_written_order(
        &self,
        input: &Schema,
        out: RecordBatch,
    ) -> Result<RecordBatch, BatchError> {
        let schema = out.schema();
        let mut order: Vec<usize> = Vec::with_capacity(schema.fields().len());
        let names = input
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .chain(self.extract.output_names());
        for name in names {
            if let Ok(i) = schema.index_of(name) {
                if !order.contains(&i) {
                    order.push(i);
                }
            }
        }
        if order.len() != schema.fields().len() {
            return Err(BatchError::new(format!(
                "internal: late extraction lost track of its fields ({} of {})",
                order.len(),
                schema.fields().len()
            )));
        }
        if order.iter().enumerate().all(|(k, &i)| k == i) {
            return Ok(out);
        }
        out.project(&order)
            .map_err(|e| BatchError::new(e.to_string()))
    }
}

impl Operator for LateExtract {
    fn name(&self) -> &'static str {
        "parse-regexp + where"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, self.extract.field())? else {
            // Nothing to extract from: the extraction leaves every row as it is.
            return self.filter.process(batch, session);
        };
        let input = batch.schema();
        let (first, spans) = self
            .extract
            .extract_some(&batch, &text, &self.early, &self.late)?;
        if let Some((kept, rows)) = self.filter.try_select(&first, session, true) {
            let out = self
                .extract
                .write_spans(kept, &text, &self.late, &spans, &rows)?;
            return Ok(StageOutput::one(self.in_written_order(&input, out)?));
        }
        // Some row fails the condition: every output first, then the `where` as written.
        let every: Vec<u32> = (0..batch.num_rows() as u32).collect();
        let all = self
            .extract
            .write_spans(first, &text, &self.late, &spans, &every)?;
        self.filter
            .process(self.in_written_order(&input, all)?, session)
    }
}

//! `limit [offset,] count` (spec §5.15, scan mode): skips `offset` rows, then passes `count`
//! rows through as they arrive (nothing is buffered) and drops everything after.
use arrow::record_batch::RecordBatch;

use super::{BatchError, BufferState, BufferingOperator, StageOutput};
use crate::expr::Session;

/// The compiled `limit` instruction.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    offset: u64,
    count: u64,
}

impl Limit {
    pub fn new(offset: Option<u64>, count: u64) -> Limit {
        Limit {
            offset: offset.unwrap_or(0),
            count,
        }
    }
}

impl BufferingOperator for Limit {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn start(&self) -> Box<dyn BufferState> {
        Box::new(LimitState {
            to_skip: self.offset,
            to_emit: self.count,
        })
    }
}

struct LimitState {
    /// Rows still to skip.
    to_skip: u64,
    /// Rows still to emit.
    to_emit: u64,
}

impl LimitState {
    /// True when nothing more will be emitted.
    fn full(&self) -> bool {
        self.to_emit == 0
    }
}

impl BufferState for LimitState {
    fn push(&mut self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        if self.full() {
            return Ok(StageOutput::default());
        }
        let rows = batch.num_rows() as u64;
        let skip = self.to_skip.min(rows);
        self.to_skip -= skip;
        let take = self.to_emit.min(rows - skip);
        self.to_emit -= take;
        if take == 0 {
            return Ok(StageOutput::default());
        }
        // Both fit in usize: they are at most the batch's row count.
        let (skip, take) = (skip as usize, take as usize);
        let out = if skip == 0 && take == batch.num_rows() {
            batch
        } else {
            batch.slice(skip, take)
        };
        Ok(StageOutput::one(out))
    }

    fn finish(&mut self, _session: &Session) -> Result<StageOutput, BatchError> {
        Ok(StageOutput::default())
    }

    fn is_done(&self) -> bool {
        self.full()
    }
}

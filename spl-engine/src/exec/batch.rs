//! The batch-level entry point ([`run_batch`]) for hosts that hold whole batches rather than
//! byte streams: the C ABI (one log group in, rows out), the pushdown server (one shard's
//! events), a Python/Arrow binding. One batch in; each output's rows and the error rows out,
//! under the pipeline's error policy, with error rows reconstructed exactly as the streaming
//! run ([`super::run`]) reconstructs them.
use arrow::record_batch::RecordBatch;

use super::errors::stage_error_rows;
use crate::pipeline::{Outputs, Pipeline, ProcessError, StageStats};

/// What one batch produced.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// One entry per output of [`Pipeline::outputs`], in statement order.
    pub datasets: Vec<Vec<RecordBatch>>,
    /// Failed rows under the error-stream policy, each with `__error__` and every input field
    /// (fields the decoder left out are taken back from [`crate::codec::LINE_FIELD`] when the
    /// batch carries it).
    pub error_rows: Vec<RecordBatch>,
    /// Rows that failed and were passed through or dropped by the policy.
    pub policy_error_rows: u64,
    /// Stages that stopped on a budget whose error the policy settled.
    pub budget_exceeded: u64,
    /// The first budget error settled by the policy (pass-through or drop), for reporting.
    pub budget_error: Option<ProcessError>,
    /// Per chain, per stage counters.
    pub stats: Vec<Vec<StageStats>>,
}

/// Runs `pipeline` over `batch` as a whole stream (buffering stages are flushed at the end).
///
/// Hosts call this with a batch decoded with every field ([`super::DecodePlan::all`]) or with
/// a [`super::DecodePlan::for_pipeline`] selection whose decoder kept each row's input line;
/// either way the error rows come back with every input field. Under the fail policy a failing
/// row makes the whole call fail with the [`ProcessError`]; under pass-through and drop the
/// failing rows are counted in [`BatchOutput::policy_error_rows`] (and passed through in
/// `datasets`, or left out).
pub fn run_batch(pipeline: &Pipeline, batch: RecordBatch) -> Result<BatchOutput, ProcessError> {
    let out = pipeline.process(batch)?;
    from_outputs(out)
}

/// The engine's raw [`Outputs`] as a host sees them: error rows with every field. Error rows
/// are built only for the rows that failed; a batch without failures costs nothing here.
pub fn from_outputs(out: Outputs) -> Result<BatchOutput, ProcessError> {
    let mut error_rows = Vec::with_capacity(out.errors.len());
    for e in &out.errors {
        let rows = stage_error_rows(e).map_err(|err| ProcessError::Batch {
            message: format!("cannot build error rows: {err}"),
            stage: e.instruction.to_string(),
        })?;
        error_rows.push(rows);
    }
    Ok(BatchOutput {
        datasets: out.datasets,
        error_rows,
        policy_error_rows: out.error_rows,
        budget_exceeded: out.budget_exceeded,
        budget_error: out.budget_error,
        stats: out.stats,
    })
}

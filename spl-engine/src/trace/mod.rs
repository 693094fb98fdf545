//! Row provenance (`spl trace`, `spl play`): runs a compiled program over a sample one row at a
//! time through each stage as written, and records for every input row the row entering and
//! leaving each stage, and for the stage that dropped, split, aggregated, reordered or failed
//! it, why — in plain words, with the values that decided it. Buffering stages (`stats`,
//! `sort`, `limit`) see the whole sample as one stream, as in `spl run`; their output rows are
//! traced back to the input rows they came from (docs/decisions.md "Trace").
//!
//! - `model.rs`: what a trace is (steps, outcomes, reasons, per-stage summary);
//! - `explain.rs`: the plain-words reason for one stage and row;
//! - `flow.rs`: runs the stages and keeps each row's origins;
//! - `report.rs`: text and JSON renderings.
mod explain;
mod flow;
mod model;
mod report;

pub use flow::trace;
pub use model::{
    Emitted, Outcome, Reason, Row, RowTrace, StageSummary, StatementInfo, Step, Trace, TraceError,
};
pub use report::{
    row_json, row_object, row_text, step_json, summary_json, summary_text, trace_json, trace_text,
};

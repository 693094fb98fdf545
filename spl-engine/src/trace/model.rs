//! The data of a trace: the steps each row took, with outcomes and reasons, and per-stage
//! counts. Rows are kept as ordered (field, typed JSON value) pairs, NULL fields left out.
use serde_json::Value;

/// One row: its fields in column order, each with its value as typed JSON (§18.4); NULL
/// (absent) fields are not listed.
pub type Row = Vec<(String, Value)>;

/// What a stage did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The row left the stage as it entered.
    Kept,
    /// The row left the stage with fields added, changed or removed.
    Changed,
    /// The stage emitted no row for it.
    Dropped,
    /// The stage emitted several rows for it (`expand-values`, `log-to-metric`).
    Split,
    /// The stage failed for the row (a data error or a whole-batch error).
    Failed,
    /// The row went into a group of `stats`; the group's row leaves the stage.
    Aggregated,
    /// The row left a `sort` at another position.
    Reordered,
}

impl Outcome {
    /// The outcome's name in text and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Changed => "changed",
            Outcome::Dropped => "dropped",
            Outcome::Split => "split",
            Outcome::Failed => "failed",
            Outcome::Aggregated => "aggregated",
            Outcome::Reordered => "reordered",
        }
    }
}

/// Why a stage did what it did with a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The reason without the row's values, for grouping (`--summary`'s top reasons).
    pub key: String,
    /// The reason in plain words.
    pub text: String,
    /// The diagnostic code of an error (`E2001` …).
    pub code: Option<&'static str>,
    /// The fields that decided it, with their values in the row (NULL: absent).
    pub values: Vec<(String, Value)>,
}

/// One stage applied to one row (or, after `stats`, one group row).
#[derive(Debug, Clone)]
pub struct Step {
    /// 0-based index of the statement in the program.
    pub statement: usize,
    /// 0-based index of the stage in its statement.
    pub stage: usize,
    /// The input rows (0-based) this row came from.
    pub origins: Vec<usize>,
    /// The row as it entered the stage.
    pub input: Row,
    /// The rows the stage emitted for it.
    pub outputs: Vec<Row>,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
}

/// A row that reached an emitted dataset.
#[derive(Debug, Clone)]
pub struct Emitted {
    /// The dataset's name (`output1` … for unnamed outputs).
    pub output: String,
    pub origins: Vec<usize>,
    pub row: Row,
}

/// A statement: where its rows come from and its stages as written.
#[derive(Debug, Clone)]
pub struct StatementInfo {
    /// `.let` name.
    pub name: Option<String>,
    /// `*` or `$name`.
    pub source: String,
    /// Per stage: instruction name, text as written and its byte span in the program.
    pub stages: Vec<(&'static str, String, (usize, usize))>,
}

/// Rows in and out of one stage over the whole sample, and why rows went away.
#[derive(Debug, Clone, Default)]
pub struct StageSummary {
    pub rows_in: u64,
    pub rows_out: u64,
    pub dropped: u64,
    pub failed: u64,
    pub split: u64,
    /// Reasons (by [`Reason::key`]) with how many rows they applied to, most frequent first.
    pub reasons: Vec<(String, u64)>,
}

/// The trace of a program over a sample.
#[derive(Debug, Clone)]
pub struct Trace {
    /// The input rows.
    pub input: Vec<Row>,
    pub statements: Vec<StatementInfo>,
    /// Every step, in the order stages ran.
    pub steps: Vec<Step>,
    /// Every row that reached an output, in output order.
    pub emitted: Vec<Emitted>,
    /// Per statement, per stage.
    pub summary: Vec<Vec<StageSummary>>,
    /// The error policy's name: what a run does with failed rows.
    pub policy: &'static str,
}

/// One input row's path through the program.
#[derive(Debug, Clone)]
pub struct RowTrace<'a> {
    /// 0-based input row.
    pub row: usize,
    pub input: &'a Row,
    pub steps: Vec<&'a Step>,
    pub emitted: Vec<&'a Emitted>,
}

impl Trace {
    /// The path of input row `row` (0-based): every step and output whose origins include it.
    pub fn row(&self, row: usize) -> Option<RowTrace<'_>> {
        Some(RowTrace {
            row,
            input: self.input.get(row)?,
            steps: self
                .steps
                .iter()
                .filter(|s| s.origins.contains(&row))
                .collect(),
            emitted: self
                .emitted
                .iter()
                .filter(|e| e.origins.contains(&row))
                .collect(),
        })
    }
}

/// Why a program could not be traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError(pub String);

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

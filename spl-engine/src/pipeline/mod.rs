//! The engine's public entry point: compile an SPL program once under a profile and options,
//! then process batches — one at a time (`process`, for agents and servers) or as a stream with
//! buffering stages (`start` → [`Run`]). A program is a DAG of chains: each statement is a chain
//! reading the input (`*`) or an earlier dataset (`$name`); every emitted statement is an output.
mod compile;
mod errors;
pub mod profile;
mod run;

use std::sync::Arc;
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use spl_parser::Diagnostics;

pub use errors::{error_value, with_error_column, ERROR_FIELD};
pub use profile::{ErrorPolicy, Limits, Profile};
pub use run::Run;

use crate::expr::Session;
use crate::functions::geoip::GeoIpDb;
use crate::ops::Stage;
use crate::timezone::SessionTz;

/// How a pipeline is compiled and run.
#[derive(Debug, Clone)]
pub struct Options {
    pub profile: Profile,
    /// The session time zone (§18.1), default UTC.
    pub timezone: SessionTz,
    /// Runtime error policy; `None` takes the profile's default.
    pub error_policy: Option<ErrorPolicy>,
    /// Per-batch time budget; `None` takes the profile's.
    pub batch_timeout: Option<Duration>,
    /// Per-batch memory ceiling in bytes; `None` takes the profile's.
    pub max_batch_memory: Option<usize>,
    /// Apply the optimizer's rewrites (default). Off, stages run exactly as written, which
    /// tests use to check that every rewrite keeps results.
    pub optimize: bool,
    /// The run's time range in unix seconds `[begin, end)`: what `sls_begin_time` and
    /// `sls_end_time` mean in `make-series` (`None`: the data's first and last time).
    pub time_range: Option<(i64, i64)>,
    /// The database of the IP geolocation functions (`ip_to_country`, …), opened once by the
    /// host ([`GeoIpDb::open`]) and shared; without one, calling them is a compile error.
    pub geoip: Option<Arc<GeoIpDb>>,
}

impl Default for Options {
    fn default() -> Self {
        Options::new(Profile::Cli)
    }
}

impl Options {
    pub fn new(profile: Profile) -> Options {
        Options {
            profile,
            timezone: SessionTz::UTC,
            error_policy: None,
            batch_timeout: None,
            max_batch_memory: None,
            optimize: true,
            time_range: None,
            geoip: None,
        }
    }
}

/// A compiled program, shareable across threads.
#[derive(Debug)]
pub struct Pipeline {
    chains: Vec<Chain>,
    outputs: Vec<OutputDef>,
    /// Per output, the chart its statement's final `render` asks for.
    charts: Vec<Option<crate::ops::ChartSpec>>,
    session: Session,
    policy: ErrorPolicy,
    limits: Limits,
    buffering: bool,
    /// Warnings from compilation (non-portable extensions, unused datasets…).
    pub warnings: Diagnostics,
    /// The program text.
    pub source: String,
    /// The logical plan as written.
    written: crate::plan::Program,
    /// The logical plan that runs: as written, or after the optimizer's rewrites.
    optimized: crate::plan::Program,
    /// What the optimizer changed, one sentence each (shown by `spl explain`).
    rewrites: Vec<String>,
}

/// One statement's operators and its input.
#[derive(Debug)]
pub(crate) struct Chain {
    pub source: ChainSource,
    pub stages: Vec<Stage>,
    /// Per stage, the stages of the statement as written that it runs (index, instruction), in
    /// the order [`crate::ops::ErrorRows::part`] numbers them: one, unless the optimizer
    /// combined several. Errors are reported against these.
    pub parts: Vec<Vec<(usize, &'static str)>>,
    /// Index of the statement in the program.
    pub statement: usize,
}

/// Where a chain's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChainSource {
    Input,
    Chain(usize),
}

/// An emitted dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDef {
    /// The dataset name for `$name;`, else `output<N>` (1-based among outputs).
    pub name: String,
    pub(crate) chain: usize,
}

/// Rows that failed in a stage, with where and why.
#[derive(Debug, Clone)]
pub struct StageError {
    /// The rows as they entered the failing stage.
    pub rows: RecordBatch,
    /// Diagnostic code (`E2001` …).
    pub code: &'static str,
    pub message: String,
    /// 1-based statement and stage numbers, and the instruction name.
    pub statement: usize,
    pub stage: usize,
    pub instruction: &'static str,
}

/// Rows in and out of one stage, and the time spent in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageStats {
    pub instruction: &'static str,
    pub rows_in: u64,
    pub rows_out: u64,
    pub errors: u64,
    pub nanos: u64,
}

/// What processing produced.
#[derive(Debug, Default)]
pub struct Outputs {
    /// One entry per emitted dataset, in statement order (see [`Pipeline::outputs`]).
    pub datasets: Vec<Vec<RecordBatch>>,
    /// Failed rows (error-stream policy).
    pub errors: Vec<StageError>,
    /// Rows that failed and were passed through or dropped by the policy.
    pub error_rows: u64,
    /// Batches that exceeded a budget (pass-through or drop policy).
    pub budget_exceeded: u64,
    /// The first budget error settled by the policy (which budget, where), so embedders can
    /// report it even though the batch was passed through or dropped.
    pub budget_error: Option<ProcessError>,
    /// Per chain, per stage counters.
    pub stats: Vec<Vec<StageStats>>,
}

impl Outputs {
    /// Rows over all outputs.
    pub fn rows(&self) -> usize {
        self.datasets
            .iter()
            .flatten()
            .map(RecordBatch::num_rows)
            .sum()
    }

    /// Adds another result after this one (outputs stay in order).
    pub fn append(&mut self, other: Outputs) {
        if self.datasets.len() < other.datasets.len() {
            self.datasets.resize_with(other.datasets.len(), Vec::new);
        }
        for (mine, theirs) in self.datasets.iter_mut().zip(other.datasets) {
            mine.extend(theirs);
        }
        self.errors.extend(other.errors);
        self.error_rows += other.error_rows;
        self.budget_exceeded += other.budget_exceeded;
        if self.budget_error.is_none() {
            self.budget_error = other.budget_error;
        }
        merge_stage_stats(&mut self.stats, other.stats);
    }
}

/// Adds per-stage counters of `from` into `into`.
pub fn merge_stage_stats(into: &mut Vec<Vec<StageStats>>, from: Vec<Vec<StageStats>>) {
    if into.is_empty() {
        *into = from;
        return;
    }
    for (a, b) in into.iter_mut().zip(from) {
        for (x, y) in a.iter_mut().zip(b) {
            x.rows_in += y.rows_in;
            x.rows_out += y.rows_out;
            x.errors += y.errors;
            x.nanos += y.nanos;
        }
    }
}

/// Why processing a batch failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessError {
    /// The batch took longer than its time budget (fail policy).
    DeadlineExceeded { limit: Duration, stage: String },
    /// The batch needed more memory than its ceiling (fail policy).
    MemoryExceeded {
        limit: usize,
        used: usize,
        stage: String,
    },
    /// A row failed with a data error (fail policy).
    Data { message: String, stage: String },
    /// A stage failed for the whole batch.
    Batch { message: String, stage: String },
}

impl ProcessError {
    /// The diagnostic code of the error class.
    pub fn code(&self) -> &'static str {
        use spl_parser::codes;
        match self {
            ProcessError::DeadlineExceeded { .. } => codes::DEADLINE_EXCEEDED.id,
            ProcessError::MemoryExceeded { .. } => codes::MEMORY_EXCEEDED.id,
            ProcessError::Data { .. } => codes::DATA_ERROR.id,
            ProcessError::Batch { .. } => codes::BATCH_FAILED.id,
        }
    }
}

impl std::fmt::Display for ProcessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessError::DeadlineExceeded { limit, stage } => {
                write!(
                    f,
                    "the batch exceeded its time budget of {limit:?} at {stage}"
                )
            }
            ProcessError::MemoryExceeded { limit, used, stage } => write!(
                f,
                "the batch needed {used} bytes at {stage}, over its ceiling of {limit} bytes"
            ),
            ProcessError::Data { message, stage } | ProcessError::Batch { message, stage } => {
                write!(f, "{stage}: {message}")
            }
        }
    }
}

impl std::error::Error for ProcessError {}

impl Pipeline {
    /// Parses and compiles `text`. Errors (and warnings) come back as diagnostics.
    pub fn compile(text: &str, options: &Options) -> Result<Pipeline, Diagnostics> {
        let (program, mut diags) = spl_parser::parse_with_warnings(text);
        let Some(program) = program else {
            return Err(diags);
        };
        let (written, mut chains) = compile::chains(
            &program,
            text,
            options.profile,
            options.geoip.is_some(),
            &mut diags,
        );
        if diags.has_errors() {
            return Err(diags);
        }
        let outputs = compile::outputs(&written);
        let charts = compile::charts(&written);
        let mut session = Session::new(options.timezone).with_geoip(options.geoip.clone());
        session.time_range = options.time_range;
        let mut optimized = written.clone();
        let mut rewrites = Vec::new();
        if options.optimize {
            rewrites = crate::optimize::program(&mut optimized, &session);
            if !rewrites.is_empty() {
                chains = match compile::physical(&optimized) {
                    Ok(chains) => chains,
                    Err(d) => {
                        diags.push(*d);
                        return Err(diags);
                    }
                };
            }
        }
        let mut limits = options.profile.limits();
        if options.batch_timeout.is_some() {
            limits.batch_timeout = options.batch_timeout;
        }
        if options.max_batch_memory.is_some() {
            limits.max_batch_memory = options.max_batch_memory;
        }
        let buffering = chains
            .iter()
            .flat_map(|c| &c.stages)
            .any(|s| matches!(s, Stage::Buffering(_)));
        Ok(Pipeline {
            chains,
            outputs,
            charts,
            session,
            policy: options
                .error_policy
                .unwrap_or_else(|| options.profile.error_policy()),
            limits,
            buffering,
            warnings: diags,
            source: text.to_string(),
            written,
            optimized,
            rewrites,
        })
    }

    /// The number of stages that run, over all statements.
    pub fn stage_count(&self) -> usize {
        self.chains.iter().map(|c| c.stages.len()).sum()
    }

    /// The outputs' names made unique, in statement order (`$a; $a;` emits `a` and `a-2`):
    /// what every host names an output's file, title or table.
    pub fn unique_output_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for o in &self.outputs {
            let mut candidate = o.name.clone();
            let mut n = 1;
            while out.contains(&candidate) {
                n += 1;
                candidate = format!("{}-{n}", o.name);
            }
            out.push(candidate);
        }
        out
    }

    /// The emitted datasets, in statement order.
    pub fn outputs(&self) -> &[OutputDef] {
        &self.outputs
    }

    /// The chart that output `output` (an index into [`Pipeline::outputs`]) should be drawn
    /// as: its statement ends with `render`. The rows are unchanged; drawing is the host's.
    pub fn chart(&self, output: usize) -> Option<&crate::ops::ChartSpec> {
        self.charts.get(output)?.as_ref()
    }

    /// The limits this pipeline runs under (its profile's, with the options' overrides).
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// True when a stage buffers across batches (`stats`, `sort`, `limit`): such pipelines
    /// must see the stream through one [`Run`] and cannot split it across threads.
    pub fn is_buffering(&self) -> bool {
        self.buffering
    }

    /// The logical plan as written: per statement, its stages and the fields each reads and
    /// writes ([`crate::plan::input_fields`] and [`crate::plan::rows_unchanged`] take it).
    pub fn plan(&self) -> &[crate::plan::Chain] {
        &self.written.chains
    }

    /// The logical plan as written.
    pub fn written_plan(&self) -> &crate::plan::Program {
        &self.written
    }

    /// The logical plan that runs (after the optimizer's rewrites, unless it was off).
    pub fn optimized_plan(&self) -> &crate::plan::Program {
        &self.optimized
    }

    /// The plan as written, as a tree (`spl explain --written`).
    pub fn written_plan_text(&self) -> String {
        crate::plan::render(&self.written)
    }

    /// The plan that runs as a tree, then the optimizer's rewrites with their reasons
    /// (`spl explain`).
    pub fn plan_text(&self) -> String {
        let mut text = crate::plan::render(&self.optimized);
        if !self.rewrites.is_empty() {
            text.push_str("optimizations:\n");
            for r in &self.rewrites {
                text.push_str(&format!("  - {r}\n"));
            }
        }
        text
    }

    /// What the optimizer changed, one sentence each.
    pub fn rewrites(&self) -> &[String] {
        &self.rewrites
    }

    /// The effective error policy.
    pub fn error_policy(&self) -> ErrorPolicy {
        self.policy
    }

    /// The session (time zone) the pipeline evaluates in.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Per chain, per stage that runs: the numbers (1-based, ascending) of the stages as
    /// written that it runs — one, unless the optimizer combined several.
    pub fn written_stages(&self) -> Vec<Vec<Vec<usize>>> {
        self.chains
            .iter()
            .map(|c| {
                (0..c.stages.len())
                    .map(|si| {
                        let mut numbers: Vec<usize> = match c.parts.get(si) {
                            Some(parts) if !parts.is_empty() => {
                                parts.iter().map(|(i, _)| i + 1).collect()
                            }
                            _ => vec![si + 1],
                        };
                        numbers.sort_unstable();
                        numbers
                    })
                    .collect()
            })
            .collect()
    }

    /// The stage names of each chain, for plans and statistics.
    pub fn stage_names(&self) -> Vec<Vec<&'static str>> {
        self.chains
            .iter()
            .map(|c| c.stages.iter().map(Stage::name).collect())
            .collect()
    }

    /// Processes one batch as a whole stream: buffering stages are flushed at the end.
    pub fn process(&self, batch: RecordBatch) -> Result<Outputs, ProcessError> {
        let mut run = self.start();
        let mut out = run.push(batch)?;
        out.append(run.finish()?);
        Ok(out)
    }

    /// Starts a run over a stream of batches.
    pub fn start(&self) -> Run<'_> {
        Run::new(self)
    }

    /// The input chunk size for a run that keeps `in_flight` chunks in memory at once (read,
    /// decoded, processed or waiting to be written), given the size asked for: under a memory
    /// ceiling, small enough that the chunks in flight, at [`CHUNK_COST`] times their size
    /// each, hold at most half the ceiling (the other half is for the batch being processed),
    /// but never under [`MIN_CHUNK_SIZE`]. Without a ceiling, `requested`.
    pub fn chunk_size(&self, in_flight: usize, requested: usize) -> usize {
        let Some(limit) = self.limits.max_batch_memory else {
            return requested;
        };
        let fits = limit / 2 / CHUNK_COST / in_flight.max(1);
        requested.min(fits.max(MIN_CHUNK_SIZE)).max(1)
    }

    /// The most worker threads a run should use when each keeps `in_flight_per_thread` chunks
    /// in memory: under a memory ceiling, as many as fit a quarter of it with chunks of
    /// [`MIN_CHUNK_SIZE`] (each thread also costs the allocator's per-thread arena, which the
    /// engine cannot count); at least 1. Without a ceiling, no limit.
    pub fn max_threads(&self, in_flight_per_thread: usize) -> usize {
        let Some(limit) = self.limits.max_batch_memory else {
            return usize::MAX;
        };
        let per_thread = in_flight_per_thread.max(1) * CHUNK_COST * MIN_CHUNK_SIZE;
        (limit / 4 / per_thread).max(1)
    }
}

/// Bytes a chunk in flight holds per byte of input: the chunk, the decoded columns (views into
/// it, plus offsets and validity), the output batch and its encoded lines (about 2.3 measured
/// for JSON lines; 4 leaves room for stages that add columns).
pub const CHUNK_COST: usize = 4;

/// The smallest chunk [`Pipeline::chunk_size`] picks: below it the per-chunk work (a schema,
/// a hand-off to a worker) outweighs the rows.
pub const MIN_CHUNK_SIZE: usize = 64 << 10;

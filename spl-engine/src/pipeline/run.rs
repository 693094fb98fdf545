//! Running a compiled pipeline over a stream: batches flow through each chain's stages in
//! statement order (a `$name` chain reads what its source chain produced for the same batch),
//! buffering stages keep per-run state and flush at `finish`. Data errors and whole-batch
//! failures are settled by the error policy (§18.11).
//!
//! Budgets: each stage runs on a batch inside a [`crate::budget`] scope holding the batch's
//! deadline (batch start + time budget) and the memory ceiling, so the long loops inside the
//! stage (lambdas, array functions, `expand-values`) stop as soon as one is exceeded; after the
//! stage the runner reports a hit as `DeadlineExceeded`/`MemoryExceeded` at that stage, whatever
//! error the stage returned on the way. Between stages the deadline and the memory of the live
//! batches (their distinct Arrow allocations) are checked as well.
//! A host may run the pipeline inside a budget scope of its own (a server pull): the stage
//! scopes then stop at the earlier of its deadline and the batch's.
use std::time::Instant;

use arrow::record_batch::RecordBatch;

use super::{
    merge_stage_stats, ChainSource, ErrorPolicy, Outputs, Pipeline, ProcessError, StageError,
    StageStats,
};
use crate::budget;
use crate::functions::memo;
use crate::ops::{BatchError, BufferState, Stage, StageOutput};

/// The state of one run over a stream.
pub struct Run<'p> {
    pipeline: &'p Pipeline,
    /// Per chain, per stage: the state of buffering stages.
    states: Vec<Vec<Option<Box<dyn BufferState>>>>,
    finished: bool,
}

/// What one pass over a batch produced before the policy is applied.
struct Pass {
    chain_out: Vec<Vec<RecordBatch>>,
    errors: Vec<StageError>,
    stats: Vec<Vec<StageStats>>,
}

/// Per-batch bookkeeping while stages run.
struct Ctx {
    started: Instant,
    /// When the batch's time budget runs out.
    deadline: Option<Instant>,
    errors: Vec<StageError>,
    stats: Vec<Vec<StageStats>>,
}

impl<'p> Run<'p> {
    pub(super) fn new(pipeline: &'p Pipeline) -> Run<'p> {
        let states = pipeline
            .chains
            .iter()
            .map(|c| {
                c.stages
                    .iter()
                    .map(|s| match s {
                        Stage::Buffering(op) => Some(op.start()),
                        Stage::Row(_) => None,
                    })
                    .collect()
            })
            .collect();
        Run {
            pipeline,
            states,
            finished: false,
        }
    }

    /// True when more input cannot change any output: every emitted chain, or a chain it reads
    /// from, has a stage that is done (a full `limit`). Readers may stop early.
    pub fn is_done(&self) -> bool {
        let p = self.pipeline;
        let mut done = vec![false; p.chains.len()];
        for (ci, chain) in p.chains.iter().enumerate() {
            let upstream = match chain.source {
                ChainSource::Input => false,
                ChainSource::Chain(j) => done[j],
            };
            done[ci] = upstream || self.states[ci].iter().flatten().any(|s| s.is_done());
        }
        !p.outputs.is_empty() && p.outputs.iter().all(|o| done[o.chain])
    }

    /// Processes one batch of the stream.
    pub fn push(&mut self, batch: RecordBatch) -> Result<Outputs, ProcessError> {
        let started = Instant::now();
        let pass = self.pass(&batch, started);
        self.settle(batch, pass, started)
    }

    /// Ends the stream: flushes buffering stages (in statement order, feeding later chains).
    pub fn finish(&mut self) -> Result<Outputs, ProcessError> {
        if self.finished {
            return Ok(self.empty());
        }
        self.finished = true;
        let mut ctx = self.ctx(Instant::now());
        let p = self.pipeline;
        let mut chain_out: Vec<Vec<RecordBatch>> = vec![Vec::new(); p.chains.len()];
        for (ci, chain) in p.chains.iter().enumerate() {
            let input = match chain.source {
                ChainSource::Input => Vec::new(),
                ChainSource::Chain(j) => chain_out[j].clone(),
            };
            let result = (|| {
                let mut out = self.stages(ci, 0, input, &mut ctx)?;
                for si in 0..chain.stages.len() {
                    let Some(state) = self.states[ci][si].as_mut() else {
                        continue;
                    };
                    let scope = budget::enter(ctx.deadline, p.limits.max_batch_memory);
                    let flushed = state.finish(&p.session);
                    if let Some(hit) = scope.hit() {
                        return Err(budget_error(p, ci, si, hit));
                    }
                    drop(scope);
                    let flushed = flushed.map_err(|e| batch_error(p, ci, si, e))?;
                    let errs = self.record(ci, si, &flushed, 0, 0, &mut ctx);
                    ctx.errors.extend(errs);
                    out.extend(self.stages(ci, si + 1, flushed.batches, &mut ctx)?);
                }
                Ok(out)
            })();
            chain_out[ci] = match result {
                Ok(out) => out,
                Err(e) => return self.policy_failure(e, None),
            };
        }
        let pass = Pass {
            chain_out,
            errors: ctx.errors,
            stats: ctx.stats,
        };
        self.apply_row_policy(None, pass)
    }

    fn empty(&self) -> Outputs {
        Outputs {
            datasets: vec![Vec::new(); self.pipeline.outputs.len()],
            ..Outputs::default()
        }
    }

    fn ctx(&self, started: Instant) -> Ctx {
        Ctx {
            started,
            deadline: self
                .pipeline
                .limits
                .batch_timeout
                .and_then(|limit| started.checked_add(limit)),
            errors: Vec::new(),
            stats: self
                .pipeline
                .chains
                .iter()
                .map(|c| {
                    c.stages
                        .iter()
                        .map(|s| StageStats {
                            instruction: s.name(),
                            ..StageStats::default()
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// Runs every chain over `batch`, whose time budget started at `started`.
    fn pass(&mut self, batch: &RecordBatch, started: Instant) -> Result<Pass, ProcessError> {
        let mut ctx = self.ctx(started);
        let p = self.pipeline;
        let mut chain_out: Vec<Vec<RecordBatch>> = vec![Vec::new(); p.chains.len()];
        for (ci, chain) in p.chains.iter().enumerate() {
            let input = match chain.source {
                ChainSource::Input => vec![batch.clone()],
                ChainSource::Chain(j) => chain_out[j].clone(),
            };
            chain_out[ci] = self.stages(ci, 0, input, &mut ctx)?;
        }
        Ok(Pass {
            chain_out,
            errors: ctx.errors,
            stats: ctx.stats,
        })
    }

    /// Runs stages `from..` of chain `ci` over `batches`.
    fn stages(
        &mut self,
        ci: usize,
        from: usize,
        mut batches: Vec<RecordBatch>,
        ctx: &mut Ctx,
    ) -> Result<Vec<RecordBatch>, ProcessError> {
        let p = self.pipeline;
        let chain = &p.chains[ci];
        for si in from..chain.stages.len() {
            batches.retain(|b| b.num_rows() > 0);
            if batches.is_empty() {
                break;
            }
            let mut next = Vec::with_capacity(batches.len());
            for b in batches {
                let rows_in = b.num_rows() as u64;
                let t = Instant::now();
                let scope = budget::enter(ctx.deadline, p.limits.max_batch_memory);
                // The stage is charged for what it builds, not for the batch it was given.
                budget::known(&b);
                // Function calls of the stage share work on the same column (`memo.rs`).
                let out = match (&chain.stages[si], self.states[ci][si].as_mut()) {
                    (Stage::Row(op), _) => memo::scope(|| op.process(b, &p.session)),
                    (Stage::Buffering(_), Some(state)) => memo::scope(|| state.push(b, &p.session)),
                    (Stage::Buffering(op), None) => {
                        return Err(batch_error(
                            p,
                            ci,
                            si,
                            BatchError::new(format!("{} has no state", op.name())),
                        ))
                    }
                };
                if let Some(hit) = scope.hit() {
                    return Err(budget_error(p, ci, si, hit));
                }
                drop(scope);
                let out = out.map_err(|e| batch_error(p, ci, si, e))?;
                let nanos = t.elapsed().as_nanos() as u64;
                let errs = self.record(ci, si, &out, rows_in, nanos, ctx);
                ctx.errors.extend(errs);
                next.extend(out.batches);
            }
            batches = next;
            self.check_budget(ci, si, &batches, ctx)?;
        }
        Ok(batches)
    }

    /// Counts a stage's rows and turns its failed rows into located errors.
    fn record(
        &self,
        ci: usize,
        si: usize,
        out: &StageOutput,
        rows_in: u64,
        nanos: u64,
        ctx: &mut Ctx,
    ) -> Vec<StageError> {
        let s = &mut ctx.stats[ci][si];
        s.rows_in += rows_in;
        s.rows_out += out.batches.iter().map(|b| b.num_rows() as u64).sum::<u64>();
        s.errors += out
            .errors
            .iter()
            .map(|e| e.rows.num_rows() as u64)
            .sum::<u64>();
        s.nanos += nanos;
        let chain = &self.pipeline.chains[ci];
        out.errors
            .iter()
            .map(|e| {
                let (stage, instruction) = written_stage(self.pipeline, ci, si, e.part);
                StageError {
                    rows: e.rows.clone(),
                    code: e.code,
                    message: e.message.clone(),
                    statement: chain.statement + 1,
                    stage: stage + 1,
                    instruction,
                }
            })
            .collect()
    }

    fn check_budget(
        &self,
        ci: usize,
        si: usize,
        batches: &[RecordBatch],
        ctx: &Ctx,
    ) -> Result<(), ProcessError> {
        let limits = &self.pipeline.limits;
        if let Some(limit) = limits.batch_timeout {
            if ctx.deadline.is_some_and(|d| Instant::now() > d) || ctx.started.elapsed() > limit {
                return Err(ProcessError::DeadlineExceeded {
                    limit,
                    stage: stage_label(self.pipeline, ci, si),
                });
            }
        }
        if let Some(limit) = limits.max_batch_memory {
            // The distinct allocations the live batches hold (columns that are views into one
            // chunk share it).
            let used = budget::batches_bytes(batches);
            if used > limit {
                return Err(ProcessError::MemoryExceeded {
                    limit,
                    used,
                    stage: stage_label(self.pipeline, ci, si),
                });
            }
        }
        Ok(())
    }

    /// Applies the error policy to a pass over `input`.
    fn settle(
        &mut self,
        input: RecordBatch,
        pass: Result<Pass, ProcessError>,
        started: Instant,
    ) -> Result<Outputs, ProcessError> {
        match pass {
            Ok(pass) => self.apply_row_policy(Some((input, started)), pass),
            Err(e) => self.policy_failure(e, Some(input)),
        }
    }

    /// Settles per-row errors (`input`: the batch and when its time budget started).
    fn apply_row_policy(
        &mut self,
        input: Option<(RecordBatch, Instant)>,
        pass: Pass,
    ) -> Result<Outputs, ProcessError> {
        let p = self.pipeline;
        let mut out = Outputs {
            datasets: p
                .outputs
                .iter()
                .map(|o| pass.chain_out[o.chain].clone())
                .collect(),
            errors: Vec::new(),
            stats: pass.stats,
            ..Outputs::default()
        };
        if pass.errors.is_empty() {
            return Ok(out);
        }
        let failed: u64 = pass.errors.iter().map(|e| e.rows.num_rows() as u64).sum();
        match p.policy {
            ErrorPolicy::ErrorStream => out.errors = pass.errors,
            ErrorPolicy::Drop => out.error_rows = failed,
            ErrorPolicy::Fail => {
                let e = &pass.errors[0];
                return Err(ProcessError::Data {
                    message: e.message.clone(),
                    stage: format!("stage {} (`{}`)", e.stage, e.instruction),
                });
            }
            ErrorPolicy::PassThrough => match input {
                Some((input, started)) if !p.buffering => {
                    return self.pass_through_rows(input, started, out.stats)
                }
                // Pass-through needs row-level stages; otherwise failed rows go to the
                // error stream.
                _ => out.errors = pass.errors,
            },
        }
        Ok(out)
    }

    /// Pass-through policy for a batch with failing rows: each input row is processed alone;
    /// a row that fails anywhere is emitted unchanged on the first output instead. The rows
    /// share the batch's time budget; a row over a budget settles the whole batch as over it.
    fn pass_through_rows(
        &mut self,
        input: RecordBatch,
        started: Instant,
        stats: Vec<Vec<StageStats>>,
    ) -> Result<Outputs, ProcessError> {
        let mut out = self.empty();
        out.stats = stats;
        for i in 0..input.num_rows() {
            let row = input.slice(i, 1);
            let pass = match self.pass(&row, started) {
                Ok(pass) if pass.errors.is_empty() => pass,
                Err(
                    e @ (ProcessError::DeadlineExceeded { .. }
                    | ProcessError::MemoryExceeded { .. }),
                ) => return self.policy_failure(e, Some(input)),
                _ => {
                    out.error_rows += 1;
                    if let Some(first) = out.datasets.first_mut() {
                        first.push(row);
                    }
                    continue;
                }
            };
            for (slot, o) in out.datasets.iter_mut().zip(&self.pipeline.outputs) {
                slot.extend(pass.chain_out[o.chain].iter().cloned());
            }
        }
        Ok(out)
    }

    /// Settles a whole-batch failure (budget, stage error).
    fn policy_failure(
        &self,
        e: ProcessError,
        input: Option<RecordBatch>,
    ) -> Result<Outputs, ProcessError> {
        let mut out = self.empty();
        let budget = matches!(
            e,
            ProcessError::DeadlineExceeded { .. } | ProcessError::MemoryExceeded { .. }
        );
        let rows = input.as_ref().map_or(0, |b| b.num_rows() as u64);
        match self.pipeline.policy {
            ErrorPolicy::Fail => return Err(e),
            ErrorPolicy::Drop => out.error_rows = rows,
            ErrorPolicy::PassThrough => {
                out.error_rows = rows;
                if let (Some(first), Some(input)) = (out.datasets.first_mut(), input) {
                    first.push(input);
                }
            }
            ErrorPolicy::ErrorStream => match input {
                Some(rows) => out.errors.push(StageError {
                    rows,
                    code: e.code(),
                    message: e.to_string(),
                    statement: 0,
                    stage: 0,
                    instruction: "batch",
                }),
                // A failure while flushing has no input rows to return.
                None => return Err(e),
            },
        }
        if budget {
            out.budget_exceeded = 1;
            out.budget_error = Some(e);
        }
        Ok(out)
    }
}

/// The stage as written (0-based index, instruction) that part `part` of compiled stage `si`
/// of chain `ci` runs.
fn written_stage(p: &Pipeline, ci: usize, si: usize, part: usize) -> (usize, &'static str) {
    let chain = &p.chains[ci];
    chain
        .parts
        .get(si)
        .and_then(|parts| parts.get(part).or(parts.first()))
        .copied()
        .unwrap_or((si, chain.stages[si].name()))
}

/// Where a budget was found exceeded: after compiled stage `si`, i.e. after the last of the
/// written stages it runs.
fn stage_label(p: &Pipeline, ci: usize, si: usize) -> String {
    let last = p.chains[ci]
        .parts
        .get(si)
        .and_then(|parts| (0..parts.len()).max_by_key(|&k| parts[k].0));
    stage_part_label(p, ci, si, last.unwrap_or(0))
}

fn stage_part_label(p: &Pipeline, ci: usize, si: usize, part: usize) -> String {
    let chain = &p.chains[ci];
    let (stage, name) = written_stage(p, ci, si, part);
    if p.chains.len() > 1 {
        format!(
            "statement {}, stage {} (`{name}`)",
            chain.statement + 1,
            stage + 1
        )
    } else {
        format!("stage {} (`{name}`)", stage + 1)
    }
}

/// The error for budget `hit` while compiled stage `si` of chain `ci` ran.
fn budget_error(p: &Pipeline, ci: usize, si: usize, hit: budget::Exceeded) -> ProcessError {
    let stage = stage_label(p, ci, si);
    match hit {
        budget::Exceeded::Deadline => ProcessError::DeadlineExceeded {
            limit: p.limits.batch_timeout.unwrap_or_default(),
            stage,
        },
        budget::Exceeded::Memory { used, limit } => {
            ProcessError::MemoryExceeded { limit, used, stage }
        }
    }
}

fn batch_error(p: &Pipeline, ci: usize, si: usize, e: BatchError) -> ProcessError {
    ProcessError::Batch {
        stage: stage_part_label(p, ci, si, e.part),
        message: e.message,
    }
}

impl Outputs {
    /// Merges per-stage statistics from another result.
    pub fn add_stats(&mut self, stats: Vec<Vec<StageStats>>) {
        merge_stage_stats(&mut self.stats, stats);
    }
}

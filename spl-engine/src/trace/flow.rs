//! Runs a program's stages as written over a sample, keeping for each row the input rows it
//! came from. Row-level stages get one row at a time, so what they emit (nothing, one row,
//! several rows, an error) belongs to that row alone. Buffering stages get every row that
//! reaches them, one per push, as one stream: a `limit`'s pass-through rows belong to the row
//! pushed, a `sort`'s output rows are matched to the rows pushed by their values (equal rows in
//! arrival order, as the sort is stable), and a `stats` row belongs to the rows whose group
//! key it has (each row's key is found by running the `stats` over that row alone).
use arrow::record_batch::RecordBatch;
use serde_json::Value;

use super::explain;
use super::model::{
    Emitted, Outcome, Reason, Row, StageSummary, StatementInfo, Step, Trace, TraceError,
};
use crate::ops::{self, BatchError, StageOutput};
use crate::pipeline::Pipeline;
use crate::plan::{self, Op, Source};
use crate::render::Renderer;

/// A row on its way through a statement, with the input rows (0-based) it came from.
#[derive(Clone)]
struct Item {
    origins: Vec<usize>,
    batch: RecordBatch,
}

/// A row pushed into a buffering stage: the item, its row, and the rows the push emitted.
type Pushed = (Item, Row, Option<Vec<(RecordBatch, Row)>>);

/// Runs `pipeline`'s stages as written over `input` and records every row's path.
pub fn trace(pipeline: &Pipeline, input: &RecordBatch) -> Result<Trace, TraceError> {
    let program = pipeline.written_plan();
    let renderer = Renderer::new(pipeline.session().tz);
    let mut t = Tracer {
        pipeline,
        renderer,
        steps: Vec::new(),
    };
    let statements = statements(pipeline, program);
    let mut summary = Vec::with_capacity(program.chains.len());
    let mut chain_items: Vec<Vec<Item>> = Vec::with_capacity(program.chains.len());
    for chain in &program.chains {
        let mut items: Vec<Item> = match &chain.source {
            Source::Input => (0..input.num_rows())
                .map(|i| Item {
                    origins: vec![i],
                    batch: input.slice(i, 1),
                })
                .collect(),
            Source::Dataset { chain: from, .. } => chain_items
                .get(*from)
                .cloned()
                .ok_or_else(|| TraceError(format!("statement reads unknown chain {from}")))?,
        };
        let mut stages = Vec::with_capacity(chain.stages.len());
        for (si, stage) in chain.stages.iter().enumerate() {
            let op = plan::physical::build(stage).map_err(|d| TraceError(d.message.clone()))?;
            let first = t.steps.len();
            let rows_in = items.len() as u64;
            items = match op {
                ops::Stage::Row(op) => t.row_stage(chain.statement, si, stage, op.as_ref(), items),
                ops::Stage::Buffering(op) => {
                    t.buffering_stage(chain.statement, si, stage, op.as_ref(), items)?
                }
            };
            stages.push(summarize(&t.steps[first..], rows_in, items.len() as u64));
        }
        summary.push(stages);
        chain_items.push(items);
    }
    let mut emitted = Vec::new();
    for o in &program.outputs {
        for item in &chain_items[o.chain] {
            emitted.push(Emitted {
                output: o.name.clone(),
                origins: item.origins.clone(),
                row: t.row(&item.batch, 0),
            });
        }
    }
    let input_rows: Vec<Row> = (0..input.num_rows()).map(|i| t.row(input, i)).collect();
    if pipeline.error_policy() == crate::pipeline::ErrorPolicy::PassThrough
        && !pipeline.is_buffering()
    {
        pass_through(&t.steps, &input_rows, program, &mut emitted);
    }
    Ok(Trace {
        input: input_rows,
        statements,
        steps: t.steps,
        emitted,
        summary,
        policy: policy_name(pipeline.error_policy()),
    })
}

/// The pass-through policy as a run applies it to row-level programs: an input row that fails
/// in any stage is emitted unchanged on the first output, and nothing else of it is.
fn pass_through(
    steps: &[Step],
    input: &[Row],
    program: &plan::Program,
    emitted: &mut Vec<Emitted>,
) {
    let Some(first) = program.outputs.first() else {
        return;
    };
    let mut failed: Vec<usize> = steps
        .iter()
        .filter(|s| s.outcome == Outcome::Failed)
        .flat_map(|s| s.origins.iter().copied())
        .collect();
    failed.sort_unstable();
    failed.dedup();
    if failed.is_empty() {
        return;
    }
    emitted.retain(|e| !e.origins.iter().any(|o| failed.binary_search(o).is_ok()));
    for row in failed {
        if let Some(r) = input.get(row) {
            emitted.push(Emitted {
                output: first.name.clone(),
                origins: vec![row],
                row: r.clone(),
            });
        }
    }
}

fn policy_name(p: crate::pipeline::ErrorPolicy) -> &'static str {
    use crate::pipeline::ErrorPolicy;
    match p {
        ErrorPolicy::ErrorStream => "error-stream",
        ErrorPolicy::PassThrough => "pass-through",
        ErrorPolicy::Drop => "drop",
        ErrorPolicy::Fail => "fail",
    }
}

/// The statements with their stages as written (text and span from the program's source).
fn statements(pipeline: &Pipeline, program: &plan::Program) -> Vec<StatementInfo> {
    let ast = spl_parser::parse(&pipeline.source).ok();
    program
        .chains
        .iter()
        .map(|chain| {
            let written = ast
                .as_ref()
                .and_then(|p| p.statements.get(chain.statement))
                .map(|s| &s.pipeline.stages);
            StatementInfo {
                name: chain.name.clone(),
                source: chain.source.to_string(),
                stages: chain
                    .stages
                    .iter()
                    .enumerate()
                    .map(|(si, stage)| {
                        let instr = written.and_then(|w| w.get(si));
                        let text = instr
                            .and_then(|i| pipeline.source.get(i.span.start..i.span.end))
                            .map_or_else(|| stage.text(), |t| t.trim().to_string());
                        let span = instr.map_or((0, 0), |i| (i.span.start, i.span.end));
                        (stage.name(), text, span)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Counts of one stage from its steps.
fn summarize(steps: &[Step], rows_in: u64, rows_out: u64) -> StageSummary {
    let mut s = StageSummary {
        rows_in,
        rows_out,
        ..StageSummary::default()
    };
    let mut reasons: Vec<(String, u64)> = Vec::new();
    for step in steps {
        match step.outcome {
            Outcome::Dropped => s.dropped += 1,
            Outcome::Failed => s.failed += 1,
            Outcome::Split => s.split += 1,
            _ => {}
        }
        if let Some(r) = &step.reason {
            match reasons.iter_mut().find(|(k, _)| *k == r.key) {
                Some((_, n)) => *n += 1,
                None => reasons.push((r.key.clone(), 1)),
            }
        }
    }
    // Most frequent first; ties keep first-seen order (the sort is stable).
    reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
    s.reasons = reasons;
    s
}

struct Tracer<'p> {
    pipeline: &'p Pipeline,
    renderer: Renderer,
    steps: Vec<Step>,
}

impl Tracer<'_> {
    /// Row `i` of `batch` as field/value pairs (NULL and hidden fields left out).
    fn row(&self, batch: &RecordBatch, i: usize) -> Row {
        batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .filter(|(f, _)| !f.name().starts_with('\0'))
            .filter_map(|(f, c)| Some((f.name().clone(), self.renderer.json(c.as_ref(), i)?)))
            .collect()
    }

    fn rows(&self, out: &[RecordBatch]) -> Vec<(RecordBatch, Row)> {
        out.iter()
            .flat_map(|b| (0..b.num_rows()).map(move |i| (b, i)))
            .map(|(b, i)| (b.slice(i, 1), self.row(b, i)))
            .collect()
    }

    /// Records that `input` failed at stage `si` with `code` and `message` (no rows out).
    #[allow(clippy::too_many_arguments)]
    fn failed(
        &mut self,
        statement: usize,
        si: usize,
        stage: &plan::Stage,
        origins: &[usize],
        input: Row,
        code: &'static str,
        message: &str,
    ) {
        let reason = explain::failed(stage, &input, code, message);
        self.step(
            statement,
            si,
            origins,
            input,
            Vec::new(),
            Outcome::Failed,
            Some(reason),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        statement: usize,
        stage: usize,
        origins: &[usize],
        input: Row,
        outputs: Vec<Row>,
        outcome: Outcome,
        reason: Option<Reason>,
    ) {
        self.steps.push(Step {
            statement,
            stage,
            origins: origins.to_vec(),
            input,
            outputs,
            outcome,
            reason,
        });
    }

    /// A row-level stage: each row alone.
    fn row_stage(
        &mut self,
        statement: usize,
        si: usize,
        stage: &plan::Stage,
        op: &dyn ops::Operator,
        items: Vec<Item>,
    ) -> Vec<Item> {
        let session = self.pipeline.session();
        let mut next = Vec::with_capacity(items.len());
        for item in items {
            let input = self.row(&item.batch, 0);
            let result = run_guarded(|| op.process(item.batch.clone(), session));
            let out = match result {
                Ok(out) => out,
                Err(e) => {
                    let code = spl_parser::codes::BATCH_FAILED.id;
                    self.failed(statement, si, stage, &item.origins, input, code, &e.message);
                    continue;
                }
            };
            if let Some(err) = out.errors.first() {
                let reason = explain::failed(stage, &input, err.code, &err.message);
                let outputs = self
                    .rows(&out.batches)
                    .into_iter()
                    .map(|(_, r)| r)
                    .collect();
                self.step(
                    statement,
                    si,
                    &item.origins,
                    input,
                    outputs,
                    Outcome::Failed,
                    Some(reason),
                );
                continue;
            }
            let rows = self.rows(&out.batches);
            let (outcome, reason) = match rows.len() {
                0 => (Outcome::Dropped, Some(explain::dropped(stage, &input))),
                1 if rows[0].1 == input => (Outcome::Kept, explain::unchanged(stage, &input)),
                1 => (Outcome::Changed, None),
                n => (
                    Outcome::Split,
                    Some(Reason {
                        key: format!("{}: one row became several", stage.name()),
                        text: format!("{}: this row became {n} rows", stage.name()),
                        code: None,
                        values: explain::read_values(stage, &input),
                    }),
                ),
            };
            let outputs: Vec<Row> = rows.iter().map(|(_, r)| r.clone()).collect();
            self.step(
                statement,
                si,
                &item.origins,
                input,
                outputs,
                outcome,
                reason,
            );
            next.extend(rows.into_iter().map(|(batch, _)| Item {
                origins: item.origins.clone(),
                batch,
            }));
        }
        next
    }

    /// A buffering stage: every row pushed in order, then the end of the stream.
    fn buffering_stage(
        &mut self,
        statement: usize,
        si: usize,
        stage: &plan::Stage,
        op: &dyn ops::BufferingOperator,
        items: Vec<Item>,
    ) -> Result<Vec<Item>, TraceError> {
        let session = self.pipeline.session();
        let mut state = op.start();
        // Per pushed item: its row, and what the push emitted for it (a `limit`'s rows).
        let mut pushed: Vec<Pushed> = Vec::new();
        let mut next = Vec::new();
        for item in items {
            let input = self.row(&item.batch, 0);
            match run_guarded(|| state.push(item.batch.clone(), session)) {
                Ok(out) if out.errors.is_empty() => {
                    let rows = self.rows(&out.batches);
                    pushed.push((item, input, Some(rows)));
                }
                Ok(out) => {
                    let e = &out.errors[0];
                    self.failed(
                        statement,
                        si,
                        stage,
                        &item.origins,
                        input,
                        e.code,
                        &e.message,
                    );
                }
                Err(e) => {
                    let code = spl_parser::codes::BATCH_FAILED.id;
                    self.failed(statement, si, stage, &item.origins, input, code, &e.message);
                }
            }
        }
        let flushed = run_guarded(|| state.finish(session)).map_err(|e| {
            TraceError(format!(
                "statement {}, stage {} (`{}`) failed at the end of the stream: {}",
                statement + 1,
                si + 1,
                stage.name(),
                e.message
            ))
        })?;
        let flushed = self.rows(&flushed.batches);
        match &stage.op {
            Op::Stats { group_by, .. } => self.stats_lineage(
                statement,
                si,
                stage,
                op,
                group_by.len(),
                pushed,
                flushed,
                &mut next,
            ),
            // One row per `by` group, the `by` fields first: attributed like `stats`.
            Op::MakeSeries { instr } => {
                let keys = match &instr.kind {
                    spl_parser::ast::InstructionKind::MakeSeries { by, .. } => by.len(),
                    _ => 0,
                };
                self.stats_lineage(statement, si, stage, op, keys, pushed, flushed, &mut next)
            }
            Op::Limit { offset, count } => {
                for (k, (item, input, emitted)) in pushed.into_iter().enumerate() {
                    let rows = emitted.unwrap_or_default();
                    if rows.is_empty() {
                        let reason = explain::limited(offset.unwrap_or(0), *count, k + 1);
                        self.step(
                            statement,
                            si,
                            &item.origins,
                            input,
                            Vec::new(),
                            Outcome::Dropped,
                            Some(reason),
                        );
                    } else {
                        let outputs = rows.iter().map(|(_, r)| r.clone()).collect();
                        self.step(
                            statement,
                            si,
                            &item.origins,
                            input,
                            outputs,
                            Outcome::Kept,
                            None,
                        );
                        next.extend(rows.into_iter().map(|(batch, _)| Item {
                            origins: item.origins.clone(),
                            batch,
                        }));
                    }
                }
                // A limit emits nothing at the end; anything it did is matched like a sort's.
                self.match_rows(statement, si, stage, Vec::new(), flushed, &mut next);
            }
            _ => self.match_rows(statement, si, stage, pushed, flushed, &mut next),
        }
        Ok(next)
    }

    /// `sort` (and any stage whose output rows are its input rows): each output row belongs to
    /// the first pushed row with the same values not yet matched.
    fn match_rows(
        &mut self,
        statement: usize,
        si: usize,
        stage: &plan::Stage,
        pushed: Vec<Pushed>,
        flushed: Vec<(RecordBatch, Row)>,
        next: &mut Vec<Item>,
    ) {
        let total = flushed.len();
        let mut taken = vec![false; pushed.len()];
        let mut positions: Vec<Option<usize>> = vec![None; pushed.len()];
        for (pos, (batch, row)) in flushed.iter().enumerate() {
            let found = pushed
                .iter()
                .enumerate()
                .position(|(k, (_, input, _))| !taken[k] && input == row);
            let origins = match found {
                Some(k) => {
                    taken[k] = true;
                    positions[k] = Some(pos);
                    pushed[k].0.origins.clone()
                }
                None => Vec::new(),
            };
            next.push(Item {
                origins,
                batch: batch.clone(),
            });
        }
        for (k, (item, input, _)) in pushed.into_iter().enumerate() {
            match positions[k] {
                Some(pos) => {
                    let moved = pos != k;
                    let reason = explain::sorted(stage, &input, pos + 1, total, moved);
                    let outcome = if moved {
                        Outcome::Reordered
                    } else {
                        Outcome::Kept
                    };
                    let out = flushed[pos].1.clone();
                    self.step(
                        statement,
                        si,
                        &item.origins,
                        input,
                        vec![out],
                        outcome,
                        Some(reason),
                    );
                }
                None => {
                    let reason = Reason {
                        key: format!("{}: the row was not emitted", stage.name()),
                        text: format!("{}: the row was not emitted", stage.name()),
                        code: None,
                        values: Vec::new(),
                    };
                    self.step(
                        statement,
                        si,
                        &item.origins,
                        input,
                        Vec::new(),
                        Outcome::Dropped,
                        Some(reason),
                    );
                }
            }
        }
    }

    /// `stats`: each pushed row's group key (the first `keys` fields of the `stats` over that
    /// row alone) picks its group among the rows emitted at the end.
    #[allow(clippy::too_many_arguments)]
    fn stats_lineage(
        &mut self,
        statement: usize,
        si: usize,
        stage: &plan::Stage,
        op: &dyn ops::BufferingOperator,
        keys: usize,
        pushed: Vec<Pushed>,
        flushed: Vec<(RecordBatch, Row)>,
        next: &mut Vec<Item>,
    ) {
        let session = self.pipeline.session();
        let group_keys: Vec<Vec<(String, Value)>> = flushed
            .iter()
            .map(|(b, _)| {
                // Key fields are the first `keys` columns; NULL keys are listed as NULL.
                b.schema()
                    .fields()
                    .iter()
                    .take(keys)
                    .zip(b.columns())
                    .map(|(f, c)| {
                        (
                            f.name().clone(),
                            self.renderer.json(c.as_ref(), 0).unwrap_or(Value::Null),
                        )
                    })
                    .collect()
            })
            .collect();
        let mut origins: Vec<Vec<usize>> = vec![Vec::new(); flushed.len()];
        let groups = flushed.len();
        for (item, input, _) in pushed {
            let group = if keys == 0 {
                (groups > 0).then_some(0)
            } else {
                let mut alone = op.start();
                let own = run_guarded(|| {
                    alone.push(item.batch.clone(), session)?;
                    alone.finish(session)
                })
                .ok()
                .and_then(|out| out.batches.into_iter().find(|b| b.num_rows() > 0));
                own.and_then(|b| {
                    let key: Vec<(String, Value)> = b
                        .schema()
                        .fields()
                        .iter()
                        .take(keys)
                        .zip(b.columns())
                        .map(|(f, c)| {
                            (
                                f.name().clone(),
                                self.renderer.json(c.as_ref(), 0).unwrap_or(Value::Null),
                            )
                        })
                        .collect();
                    group_keys.iter().position(|g| *g == key)
                })
            };
            match group {
                Some(g) => {
                    origins[g].extend(item.origins.iter().copied());
                    let reason =
                        explain::aggregated(stage.name(), g + 1, groups, group_keys[g].clone());
                    let out = flushed[g].1.clone();
                    self.step(
                        statement,
                        si,
                        &item.origins,
                        input,
                        vec![out],
                        Outcome::Aggregated,
                        Some(reason),
                    );
                }
                None => {
                    let reason = Reason {
                        key: "stats: the row's group is not in the output".to_string(),
                        text: "stats: the row's group is not in the output (over the group limit)"
                            .to_string(),
                        code: None,
                        values: Vec::new(),
                    };
                    self.step(
                        statement,
                        si,
                        &item.origins,
                        input,
                        Vec::new(),
                        Outcome::Dropped,
                        Some(reason),
                    );
                }
            }
        }
        for ((batch, _), mut o) in flushed.into_iter().zip(origins) {
            o.sort_unstable();
            o.dedup();
            next.push(Item { origins: o, batch });
        }
    }
}

/// Runs a stage call, turning a panic into a batch error so that one bad row cannot take the
/// trace down.
fn run_guarded<F>(f: F) -> Result<StageOutput, BatchError>
where
    F: FnOnce() -> Result<StageOutput, BatchError>,
{
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => Err(BatchError::new("the stage panicked")),
    }
}

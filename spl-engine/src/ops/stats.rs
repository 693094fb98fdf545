//! `stats out=agg(args), ... [by key, ...]` (spec §5.15, scan mode): aggregation per group.
//!
//! Each batch's group keys and aggregate arguments are evaluated with the engine's scalar
//! evaluation (rows whose evaluation fails go to the error stream); rows are assigned to groups
//! by key value and fed to one accumulator per aggregate ([`super::aggregate`]). Memory grows
//! with the number of groups, not rows (except `array_agg` and `count(DISTINCT x)`, which keep
//! values). At the end of the stream one row per group is emitted: the key fields, then the
//! aggregates in written order, groups in first-seen order. Without `by` there is exactly one
//! row, also for an empty input (`count(*)` = 0, other aggregates NULL).
//!
//! Budgets: each row counts toward the deadline; each new group charges its key, the
//! accumulators that keep values (`count(DISTINCT x)`, `array_agg`, DataFusion's) charge what
//! they grow by, and what the table holds is charged again to every later batch and to the
//! flush, so a table that outgrows the memory ceiling stops the run with E2004 at `stats`.
//!
//! The SLS rule "only the first 100 groups unless `limit` follows" is the operator parameter
//! `max_groups` (the scan profile sets it): rows of later groups are not aggregated.
use std::sync::Arc;

use crate::expr::CompiledExpr;
use arrow::array::{ArrayRef, UInt32Array};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use datafusion_common::ScalarValue;
use spl_parser::{codes, Assignment, Diagnostic, Expr, ExprKind, GroupKey};

use super::aggregate::{AggSpec, ColumnAcc, Grouping};
use super::group_index::{AssignError, GroupIndex};
use super::{
    evaluate_isolating, BatchError, BufferState, BufferingOperator, ErrorRows, StageOutput,
};
use crate::budget;
use crate::expr::Session;

/// The compiled `stats` instruction.
#[derive(Debug, Clone)]
pub struct Stats {
    spec: Arc<StatsSpec>,
    max_groups: Option<usize>,
}

#[derive(Debug)]
struct StatsSpec {
    /// Output name and expression of each group key.
    keys: Vec<(String, Expr)>,
    /// Output name and aggregate of each item.
    aggregates: Vec<(String, AggSpec)>,
    /// The distinct key expressions and aggregate arguments, compiled once for all batches
    /// and runs (each plans once per input schema).
    compiled: Vec<CompiledExpr>,
    /// For each key expression, then each aggregate argument, its entry in `compiled`.
    slots: Vec<usize>,
}

impl Stats {
    /// Checks the items: each output is one known aggregate call; output names are unique.
    pub fn new(aggregates: &[Assignment], group_by: &[GroupKey]) -> Result<Stats, Box<Diagnostic>> {
        let keys: Vec<(String, Expr)> = group_by
            .iter()
            .map(|k| {
                let name = match (&k.output, &k.value.kind) {
                    (Some(o), _) => o.name.clone(),
                    (None, ExprKind::Column(c)) => c.clone(),
                    (None, _) => k.value.to_string(),
                };
                (name, k.value.clone())
            })
            .collect();
        let mut aggs = Vec::with_capacity(aggregates.len());
        for a in aggregates {
            aggs.push((a.output.name.clone(), AggSpec::parse(&a.value)?));
        }
        let mut seen = std::collections::HashSet::new();
        let outputs = keys
            .iter()
            .zip(group_by)
            .map(|((n, _), k)| (n, k.output.as_ref().map_or(k.value.span, |o| o.span)))
            .chain(aggregates.iter().map(|a| (&a.output.name, a.output.span)));
        for (name, span) in outputs {
            if !seen.insert(name.as_str()) {
                return Err(Box::new(
                    Diagnostic::error(
                        codes::DUPLICATE_OUTPUT,
                        format!("`stats` writes the field `{name}` twice"),
                        span,
                        "second output of this name",
                    )
                    .with_help("name the key or aggregate differently (`by k=expr`)"),
                ));
            }
        }
        // Equal deterministic expressions (e.g. `cast(latency as double)` given to two
        // aggregates) are evaluated once; one calling a volatile function (`random()`) is
        // evaluated for each use.
        let mut compiled: Vec<CompiledExpr> = Vec::new();
        let mut shared: Vec<(String, usize)> = Vec::new();
        let mut slots = Vec::new();
        for e in keys
            .iter()
            .map(|(_, e)| e)
            .chain(aggs.iter().filter_map(|(_, a)| a.arg.as_ref()))
        {
            let text = e.to_string();
            let slot = match shared.iter().find(|(t, _)| *t == text) {
                Some((_, slot)) => *slot,
                None => {
                    if crate::functions::is_deterministic(e) {
                        shared.push((text, compiled.len()));
                    }
                    compiled.push(CompiledExpr::new(e.clone()));
                    compiled.len() - 1
                }
            };
            slots.push(slot);
        }
        Ok(Stats {
            spec: Arc::new(StatsSpec {
                keys,
                aggregates: aggs,
                compiled,
                slots,
            }),
            max_groups: None,
        })
    }

    /// Caps the number of groups (SLS scan mode: 100 unless `limit` follows); `None` = no cap.
    pub fn with_max_groups(mut self, max_groups: Option<usize>) -> Stats {
        self.max_groups = max_groups;
        self
    }
}

impl BufferingOperator for Stats {
    fn name(&self) -> &'static str {
        "stats"
    }

    fn start(&self) -> Box<dyn BufferState> {
        Box::new(StatsState {
            accs: self
                .spec
                .aggregates
                .iter()
                .map(|(_, a)| a.accumulator())
                .collect(),
            spec: Arc::clone(&self.spec),
            max_groups: self.max_groups,
            key_types: vec![None; self.spec.keys.len()],
            index: GroupIndex::new(),
            slot: Vec::new(),
            groups: 0,
            retained: 0,
        })
    }
}

struct StatsState {
    spec: Arc<StatsSpec>,
    max_groups: Option<usize>,
    /// Each key's type, fixed by the first batch where it is not NULL-typed.
    key_types: Vec<Option<DataType>>,
    /// Key values → group id; ids count up in first-seen order.
    index: GroupIndex,
    /// For each group, its part in the batch being assigned (`u32::MAX`: none yet).
    slot: Vec<u32>,
    /// Number of groups.
    groups: usize,
    accs: Vec<Box<dyn ColumnAcc>>,
    /// Bytes the group table and the accumulators have been charged for so far: what this
    /// state holds between batches, charged again to every batch's budget scope.
    retained: usize,
}

/// Evaluates `exprs` on `batch`, setting aside the rows any of them fails on: returns the rows
/// that evaluated, each expression's values for them, and the failed rows.
pub(super) fn evaluate_all(
    compiled: &[CompiledExpr],
    batch: RecordBatch,
    session: &Session,
) -> Result<(RecordBatch, Vec<ArrayRef>, Vec<ErrorRows>), BatchError> {
    let mut batch = batch;
    let mut errors = Vec::new();
    'again: loop {
        let mut values = Vec::with_capacity(compiled.len());
        for e in compiled {
            let iso = evaluate_isolating(e, batch.clone(), session)?;
            if !iso.errors.is_empty() {
                // Each pass removes at least one row, so this ends.
                errors.extend(iso.errors);
                batch = iso.batch;
                continue 'again;
            }
            values.push(iso.values);
        }
        return Ok((batch, values, errors));
    }
}

fn batch_error(what: &str, e: impl std::fmt::Display) -> BatchError {
    BatchError::new(format!("stats: {what}: {e}"))
}

impl StatsState {
    /// The group of each row (creating groups up to the cap).
    fn assign(&mut self, keys: &[ArrayRef], rows: usize) -> Result<Grouping, BatchError> {
        let mut gids = Vec::with_capacity(rows);
        if keys.is_empty() {
            self.groups = 1;
            gids.resize(rows, Some(0));
        } else {
            let mut keys_conformed = Vec::with_capacity(keys.len());
            for (k, a) in keys.iter().enumerate() {
                keys_conformed.push(match (a.data_type(), &self.key_types[k]) {
                    (DataType::Null, _) => None,
                    (t, None) => {
                        self.key_types[k] = Some(t.clone());
                        Some(Arc::clone(a))
                    }
                    (t, Some(est)) if t == est => Some(Arc::clone(a)),
                    (_, Some(est)) => Some(
                        arrow::compute::cast(a.as_ref(), est)
                            .map_err(|e| batch_error("group key type changed", e))?,
                    ),
                });
            }
            let types: Vec<DataType> = self
                .key_types
                .iter()
                .map(|t| t.clone().unwrap_or(DataType::Null))
                .collect();
            gids = self
                .index
                .assign(&keys_conformed, &types, rows, self.max_groups)
                .map_err(|e| match e {
                    AssignError::Budget(e) => BatchError::from(e),
                    AssignError::Key(e) => batch_error("group key", e),
                })?;
            self.groups = self.index.len();
        }
        // Each group's rows, groups in first-seen order; `slot` maps a group to its part.
        self.slot.resize(self.groups, u32::MAX);
        let mut order: Vec<usize> = Vec::new();
        let mut rows_of: Vec<Vec<u32>> = Vec::new();
        for (r, g) in gids.iter().enumerate() {
            if let Some(g) = *g {
                let r = u32::try_from(r).map_err(|e| batch_error("batch too large", e))?;
                if self.slot[g] == u32::MAX {
                    self.slot[g] = rows_of.len() as u32;
                    order.push(g);
                    rows_of.push(Vec::new());
                }
                rows_of[self.slot[g] as usize].push(r);
            }
        }
        for &g in &order {
            self.slot[g] = u32::MAX;
        }
        let whole = order.len() == 1 && rows_of[0].len() == rows;
        let parts = order
            .into_iter()
            .zip(rows_of)
            .map(|(g, rows)| (g, UInt32Array::from(rows)))
            .collect();
        Ok(Grouping {
            gids,
            parts,
            groups: self.groups,
            whole,
        })
    }
}

impl BufferState for StatsState {
    fn push(&mut self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        // What the table already holds counts toward this batch's memory.
        budget::charge(self.retained)?;
        let spec = Arc::clone(&self.spec);
        let (batch, values, errors) = evaluate_all(&spec.compiled, batch, session)?;
        let values: Vec<ArrayRef> = spec.slots.iter().map(|&i| Arc::clone(&values[i])).collect();
        let (keys, args) = values.split_at(spec.keys.len());
        let grown = budget::used();
        let grouping = self.assign(keys, batch.num_rows())?;
        let mut args = args.iter();
        for ((_, agg), acc) in spec.aggregates.iter().zip(&mut self.accs) {
            let arg = if agg.arg.is_some() { args.next() } else { None };
            acc.update(&grouping, arg)
                .map_err(|e| batch_error(&agg.name, e))?;
        }
        self.retained += budget::used().saturating_sub(grown);
        Ok(StageOutput {
            batches: Vec::new(),
            errors,
        })
    }

    fn finish(&mut self, _session: &Session) -> Result<StageOutput, BatchError> {
        budget::charge(self.retained)?;
        if self.spec.keys.is_empty() {
            self.groups = 1;
        }
        let n = self.groups;
        if n == 0 {
            return Ok(StageOutput::default());
        }
        let keys = self.index.take_keys();
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (k, (name, _)) in self.spec.keys.iter().enumerate() {
            // A key that was NULL in every row is absent from the output.
            let Some(ty) = &self.key_types[k] else {
                continue;
            };
            let null = ScalarValue::try_new_null(ty).map_err(|e| batch_error(name, e))?;
            let values = keys.iter().map(|key| match &key[k] {
                ScalarValue::Null => null.clone(),
                v => v.clone(),
            });
            let array = ScalarValue::iter_to_array(values).map_err(|e| batch_error(name, e))?;
            fields.push(Field::new(name, ty.clone(), true));
            columns.push(array);
        }
        for ((name, agg), acc) in self.spec.aggregates.iter().zip(&mut self.accs) {
            let array = acc.finish(n).map_err(|e| batch_error(&agg.name, e))?;
            if array.data_type() == &DataType::Null {
                continue;
            }
            fields.push(Field::new(name, array.data_type().clone(), true));
            columns.push(array);
        }
        let arrays: Vec<&dyn arrow::array::Array> = columns.iter().map(|c| c.as_ref()).collect();
        budget::charge_arrays(&arrays)?;
        let out =
            crate::batch::from_columns(fields, columns, n).map_err(|e| batch_error("output", e))?;
        Ok(StageOutput::one(out))
    }
}

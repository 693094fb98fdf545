//! `sort key [asc|desc], ...` (spec §5.15, scan mode): buffers the whole stream and emits it
//! ordered at the end.
//!
//! - Batches with different schemas are aligned by field name (a field missing in a batch is
//!   NULL there); a field whose type differs between batches is compared as its text (§18.4).
//! - Keys are expressions, ordered by their evaluated type: numbers numerically, VARCHAR as text
//!   (byte order, so `'10' < '9'`; write `sort cast(x as bigint)` for numeric text). Arrays,
//!   maps and rows order by their JSON text.
//! - NULLs (absent fields) come last for both `asc` and `desc`.
//! - The sort is stable: rows with equal keys keep their arrival order.
//! - Rows whose key expression fails go to the error stream.
//! - Budgets: the buffer is charged to every batch's budget as it grows (its Arrow allocations,
//!   a shared chunk once), and the flush charges the buffer, its concatenation, the indices and
//!   the sorted copy before building each, checking the deadline between the steps. There is no
//!   spill to disk: a buffer over the memory ceiling stops the run with E2004 at `sort` (the
//!   CLI, which has no ceiling, sorts in memory).
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, StringViewArray, UInt32Array};
use arrow::compute::{lexsort_to_indices, SortColumn, SortOptions};
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;
use spl_parser::SortKey;

use super::stats::evaluate_all;
use super::{BatchError, BufferState, BufferingOperator, StageOutput};
use crate::budget;
use crate::expr::{CompiledExpr, Session};
use crate::render::Renderer;

/// The compiled `sort` instruction.
#[derive(Debug, Clone)]
pub struct Sort {
    keys: Arc<Vec<SortKey>>,
}

impl Sort {
    pub fn new(keys: &[SortKey]) -> Sort {
        Sort {
            keys: Arc::new(keys.to_vec()),
        }
    }
}

impl BufferingOperator for Sort {
    fn name(&self) -> &'static str {
        "sort"
    }

    fn start(&self) -> Box<dyn BufferState> {
        Box::new(SortState {
            keys: Arc::clone(&self.keys),
            batches: Vec::new(),
            buffered: 0,
            counted: Default::default(),
        })
    }
}

struct SortState {
    keys: Arc<Vec<SortKey>>,
    batches: Vec<RecordBatch>,
    /// Bytes of the Arrow allocations the buffered batches hold, each counted once
    /// (`counted`: their addresses).
    buffered: usize,
    counted: std::collections::HashSet<usize>,
}

fn sort_error(e: impl std::fmt::Display) -> BatchError {
    BatchError::new(format!("sort: {e}"))
}

/// Each value of `a` as text (§18.4), NULL staying NULL.
fn as_text(a: &dyn Array, renderer: &Renderer) -> ArrayRef {
    Arc::new(StringViewArray::from_iter(
        (0..a.len()).map(|r| renderer.text(a, r)),
    ))
}

/// Concatenates batches whose schemas may differ: fields in first-seen order, missing → NULL,
/// a type that differs between batches → VARCHAR text.
pub(crate) fn concat_aligned(
    batches: &[RecordBatch],
    renderer: &Renderer,
) -> Result<RecordBatch, BatchError> {
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<Option<DataType>> = Vec::new();
    for b in batches {
        for f in b.schema().fields() {
            let i = match names.iter().position(|n| n == f.name()) {
                Some(i) => i,
                None => {
                    names.push(f.name().clone());
                    types.push(None);
                    names.len() - 1
                }
            };
            let t = f.data_type();
            types[i] = match &types[i] {
                _ if t == &DataType::Null => types[i].clone(),
                None => Some(t.clone()),
                Some(old) if old == t => Some(t.clone()),
                Some(_) => Some(DataType::Utf8View),
            };
        }
    }
    let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut fields = Vec::with_capacity(names.len());
    let mut columns = Vec::with_capacity(names.len());
    for (name, ty) in names.iter().zip(types) {
        let ty = ty.unwrap_or(DataType::Null);
        let mut parts: Vec<ArrayRef> = Vec::with_capacity(batches.len());
        for b in batches {
            parts.push(match b.column_by_name(name) {
                None => new_null_array(&ty, b.num_rows()),
                Some(c) if c.data_type() == &ty => Arc::clone(c),
                Some(c) if c.data_type() == &DataType::Null => new_null_array(&ty, b.num_rows()),
                Some(c) => as_text(c.as_ref(), renderer),
            });
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
        let column = if refs.is_empty() {
            new_null_array(&ty, 0)
        } else {
            arrow::compute::concat(&refs).map_err(sort_error)?
        };
        fields.push(Field::new(name, ty, true));
        columns.push(column);
    }
    crate::batch::from_columns(fields, columns, total).map_err(sort_error)
}

impl BufferState for SortState {
    fn push(&mut self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        if batch.num_rows() > 0 {
            // The buffer, with this batch in it, counts toward this batch's memory.
            let bytes = budget::new_bytes(&batch, &mut self.counted);
            budget::charge(self.buffered + bytes)?;
            self.buffered += bytes;
            self.batches.push(batch);
        }
        Ok(StageOutput::default())
    }

    fn finish(&mut self, session: &Session) -> Result<StageOutput, BatchError> {
        let batches = std::mem::take(&mut self.batches);
        if batches.is_empty() {
            return Ok(StageOutput::default());
        }
        let renderer = Renderer::new(session.tz);
        // The buffer, and its copy into one batch, before the copy is made.
        budget::charge(2 * self.buffered)?;
        let all = concat_aligned(&batches, &renderer)?;
        drop(batches);
        budget::check()?;
        let compiled: Vec<CompiledExpr> = self
            .keys
            .iter()
            .map(|k| CompiledExpr::new(k.value.clone()))
            .collect();
        let (all, values, errors) = evaluate_all(&compiled, all, session)?;
        let rows = all.num_rows();
        let mut columns = Vec::with_capacity(values.len() + 1);
        for (key, v) in self.keys.iter().zip(values) {
            let v = match v.data_type() {
                // All NULL: this key does not order anything.
                DataType::Null => continue,
                DataType::List(_)
                | DataType::LargeList(_)
                | DataType::Map(_, _)
                | DataType::Struct(_) => as_text(v.as_ref(), &renderer),
                _ => v,
            };
            columns.push(SortColumn {
                values: v,
                options: Some(SortOptions {
                    descending: key.descending,
                    nulls_first: false,
                }),
            });
        }
        // The arrival order breaks ties, which makes the sort stable.
        let n = u32::try_from(rows).map_err(|_| sort_error("too many rows to sort"))?;
        columns.push(SortColumn {
            values: Arc::new(UInt32Array::from_iter_values(0..n)),
            options: None,
        });
        // The indices, then the sorted copy, each charged before it is built.
        budget::charge(8 * rows)?;
        budget::check()?;
        let indices = lexsort_to_indices(&columns, None).map_err(sort_error)?;
        budget::charge(self.buffered)?;
        budget::check()?;
        let sorted = arrow::compute::take_record_batch(&all, &indices).map_err(sort_error)?;
        Ok(StageOutput {
            batches: vec![sorted],
            errors,
        })
    }
}

//! The columnar pull scan: a stored LogGroup goes through a consumer's query without being
//! decoded into messages. The group is read in place ([`crate::wire::GroupView`]); only the
//! fields the query can observe become columns, as views into the stored bytes; and what
//! comes out is written without re-encoding where possible:
//!
//! - a query that only chooses rows (`where`) returns the chosen logs **byte for byte as
//!   stored**, spliced from the stored group ([`ScanPlan::splice`]);
//! - a query that keeps only named fields (`project`) returns rows encoded from its output.
//!
//! Anything else, and every group where the fast path cannot promise the decoding path's
//! answer — a row failed or a budget ran out (the error policy settles those with whole rows),
//! a value or key that is not UTF-8, a log repeating a field the query reads, a log time of 0
//! or 2^32-1 (replaced by the group's time), a nanosecond part over 999,999,999
//! (clamped), a tag key that is not UTF-8 or repeated, a
//! filtered log with a key that is not UTF-8, a group this reader refuses — is left to the
//! decoding path (`scan::apply`, which calls this module first), which gives the same answer for the others.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int64Builder, RecordBatch, StringViewBuilder, UInt32Array};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema, UInt32Type};
use prost::Message;
use spl_engine::exec::run_batch;
use spl_engine::groups::{
    is_tag_field, EventGroup, GroupFields, Splitter, SOURCE_FIELD, TIME_FIELD, TIME_NS_FIELD,
    TOPIC_FIELD,
};
use spl_engine::plan::{input_fields, rows_unchanged, FieldSelection};
use spl_engine::pushdown::{Pushdown, PushdownStats};

use crate::proto::{self, LogGroup};
use crate::wire::GroupView;

/// The hidden column carrying each row's log index through a splicing query.
const ROW_FIELD: &str = "\0row";

/// How a query can scan stored groups column by column, if it can.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanPlan {
    /// Output rows are input rows unchanged: return the stored logs themselves.
    pub splice: bool,
    /// The fields that become columns (time fields always do).
    pub fields: Vec<String>,
}

impl ScanPlan {
    /// The plan for `pushdown`, or `None` when only the decoding path can run it: every field
    /// may matter, or the query reads group metadata (`__topic__`, `__source__`, tags).
    pub fn of(pushdown: &Pushdown) -> Option<ScanPlan> {
        let pipeline = pushdown.pipeline();
        let chains = pipeline.plan();
        let splice = rows_unchanged(chains) && pipeline.outputs().len() == 1;
        let FieldSelection::Only(fields) = input_fields(chains, splice) else {
            return None;
        };
        let metadata = |f: &String| {
            f == TOPIC_FIELD || f == SOURCE_FIELD || is_tag_field(f) || f.contains('\u{fffd}')
        };
        if fields.iter().any(metadata) {
            return None;
        }
        // Time fields are columns of their own.
        let fields = fields
            .into_iter()
            .filter(|f| f != TIME_FIELD && f != TIME_NS_FIELD)
            .collect();
        Some(ScanPlan { splice, fields })
    }
}

/// A column being filled with views into the stored group.
struct ViewColumn<'n> {
    name: &'n str,
    builder: StringViewBuilder,
    len: usize,
}

/// Runs `pushdown` over one stored group (`stored`) the columnar way, appending the groups
/// it returns to `body` (a `LogGroupList`), with the engine's counters. `None`: the group must take the decoding path
/// (nothing was appended).
pub fn apply(
    plan: &ScanPlan,
    pushdown: &Pushdown,
    stored: &Buffer,
    body: &mut Vec<u8>,
) -> Option<(u64, PushdownStats)> {
    let bytes = stored.as_slice();
    let view = GroupView::parse(bytes)?;
    // Times the decoding path replaces (the group's time) or clamps (nanoseconds).
    if view
        .logs
        .iter()
        .any(|l| l.time == 0 || l.time == u32::MAX || l.time_ns.is_some_and(|n| n > 999_999_999))
    {
        return None;
    }
    // The decoding path gives tag keys as text (U+FFFD for invalid bytes) and one value per
    // key.
    let tags = &view.tags;
    if tags.iter().enumerate().any(|(i, (_, k, _))| {
        std::str::from_utf8(k).is_err() || tags[..i].iter().any(|(_, j, _)| j == k)
    }) {
        return None;
    }
    let batch = columns(plan, &view, stored)?;
    let rows = batch.num_rows();
    let mut stats = PushdownStats {
        raw_groups: 1,
        raw_rows: rows as u64,
        ..PushdownStats::default()
    };
    if rows == 0 {
        return Some((0, stats));
    }
    let out = run_batch(pushdown.pipeline(), batch).ok()?;
    if out.policy_error_rows > 0 || !out.error_rows.is_empty() || out.budget_exceeded > 0 {
        return None;
    }
    let groups = if plan.splice {
        let mut picked = Vec::new();
        for b in out.datasets.iter().flatten() {
            let rows = b
                .column_by_name(ROW_FIELD)?
                .as_primitive_opt::<UInt32Type>()?;
            picked.extend(rows.values().iter().map(|&r| r as usize));
        }
        if picked.is_empty() {
            0
        } else {
            stats.rows_returned = picked.len() as u64;
            let mut group = Vec::with_capacity(bytes.len());
            view.write_with_logs(picked.into_iter(), &mut group);
            proto::append_group(body, &group);
            1
        }
    } else {
        encode(pushdown, &view, &out.datasets, body, &mut stats)?
    };
    stats.groups_returned = groups;
    Some((groups, stats))
}

/// The batch of the fields `plan` selects: `__time__`, `__time_ns_part__` when a log has one,
/// the selected fields in first-seen order (absent fields have no column, as the decoding
/// path builds them) and, when splicing, each row's log index.
fn columns(plan: &ScanPlan, view: &GroupView<'_>, stored: &Buffer) -> Option<RecordBatch> {
    let base = stored.as_ptr() as usize;
    let wanted: HashMap<&[u8], usize> = plan
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_bytes(), i))
        .collect();
    // Selected field index → position in `cols`.
    let mut slot: Vec<Option<usize>> = vec![None; plan.fields.len()];
    let mut cols: Vec<ViewColumn> = Vec::new();
    let mut time = Int64Builder::with_capacity(view.logs.len());
    let has_ns = view.logs.iter().any(|l| l.time_ns.is_some());
    let mut ns = Int64Builder::with_capacity(if has_ns { view.logs.len() } else { 0 });
    for (row, log) in view.logs.iter().enumerate() {
        time.append_value(i64::from(log.time));
        if has_ns {
            ns.append_option(log.time_ns.map(i64::from));
        }
        for (k, v) in view.log_contents(row) {
            if k.starts_with(b"__") && special(k) {
                return None; // a row's own time or metadata value: regrouped, or replaced
            }
            let Some(&f) = wanted.get(k) else {
                // A spliced log keeps its keys' bytes; the decoding path makes them text.
                if plan.splice && !k.is_ascii() && std::str::from_utf8(k).is_err() {
                    return None;
                }
                continue;
            };
            let c = match slot[f] {
                Some(c) => &mut cols[c],
                None => {
                    let mut builder = StringViewBuilder::new();
                    builder.append_block(stored.clone());
                    slot[f] = Some(cols.len());
                    cols.push(ViewColumn {
                        name: &plan.fields[f],
                        builder,
                        len: 0,
                    });
                    cols.last_mut()?
                }
            };
            if c.len > row {
                return None; // the log repeats a field the query reads
            }
            while c.len < row {
                c.builder.append_null();
                c.len += 1;
            }
            let offset = u32::try_from(v.as_ptr() as usize - base).ok()?;
            let len = u32::try_from(v.len()).ok()?;
            // Refuses values that are not UTF-8.
            c.builder.try_append_view(0, offset, len).ok()?;
            c.len += 1;
        }
    }
    let rows = view.logs.len();
    let mut fields = vec![Field::new(TIME_FIELD, DataType::Int64, true)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(time.finish())];
    if has_ns {
        fields.push(Field::new(TIME_NS_FIELD, DataType::Int64, true));
        arrays.push(Arc::new(ns.finish()));
    }
    for mut c in cols {
        while c.len < rows {
            c.builder.append_null();
            c.len += 1;
        }
        fields.push(Field::new(c.name, DataType::Utf8View, true));
        arrays.push(Arc::new(c.builder.finish()));
    }
    if plan.splice {
        fields.push(Field::new(ROW_FIELD, DataType::UInt32, false));
        arrays.push(Arc::new(UInt32Array::from_iter_values(0..rows as u32)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).ok()
}

/// True for a key the decoding path does not treat as an ordinary field: a time field, or
/// group metadata given by the row itself.
fn special(key: &[u8]) -> bool {
    std::str::from_utf8(key).is_ok_and(|k| {
        k == TIME_FIELD
            || k == TIME_NS_FIELD
            || k == TOPIC_FIELD
            || k == SOURCE_FIELD
            || is_tag_field(k)
    })
}

/// Encodes the query's output rows as the decoding path does: split into groups by the
/// metadata the rows carry (starting from the stored group's), each written with the stored
/// group's `Reserved`/`MachineUUID`.
fn encode(
    pushdown: &Pushdown,
    view: &GroupView<'_>,
    datasets: &[Vec<RecordBatch>],
    body: &mut Vec<u8>,
    stats: &mut PushdownStats,
) -> Option<u64> {
    let first = view.logs.first();
    let base = EventGroup {
        time: first.map_or(0, |l| i64::from(l.time)),
        time_ns: first.and_then(|l| l.time_ns).map_or(0, i64::from),
        topic: view.topic.map(<[u8]>::to_vec),
        source: view.source.map(<[u8]>::to_vec),
        tags: view
            .tags
            .iter()
            .map(|(_, k, v)| (String::from_utf8_lossy(k).into_owned(), v.to_vec()))
            .collect(),
        rows: RecordBatch::new_empty(Arc::new(Schema::empty())),
    };
    let renderer = pushdown.renderer();
    let mut split = Splitter::new(&base, GroupFields::TopicSourceTags, renderer);
    for b in datasets.iter().flatten() {
        split.add(b).ok()?;
    }
    let groups = split.finish().ok()?;
    let origin = LogGroup {
        reserved: view.reserved.map(<[u8]>::to_vec),
        machine_uuid: view.machine_uuid.map(<[u8]>::to_vec),
        ..LogGroup::default()
    };
    let mut written = 0;
    for g in &groups {
        let wire = LogGroup::from_event_group(g, renderer, Some(&origin));
        stats.rows_returned += wire.logs.len() as u64;
        proto::append_group(body, &wire.encode_to_vec());
        written += 1;
    }
    Some(written)
}

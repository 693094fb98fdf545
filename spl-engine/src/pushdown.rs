//! Server-side pushdown: a consumer's SPL applied to the LogGroups a shard server is about to
//! return from a pull, so only matching, projected rows cross the wire.
//!
//! The program is compiled once under the consumer profile ([`Pushdown::compile`]; `stats`,
//! `sort` and `limit` are rejected there with `E1006`). Each LogGroup becomes one Arrow batch:
//! `__time__`/`__time_ns_part__` are BIGINT columns, `__topic__`, `__source__`, every tag
//! (`__tag__:<key>`) and every content key are VARCHAR (`Utf8View`) columns. After the run the
//! rows are rendered back to text (§18.4, [`Renderer::text`]) and re-encoded into groups that keep
//! the input group's topic, source and tags; a row that writes `__topic__`, `__source__` or a
//! `__tag__:<key>` moves into the group of its new values; groups left without rows are dropped.
//! Rows that fail follow the consumer profile's pass-through policy: the original row is
//! returned and counted in [`PushdownStats::rows_failed`].
//!
//! The LogGroup model here is plain structs (no protobuf, no async): the wire codec lives in
//! `spl-loghub`. [`LogGroup::encoded_len`] gives the exact protobuf size for byte statistics.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Builder, StringViewBuilder};
use arrow::datatypes::{DataType, Field, Int64Type};
use arrow::record_batch::RecordBatch;
use spl_parser::Diagnostics;

use crate::batch::from_columns;
use crate::pipeline::{Options, Pipeline, ProcessError, Profile};
use crate::render::Renderer;

/// The event time field (Unix seconds).
pub const TIME_FIELD: &str = "__time__";
/// The nanosecond part of the event time.
pub const TIME_NS_FIELD: &str = "__time_ns_part__";
/// The group topic field.
pub const TOPIC_FIELD: &str = "__topic__";
/// The group source field.
pub const SOURCE_FIELD: &str = "__source__";
/// The prefix of group tag fields (`__tag__:<key>`).
pub const TAG_PREFIX: &str = "__tag__:";

/// One log of a group: its time and its contents in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Log {
    /// Unix seconds (`Log.Time`).
    pub time: u32,
    /// Nanosecond part (`Log.Time_ns`), when present.
    pub time_ns: Option<u32>,
    /// Key/value pairs (`Log.Contents`).
    pub contents: Vec<(String, String)>,
}

/// A LogGroup: logs that share a topic, a source and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogGroup {
    pub logs: Vec<Log>,
    pub topic: Option<String>,
    pub source: Option<String>,
    /// Tags in order (`LogGroup.LogTags`), keys without the `__tag__:` prefix.
    pub tags: Vec<(String, String)>,
}

impl LogGroup {
    /// The exact size of this group as a protobuf `LogGroup` message (the fields modelled here).
    pub fn encoded_len(&self) -> usize {
        let logs: usize = self
            .logs
            .iter()
            .map(|log| {
                let contents: usize = log
                    .contents
                    .iter()
                    .map(|(k, v)| delimited(pair_len(k, v)))
                    .sum();
                let ns = if log.time_ns.is_some() { 1 + 4 } else { 0 };
                delimited(1 + varint_len(u64::from(log.time)) + contents + ns)
            })
            .sum();
        let tags: usize = self
            .tags
            .iter()
            .map(|(k, v)| delimited(pair_len(k, v)))
            .sum();
        let text = |t: &Option<String>| t.as_ref().map_or(0, |t| delimited(t.len()));
        logs + tags + text(&self.topic) + text(&self.source)
    }
}

/// Key (field 1) and value (field 2) of a content or tag message.
fn pair_len(k: &str, v: &str) -> usize {
    delimited(k.len()) + delimited(v.len())
}

/// A length-delimited field with a one-byte tag.
fn delimited(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// A group produced by the pushdown, with the index of the input group it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputGroup {
    /// Index of the input group (in the slice given to [`Pushdown::apply`]).
    pub origin: usize,
    pub group: LogGroup,
}

/// Counters of one pushdown call (or of several, added up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushdownStats {
    /// Groups scanned.
    pub raw_groups: u64,
    /// Rows (logs) scanned.
    pub raw_rows: u64,
    /// Bytes scanned: the protobuf size of the scanned groups.
    pub raw_bytes: u64,
    /// Groups returned (non-empty).
    pub groups_returned: u64,
    /// Rows returned, including failed rows passed through.
    pub rows_returned: u64,
    /// Rows that failed in the program and were returned unchanged (pass-through policy) or
    /// dropped/kept aside by another policy.
    pub rows_failed: u64,
    /// Groups that exceeded the time or memory budget (returned unchanged under pass-through).
    pub budget_exceeded: u64,
}

impl PushdownStats {
    /// Adds another call's counters.
    pub fn add(&mut self, other: &PushdownStats) {
        self.raw_groups += other.raw_groups;
        self.raw_rows += other.raw_rows;
        self.raw_bytes += other.raw_bytes;
        self.groups_returned += other.groups_returned;
        self.rows_returned += other.rows_returned;
        self.rows_failed += other.rows_failed;
        self.budget_exceeded += other.budget_exceeded;
    }
}

/// The result of applying a program to a list of groups.
#[derive(Debug, Clone, Default)]
pub struct PushdownOutput {
    /// Non-empty output groups, in input order (rows that moved to new tag values follow the
    /// group they came from).
    pub groups: Vec<OutputGroup>,
    pub stats: PushdownStats,
}

/// A compiled consumer program, shareable across threads.
#[derive(Debug)]
pub struct Pushdown {
    pipeline: Pipeline,
    renderer: Renderer,
}

impl Pushdown {
    /// Compiles `text` under the consumer profile (limits and availability of §18.12).
    pub fn compile(text: &str) -> Result<Pushdown, Diagnostics> {
        Pushdown::with_options(text, &Options::new(Profile::Consumer))
    }

    /// Compiles `text` with explicit options (profile, time zone, budgets, error policy).
    pub fn with_options(text: &str, options: &Options) -> Result<Pushdown, Diagnostics> {
        let pipeline = Pipeline::compile(text, options)?;
        Ok(Pushdown {
            pipeline,
            renderer: Renderer::new(options.timezone),
        })
    }

    /// The compiled pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Applies the program to every group. Each group is processed on its own; every output
    /// dataset of the program contributes rows (in statement order).
    pub fn apply(&self, groups: &[LogGroup]) -> Result<PushdownOutput, ProcessError> {
        let mut out = PushdownOutput::default();
        for (origin, group) in groups.iter().enumerate() {
            let (produced, stats) = self.apply_group(group)?;
            out.stats.add(&stats);
            out.groups.extend(
                produced
                    .into_iter()
                    .map(|group| OutputGroup { origin, group }),
            );
        }
        Ok(out)
    }

    /// Applies the program to one group: the groups it turns into (none when every row was
    /// filtered out) and the counters.
    pub fn apply_group(
        &self,
        group: &LogGroup,
    ) -> Result<(Vec<LogGroup>, PushdownStats), ProcessError> {
        let mut stats = PushdownStats {
            raw_groups: 1,
            raw_rows: group.logs.len() as u64,
            raw_bytes: group.encoded_len() as u64,
            ..PushdownStats::default()
        };
        if group.logs.is_empty() {
            return Ok((Vec::new(), stats));
        }
        let batch = group_to_batch(group);
        let outputs = self.pipeline.process(batch)?;
        stats.rows_failed = outputs.error_rows
            + outputs
                .errors
                .iter()
                .map(|e| e.rows.num_rows() as u64)
                .sum::<u64>();
        stats.budget_exceeded = outputs.budget_exceeded;
        let mut regroup = Regroup::new(group);
        for batch in outputs.datasets.iter().flatten() {
            regroup.add(batch, &self.renderer);
        }
        let groups = regroup.finish();
        stats.groups_returned = groups.len() as u64;
        stats.rows_returned = groups.iter().map(|g| g.logs.len() as u64).sum();
        Ok((groups, stats))
    }
}

/// A VARCHAR column being filled row by row.
struct TextColumn {
    name: String,
    builder: StringViewBuilder,
    len: usize,
    /// The group-level value written in rows whose contents do not set this field.
    group_value: Option<String>,
    /// The block holding `group_value` once, so every row's view points at the same bytes.
    group_block: Option<u32>,
}

impl TextColumn {
    fn new(name: String, group_value: Option<String>) -> TextColumn {
        TextColumn {
            name,
            builder: StringViewBuilder::new(),
            len: 0,
            group_value,
            group_block: None,
        }
    }

    fn pad_to(&mut self, rows: usize) {
        while self.len < rows {
            self.builder.append_null();
            self.len += 1;
        }
    }

    /// Appends the group value (without copying it per row when it is longer than a view's
    /// inline part).
    fn append_group_value(&mut self) {
        let Some(v) = &self.group_value else {
            return;
        };
        let appended = match u32::try_from(v.len()) {
            Ok(len) if len > 12 => {
                let block = *self.group_block.get_or_insert_with(|| {
                    self.builder
                        .append_block(arrow::buffer::Buffer::from_slice_ref(v.as_bytes()))
                });
                self.builder.try_append_view(block, 0, len).is_ok()
            }
            _ => false,
        };
        if !appended {
            self.builder.append_value(v);
        }
        self.len += 1;
    }
}

/// One LogGroup as a batch. Content keys that name a time field are ignored (time comes from
/// `Log.Time`); content keys that name `__topic__`, `__source__` or a tag override the group value
/// in that row (as in the SDKs' flattened view, where contents come last).
pub fn group_to_batch(group: &LogGroup) -> RecordBatch {
    let rows = group.logs.len();
    let mut columns: Vec<TextColumn> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    declare(
        &mut columns,
        &mut index,
        TOPIC_FIELD.to_string(),
        Some(group.topic.clone().unwrap_or_default()),
    );
    declare(
        &mut columns,
        &mut index,
        SOURCE_FIELD.to_string(),
        Some(group.source.clone().unwrap_or_default()),
    );
    for (k, v) in &group.tags {
        declare(
            &mut columns,
            &mut index,
            format!("{TAG_PREFIX}{k}"),
            Some(v.clone()),
        );
    }
    let group_columns = columns.len();

    let mut time = Int64Builder::with_capacity(rows);
    let has_ns = group.logs.iter().any(|l| l.time_ns.is_some());
    let mut ns = Int64Builder::with_capacity(if has_ns { rows } else { 0 });
    let mut slots: Vec<Option<usize>> = Vec::new();
    let mut previous: Vec<Option<usize>> = Vec::new();
    for (row, log) in group.logs.iter().enumerate() {
        std::mem::swap(&mut slots, &mut previous);
        time.append_value(i64::from(log.time));
        if has_ns {
            ns.append_option(log.time_ns.map(i64::from));
        }
        // New keys become columns in first-seen order; the column of each content is
        // remembered per position, as logs of one group usually repeat the same keys in the
        // same order.
        slots.clear();
        for (j, (k, _)) in log.contents.iter().enumerate() {
            let guess = previous.get(j).copied().flatten();
            let slot = match guess {
                Some(i) if columns.get(i).is_some_and(|c| c.name == *k) => Some(i),
                _ if crate::batch::is_time_field(k) => None,
                _ => Some(match index.get(k.as_str()) {
                    Some(&i) => i,
                    None => declare(&mut columns, &mut index, k.clone(), None),
                }),
            };
            slots.push(slot);
        }
        // Values are written last first so that a repeated key keeps its last value.
        for (slot, (_, v)) in slots.iter().zip(&log.contents).rev() {
            let Some(i) = *slot else {
                continue;
            };
            let Some(c) = columns.get_mut(i) else {
                continue;
            };
            c.pad_to(row);
            if c.len > row {
                continue;
            }
            c.builder.append_value(v);
            c.len += 1;
        }
        for c in columns.iter_mut().take(group_columns) {
            if c.len == row {
                c.append_group_value();
            }
        }
    }

    let mut fields = vec![Field::new(TIME_FIELD, DataType::Int64, true)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(time.finish())];
    if has_ns {
        fields.push(Field::new(TIME_NS_FIELD, DataType::Int64, true));
        arrays.push(Arc::new(ns.finish()));
    }
    for mut c in columns {
        c.pad_to(rows);
        fields.push(Field::new(c.name, DataType::Utf8View, true));
        arrays.push(Arc::new(c.builder.finish()));
    }
    // Every column has `rows` values of its declared type and names are unique.
    from_columns(fields, arrays, rows)
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(arrow::datatypes::Schema::empty())))
}

/// Declares a column (once; a repeated group field takes the last value).
fn declare(
    columns: &mut Vec<TextColumn>,
    index: &mut HashMap<String, usize>,
    name: String,
    value: Option<String>,
) -> usize {
    if let Some(&i) = index.get(&name) {
        if let Some(c) = columns.get_mut(i) {
            c.group_value = value;
        }
        return i;
    }
    index.insert(name.clone(), columns.len());
    columns.push(TextColumn::new(name, value));
    columns.len() - 1
}

/// What a column of an output batch becomes in a LogGroup.
enum Role {
    Time,
    TimeNs,
    Topic,
    Source,
    Tag(String),
    Content(String),
}

/// The group-level values a row is emitted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    topic: Option<String>,
    source: Option<String>,
    tags: Vec<(String, String)>,
}

/// Collects output rows into groups keyed by topic, source and tags.
struct Regroup {
    /// The input group's metadata.
    base: GroupKey,
    /// The output group of rows that keep `base`.
    base_slot: Option<usize>,
    groups: Vec<LogGroup>,
    index: HashMap<GroupKey, usize>,
}

impl GroupKey {
    fn get(&self, role: &Role) -> Option<&str> {
        match role {
            Role::Topic => self.topic.as_deref(),
            Role::Source => self.source.as_deref(),
            Role::Tag(k) => self
                .tags
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str()),
            _ => None,
        }
    }

    fn set(&mut self, role: &Role, value: String) {
        match role {
            Role::Topic => self.topic = Some(value),
            Role::Source => self.source = Some(value),
            Role::Tag(k) => set_tag(&mut self.tags, k, value),
            _ => {}
        }
    }
}

impl Regroup {
    fn new(input: &LogGroup) -> Regroup {
        Regroup {
            base: GroupKey {
                topic: input.topic.clone(),
                source: input.source.clone(),
                tags: input.tags.clone(),
            },
            base_slot: None,
            groups: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn add(&mut self, batch: &RecordBatch, renderer: &Renderer) {
        let schema = batch.schema();
        let roles: Vec<Role> = schema
            .fields()
            .iter()
            .map(|f| match f.name().as_str() {
                TIME_FIELD => Role::Time,
                TIME_NS_FIELD => Role::TimeNs,
                TOPIC_FIELD => Role::Topic,
                SOURCE_FIELD => Role::Source,
                name => match name.strip_prefix(TAG_PREFIX) {
                    Some(key) => Role::Tag(key.to_string()),
                    None => Role::Content(name.to_string()),
                },
            })
            .collect();
        for row in 0..batch.num_rows() {
            let mut log = Log::default();
            // The group key is materialised only when the row changes group metadata.
            let mut key: Option<GroupKey> = None;
            for (role, column) in roles.iter().zip(batch.columns()) {
                let column = column.as_ref();
                match role {
                    Role::Time => {
                        if let Some(t) = integer(column, row, renderer) {
                            log.time = t.clamp(0, i64::from(u32::MAX)) as u32;
                        }
                    }
                    Role::TimeNs => {
                        log.time_ns =
                            integer(column, row, renderer).map(|t| t.clamp(0, 999_999_999) as u32);
                    }
                    Role::Content(name) => {
                        if let Some(v) = text(column, row, renderer) {
                            log.contents.push((name.clone(), v.into_owned()));
                        }
                    }
                    Role::Topic | Role::Source | Role::Tag(_) => {
                        let Some(v) = text(column, row, renderer) else {
                            continue;
                        };
                        let current = match &key {
                            Some(k) => k.get(role),
                            None => self.base.get(role),
                        };
                        if current == Some(v.as_ref()) || (v.is_empty() && current.is_none()) {
                            continue;
                        }
                        key.get_or_insert_with(|| self.base.clone())
                            .set(role, v.into_owned());
                    }
                }
            }
            let slot = match key {
                None => match self.base_slot {
                    Some(slot) => slot,
                    None => {
                        let slot = self.slot(self.base.clone());
                        self.base_slot = Some(slot);
                        slot
                    }
                },
                Some(key) => self.slot(key),
            };
            if let Some(g) = self.groups.get_mut(slot) {
                g.logs.push(log);
            }
        }
    }

    /// The output group for `key`, created on first use.
    fn slot(&mut self, key: GroupKey) -> usize {
        let next = self.groups.len();
        let slot = *self.index.entry(key.clone()).or_insert(next);
        if slot == next {
            self.groups.push(LogGroup {
                logs: Vec::new(),
                topic: key.topic,
                source: key.source,
                tags: key.tags,
            });
        }
        slot
    }

    fn finish(self) -> Vec<LogGroup> {
        self.groups
            .into_iter()
            .filter(|g| !g.logs.is_empty())
            .collect()
    }
}

/// A value as text: borrowed from VARCHAR columns, rendered (§18.4) otherwise.
fn text<'a>(
    column: &'a dyn Array,
    row: usize,
    renderer: &Renderer,
) -> Option<std::borrow::Cow<'a, str>> {
    if column.is_null(row) {
        return None;
    }
    if let Some(a) = column.as_string_view_opt() {
        return Some(std::borrow::Cow::Borrowed(a.value(row)));
    }
    renderer.text(column, row).map(std::borrow::Cow::Owned)
}

/// Sets tag `key` to `value`: replaces every entry with that key, or appends one.
fn set_tag(tags: &mut Vec<(String, String)>, key: &str, value: String) {
    let mut found = false;
    for (k, v) in tags.iter_mut() {
        if k == key {
            v.clone_from(&value);
            found = true;
        }
    }
    if !found {
        tags.push((key.to_string(), value));
    }
}

/// A time value: BIGINT as is, anything else through its text (an integer, else none).
fn integer(column: &dyn Array, row: usize, renderer: &Renderer) -> Option<i64> {
    if column.is_null(row) {
        return None;
    }
    if let Some(a) = column.as_primitive_opt::<Int64Type>() {
        return Some(a.value(row));
    }
    renderer.text(column, row)?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_lengths() {
        assert_eq!(varint_len(0), 1);
        assert_eq!(varint_len(127), 1);
        assert_eq!(varint_len(128), 2);
        assert_eq!(varint_len(16_383), 2);
        assert_eq!(varint_len(16_384), 3);
        assert_eq!(varint_len(u64::from(u32::MAX)), 5);
    }

    #[test]
    fn encoded_len_counts_every_modelled_field() {
        // Log{Time=1 (2 bytes), Contents{Key "a", Value "b"} (2 + 6), Time_ns (5)} = 15,
        // wrapped in LogGroup field 1: 2 + 15; Topic "t": 3; LogTags{"k","v"}: 2 + 6.
        let g = LogGroup {
            logs: vec![Log {
                time: 1,
                time_ns: Some(7),
                contents: vec![("a".into(), "b".into())],
            }],
            topic: Some("t".into()),
            source: None,
            tags: vec![("k".into(), "v".into())],
        };
        assert_eq!(g.encoded_len(), 17 + 3 + 8);
    }
}

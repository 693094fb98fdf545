//! The event-group model every host shares (spec §2.2, §2.3; LOGHUB-AND-AGENT §2): an
//! [`EventGroup`] is an input time, a topic, a source, tags and rows. This module owns the
//! special field names, the one way groups become a batch ([`merge`]: group metadata as
//! columns) and the one way output rows become groups again ([`Splitter`]: by `__tag__:*`
//! — and, for LogHub groups, `__topic__`/`__source__` — values in first-seen order, each row
//! with an event time). Hosts (the C ABI, the pushdown path) only convert their own wire or
//! FFI shapes to and from [`EventGroup`]; [`RowsBuilder`] and [`EventGroup::events`] are the
//! byte-level entry and exit for key/value events.
//!
//! Values are bytes. A column whose values are all UTF-8 is VARCHAR (`Utf8View`); a column
//! holding a value that is not UTF-8 stays `BinaryView` — its bytes pass through untouched —
//! unless a stage reads or writes that field ([`Touched`]), in which case [`merge`] turns it
//! into VARCHAR with U+FFFD for the invalid sequences (docs/decisions.md "Bytes that are not
//! UTF-8").
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryViewArray, BinaryViewBuilder, Int64Array, Int64Builder,
    StringViewArray, UInt32Array,
};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::batch::{from_columns, is_time_field, retain_columns, set_column, TIME_FIELDS};
use crate::plan::{Chain, Fields, Op};
use crate::render::Renderer;

/// The event time in Unix seconds.
pub const TIME_FIELD: &str = TIME_FIELDS[0];
/// The nanosecond part of the event time.
pub const TIME_NS_FIELD: &str = TIME_FIELDS[1];
/// The group topic.
pub const TOPIC_FIELD: &str = "__topic__";
/// The group source.
pub const SOURCE_FIELD: &str = "__source__";
/// Field names starting with this are group tags (`__tag__:<key>`).
pub const TAG_PREFIX: &str = "__tag__:";
/// What the reference engine writes into `__time__` when a time could not be parsed.
pub const TIME_PARSE_FAILED: i64 = 4_294_967_295;

/// True for a field that is a group tag.
pub fn is_tag_field(name: &str) -> bool {
    name.starts_with(TAG_PREFIX)
}

/// An event time: Unix seconds and the nanosecond part.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventTime {
    pub seconds: i64,
    pub nanos: i64,
}

impl EventTime {
    /// The current wall-clock time.
    pub fn now() -> EventTime {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        EventTime {
            seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            nanos: i64::from(d.subsec_nanos()),
        }
    }
}

/// One event group.
#[derive(Debug, Clone)]
pub struct EventGroup {
    /// The group's input time (Unix seconds), given to rows whose `__time__` is absent, NULL, 0
    /// or [`TIME_PARSE_FAILED`] after a pipeline.
    pub time: i64,
    /// Nanosecond part of the input time.
    pub time_ns: i64,
    pub topic: Option<Vec<u8>>,
    pub source: Option<Vec<u8>>,
    /// Tag keys (without [`TAG_PREFIX`]) and values, in order.
    pub tags: Vec<(String, Vec<u8>)>,
    /// The events: `__time__`/`__time_ns_part__` BIGINT columns (after a split `__time__` is
    /// never NULL; a NULL nanosecond part means none was given) and one column per field.
    pub rows: RecordBatch,
}

impl EventGroup {
    /// A group without metadata.
    pub fn new(rows: RecordBatch, time: EventTime) -> EventGroup {
        EventGroup {
            time: time.seconds,
            time_ns: time.nanos,
            topic: None,
            source: None,
            tags: Vec::new(),
            rows,
        }
    }

    /// The input time.
    pub fn input_time(&self) -> EventTime {
        EventTime {
            seconds: self.time,
            nanos: self.time_ns,
        }
    }

    fn key(&self) -> GroupKey {
        GroupKey {
            topic: self.topic.clone(),
            source: self.source.clone(),
            tags: self.tags.clone(),
        }
    }

    /// The rows as key/value events: time, nanosecond part and every non-NULL field in column
    /// order (text and bytes as they are, other types rendered per §18.4).
    pub fn events<'a>(&'a self, renderer: &Renderer) -> Vec<Event<'a>> {
        let rows = &self.rows;
        let schema = rows.schema_ref();
        let time = rows.column_by_name(TIME_FIELD);
        let nanos = rows.column_by_name(TIME_NS_FIELD);
        let fields: Vec<(&'a str, &'a ArrayRef)> = schema
            .fields()
            .iter()
            .zip(rows.columns())
            .filter(|(f, _)| !is_time_field(f.name()))
            .map(|(f, c)| (f.name().as_str(), c))
            .collect();
        (0..rows.num_rows())
            .map(move |row| Event {
                time: time.and_then(|c| integer(c.as_ref(), row, renderer)),
                time_ns: nanos.and_then(|c| integer(c.as_ref(), row, renderer)),
                fields: fields
                    .iter()
                    .filter_map(|&(name, c)| Some((name, bytes(c.as_ref(), row, renderer)?)))
                    .collect(),
            })
            .collect()
    }
}

/// One event of a group as keys and byte values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a> {
    pub time: Option<i64>,
    pub time_ns: Option<i64>,
    pub fields: Vec<(&'a str, Cow<'a, [u8]>)>,
}

/// Which fields count as group metadata when rows are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupFields {
    /// Only `__tag__:*` (agents: topic and source stay ordinary fields).
    Tags,
    /// `__topic__`, `__source__` and `__tag__:*` (LogHub groups).
    TopicSourceTags,
}

impl GroupFields {
    fn role(self, name: &str) -> Option<Role<'_>> {
        match name {
            TOPIC_FIELD if self == GroupFields::TopicSourceTags => Some(Role::Topic),
            SOURCE_FIELD if self == GroupFields::TopicSourceTags => Some(Role::Source),
            _ => name.strip_prefix(TAG_PREFIX).map(Role::Tag),
        }
    }
}

/// The fields a program's stages read or write: a field that is not UTF-8 keeps its bytes only
/// when no stage touches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// Some stage reads or writes fields chosen by the data: every field counts as touched.
    All,
    Named(HashSet<String>),
}

impl Touched {
    /// The fields a program's stages read or write, from its plan. Stages that only select,
    /// drop or rename columns (`project`, `project-away`, `project-rename`) move values without
    /// looking at them and do not count; a stage whose fields depend on the data touches every
    /// field.
    pub fn of(plan: &[Chain]) -> Touched {
        let mut names = HashSet::new();
        for chain in plan {
            for st in &chain.stages {
                if matches!(
                    st.op,
                    Op::Project { .. } | Op::ProjectAway { .. } | Op::ProjectRename { .. }
                ) {
                    continue;
                }
                for fields in [st.reads(), st.writes()] {
                    match fields {
                        Fields::Named(v) => names.extend(v.iter().cloned()),
                        Fields::Dynamic(_) => return Touched::All,
                    }
                }
            }
        }
        Touched::Named(names)
    }

    /// True when a stage reads or writes `name`.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Touched::All => true,
            Touched::Named(names) => names.contains(name),
        }
    }
}

/// Group-level values a row is emitted under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct GroupKey {
    topic: Option<Vec<u8>>,
    source: Option<Vec<u8>>,
    tags: Vec<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, Copy)]
enum Role<'a> {
    Topic,
    Source,
    Tag(&'a str),
}

impl GroupKey {
    /// Applies one metadata value of a row. An empty topic or source where the base has none
    /// stays none (merge writes "" for a missing one); tags are set as given.
    fn set(&mut self, role: Role<'_>, value: &[u8]) {
        match role {
            Role::Topic | Role::Source => {
                let slot = if matches!(role, Role::Topic) {
                    &mut self.topic
                } else {
                    &mut self.source
                };
                if value.is_empty() && slot.is_none() {
                    return;
                }
                if slot.as_deref() != Some(value) {
                    *slot = Some(value.to_vec());
                }
            }
            Role::Tag(k) => {
                let mut found = false;
                for (key, v) in self.tags.iter_mut() {
                    if key == k {
                        if v.as_slice() != value {
                            *v = value.to_vec();
                        }
                        found = true;
                    }
                }
                if !found {
                    self.tags.push((k.to_string(), value.to_vec()));
                }
            }
        }
    }
}

/// Groups → one batch: each group's rows with its metadata as columns (`__topic__` and
/// `__source__` — "" when missing — under [`GroupFields::TopicSourceTags`], `__tag__:<key>` per
/// tag). A row that already has a value in such a column keeps it (its own value overrides the
/// group's); NULLs take the group's. Byte columns of touched fields become VARCHAR (U+FFFD for
/// invalid sequences). Parts whose fields differ are aligned as in [`concat_parts`].
pub fn merge(
    groups: &[EventGroup],
    fields: GroupFields,
    touched: &Touched,
    renderer: &Renderer,
) -> Result<RecordBatch, ArrowError> {
    let mut parts = Vec::with_capacity(groups.len());
    for g in groups {
        let mut batch = g.rows.clone();
        let schema = batch.schema();
        for (i, f) in schema.fields().iter().enumerate() {
            if is_binary(f.data_type()) && touched.contains(f.name()) {
                let text = lossy_text(batch.column(i).as_ref())?;
                batch = set_column(&batch, f.name(), text)?;
            }
        }
        let mut meta: Vec<(String, &[u8])> = Vec::new();
        if fields == GroupFields::TopicSourceTags {
            meta.push((TOPIC_FIELD.to_string(), g.topic.as_deref().unwrap_or(b"")));
            meta.push((SOURCE_FIELD.to_string(), g.source.as_deref().unwrap_or(b"")));
        }
        for (k, v) in &g.tags {
            meta.push((format!("{TAG_PREFIX}{k}"), v));
        }
        for (name, value) in meta {
            // A row column of text takes the value as text too.
            let own_text = batch
                .column_by_name(&name)
                .is_some_and(|c| !is_binary(c.data_type()));
            let lossy = own_text || touched.contains(&name);
            let column = constant(value, batch.num_rows(), lossy);
            let column = match batch.column_by_name(&name) {
                None => column,
                Some(own) if own.null_count() == 0 => continue,
                Some(own) => {
                    let column = if own.data_type() == column.data_type() {
                        column
                    } else {
                        cast(&column, own.data_type())?
                    };
                    let has = arrow::compute::is_not_null(own.as_ref())?;
                    arrow::compute::kernels::zip::zip(&has, own, &column)?
                }
            };
            batch = set_column(&batch, &name, column)?;
        }
        parts.push(batch);
    }
    concat_parts(&parts, renderer)
}

/// The same value in every row (a view array with the value stored once).
fn constant(value: &[u8], rows: usize, lossy: bool) -> ArrayRef {
    let text = simdutf8::basic::from_utf8(value).is_ok();
    let value: Cow<[u8]> = if !text && lossy {
        Cow::Owned(String::from_utf8_lossy(value).into_owned().into_bytes())
    } else {
        Cow::Borrowed(value)
    };
    let mut b = BinaryViewBuilder::with_capacity(rows);
    match u32::try_from(value.len()) {
        Ok(len) if len > 12 && rows > 1 => {
            let block = b.append_block(arrow::buffer::Buffer::from_slice_ref(value.as_ref()));
            for _ in 0..rows {
                if b.try_append_view(block, 0, len).is_err() {
                    b.append_value(value.as_ref());
                }
            }
        }
        _ => {
            for _ in 0..rows {
                b.append_value(value.as_ref());
            }
        }
    }
    let array = b.finish();
    if text || lossy {
        // SAFETY: the value is UTF-8 (checked above, or made so by the lossy conversion).
        Arc::new(unsafe { array.to_string_view_unchecked() })
    } else {
        Arc::new(array)
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::BinaryView | DataType::Binary | DataType::LargeBinary
    )
}

/// A byte column as VARCHAR, invalid UTF-8 sequences replaced by U+FFFD.
fn lossy_text(column: &dyn Array) -> Result<ArrayRef, ArrowError> {
    let column = cast(column, &DataType::BinaryView)?;
    let b = column.as_binary_view();
    let text: StringViewArray = b
        .iter()
        .map(|v| v.map(String::from_utf8_lossy))
        .collect::<Vec<_>>()
        .iter()
        .map(|v| v.as_deref())
        .collect();
    Ok(Arc::new(text))
}

/// Concatenates parts whose fields may differ: the union of fields in first-seen order, NULL
/// where a part lacks a field. A field whose type differs between parts becomes `BinaryView`
/// when any part holds bytes and text or bytes elsewhere, else VARCHAR rendered per §18.4.
pub fn concat_parts(parts: &[RecordBatch], renderer: &Renderer) -> Result<RecordBatch, ArrowError> {
    match parts {
        [] => return Ok(RecordBatch::new_empty(Arc::new(Schema::empty()))),
        [one] => return Ok(one.clone()),
        _ => {}
    }
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<DataType> = Vec::new();
    for part in parts {
        for f in part.schema().fields() {
            match names.iter().position(|n| n == f.name()) {
                Some(i) if types[i] != *f.data_type() => {
                    let textual = |t: &DataType| {
                        is_binary(t)
                            || matches!(
                                t,
                                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                            )
                    };
                    types[i] = if (is_binary(&types[i]) || is_binary(f.data_type()))
                        && textual(&types[i])
                        && textual(f.data_type())
                    {
                        DataType::BinaryView
                    } else {
                        DataType::Utf8View
                    };
                }
                Some(_) => {}
                None => {
                    names.push(f.name().clone());
                    types.push(f.data_type().clone());
                }
            }
        }
    }
    let schema = Arc::new(Schema::new(
        names
            .iter()
            .zip(&types)
            .map(|(n, t)| Field::new(n, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let mut aligned = Vec::with_capacity(parts.len());
    for part in parts {
        let columns = names
            .iter()
            .zip(&types)
            .map(|(n, t)| match part.column_by_name(n) {
                Some(c) if c.data_type() == t => Ok(Arc::clone(c)),
                Some(c) if *t == DataType::BinaryView => cast(c, t),
                Some(c) => Ok(Arc::new(
                    (0..c.len())
                        .map(|i| renderer.text(c.as_ref(), i))
                        .collect::<StringViewArray>(),
                ) as ArrayRef),
                None => Ok(arrow::array::new_null_array(t, part.num_rows())),
            })
            .collect::<Result<Vec<_>, ArrowError>>()?;
        aligned.push(RecordBatch::try_new(Arc::clone(&schema), columns)?);
    }
    arrow::compute::concat_batches(&schema, &aligned)
}

/// Output rows → groups. Every batch added is split by the values of its metadata columns
/// ([`GroupFields`]): a row starts from the base group's topic, source and tags, and each
/// non-NULL metadata value sets that item (a NULL leaves the base's). Groups come out in
/// first-seen order with rows in order; rows of one group from several batches are
/// concatenated. The metadata columns leave the rows, and every row gets an event time
/// ([`with_event_time`], falling back to the base's input time).
pub struct Splitter<'r> {
    base: GroupKey,
    fallback: EventTime,
    fields: GroupFields,
    renderer: &'r Renderer,
    keys: Vec<GroupKey>,
    index: HashMap<GroupKey, usize>,
    parts: Vec<Vec<RecordBatch>>,
}

impl<'r> Splitter<'r> {
    /// A splitter whose rows start from `base`'s metadata and input time (its rows are not
    /// used).
    pub fn new(base: &EventGroup, fields: GroupFields, renderer: &'r Renderer) -> Splitter<'r> {
        Splitter {
            base: base.key(),
            fallback: base.input_time(),
            fields,
            renderer,
            keys: Vec::new(),
            index: HashMap::new(),
            parts: Vec::new(),
        }
    }

    fn slot(&mut self, key: GroupKey) -> usize {
        let next = self.keys.len();
        let slot = *self.index.entry(key.clone()).or_insert(next);
        if slot == next {
            self.keys.push(key);
            self.parts.push(Vec::new());
        }
        slot
    }

    /// Splits one output batch.
    pub fn add(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = with_event_time(batch, self.fallback)?;
        let schema = batch.schema();
        let fields = self.fields;
        let meta: Vec<(usize, Role)> = schema
            .fields()
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((i, fields.role(f.name())?)))
            .collect();
        let rows = retain_columns(&batch, |_, name| fields.role(name).is_none())?;
        if meta.is_empty() {
            let slot = self.slot(self.base.clone());
            self.parts[slot].push(rows);
            return Ok(());
        }
        let values: Vec<Vec<Option<Cow<[u8]>>>> = meta
            .iter()
            .map(|(i, _)| {
                let column = batch.column(*i);
                (0..batch.num_rows())
                    .map(|row| bytes(column.as_ref(), row, self.renderer))
                    .collect()
            })
            .collect();
        // Rows with the same metadata values share a group key, computed once.
        let mut local: HashMap<Vec<Option<&[u8]>>, usize> = HashMap::new();
        let mut members: Vec<(usize, Vec<u32>)> = Vec::new();
        for row in 0..batch.num_rows() {
            let seen: Vec<Option<&[u8]>> = values.iter().map(|v| v[row].as_deref()).collect();
            let next = members.len();
            let m = *local.entry(seen.clone()).or_insert(next);
            if m == next {
                let mut key = self.base.clone();
                for ((_, role), v) in meta.iter().zip(&seen) {
                    if let Some(v) = v {
                        key.set(*role, v);
                    }
                }
                members.push((self.slot(key), Vec::new()));
            }
            let row = u32::try_from(row)
                .map_err(|_| ArrowError::ComputeError("a batch over 2^32 rows".into()))?;
            members[m].1.push(row);
        }
        let single = members.len() == 1;
        for (slot, picked) in members {
            let part = if single {
                rows.clone()
            } else {
                take_record_batch(&rows, &UInt32Array::from(picked))?
            };
            self.parts[slot].push(part);
        }
        Ok(())
    }

    /// The groups, in first-seen order (only groups that received rows).
    pub fn finish(self) -> Result<Vec<EventGroup>, ArrowError> {
        let renderer = self.renderer;
        let fallback = self.fallback;
        self.keys
            .into_iter()
            .zip(self.parts)
            .map(|(key, parts)| {
                Ok(EventGroup {
                    time: fallback.seconds,
                    time_ns: fallback.nanos,
                    topic: key.topic,
                    source: key.source,
                    tags: key.tags,
                    rows: concat_parts(&parts, renderer)?,
                })
            })
            .collect()
    }
}

/// Sets a non-null Int64 `__time__` on every row and an Int64 `__time_ns_part__`: a time that
/// is NULL, absent, 0 or [`TIME_PARSE_FAILED`] becomes `fallback` (both parts); otherwise the
/// row keeps its nanosecond part (NULL when it has none). Time fields of another type are cast
/// (text that is not an integer counts as NULL).
pub fn with_event_time(
    batch: &RecordBatch,
    fallback: EventTime,
) -> Result<RecordBatch, ArrowError> {
    let rows = batch.num_rows();
    let seconds = int_column(batch, TIME_FIELD)?;
    let nanos = int_column(batch, TIME_NS_FIELD)?;
    let mut out_s = Vec::with_capacity(rows);
    let mut out_ns = Vec::with_capacity(rows);
    for row in 0..rows {
        let s = seconds
            .as_ref()
            .filter(|c| c.is_valid(row))
            .map(|c| c.value(row));
        match s {
            Some(s) if s != 0 && s != TIME_PARSE_FAILED => {
                out_s.push(s);
                out_ns.push(
                    nanos
                        .as_ref()
                        .filter(|c| c.is_valid(row))
                        .map(|c| c.value(row)),
                );
            }
            _ => {
                out_s.push(fallback.seconds);
                out_ns.push(Some(fallback.nanos));
            }
        }
    }
    let batch = set_column(batch, TIME_FIELD, Arc::new(Int64Array::from(out_s)))?;
    set_column(&batch, TIME_NS_FIELD, Arc::new(Int64Array::from(out_ns)))
}

/// The column `name` as Int64, if the batch has it.
fn int_column(batch: &RecordBatch, name: &str) -> Result<Option<Int64Array>, ArrowError> {
    let Some(column) = batch.column_by_name(name) else {
        return Ok(None);
    };
    let column: ArrayRef = match column.data_type() {
        DataType::Int64 => Arc::clone(column),
        _ => cast(column, &DataType::Int64)?,
    };
    Ok(Some(column.as_primitive::<Int64Type>().clone()))
}

/// A value's bytes: borrowed from text and byte columns, rendered (§18.4) otherwise.
fn bytes<'a>(column: &'a dyn Array, row: usize, renderer: &Renderer) -> Option<Cow<'a, [u8]>> {
    if column.is_null(row) {
        return None;
    }
    if let Some(a) = column.as_string_view_opt() {
        return Some(Cow::Borrowed(a.value(row).as_bytes()));
    }
    if let Some(a) = column.as_binary_view_opt() {
        return Some(Cow::Borrowed(a.value(row)));
    }
    if let Some(a) = column.as_string_opt::<i32>() {
        return Some(Cow::Borrowed(a.value(row).as_bytes()));
    }
    // Input bytes that are not UTF-8 travel as `BinaryView` and leave as they came; VARBINARY
    // values a program computed (`Binary`) are rendered like every typed value (§18.4: base64).
    renderer
        .text(column, row)
        .map(|t| Cow::Owned(t.into_bytes()))
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

/// A field column being filled event by event.
struct BytesColumn {
    key: Vec<u8>,
    name: String,
    builder: BinaryViewBuilder,
    len: usize,
    utf8: bool,
}

impl BytesColumn {
    fn pad_to(&mut self, rows: usize) {
        while self.len < rows {
            self.builder.append_null();
            self.len += 1;
        }
    }

    fn finish(mut self, rows: usize) -> (Field, ArrayRef) {
        self.pad_to(rows);
        let array: BinaryViewArray = self.builder.finish();
        let array: ArrayRef = if self.utf8 {
            // SAFETY: every value appended was checked to be UTF-8.
            Arc::new(unsafe { array.to_string_view_unchecked() })
        } else {
            Arc::new(array)
        };
        (
            Field::new(self.name, array.data_type().clone(), true),
            array,
        )
    }
}

/// Builds the rows of a group from key/value events (a wire format's logs). Keys become
/// fields in first-seen order (as text; a key that is not UTF-8 gets U+FFFD); a repeated key
/// keeps its last value; keys naming a time field are ignored (the time comes with the event).
/// A field is VARCHAR when all its values are UTF-8, else bytes (`BinaryView`).
#[derive(Default)]
pub struct RowsBuilder {
    time: Int64Builder,
    ns: Int64Builder,
    has_ns: bool,
    rows: usize,
    columns: Vec<BytesColumn>,
    index: HashMap<Vec<u8>, usize>,
    slots: Vec<Option<usize>>,
    previous: Vec<Option<usize>>,
}

impl RowsBuilder {
    pub fn new() -> RowsBuilder {
        RowsBuilder::default()
    }

    /// Adds one event.
    pub fn push(&mut self, time: i64, time_ns: Option<i64>, fields: &[(&[u8], &[u8])]) {
        let row = self.rows;
        self.time.append_value(time);
        if time_ns.is_some() && !self.has_ns {
            self.has_ns = true;
            for _ in 0..row {
                self.ns.append_null();
            }
        }
        if self.has_ns {
            self.ns.append_option(time_ns);
        }
        std::mem::swap(&mut self.slots, &mut self.previous);
        self.slots.clear();
        // Events of one group usually repeat the same keys in the same order: the column of
        // each position is tried first.
        for (j, (k, _)) in fields.iter().enumerate() {
            let guess = self.previous.get(j).copied().flatten();
            let slot = match guess {
                Some(i) if self.columns.get(i).is_some_and(|c| c.key == *k) => Some(i),
                _ => match self.index.get(*k) {
                    Some(&i) => Some(i),
                    None => {
                        let name = String::from_utf8_lossy(k).into_owned();
                        if is_time_field(&name) {
                            None
                        } else {
                            self.index.insert(k.to_vec(), self.columns.len());
                            self.columns.push(BytesColumn {
                                key: k.to_vec(),
                                name,
                                builder: BinaryViewBuilder::new(),
                                len: 0,
                                utf8: true,
                            });
                            Some(self.columns.len() - 1)
                        }
                    }
                },
            };
            self.slots.push(slot);
        }
        // Written last first so that a repeated key keeps its last value.
        for (slot, (_, v)) in self.slots.iter().zip(fields).rev() {
            let Some(c) = slot.and_then(|i| self.columns.get_mut(i)) else {
                continue;
            };
            c.pad_to(row);
            if c.len > row {
                continue;
            }
            if c.utf8 && simdutf8::basic::from_utf8(v).is_err() {
                c.utf8 = false;
            }
            c.builder.append_value(v);
            c.len += 1;
        }
        self.rows += 1;
    }

    /// The rows built so far: `__time__`, `__time_ns_part__` (when any event had one), then
    /// the fields.
    pub fn finish(mut self) -> RecordBatch {
        let rows = self.rows;
        let mut fields = vec![Field::new(TIME_FIELD, DataType::Int64, true)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(self.time.finish())];
        if self.has_ns {
            fields.push(Field::new(TIME_NS_FIELD, DataType::Int64, true));
            arrays.push(Arc::new(self.ns.finish()));
        }
        for c in self.columns {
            let (f, a) = c.finish(rows);
            fields.push(f);
            arrays.push(a);
        }
        // Every column has `rows` values of its declared type and names are unique (keys
        // that differ only in invalid bytes are kept apart by the index but could share a
        // lossy name: the batch is then rebuilt without the later duplicates).
        match from_columns(fields.clone(), arrays.clone(), rows) {
            Ok(b) => b,
            Err(_) => {
                let mut seen = HashSet::new();
                let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = fields
                    .into_iter()
                    .zip(arrays)
                    .filter(|(f, _)| seen.insert(f.name().clone()))
                    .unzip();
                from_columns(fields, arrays, rows)
                    .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(Schema::empty())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, c)| c).collect(),
        )
        .unwrap()
    }

    fn text(v: Vec<Option<&str>>) -> ArrayRef {
        Arc::new(StringViewArray::from(v))
    }

    fn split(b: &RecordBatch, base: &EventGroup, fields: GroupFields) -> Vec<EventGroup> {
        let r = Renderer::default();
        let mut s = Splitter::new(base, fields, &r);
        s.add(b).unwrap();
        s.finish().unwrap()
    }

    fn empty(time: EventTime) -> EventGroup {
        EventGroup::new(RecordBatch::new_empty(Arc::new(Schema::empty())), time)
    }

    fn tag(k: &str, v: &str) -> (String, Vec<u8>) {
        (k.to_string(), v.as_bytes().to_vec())
    }

    #[test]
    fn splits_by_distinct_tag_values_in_first_seen_order() {
        let b = batch(vec![
            (
                "content",
                text(vec![Some("a"), Some("b"), Some("c"), Some("d")]),
            ),
            (
                "__tag__:k",
                text(vec![Some("x"), Some("y"), Some("x"), None]),
            ),
        ]);
        let groups = split(&b, &empty(EventTime::default()), GroupFields::Tags);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].tags, vec![tag("k", "x")]);
        assert_eq!(groups[0].rows.num_rows(), 2);
        assert!(groups[0].rows.column_by_name("__tag__:k").is_none());
        let content = groups[0].rows.column_by_name("content").unwrap();
        assert_eq!(content.as_string_view().value(1), "c");
        assert_eq!(groups[1].tags, vec![tag("k", "y")]);
        // A NULL tag value: the base's tags (none here).
        assert!(groups[2].tags.is_empty());
    }

    #[test]
    fn no_tags_is_one_group_and_empty_is_none() {
        let b = batch(vec![("content", text(vec![Some("a"), Some("b")]))]);
        let groups = split(&b, &empty(EventTime::default()), GroupFields::Tags);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].rows.num_rows(), 2);
        assert!(split(
            &b.slice(0, 0),
            &empty(EventTime::default()),
            GroupFields::Tags
        )
        .is_empty());
    }

    #[test]
    fn typed_tag_values_render_as_text() {
        let b = batch(vec![(
            "__tag__:n",
            Arc::new(Int64Array::from(vec![7, 7])) as _,
        )]);
        let groups = split(&b, &empty(EventTime::default()), GroupFields::Tags);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].tags, vec![tag("n", "7")]);
    }

    #[test]
    fn topic_and_source_are_metadata_only_for_loghub_groups() {
        let b = batch(vec![
            ("__topic__", text(vec![Some("t1"), Some("")])),
            ("x", text(vec![Some("1"), Some("2")])),
        ]);
        let groups = split(&b, &empty(EventTime::default()), GroupFields::Tags);
        assert_eq!(groups.len(), 1);
        assert!(groups[0].rows.column_by_name("__topic__").is_some());
        let groups = split(
            &b,
            &empty(EventTime::default()),
            GroupFields::TopicSourceTags,
        );
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].topic.as_deref(), Some(&b"t1"[..]));
        // "" where the base has no topic: still none.
        assert_eq!(groups[1].topic, None);
        assert!(groups[1].rows.column_by_name("__topic__").is_none());
    }

    #[test]
    fn zero_null_and_sentinel_times_fall_back() {
        let b = batch(vec![
            (
                "__time__",
                Arc::new(Int64Array::from(vec![
                    Some(0),
                    None,
                    Some(TIME_PARSE_FAILED),
                    Some(1_700_000_000),
                ])) as _,
            ),
            (
                "__time_ns_part__",
                Arc::new(Int64Array::from(vec![Some(5), Some(5), Some(5), None])) as _,
            ),
        ]);
        let fallback = EventTime {
            seconds: 42,
            nanos: 9,
        };
        let out = with_event_time(&b, fallback).unwrap();
        let s = out
            .column_by_name(TIME_FIELD)
            .unwrap()
            .as_primitive::<Int64Type>();
        let ns = out
            .column_by_name(TIME_NS_FIELD)
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(s.values().to_vec(), vec![42, 42, 42, 1_700_000_000]);
        assert_eq!(s.null_count(), 0);
        let ns: Vec<Option<i64>> = ns.iter().collect();
        assert_eq!(ns, vec![Some(9), Some(9), Some(9), None]);
    }

    #[test]
    fn absent_or_text_time_is_handled() {
        let b = batch(vec![("__time__", text(vec![Some("12"), Some("x")]))]);
        let out = with_event_time(
            &b,
            EventTime {
                seconds: 1,
                nanos: 0,
            },
        )
        .unwrap();
        let s = out
            .column_by_name(TIME_FIELD)
            .unwrap()
            .as_primitive::<Int64Type>();
        assert_eq!(s.values().to_vec(), vec![12, 1]);
        let b = batch(vec![("content", text(vec![Some("a")]))]);
        let out = with_event_time(
            &b,
            EventTime {
                seconds: 3,
                nanos: 4,
            },
        )
        .unwrap();
        assert_eq!(out.num_columns(), 3);
    }

    #[test]
    fn merge_then_split_round_trips_rows_metadata_and_time() {
        let mut a = RowsBuilder::new();
        a.push(100, Some(5), &[(b"k", b"v1"), (b"bin", b"\xff\x00x")]);
        a.push(101, None, &[(b"k", b"v2")]);
        let mut b = RowsBuilder::new();
        b.push(200, None, &[(b"other", b"o")]);
        let groups = vec![
            EventGroup {
                time: 7,
                time_ns: 8,
                topic: Some(b"t".to_vec()),
                source: Some(b"s".to_vec()),
                tags: vec![tag("host", "h1"), tag("path", "/p")],
                rows: a.finish(),
            },
            EventGroup {
                time: 7,
                time_ns: 8,
                topic: None,
                source: Some(b"s2".to_vec()),
                tags: vec![tag("host", "h2")],
                rows: b.finish(),
            },
        ];
        let r = Renderer::default();
        let none = Touched::Named(HashSet::new());
        let merged = merge(&groups, GroupFields::TopicSourceTags, &none, &r).unwrap();
        assert_eq!(merged.num_rows(), 3);
        let base = empty(EventTime {
            seconds: 7,
            nanos: 8,
        });
        let mut s = Splitter::new(&base, GroupFields::TopicSourceTags, &r);
        s.add(&merged).unwrap();
        let out = s.finish().unwrap();
        assert_eq!(out.len(), 2);
        for (got, want) in out.iter().zip(&groups) {
            assert_eq!(got.topic, want.topic);
            assert_eq!(got.source, want.source);
            assert_eq!(got.tags, want.tags);
            assert_eq!(got.events(&r), want.events(&r));
        }
        let e = out[0].events(&r);
        assert_eq!((e[0].time, e[0].time_ns), (Some(100), Some(5)));
        assert_eq!((e[1].time, e[1].time_ns), (Some(101), None));
        assert_eq!(e[0].fields[1], ("bin", Cow::Borrowed(&b"\xff\x00x"[..])));
    }

    #[test]
    fn touched_byte_fields_become_text_and_untouched_keep_their_bytes() {
        let mut rows = RowsBuilder::new();
        rows.push(1, None, &[(b"a", b"ok\xfe"), (b"b", b"\xff")]);
        let g = EventGroup::new(rows.finish(), EventTime::default());
        assert_eq!(
            g.rows.column_by_name("a").unwrap().data_type(),
            &DataType::BinaryView
        );
        let touched = Touched::Named(["a".to_string()].into_iter().collect());
        let merged = merge(&[g], GroupFields::Tags, &touched, &Renderer::default()).unwrap();
        let a = merged.column_by_name("a").unwrap();
        assert_eq!(a.as_string_view().value(0), "ok\u{fffd}");
        let b = merged.column_by_name("b").unwrap();
        assert_eq!(b.as_binary_view().value(0), b"\xff");
    }

    #[test]
    fn rows_builder_keeps_the_last_of_repeated_keys_and_ignores_time_keys() {
        let mut rows = RowsBuilder::new();
        rows.push(
            1,
            None,
            &[(b"k", b"first"), (b"__time__", b"9"), (b"k", b"last")],
        );
        rows.push(2, None, &[(b"j", b"x")]);
        let b = rows.finish();
        assert_eq!(b.num_columns(), 3);
        assert_eq!(
            b.column_by_name("k").unwrap().as_string_view().value(0),
            "last"
        );
        assert!(b.column_by_name("k").unwrap().is_null(1));
        assert!(b.column_by_name(TIME_NS_FIELD).is_none());
    }
}

//! Operators: one file per instruction, each a small struct implementing [`Operator`] over
//! Arrow batches. An operator gets a batch and returns output batches plus the rows that failed
//! with a data error (spec §18.11: never lost silently).
pub mod aggregate;
mod cut_views;
mod expand_values;
mod extend;
mod filter_first;
mod group_index;
mod late_extract;
mod limit;
mod log_to_metric;
pub mod make_series;
mod metric_labels;
mod metric_to_metric;
mod pack_fields;
mod parse_csv;
mod parse_json;
mod parse_kv;
mod parse_regexp;
mod project;
mod project_away;
mod project_rename;
pub mod render;
mod sort;
mod stats;
mod text_int_compare;
mod where_;

use std::fmt::Debug;

use arrow::record_batch::RecordBatch;
use spl_parser::{Diagnostic, Instruction, InstructionKind};

pub use expand_values::ExpandValues;
pub use extend::Extend;
pub use filter_first::FilterFirst;
pub use late_extract::LateExtract;
pub use limit::Limit;
pub use log_to_metric::LogToMetric;
pub use make_series::MakeSeries;
pub use metric_to_metric::MetricToMetric;
pub use pack_fields::PackFields;
pub use parse_csv::ParseCsv;
pub use parse_json::ParseJson;
pub use parse_kv::ParseKv;

pub use parse_regexp::ParseRegexp;
pub use project::Project;
pub use project_away::ProjectAway;
pub use project_rename::ProjectRename;
pub use render::{ChartKind, ChartSpec, Render};
pub use sort::Sort;
pub use stats::Stats;
pub use where_::Where;

use crate::expr::Session;

/// Rows that a stage could not process, with the error: they go to the error stream (CLI) or
/// pass through unchanged (agents), never silently away.
#[derive(Debug, Clone)]
pub struct ErrorRows {
    /// The rows as they entered the failing stage.
    pub rows: RecordBatch,
    /// Diagnostic code of the error class (`E2001` …).
    pub code: &'static str,
    pub message: String,
    /// Which part of the stage failed: 0, or for a stage the optimizer built from several
    /// (merged `where`s or `extend`s, a `where` moved ahead), the index of the original stage
    /// among its parts, so errors name the stage the user wrote.
    pub part: usize,
}

/// What a stage produced from one batch.
#[derive(Debug, Default)]
pub struct StageOutput {
    pub batches: Vec<RecordBatch>,
    pub errors: Vec<ErrorRows>,
}

impl StageOutput {
    pub fn one(batch: RecordBatch) -> StageOutput {
        StageOutput {
            batches: vec![batch],
            errors: Vec::new(),
        }
    }
}

/// An error that fails the whole batch (not a per-row data error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchError {
    pub message: String,
    /// Which part of a stage the optimizer built from several (see [`ErrorRows::part`]) failed.
    pub part: usize,
}

impl BatchError {
    pub fn new(message: impl Into<String>) -> BatchError {
        BatchError {
            message: message.into(),
            part: 0,
        }
    }
}

/// A budget hit inside a stage fails the batch; the runner reports it as the budget's error
/// (E2003/E2004) at the stage.
impl From<crate::budget::Exceeded> for BatchError {
    fn from(e: crate::budget::Exceeded) -> BatchError {
        BatchError::new(e.to_string())
    }
}

/// Counts one row of an extraction loop whose work grows with the row's `bytes` (a clock read
/// at least every 256 KiB of text), failing once a budget is exceeded.
#[inline]
pub(crate) fn tick_row(bytes: usize) -> Result<(), BatchError> {
    crate::budget::tick(1 + bytes / 256).map_err(BatchError::from)
}

/// One pipeline stage.
pub trait Operator: Send + Sync + Debug {
    /// The instruction name, for plans and errors.
    fn name(&self) -> &'static str;
    /// Processes one batch.
    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError>;
}

/// A stage that keeps state across the batches of one run (`stats`, `sort`, `limit`): the plan
/// holds the operator, each run gets a fresh [`BufferState`] from [`BufferingOperator::start`].
pub trait BufferingOperator: Send + Sync + Debug {
    /// The instruction name, for plans and errors.
    fn name(&self) -> &'static str;
    /// A fresh state for one run over a stream.
    fn start(&self) -> Box<dyn BufferState>;
}

/// The per-run state of a [`BufferingOperator`].
pub trait BufferState: Send {
    /// Takes one batch; may already emit rows (a `limit` passes rows through until it is full).
    fn push(&mut self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError>;
    /// The end of the stream: emits whatever is buffered. Called once.
    fn finish(&mut self, session: &Session) -> Result<StageOutput, BatchError>;
    /// True when no later input can change what this stage emits (a full `limit`): the
    /// runner may stop reading.
    fn is_done(&self) -> bool {
        false
    }
}

/// A compiled stage: row-level (stateless, shareable across threads and batches) or buffering.
#[derive(Debug)]
pub enum Stage {
    Row(Box<dyn Operator>),
    Buffering(Box<dyn BufferingOperator>),
}

impl Stage {
    pub fn name(&self) -> &'static str {
        match self {
            Stage::Row(op) => op.name(),
            Stage::Buffering(op) => op.name(),
        }
    }
}

/// Builds the stage for any instruction as written (the engine builds its stages from the
/// optimized plan instead, in the plan's physical step).
pub fn build_stage(instr: &Instruction) -> Result<Stage, Box<Diagnostic>> {
    Ok(match &instr.kind {
        InstructionKind::Stats {
            aggregates,
            group_by,
        } => Stage::Buffering(Box::new(Stats::new(aggregates, group_by)?)),
        InstructionKind::Sort { keys } => Stage::Buffering(Box::new(Sort::new(keys))),
        InstructionKind::Limit { offset, count } => {
            Stage::Buffering(Box::new(Limit::new(*offset, *count)))
        }
        InstructionKind::MakeSeries { .. } => Stage::Buffering(Box::new(MakeSeries::new(instr)?)),
        _ => Stage::Row(build(instr)?),
    })
}

/// Builds the operator for a row-level instruction.
pub fn build(instr: &Instruction) -> Result<Box<dyn Operator>, Box<Diagnostic>> {
    Ok(match &instr.kind {
        InstructionKind::Where { predicate } => Box::new(Where::new(predicate.clone())),
        InstructionKind::Extend { assignments } => Box::new(Extend::new(assignments.clone())),
        InstructionKind::Project { items } => Box::new(Project::new(items, instr.has("wildcard"))),
        InstructionKind::ProjectAway { patterns } => {
            Box::new(ProjectAway::new(patterns, instr.has("wildcard")))
        }
        InstructionKind::ProjectRename { renames } => Box::new(ProjectRename::new(renames)),
        InstructionKind::ParseCsv { field, outputs } => {
            Box::new(ParseCsv::new(instr, field, outputs))
        }
        InstructionKind::ExpandValues { field, output } => {
            Box::new(ExpandValues::new(instr, field, output.as_ref())?)
        }
        InstructionKind::PackFields { output } => Box::new(PackFields::new(instr, output)?),
        InstructionKind::LogToMetric => Box::new(LogToMetric::new(instr)?),
        InstructionKind::MetricToMetric => Box::new(MetricToMetric::new(instr)?),
        InstructionKind::ParseKv { field, args } => Box::new(ParseKv::new(instr, field, args)?),
        InstructionKind::ParseJson { field } => Box::new(ParseJson::new(instr, field)?),
        InstructionKind::ParseRegexp {
            field,
            pattern,
            outputs,
        } => Box::new(ParseRegexp::new(instr, field, pattern, outputs)?),
        InstructionKind::Render { .. } => Box::new(Render::new(instr)?),
        other => {
            return Err(Box::new(Diagnostic::error(
                spl_parser::codes::UNSUPPORTED,
                format!("`{}` is not supported by the engine yet", other.name()),
                instr.span,
                "not supported yet",
            )))
        }
    })
}

/// Code of row-level data errors (e.g. `cast('abc' as bigint)`).
pub const DATA_ERROR: &str = spl_parser::codes::DATA_ERROR.id;

/// The result of evaluating an expression with failing rows set aside.
pub(crate) struct Isolated {
    /// The rows that evaluated (all rows when nothing failed).
    pub batch: RecordBatch,
    /// The value for each row of `batch`.
    pub values: arrow::array::ArrayRef,
    pub errors: Vec<ErrorRows>,
}

/// Evaluates `expr` on the whole batch; when a value makes it fail, the failing rows are found
/// with the same plan ([`CompiledExpr::evaluate_isolating`](crate::expr::CompiledExpr)) and set
/// aside, each with its message.
pub(crate) fn evaluate_isolating(
    expr: &crate::expr::CompiledExpr,
    batch: RecordBatch,
    session: &Session,
) -> Result<Isolated, BatchError> {
    use crate::expr::eval::EvalError;
    let iso = match expr.evaluate_isolating(&batch, session) {
        Ok(iso) => iso,
        Err(EvalError::Compile(d)) => return Err(BatchError::new(d.message)),
        Err(e) => return Err(BatchError::new(e.to_string())),
    };
    let errors: Vec<ErrorRows> = iso
        .failed
        .into_iter()
        .map(|(rows, message)| ErrorRows {
            rows,
            code: DATA_ERROR,
            message,
            part: 0,
        })
        .collect();
    let mut good = iso.good;
    if errors.is_empty() && good.len() == 1 {
        let (_, values) = good.remove(0);
        return Ok(Isolated {
            batch,
            values,
            errors,
        });
    }
    let schema = batch.schema();
    let good_rows: Vec<&RecordBatch> = good.iter().map(|(b, _)| b).collect();
    let good_batch = arrow::compute::concat_batches(&schema, good_rows)
        .map_err(|e| BatchError::new(e.to_string()))?;
    let values = if good.is_empty() {
        arrow::array::new_null_array(&arrow::datatypes::DataType::Null, 0)
    } else {
        let refs: Vec<&dyn arrow::array::Array> = good.iter().map(|(_, v)| v.as_ref()).collect();
        arrow::compute::concat(&refs).map_err(|e| BatchError::new(e.to_string()))?
    };
    Ok(Isolated {
        batch: good_batch,
        values,
        errors,
    })
}

/// Fields extracted per row with names that vary by row (parse-json, parse-kv): names in
/// first-seen order, each with the values it got, in row order. A value is text, or (after
/// [`DynamicFields::views_into`]) a range of the source's value in its row, which
/// [`DynamicFields::apply`] stores as a view into the source's data blocks instead of a copy.
/// Rows must be filled in increasing order; within a row a later value for a name replaces an
/// earlier one.
#[derive(Debug, Default)]
pub(crate) struct DynamicFields {
    /// Every name met, with its output field (`None`: not written — a time field, or a name
    /// outside [`DynamicFields::only`]).
    seen: Vec<(String, Option<usize>)>,
    /// Index into `seen` by name.
    index: std::collections::HashMap<String, usize>,
    /// Per member position, the entry of `seen` the last name at that position resolved to:
    /// rows that repeat the keys of the row before find them without hashing.
    recent: Vec<Option<usize>>,
    fields: Vec<DynamicField>,
    /// When set, only these names are written.
    only: Option<Vec<String>>,
    /// The source column the ranges of [`DynamicFields::set_slice`] cut.
    source: Option<arrow::array::StringViewArray>,
    rows: usize,
    /// The budget's bytes charged when extraction began ([`crate::budget::top_up`]).
    charged_before: usize,
}

#[derive(Debug)]
struct DynamicField {
    name: String,
    /// `(row, value)` in increasing row order, at most one per row.
    values: Vec<(usize, Extracted)>,
}

#[derive(Debug)]
enum Extracted {
    Text(String),
    /// Bytes `start..end` of the source's value in the row.
    Slice(u32, u32),
}

impl DynamicFields {
    pub fn new(rows: usize) -> DynamicFields {
        DynamicFields {
            rows,
            charged_before: crate::budget::used(),
            ..Default::default()
        }
    }

    /// Lets [`DynamicFields::set_slice`] record ranges of `source`'s values, which `apply`
    /// stores as views into its data blocks.
    pub fn views_into(mut self, source: &arrow::array::StringViewArray) -> DynamicFields {
        self.source = Some(source.clone());
        self
    }

    /// Writes only the names in `names` (all when `None`); others are ignored.
    pub fn only(mut self, names: Option<&[String]>) -> DynamicFields {
        self.only = names.map(<[String]>::to_vec);
        self
    }

    /// The output field of the name `prefix` + `key`, met as member `position` of its row, or
    /// `None` when that name is not written.
    pub fn field(&mut self, position: usize, prefix: &str, key: &str) -> Option<usize> {
        if let Some(Some(at)) = self.recent.get(position) {
            let (name, field) = &self.seen[*at];
            let name = name.as_bytes();
            if name.len() == prefix.len() + key.len()
                && crate::bytes::same_bytes(&name[..prefix.len()], prefix.as_bytes())
                && crate::bytes::same_bytes(&name[prefix.len()..], key.as_bytes())
            {
                return *field;
            }
        }
        let mut name = String::with_capacity(prefix.len() + key.len());
        name.push_str(prefix);
        name.push_str(key);
        let at = self.resolve(name);
        if self.recent.len() <= position {
            self.recent.resize(position + 1, None);
        }
        self.recent[position] = Some(at);
        self.seen[at].1
    }

    /// The entry of `seen` for `name`, added (with its output field, if written) when new.
    fn resolve(&mut self, name: String) -> usize {
        if let Some(&at) = self.index.get(&name) {
            return at;
        }
        let written = !crate::batch::is_time_field(&name)
            && self.only.as_ref().is_none_or(|only| only.contains(&name));
        if written {
            // The field's column: a view (16 bytes) and a validity bit per row, built in
            // `apply`; counted now, so a row that adds many fields is stopped at the next tick.
            let _ = crate::budget::charge(self.rows * 17);
        }
        let field = written.then(|| {
            self.fields.push(DynamicField {
                name: name.clone(),
                values: Vec::new(),
            });
            self.fields.len() - 1
        });
        let at = self.seen.len();
        self.seen.push((name.clone(), field));
        self.index.insert(name, at);
        at
    }

    /// Sets `name` in `row` (time fields are never written by extraction); `None` unsets a
    /// value set earlier in the row, and still makes `name` a field.
    pub fn set(&mut self, name: String, row: usize, value: Option<String>) {
        let at = self.resolve(name);
        if let Some(field) = self.seen[at].1 {
            self.put(field, row, value.map(Extracted::Text));
        }
    }

    /// Sets `field` in `row` to `value`, or unsets it (`None`).
    pub fn set_text(&mut self, field: usize, row: usize, value: Option<String>) {
        self.put(field, row, value.map(Extracted::Text));
    }

    /// Sets `field` in `row` to bytes `start..end` of the source's value in that row. Needs
    /// [`DynamicFields::views_into`]: without a source there is nothing to cut, and the value
    /// is unset (a caller error, checked in debug builds).
    pub fn set_slice(&mut self, field: usize, row: usize, start: usize, end: usize) {
        debug_assert!(self.source.is_some(), "set_slice without views_into");
        let value = match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(e)) if self.source.is_some() => Extracted::Slice(s, e),
            _ => return self.put(field, row, None),
        };
        self.put(field, row, Some(value));
    }

    fn put(&mut self, field: usize, row: usize, value: Option<Extracted>) {
        if let Some(Extracted::Text(t)) = &value {
            // A copy kept until `apply`: counted now, so a runaway row stops the loop (the
            // caller's next `tick_row` fails once this is over the ceiling).
            let _ = crate::budget::charge(t.len());
        }
        let values = &mut self.fields[field].values;
        debug_assert!(values.last().is_none_or(|(r, _)| *r <= row));
        if values.last().is_some_and(|(r, _)| *r == row) {
            values.pop();
        }
        if let Some(v) = value {
            values.push((row, v));
        }
    }

    /// Writes the fields into `batch` as VARCHAR columns. Rows without a new value keep the old
    /// one; with `preserve`, an existing non-NULL value also wins over a new one.
    pub fn apply(self, batch: RecordBatch, preserve: bool) -> Result<RecordBatch, BatchError> {
        let renderer = crate::render::Renderer::default();
        let mut out = batch;
        let mut built = Vec::with_capacity(self.fields.len());
        for field in self.fields {
            let existing = out.column_by_name(&field.name).cloned();
            let cuts = field
                .values
                .iter()
                .any(|(_, v)| matches!(v, Extracted::Slice(..)));
            let mut b = cut_views::CutViews::new(self.rows, self.source.as_ref().filter(|_| cuts));
            let mut values = field.values.into_iter().peekable();
            for row in 0..self.rows {
                let new = values.next_if(|(r, _)| *r == row).map(|(_, v)| v);
                let old = || {
                    existing
                        .as_ref()
                        .and_then(|c| renderer.text(c.as_ref(), row))
                };
                let new = match (new, preserve) {
                    (None, _) => {
                        b.push(old().as_deref());
                        continue;
                    }
                    (Some(new), true) => match old() {
                        Some(old) => {
                            b.push(Some(&old));
                            continue;
                        }
                        None => new,
                    },
                    (Some(new), false) => new,
                };
                match new {
                    Extracted::Text(t) => b.push(Some(&t)),
                    // Without a source (never recorded so) the cut is NULL.
                    Extracted::Slice(start, end) => b.push_cut(row, start as usize, end as usize),
                }
            }
            built.push((field.name, b.finish()));
        }
        let arrays: Vec<&dyn arrow::array::Array> = built.iter().map(|(_, c)| c as _).collect();
        crate::budget::top_up(self.charged_before, &arrays)?;
        for (name, column) in built {
            out = crate::batch::set_column(&out, &name, std::sync::Arc::new(column))
                .map_err(|e| BatchError::new(e.to_string()))?;
        }
        Ok(out)
    }
}

/// The field `name` as a Utf8View array when it exists and is VARCHAR (extraction sources).
pub(crate) fn varchar_source(
    batch: &RecordBatch,
    name: &str,
) -> Result<Option<arrow::array::StringViewArray>, BatchError> {
    let Some(c) = batch
        .column_by_name(name)
        .filter(|c| crate::types::is_varchar(c.data_type()))
    else {
        return Ok(None);
    };
    let c = arrow::compute::cast(c, &crate::types::VARCHAR)
        .map_err(|e| BatchError::new(e.to_string()))?;
    Ok(Some(
        arrow::array::AsArray::as_string_view(c.as_ref()).clone(),
    ))
}

/// Fields at fixed names written by an extraction (parse-regexp, parse-csv): each row either
/// gets a new value or keeps the field's old value (rendered as text, spec §18.4).
pub(crate) struct FixedFields {
    names: Vec<String>,
    existing: Vec<Option<arrow::array::ArrayRef>>,
    columns: Vec<cut_views::CutViews>,
    renderer: crate::render::Renderer,
    /// The budget's bytes charged when extraction began ([`crate::budget::top_up`]).
    charged_before: usize,
}

impl FixedFields {
    pub fn new(batch: &RecordBatch, names: Vec<String>) -> FixedFields {
        let rows = batch.num_rows();
        let charged_before = crate::budget::used();
        // The columns below: a view (16 bytes) and a validity bit per row and output.
        let _ = crate::budget::charge(names.len() * rows * 17);
        FixedFields {
            existing: names
                .iter()
                .map(|n| batch.column_by_name(n).cloned())
                .collect(),
            columns: names
                .iter()
                .map(|_| cut_views::CutViews::new(rows, None))
                .collect(),
            names,
            renderer: crate::render::Renderer::default(),
            charged_before,
        }
    }

    /// Lets [`FixedFields::push_slice`] store values cut from `source` as views into its data
    /// blocks instead of copies.
    pub fn views_into(mut self, source: &arrow::array::StringViewArray) -> FixedFields {
        self.columns = self
            .columns
            .into_iter()
            .map(|c| c.cutting(source))
            .collect();
        self
    }

    /// Appends output `k`'s value for `row`: bytes `start..end` of the source's value in that
    /// row, as a view into the source's block when the value is too long to inline.
    #[inline]
    pub fn push_slice(&mut self, k: usize, row: usize, start: usize, end: usize) {
        self.columns[k].push_cut(row, start, end);
    }

    /// Appends output `k`'s value for `row`: `value`, or the old value when `None`.
    pub fn push(&mut self, k: usize, row: usize, value: Option<&str>) {
        match value {
            Some(v) => {
                // Copied into the column: counted now (the caller's next row tick fails once
                // this is over the ceiling), settled against the built arrays in `apply`.
                let _ = crate::budget::charge(v.len());
                self.columns[k].push(Some(v))
            }
            None => {
                let old = self.existing[k]
                    .as_ref()
                    .and_then(|c| self.renderer.text(c.as_ref(), row));
                self.columns[k].push(old.as_deref())
            }
        }
    }

    /// Writes the outputs into `batch` (never the time fields).
    pub fn apply(self, batch: RecordBatch) -> Result<RecordBatch, BatchError> {
        let mut out = batch;
        let mut built = Vec::with_capacity(self.names.len());
        for (name, c) in self.names.iter().zip(self.columns) {
            if !crate::batch::is_time_field(name) {
                built.push((name, c.finish()));
            }
        }
        let arrays: Vec<&dyn arrow::array::Array> = built.iter().map(|(_, c)| c as _).collect();
        crate::budget::top_up(self.charged_before, &arrays)?;
        for (name, column) in built {
            out = crate::batch::set_column(&out, name, std::sync::Arc::new(column))
                .map_err(|e| BatchError::new(e.to_string()))?;
        }
        Ok(out)
    }
}

/// The `-path` option compiled as JSONPath (`None` when absent or `$`), or its diagnostic.
pub(crate) fn path_option(
    instr: &Instruction,
) -> Result<Option<crate::jsonpath::JsonPath>, Box<Diagnostic>> {
    let Some(p) = instr.text("path") else {
        return Ok(None);
    };
    let path = crate::jsonpath::JsonPath::parse(p).map_err(|e| {
        let span = instr.option("path").map(|o| o.span).unwrap_or(instr.span);
        Box::new(Diagnostic::error(
            spl_parser::codes::INVALID_JSONPATH,
            e.to_string(),
            span,
            "in -path",
        ))
    })?;
    Ok(Some(path).filter(|p| !p.is_root()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, AsArray, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::FixedFields;

    #[test]
    fn slices_of_the_source_are_views_not_copies() {
        let source = StringViewArray::from(vec![
            Some("10.0.0.1 GET /api/v1/users/with/a/long/path 200"),
            Some("short"),
            None,
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("c", DataType::Utf8View, true)])),
            vec![Arc::new(source.clone())],
        )
        .unwrap();
        let mut out = FixedFields::new(&batch, vec!["uri".into(), "ip".into()]).views_into(&source);
        out.push_slice(0, 0, 13, 43);
        out.push_slice(1, 0, 0, 8);
        out.push_slice(0, 1, 0, 5);
        out.push_slice(1, 1, 1, 3);
        out.push(0, 2, None);
        out.push(1, 2, None);
        let result = out.apply(batch).unwrap();
        let uri = result.column_by_name("uri").unwrap().as_string_view();
        let ip = result.column_by_name("ip").unwrap().as_string_view();
        assert_eq!(uri.value(0), "/api/v1/users/with/a/long/path");
        assert_eq!(ip.value(0), "10.0.0.1");
        assert_eq!((uri.value(1), ip.value(1)), ("short", "ho"));
        assert!(uri.is_null(2) && ip.is_null(2));
        // The long value lives in the source's block: no bytes were copied for it.
        assert_eq!(
            uri.data_buffers()[0].as_ptr(),
            source.data_buffers()[0].as_ptr()
        );
        assert!(uri.data_buffers().iter().skip(1).all(|b| b.is_empty()));
    }
}

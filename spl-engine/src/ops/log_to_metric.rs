//! `log-to-metric -names=<fields> [-labels=<fields>] [-time_field=<field>] [-wildcard] [-format]`
//! (spec §5.13): turns each log row into one metric row per `-names` field present in it, with
//! `__name__` = the field name, `__value__` = its value as DOUBLE, `__labels__` = the `-labels`
//! fields encoded `k#$#v|…` with sorted keys, and `__time_nano__` from `__time__` +
//! `__time_ns_part__` or from `-time_field` (s, ms, µs or ns by digit count, a fraction, a
//! DOUBLE or a TIMESTAMP). The output rows hold only the metric fields plus the time fields of
//! the input row. A name field that is missing or not a number gives no sample; a missing or
//! empty label field gives no label. A row whose time cannot be read, or (without `-format`)
//! whose label value contains `|` or `#$#`, goes to the error stream. With `-wildcard`, `*` in
//! names and labels matches any run of characters; matched fields whose names are not valid
//! metric names or label keys are skipped (`-format` turns invalid metric-name characters into
//! `_` instead). Decisions: docs/decisions.md.
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, StringViewBuilder, UInt32Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use spl_parser::{codes, Diagnostic, Instruction};

use super::metric_labels::{
    checked_label_value, int64_values, is_label_key, is_metric_name, normalize_metric_name,
    sample_times, sample_values, Labels, LABELS, METRIC_FIELDS, NAME, TIME_NANO, VALUE,
};
use super::{BatchError, ErrorRows, Operator, StageOutput, DATA_ERROR};
use crate::batch::{from_columns, glob_match, is_time_field, TIME_FIELDS};
use crate::expr::Session;
use crate::render::Renderer;

#[derive(Debug)]
pub struct LogToMetric {
    names: Vec<String>,
    labels: Vec<String>,
    time_field: Option<String>,
    wildcard: bool,
    format: bool,
}

/// The list option `name` without repeated entries.
fn list(instr: &Instruction, name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in instr.list(name).unwrap_or(&[]) {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

fn bad_option(instr: &Instruction, option: &str, message: String, help: &str) -> Box<Diagnostic> {
    let span = instr.option(option).map(|o| o.span).unwrap_or(instr.span);
    Box::new(
        Diagnostic::error(codes::BAD_OPTION_VALUE, message, span, "in this list").with_help(help),
    )
}

impl LogToMetric {
    pub fn new(instr: &Instruction) -> Result<LogToMetric, Box<Diagnostic>> {
        let wildcard = instr.has("wildcard");
        let format = instr.has("format");
        let names = list(instr, "names");
        let labels = list(instr, "labels");
        if names.is_empty() {
            return Err(bad_option(
                instr,
                "names",
                "`-names` lists no field".into(),
                "write `-names='latency, size'`",
            ));
        }
        let is_pattern = |s: &str| wildcard && s.contains('*');
        for n in names.iter().filter(|n| !is_pattern(n)) {
            if !format && !is_metric_name(n) {
                let help = if n.contains('*') {
                    "add -wildcard to use `*` as a pattern"
                } else {
                    "add -format to turn invalid characters into `_`, or rename the field first"
                };
                return Err(bad_option(
                    instr,
                    "names",
                    format!("`{n}` is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"),
                    help,
                ));
            }
        }
        for l in labels.iter().filter(|l| !is_pattern(l)) {
            if !is_label_key(l) {
                let help = if l.contains('*') {
                    "add -wildcard to use `*` as a pattern"
                } else {
                    "rename the field first, e.g. `| project-rename host=\"__tag__:__hostname__\"`"
                };
                return Err(bad_option(
                    instr,
                    "labels",
                    format!("`{l}` is not a valid label key ([a-zA-Z_][a-zA-Z0-9_]*)"),
                    help,
                ));
            }
        }
        Ok(LogToMetric {
            names,
            labels,
            time_field: instr.text("time_field").map(str::to_string),
            wildcard,
            format,
        })
    }

    /// Column indices selected by `entries`: an entry without `*` (or any entry without
    /// `-wildcard`) by exact name; a glob never selects a time field, a metric field, the time
    /// field or an `excluded` column.
    fn select(&self, schema: &Schema, entries: &[String], excluded: &[usize]) -> Vec<usize> {
        let mut out = Vec::new();
        for e in entries {
            if !self.wildcard || !e.contains('*') {
                if let Ok(i) = schema.index_of(e) {
                    if !out.contains(&i) {
                        out.push(i);
                    }
                }
                continue;
            }
            for (i, f) in schema.fields().iter().enumerate() {
                let name = f.name().as_str();
                let reserved = is_time_field(name)
                    || METRIC_FIELDS.contains(&name)
                    || self.time_field.as_deref() == Some(name)
                    || excluded.contains(&i);
                if !reserved && glob_match(e, name) && !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// The sample time (ns) of each row, or why it has none.
    fn times(&self, batch: &RecordBatch, renderer: &Renderer) -> Vec<Result<i64, String>> {
        let rows = batch.num_rows();
        if let Some(tf) = &self.time_field {
            let Some(col) = batch.column_by_name(tf) else {
                return vec![Err(format!("the time field `{tf}` is missing")); rows];
            };
            return sample_times(col, renderer)
                .into_iter()
                .map(|t| {
                    t.unwrap_or_else(|| Err(format!("the time field `{tf}` is missing")))
                        .map_err(|e| format!("time field `{tf}`: {e}"))
                })
                .collect();
        }
        let secs = int64_values(batch.column_by_name(TIME_FIELDS[0]), rows);
        let nanos = int64_values(batch.column_by_name(TIME_FIELDS[1]), rows);
        secs.iter()
            .zip(&nanos)
            .map(|(s, n)| {
                let s = s.ok_or("the row has no __time__ (use -time_field)")?;
                s.checked_mul(1_000_000_000)
                    .and_then(|t| t.checked_add(n.unwrap_or(0)))
                    .ok_or_else(|| format!("__time__ {s} is out of range"))
            })
            .collect()
    }
}

/// The metric rows being built, with the input row each comes from.
#[derive(Default)]
struct Samples {
    source: Vec<u32>,
    names: StringViewBuilder,
    labels: StringViewBuilder,
    times: Int64Builder,
    values: Float64Builder,
}

impl Operator for LogToMetric {
    fn name(&self) -> &'static str {
        "log-to-metric"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let renderer = Renderer::new(session.tz);
        let schema = batch.schema();
        // A field is a sample or a label: globbed names skip the fields named exactly in
        // -labels, globbed labels skip every selected name.
        let exact_labels: Vec<String> = self
            .labels
            .iter()
            .filter(|l| !self.wildcard || !l.contains('*'))
            .cloned()
            .collect();
        let exact_label_idx = self.select(&schema, &exact_labels, &[]);
        let name_idx = self.select(&schema, &self.names, &exact_label_idx);
        let label_cols: Vec<(String, &ArrayRef)> = self
            .select(&schema, &self.labels, &name_idx)
            .into_iter()
            .filter(|i| is_label_key(schema.field(*i).name()))
            .map(|i| (schema.field(i).name().clone(), batch.column(i)))
            .collect();
        let name_cols: Vec<(String, Vec<Option<f64>>)> = name_idx
            .into_iter()
            .filter_map(|i| {
                let field = schema.field(i).name();
                let metric = if is_metric_name(field) {
                    Some(field.clone())
                } else if self.format {
                    normalize_metric_name(field)
                } else {
                    None
                };
                metric.map(|m| (m, sample_values(batch.column(i), &renderer)))
            })
            .collect();
        let times = self.times(&batch, &renderer);

        let mut out = Samples::default();
        let mut errors = Vec::new();
        for (row, time) in times.into_iter().enumerate() {
            let encoded = time.and_then(|t| {
                let mut labels = Labels::default();
                for (key, col) in &label_cols {
                    if let Some(v) = renderer.text(col.as_ref(), row) {
                        labels.set(key, checked_label_value(key, &v, self.format)?);
                    }
                }
                Ok((t, labels.encode()))
            });
            let (time, labels) = match encoded {
                Ok(x) => x,
                Err(message) => {
                    errors.push(ErrorRows {
                        rows: batch.slice(row, 1),
                        code: DATA_ERROR,
                        message: format!("log-to-metric: {message}"),
                        part: 0,
                    });
                    continue;
                }
            };
            for (name, values) in &name_cols {
                if let Some(v) = values.get(row).copied().flatten() {
                    out.source.push(row as u32);
                    out.names.append_value(name);
                    out.labels.append_value(&labels);
                    out.times.append_value(time);
                    out.values.append_value(v);
                }
            }
        }

        let rows = out.source.len();
        let indices = UInt32Array::from(out.source);
        let err = |e: arrow::error::ArrowError| BatchError::new(e.to_string());
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for tf in TIME_FIELDS {
            if let Some(c) = batch.column_by_name(tf) {
                fields.push(Field::new(*tf, c.data_type().clone(), true));
                columns.push(arrow::compute::take(c.as_ref(), &indices, None).map_err(err)?);
            }
        }
        fields.push(Field::new(NAME, crate::types::VARCHAR, true));
        columns.push(Arc::new(out.names.finish()));
        fields.push(Field::new(LABELS, crate::types::VARCHAR, true));
        columns.push(Arc::new(out.labels.finish()));
        fields.push(Field::new(TIME_NANO, DataType::Int64, true));
        columns.push(Arc::new(out.times.finish()));
        fields.push(Field::new(VALUE, DataType::Float64, true));
        columns.push(Arc::new(out.values.finish()));
        let result = from_columns(fields, columns, rows).map_err(err)?;
        Ok(StageOutput {
            batches: vec![result],
            errors,
        })
    }
}

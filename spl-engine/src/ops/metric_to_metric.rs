//! `metric-to-metric [-add_labels=<fields>] [-del_labels=<labels>] [-rename_label=<old=new,…>]
//! [-format]` (spec §5.14): edits the labels of metric rows. Each row must be a metric: a
//! `__name__`, a `__value__` that is a number, an integer `__time_nano__` and a `__labels__`
//! (absent = no labels). The edits run in the order add (label = the field's value; an empty
//! value removes the label), rename, delete; `__labels__` is written back with sorted keys and
//! the metric fields typed (`__time_nano__` BIGINT, `__value__` DOUBLE). Other fields are kept.
//! A row that is not a valid metric goes to the error stream; `-format` repairs what it can
//! (invalid name characters become `_`, malformed or invalid labels are dropped, `|` and `#$#`
//! in values become `_`). Decisions: docs/decisions.md.
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Builder, Int64Builder, StringViewBuilder,
};
use arrow::record_batch::RecordBatch;
use spl_parser::{codes, Diagnostic, Instruction};

use super::metric_labels::{
    checked_label_value, int64_values, is_label_key, is_metric_name, normalize_metric_name,
    sample_values, Labels, LABELS, NAME, TIME_NANO, VALUE,
};
use super::{BatchError, ErrorRows, Operator, StageOutput, DATA_ERROR};
use crate::batch::set_column;
use crate::expr::Session;
use crate::render::Renderer;

#[derive(Debug)]
pub struct MetricToMetric {
    add: Vec<String>,
    del: Vec<String>,
    rename: Vec<(String, String)>,
    format: bool,
}

fn bad_option(instr: &Instruction, option: &str, message: String, help: &str) -> Box<Diagnostic> {
    let span = instr.option(option).map(|o| o.span).unwrap_or(instr.span);
    Box::new(
        Diagnostic::error(codes::BAD_OPTION_VALUE, message, span, "in this list").with_help(help),
    )
}

/// One `-rename_label` item: `old=new`, also `old:new` and the pieces of a JSON object
/// (`'{"old": "new"}'`) as the list syntax splits it.
fn rename_item(item: &str) -> Option<(String, String)> {
    let cleaned: String = item
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | '"'))
        .collect();
    let (old, new) = cleaned
        .split_once('=')
        .or_else(|| cleaned.split_once(':'))?;
    let (old, new) = (old.trim(), new.trim());
    (!old.is_empty() && !new.is_empty()).then(|| (old.to_string(), new.to_string()))
}

impl MetricToMetric {
    pub fn new(instr: &Instruction) -> Result<MetricToMetric, Box<Diagnostic>> {
        let add: Vec<String> = instr.list("add_labels").unwrap_or(&[]).to_vec();
        for a in &add {
            if !is_label_key(a) {
                return Err(bad_option(
                    instr,
                    "add_labels",
                    format!("`{a}` is not a valid label key ([a-zA-Z_][a-zA-Z0-9_]*)"),
                    "copy the value to a valid name first, e.g. `| extend host = \"__tag__:__hostname__\"`",
                ));
            }
        }
        let mut rename = Vec::new();
        for item in instr.list("rename_label").unwrap_or(&[]) {
            let Some((old, new)) = rename_item(item) else {
                return Err(bad_option(
                    instr,
                    "rename_label",
                    format!("`{item}` is not a rename"),
                    "write `-rename_label='old=new, other_old=other_new'`",
                ));
            };
            if !is_label_key(&new) {
                return Err(bad_option(
                    instr,
                    "rename_label",
                    format!("`{new}` is not a valid label key ([a-zA-Z_][a-zA-Z0-9_]*)"),
                    "label keys are letters, digits and `_`, not starting with a digit",
                ));
            }
            rename.push((old, new));
        }
        Ok(MetricToMetric {
            add,
            del: instr.list("del_labels").unwrap_or(&[]).to_vec(),
            rename,
            format: instr.has("format"),
        })
    }
}

/// `__time_nano__` values: integer columns as they are, text parsed as a (signed) integer.
fn time_nanos(batch: &RecordBatch, renderer: &Renderer) -> Vec<Option<i64>> {
    let rows = batch.num_rows();
    match batch.column_by_name(TIME_NANO) {
        Some(c) if c.data_type().is_integer() => int64_values(Some(c), rows),
        Some(c) => (0..rows)
            .map(|r| {
                renderer
                    .text(c.as_ref(), r)
                    .and_then(|t| t.trim().parse().ok())
            })
            .collect(),
        None => vec![None; rows],
    }
}

impl MetricToMetric {
    /// The edited metric of one row, or why the row is not a valid metric.
    fn row(
        &self,
        row: usize,
        batch: &RecordBatch,
        renderer: &Renderer,
        value: Option<f64>,
        time: Option<i64>,
    ) -> Result<(String, String, i64, f64), String> {
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| renderer.text(c.as_ref(), row))
        };
        let name = text(NAME).filter(|n| !n.is_empty()).ok_or("no __name__")?;
        let name = if is_metric_name(&name) {
            name
        } else if self.format {
            normalize_metric_name(&name).ok_or("no __name__")?
        } else {
            return Err(format!(
                "`{name}` is not a valid metric name (add -format to turn invalid characters into `_`)"
            ));
        };
        let value = value.ok_or("__value__ is missing or not a number")?;
        let time = time.ok_or("__time_nano__ is missing or not an integer")?;
        let mut labels = Labels::parse(&text(LABELS).unwrap_or_default(), self.format)?;
        for key in &self.add {
            if let Some(v) = text(key) {
                labels.set(key, checked_label_value(key, &v, self.format)?);
            }
        }
        for (old, new) in &self.rename {
            labels.rename(old, new);
        }
        for key in &self.del {
            labels.remove(key);
        }
        Ok((name, labels.encode(), time, value))
    }
}

impl Operator for MetricToMetric {
    fn name(&self) -> &'static str {
        "metric-to-metric"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let renderer = Renderer::new(session.tz);
        let rows = batch.num_rows();
        let values = match batch.column_by_name(VALUE) {
            Some(c) => sample_values(c, &renderer),
            None => vec![None; rows],
        };
        let times = time_nanos(&batch, &renderer);
        let mut keep = Vec::with_capacity(rows);
        let mut names = StringViewBuilder::with_capacity(rows);
        let mut labels = StringViewBuilder::with_capacity(rows);
        let mut time_col = Int64Builder::with_capacity(rows);
        let mut value_col = Float64Builder::with_capacity(rows);
        let mut errors = Vec::new();
        for row in 0..rows {
            match self.row(row, &batch, &renderer, values[row], times[row]) {
                Ok((n, l, t, v)) => {
                    keep.push(true);
                    names.append_value(n);
                    labels.append_value(l);
                    time_col.append_value(t);
                    value_col.append_value(v);
                }
                Err(message) => {
                    keep.push(false);
                    errors.push(ErrorRows {
                        rows: batch.slice(row, 1),
                        code: DATA_ERROR,
                        message: format!("metric-to-metric: not a valid metric: {message}"),
                        part: 0,
                    });
                }
            }
        }
        let err = |e: arrow::error::ArrowError| BatchError::new(e.to_string());
        let mut out = if errors.is_empty() {
            batch
        } else {
            arrow::compute::filter_record_batch(&batch, &BooleanArray::from(keep)).map_err(err)?
        };
        let columns: [(&str, ArrayRef); 4] = [
            (NAME, Arc::new(names.finish())),
            (LABELS, Arc::new(labels.finish())),
            (TIME_NANO, Arc::new(time_col.finish())),
            (VALUE, Arc::new(value_col.finish())),
        ];
        for (name, column) in columns {
            debug_assert_eq!(column.len(), out.num_rows());
            out = set_column(&out, name, column).map_err(err)?;
        }
        Ok(StageOutput {
            batches: vec![out],
            errors,
        })
    }
}

//! `make-series out = field [default = fill], ... on time [from b to e step s] [by tag, ...]`
//! (Time-series SPL, scan mode): buffers the stream and turns its rows into time series, one
//! output row per `by` group.
//!
//! - Each output row has the `by` fields (as text), `__ts__` (the time axis, an array of unix
//!   nanoseconds) and one `array(double)` per series item, as long as `__ts__`.
//! - The time field may hold unix seconds (milliseconds, microseconds and nanoseconds are
//!   recognised by magnitude) or time text: RFC 3339, `YYYY-MM-DD HH:MM:SS` (UTC) and nginx's
//!   `14/Nov/2023:22:13:20 +0000`. A row whose time cannot be read goes to the error stream.
//! - Values are cast to double; text that is not a number is a missing value.
//! - With `from … to … step …` the axis is `from, from + step, …` while `< to`; a point falls in
//!   the bin that starts at or before it, and several points in one bin are averaged. Bounds
//!   are time text, unix seconds, or `sls_begin_time`/`sls_end_time`: the run's time range
//!   (`spl run --from/--to`) or, without one, the data's first and last time (the end's bin
//!   included). Steps are a number of seconds or `30s`, `1m`, `1h`, `1d`, `1w`.
//! - Without a range the axis is the group's own distinct times, in order.
//! - Fill strategies (`default`): `null` (the default), `nan`, a number, `last` (carry the
//!   previous value forward), `next` (carry the next one back), `avg` (mean of the previous and
//!   next values), `linear` (linear interpolation between them). Where a strategy has no
//!   neighbour to use (a leading gap for `last`), the point stays null.
//! - At most 1,048,576 points per series (the axis is checked before it is built).
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, Float64Builder, Int64Builder, ListBuilder, StringBuilder, UInt32Array,
};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDateTime};
use spl_parser::{codes, Diagnostic, Instruction, InstructionKind, SeriesValue};

use super::{BatchError, BufferState, BufferingOperator, ErrorRows, StageOutput};
use crate::expr::Session;
use crate::render::Renderer;

/// The name of the time-axis output field.
pub const TIME_AXIS: &str = "__ts__";

/// The most points one series may have.
pub const MAX_POINTS: i64 = 1 << 20;

/// How a missing point is filled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fill {
    Null,
    Nan,
    Value(f64),
    Last,
    Next,
    Avg,
    Linear,
}

impl Fill {
    /// Reads a `default = …` value.
    pub fn parse(text: &str) -> Option<Fill> {
        Some(match text.to_ascii_lowercase().as_str() {
            "null" => Fill::Null,
            "nan" => Fill::Nan,
            "last" => Fill::Last,
            "next" => Fill::Next,
            "avg" => Fill::Avg,
            "linear" => Fill::Linear,
            other => Fill::Value(other.parse::<f64>().ok().filter(|v| v.is_finite())?),
        })
    }

    /// Fills the missing points of `values` in place.
    pub fn apply(self, values: &mut [Option<f64>]) {
        let n = values.len();
        match self {
            Fill::Null => {}
            Fill::Nan | Fill::Value(_) => {
                let v = if let Fill::Value(v) = self {
                    v
                } else {
                    f64::NAN
                };
                values
                    .iter_mut()
                    .filter(|x| x.is_none())
                    .for_each(|x| *x = Some(v));
            }
            Fill::Last => {
                let mut last = None;
                for x in values.iter_mut() {
                    match x {
                        Some(v) => last = Some(*v),
                        None => *x = last,
                    }
                }
            }
            Fill::Next => {
                let mut next = None;
                for x in values.iter_mut().rev() {
                    match x {
                        Some(v) => next = Some(*v),
                        None => *x = next,
                    }
                }
            }
            Fill::Avg | Fill::Linear => {
                let known: Vec<usize> = (0..n).filter(|&i| values[i].is_some()).collect();
                let original: Vec<Option<f64>> = values.to_vec();
                for (i, x) in values.iter_mut().enumerate() {
                    if x.is_some() {
                        continue;
                    }
                    let after = known.partition_point(|&k| k < i);
                    let prev = after.checked_sub(1).map(|j| known[j]);
                    let next = known.get(after).copied();
                    let value = |k: usize| original[k].unwrap_or(f64::NAN);
                    *x = match (prev, next) {
                        (Some(p), Some(q)) if self == Fill::Linear => {
                            let w = (i - p) as f64 / (q - p) as f64;
                            Some(value(p) + (value(q) - value(p)) * w)
                        }
                        (Some(p), Some(q)) => Some((value(p) + value(q)) / 2.0),
                        (Some(k), None) | (None, Some(k)) => Some(value(k)),
                        (None, None) => None,
                    };
                }
            }
        }
    }
}

/// A time bound as written.
#[derive(Debug, Clone, PartialEq)]
enum Bound {
    /// `sls_begin_time`: the run's start, or the data's first time.
    Begin,
    /// `sls_end_time`: the run's end, or just after the data's last time.
    End,
    /// Unix seconds.
    At(i64),
}

/// One `out = field [default = …]` item.
#[derive(Debug, Clone)]
struct Item {
    output: String,
    field: String,
    fill: Fill,
}

/// The compiled `make-series` instruction.
#[derive(Debug, Clone)]
pub struct MakeSeries {
    items: Arc<Vec<Item>>,
    time: String,
    /// `(from, to, step seconds)`.
    range: Option<(Bound, Bound, i64)>,
    by: Arc<Vec<String>>,
}

fn spec_error(value: &SeriesValue, message: String) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(
        codes::SERIES_SPEC,
        message,
        value.span,
        "here",
    ))
}

impl MakeSeries {
    pub fn new(instr: &Instruction) -> Result<MakeSeries, Box<Diagnostic>> {
        let InstructionKind::MakeSeries {
            series,
            time,
            range,
            by,
        } = &instr.kind
        else {
            return Err(Box::new(Diagnostic::error(
                codes::UNSUPPORTED,
                "internal: not a make-series instruction",
                instr.span,
                "here",
            )));
        };
        let mut items = Vec::new();
        for s in series {
            let fill = match &s.default {
                None => Fill::Null,
                Some(d) => Fill::parse(&d.text).ok_or_else(|| {
                    spec_error(
                        d,
                        format!(
                            "`{}` is not a fill strategy: use null, nan, a number, last, next, avg or linear",
                            d.text
                        ),
                    )
                })?,
            };
            items.push(Item {
                output: s.output.name.clone(),
                field: s.field.name.clone(),
                fill,
            });
        }
        let range = match range {
            None => None,
            Some(r) => {
                let step = parse_step(&r.step.text).ok_or_else(|| {
                    spec_error(
                        &r.step,
                        format!(
                            "`{}` is not a step: write seconds or a duration such as '30s', '1m', '1h', '1d'",
                            r.step.text
                        ),
                    )
                })?;
                let bound = |v: &SeriesValue| -> Result<Bound, Box<Diagnostic>> {
                    match v.text.to_ascii_lowercase().as_str() {
                        "sls_begin_time" => Ok(Bound::Begin),
                        "sls_end_time" => Ok(Bound::End),
                        _ => parse_time_text(&v.text).map(Bound::At).ok_or_else(|| {
                            spec_error(
                                v,
                                format!(
                                    "`{}` is not a time: write unix seconds, 'YYYY-MM-DD HH:MM:SS', RFC 3339, sls_begin_time or sls_end_time",
                                    v.text
                                ),
                            )
                        }),
                    }
                };
                let (from, to) = (bound(&r.from)?, bound(&r.to)?);
                if let (Bound::At(a), Bound::At(b)) = (&from, &to) {
                    if b <= a {
                        return Err(spec_error(
                            &r.to,
                            "the series ends before it begins".to_string(),
                        ));
                    }
                    if (b - a) / step >= MAX_POINTS {
                        return Err(spec_error(
                            &r.step,
                            format!("the series would have more than {MAX_POINTS} points"),
                        ));
                    }
                }
                Some((from, to, step))
            }
        };
        Ok(MakeSeries {
            items: Arc::new(items),
            time: time.name.clone(),
            range,
            by: Arc::new(by.iter().map(|b| b.name.clone()).collect()),
        })
    }
}

/// A step: seconds, or a number with `s`, `m`, `h`, `d` or `w`.
pub fn parse_step(text: &str) -> Option<i64> {
    let text = text.trim();
    let (num, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = num.trim().parse().ok()?;
    let unit = match unit.to_ascii_lowercase().as_str() {
        "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    n.checked_mul(unit).filter(|s| *s > 0)
}

/// Unix seconds from a number (seconds, or ms/µs/ns by magnitude).
fn seconds_of_number(v: f64) -> Option<i64> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    let s = if a >= 1e17 {
        v / 1e9
    } else if a >= 1e14 {
        v / 1e6
    } else if a >= 1e11 {
        v / 1e3
    } else {
        v
    };
    Some(s.floor() as i64)
}

/// Unix seconds from time text (see the module doc for the forms).
pub fn parse_time_text(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(v) = t.parse::<f64>() {
        return seconds_of_number(v);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp());
    }
    if let Ok(d) = DateTime::parse_from_str(t, "%d/%b/%Y:%H:%M:%S %z") {
        return Some(d.timestamp());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc().timestamp());
        }
    }
    None
}

impl BufferingOperator for MakeSeries {
    fn name(&self) -> &'static str {
        "make-series"
    }

    fn start(&self) -> Box<dyn BufferState> {
        Box::new(SeriesState {
            spec: self.clone(),
            groups: HashMap::new(),
            order: Vec::new(),
            min: i64::MAX,
            max: i64::MIN,
        })
    }
}

/// The points of one group: `(unix seconds, one value per item)`.
type Points = Vec<(i64, Vec<Option<f64>>)>;

struct SeriesState {
    spec: MakeSeries,
    groups: HashMap<Vec<Option<String>>, Points>,
    /// Group keys in first-seen order.
    order: Vec<Vec<Option<String>>>,
    min: i64,
    max: i64,
}

fn column(batch: &RecordBatch, name: &str) -> Option<ArrayRef> {
    batch.column_by_name(name).cloned()
}

impl BufferState for SeriesState {
    fn push(&mut self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let rows = batch.num_rows();
        let renderer = Renderer::new(session.tz);
        let err = |e: arrow::error::ArrowError| BatchError::new(e.to_string());
        let time = column(&batch, &self.spec.time);
        let values: Vec<Option<ArrayRef>> = self
            .spec
            .items
            .iter()
            .map(|i| column(&batch, &i.field))
            .map(|c| c.map(|c| cast(&c, &DataType::Float64)).transpose())
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let values: Vec<Option<&arrow::array::Float64Array>> = values
            .iter()
            .map(|c| {
                c.as_ref()
                    .and_then(|c| c.as_any().downcast_ref::<arrow::array::Float64Array>())
            })
            .collect();
        let by: Vec<Option<ArrayRef>> = self.spec.by.iter().map(|b| column(&batch, b)).collect();
        let mut bad = Vec::new();
        for row in 0..rows {
            let t = time
                .as_ref()
                .and_then(|c| renderer.text(c.as_ref(), row))
                .and_then(|text| parse_time_text(&text));
            let Some(t) = t else {
                bad.push(row as u32);
                continue;
            };
            self.min = self.min.min(t);
            self.max = self.max.max(t);
            let key: Vec<Option<String>> = by
                .iter()
                .map(|c| c.as_ref().and_then(|c| renderer.text(c.as_ref(), row)))
                .collect();
            let point: Vec<Option<f64>> = values
                .iter()
                .map(|c| c.and_then(|c| (!c.is_null(row)).then(|| c.value(row))))
                .collect();
            match self.groups.get_mut(&key) {
                Some(points) => points.push((t, point)),
                None => {
                    self.order.push(key.clone());
                    self.groups.insert(key, vec![(t, point)]);
                }
            }
        }
        let mut out = StageOutput::default();
        if !bad.is_empty() {
            let indices = UInt32Array::from(bad);
            let columns = batch
                .columns()
                .iter()
                .map(|c| take(c.as_ref(), &indices, None))
                .collect::<Result<Vec<_>, _>>()
                .map_err(err)?;
            let rows = crate::batch::from_columns(
                batch
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (**f).clone())
                    .collect(),
                columns,
                indices.len(),
            )
            .map_err(err)?;
            out.errors.push(ErrorRows {
                rows,
                code: codes::DATA_ERROR.id,
                message: format!(
                    "make-series: the time field `{}` is missing or not a time",
                    self.spec.time
                ),
                part: 0,
            });
        }
        Ok(out)
    }

    fn finish(&mut self, session: &Session) -> Result<StageOutput, BatchError> {
        if self.order.is_empty() {
            return Ok(StageOutput::default());
        }
        let axis = match &self.spec.range {
            None => None,
            Some((from, to, step)) => {
                let step = *step;
                let from = match from {
                    Bound::At(s) => *s,
                    Bound::Begin => match session.time_range {
                        Some((b, _)) => b,
                        None => self.min.div_euclid(step) * step,
                    },
                    Bound::End => self.max.div_euclid(step) * step,
                };
                let to = match to {
                    Bound::At(s) => *s,
                    Bound::End => match session.time_range {
                        Some((_, e)) => e,
                        None => self.max.div_euclid(step) * step + step,
                    },
                    Bound::Begin => self.min.div_euclid(step) * step + step,
                };
                if to <= from {
                    return Err(BatchError::new(
                        "make-series: the series ends before it begins",
                    ));
                }
                let points = (to - from + step - 1) / step;
                if points > MAX_POINTS {
                    return Err(BatchError::new(format!(
                        "make-series: the series would have {points} points, more than {MAX_POINTS}"
                    )));
                }
                Some((from, step, points as usize))
            }
        };
        let items = &self.spec.items;
        let mut by: Vec<StringBuilder> =
            self.spec.by.iter().map(|_| StringBuilder::new()).collect();
        let mut ts = ListBuilder::new(Int64Builder::new());
        let mut outs: Vec<ListBuilder<Float64Builder>> = items
            .iter()
            .map(|_| ListBuilder::new(Float64Builder::new()))
            .collect();
        for key in &self.order {
            let mut points = self.groups.remove(key).unwrap_or_default();
            points.sort_by_key(|p| p.0);
            let (times, mut series) = match axis {
                Some((from, step, n)) => {
                    let times: Vec<i64> = (0..n as i64).map(|k| from + k * step).collect();
                    let mut sums = vec![vec![(0.0, 0u32); n]; items.len()];
                    for (t, vals) in &points {
                        let k = (t - from).div_euclid(step);
                        if k < 0 || k >= n as i64 {
                            continue;
                        }
                        for (i, v) in vals.iter().enumerate() {
                            if let Some(v) = v {
                                sums[i][k as usize].0 += v;
                                sums[i][k as usize].1 += 1;
                            }
                        }
                    }
                    (times, bin_means(sums))
                }
                None => {
                    let mut times: Vec<i64> = Vec::new();
                    let mut sums: Vec<Vec<(f64, u32)>> = vec![Vec::new(); items.len()];
                    for (t, vals) in &points {
                        if times.last() != Some(t) {
                            times.push(*t);
                            sums.iter_mut().for_each(|s| s.push((0.0, 0)));
                        }
                        for (i, v) in vals.iter().enumerate() {
                            if let (Some(v), Some(slot)) = (v, sums[i].last_mut()) {
                                slot.0 += v;
                                slot.1 += 1;
                            }
                        }
                    }
                    (times, bin_means(sums))
                }
            };
            for (b, k) in by.iter_mut().zip(key) {
                b.append_option(k.as_deref());
            }
            for t in &times {
                ts.values().append_value(t.saturating_mul(1_000_000_000));
            }
            ts.append(true);
            for ((item, values), out) in items.iter().zip(series.iter_mut()).zip(outs.iter_mut()) {
                item.fill.apply(values);
                for v in values.iter() {
                    out.values().append_option(*v);
                }
                out.append(true);
            }
        }
        let mut fields = Vec::new();
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (name, mut b) in self.spec.by.iter().zip(by) {
            fields.push(Field::new(name, DataType::Utf8, true));
            columns.push(Arc::new(b.finish()));
        }
        let ts = ts.finish();
        fields.push(Field::new(TIME_AXIS, ts.data_type().clone(), true));
        columns.push(Arc::new(ts));
        for (item, mut b) in items.iter().zip(outs) {
            let a = b.finish();
            fields.push(Field::new(&item.output, a.data_type().clone(), true));
            columns.push(Arc::new(a));
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| BatchError::new(e.to_string()))?;
        Ok(StageOutput::one(batch))
    }
}

/// Each series' bins as the mean of their points (NULL for a bin without one).
fn bin_means(sums: Vec<Vec<(f64, u32)>>) -> Vec<Vec<Option<f64>>> {
    sums.into_iter()
        .map(|s| {
            s.into_iter()
                .map(|(sum, c)| (c > 0).then(|| sum / c as f64))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(fill: Fill, v: &[Option<f64>]) -> Vec<Option<f64>> {
        let mut v = v.to_vec();
        fill.apply(&mut v);
        v
    }

    #[test]
    fn fills() {
        let v = [None, Some(1.0), None, None, Some(4.0), None];
        assert_eq!(filled(Fill::Null, &v), v.to_vec());
        assert_eq!(
            filled(Fill::Value(0.0), &v),
            [0.0, 1.0, 0.0, 0.0, 4.0, 0.0].map(Some).to_vec()
        );
        assert!(filled(Fill::Nan, &v)[0].unwrap().is_nan());
        assert_eq!(
            filled(Fill::Last, &v),
            vec![None, Some(1.0), Some(1.0), Some(1.0), Some(4.0), Some(4.0)]
        );
        assert_eq!(
            filled(Fill::Next, &v),
            vec![Some(1.0), Some(1.0), Some(4.0), Some(4.0), Some(4.0), None]
        );
        assert_eq!(
            filled(Fill::Avg, &v),
            [1.0, 1.0, 2.5, 2.5, 4.0, 4.0].map(Some).to_vec()
        );
        assert_eq!(
            filled(Fill::Linear, &v),
            [1.0, 1.0, 2.0, 3.0, 4.0, 4.0].map(Some).to_vec()
        );
        assert_eq!(filled(Fill::Last, &[None, None]), vec![None, None]);
    }

    #[test]
    fn steps_and_times() {
        assert_eq!(parse_step("1m"), Some(60));
        assert_eq!(parse_step("2h"), Some(7200));
        assert_eq!(parse_step("15"), Some(15));
        assert_eq!(parse_step("0s"), None);
        assert_eq!(parse_step("1y"), None);
        assert_eq!(
            parse_time_text("14/Nov/2023:22:13:20 +0000"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_time_text("2023-11-14 22:13:20"), Some(1_700_000_000));
        assert_eq!(parse_time_text("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_time_text("1700000000000"), Some(1_700_000_000));
        assert_eq!(parse_time_text("yesterday"), None);
        assert_eq!(Fill::parse("LAST"), Some(Fill::Last));
        assert_eq!(Fill::parse("2.5"), Some(Fill::Value(2.5)));
        assert_eq!(Fill::parse("previous"), None);
    }
}

//! What a chart plots, read from an output's rows and its [`ChartSpec`] (the rules are in
//! docs/decisions.md, `render`):
//!
//! - **Series rows** (`make-series` output): when a y field holds arrays, each row is one
//!   series per y field, over the x field's array (`__ts__` by default: unix nanoseconds, a time
//!   axis). The series is named after the row's other fields (the `by` tags) or `series`.
//! - **Plain rows**: each row is one point per y field; x is `xcolumn` or the first field that
//!   is not numeric; y fields are `ycolumns` or every numeric field (typed, or text that is a
//!   number on every row). `series` fields split the points into one series per value.
//! - x is a time axis for timestamps, `__time__`/`__ts__`, and text that reads as a time
//!   (RFC 3339, `YYYY-MM-DD HH:MM:SS`, nginx's `14/Nov/2023:22:13:20 +0000`); a number axis for numbers; categories otherwise, and
//!   always for bar, column and pie charts.
use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::record_batch::RecordBatch;
use spl_engine::ops::{ChartKind, ChartSpec};
use spl_engine::render::Renderer;

/// At most this many series are drawn (the others are left out, with a note).
pub const MAX_SERIES: usize = 64;
/// At most this many points in all.
pub const MAX_POINTS: usize = 1_000_000;
/// At most this many categories in bar, column and pie charts.
pub const MAX_CATEGORIES: usize = 200;

/// How the x axis reads.
#[derive(Debug, Clone, PartialEq)]
pub enum XAxis {
    /// Unix seconds.
    Time,
    Number,
    /// Positions 0, 1, … with these labels.
    Category(Vec<String>),
}

/// One plotted series.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// (x, y) in row order; x as the axis reads it (a category's index for categories).
    pub points: Vec<(f64, f64)>,
}

/// Everything to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub kind: ChartKind,
    pub title: Option<String>,
    pub xtitle: String,
    pub ytitle: String,
    pub x: XAxis,
    pub series: Vec<Series>,
    pub legend: bool,
    pub ymin: Option<f64>,
    pub ymax: Option<f64>,
    /// What was left out (series or points over the limits).
    pub notes: Vec<String>,
}

impl ChartData {
    /// The smallest and largest x and y of all points (each widened by one either side when
    /// all points share it), for laying out the axes.
    pub fn extent(&self) -> ((f64, f64), (f64, f64)) {
        let span = |v: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                (l.min(x), h.max(x))
            });
            if lo == hi {
                (lo - 1.0, hi + 1.0)
            } else {
                (lo, hi)
            }
        };
        let points = || self.series.iter().flat_map(|s| s.points.iter());
        (
            span(&mut points().map(|p| p.0)),
            span(&mut points().map(|p| p.1)),
        )
    }
}

/// One field of the output over all its batches.
struct Column<'a> {
    name: String,
    /// Per batch, the array (None when the batch lacks the field).
    arrays: Vec<Option<&'a ArrayRef>>,
}

impl Column<'_> {
    fn types(&self) -> impl Iterator<Item = &DataType> {
        self.arrays.iter().flatten().map(|a| a.data_type())
    }
    fn is_list(&self) -> bool {
        self.types().any(|t| {
            matches!(
                t,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            )
        })
    }
    fn is_typed_number(&self) -> bool {
        let mut types = self.types().peekable();
        types.peek().is_some() && types.all(|t| t.is_numeric())
    }
    fn is_timestamp(&self) -> bool {
        self.types().any(|t| matches!(t, DataType::Timestamp(_, _)))
    }
}

/// Reads the chart's data from the rows. Errors say why there is nothing to draw.
pub fn build(
    spec: &ChartSpec,
    batches: &[RecordBatch],
    renderer: &Renderer,
) -> Result<ChartData, String> {
    let batches: Vec<&RecordBatch> = batches.iter().filter(|b| b.num_rows() > 0).collect();
    if batches.is_empty() {
        return Err("the output has no rows to chart".into());
    }
    let mut names: Vec<String> = Vec::new();
    for b in &batches {
        for f in b.schema().fields() {
            if !names.contains(f.name()) && f.name() != spl_engine::pipeline::ERROR_FIELD {
                names.push(f.name().clone());
            }
        }
    }
    let columns: Vec<Column> = names
        .iter()
        .map(|n| Column {
            name: n.clone(),
            arrays: batches
                .iter()
                .map(|b| b.schema().index_of(n).ok().map(|i| b.column(i)))
                .collect(),
        })
        .collect();
    let find = |name: &str, what: &str| -> Result<&Column, String> {
        columns.iter().find(|c| c.name == name).ok_or_else(|| {
            format!(
                "{what} `{name}` is not a field of the output (fields: {})",
                names.join(", ")
            )
        })
    };
    if let Some(x) = &spec.xcolumn {
        find(x, "xcolumn")?;
    }
    for y in &spec.ycolumns {
        find(y, "ycolumns")?;
    }
    for s in &spec.series {
        find(s, "series")?;
    }
    let cx = Cells {
        batches: &batches,
        renderer,
    };
    let listed_y: Vec<&Column> = if spec.ycolumns.is_empty() {
        columns
            .iter()
            .filter(|c| c.is_list() && Some(&c.name) != spec.xcolumn.as_ref() && c.name != TS)
            .collect()
    } else {
        spec.ycolumns
            .iter()
            .filter_map(|y| columns.iter().find(|c| &c.name == y))
            .filter(|c| c.is_list())
            .collect()
    };
    let mut data = if !listed_y.is_empty() {
        series_rows(spec, &columns, &listed_y, &cx)?
    } else {
        plain_rows(spec, &columns, &cx)?
    };
    if matches!(
        data.kind,
        ChartKind::Bar | ChartKind::Column | ChartKind::Pie
    ) {
        to_categories(&mut data);
    }
    if let (XAxis::Category(labels), ChartKind::Bar | ChartKind::Column | ChartKind::Pie) =
        (&mut data.x, data.kind)
    {
        if labels.len() > MAX_CATEGORIES {
            data.notes.push(format!(
                "{} categories; the first {MAX_CATEGORIES} are drawn",
                labels.len()
            ));
            labels.truncate(MAX_CATEGORIES);
            for s in &mut data.series {
                s.points.retain(|p| p.0 < MAX_CATEGORIES as f64);
            }
        }
    }
    let total: usize = data.series.iter().map(|s| s.points.len()).sum();
    if total == 0 {
        return Err(format!(
            "no numeric values to chart in {}",
            data.series
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if data.series.len() > MAX_SERIES {
        data.notes.push(format!(
            "{} series; the first {MAX_SERIES} are drawn",
            data.series.len()
        ));
        data.series.truncate(MAX_SERIES);
    }
    if total > MAX_POINTS {
        let mut room = MAX_POINTS;
        for s in &mut data.series {
            s.points.truncate(room);
            room -= s.points.len();
        }
        data.notes
            .push(format!("{total} points; the first {MAX_POINTS} are drawn"));
    }
    // A pie names its slices in the legend.
    data.legend = spec
        .legend
        .unwrap_or(data.series.len() > 1 || data.kind == ChartKind::Pie);
    Ok(data)
}

/// The time axis field of `make-series`.
const TS: &str = "__ts__";

/// Cell access over the batches.
struct Cells<'a> {
    batches: &'a [&'a RecordBatch],
    renderer: &'a Renderer,
}

impl Cells<'_> {
    /// (batch, row) for every row.
    fn rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.batches
            .iter()
            .enumerate()
            .flat_map(|(b, batch)| (0..batch.num_rows()).map(move |r| (b, r)))
    }
    fn text(&self, c: &Column, b: usize, r: usize) -> Option<String> {
        let a = c.arrays[b]?;
        self.renderer.text(a.as_ref(), r)
    }
}

/// A number from a cell: numbers, text that is a number, timestamps as unix seconds.
fn number(a: &dyn Array, r: usize) -> Option<f64> {
    if a.is_null(r) {
        return None;
    }
    let v = match a.data_type() {
        t if t.is_numeric() => {
            let f = arrow::compute::cast(&a.slice(r, 1), &DataType::Float64).ok()?;
            f.as_primitive_opt::<arrow::datatypes::Float64Type>()?
                .value(0)
        }
        DataType::Timestamp(unit, _) => {
            let f = arrow::compute::cast(&a.slice(r, 1), &DataType::Int64).ok()?;
            let v = f
                .as_primitive_opt::<arrow::datatypes::Int64Type>()?
                .value(0) as f64;
            v / match unit {
                TimeUnit::Second => 1.0,
                TimeUnit::Millisecond => 1e3,
                TimeUnit::Microsecond => 1e6,
                TimeUnit::Nanosecond => 1e9,
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let f = arrow::compute::cast(&a.slice(r, 1), &DataType::Utf8).ok()?;
            f.as_string_opt::<i32>()?
                .value(0)
                .trim()
                .parse::<f64>()
                .ok()?
        }
        _ => return None,
    };
    v.is_finite().then_some(v)
}

/// The numbers of an array cell (None for the cell's missing points).
fn numbers(a: &dyn Array, r: usize) -> Option<Vec<Option<f64>>> {
    if a.is_null(r) {
        return None;
    }
    let values: ArrayRef = match a.data_type() {
        DataType::List(_) => a.as_list::<i32>().value(r),
        DataType::LargeList(_) => a.as_list::<i64>().value(r),
        DataType::FixedSizeList(_, _) => a.as_fixed_size_list().value(r),
        _ => return None,
    };
    Some(
        (0..values.len())
            .map(|i| number(values.as_ref(), i))
            .collect(),
    )
}

/// Unix seconds from time text: RFC 3339, nginx's time, or `YYYY-MM-DD HH:MM:SS` (UTC).
fn time_text(text: &str) -> Option<f64> {
    let t = text.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(d.timestamp_millis() as f64 / 1e3);
    }
    // nginx's `$time_local`: `14/Nov/2023:22:13:20 +0000`.
    if let Ok(d) = chrono::DateTime::parse_from_str(t, "%d/%b/%Y:%H:%M:%S %z") {
        return Some(d.timestamp_millis() as f64 / 1e3);
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(d.and_utc().timestamp_millis() as f64 / 1e3);
        }
    }
    None
}

fn base(spec: &ChartSpec, x: XAxis, xtitle: String, ytitle: String) -> ChartData {
    ChartData {
        kind: spec.kind,
        title: spec.title.clone(),
        xtitle: spec.xtitle.clone().unwrap_or(xtitle),
        ytitle: spec.ytitle.clone().unwrap_or(ytitle),
        x,
        series: Vec::new(),
        legend: true,
        ymin: spec.ymin,
        ymax: spec.ymax,
        notes: Vec::new(),
    }
}

/// `make-series` rows: one series per row and array y field.
fn series_rows(
    spec: &ChartSpec,
    columns: &[Column],
    ys: &[&Column],
    cx: &Cells,
) -> Result<ChartData, String> {
    let x_name = spec
        .xcolumn
        .clone()
        .or_else(|| columns.iter().any(|c| c.name == TS).then(|| TS.to_string()));
    let x_col = x_name
        .as_ref()
        .and_then(|n| columns.iter().find(|c| &c.name == n));
    if let Some(x) = x_col {
        if !x.is_list() {
            return Err(format!(
                "xcolumn `{}` must hold arrays like the y fields ({})",
                x.name,
                ys.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    let time = x_col.is_some_and(|c| c.name == TS);
    let tags: Vec<&Column> = if spec.series.is_empty() {
        columns
            .iter()
            .filter(|c| !c.is_list() && Some(&c.name) != x_name.as_ref())
            .collect()
    } else {
        spec.series
            .iter()
            .filter_map(|s| columns.iter().find(|c| &c.name == s))
            .collect()
    };
    let xtitle = x_name.clone().unwrap_or_else(|| "point".into());
    let ytitle = ys
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut data = base(
        spec,
        if time { XAxis::Time } else { XAxis::Number },
        if time { "time".into() } else { xtitle },
        ytitle,
    );
    for (b, r) in cx.rows() {
        let label: Vec<String> = tags.iter().filter_map(|t| cx.text(t, b, r)).collect();
        let xs: Option<Vec<Option<f64>>> = x_col.and_then(|c| numbers(c.arrays[b]?.as_ref(), r));
        for y in ys {
            let Some(values) = y.arrays[b].and_then(|a| numbers(a.as_ref(), r)) else {
                continue;
            };
            let mut points = Vec::with_capacity(values.len());
            for (i, v) in values.into_iter().enumerate() {
                let x = match &xs {
                    Some(xs) => match xs.get(i).copied().flatten() {
                        Some(x) if time => x / 1e9,
                        Some(x) => x,
                        None => continue,
                    },
                    None => i as f64,
                };
                if let Some(v) = v {
                    points.push((x, v));
                }
            }
            data.series.push(Series {
                name: series_name(&label, &y.name, ys.len()),
                points,
            });
        }
    }
    Ok(data)
}

/// A series' name: its tags, and the y field when there are several.
fn series_name(tags: &[String], y: &str, ys: usize) -> String {
    match (tags.is_empty(), ys > 1) {
        (true, _) => y.to_string(),
        (false, false) => tags.join(", "),
        (false, true) => format!("{} {y}", tags.join(", ")),
    }
}

/// True when a text column holds a number on every row that has a value (and one at least).
fn numeric_text(c: &Column, cx: &Cells) -> bool {
    let mut any = false;
    for (b, r) in cx.rows() {
        let Some(a) = c.arrays[b] else { continue };
        if a.is_null(r) {
            continue;
        }
        if !matches!(
            a.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) || number(a.as_ref(), r).is_none()
        {
            return false;
        }
        any = true;
    }
    any
}

/// Plain rows: one point per row and y field.
fn plain_rows(spec: &ChartSpec, columns: &[Column], cx: &Cells) -> Result<ChartData, String> {
    let numeric: Vec<bool> = columns
        .iter()
        .map(|c| c.is_typed_number() || numeric_text(c, cx))
        .collect();
    let is_num = |c: &Column| {
        columns
            .iter()
            .position(|d| d.name == c.name)
            .is_some_and(|i| numeric[i])
    };
    let excluded = |c: &Column| spec.series.contains(&c.name) || spec.ycolumns.contains(&c.name);
    let x = match &spec.xcolumn {
        Some(x) => columns.iter().find(|c| &c.name == x),
        None => columns
            .iter()
            .find(|c| !is_num(c) && !excluded(c))
            .or_else(|| columns.iter().find(|c| !excluded(c))),
    };
    let ys: Vec<&Column> = if spec.ycolumns.is_empty() {
        columns
            .iter()
            .filter(|c| {
                is_num(c)
                    && Some(c.name.as_str()) != x.map(|x| x.name.as_str())
                    && !spec.series.contains(&c.name)
            })
            .collect()
    } else {
        spec.ycolumns
            .iter()
            .filter_map(|y| columns.iter().find(|c| &c.name == y))
            .collect()
    };
    if ys.is_empty() {
        return Err(format!(
            "no numeric field to chart (fields: {}); name them with `with (ycolumns = ...)`",
            columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let series_cols: Vec<&Column> = spec
        .series
        .iter()
        .filter_map(|s| columns.iter().find(|c| &c.name == s))
        .collect();
    // The x axis: time, numbers or categories.
    let axis = match x {
        None => XAxis::Number,
        Some(c) if c.is_timestamp() || c.name == TS || c.name == "__time__" => XAxis::Time,
        Some(c) if c.is_typed_number() => XAxis::Number,
        Some(c) => {
            let texts: Vec<String> = cx.rows().filter_map(|(b, r)| cx.text(c, b, r)).collect();
            if !texts.is_empty() && texts.iter().all(|t| time_text(t).is_some()) {
                XAxis::Time
            } else if is_num(c) {
                XAxis::Number
            } else {
                XAxis::Category(Vec::new())
            }
        }
    };
    let xtitle = x.map(|c| c.name.clone()).unwrap_or_else(|| "row".into());
    let ytitle = ys
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut data = base(spec, axis, xtitle, ytitle);
    let mut categories: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    for (i, (b, r)) in cx.rows().enumerate() {
        let xv = match (x, &data.x) {
            (None, _) => Some(i as f64),
            (Some(c), XAxis::Time) => c.arrays[b].and_then(|a| {
                let a = a.as_ref();
                if c.name == TS && a.data_type().is_numeric() {
                    number(a, r).map(|v| v / 1e9)
                } else if a.data_type().is_numeric()
                    || matches!(a.data_type(), DataType::Timestamp(_, _))
                {
                    number(a, r)
                } else {
                    cx.text(c, b, r).as_deref().and_then(time_text)
                }
            }),
            (Some(c), XAxis::Number) => c.arrays[b].and_then(|a| number(a.as_ref(), r)),
            (Some(c), XAxis::Category(_)) => {
                let t = cx.text(c, b, r).unwrap_or_default();
                let n = categories.len();
                let k = *index.entry(t.clone()).or_insert(n);
                if k == n {
                    categories.push(t);
                }
                Some(k as f64)
            }
        };
        let Some(xv) = xv else { continue };
        let label: Vec<String> = series_cols
            .iter()
            .filter_map(|s| cx.text(s, b, r))
            .collect();
        for y in &ys {
            let Some(v) = y.arrays[b].and_then(|a| number(a.as_ref(), r)) else {
                continue;
            };
            let name = series_name(&label, &y.name, ys.len());
            let k = match by_name.get(&name) {
                Some(k) => *k,
                None => {
                    data.series.push(Series {
                        name: name.clone(),
                        points: Vec::new(),
                    });
                    by_name.insert(name, data.series.len() - 1);
                    data.series.len() - 1
                }
            };
            data.series[k].points.push((xv, v));
        }
    }
    if let XAxis::Category(c) = &mut data.x {
        *c = categories;
    }
    if data.series.is_empty() {
        for y in ys {
            data.series.push(Series {
                name: y.name.clone(),
                points: Vec::new(),
            });
        }
    }
    Ok(data)
}

/// Bar, column and pie charts plot categories: time and number x values become labels, in
/// ascending order.
fn to_categories(data: &mut ChartData) {
    let time = match &data.x {
        XAxis::Category(_) => return,
        XAxis::Time => true,
        XAxis::Number => false,
    };
    let mut xs: Vec<f64> = data
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    // Time labels show seconds only when some time has them, the date when the times span a
    // day or more.
    let span = xs.last().copied().unwrap_or(0.0) - xs.first().copied().unwrap_or(0.0);
    let seconds = xs.iter().any(|x| x.rem_euclid(60.0) != 0.0);
    let format = match (span >= 86400.0, seconds) {
        (true, true) => "%m-%d %H:%M:%S",
        (true, false) => "%m-%d %H:%M",
        (false, true) => "%H:%M:%S",
        (false, false) => "%H:%M",
    };
    let labels = xs
        .iter()
        .map(
            |&x| match chrono::DateTime::from_timestamp_millis((x * 1e3).round() as i64) {
                Some(t) if time => t.format(format).to_string(),
                _ => spl_engine::render::format_double(x),
            },
        )
        .collect();
    for s in &mut data.series {
        for p in &mut s.points {
            p.0 = xs.partition_point(|&v| v < p.0) as f64;
        }
    }
    data.x = XAxis::Category(labels);
}

/// A time label for unix seconds, as precise as a range `span` (seconds) needs (UTC).
pub fn time_label(secs: f64, span: f64) -> String {
    let Some(t) = chrono::DateTime::from_timestamp_millis((secs * 1e3).round() as i64) else {
        return spl_engine::render::format_double(secs);
    };
    let format = if span >= 2.0 * 86400.0 {
        "%m-%d %H:%M"
    } else if span >= 120.0 {
        "%H:%M"
    } else {
        "%H:%M:%S"
    };
    t.format(format).to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Builder, Int64Array, ListBuilder, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let schema = Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|c| c.1).collect()).unwrap()
    }

    fn text(v: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    fn lists(rows: &[&[Option<f64>]]) -> ArrayRef {
        let mut b = ListBuilder::new(Float64Builder::new());
        for r in rows {
            for v in *r {
                b.values().append_option(*v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }

    fn spec(kind: ChartKind) -> ChartSpec {
        ChartSpec::of_kind(kind)
    }

    fn build_one(spec: &ChartSpec, b: RecordBatch) -> Result<ChartData, String> {
        build(spec, &[b], &Renderer::default())
    }

    #[test]
    fn series_rows_are_one_series_per_row_named_by_their_tags() {
        let ns = 1_000_000_000.0;
        let b = batch(vec![
            ("uri", text(&["/a", "/b"])),
            (
                "__ts__",
                lists(&[
                    &[Some(60.0 * ns), Some(120.0 * ns)],
                    &[Some(60.0 * ns), Some(120.0 * ns)],
                ]),
            ),
            ("lat", lists(&[&[Some(1.0), None], &[Some(2.0), Some(3.0)]])),
        ]);
        let d = build_one(&spec(ChartKind::Line), b).unwrap();
        assert_eq!(d.x, XAxis::Time);
        assert_eq!(d.series.len(), 2);
        assert_eq!(d.series[0].name, "/a");
        // The missing point is no point; x is in seconds.
        assert_eq!(d.series[0].points, vec![(60.0, 1.0)]);
        assert_eq!(d.series[1].points, vec![(60.0, 2.0), (120.0, 3.0)]);
        assert!(d.legend);
    }

    #[test]
    fn plain_rows_find_x_and_numeric_text_y() {
        let b = batch(vec![
            ("t", text(&["2023-11-14 22:00:00", "2023-11-14 22:01:00"])),
            ("host", text(&["h1", "h1"])),
            ("n", text(&["3", "4.5"])),
        ]);
        let d = build_one(&spec(ChartKind::Line), b.clone()).unwrap();
        assert_eq!(d.x, XAxis::Time);
        assert_eq!(d.xtitle, "t");
        assert_eq!(d.series.len(), 1);
        assert_eq!(d.series[0].name, "n");
        assert_eq!(
            d.series[0].points,
            vec![(1699999200.0, 3.0), (1699999260.0, 4.5)]
        );
        assert!(!d.legend, "one series: no legend");
        // A column chart makes the times categories.
        let d = build_one(&spec(ChartKind::Column), b).unwrap();
        assert_eq!(d.x, XAxis::Category(vec!["22:00".into(), "22:01".into()]));
        assert_eq!(d.series[0].points, vec![(0.0, 3.0), (1.0, 4.5)]);
    }

    #[test]
    fn series_property_splits_points() {
        let b = batch(vec![
            ("x", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            ("k", text(&["a", "b", "a"])),
            (
                "v",
                Arc::new(Int64Array::from(vec![10, 20, 30])) as ArrayRef,
            ),
        ]);
        let mut s = spec(ChartKind::Scatter);
        s.xcolumn = Some("x".into());
        s.series = vec!["k".into()];
        let d = build_one(&s, b).unwrap();
        assert_eq!(d.x, XAxis::Number);
        let names: Vec<&str> = d.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(d.series[0].points, vec![(1.0, 10.0), (3.0, 30.0)]);
    }

    #[test]
    fn nothing_to_draw_says_why() {
        let b = batch(vec![("content", text(&["x", "y"]))]);
        let e = build_one(&spec(ChartKind::Line), b.clone()).unwrap_err();
        assert!(
            e.contains("no numeric field") && e.contains("content"),
            "{e}"
        );
        let mut s = spec(ChartKind::Line);
        s.ycolumns = vec!["nope".into()];
        assert!(build_one(&s, b.clone())
            .unwrap_err()
            .contains("`nope` is not a field"));
        let mut s = spec(ChartKind::Line);
        s.ycolumns = vec!["content".into()];
        assert!(build_one(&s, b).unwrap_err().contains("no numeric values"));
        assert!(build(&spec(ChartKind::Pie), &[], &Renderer::default())
            .unwrap_err()
            .contains("no rows"));
    }

    #[test]
    fn many_categories_are_cut_with_a_note() {
        let keys: Vec<String> = (0..300).map(|i| format!("k{i:03}")).collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let b = batch(vec![
            ("k", text(&refs)),
            (
                "v",
                Arc::new(Int64Array::from((0..300).collect::<Vec<i64>>())) as ArrayRef,
            ),
        ]);
        let d = build_one(&spec(ChartKind::Bar), b).unwrap();
        assert!(matches!(&d.x, XAxis::Category(l) if l.len() == MAX_CATEGORIES));
        assert_eq!(d.series[0].points.len(), MAX_CATEGORIES);
        assert_eq!(d.notes.len(), 1);
    }
}

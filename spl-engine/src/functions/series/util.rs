//! Shared plumbing of the time-series functions: argument coercion (series → `ARRAY(DOUBLE)`,
//! time axes → `ARRAY(BIGINT)`), typed row readers, the JSON result column, option parsing,
//! and the small numeric helpers every analysis needs (gap filling, robust location/scale,
//! least-squares line, autocorrelation period detection).
//!
//! The helpers are hand-written on purpose: each is a few lines of textbook statistics (median,
//! MAD, ordinary least squares, the sample autocorrelation function), where a dependency would
//! cost more build time than it saves code. The heavy numerics (STL/MSTL decomposition, ETS
//! fitting, DBSCAN) come from the `stlrs` and `augurs` crates.
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, LargeStringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion_common::{exec_err, plan_err, Result};
use serde_json::{Map, Value};

use crate::functions::common::{is_string_type, spend};

/// Most points one series may have (longer series are a row error, not a long computation).
pub(crate) const MAX_POINTS: usize = 100_000;

/// `ARRAY(DOUBLE)`, the type every series argument is coerced to.
pub(crate) fn series_type() -> DataType {
    DataType::new_list(DataType::Float64, true)
}

/// `ARRAY(BIGINT)`, the type of a time axis (`__ts__`).
pub(crate) fn ts_type() -> DataType {
    DataType::new_list(DataType::Int64, true)
}

/// `ARRAY(ARRAY(DOUBLE))`: a group of series.
pub(crate) fn series_group_type() -> DataType {
    DataType::new_list(series_type(), true)
}

/// The element type of a list type, `None` for other types.
pub(crate) fn list_elem(t: &DataType) -> Option<&DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type())
        }
        _ => None,
    }
}

fn is_number(t: &DataType) -> bool {
    t == &DataType::Null || t.is_numeric()
}

/// True when `t` can be a series argument (an array of numbers, or NULL).
pub(crate) fn is_series(t: &DataType) -> bool {
    t == &DataType::Null || list_elem(t).is_some_and(is_number)
}

/// True when `t` is an array of series (an array of arrays of numbers).
pub(crate) fn is_series_group(t: &DataType) -> bool {
    list_elem(t).is_some_and(|e| e != &DataType::Null && is_series(e))
}

/// Coerces a series argument at `pos` (1-based in the message).
pub(crate) fn coerce_series(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if is_series(t) {
        Ok(series_type())
    } else {
        plan_err!("{name}: argument {pos} must be an ARRAY of numbers (a series), got {t}")
    }
}

/// Coerces a group-of-series argument.
pub(crate) fn coerce_series_group(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if t == &DataType::Null || is_series_group(t) {
        Ok(series_group_type())
    } else {
        plan_err!(
            "{name}: argument {pos} must be an ARRAY of series (ARRAY(ARRAY(DOUBLE))), got {t}"
        )
    }
}

/// Coerces a time-axis argument (`__ts__`, unix nanoseconds).
pub(crate) fn coerce_ts(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    match list_elem(t) {
        _ if t == &DataType::Null => Ok(ts_type()),
        Some(e) if e == &DataType::Null || e.is_integer() => Ok(ts_type()),
        _ => plan_err!("{name}: argument {pos} must be the time axis ARRAY(BIGINT), got {t}"),
    }
}

/// Coerces an integer argument.
pub(crate) fn coerce_int(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if t == &DataType::Null || t.is_integer() {
        Ok(DataType::Int64)
    } else {
        plan_err!("{name}: argument {pos} must be BIGINT, got {t}")
    }
}

/// Coerces a VARCHAR argument (options as JSON text, a method name).
pub(crate) fn coerce_str(name: &str, pos: usize, t: &DataType) -> Result<DataType> {
    if t == &DataType::Null || is_string_type(t) {
        Ok(DataType::Utf8View)
    } else {
        plan_err!("{name}: argument {pos} must be VARCHAR, got {t}")
    }
}

/// Row reader of an `ARRAY(DOUBLE)` column: NULL and NaN points read as missing (`None`).
pub(crate) struct SeriesCol {
    list: arrow::array::ListArray,
    values: Float64Array,
}

impl SeriesCol {
    pub(crate) fn new(a: &ArrayRef) -> Result<Self> {
        let a = cast(a, &series_type())?;
        let list = a.as_list::<i32>().clone();
        let values = cast(list.values(), &DataType::Float64)?
            .as_primitive::<Float64Type>()
            .clone();
        Ok(SeriesCol { list, values })
    }

    /// The points of row `i`; `None` for a NULL array.
    pub(crate) fn get(&self, name: &str, i: usize) -> Result<Option<Vec<Option<f64>>>> {
        if self.list.is_null(i) {
            return Ok(None);
        }
        let o = self.list.value_offsets();
        let (start, end) = (o[i] as usize, o[i + 1] as usize);
        if end - start > MAX_POINTS {
            return exec_err!(
                "{name}: a series has {} points, more than the {MAX_POINTS} allowed",
                end - start
            );
        }
        spend(end - start, 0)?;
        Ok(Some(
            (start..end)
                .map(|j| {
                    (self.values.is_valid(j) && self.values.value(j).is_finite())
                        .then(|| self.values.value(j))
                })
                .collect(),
        ))
    }
}

/// Row reader of an `ARRAY(BIGINT)` column (a time axis).
pub(crate) struct TsCol {
    list: arrow::array::ListArray,
    values: Int64Array,
}

impl TsCol {
    pub(crate) fn new(a: &ArrayRef) -> Result<Self> {
        let a = cast(a, &ts_type())?;
        let list = a.as_list::<i32>().clone();
        let values = cast(list.values(), &DataType::Int64)?
            .as_primitive::<Int64Type>()
            .clone();
        Ok(TsCol { list, values })
    }

    /// The timestamps of row `i`; `None` for a NULL array.
    pub(crate) fn get(&self, i: usize) -> Option<Vec<Option<i64>>> {
        if self.list.is_null(i) {
            return None;
        }
        let o = self.list.value_offsets();
        let (start, end) = (o[i] as usize, o[i + 1] as usize);
        Some(
            (start..end)
                .map(|j| self.values.is_valid(j).then(|| self.values.value(j)))
                .collect(),
        )
    }
}

/// The time axis of row `i` for a series of `len` points, when the call has one (`ts`):
/// `Ok(None)` when the row's axis is NULL (the result is NULL), an error when its length differs.
pub(crate) fn axis_of(
    name: &str,
    ts: Option<&TsCol>,
    i: usize,
    len: usize,
) -> Result<Option<Option<Vec<Option<i64>>>>> {
    let Some(c) = ts else {
        return Ok(Some(None));
    };
    match c.get(i) {
        None => Ok(None),
        Some(t) if t.len() != len => exec_err!(
            "{name}: the time axis has {} points but the series has {len}",
            t.len()
        ),
        Some(t) => Ok(Some(Some(t))),
    }
}

/// Row reader of an `ARRAY(ARRAY(DOUBLE))` column.
pub(crate) struct GroupCol {
    outer: arrow::array::ListArray,
    inner: SeriesCol,
}

impl GroupCol {
    pub(crate) fn new(a: &ArrayRef) -> Result<Self> {
        let a = cast(a, &series_group_type())?;
        let outer = a.as_list::<i32>().clone();
        let inner = SeriesCol::new(outer.values())?;
        Ok(GroupCol { outer, inner })
    }

    /// The series of row `i` (a NULL member reads as `None`); `None` for a NULL array.
    #[allow(clippy::type_complexity)]
    pub(crate) fn get(
        &self,
        name: &str,
        i: usize,
    ) -> Result<Option<Vec<Option<Vec<Option<f64>>>>>> {
        if self.outer.is_null(i) {
            return Ok(None);
        }
        let o = self.outer.value_offsets();
        let (start, end) = (o[i] as usize, o[i + 1] as usize);
        (start..end)
            .map(|j| self.inner.get(name, j))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}

/// The JSON result column (`LargeUtf8`, the engine's JSON type) of per-row objects.
pub(crate) fn json_column(rows: Vec<Option<Value>>) -> ArrayRef {
    let mut b = LargeStringBuilder::with_capacity(rows.len(), 0);
    for r in rows {
        match r {
            Some(v) => b.append_value(v.to_string()),
            None => b.append_null(),
        }
    }
    Arc::new(b.finish())
}

/// Options given as a JSON object in VARCHAR (`'{"period": 24}'`); NULL or `''` means none.
pub(crate) fn options(name: &str, text: Option<&str>) -> Result<Map<String, Value>> {
    match text.map(str::trim) {
        None | Some("") => Ok(Map::new()),
        Some(t) => match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => exec_err!("{name}: options must be a JSON object, got {t}"),
            Err(e) => exec_err!("{name}: options are not valid JSON ({e}): {t}"),
        },
    }
}

/// A numeric option; an error when present but not a number.
pub(crate) fn opt_f64(name: &str, o: &Map<String, Value>, key: &str) -> Result<Option<f64>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(v) => Ok(Some(v)),
            Err(_) => exec_err!("{name}: option {key} must be a number, got {s:?}"),
        },
        Some(v) => exec_err!("{name}: option {key} must be a number, got {v}"),
    }
}

/// A non-negative integer option.
pub(crate) fn opt_usize(name: &str, o: &Map<String, Value>, key: &str) -> Result<Option<usize>> {
    match opt_f64(name, o, key)? {
        None => Ok(None),
        Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= 1e9 => Ok(Some(v as usize)),
        Some(v) => exec_err!("{name}: option {key} must be a non-negative integer, got {v}"),
    }
}

/// Rejects options this function does not know (a typo should not be silently ignored).
pub(crate) fn known_options(name: &str, o: &Map<String, Value>, known: &[&str]) -> Result<()> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => exec_err!("{name}: unknown option {k:?} (known: {})", known.join(", ")),
        None => Ok(()),
    }
}

/// The series with its missing points filled: linear interpolation between known neighbours,
/// the nearest known value at the ends. `None` when no point is known.
pub(crate) fn fill_gaps(points: &[Option<f64>]) -> Option<Vec<f64>> {
    let known: Vec<usize> = (0..points.len()).filter(|&i| points[i].is_some()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let mut out = vec![0.0; points.len()];
    let v = |i: usize| points[i].unwrap_or(0.0);
    for o in out.iter_mut().take(first + 1) {
        *o = v(first);
    }
    for w in known.windows(2) {
        let (a, b) = (w[0], w[1]);
        for (i, o) in out.iter_mut().enumerate().take(b + 1).skip(a) {
            let t = (i - a) as f64 / (b - a) as f64;
            *o = v(a) + t * (v(b) - v(a));
        }
    }
    for o in out.iter_mut().skip(last) {
        *o = v(last);
    }
    Some(out)
}

/// The median of `v` (0 for an empty slice).
pub(crate) fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// The `q` quantile of `v` with linear interpolation between order statistics (0 when empty).
pub(crate) fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    s[lo] + (pos - lo as f64) * (s[hi] - s[lo])
}

/// Median and scaled median absolute deviation (1.4826·MAD estimates σ for normal data).
pub(crate) fn median_mad(v: &[f64]) -> (f64, f64) {
    let m = median(v);
    let dev: Vec<f64> = v.iter().map(|x| (x - m).abs()).collect();
    (m, 1.4826 * median(&dev))
}

/// Mean and population standard deviation.
pub(crate) fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Ordinary least-squares line through `(i, y[i])`: `(intercept, slope)`.
pub(crate) fn linear_fit(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (y.first().copied().unwrap_or(0.0), 0.0);
    }
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (v - my);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (my - slope * mx, slope)
}

/// Largest lag the period detection considers.
pub(crate) const MAX_PERIOD: usize = 2_000;
/// Smallest autocorrelation that counts as seasonality.
pub(crate) const MIN_ACF: f64 = 0.3;

/// The season length to use for `y`: the one asked for (`Some(0)`: none), or the detected one
/// when none was given. An asked period must leave at least two full cycles.
pub(crate) fn period_of(
    y: &[f64],
    asked: Option<usize>,
) -> std::result::Result<Option<usize>, String> {
    let n = y.len();
    match asked {
        Some(0) => Ok(None),
        Some(p) if p >= 2 && p * 2 <= n => Ok(Some(p)),
        Some(p) => Err(format!(
            "period {p} needs 2 ≤ period ≤ {} (half the points)",
            n / 2
        )),
        None => Ok(detect_period(y).map(|p| p.0)),
    }
}

/// The dominant period of `y` (in points) and its autocorrelation, by the sample
/// autocorrelation function of the linearly detrended series: the lag (2 ≤ lag ≤ n/2, at most
/// [`MAX_PERIOD`]) with the highest local ACF peak, when that peak is at least [`MIN_ACF`].
/// Of peaks within 10% of the best, the shortest lag wins (multiples of a period peak too).
pub(crate) fn detect_period(y: &[f64]) -> Option<(usize, f64)> {
    let n = y.len();
    if n < 8 {
        return None;
    }
    let (a, b) = linear_fit(y);
    let d: Vec<f64> = y
        .iter()
        .enumerate()
        .map(|(i, v)| v - (a + b * i as f64))
        .collect();
    let (mean, _) = mean_std(&d);
    let c: Vec<f64> = d.iter().map(|v| v - mean).collect();
    let c0: f64 = c.iter().map(|v| v * v).sum();
    let varies = c0 > 1e-12 * n as f64;
    if !varies {
        return None;
    }
    let max_lag = (n / 2).min(MAX_PERIOD);
    // One extra lag so that the last candidate can be tested for being a peak.
    let acf: Vec<f64> = (0..=max_lag + 1)
        .map(|k| {
            if k >= n {
                return 0.0;
            }
            c[..n - k]
                .iter()
                .zip(&c[k..])
                .map(|(x, y)| x * y)
                .sum::<f64>()
                / c0
        })
        .collect();
    let peaks: Vec<(usize, f64)> = (2..=max_lag)
        .filter(|&k| acf[k] >= acf[k - 1] && acf[k] >= acf[k + 1] && acf[k] >= MIN_ACF)
        .map(|k| (k, acf[k]))
        .collect();
    let best = peaks.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    peaks.into_iter().find(|p| p.1 >= 0.9 * best)
}

/// Normal quantile for a two-sided significance level `alpha` (e.g. 0.05 → 1.96).
pub(crate) fn z_for_alpha(alpha: f64) -> f64 {
    distrs::Normal::ppf(1.0 - alpha / 2.0, 0.0, 1.0)
}

/// JSON array of optional numbers (`null` where missing or not finite).
pub(crate) fn json_nums(v: impl IntoIterator<Item = Option<f64>>) -> Value {
    Value::Array(
        v.into_iter()
            .map(|x| match x {
                Some(f) if f.is_finite() => Value::from(f),
                _ => Value::Null,
            })
            .collect(),
    )
}

/// JSON array of numbers.
pub(crate) fn json_f64s(v: &[f64]) -> Value {
    json_nums(v.iter().copied().map(Some))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_interpolated_and_ends_extended() {
        let f = fill_gaps(&[None, Some(1.0), None, Some(3.0), None]).unwrap();
        assert_eq!(f, vec![1.0, 1.0, 2.0, 3.0, 3.0]);
        assert!(fill_gaps(&[None, None]).is_none());
        assert!(fill_gaps(&[]).is_none());
    }

    #[test]
    fn robust_statistics() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        let (m, s) = median_mad(&[1.0, 2.0, 3.0, 4.0, 100.0]);
        assert_eq!(m, 3.0);
        assert!((s - 1.4826).abs() < 1e-9);
        assert_eq!(linear_fit(&[1.0, 3.0, 5.0]), (1.0, 2.0));
    }

    #[test]
    fn the_period_of_a_sine_with_trend_is_found() {
        let y: Vec<f64> = (0..200)
            .map(|t| 0.1 * t as f64 + (2.0 * std::f64::consts::PI * t as f64 / 24.0).sin())
            .collect();
        assert_eq!(detect_period(&y).map(|p| p.0), Some(24));
        let flat = vec![1.0; 100];
        assert_eq!(detect_period(&flat), None);
        let line: Vec<f64> = (0..100).map(|t| t as f64).collect();
        assert_eq!(detect_period(&line), None);
    }

    #[test]
    fn series_reader_skips_nan_and_caps_the_length() {
        let ok: ArrayRef = Arc::new(arrow::array::ListArray::from_iter_primitive::<
            Float64Type,
            _,
            _,
        >(vec![
            Some(vec![Some(1.0), None, Some(f64::NAN)]),
            None,
        ]));
        let c = SeriesCol::new(&ok).unwrap();
        assert_eq!(c.get("f", 0).unwrap(), Some(vec![Some(1.0), None, None]));
        assert_eq!(c.get("f", 1).unwrap(), None);
        let big: ArrayRef = Arc::new(arrow::array::ListArray::from_iter_primitive::<
            Float64Type,
            _,
            _,
        >(vec![Some(vec![Some(0.0); MAX_POINTS + 1])]));
        let err = SeriesCol::new(&big).unwrap().get("f", 0).unwrap_err();
        assert!(
            err.to_string().contains("more than the 100000 allowed"),
            "{err}"
        );
    }

    #[test]
    fn alpha_to_z() {
        assert!((z_for_alpha(0.05) - 1.959964).abs() < 1e-4);
    }
}

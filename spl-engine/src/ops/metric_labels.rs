//! The SLS metric row format shared by `log-to-metric` and `metric-to-metric`: a metric row has
//! `__name__` (matching `[a-zA-Z_:][a-zA-Z0-9_:]*`), `__labels__` (`k1#$#v1|k2#$#v2`, keys
//! matching `[a-zA-Z_][a-zA-Z0-9_]*` and sorted, values without `|` or `#$#`), `__time_nano__`
//! (nanoseconds) and `__value__` (DOUBLE). This module validates, normalises (`-format`),
//! parses and encodes those parts, and converts columns to sample values and times.
use std::collections::BTreeMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type, TimestampNanosecondType};

use crate::render::Renderer;

/// The fields of a metric row, in output order.
pub(crate) const NAME: &str = "__name__";
pub(crate) const LABELS: &str = "__labels__";
pub(crate) const TIME_NANO: &str = "__time_nano__";
pub(crate) const VALUE: &str = "__value__";
pub(crate) const METRIC_FIELDS: [&str; 4] = [NAME, LABELS, TIME_NANO, VALUE];

/// Separates the labels in `__labels__`.
const LABEL_SEP: &str = "|";
/// Separates a label's key from its value.
const KV_SEP: &str = "#$#";

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub(crate) fn is_label_key(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `-format` for metric names: every character outside `[a-zA-Z0-9_:]` becomes `_`, and a name
/// starting with a digit gets a leading `_`. `None` for an empty name.
pub(crate) fn normalize_metric_name(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    Some(out)
}

/// True when a label value can be written as is (no `|`, no `#$#`).
pub(crate) fn is_label_value(v: &str) -> bool {
    !v.contains(LABEL_SEP) && !v.contains(KV_SEP)
}

/// `-format` for label values: `#$#` and `|` each become `_`.
pub(crate) fn escape_label_value(v: &str) -> String {
    v.replace(KV_SEP, "_").replace(LABEL_SEP, "_")
}

/// A label value checked for the encoding: as is when valid, escaped with `format`, otherwise
/// the error message.
pub(crate) fn checked_label_value(key: &str, v: &str, format: bool) -> Result<String, String> {
    if is_label_value(v) {
        Ok(v.to_string())
    } else if format {
        Ok(escape_label_value(v))
    } else {
        Err(format!(
            "the value of label `{key}` contains `|` or `#$#` (add -format to replace them with `_`)"
        ))
    }
}

/// A label set, kept sorted by key. A label with an empty value does not exist (as in
/// Prometheus), so setting one removes the key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Labels(BTreeMap<String, String>);

impl Labels {
    /// Parses `k1#$#v1|k2#$#v2`. Strict: any malformed pair, invalid key or repeated key is an
    /// error. Lenient (`-format`): such pairs are dropped (a repeated key keeps the last value)
    /// and values are escaped. Pairs with an empty value are dropped in both modes.
    pub fn parse(text: &str, lenient: bool) -> Result<Labels, String> {
        let mut labels = Labels::default();
        if text.is_empty() {
            return Ok(labels);
        }
        for pair in text.split(LABEL_SEP) {
            let parsed = match pair.split_once(KV_SEP) {
                Some((k, _)) if !is_label_key(k) => Err(format!("invalid label key `{k}`")),
                Some((k, v)) if v.contains(KV_SEP) => {
                    if lenient {
                        Ok((k, escape_label_value(v)))
                    } else {
                        Err(format!("the value of label `{k}` contains `#$#`"))
                    }
                }
                Some((k, _)) if !lenient && labels.0.contains_key(k) => {
                    Err(format!("label `{k}` appears twice"))
                }
                Some((k, v)) => Ok((k, v.to_string())),
                None => Err(format!("`{pair}` is not a `key#$#value` pair")),
            };
            match parsed {
                Ok((k, v)) => labels.set(k, v),
                Err(e) if !lenient => return Err(format!("invalid __labels__: {e}")),
                Err(_) => {}
            }
        }
        Ok(labels)
    }

    /// Sets `key` to `value`; an empty value removes the key.
    pub fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            self.0.remove(key);
        } else {
            self.0.insert(key.to_string(), value);
        }
    }

    pub fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    /// Renames `from` to `to` when `from` exists (replacing any `to`).
    pub fn rename(&mut self, from: &str, to: &str) {
        if let Some(v) = self.0.remove(from) {
            self.0.insert(to.to_string(), v);
        }
    }

    /// `k1#$#v1|k2#$#v2` with keys in byte order; empty text for no labels.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_str(LABEL_SEP);
            }
            out.push_str(k);
            out.push_str(KV_SEP);
            out.push_str(v);
        }
        out
    }
}

/// A sample value from text: a decimal or scientific number, `NaN` or `Inf`/`Infinity` (any
/// case, optional sign), surrounding whitespace ignored. `None` for empty or non-numeric text.
pub(crate) fn parse_value(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Sample values of a column, one per row: numeric types converted to DOUBLE, everything else
/// rendered as text and parsed with [`parse_value`]. `None` where the value is NULL or not a
/// number.
pub(crate) fn sample_values(column: &ArrayRef, renderer: &Renderer) -> Vec<Option<f64>> {
    if column.data_type().is_numeric() {
        if let Ok(c) = arrow::compute::cast(column, &DataType::Float64) {
            return c.as_primitive::<Float64Type>().iter().collect();
        }
    }
    (0..column.len())
        .map(|row| {
            renderer
                .text(column.as_ref(), row)
                .and_then(|t| parse_value(&t))
        })
        .collect()
}

/// Nanoseconds per unit for an integer part of `digits` significant digits: up to 10 digits are
/// seconds, 11–13 milliseconds, 14–16 microseconds, 17–19 nanoseconds.
fn scale_for_digits(digits: usize) -> Result<i64, String> {
    match digits {
        0..=10 => Ok(1_000_000_000),
        11..=13 => Ok(1_000_000),
        14..=16 => Ok(1_000),
        17..=19 => Ok(1),
        _ => Err("more than 19 digits".into()),
    }
}

fn digits_of(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// A Unix timestamp given as an integer in s, ms, µs or ns (by its number of digits), as ns.
pub(crate) fn time_from_integer(v: i64) -> Result<i64, String> {
    let u = u64::try_from(v).map_err(|_| format!("negative timestamp {v}"))?;
    let scale = scale_for_digits(digits_of(u))?;
    v.checked_mul(scale)
        .ok_or_else(|| format!("timestamp {v} is out of range"))
}

/// A Unix timestamp from text: digits with an optional fraction (`1614739608`,
/// `1614739608.25`, `1614739608123`); the unit follows from the digits before the point (see
/// [`time_from_integer`]); a fraction is kept to the nanosecond.
pub(crate) fn time_from_text(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("`{t}` is not a Unix timestamp");
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let significant = int.trim_start_matches('0');
    let scale = scale_for_digits(significant.len())?;
    let whole: i64 = if significant.is_empty() {
        0
    } else {
        significant.parse().map_err(|_| bad())?
    };
    // The fraction in units of `scale` ns: as many digits as `scale` has zeros.
    let places = scale.ilog10() as usize;
    let mut part: i64 = 0;
    for i in 0..places {
        let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        part = part * 10 + d;
    }
    whole
        .checked_mul(scale)
        .and_then(|ns| ns.checked_add(part))
        .ok_or_else(|| format!("timestamp `{t}` is out of range"))
}

/// A Unix timestamp given as a DOUBLE (e.g. `to_unixtime(...)`), unit by the digits of its
/// integer part, as ns.
fn time_from_double(v: f64) -> Result<i64, String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{v}` is not a Unix timestamp"));
    }
    if v >= 1e19 {
        return Err(format!("timestamp {v} is out of range"));
    }
    let whole = v.trunc();
    let scale = scale_for_digits(digits_of(whole as u64))?;
    // The whole part exactly, the fraction rounded to the nanosecond.
    let part = ((v - whole) * scale as f64).round() as i64;
    (whole as i64)
        .checked_mul(scale)
        .and_then(|ns| ns.checked_add(part))
        .ok_or_else(|| format!("timestamp {v} is out of range"))
}

/// Sample times (ns) of a `-time_field` column, one per row: `None` where NULL, an error text
/// where the value is not a timestamp. TIMESTAMP values are instants; integers, doubles and
/// text are Unix timestamps in s, ms, µs or ns (by digit count).
pub(crate) fn sample_times(
    column: &ArrayRef,
    renderer: &Renderer,
) -> Vec<Option<Result<i64, String>>> {
    let rows = 0..column.len();
    match column.data_type() {
        DataType::Timestamp(_, _) => match arrow::compute::cast(column, &crate::types::TIMESTAMP) {
            Ok(c) => {
                let c = c.as_primitive::<TimestampNanosecondType>().clone();
                rows.map(|r| (!c.is_null(r)).then(|| Ok(c.value(r))))
                    .collect()
            }
            Err(e) => rows.map(|_| Some(Err(e.to_string()))).collect(),
        },
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            match arrow::compute::cast(column, &DataType::Float64) {
                Ok(c) => {
                    let c = c.as_primitive::<Float64Type>().clone();
                    rows.map(|r| (!c.is_null(r)).then(|| time_from_double(c.value(r))))
                        .collect()
                }
                Err(e) => rows.map(|_| Some(Err(e.to_string()))).collect(),
            }
        }
        t if t.is_integer() => match arrow::compute::cast(column, &DataType::Int64) {
            Ok(c) => {
                let c = c.as_primitive::<Int64Type>().clone();
                rows.map(|r| (!c.is_null(r)).then(|| time_from_integer(c.value(r))))
                    .collect()
            }
            Err(e) => rows.map(|_| Some(Err(e.to_string()))).collect(),
        },
        _ => rows
            .map(|r| {
                renderer
                    .text(column.as_ref(), r)
                    .map(|t| time_from_text(&t))
            })
            .collect(),
    }
}

/// An integer column (e.g. `__time__`) as Int64 values; all NULL when missing or not integral.
pub(crate) fn int64_values(column: Option<&ArrayRef>, rows: usize) -> Vec<Option<i64>> {
    let Some(c) = column.filter(|c| c.data_type().is_integer()) else {
        return vec![None; rows];
    };
    match arrow::compute::cast(c, &DataType::Int64) {
        Ok(c) => c.as_primitive::<Int64Type>().iter().collect(),
        Err(_) => vec![None; rows],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert!(is_metric_name("http:requests_total"));
        assert!(!is_metric_name("9lives"));
        assert!(!is_metric_name("a.b"));
        assert!(!is_metric_name(""));
        assert!(is_label_key("_host1"));
        assert!(!is_label_key("a:b"));
        assert!(!is_label_key("__tag__:__path__"));
        assert_eq!(normalize_metric_name("a.b-c"), Some("a_b_c".into()));
        assert_eq!(normalize_metric_name("9lives"), Some("_9lives".into()));
        assert_eq!(normalize_metric_name("é"), Some("_".into()));
        assert_eq!(normalize_metric_name(""), None);
    }

    #[test]
    fn labels_round_trip_sorted() {
        let l = Labels::parse("b#$#2|a#$#1", false).unwrap();
        assert_eq!(l.encode(), "a#$#1|b#$#2");
        assert_eq!(Labels::parse("", false).unwrap().encode(), "");
        // Empty values are absent.
        assert_eq!(
            Labels::parse("a#$#|b#$#2", false).unwrap().encode(),
            "b#$#2"
        );
    }

    #[test]
    fn labels_strict_and_lenient() {
        for bad in ["a", "a#$#1|", "a:b#$#1", "a#$#1|a#$#2", "a#$#1#$#2"] {
            assert!(Labels::parse(bad, false).is_err(), "{bad}");
        }
        assert_eq!(Labels::parse("a#$#1|", true).unwrap().encode(), "a#$#1");
        assert_eq!(
            Labels::parse("x|a:b#$#1|c#$#3", true).unwrap().encode(),
            "c#$#3"
        );
        assert_eq!(
            Labels::parse("a#$#1|a#$#2", true).unwrap().encode(),
            "a#$#2"
        );
        assert_eq!(
            Labels::parse("a#$#1#$#2", true).unwrap().encode(),
            "a#$#1_2"
        );
    }

    #[test]
    fn label_values() {
        assert_eq!(escape_label_value("a|b#$#c"), "a_b_c");
        assert!(checked_label_value("k", "a|b", false).is_err());
        assert_eq!(checked_label_value("k", "a|b", true).unwrap(), "a_b");
    }

    #[test]
    fn values() {
        assert_eq!(parse_value(" 12.5 "), Some(12.5));
        assert_eq!(parse_value("1e3"), Some(1000.0));
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_value("abc"), None);
        assert_eq!(parse_value(""), None);
        assert_eq!(parse_value("12ms"), None);
    }

    #[test]
    fn times() {
        let s = 1_614_739_608_000_000_000;
        assert_eq!(time_from_text("1614739608"), Ok(s));
        assert_eq!(time_from_text("1614739608123"), Ok(s + 123_000_000));
        assert_eq!(time_from_text("1614739608123456"), Ok(s + 123_456_000));
        assert_eq!(time_from_text("1614739608123456789"), Ok(s + 123_456_789));
        assert_eq!(time_from_text("1614739608.5"), Ok(s + 500_000_000));
        assert_eq!(time_from_text("1614739608.1234567891"), Ok(s + 123_456_789));
        assert_eq!(time_from_text("0"), Ok(0));
        assert!(time_from_text("-1").is_err());
        assert!(time_from_text("2021-03-03").is_err());
        assert!(time_from_text("12345678901234567890").is_err());
        assert!(time_from_text("9999999999").is_err(), "overflows i64 ns");
        assert_eq!(time_from_integer(1_614_739_608), Ok(s));
        assert_eq!(time_from_double(1_614_739_608.25), Ok(s + 250_000_000));
        assert!(time_from_double(f64::NAN).is_err());
    }
}

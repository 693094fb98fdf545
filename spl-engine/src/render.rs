//! Rendering typed values back to text when they leave SPL (spec §18.4): for text outputs,
//! `pack-fields`, LogGroups and conformance comparisons ([`Renderer::text`]), and the typed JSON
//! form of the CLI's JSON output ([`Renderer::json`]).
//!
//! | type | text |
//! |---|---|
//! | VARCHAR, JSON | as stored (JSON is compact JSON text) |
//! | integers, HUGEINT | decimal digits |
//! | REAL, DOUBLE | shortest text that round-trips; `.0` when integral (`1600333200.0`); exponent form beyond 1e16 or below 1e-5 (`1e300`); `NaN`, `Infinity`, `-Infinity` |
//! | BOOLEAN | `true` / `false` |
//! | TIMESTAMP | `YYYY-MM-DD HH:MM:SS.fff` in the session zone |
//! | DATE | `YYYY-MM-DD` |
//! | VARBINARY | standard base64 |
//! | ARRAY, MAP, ROW | compact JSON (`[1,2]`, `{"a":1}`; a ROW is a JSON array of its values) |
//! | NULL | no value: the field is absent (never the text `null`) |
use arrow::array::{Array, AsArray};
use arrow::datatypes::*;
use base64::Engine;
use serde_json::Value;

use crate::timezone::{format_timestamp, SessionTz};

/// Renders Arrow values as SPL text in a session time zone.
#[derive(Debug, Clone, Default)]
pub struct Renderer {
    tz: SessionTz,
}

impl Renderer {
    pub fn new(tz: SessionTz) -> Renderer {
        Renderer { tz }
    }

    /// The value at `row` as text, or `None` when it is NULL.
    pub fn text(&self, array: &dyn Array, row: usize) -> Option<String> {
        if is_null(array, row) {
            return None;
        }
        Some(match array.data_type() {
            DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
            DataType::LargeUtf8 => array.as_string::<i64>().value(row).to_string(),
            DataType::Utf8View => array.as_string_view().value(row).to_string(),
            DataType::Float32 => {
                format_double(f64::from(array.as_primitive::<Float32Type>().value(row)))
            }
            DataType::Float64 => format_double(array.as_primitive::<Float64Type>().value(row)),
            DataType::Boolean => array.as_boolean().value(row).to_string(),
            DataType::Timestamp(unit, _) => {
                format_timestamp(timestamp_ns(array, *unit, row)?, &self.tz)
            }
            DataType::Date32 => date_text(array.as_primitive::<Date32Type>().value(row)),
            DataType::Binary => base64::engine::general_purpose::STANDARD
                .encode(array.as_binary::<i32>().value(row)),
            DataType::LargeBinary => base64::engine::general_purpose::STANDARD
                .encode(array.as_binary::<i64>().value(row)),
            DataType::BinaryView => {
                base64::engine::general_purpose::STANDARD.encode(array.as_binary_view().value(row))
            }
            DataType::List(_)
            | DataType::LargeList(_)
            | DataType::Map(_, _)
            | DataType::Struct(_) => self.json_value(array, row).to_string(),
            _ => return integer_text(array, row),
        })
    }

    /// Every row of `batch` as a map of field → text, NULL fields left out (conformance
    /// comparisons, tests).
    pub fn rows(
        &self,
        batch: &arrow::record_batch::RecordBatch,
    ) -> Vec<std::collections::BTreeMap<String, String>> {
        let schema = batch.schema();
        (0..batch.num_rows())
            .map(|i| {
                schema
                    .fields()
                    .iter()
                    .zip(batch.columns())
                    .filter_map(|(f, c)| Some((f.name().clone(), self.text(c.as_ref(), i)?)))
                    .collect()
            })
            .collect()
    }

    /// The value at `row` for JSON output: integers, doubles and booleans as JSON numbers and
    /// booleans, everything else as its text (§18.4). `None` when NULL.
    pub fn json(&self, array: &dyn Array, row: usize) -> Option<Value> {
        if is_null(array, row) {
            return None;
        }
        match array.data_type() {
            DataType::Boolean => Some(Value::Bool(array.as_boolean().value(row))),
            DataType::Float32 | DataType::Float64 => {
                let v = match array.data_type() {
                    DataType::Float32 => f64::from(array.as_primitive::<Float32Type>().value(row)),
                    _ => array.as_primitive::<Float64Type>().value(row),
                };
                Some(
                    serde_json::Number::from_f64(v)
                        .map(Value::Number)
                        .unwrap_or_else(|| Value::String(format_double(v))),
                )
            }
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
                Some(Value::Number(integer_i64(array, row)?.into()))
            }
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => {
                Some(Value::Number(integer_u64(array, row)?.into()))
            }
            _ => self.text(array, row).map(Value::String),
        }
    }

    /// A value as a JSON value inside an ARRAY/MAP/ROW rendering (NULL → `null`).
    fn json_value(&self, array: &dyn Array, row: usize) -> Value {
        if is_null(array, row) {
            return Value::Null;
        }
        match array.data_type() {
            DataType::List(_) => {
                let list = array.as_list::<i32>().value(row);
                Value::Array(
                    (0..list.len())
                        .map(|i| self.json_value(list.as_ref(), i))
                        .collect(),
                )
            }
            DataType::LargeList(_) => {
                let list = array.as_list::<i64>().value(row);
                Value::Array(
                    (0..list.len())
                        .map(|i| self.json_value(list.as_ref(), i))
                        .collect(),
                )
            }
            DataType::Map(_, _) => {
                let entries = array.as_map().value(row);
                let (keys, values) = (entries.column(0), entries.column(1));
                let mut obj = serde_json::Map::new();
                for i in 0..entries.len() {
                    let key = self.text(keys.as_ref(), i).unwrap_or_default();
                    obj.insert(key, self.json_value(values.as_ref(), i));
                }
                Value::Object(obj)
            }
            DataType::Struct(_) => {
                let s = array.as_struct();
                Value::Array(
                    s.columns()
                        .iter()
                        .map(|c| self.json_value(c.as_ref(), row))
                        .collect(),
                )
            }
            // JSON values nest as JSON, not as strings holding JSON.
            DataType::LargeUtf8 => {
                let text = array.as_string::<i64>().value(row);
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
            }
            _ => self.json(array, row).unwrap_or(Value::Null),
        }
    }
}

/// NULL test that also covers `NullArray` (which has no validity buffer).
fn is_null(array: &dyn Array, row: usize) -> bool {
    array.data_type() == &DataType::Null || array.is_null(row)
}

/// DOUBLE as text: shortest round-trip form, `.0` when integral, `NaN`, `Infinity`, `-Infinity`.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        // Rust's Debug form is the shortest round-trip text, with `.0` on integral values and
        // exponent notation for very large or small magnitudes.
        format!("{v:?}")
    }
}

fn date_text(days: i32) -> String {
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

fn timestamp_ns(array: &dyn Array, unit: TimeUnit, row: usize) -> Option<i64> {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .checked_mul(1_000_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .checked_mul(1_000_000),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .checked_mul(1_000),
        TimeUnit::Nanosecond => Some(array.as_primitive::<TimestampNanosecondType>().value(row)),
    }
}

fn integer_i64(array: &dyn Array, row: usize) -> Option<i64> {
    Some(match array.data_type() {
        DataType::Int8 => i64::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i64::from(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => i64::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row),
        _ => return None,
    })
}

fn integer_u64(array: &dyn Array, row: usize) -> Option<u64> {
    Some(match array.data_type() {
        DataType::UInt8 => u64::from(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => u64::from(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => u64::from(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row),
        _ => return None,
    })
}

/// Integers and HUGEINT as decimal digits; any other type through Arrow's display.
fn integer_text(array: &dyn Array, row: usize) -> Option<String> {
    if let Some(i) = integer_i64(array, row) {
        return Some(i.to_string());
    }
    if let Some(u) = integer_u64(array, row) {
        return Some(u.to_string());
    }
    if let DataType::Decimal128(_, 0) = array.data_type() {
        return Some(
            array
                .as_primitive::<Decimal128Type>()
                .value(row)
                .to_string(),
        );
    }
    arrow::util::display::array_value_to_string(array, row).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::*;
    use arrow::buffer::OffsetBuffer;

    use super::*;

    fn text(a: &dyn Array) -> Vec<Option<String>> {
        let r = Renderer::default();
        (0..a.len()).map(|i| r.text(a, i)).collect()
    }

    #[test]
    fn scalars_render_per_spec() {
        assert_eq!(
            text(&Int64Array::from(vec![Some(223), None, Some(-5)])),
            vec![Some("223".into()), None, Some("-5".into())]
        );
        assert_eq!(
            text(&Float64Array::from(vec![
                1600333200.0,
                1.5,
                0.1 + 0.2,
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                1e300
            ])),
            [
                "1600333200.0",
                "1.5",
                "0.30000000000000004",
                "NaN",
                "Infinity",
                "-Infinity",
                "1e300"
            ]
            .map(|s| Some(s.to_string()))
        );
        assert_eq!(
            text(&BooleanArray::from(vec![true, false])),
            vec![Some("true".into()), Some("false".into())]
        );
        assert_eq!(
            text(&StringViewArray::from(vec!["a b"])),
            vec![Some("a b".into())]
        );
        assert_eq!(
            text(&LargeStringArray::from(vec![r#"{"a":1}"#])),
            vec![Some(r#"{"a":1}"#.into())]
        );
        assert_eq!(
            text(&BinaryArray::from(vec![b"hi".as_ref()])),
            vec![Some("aGk=".into())]
        );
        assert_eq!(
            text(&Date32Array::from(vec![19_000])),
            vec![Some("2022-01-08".into())]
        );
    }

    #[test]
    fn timestamps_render_in_the_session_zone() {
        let ts = TimestampNanosecondArray::from(vec![1_695_191_402_000_000_000]);
        assert_eq!(
            Renderer::default().text(&ts, 0).as_deref(),
            Some("2023-09-20 06:30:02.000")
        );
        let shanghai = Renderer::new(SessionTz::parse("+08:00").unwrap());
        assert_eq!(
            shanghai.text(&ts, 0).as_deref(),
            Some("2023-09-20 14:30:02.000")
        );
    }

    #[test]
    fn nested_values_render_as_compact_json() {
        let values = Int64Array::from(vec![Some(1), None, Some(3)]);
        let list = ListArray::new(
            Arc::new(Field::new("item", DataType::Int64, true)),
            OffsetBuffer::new(vec![0, 3].into()),
            Arc::new(values),
            None,
        );
        assert_eq!(text(&list), vec![Some("[1,null,3]".into())]);
        let strings = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8View, true)),
            OffsetBuffer::new(vec![0, 2].into()),
            Arc::new(StringViewArray::from(vec!["xh", "xm"])),
            None,
        );
        assert_eq!(text(&strings), vec![Some(r#"["xh","xm"]"#.into())]);
    }

    #[test]
    fn json_output_keeps_numbers_and_booleans_typed() {
        let r = Renderer::default();
        assert_eq!(
            r.json(&Int64Array::from(vec![2]), 0),
            Some(serde_json::json!(2))
        );
        assert_eq!(
            r.json(&Float64Array::from(vec![1.5]), 0),
            Some(serde_json::json!(1.5))
        );
        assert_eq!(
            r.json(&Float64Array::from(vec![f64::NAN]), 0),
            Some(serde_json::json!("NaN"))
        );
        assert_eq!(
            r.json(&BooleanArray::from(vec![true]), 0),
            Some(serde_json::json!(true))
        );
        assert_eq!(
            r.json(&StringViewArray::from(vec!["1"]), 0),
            Some(serde_json::json!("1"))
        );
        assert_eq!(r.json(&Int64Array::from(vec![None::<i64>]), 0), None);
    }
}

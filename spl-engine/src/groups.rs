//! Turning processed rows back into event groups, the way log agents and LogHub store them
//! (spec §2.2, §2.3): fields named `__tag__:<key>` are group-level tags, so the rows of one
//! output are split into one group per distinct combination of tag values (first-seen order,
//! row order kept inside a group), and the tag columns leave the rows. Each row gets an event
//! time: a `__time__` that is NULL, absent, 0 or the reference engine's "time parse failed"
//! sentinel 4294967295 after the pipeline falls back to the batch's input time. Shared by the
//! C ABI (`spl-capi`) and the pushdown server.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::{DataType, Int64Type};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::batch::{retain_columns, set_column};
use crate::render::Renderer;

/// Field names starting with this are group tags.
pub const TAG_PREFIX: &str = "__tag__:";
/// The event time in Unix seconds.
pub const TIME_FIELD: &str = "__time__";
/// The nanosecond part of the event time.
pub const TIME_NS_FIELD: &str = "__time_ns_part__";
/// What the reference engine writes into `__time__` when a time could not be parsed.
pub const TIME_PARSE_FAILED: i64 = 4_294_967_295;

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

/// One event group: its tags and its rows.
#[derive(Debug, Clone)]
pub struct Group {
    /// Tag keys (without the `__tag__:` prefix) and values, in column order. A row whose tag
    /// field is NULL has no such tag.
    pub tags: Vec<(String, String)>,
    /// Every field but the tags; `__time__` and `__time_ns_part__` are non-null Int64 columns.
    pub rows: RecordBatch,
}

/// True for a field that is a group tag.
pub fn is_tag_field(name: &str) -> bool {
    name.starts_with(TAG_PREFIX)
}

/// Splits `batch` into groups by the values of its `__tag__:*` fields (rendered as text per
/// §18.4) after giving every row an event time (see [`with_event_time`]). An empty batch has
/// no groups; a batch without tag fields is one group and is not copied.
pub fn split_by_tags(
    batch: &RecordBatch,
    renderer: &Renderer,
    fallback: EventTime,
) -> Result<Vec<Group>, ArrowError> {
    if batch.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let batch = with_event_time(batch, fallback)?;
    let schema = batch.schema();
    let tag_columns: Vec<(usize, &str)> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| is_tag_field(f.name()))
        .map(|(i, f)| (i, &f.name()[TAG_PREFIX.len()..]))
        .collect();
    let rows = retain_columns(&batch, |_, name| !is_tag_field(name))?;
    if tag_columns.is_empty() {
        return Ok(vec![Group {
            tags: Vec::new(),
            rows,
        }]);
    }
    let values: Vec<Vec<Option<String>>> = tag_columns
        .iter()
        .map(|(i, _)| {
            let column = batch.column(*i);
            (0..batch.num_rows())
                .map(|row| renderer.text(column.as_ref(), row))
                .collect()
        })
        .collect();
    let mut index: HashMap<Vec<Option<&str>>, usize> = HashMap::new();
    let mut members: Vec<(Vec<Option<&str>>, Vec<u32>)> = Vec::new();
    for row in 0..batch.num_rows() {
        let key: Vec<Option<&str>> = values.iter().map(|v| v[row].as_deref()).collect();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            members.push((key, Vec::new()));
            members.len() - 1
        });
        let row = u32::try_from(row)
            .map_err(|_| ArrowError::ComputeError("a batch over 2^32 rows".into()))?;
        members[slot].1.push(row);
    }
    let single = members.len() == 1;
    members
        .into_iter()
        .map(|(key, picked)| {
            let tags = tag_columns
                .iter()
                .zip(key)
                .filter_map(|((_, name), v)| Some((name.to_string(), v?.to_string())))
                .collect();
            let rows = if single {
                rows.clone()
            } else {
                take_record_batch(&rows, &UInt32Array::from(picked))?
            };
            Ok(Group { tags, rows })
        })
        .collect()
}

/// Sets non-null Int64 `__time__` and `__time_ns_part__` on every row: a time that is NULL,
/// absent, 0 or [`TIME_PARSE_FAILED`] becomes `fallback` (both parts); otherwise a missing
/// nanosecond part is 0. Time fields of another type are cast (text that is not an integer
/// counts as NULL).
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
                        .map_or(0, |c| c.value(row)),
                );
            }
            _ => {
                out_s.push(fallback.seconds);
                out_ns.push(fallback.nanos);
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::StringViewArray;
    use arrow::datatypes::{Field, Schema};

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
        let groups = split_by_tags(&b, &Renderer::default(), EventTime::default()).unwrap();
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].tags, vec![("k".to_string(), "x".to_string())]);
        assert_eq!(groups[0].rows.num_rows(), 2);
        assert!(groups[0].rows.column_by_name("__tag__:k").is_none());
        let content = groups[0].rows.column_by_name("content").unwrap();
        assert_eq!(content.as_string_view().value(1), "c");
        assert_eq!(groups[1].tags, vec![("k".to_string(), "y".to_string())]);
        // A NULL tag value means the row has no such tag.
        assert!(groups[2].tags.is_empty());
    }

    #[test]
    fn no_tags_is_one_group_and_empty_is_none() {
        let b = batch(vec![("content", text(vec![Some("a"), Some("b")]))]);
        let groups = split_by_tags(&b, &Renderer::default(), EventTime::default()).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].rows.num_rows(), 2);
        assert!(
            split_by_tags(&b.slice(0, 0), &Renderer::default(), EventTime::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn typed_tag_values_render_as_text() {
        let b = batch(vec![(
            "__tag__:n",
            Arc::new(Int64Array::from(vec![7, 7])) as _,
        )]);
        let groups = split_by_tags(&b, &Renderer::default(), EventTime::default()).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].tags, vec![("n".to_string(), "7".to_string())]);
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
        assert_eq!(ns.values().to_vec(), vec![9, 9, 9, 0]);
        assert_eq!(s.null_count() + ns.null_count(), 0);
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
}

//! Input columns as the engine's field types (docs/decisions.md "Python input columns"): SPL
//! fields are text, so text columns become VARCHAR (Utf8View) as views over the caller's bytes
//! (no copy of the text; a Utf8View column is taken as it is), bytes that are valid UTF-8
//! become text in place (others stay bytes), all-NULL columns are absent fields, dictionaries
//! of text are unpacked; numbers, booleans, dates and times are cast to their Arrow text
//! (a copy, as a log line would have held them as text); `__time__` and `__time_ns_part__` are
//! BIGINT (timestamps as seconds since the epoch). Nested columns (lists, structs, maps) are
//! refused with the field's name.
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef, AsArray, BinaryViewArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, TimeUnit};
use arrow::error::ArrowError;
use spl_engine::batch::{from_columns, is_time_field};

/// `batch` with every column as the engine's type for it.
pub fn to_engine(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    let mut seen = std::collections::HashSet::new();
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (f, column) in schema.fields().iter().zip(batch.columns()) {
        let name = f.name();
        if !seen.insert(name.as_str()) {
            return Err(ArrowError::InvalidArgumentError(format!(
                "field `{name}` appears twice"
            )));
        }
        let column = if is_time_field(name) {
            time_column(column)
        } else {
            text_column(column)
        }
        .map_err(|e| ArrowError::InvalidArgumentError(format!("field `{name}`: {e}")))?;
        fields.push(Field::new(name, column.data_type().clone(), true));
        columns.push(column);
    }
    from_columns(fields, columns, batch.num_rows())
}

/// A column as VARCHAR (or bytes that are not UTF-8), sharing the caller's bytes where the
/// types allow.
fn text_column(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    Ok(match column.data_type() {
        DataType::Utf8View => column.clone(),
        DataType::Utf8 | DataType::LargeUtf8 => cast(column, &DataType::Utf8View)?,
        DataType::Null => new_null_array(&DataType::Utf8View, column.len()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let view: BinaryViewArray = match column.data_type() {
                DataType::BinaryView => column.as_binary_view().clone(),
                _ => cast(column, &DataType::BinaryView)?
                    .as_binary_view()
                    .clone(),
            };
            match view.clone().to_string_view() {
                Ok(text) => Arc::new(text),
                Err(_) => Arc::new(view),
            }
        }
        DataType::Dictionary(_, value) if is_text(value) => cast(column, &DataType::Utf8View)?,
        t if t.is_nested() || matches!(t, DataType::Dictionary(..)) => {
            return Err(ArrowError::InvalidArgumentError(format!(
                "columns of type {t} are not supported (SPL fields are text; give JSON text \
                 and use parse-json or json_extract)"
            )))
        }
        _ => cast(column, &DataType::Utf8View)?,
    })
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// A time field as BIGINT: integers as they are, timestamps as seconds, text parsed (values
/// that are not integers become NULL, as the engine's decoders do).
fn time_column(column: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    match column.data_type() {
        DataType::Int64 => Ok(column.clone()),
        DataType::Timestamp(_, _) => {
            let secs = cast(column, &DataType::Timestamp(TimeUnit::Second, None))?;
            cast(&secs, &DataType::Int64)
        }
        t if t.is_nested() => Err(ArrowError::InvalidArgumentError(format!(
            "a time field cannot be of type {t}"
        ))),
        _ => cast(column, &DataType::Int64),
    }
}

//! Output groups as Arrow struct arrays for the caller. In text mode (the default) every field
//! but the time fields is UTF-8 text (`u`) rendered per spec §18.4, as an agent writes it into
//! a log group, except bytes that are not UTF-8 and that no stage touched, which leave as
//! binary (`z`) unchanged; fields that are NULL in every row of the group are left out. In typed mode the
//! engine's Arrow types are kept. `__time__` is non-null int64 (`l`); `__time_ns_part__` is int64,
//! NULL for a row that has no nanosecond part, as in the engine's groups and on the LogHub wire
//! (docs/decisions.md, "No nanosecond part").
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray, StructArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Fields};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use spl_engine::batch::is_time_field;
use spl_engine::render::Renderer;

/// The rows of a group as one struct array.
pub(crate) fn to_struct(
    rows: &RecordBatch,
    renderer: &Renderer,
    typed: bool,
) -> Result<StructArray, ArrowError> {
    let schema = rows.schema();
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, column) in schema.fields().iter().zip(rows.columns()) {
        let column = if is_time_field(f.name()) || typed {
            Arc::clone(column)
        } else {
            if column.null_count() == column.len() {
                continue;
            }
            text(column, renderer)?
        };
        fields.push(Field::new(f.name(), column.data_type().clone(), true));
        columns.push(column);
    }
    if columns.is_empty() {
        return Ok(StructArray::new_empty_fields(rows.num_rows(), None));
    }
    StructArray::try_new(Fields::from(fields), columns, None)
}

fn text(column: &ArrayRef, renderer: &Renderer) -> Result<ArrayRef, ArrowError> {
    Ok(match column.data_type() {
        DataType::Utf8 => Arc::clone(column),
        DataType::Utf8View | DataType::LargeUtf8 => cast(column, &DataType::Utf8)?,
        // Input bytes no stage touched (engine VARBINARY values are `Binary` and rendered
        // below): text when they are UTF-8, else exported as they came (`z`).
        DataType::BinaryView => {
            let bytes = cast(column, &DataType::Binary)?;
            let utf8 = bytes
                .as_binary::<i32>()
                .iter()
                .all(|v| v.is_none_or(|b| std::str::from_utf8(b).is_ok()));
            if utf8 {
                cast(&bytes, &DataType::Utf8)?
            } else {
                bytes
            }
        }
        _ => Arc::new(
            (0..column.len())
                .map(|i| renderer.text(column.as_ref(), i))
                .collect::<StringArray>(),
        ),
    })
}

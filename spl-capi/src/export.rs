//! Output groups as Arrow struct arrays for the caller. In text mode (the default) every field
//! but the time fields is UTF-8 text (`u`) rendered per spec §18.4, as an agent writes it into
//! a log group; fields that are NULL in every row of the group are left out. In typed mode the
//! engine's Arrow types are kept. `__time__` and `__time_ns_part__` are non-null int64 (`l`).
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringArray, StructArray};
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
        let column = if typed || is_time_field(f.name()) {
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
        _ => Arc::new(
            (0..column.len())
                .map(|i| renderer.text(column.as_ref(), i))
                .collect::<StringArray>(),
        ),
    })
}

/// Concatenates parts of one group whose fields may differ: the union of fields in first-seen
/// order, NULL where a part lacks a field; a field whose type differs between parts is
/// rendered as text in all of them.
pub(crate) fn merge(parts: &[RecordBatch], renderer: &Renderer) -> Result<RecordBatch, ArrowError> {
    match parts {
        [] => {
            return Ok(RecordBatch::new_empty(Arc::new(
                arrow::datatypes::Schema::empty(),
            )))
        }
        [one] => return Ok(one.clone()),
        _ => {}
    }
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<DataType> = Vec::new();
    for part in parts {
        for f in part.schema().fields() {
            match names.iter().position(|n| n == f.name()) {
                Some(i) if types[i] != *f.data_type() => types[i] = DataType::Utf8,
                Some(_) => {}
                None => {
                    names.push(f.name().clone());
                    types.push(f.data_type().clone());
                }
            }
        }
    }
    let schema = Arc::new(arrow::datatypes::Schema::new(
        names
            .iter()
            .zip(&types)
            .map(|(n, t)| Field::new(n, t.clone(), true))
            .collect::<Vec<_>>(),
    ));
    let mut aligned = Vec::with_capacity(parts.len());
    for part in parts {
        let columns = names
            .iter()
            .zip(&types)
            .map(|(n, t)| match part.column_by_name(n) {
                Some(c) if c.data_type() == t => Ok(Arc::clone(c)),
                Some(c) => text(c, renderer),
                None => Ok(arrow::array::new_null_array(t, part.num_rows())),
            })
            .collect::<Result<Vec<_>, ArrowError>>()?;
        aligned.push(RecordBatch::try_new(Arc::clone(&schema), columns)?);
    }
    arrow::compute::concat_batches(&schema, &aligned)
}

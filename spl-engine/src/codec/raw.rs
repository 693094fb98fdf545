//! Raw input: each non-blank line is one event whose only field, `content` (VARCHAR), holds the
//! line without its line end. Lines are stored as views into one copy of the chunk.
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use super::views::TextColumn;
use super::Input;
use crate::batch::from_columns;

/// The field that holds a raw line.
pub const CONTENT: &str = "content";

pub(super) fn decode(input: &mut Input<'_>) -> RecordBatch {
    let chunk = input.chunk;
    let mut column = TextColumn::new();
    let mut shared = input.buffer.clone();
    let mut rows = 0;
    input.for_each_line(|_, line| {
        column.append(&line.text, chunk, &mut shared);
        rows += 1;
    });
    let column: ArrayRef = column.finish();
    let field = Field::new(CONTENT, DataType::Utf8View, true);
    from_columns(vec![field], vec![column], rows)
        .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(arrow::datatypes::Schema::empty())))
}

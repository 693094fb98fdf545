//! Error rows as every host shows them: rows that failed in a stage get back the input fields
//! the decode plan left out ([`with_all_fields`]), so the error stream shows whole rows whatever
//! the plan, and undecodable lines become rows with their text and `__error__`
//! ([`input_error_rows`]).
use std::sync::Arc;

use arrow::array::{ArrayRef, StringViewArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;

use crate::codec::{decode_lines, fill_spliced, is_hidden, InputError};
use crate::pipeline::{error_value, with_error_column, StageError, ERROR_FIELD};

/// Rows decoded with only some fields get the others back from their input line
/// ([`crate::codec::LINE_FIELD`]): the fields the row had when it failed, then the input's other fields.
/// Spliceable rows ([`crate::codec::CUT_FIELD`] set) were decoded with only the fields the pipeline reads,
/// so their NULLs in the batch's other columns are filled from the line too. The hidden
/// columns are left out. Rows without the line column are returned as they are.
pub fn with_all_fields(rows: &RecordBatch) -> RecordBatch {
    let Some(full) = decode_lines(rows) else {
        return rows.clone();
    };
    let filled = fill_spliced(rows, &full);
    let own = filled.schema();
    let mut fields: Vec<Arc<Field>> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (f, c) in own.fields().iter().zip(filled.columns()) {
        if !is_hidden(f.name()) {
            fields.push(f.clone());
            columns.push(c.clone());
        }
    }
    let input = full.schema();
    for (f, c) in input.fields().iter().zip(full.columns()) {
        if own.index_of(f.name()).is_err() {
            fields.push(f.clone());
            columns.push(c.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap_or_else(|_| rows.clone())
}

/// A stage's failed rows as the error stream shows them: every input field
/// ([`with_all_fields`]) and `__error__`.
pub fn stage_error_rows(e: &StageError) -> Result<RecordBatch, ArrowError> {
    let e = StageError {
        rows: with_all_fields(&e.rows),
        code: e.code,
        message: e.message.clone(),
        statement: e.statement,
        stage: e.stage,
        instruction: e.instruction,
    };
    with_error_column(&e)
}

/// Undecodable lines as error rows: the line text in `content`, the error in `__error__`.
pub fn input_error_rows(errors: &[InputError]) -> Result<RecordBatch, ArrowError> {
    let content: ArrayRef = Arc::new(StringViewArray::from_iter_values(
        errors.iter().map(|e| e.text.as_str()),
    ));
    let error: ArrayRef = Arc::new(StringViewArray::from_iter_values(errors.iter().map(|e| {
        error_value(
            spl_parser::codes::MALFORMED_INPUT.id,
            0,
            0,
            "input",
            Some(e.line),
            &e.message,
        )
    })));
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("content", DataType::Utf8View, true),
            Field::new(ERROR_FIELD, DataType::Utf8View, true),
        ])),
        vec![content, error],
    )
}

//! How `spl run` presents output rows (`-o json|raw|table|csv`), values rendered per spec §18.4;
//! a NULL is an absent field. JSON and raw lines are the engine's
//! ([`spl_engine::codec::Encoder`]; the executor encodes them on its worker threads). The
//! presentation formats, whose output of a batch depends on earlier batches, live here:
//!
//! | format | output | file |
//! |---|---|---|
//! | json | one object per line (the engine's encoder) | — |
//! | raw | the `content` field per line (the engine's encoder) | — |
//! | csv | RFC 4180 under the header of the first batch with rows | `csv.rs` |
//! | table | aligned columns under a header, in blocks | `table.rs` |
//!
//! The engine's hidden input-line column ([`spl_engine::codec::LINE_FIELD`]) is never shown.
mod csv;
mod table;

use std::borrow::Cow;
use std::io::Write;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
#[cfg(test)]
use spl_engine::codec::LINE_FIELD;
use spl_engine::codec::{is_hidden, Encoder, LineFormat, RowEncoder, SpliceSpec};
use spl_engine::render::Renderer;

use csv::CsvWriter;
use table::{TableWriter, TABLE_BLOCK_ROWS, TABLE_MAX_WIDTH};

/// The output formats of `spl run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Table,
    Csv,
    Raw,
}

/// Writes the batches of one output in one format. Not shared between threads: one writer
/// owns it (json and raw hand the executor a [`RowEncoder`] for its workers instead).
#[derive(Debug)]
pub enum Presenter {
    /// JSON or raw lines, from the engine's encoder.
    Lines(Encoder),
    Csv(CsvWriter),
    Table(TableWriter),
}

impl Presenter {
    /// A presenter for `format`. `input_lines` (JSON only): write rows that carry their input
    /// line as that line ([`Encoder::with_input_lines`]).
    pub fn new(format: OutputFormat, renderer: Renderer, input_lines: bool) -> Presenter {
        match format {
            OutputFormat::Json => Presenter::Lines(
                Encoder::new(LineFormat::Json, renderer).with_input_lines(input_lines),
            ),
            OutputFormat::Raw => Presenter::Lines(Encoder::new(LineFormat::Raw, renderer)),
            OutputFormat::Csv => Presenter::Csv(CsvWriter::new(renderer)),
            OutputFormat::Table => Presenter::Table(TableWriter::new(
                renderer,
                TABLE_BLOCK_ROWS,
                TABLE_MAX_WIDTH,
            )),
        }
    }

    /// JSON: write rows that carry a splice from their input line ([`Encoder::with_splice`]).
    pub fn with_splice(self, edit: Option<&SpliceSpec>) -> Presenter {
        match self {
            Presenter::Lines(e) => Presenter::Lines(e.with_splice(edit)),
            other => other,
        }
    }

    /// Writes the rows of `batch` (the table format may keep them for its current block).
    pub fn write_batch(&mut self, batch: &RecordBatch, out: &mut dyn Write) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(batch.num_rows() * 64);
        match self {
            Presenter::Lines(encoder) => return encoder.write_batch(batch, out),
            Presenter::Csv(csv) => csv.write_batch(&without_line_field(batch), &mut buf),
            Presenter::Table(table) => table.write_batch(&without_line_field(batch), &mut buf),
        }
        out.write_all(&buf)
    }

    /// A stateless copy for the executor's worker threads, for the formats whose output of a
    /// batch does not depend on earlier batches (json, raw); `None` for csv and table.
    pub fn row_encoder(&self) -> Option<RowEncoder> {
        match self {
            Presenter::Lines(encoder) => Some(encoder.row_encoder()),
            Presenter::Csv(_) | Presenter::Table(_) => None,
        }
    }

    /// Writes what is still buffered (the last table block; a CSV header when no row came)
    /// and flushes `out`.
    pub fn finish(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut buf = Vec::new();
        match self {
            Presenter::Lines(_) => {}
            Presenter::Csv(csv) => csv.finish(&mut buf),
            Presenter::Table(table) => table.finish(&mut buf),
        }
        out.write_all(&buf)?;
        out.flush()
    }

    /// Messages for the user about output that could not be written as asked (CSV fields that
    /// appeared after the header), each given once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        match self {
            Presenter::Csv(csv) => csv.take_warnings(),
            Presenter::Lines(_) | Presenter::Table(_) => Vec::new(),
        }
    }
}

/// The batch without the engine's hidden columns (its input lines and splices).
fn without_line_field(batch: &RecordBatch) -> Cow<'_, RecordBatch> {
    let schema = batch.schema_ref();
    if !schema.fields().iter().any(|f| is_hidden(f.name())) {
        return Cow::Borrowed(batch);
    }
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| !is_hidden(schema.field(i).name()))
        .collect();
    // Projecting existing columns by index cannot fail.
    Cow::Owned(batch.project(&keep).unwrap_or_else(|_| batch.clone()))
}

/// A value as text, borrowed for text columns; `None` when NULL.
fn text<'a>(renderer: &Renderer, column: &'a dyn Array, row: usize) -> Option<Cow<'a, str>> {
    // A NULL-typed column has no validity buffer: every row is NULL.
    if column.data_type() == &DataType::Null || column.is_null(row) {
        return None;
    }
    match column.data_type() {
        DataType::Utf8View => Some(column.as_string_view().value(row).into()),
        DataType::Utf8 => Some(column.as_string::<i32>().value(row).into()),
        DataType::LargeUtf8 => Some(column.as_string::<i64>().value(row).into()),
        _ => renderer.text(column, row).map(Into::into),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int64Array, LargeStringArray, NullArray,
        StringViewArray, TimestampNanosecondArray,
    };
    use arrow::datatypes::{Field, Schema};

    use super::*;

    pub fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
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

    pub fn text_col(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(values.to_vec()))
    }

    /// One row of every rendering kind, and one mostly NULL.
    pub fn typed_batch() -> RecordBatch {
        batch(vec![
            ("msg", text_col(&[Some("hi \"there\""), None])),
            ("n", Arc::new(Int64Array::from(vec![Some(5), Some(-1)]))),
            (
                "f",
                Arc::new(Float64Array::from(vec![Some(1.5), Some(2.0)])),
            ),
            ("ok", Arc::new(BooleanArray::from(vec![Some(true), None]))),
            (
                "j",
                Arc::new(LargeStringArray::from(vec![Some(r#"{"a":1}"#), None])),
            ),
            (
                "ts",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(1_695_191_402_000_000_000),
                    None,
                ])),
            ),
        ])
    }

    /// Everything `format` writes for `batches`, finish included.
    pub fn present(format: OutputFormat, batches: &[RecordBatch]) -> String {
        let mut p = Presenter::new(format, Renderer::default(), false);
        let mut out = Vec::new();
        for b in batches {
            p.write_batch(b, &mut out).unwrap();
        }
        p.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_and_raw_come_from_the_engine_encoder_and_encode_on_workers() {
        let b = typed_batch();
        for format in [OutputFormat::Json, OutputFormat::Raw] {
            let p = Presenter::new(format, Renderer::default(), false);
            let rows = p
                .row_encoder()
                .expect("json and raw encode on worker threads");
            let mut encoded = spl_engine::codec::EncodedRows::default();
            rows.encode(&b, &mut encoded).unwrap();
            assert_eq!(
                String::from_utf8(encoded.bytes).unwrap(),
                present(format, std::slice::from_ref(&b))
            );
        }
        assert!(
            Presenter::new(OutputFormat::Csv, Renderer::default(), false)
                .row_encoder()
                .is_none()
        );
        assert!(
            Presenter::new(OutputFormat::Table, Renderer::default(), false)
                .row_encoder()
                .is_none()
        );
    }

    #[test]
    fn the_hidden_input_line_column_is_never_shown() {
        let b = batch(vec![
            ("a", text_col(&[Some("x")])),
            (LINE_FIELD, text_col(&[Some(r#"{"a":"x"}"#)])),
        ]);
        assert_eq!(
            present(OutputFormat::Csv, std::slice::from_ref(&b)),
            "a\nx\n"
        );
        assert_eq!(present(OutputFormat::Table, &[b]), "a\n-\nx\n");
    }

    #[test]
    fn null_typed_columns_are_absent_values() {
        let b = batch(vec![
            ("a", text_col(&[Some("x")])),
            ("z", Arc::new(NullArray::new(1))),
        ]);
        assert_eq!(
            present(OutputFormat::Csv, std::slice::from_ref(&b)),
            "a,z\nx,\n"
        );
        assert_eq!(present(OutputFormat::Table, &[b]), "a  z\n-  -\nx\n");
    }
}

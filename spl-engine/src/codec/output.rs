//! The engine's output codec: event batches to JSON lines or raw lines, values rendered per
//! spec §18.4 ([`Renderer`]); a NULL is an absent field. Neither format needs state from earlier
//! batches, so the executor encodes on its worker threads ([`RowEncoder`]). Presentation formats
//! that do (an aligned table, CSV with one header) belong to the hosts: the `spl` CLI has them.
//!
//! | format | output |
//! |---|---|
//! | json | one object per line, fields in column order, NULL fields left out; BIGINT/DOUBLE/BOOLEAN as JSON numbers/booleans, everything else (JSON-typed values and timestamps included) as strings; with [`Encoder::with_input_lines`], a row that carries its input line is written as that line |
//! | raw | the `content` field as it is; a row without `content` as a JSON object (as in json) |
//!
//! The hidden [`super::LINE_FIELD`] column is never written as a field.
use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use super::splice::{write_kept, Cut};
use crate::render::Renderer;

/// The line formats the engine encodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// One JSON object per row.
    Json,
    /// The `content` field per row (JSON for rows without it).
    Raw,
}

/// Writes batches as JSON or raw lines. Each batch is encoded on its own, so the output of a
/// stream is the concatenation of its batches' outputs.
#[derive(Debug, Clone)]
pub struct Encoder {
    rows: RowEncoder,
}

impl Encoder {
    pub fn new(format: LineFormat, renderer: Renderer) -> Encoder {
        Encoder {
            rows: RowEncoder {
                format,
                renderer,
                input_lines: false,
                splice: None,
            },
        }
    }

    /// JSON: rows that carry their input line ([`super::LINE_FIELD`], kept by the decoder for
    /// pipelines that never change a row) are written as that line, byte for byte. Rows
    /// without it are encoded from their fields; the hidden column itself is never written as
    /// a field.
    pub fn with_input_lines(mut self, on: bool) -> Encoder {
        self.rows.input_lines = on;
        self
    }

    /// JSON: rows that carry a splice ([`super::CUT_FIELD`], kept by a decoder given `edit`)
    /// are written as their input line with the removed member cut out and `edit`'s written
    /// fields appended; the bytes are those encoding the row's fields would give.
    pub fn with_splice(mut self, edit: Option<&super::SpliceSpec>) -> Encoder {
        self.rows.splice = edit.map(|e| e.written.clone().into());
        self
    }

    pub fn format(&self) -> LineFormat {
        self.rows.format
    }

    /// Writes the rows of `batch` to `out`.
    pub fn write_batch(
        &self,
        batch: &RecordBatch,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        let mut encoded = EncodedRows::default();
        self.rows.encode(batch, &mut encoded)?;
        out.write_all(&encoded.bytes)
    }

    /// A copy of this encoder to hand to the executor, which encodes on its worker threads.
    pub fn row_encoder(&self) -> RowEncoder {
        self.rows.clone()
    }
}

/// Encodes batches to json or raw lines on any thread ([`Encoder::row_encoder`]); the result
/// is the same as [`Encoder::write_batch`]'s.
#[derive(Debug, Clone)]
pub struct RowEncoder {
    format: LineFormat,
    renderer: Renderer,
    input_lines: bool,
    /// JSON: the fields a splice appends, when rows carry their splice (`splice.rs`).
    splice: Option<std::sync::Arc<[String]>>,
}

/// Encoded rows: the bytes, and where each row ends in them (so a writer can stop after any
/// row, e.g. at `--limit`).
#[derive(Debug, Default)]
pub struct EncodedRows {
    pub bytes: Vec<u8>,
    pub row_ends: Vec<usize>,
}

impl EncodedRows {
    /// The bytes of the first `rows` rows.
    pub fn first_rows(&self, rows: usize) -> &[u8] {
        match rows.checked_sub(1) {
            None => &[],
            Some(last) => {
                &self.bytes[..self.row_ends.get(last).copied().unwrap_or(self.bytes.len())]
            }
        }
    }
}

impl RowEncoder {
    /// Appends the rows of `batch` to `out`.
    pub fn encode(&self, batch: &RecordBatch, out: &mut EncodedRows) -> std::io::Result<()> {
        // A spliced row holds only the fields the pipeline reads: if one cannot be written
        // from its line after all, the batch gets its other fields back from the lines and is
        // encoded again.
        if !self.encode_rows(batch, out, true)? {
            let filled = match super::splice::decode_lines(batch) {
                Some(full) => super::splice::fill_spliced(batch, &full),
                None => batch.clone(),
            };
            self.encode_rows(&filled, out, false)?;
        }
        Ok(())
    }

    /// Appends the rows of `batch` to `out`. `strict`: a row that carries a splice but cannot
    /// be written from its line stops the encoding, leaves `out` as it was and returns false.
    fn encode_rows(
        &self,
        batch: &RecordBatch,
        out: &mut EncodedRows,
        strict: bool,
    ) -> std::io::Result<bool> {
        let (bytes_before, rows_before) = (out.bytes.len(), out.row_ends.len());
        let (batch, lines, cuts) = split_hidden(batch);
        let columns = JsonColumns::new(&batch);
        // Rows written as their line, and rows spliced from it (`splice.rs`).
        let whole_lines = lines.filter(|_| self.input_lines);
        let splice = match (&self.splice, lines, cuts, self.format) {
            (Some(written), Some(lines), Some(cuts), LineFormat::Json) => columns
                .appended_from(written)
                .map(|appended| (lines, cuts, appended)),
            _ => None,
        };
        let content = match self.format {
            LineFormat::Raw => batch.column_by_name("content"),
            LineFormat::Json => None,
        };
        // Room for the rows at once: rows written from their lines take about the lines' bytes
        // (growing the buffer by doubling would fault in fresh memory several times a chunk).
        let from_lines = whole_lines.or(splice.map(|s| s.0)).map_or(0, |l| {
            l.views()
                .iter()
                .map(|v| *v as u32 as usize + 1)
                .sum::<usize>()
        });
        out.bytes
            .reserve(from_lines + batch.num_rows() * if from_lines > 0 { 16 } else { 64 });
        out.row_ends.reserve(batch.num_rows());
        let buf = &mut out.bytes;
        for row in 0..batch.num_rows() {
            if let Some(text) = content.and_then(|c| text(&self.renderer, c.as_ref(), row)) {
                buf.extend_from_slice(text.as_bytes());
                buf.push(b'\n');
            } else if let Some(l) = whole_lines.filter(|l| l.is_valid(row)) {
                buf.extend_from_slice(l.value(row).as_bytes());
                buf.push(b'\n');
            } else if let Some((line, cut)) = splice.and_then(|(lines, cuts, appended)| {
                let cut = Cut::unpack(cuts.is_valid(row).then(|| cuts.value(row))?);
                (lines.is_valid(row) && columns.present_before(appended, row) == cut.kept)
                    .then(|| (lines.value(row), cut))
            }) {
                let appended = splice.map_or(0, |s| s.2);
                let mut first = !write_kept(line, cut, buf);
                columns.members(&self.renderer, appended.., row, &mut first, buf)?;
                buf.extend_from_slice(b"}\n");
            } else if strict && cuts.is_some_and(|c| c.is_valid(row)) {
                buf.truncate(bytes_before);
                out.row_ends.truncate(rows_before);
                return Ok(false);
            } else {
                buf.push(b'{');
                columns.members(&self.renderer, .., row, &mut true, buf)?;
                buf.extend_from_slice(b"}\n");
            }
            out.row_ends.push(buf.len());
        }
        Ok(true)
    }
}

/// A batch's columns ready for writing JSON rows: each field's key written once as JSON text
/// (`"name":`), each column downcast once, so a row costs a null check and a value per field.
struct JsonColumns<'b> {
    columns: Vec<(Vec<u8>, JsonColumn<'b>)>,
    names: Vec<&'b str>,
}

enum JsonColumn<'b> {
    View(&'b arrow::array::StringViewArray),
    Utf8(&'b arrow::array::StringArray),
    Int64(&'b arrow::array::Int64Array),
    Other(&'b dyn Array),
}

impl JsonColumn<'_> {
    fn is_valid(&self, row: usize) -> bool {
        match self {
            JsonColumn::View(c) => c.is_valid(row),
            JsonColumn::Utf8(c) => c.is_valid(row),
            JsonColumn::Int64(c) => c.is_valid(row),
            JsonColumn::Other(c) => c.is_valid(row),
        }
    }
}

impl<'b> JsonColumns<'b> {
    fn new(batch: &'b RecordBatch) -> JsonColumns<'b> {
        let schema = batch.schema_ref();
        let (names, columns) = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .filter(|(_, c)| c.data_type() != &DataType::Null)
            .map(|(field, column)| {
                let mut key = Vec::with_capacity(field.name().len() + 3);
                write_json_string(&mut key, field.name());
                key.push(b':');
                let column = match column.data_type() {
                    DataType::Utf8View => JsonColumn::View(column.as_string_view()),
                    DataType::Utf8 => JsonColumn::Utf8(column.as_string::<i32>()),
                    DataType::Int64 => {
                        JsonColumn::Int64(column.as_primitive::<arrow::datatypes::Int64Type>())
                    }
                    _ => JsonColumn::Other(column.as_ref()),
                };
                (field.name().as_str(), (key, column))
            })
            .unzip();
        JsonColumns { columns, names }
    }

    /// Where the columns a splice appends start: the columns named in `written` must all come
    /// after every other column, as a spliced row writes them after the line's members.
    fn appended_from(&self, written: &[String]) -> Option<usize> {
        let is_written = |name: &&str| written.iter().any(|w| w == name);
        let first = self
            .names
            .iter()
            .position(is_written)
            .unwrap_or(self.names.len());
        self.names[first..].iter().all(is_written).then_some(first)
    }

    /// How many of the columns before `end` hold a value in `row`.
    fn present_before(&self, end: usize, row: usize) -> usize {
        self.columns[..end]
            .iter()
            .filter(|(_, c)| c.is_valid(row))
            .count()
    }

    /// Writes `"key":value` for each of the `range` columns with a value in `row`, separated
    /// (and, unless `first`, preceded) by commas.
    fn members(
        &self,
        renderer: &Renderer,
        range: impl std::slice::SliceIndex<
            [(Vec<u8>, JsonColumn<'b>)],
            Output = [(Vec<u8>, JsonColumn<'b>)],
        >,
        row: usize,
        first: &mut bool,
        buf: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        for (key, column) in &self.columns[range] {
            if !column.is_valid(row) {
                continue;
            }
            if !*first {
                buf.push(b',');
            }
            *first = false;
            buf.extend_from_slice(key);
            match column {
                JsonColumn::View(c) => write_json_string(buf, c.value(row)),
                JsonColumn::Utf8(c) => write_json_string(buf, c.value(row)),
                JsonColumn::Int64(c) => {
                    buf.extend_from_slice(itoa::Buffer::new().format(c.value(row)).as_bytes())
                }
                JsonColumn::Other(c) => match renderer.json(*c, row) {
                    Some(value) => serde_json::to_writer(&mut *buf, &value)?,
                    None => buf.extend_from_slice(b"null"),
                },
            }
        }
        Ok(())
    }
}

/// Writes `s` as a JSON string literal, escaped exactly as `serde_json` does.
fn write_json_string(buf: &mut Vec<u8>, s: &str) {
    if super::json_scan::needs_escape(s.as_bytes()) {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *buf, s);
    } else {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    }
}

/// The batch without its hidden columns, and the columns [`super::LINE_FIELD`] and
/// [`super::CUT_FIELD`] when present.
fn split_hidden(
    batch: &RecordBatch,
) -> (
    RecordBatch,
    Option<&arrow::array::StringViewArray>,
    Option<&arrow::array::Int64Array>,
) {
    let schema = batch.schema_ref();
    if !schema.fields().iter().any(|f| super::is_hidden(f.name())) {
        return (batch.clone(), None, None);
    }
    let lines = batch
        .column_by_name(super::LINE_FIELD)
        .and_then(|c| c.as_string_view_opt());
    let cuts = batch
        .column_by_name(super::CUT_FIELD)
        .and_then(|c| c.as_primitive_opt::<arrow::datatypes::Int64Type>());
    let keep: Vec<usize> = (0..schema.fields().len())
        .filter(|&i| !super::is_hidden(schema.field(i).name()))
        .collect();
    // Projecting existing columns by index cannot fail.
    let rest = batch.project(&keep).unwrap_or_else(|_| batch.clone());
    (rest, lines, cuts)
}

/// A value as text, borrowed for text columns; `None` when NULL.
fn text<'a>(
    renderer: &Renderer,
    column: &'a dyn Array,
    row: usize,
) -> Option<std::borrow::Cow<'a, str>> {
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
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped_like_serde_json() {
        for s in [
            "plain",
            "",
            "q\"uote",
            "back\\slash",
            "tab\tnl\n\u{1}\u{1f}",
            "é漢字/",
            "\u{7f}",
        ] {
            let mut buf = Vec::new();
            write_json_string(&mut buf, s);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }
}

//! Output formats of `spl run`: event batches to text, values rendered per spec §18.4
//! ([`Renderer`]); a NULL is an absent field.
//!
//! | format | output |
//! |---|---|
//! | json | one object per line, fields in column order, NULL fields left out; BIGINT/DOUBLE/BOOLEAN as JSON numbers/booleans, everything else (JSON-typed values and timestamps included) as strings |
//! | csv | RFC 4180; the header is the fields of the first batch with rows; later fields not in it are left out and reported by [`Encoder::take_warnings`]; NULL is an empty value, the empty string is `""` |
//! | table | aligned columns under a header, printed in blocks of at most [`TABLE_BLOCK_ROWS`] rows; long values cut at [`TABLE_MAX_WIDTH`] characters with `…`; control characters shown as escapes |
//! | raw | the `content` field as it is; a row without `content` as a JSON object (as in json) |
use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;

use crate::render::Renderer;

/// Rows buffered before the table format prints a block.
pub const TABLE_BLOCK_ROWS: usize = 1000;
/// Widest table cell, in characters.
pub const TABLE_MAX_WIDTH: usize = 60;

/// The output formats of `spl run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Table,
    Csv,
    Raw,
}

/// Writes batches in one output format. Not shared between threads: one writer owns it.
#[derive(Debug)]
pub struct Encoder {
    format: OutputFormat,
    renderer: Renderer,
    /// CSV: the header, once written.
    csv_header: Option<Vec<String>>,
    /// CSV: fields of an empty first batch, used as the header when no row ever comes.
    csv_empty_header: Option<Vec<String>>,
    /// CSV: fields left out because they were not in the header (reported once each).
    csv_left_out: Vec<String>,
    warnings: Vec<String>,
    table: Table,
    /// JSON: write a row that carries [`super::LINE_FIELD`] as that input line.
    input_lines: bool,
}

impl Encoder {
    pub fn new(format: OutputFormat, renderer: Renderer) -> Encoder {
        Encoder {
            format,
            renderer,
            csv_header: None,
            csv_empty_header: None,
            csv_left_out: Vec::new(),
            warnings: Vec::new(),
            table: Table::new(TABLE_BLOCK_ROWS, TABLE_MAX_WIDTH),
            input_lines: false,
        }
    }

    /// Changes the table format's block size (rows, at least 1) and widest cell (characters,
    /// at least 2).
    pub fn with_table_limits(mut self, block_rows: usize, max_width: usize) -> Encoder {
        self.table = Table::new(block_rows.max(1), max_width.max(2));
        self
    }

    /// JSON: rows that carry their input line ([`super::LINE_FIELD`], kept by the decoder for
    /// pipelines that never change a row) are written as that line, byte for byte. Other
    /// formats, and rows without it, are encoded from their fields; the hidden column itself is
    /// never written as a field.
    pub fn with_input_lines(mut self, on: bool) -> Encoder {
        self.input_lines = on;
        self
    }

    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Messages for the user about output that could not be written as asked (CSV fields that
    /// appeared after the header), each given once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    pub fn write_batch(
        &mut self,
        batch: &RecordBatch,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        if let Some(rows) = self.row_encoder() {
            let mut encoded = EncodedRows {
                bytes: Vec::with_capacity(batch.num_rows() * 64),
                row_ends: Vec::new(),
            };
            rows.encode(batch, &mut encoded)?;
            return out.write_all(&encoded.bytes);
        }
        let mut buf = Vec::with_capacity(batch.num_rows() * 64);
        let (batch, _) = split_lines(batch);
        let batch = &batch;
        match self.format {
            OutputFormat::Json | OutputFormat::Raw => {}
            OutputFormat::Csv => self.csv(batch, &mut buf)?,
            OutputFormat::Table => {
                self.table.add(batch, &self.renderer);
                if self.table.rows.len() >= self.table.block_rows {
                    self.table.flush(&mut buf);
                }
            }
        }
        out.write_all(&buf)
    }

    /// A stateless copy of this encoder for worker threads, for the formats whose output of a
    /// batch does not depend on earlier batches (json, raw); `None` for csv and table.
    pub fn row_encoder(&self) -> Option<RowEncoder> {
        matches!(self.format, OutputFormat::Json | OutputFormat::Raw).then(|| RowEncoder {
            format: self.format,
            renderer: self.renderer.clone(),
            input_lines: self.input_lines,
        })
    }

    /// Writes what is still buffered (the last table block; a CSV header when no row came).
    pub fn finish(&mut self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut buf = Vec::new();
        match self.format {
            OutputFormat::Table => self.table.flush(&mut buf),
            OutputFormat::Csv if self.csv_header.is_none() => {
                if let Some(names) = self.csv_empty_header.take() {
                    write_csv_line(&mut buf, names.iter().map(|n| Some(n.as_str())));
                    self.csv_header = Some(names);
                }
            }
            _ => {}
        }
        out.write_all(&buf)?;
        out.flush()
    }

    fn csv(&mut self, batch: &RecordBatch, buf: &mut Vec<u8>) -> std::io::Result<()> {
        let schema = batch.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if self.csv_header.is_none() {
            if batch.num_rows() == 0 {
                if self.csv_empty_header.is_none() && !names.is_empty() {
                    self.csv_empty_header = Some(names);
                }
                return Ok(());
            }
            write_csv_line(buf, names.iter().map(|n| Some(n.as_str())));
            self.csv_header = Some(names.clone());
        }
        let header = self.csv_header.as_deref().unwrap_or_default();
        // The batch column of each header field.
        let positions: Vec<Option<usize>> =
            header.iter().map(|h| schema.index_of(h).ok()).collect();
        for (i, name) in names.iter().enumerate() {
            if header.contains(name) || self.csv_left_out.contains(name) {
                continue;
            }
            let column = batch.column(i);
            if column.null_count() == column.len() {
                continue; // an all-NULL column loses nothing
            }
            self.csv_left_out.push(name.clone());
            self.warnings.push(format!(
                "field `{name}` is not in the CSV header (the fields of the first rows), so it is left out of the output; use `project` to choose the columns"
            ));
        }
        for row in 0..batch.num_rows() {
            let values: Vec<Option<std::borrow::Cow<'_, str>>> = positions
                .iter()
                .map(|p| p.and_then(|i| text(&self.renderer, batch.column(i).as_ref(), row)))
                .collect();
            write_csv_line(buf, values.iter().map(|v| v.as_deref()));
        }
        Ok(())
    }
}

/// Encodes batches to json or raw lines on any thread ([`Encoder::row_encoder`]); the result
/// is the same as [`Encoder::write_batch`]'s.
#[derive(Debug, Clone)]
pub struct RowEncoder {
    format: OutputFormat,
    renderer: Renderer,
    input_lines: bool,
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
        let (batch, lines) = split_lines(batch);
        let lines = lines.filter(|_| self.input_lines);
        let columns = JsonColumns::new(&batch);
        let content = match self.format {
            OutputFormat::Raw => batch.column_by_name("content"),
            _ => None,
        };
        let buf = &mut out.bytes;
        for row in 0..batch.num_rows() {
            if let Some(text) = content.and_then(|c| text(&self.renderer, c.as_ref(), row)) {
                buf.extend_from_slice(text.as_bytes());
                buf.push(b'\n');
            } else if let Some(l) = lines.filter(|l| l.is_valid(row)) {
                buf.extend_from_slice(l.value(row).as_bytes());
                buf.push(b'\n');
            } else {
                columns.row(&self.renderer, row, buf)?;
            }
            out.row_ends.push(buf.len());
        }
        Ok(())
    }
}

/// A batch's columns ready for writing JSON rows: each field's key written once as JSON text
/// (`"name":`), each column downcast once, so a row costs a null check and a value per field.
struct JsonColumns<'b> {
    columns: Vec<(Vec<u8>, JsonColumn<'b>)>,
}

enum JsonColumn<'b> {
    View(&'b arrow::array::StringViewArray),
    Utf8(&'b arrow::array::StringArray),
    Int64(&'b arrow::array::Int64Array),
    Other(&'b dyn Array),
}

impl<'b> JsonColumns<'b> {
    fn new(batch: &'b RecordBatch) -> JsonColumns<'b> {
        let schema = batch.schema_ref();
        let columns = schema
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
                (key, column)
            })
            .collect();
        JsonColumns { columns }
    }

    fn row(&self, renderer: &Renderer, row: usize, buf: &mut Vec<u8>) -> std::io::Result<()> {
        buf.push(b'{');
        let mut first = true;
        for (key, column) in &self.columns {
            let present = match column {
                JsonColumn::View(c) => c.is_valid(row),
                JsonColumn::Utf8(c) => c.is_valid(row),
                JsonColumn::Int64(c) => c.is_valid(row),
                JsonColumn::Other(c) => c.is_valid(row),
            };
            if !present {
                continue;
            }
            if !first {
                buf.push(b',');
            }
            first = false;
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
        buf.extend_from_slice(b"}\n");
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

/// The batch without [`super::LINE_FIELD`], and that column.
fn split_lines(batch: &RecordBatch) -> (RecordBatch, Option<&arrow::array::StringViewArray>) {
    let Ok(i) = batch.schema().index_of(super::LINE_FIELD) else {
        return (batch.clone(), None);
    };
    let mut rest = batch.clone();
    rest.remove_column(i);
    (rest, batch.column(i).as_string_view_opt())
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

/// One CSV line: values quoted when they hold `,`, `"`, CR or LF, or are empty strings (so an
/// empty string differs from NULL, which is written as nothing).
fn write_csv_line<'a>(buf: &mut Vec<u8>, values: impl Iterator<Item = Option<&'a str>>) {
    for (i, value) in values.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let Some(value) = value else { continue };
        if value.is_empty()
            || value
                .bytes()
                .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
        {
            buf.push(b'"');
            for piece in value.split('"').enumerate() {
                if piece.0 > 0 {
                    buf.extend_from_slice(b"\"\"");
                }
                buf.extend_from_slice(piece.1.as_bytes());
            }
            buf.push(b'"');
        } else {
            buf.extend_from_slice(value.as_bytes());
        }
    }
    buf.push(b'\n');
}

/// The table format's buffered block.
#[derive(Debug)]
struct Table {
    block_rows: usize,
    max_width: usize,
    /// Fields of the block in first-seen order, with whether to right-align (numbers).
    columns: Vec<(String, bool)>,
    /// Cells per row, by block column; `None` when NULL.
    rows: Vec<Vec<Option<String>>>,
    /// Blocks printed so far.
    blocks: usize,
}

impl Table {
    fn new(block_rows: usize, max_width: usize) -> Table {
        Table {
            block_rows,
            max_width,
            columns: Vec::new(),
            rows: Vec::new(),
            blocks: 0,
        }
    }

    fn add(&mut self, batch: &RecordBatch, renderer: &Renderer) {
        let schema = batch.schema();
        let positions: Vec<usize> = schema
            .fields()
            .iter()
            .map(|f| {
                let numeric = f.data_type().is_numeric();
                match self.columns.iter().position(|(n, _)| n == f.name()) {
                    Some(i) => i,
                    None => {
                        self.columns.push((f.name().clone(), numeric));
                        self.columns.len() - 1
                    }
                }
            })
            .collect();
        for row in 0..batch.num_rows() {
            let mut cells = vec![None; self.columns.len()];
            for (column, &at) in batch.columns().iter().zip(&positions) {
                if let Some(cell) = cells.get_mut(at) {
                    *cell = text(renderer, column.as_ref(), row).map(|t| self.cell(&t));
                }
            }
            self.rows.push(cells);
        }
    }

    /// A cell: control characters escaped, cut to the widest cell with `…`.
    fn cell(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len().min(self.max_width * 4));
        let mut width = 0;
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            let piece: std::borrow::Cow<'_, str> = match c {
                '\n' => "\\n".into(),
                '\r' => "\\r".into(),
                '\t' => "\\t".into(),
                c if c.is_control() => c.escape_unicode().to_string().into(),
                c => c.to_string().into(),
            };
            let w = piece.chars().count();
            let last = chars.peek().is_none();
            let limit = if last {
                self.max_width
            } else {
                self.max_width - 1
            };
            if width + w > limit {
                out.push('…');
                return out;
            }
            out.push_str(&piece);
            width += w;
        }
        out
    }

    fn flush(&mut self, buf: &mut Vec<u8>) {
        if self.rows.is_empty() {
            self.columns.clear();
            return;
        }
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, (name, _))| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i).and_then(|c| c.as_deref()))
                    .map(|c| c.chars().count())
                    .chain([self.cell(name).chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        if self.blocks > 0 {
            buf.push(b'\n');
        }
        let header: Vec<Option<String>> = self
            .columns
            .iter()
            .map(|(n, _)| Some(self.cell(n)))
            .collect();
        let right: Vec<bool> = self.columns.iter().map(|(_, r)| *r).collect();
        let rule: Vec<Option<String>> = widths.iter().map(|w| Some("-".repeat(*w))).collect();
        write_table_line(buf, &header, &widths, &right);
        write_table_line(buf, &rule, &widths, &right);
        for row in &self.rows {
            write_table_line(buf, row, &widths, &right);
        }
        self.rows.clear();
        self.columns.clear();
        self.blocks += 1;
    }
}

fn write_table_line(buf: &mut Vec<u8>, cells: &[Option<String>], widths: &[usize], right: &[bool]) {
    let mut line = String::new();
    for (i, width) in widths.iter().enumerate() {
        let cell = cells.get(i).and_then(|c| c.as_deref()).unwrap_or("");
        let pad = width.saturating_sub(cell.chars().count());
        if i > 0 {
            line.push_str("  ");
        }
        if right.get(i).copied().unwrap_or(false) {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
    }
    buf.extend_from_slice(line.trim_end().as_bytes());
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis() {
        let t = Table::new(10, 5);
        assert_eq!(t.cell("abcde"), "abcde");
        assert_eq!(t.cell("abcdef"), "abcd…");
        assert_eq!(t.cell("a\nb"), "a\\nb");
        assert_eq!(t.cell("日本語日本語"), "日本語日…");
    }

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

    #[test]
    fn csv_quotes_only_when_needed() {
        let mut buf = Vec::new();
        write_csv_line(
            &mut buf,
            [
                Some("a"),
                None,
                Some(""),
                Some("x,y"),
                Some("say \"hi\""),
                Some("l1\nl2"),
            ]
            .into_iter(),
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "a,,\"\",\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\"\n"
        );
    }
}

//! The `csv` output format: RFC 4180 lines under one header, the fields of the first batch that
//! has rows (`docs/decisions.md`, "csv header"). A field that first appears later is left out
//! and reported once ([`CsvWriter::take_warnings`]); a header field missing from a later batch
//! is empty. NULL is an empty value, the empty string is `""`. With no rows at all, the fields
//! of an empty batch still make the header.
use std::borrow::Cow;

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use spl_engine::render::Renderer;

/// Writes the batches of one output as CSV.
#[derive(Debug)]
pub struct CsvWriter {
    renderer: Renderer,
    /// The header, once written.
    header: Option<Vec<String>>,
    /// Fields of an empty first batch, used as the header when no row ever comes.
    empty_header: Option<Vec<String>>,
    /// Fields left out because they were not in the header (reported once each).
    left_out: Vec<String>,
    warnings: Vec<String>,
}

impl CsvWriter {
    pub fn new(renderer: Renderer) -> CsvWriter {
        CsvWriter {
            renderer,
            header: None,
            empty_header: None,
            left_out: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Appends the lines of `batch` (and the header before the first row) to `buf`.
    pub fn write_batch(&mut self, batch: &RecordBatch, buf: &mut Vec<u8>) {
        let schema = batch.schema();
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        if self.header.is_none() {
            if batch.num_rows() == 0 {
                if self.empty_header.is_none() && !names.is_empty() {
                    self.empty_header = Some(names);
                }
                return;
            }
            write_csv_line(buf, names.iter().map(|n| Some(n.as_str())));
            self.header = Some(names.clone());
        }
        let header = self.header.as_deref().unwrap_or_default();
        // The batch column of each header field.
        let positions: Vec<Option<usize>> =
            header.iter().map(|h| schema.index_of(h).ok()).collect();
        for (i, name) in names.iter().enumerate() {
            if header.contains(name) || self.left_out.contains(name) {
                continue;
            }
            let column = batch.column(i);
            if column.null_count() == column.len() {
                continue; // an all-NULL column loses nothing
            }
            self.left_out.push(name.clone());
            self.warnings.push(format!(
                "field `{name}` is not in the CSV header (the fields of the first rows), so it is left out of the output; use `project` to choose the columns"
            ));
        }
        for row in 0..batch.num_rows() {
            let values: Vec<Option<Cow<'_, str>>> = positions
                .iter()
                .map(|p| p.and_then(|i| super::text(&self.renderer, batch.column(i).as_ref(), row)))
                .collect();
            write_csv_line(buf, values.iter().map(|v| v.as_deref()));
        }
    }

    /// Appends the header of an empty first batch when no row ever came.
    pub fn finish(&mut self, buf: &mut Vec<u8>) {
        if self.header.is_none() {
            if let Some(names) = self.empty_header.take() {
                write_csv_line(buf, names.iter().map(|n| Some(n.as_str())));
                self.header = Some(names);
            }
        }
    }

    /// Fields left out of the output since the last call, one message each.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
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
            for (n, piece) in value.split('"').enumerate() {
                if n > 0 {
                    buf.extend_from_slice(b"\"\"");
                }
                buf.extend_from_slice(piece.as_bytes());
            }
            buf.push(b'"');
        } else {
            buf.extend_from_slice(value.as_bytes());
        }
    }
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::super::tests::{batch, present, text_col, typed_batch};
    use super::super::{OutputFormat, Presenter};
    use super::*;

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
                Some("cr\r"),
            ]
            .into_iter(),
        );
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "a,,\"\",\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\"\n"
        );
    }

    #[test]
    fn csv_output_quotes_per_rfc4180_and_keeps_the_first_header() {
        let first = typed_batch();
        let later = batch(vec![
            ("extra", text_col(&[Some("lost")])),
            ("msg", text_col(&[Some("a,b")])),
        ]);
        let mut e = Presenter::new(OutputFormat::Csv, Renderer::default(), false);
        let mut out = Vec::new();
        e.write_batch(&first, &mut out).unwrap();
        e.write_batch(&later, &mut out).unwrap();
        e.finish(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            concat!(
                "msg,n,f,ok,j,ts\n",
                "\"hi \"\"there\"\"\",5,1.5,true,\"{\"\"a\"\":1}\",2023-09-20 06:30:02.000\n",
                ",-1,2.0,,,\n",
                "\"a,b\",,,,,\n",
            )
        );
        let warnings = e.take_warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("`extra`"), "{warnings:?}");
        // Reported once.
        e.write_batch(&later, &mut Vec::new()).unwrap();
        assert!(e.take_warnings().is_empty());
    }

    #[test]
    fn csv_output_leaves_out_a_later_all_null_field_without_a_warning() {
        let first = batch(vec![("a", text_col(&[Some("1")]))]);
        let later = batch(vec![
            ("a", text_col(&[Some("2")])),
            ("b", text_col(&[None])),
        ]);
        let mut w = CsvWriter::new(Renderer::default());
        let mut out = Vec::new();
        w.write_batch(&first, &mut out);
        w.write_batch(&later, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "a\n1\n2\n");
        assert!(w.take_warnings().is_empty());
    }

    #[test]
    fn csv_output_tells_empty_text_from_null() {
        let b = batch(vec![
            ("a", text_col(&[Some(""), None])),
            ("b", text_col(&[Some("x"), Some("y")])),
        ]);
        assert_eq!(present(OutputFormat::Csv, &[b]), "a,b\n\"\",x\n,y\n");
    }

    #[test]
    fn csv_output_without_rows_still_writes_the_header() {
        let empty = batch(vec![("a", text_col(&[])), ("b", text_col(&[]))]);
        assert_eq!(present(OutputFormat::Csv, &[empty]), "a,b\n");
        assert_eq!(present(OutputFormat::Csv, &[]), "");
    }
}

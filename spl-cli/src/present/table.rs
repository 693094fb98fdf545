//! The `table` output format (the default on a terminal): aligned columns under a header and a
//! rule, numbers right-aligned, printed in blocks of at most [`TABLE_BLOCK_ROWS`] rows so memory
//! stays bounded (each block has its own header, a blank line between blocks). A cell is cut at
//! [`TABLE_MAX_WIDTH`] characters with `…`; control characters are shown as escapes (`\n`,
//! `\t`, `\u{1b}`); NULL is an empty cell.
use std::borrow::Cow;

use arrow::record_batch::RecordBatch;
use spl_engine::render::Renderer;

/// Rows buffered before the table format prints a block.
pub const TABLE_BLOCK_ROWS: usize = 1000;
/// Widest table cell, in characters.
pub const TABLE_MAX_WIDTH: usize = 60;

/// Writes the batches of one output as a table, one block at a time.
#[derive(Debug)]
pub struct TableWriter {
    renderer: Renderer,
    block_rows: usize,
    max_width: usize,
    /// Fields of the block in first-seen order, with whether to right-align (numbers).
    columns: Vec<(String, bool)>,
    /// Cells per row, by block column; `None` when NULL.
    rows: Vec<Vec<Option<String>>>,
    /// Blocks printed so far.
    blocks: usize,
}

impl TableWriter {
    /// A table printed in blocks of `block_rows` rows (at least 1) with cells of at most
    /// `max_width` characters (at least 2).
    pub fn new(renderer: Renderer, block_rows: usize, max_width: usize) -> TableWriter {
        TableWriter {
            renderer,
            block_rows: block_rows.max(1),
            max_width: max_width.max(2),
            columns: Vec::new(),
            rows: Vec::new(),
            blocks: 0,
        }
    }

    /// Adds the rows of `batch` to the block, and appends the block to `buf` once it is full.
    pub fn write_batch(&mut self, batch: &RecordBatch, buf: &mut Vec<u8>) {
        self.add(batch);
        if self.rows.len() >= self.block_rows {
            self.flush(buf);
        }
    }

    /// Appends the last block.
    pub fn finish(&mut self, buf: &mut Vec<u8>) {
        self.flush(buf);
    }

    fn add(&mut self, batch: &RecordBatch) {
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
                    *cell =
                        super::text(&self.renderer, column.as_ref(), row).map(|t| self.cell(&t));
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
            let piece: Cow<'_, str> = match c {
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

/// One line of cells, each padded to its column's width (right-aligned for numbers), two spaces
/// apart, trailing spaces removed.
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
    use std::sync::Arc;

    use arrow::array::Int64Array;

    use super::super::tests::{batch, present, text_col};
    use super::super::OutputFormat;
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis() {
        let t = TableWriter::new(Renderer::default(), 10, 5);
        assert_eq!(t.cell("abcde"), "abcde");
        assert_eq!(t.cell("abcdef"), "abcd…");
        assert_eq!(t.cell("a\nb"), "a\\nb");
        assert_eq!(t.cell("\u{1b}[0m"), "…");
        let wide = TableWriter::new(Renderer::default(), 10, 10);
        assert_eq!(wide.cell("\u{1b}[0m"), "\\u{1b}[0m");
        assert_eq!(t.cell("日本語日本語"), "日本語日…");
    }

    #[test]
    fn table_output_aligns_columns_under_a_header() {
        let b = batch(vec![
            ("name", text_col(&[Some("ann"), Some("bartholomew"), None])),
            (
                "n",
                Arc::new(Int64Array::from(vec![Some(5), Some(12345), Some(7)])),
            ),
            ("note", text_col(&[Some("line1\nline2"), None, Some("x")])),
        ]);
        assert_eq!(
            present(OutputFormat::Table, &[b]),
            concat!(
                "name             n  note\n",
                "-----------  -----  ------------\n",
                "ann              5  line1\\nline2\n",
                "bartholomew  12345\n",
                "                 7  x\n",
            )
        );
    }

    #[test]
    fn table_output_prints_blocks_and_cuts_long_values() {
        let b = batch(vec![(
            "v",
            text_col(&[Some("short"), Some("a value far too long"), Some("third")]),
        )]);
        let mut t = TableWriter::new(Renderer::default(), 2, 8);
        let mut out = Vec::new();
        t.write_batch(&b, &mut out);
        // The first block is printed as soon as it holds two rows or more.
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "v\n--------\nshort\na value…\nthird\n"
        );
        t.write_batch(&b.slice(0, 1), &mut out);
        t.finish(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "v\n--------\nshort\na value…\nthird\n\nv\n-----\nshort\n"
        );
    }

    #[test]
    fn table_limits_have_a_floor() {
        let t = TableWriter::new(Renderer::default(), 0, 0);
        assert_eq!((t.block_rows, t.max_width), (1, 2));
        assert_eq!(t.cell("abc"), "a…");
    }

    #[test]
    fn table_columns_follow_the_fields_of_each_block() {
        let first = batch(vec![("a", text_col(&[Some("1")]))]);
        let second = batch(vec![
            ("b", text_col(&[Some("2")])),
            ("a", text_col(&[Some("3")])),
        ]);
        assert_eq!(
            present(OutputFormat::Table, &[first, second]),
            "a  b\n-  -\n1\n3  2\n"
        );
    }
}

//! Builds the batch of a decoded chunk column by column. Text columns are string views
//! ([`super::views`]): into one shared copy of the chunk for values that lie inside it, copies
//! only for values that were unescaped or repaired. Rows are added whole, after the line has
//! been fully decoded, so a failing line leaves no partial row behind.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field};
use arrow::record_batch::RecordBatch;

use super::views::TextColumn;
use super::FieldSelection;
use crate::batch::{from_columns, is_time_field, TIME_FIELDS};
use crate::bytes::same_bytes;

/// One value of a decoded row.
#[derive(Debug)]
pub(super) enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    Time(i64),
    /// JSON `null`: the field is absent in this row.
    Absent,
}

enum Data {
    Text(TextColumn),
    Time(Int64Builder),
}

struct Column {
    name: String,
    data: Data,
    /// Rows filled so far (values and NULLs).
    len: usize,
    /// Materialised for spliced rows too: the pipeline reads it ([`Columns::keep_cuts`]).
    read: bool,
}

impl Column {
    fn new(name: &str, read: bool) -> Column {
        let data = if is_time_field(name) {
            Data::Time(Int64Builder::new())
        } else {
            Data::Text(TextColumn::new())
        };
        Column {
            name: name.to_string(),
            data,
            len: 0,
            read,
        }
    }

    /// Fills the rows before `rows` this column has no value for with NULLs.
    #[inline(always)]
    fn pad_to(&mut self, rows: usize) {
        if rows > self.len {
            self.pad_with_nulls(rows);
        }
    }

    #[cold]
    fn pad_with_nulls(&mut self, rows: usize) {
        let missing = rows - self.len;
        match &mut self.data {
            Data::Text(t) => (0..missing).for_each(|_| t.append_null()),
            Data::Time(b) => b.append_nulls(missing),
        }
        self.len = rows;
    }

    /// The column's array; `untouched_as_null`: a column no row gave a cell (its fields came
    /// only from spliced rows, which skip unread fields) is an Arrow NULL array.
    fn finish(mut self, rows: usize, untouched_as_null: bool) -> (Field, ArrayRef) {
        if untouched_as_null && self.len == 0 {
            return (
                Field::new(self.name, DataType::Null, true),
                Arc::new(arrow::array::NullArray::new(rows)),
            );
        }
        self.pad_to(rows);
        match self.data {
            Data::Text(t) => (Field::new(self.name, DataType::Utf8View, true), t.finish()),
            Data::Time(mut b) => (
                Field::new(self.name, DataType::Int64, true),
                Arc::new(b.finish()),
            ),
        }
    }
}

/// The columns of one chunk's batch.
pub(super) struct Columns<'c> {
    chunk: &'c [u8],
    /// One copy of the chunk shared by every column's views; made on first use.
    shared: Option<Buffer>,
    columns: Vec<Column>,
    index: HashMap<String, usize>,
    rows: usize,
    /// Scratch: the column of each cell of the row being added.
    slots: Vec<Option<usize>>,
    /// The name and column (`None`: not wanted) seen at each position in earlier rows: a
    /// guess for the next row that saves the lookup by name.
    hints: Vec<(String, Option<usize>)>,
    /// Counts changes to `hints`.
    hint_generation: u64,
    /// See [`Columns::row_names`].
    row_names: Option<(u64, usize)>,
    /// Only these fields (and the time fields) become columns; `None`: every field.
    wanted: Arc<FieldSelection>,
    /// Each row's input line, for [`super::LINE_FIELD`], when asked for.
    lines: Option<TextColumn>,
    /// Each row's splice, for [`super::CUT_FIELD`], when asked for.
    cuts: Option<Int64Builder>,
    /// With cuts kept: the fields a spliced row materialises (`None`: every field).
    spliced_reads: Option<Arc<[String]>>,
}

impl<'c> Columns<'c> {
    /// Columns for a chunk; `buffer`: the chunk as an Arrow buffer, if the caller has one.
    pub fn new(chunk: &'c [u8], buffer: Option<Buffer>) -> Columns<'c> {
        Columns {
            chunk,
            shared: buffer,
            columns: Vec::new(),
            index: HashMap::new(),
            rows: 0,
            slots: Vec::new(),
            hints: Vec::new(),
            hint_generation: 0,
            row_names: None,
            wanted: Arc::new(FieldSelection::All),
            lines: None,
            cuts: None,
            spliced_reads: None,
        }
    }

    /// Adds a column now (CSV header order), so it exists even when every value is NULL.
    pub fn declare(&mut self, name: &str) -> usize {
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        let read = is_time_field(name)
            || self
                .spliced_reads
                .as_ref()
                .is_none_or(|r| r.iter().any(|n| n == name));
        self.columns.push(Column::new(name, read));
        self.index.insert(name.to_string(), self.columns.len() - 1);
        self.columns.len() - 1
    }

    pub fn is_time(name: &str) -> bool {
        is_time_field(name)
    }

    /// Adds a row whose cells are given as (column index, cell); each column at most once.
    pub fn push_indexed<'a>(&mut self, cells: impl Iterator<Item = (usize, Cell<'a>)>) {
        let row = self.rows;
        for (i, cell) in cells {
            let Some(column) = self.columns.get_mut(i) else {
                continue;
            };
            column.pad_to(row);
            if column.len > row {
                continue;
            }
            append(column, cell, self.chunk, &mut self.shared);
        }
        self.rows += 1;
    }

    /// Adds a row of named cells in first-seen order; new names become new columns. When a
    /// name repeats, the last value wins (as in most JSON readers).
    pub fn push_named<'a>(&mut self, cells: Vec<(std::borrow::Cow<'a, str>, Cell<'a>)>) {
        let mut cells: Vec<Option<Cell<'a>>> = {
            let (names, cells): (Vec<_>, Vec<_>) = cells.into_iter().unzip();
            self.resolve_row(
                names.len(),
                |i| names[i].as_ref(),
                |i| matches!(cells[i], Cell::Absent),
            );
            cells.into_iter().map(Some).collect()
        };
        self.append_row(|i| cells[i].take().unwrap_or(Cell::Absent), false);
    }

    /// Keeps only the fields `wanted` selects (and the time fields); other names are skipped
    /// without becoming columns.
    pub fn only(&mut self, wanted: Arc<FieldSelection>) {
        self.wanted = wanted;
    }

    /// Adds the hidden column [`super::LINE_FIELD`] holding each row's input line.
    pub fn keep_lines(&mut self) {
        self.lines = Some(TextColumn::new());
    }

    /// Records the input line of the row just added (when lines are kept).
    pub fn line(&mut self, text: &str) {
        if let Some(lines) = &mut self.lines {
            lines.append(text, self.chunk, &mut self.shared);
        }
    }

    /// Adds the hidden column [`super::CUT_FIELD`] holding each row's splice; spliced rows
    /// materialise only the fields in `reads` (`None`: every field). Call before any row.
    pub fn keep_cuts(&mut self, reads: Option<&[String]>) {
        self.cuts = Some(Int64Builder::new());
        self.spliced_reads = reads.map(Arc::from);
    }

    /// Records the splice of the row just added (when cuts are kept); `None`: not spliceable.
    pub fn cut(&mut self, cut: Option<i64>) {
        if let Some(builder) = &mut self.cuts {
            builder.append_option(cut);
        }
    }

    /// The text column that cell `i` of the row resolved last goes to, if any, and whether a
    /// spliced row materialises it.
    pub fn spliced_slot(&self, i: usize) -> Option<(usize, bool)> {
        let c = self.slots.get(i).copied().flatten()?;
        let column = self.columns.get(c)?;
        matches!(column.data, Data::Text(_)).then_some((c, column.read))
    }

    /// Starts a row of `n` cells given by position, `name(i)`: finds (or declares) the column
    /// of each into `slots`, so [`Columns::spliced_slot`] can be asked before the cells are
    /// added ([`Columns::append_row`]). Same rules as [`Columns::push_named`].
    pub fn resolve_row<'t>(
        &mut self,
        n: usize,
        name: impl Fn(usize) -> &'t str,
        is_absent: impl Fn(usize) -> bool,
    ) {
        let mut slots = std::mem::take(&mut self.slots);
        slots.clear();
        let mut all_hinted = true;
        for i in 0..n {
            let name = name(i);
            // Rows usually repeat the key order of the row before: try that guess first.
            let slot = match self.hints.get(i) {
                Some((hinted, slot)) if same_bytes(hinted.as_bytes(), name.as_bytes()) => *slot,
                _ => {
                    all_hinted = false;
                    let (slot, settled) = match self.index.get(name) {
                        Some(c) => (Some(*c), true),
                        None if !self.is_wanted(name) => (None, true),
                        // A field that is only ever null does not become a column.
                        None if is_absent(i) => (None, false),
                        None => (Some(self.declare(name)), true),
                    };
                    if settled {
                        if self.hints.len() <= i {
                            self.hints.resize(i + 1, (String::new(), None));
                        }
                        self.hints[i] = (name.to_string(), slot);
                        self.hint_generation += 1;
                    }
                    slot
                }
            };
            slots.push(slot);
        }
        self.slots = slots;
        self.row_names = all_hinted.then_some((self.hint_generation, n));
    }

    /// For the row resolved last, when each of its names matched the guess for its position:
    /// a key equal for every row with the same names in the same columns.
    pub fn row_names(&self) -> Option<(u64, usize)> {
        self.row_names
    }

    fn is_wanted(&self, name: &str) -> bool {
        is_time_field(name) || self.wanted.keeps(name)
    }

    /// The names that become columns when only a few named fields do (and the time fields):
    /// a row's other cells can be left out before they are resolved. `None` for wider
    /// selections.
    pub fn narrow_keys(&self) -> Option<NarrowKeys> {
        match &*self.wanted {
            FieldSelection::Only(names) if names.len() <= 8 => Some(NarrowKeys::new(
                names
                    .iter()
                    .map(String::as_str)
                    .chain(TIME_FIELDS.iter().copied()),
            )),
            _ => None,
        }
    }

    /// Adds the cells of the row resolved last: `cell(i)` is called once, last position first,
    /// so that the last of repeated names wins. A `spliced` row (written from its line) adds
    /// only the cells of the fields the pipeline reads; its other fields stay NULL.
    pub fn append_row<'t>(&mut self, mut cell: impl FnMut(usize) -> Cell<'t>, spliced: bool) {
        let row = self.rows;
        for i in (0..self.slots.len()).rev() {
            let Some(column) = self.slots[i].and_then(|c| self.columns.get_mut(c)) else {
                continue;
            };
            if spliced && !column.read {
                continue;
            }
            column.pad_to(row);
            if column.len > row {
                continue; // a later duplicate already won
            }
            append(column, cell(i), self.chunk, &mut self.shared);
        }
        self.rows += 1;
    }

    pub fn finish(self) -> RecordBatch {
        let rows = self.rows;
        let spliced = self.cuts.is_some();
        let (mut fields, mut arrays): (Vec<Field>, Vec<ArrayRef>) = self
            .columns
            .into_iter()
            .map(|c| c.finish(rows, spliced))
            .unzip();
        if let Some(lines) = self.lines {
            fields.push(Field::new(super::LINE_FIELD, DataType::Utf8View, true));
            arrays.push(lines.finish());
        }
        if let Some(mut builder) = self.cuts {
            fields.push(Field::new(super::CUT_FIELD, DataType::Int64, true));
            arrays.push(Arc::new(builder.finish()));
        }
        // Every column has `rows` values of its declared type, so this cannot fail.
        from_columns(fields, arrays, rows)
            .unwrap_or_else(|_| RecordBatch::new_empty(Arc::new(arrow::datatypes::Schema::empty())))
    }
}

/// Appends one cell to a column whose length is the current row.
#[inline(always)]
fn append(column: &mut Column, cell: Cell<'_>, chunk: &[u8], shared: &mut Option<Buffer>) {
    column.len += 1;
    match (&mut column.data, cell) {
        (Data::Text(t), Cell::Absent) => t.append_null(),
        (Data::Time(b), Cell::Absent | Cell::Text(_)) => b.append_null(),
        (Data::Time(b), Cell::Time(t)) => b.append_value(t),
        (Data::Text(t), Cell::Time(v)) => t.append(&v.to_string(), chunk, shared),
        (Data::Text(t), Cell::Text(text)) => t.append(&text, chunk, shared),
    }
}

/// A few field names, matched fast: a name whose length none of them has is turned down
/// without comparing bytes.
pub(crate) struct NarrowKeys {
    names: Vec<Box<[u8]>>,
    /// Bit `min(len, 63)` set for the length of each name.
    lengths: u64,
}

impl NarrowKeys {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> NarrowKeys {
        let names: Vec<Box<[u8]>> = names.map(|n| n.as_bytes().into()).collect();
        let lengths = names.iter().fold(0, |bits, n| bits | Self::bit(n.len()));
        NarrowKeys { names, lengths }
    }

    #[inline(always)]
    fn bit(len: usize) -> u64 {
        1 << len.min(63)
    }

    /// True when `key` is one of the names.
    #[inline(always)]
    pub fn wants(&self, key: &[u8]) -> bool {
        self.lengths & Self::bit(key.len()) != 0 && self.names.iter().any(|n| same_bytes(n, key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_keys_match_exactly_their_names_at_any_length() {
        let long = "k".repeat(63);
        let longer = "k".repeat(64);
        let keys = NarrowKeys::new(["status", "", long.as_str()].into_iter());
        for yes in ["status", "", long.as_str()] {
            assert!(keys.wants(yes.as_bytes()), "{yes}");
        }
        for no in [
            "statuS",
            "method",
            "statu",
            "s",
            longer.as_str(),
            &"k".repeat(80),
        ] {
            assert!(!keys.wants(no.as_bytes()), "{no}");
        }
        let mut columns = Columns::new(b"", None);
        assert!(columns.narrow_keys().is_none());
        columns.only(Arc::new(FieldSelection::Only(vec!["a".into()])));
        let keys = columns.narrow_keys().expect("one name is narrow");
        assert!(keys.wants(b"a") && keys.wants(b"__time__") && keys.wants(b"__time_ns_part__"));
        assert!(!keys.wants(b"b"));
    }
}

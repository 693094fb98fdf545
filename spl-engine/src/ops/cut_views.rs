//! Building the VARCHAR (Utf8View) columns extraction writes, whose values are mostly cuts of
//! the source column's values: a cut becomes a 16-byte view into the source's shared data
//! blocks (inline when 12 bytes or shorter), with no copy and none of the general builder's
//! per-value checks; other values are copied into blocks of the column's own
//! ([`crate::views::ViewColumn`]).
use arrow::array::{ByteView, StringViewArray};

use crate::views::{make_view, ViewColumn, INLINE_LEN};

/// A Utf8View column under construction, one value per row in order.
pub(crate) struct CutViews {
    column: ViewColumn,
    /// The source whose values [`CutViews::push_cut`] cuts; its blocks are the column's first.
    source: Option<StringViewArray>,
}

impl CutViews {
    /// A column of `rows` values; cuts come from `source`, whose data blocks it shares.
    pub(crate) fn new(rows: usize, source: Option<&StringViewArray>) -> CutViews {
        let column = ViewColumn::with_capacity(rows);
        let empty = CutViews {
            column,
            source: None,
        };
        match source {
            Some(s) => empty.cutting(s),
            None => empty,
        }
    }

    /// Cuts come from `source` from now on (before any value is pushed).
    pub(crate) fn cutting(mut self, source: &StringViewArray) -> CutViews {
        debug_assert!(self.column.blocks().is_empty());
        for block in source.data_buffers() {
            self.column.add_block(block.clone());
        }
        self.source = Some(source.clone());
        self
    }

    /// Appends bytes `start..end` of the source's value in `row`; NULL when that is no
    /// value's character range (a caller error) or there is no source.
    #[inline]
    pub(crate) fn push_cut(&mut self, row: usize, start: usize, end: usize) {
        let Some(source) = &self.source else {
            return self.push_null();
        };
        let view = source.views()[row];
        let length = view as u32 as usize;
        // The whole value: inside its view when short, else in the source's block (and the
        // column's block of the same index: the source's blocks come first, in order).
        let (whole, block, offset): (&[u8], u32, usize) = if length > INLINE_LEN {
            let v = ByteView::from(view);
            let data = source.data_buffers()[v.buffer_index as usize].as_slice();
            let at = v.offset as usize;
            (&data[at..at + length], v.buffer_index, at)
        } else {
            (&source.value(row).as_bytes()[..length], 0, 0)
        };
        let boundary =
            |i: usize| i == whole.len() || whole.get(i).is_some_and(|b| (*b as i8) >= -0x40);
        if start > end || end > whole.len() || !boundary(start) || !boundary(end) {
            debug_assert!(false, "{start}..{end} of {whole:?}");
            return self.push_null();
        }
        // A long value's cut points into its block; a short one is copied into its view.
        let cut = make_view(&whole[start..end], block, (offset + start) as u32);
        self.column.push_view(cut);
    }

    /// Appends `value` (copied), or NULL.
    pub(crate) fn push(&mut self, value: Option<&str>) {
        match value {
            Some(v) => self.column.push_copy(v),
            None => self.push_null(),
        }
    }

    pub(crate) fn push_null(&mut self) {
        self.column.push_null();
    }

    pub(crate) fn finish(self) -> StringViewArray {
        self.column.finish()
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, StringViewArray};

    use super::CutViews;

    #[test]
    fn cuts_copies_and_nulls_make_a_valid_column() {
        let long = "10.0.0.1 GET /api/v1/users/with/a/long/path 200 é";
        let source = StringViewArray::from(vec![Some(long), Some("short é"), None]);
        let mut b = CutViews::new(4, Some(&source));
        b.push_cut(0, 13, 43);
        b.push_cut(0, 0, 8);
        b.push_cut(1, 6, 8);
        b.push(None);
        b.push(Some("a copied value longer than twelve"));
        b.push(Some("tiny"));
        b.push_cut(0, 48, 50);
        let out = b.finish();
        out.to_data().validate_full().expect("valid");
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            [
                Some("/api/v1/users/with/a/long/path"),
                Some("10.0.0.1"),
                Some("é"),
                None,
                Some("a copied value longer than twelve"),
                Some("tiny"),
                Some("é"),
            ]
        );
        // The long cut is a view into the source's block, not a copy.
        assert_eq!(
            out.data_buffers()[0].as_ptr(),
            source.data_buffers()[0].as_ptr()
        );
    }

    #[test]
    fn many_copies_spill_into_more_blocks() {
        let mut b = CutViews::new(0, None);
        let value = "x".repeat(1 << 20);
        for _ in 0..20 {
            b.push(Some(&value));
        }
        b.push_cut(0, 0, 1);
        let out = b.finish();
        out.to_data().validate_full().expect("valid");
        assert!(out.data_buffers().len() >= 3);
        assert!(out.iter().take(20).all(|v| v == Some(value.as_str())));
        assert!(out.is_null(20));
    }
}

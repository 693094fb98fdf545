//! Building the VARCHAR (Utf8View) columns extraction writes, whose values are mostly cuts of
//! the source column's values: a cut becomes a 16-byte view into the source's shared data
//! blocks (inline when 12 bytes or shorter), with no copy and none of the general builder's
//! per-value checks; other values are copied into blocks of the column's own.
use arrow::array::builder::make_view;
use arrow::array::{BooleanBufferBuilder, ByteView, StringViewArray};
use arrow::buffer::{Buffer, NullBuffer, ScalarBuffer};

/// Most bytes of copied values one block of the column holds (view offsets are 32-bit).
const COPY_BLOCK: usize = 8 << 20;

/// A Utf8View column under construction, one value per row in order.
pub(crate) struct CutViews {
    views: Vec<u128>,
    /// Validity, made at the first NULL (every value before it is valid).
    nulls: Option<BooleanBufferBuilder>,
    /// Data blocks: the source's first (when there is one), then full blocks of copies.
    blocks: Vec<Buffer>,
    /// Copies being collected: the block after `blocks`.
    copies: Vec<u8>,
    /// The source whose values [`CutViews::push_cut`] cuts; its blocks are `blocks[..n]`.
    source: Option<StringViewArray>,
}

impl CutViews {
    /// A column of `rows` values; cuts come from `source`, whose data blocks it shares.
    pub(crate) fn new(rows: usize, source: Option<&StringViewArray>) -> CutViews {
        CutViews {
            views: Vec::with_capacity(rows),
            nulls: None,
            blocks: source
                .map(|s| s.data_buffers().to_vec())
                .unwrap_or_default(),
            copies: Vec::new(),
            source: source.cloned(),
        }
    }

    /// Cuts come from `source` from now on (before any value is pushed).
    pub(crate) fn cutting(mut self, source: &StringViewArray) -> CutViews {
        debug_assert!(self.views.is_empty() && self.blocks.is_empty());
        self.blocks = source.data_buffers().to_vec();
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
        let whole = source.value(row);
        if start > end || !whole.is_char_boundary(start) || !whole.is_char_boundary(end) {
            debug_assert!(false, "{start}..{end} of {whole:?}");
            return self.push_null();
        }
        let len = end - start;
        let view = ByteView::from(source.views()[row]);
        let cut = if view.length as usize > 12 {
            let at = view.offset as usize + start;
            let block = &source.data_buffers()[view.buffer_index as usize];
            // The whole value is `block[offset..offset + length]`; the cut lies inside it.
            make_view(&block[at..at + len], view.buffer_index, at as u32)
        } else {
            make_view(&whole.as_bytes()[start..end], 0, 0)
        };
        self.push_view(cut);
    }

    /// Appends `value` (copied), or NULL.
    pub(crate) fn push(&mut self, value: Option<&str>) {
        let Some(v) = value else {
            return self.push_null();
        };
        if v.len() <= 12 {
            return self.push_view(make_view(v.as_bytes(), 0, 0));
        }
        if !self.copies.is_empty() && self.copies.len() + v.len() > COPY_BLOCK {
            let full = std::mem::take(&mut self.copies);
            self.blocks.push(Buffer::from_vec(full));
        }
        let (block, at) = (self.blocks.len() as u32, self.copies.len() as u32);
        self.copies.extend_from_slice(v.as_bytes());
        self.push_view(make_view(v.as_bytes(), block, at));
    }

    pub(crate) fn push_null(&mut self) {
        let nulls = self.nulls.get_or_insert_with(|| {
            let mut b = BooleanBufferBuilder::new(self.views.capacity());
            b.append_n(self.views.len(), true);
            b
        });
        nulls.append(false);
        self.views.push(0);
    }

    #[inline]
    fn push_view(&mut self, view: u128) {
        if let Some(nulls) = &mut self.nulls {
            nulls.append(true);
        }
        self.views.push(view);
    }

    pub(crate) fn finish(mut self) -> StringViewArray {
        if !self.copies.is_empty() {
            self.blocks.push(Buffer::from_vec(self.copies));
        }
        let nulls = self.nulls.map(|mut b| NullBuffer::new(b.finish()));
        let views = ScalarBuffer::from(self.views);
        // SAFETY: every view is NULL (zero), inline (`make_view` of at most 12 bytes of valid
        // UTF-8) or points into a block: a cut lies inside its source value, at character
        // boundaries (checked in `push_cut`), in the source block of the same index (the
        // source's blocks come first, in order); a copy lies in the copy block it was written
        // to, which is pushed at the index it was given.
        unsafe { StringViewArray::new_unchecked(views, self.blocks, nulls) }
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

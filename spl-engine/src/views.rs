//! Arrow string-view (Utf8View) columns built by hand ([`ViewColumn`]), for the hot paths whose
//! values are mostly slices of buffers that already exist: the decoders' chunk, the source
//! values extraction cuts. Each value is a 16-byte view, inline when 12 bytes or shorter, else
//! pointing into one of the column's data blocks: blocks it shares, or copies of its own.
//! [`make_view`] writes a view without Arrow's general builder, whose inline case copies each
//! short value with a call to `memcpy` of a variable length (a measured cost on W1, W2 and W4):
//! here a short value is two overlapping word loads.
use arrow::array::{BooleanBufferBuilder, StringViewArray};
use arrow::buffer::{Buffer, NullBuffer, ScalarBuffer};

/// Values up to this length are stored inside the view itself (Arrow's inline limit).
pub(crate) const INLINE_LEN: usize = 12;

/// Most bytes of copied values one block of the column holds (view offsets are 32-bit).
const COPY_BLOCK: usize = 8 << 20;

/// The view of `data`: inline when at most [`INLINE_LEN`] bytes (`block` and `offset` unused),
/// else its length, first four bytes, `block` and `offset`.
#[inline(always)]
pub(crate) fn make_view(data: &[u8], block: u32, offset: u32) -> u128 {
    let len = data.len();
    if len > INLINE_LEN {
        let prefix = u32::from_le_bytes(word(data, 0));
        return len as u128
            | u128::from(prefix) << 32
            | u128::from(block) << 64
            | u128::from(offset) << 96;
    }
    // Two loads that overlap when the value is shorter than both together; OR-ing the
    // overlapping bytes (equal in both) leaves them as they are.
    let bytes: u128 = if len >= 8 {
        let head = u64::from_le_bytes(word(data, 0));
        let tail = u64::from_le_bytes(word(data, len - 8));
        u128::from(head) | u128::from(tail) << ((len - 8) * 8)
    } else if len >= 4 {
        let head = u32::from_le_bytes(word(data, 0));
        let tail = u32::from_le_bytes(word(data, len - 4));
        u128::from(head) | u128::from(tail) << ((len - 4) * 8)
    } else {
        data.iter()
            .enumerate()
            .fold(0, |v, (i, &c)| v | u128::from(c) << (8 * i))
    };
    len as u128 | bytes << 32
}

/// `N` bytes of `data` from `at` (the caller checked they exist).
#[inline(always)]
fn word<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut w = [0u8; N];
    w.copy_from_slice(&data[at..at + N]);
    w
}

/// A Utf8View column under construction, one value per row in order.
pub(crate) struct ViewColumn {
    views: Vec<u128>,
    /// Validity, made at the first NULL (every value before it is valid).
    nulls: Option<BooleanBufferBuilder>,
    /// Data blocks: shared ones and full blocks of copies, in the order they were added.
    blocks: Vec<Buffer>,
    /// Copies being collected: the block after `blocks`.
    copies: Vec<u8>,
    /// [`COPY_BLOCK`] (smaller in tests).
    copy_block: usize,
}

impl ViewColumn {
    pub fn with_capacity(rows: usize) -> ViewColumn {
        ViewColumn {
            views: Vec::with_capacity(rows),
            nulls: None,
            blocks: Vec::new(),
            copies: Vec::new(),
            copy_block: COPY_BLOCK,
        }
    }

    /// Adds a data block views may point into; returns its index.
    pub fn add_block(&mut self, block: Buffer) -> u32 {
        // Copies so far were given the index after the blocks: they take it now.
        self.close_copies();
        self.blocks.push(block);
        (self.blocks.len() - 1) as u32
    }

    /// The blocks added so far.
    pub fn blocks(&self) -> &[Buffer] {
        &self.blocks
    }

    /// Appends a view made by [`make_view`] of bytes of a block added before (or inline).
    #[inline]
    pub fn push_view(&mut self, view: u128) {
        if let Some(nulls) = &mut self.nulls {
            nulls.append(true);
        }
        self.views.push(view);
    }

    /// Appends `value`: inline when short, else copied into the column's own block.
    pub fn push_copy(&mut self, value: &str) {
        let bytes = value.as_bytes();
        if bytes.len() <= INLINE_LEN {
            return self.push_view(make_view(bytes, 0, 0));
        }
        if !self.copies.is_empty() && self.copies.len() + bytes.len() > self.copy_block {
            self.close_copies();
        }
        let (block, at) = (self.blocks.len() as u32, self.copies.len() as u32);
        self.copies.extend_from_slice(bytes);
        self.push_view(make_view(bytes, block, at));
    }

    pub fn push_null(&mut self) {
        let nulls = self.nulls.get_or_insert_with(|| {
            let mut b = BooleanBufferBuilder::new(self.views.capacity());
            b.append_n(self.views.len(), true);
            b
        });
        nulls.append(false);
        self.views.push(0);
    }

    /// Puts the copies collected so far in their block.
    fn close_copies(&mut self) {
        if !self.copies.is_empty() {
            let full = std::mem::take(&mut self.copies);
            self.blocks.push(Buffer::from_vec(full));
        }
    }

    pub fn finish(mut self) -> StringViewArray {
        self.close_copies();
        let nulls = self.nulls.map(|mut b| NullBuffer::new(b.finish()));
        let views = ScalarBuffer::from(self.views);
        // SAFETY: every view is NULL (zero), inline (`make_view` of at most 12 bytes of valid
        // UTF-8), or made by `make_view` of a valid UTF-8 range of the block of its index: a
        // block added by `add_block` (the caller's range, see `push_view`), or a copy block,
        // which takes the index its views were given (`add_block` and a full block close the
        // copies before any later block is added).
        unsafe { StringViewArray::new_unchecked(views, self.blocks, nulls) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringViewBuilder};

    /// Every length from 0 to 40, as views into a shared block and as copies, with NULLs
    /// between and a shared block added after copies began: the same array as Arrow's own
    /// builder gives, and valid by Arrow's full check.
    #[test]
    fn views_equal_arrows_builder() {
        let text: String = (0..64u8).map(|i| char::from(b'a' + i % 26)).collect();
        let shared = Buffer::from_slice_ref(text.as_bytes());
        let mut ours = ViewColumn::with_capacity(0);
        let mut arrows = StringViewBuilder::new();
        let mut block = None;
        for len in 0..=40 {
            let copied = format!("{}é", &text[..len]);
            ours.push_copy(&copied);
            arrows.append_value(&copied);
            ours.push_null();
            arrows.append_null();
            let inside = &text[3..3 + len];
            if len < 20 {
                ours.push_copy(inside);
            } else {
                // Added after copies began: they keep the block index they were given.
                let b = *block.get_or_insert_with(|| ours.add_block(shared.clone()));
                ours.push_view(make_view(inside.as_bytes(), b, 3));
            }
            arrows.append_value(inside);
        }
        let ours = ours.finish();
        ours.to_data().validate_full().expect("valid views");
        assert_eq!(ours, arrows.finish());
        // The shared block is shared, not copied.
        assert!(ours
            .data_buffers()
            .iter()
            .any(|b| b.as_ptr() == shared.as_ptr()));
    }

    #[test]
    fn many_copies_spill_into_more_blocks() {
        let mut col = ViewColumn::with_capacity(0);
        col.copy_block = 20;
        let values = ["0123456789abcdef", "ghijklmnopqrstuv", "wxyz0123456789ab"];
        for v in values {
            col.push_copy(v);
        }
        let array = col.finish();
        array.to_data().validate_full().expect("valid views");
        assert_eq!(array.iter().flatten().collect::<Vec<_>>(), values);
        assert_eq!(array.data_buffers().len(), 3);
    }
}

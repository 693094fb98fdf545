//! One text column of a decoded chunk, built as Arrow string views ([`TextColumn`]). A value
//! up to 12 bytes is stored inside its view; a longer value that lies inside the chunk is a
//! view into the chunk's one shared copy; any other value (unescaped, repaired) is copied into
//! the column's own buffer. Built by hand rather than with Arrow's `StringViewBuilder`, whose
//! inline case copies each short value with a call to `memcpy` of a variable length: here a
//! short value is two overlapping word loads, which is what most log fields are (status codes,
//! methods, addresses, numbers).
use std::sync::Arc;

use arrow::array::builder::NullBufferBuilder;
use arrow::array::{ArrayRef, StringViewArray};
use arrow::buffer::{Buffer, ScalarBuffer};

/// Values up to this length are stored inside the view itself (Arrow's inline limit).
pub(super) const INLINE_LEN: usize = 12;

/// Views reserved when a column starts (most chunks hold a few thousand rows).
const INITIAL_ROWS: usize = 1024;

/// Copied values go to a new block once the current one holds this many bytes, so that every
/// offset fits the view's 32 bits.
const MAX_OWNED_BLOCK: usize = i32::MAX as usize;

/// A Utf8View column under construction.
pub(super) struct TextColumn {
    views: Vec<u128>,
    nulls: NullBufferBuilder,
    /// The buffers long values point into, by block index. The block of copied values being
    /// filled holds an empty placeholder until [`TextColumn::finish`] (or until it is full).
    blocks: Vec<Buffer>,
    /// The block index of the shared chunk copy, once a view points into it.
    chunk_block: Option<u32>,
    /// Copied values, and the block index they will have.
    owned: Vec<u8>,
    owned_block: Option<u32>,
    /// [`MAX_OWNED_BLOCK`] (smaller in tests).
    max_owned: usize,
}

impl TextColumn {
    pub fn new() -> TextColumn {
        TextColumn {
            views: Vec::with_capacity(INITIAL_ROWS),
            nulls: NullBufferBuilder::new(INITIAL_ROWS),
            blocks: Vec::new(),
            chunk_block: None,
            owned: Vec::new(),
            owned_block: None,
            max_owned: MAX_OWNED_BLOCK,
        }
    }

    pub fn append_null(&mut self) {
        self.views.push(0);
        self.nulls.append_null();
    }

    /// Appends `text`: inline when short, else a view into `shared` (the chunk as an Arrow
    /// buffer, made from `chunk` on first use) when `text` lies inside `chunk`, else a copy.
    #[inline]
    pub fn append(&mut self, text: &str, chunk: &[u8], shared: &mut Option<Buffer>) {
        let bytes = text.as_bytes();
        self.nulls.append_non_null();
        if bytes.len() <= INLINE_LEN {
            self.views.push(inline_view(bytes));
            return;
        }
        let at_in_chunk = offset_in(chunk, bytes).filter(|_| chunk.len() < u32::MAX as usize);
        let (block, offset) = match at_in_chunk {
            Some(offset) => {
                let block = match self.chunk_block {
                    Some(b) => b,
                    None => {
                        let buffer = shared.get_or_insert_with(|| Buffer::from_slice_ref(chunk));
                        let b = self.blocks.len() as u32;
                        self.blocks.push(buffer.clone());
                        self.chunk_block = Some(b);
                        b
                    }
                };
                (block, offset)
            }
            None => self.copy(bytes),
        };
        self.views.push(long_view(bytes, block, offset));
    }

    /// Copies a long value into the block of copied values: its block and offset there.
    fn copy(&mut self, bytes: &[u8]) -> (u32, usize) {
        if self.owned.len() + bytes.len() > self.max_owned {
            self.close_owned();
        }
        let block = match self.owned_block {
            Some(b) => b,
            None => {
                let b = self.blocks.len() as u32;
                self.blocks.push(Buffer::from_vec(Vec::<u8>::new()));
                self.owned_block = Some(b);
                b
            }
        };
        let offset = self.owned.len();
        self.owned.extend_from_slice(bytes);
        (block, offset)
    }

    /// Puts the copied values in their block; later copies start a new one.
    fn close_owned(&mut self) {
        if let Some(b) = self.owned_block.take() {
            self.blocks[b as usize] = Buffer::from_vec(std::mem::take(&mut self.owned));
        }
    }

    pub fn finish(mut self) -> ArrayRef {
        self.close_owned();
        let views = ScalarBuffer::from(self.views);
        // SAFETY: every view is 0 (a NULL), an inline view of a value's bytes, or a view whose
        // block, offset and length name bytes of `blocks`: the chunk copy (`offset_in` checked
        // the range lies inside the chunk, whose copy it is) or the copied values (closed
        // above, holding the bytes at the offset `copy` returned). All those bytes are the
        // UTF-8 of a `&str`, and each long view's prefix is its first four bytes.
        let array =
            unsafe { StringViewArray::new_unchecked(views, self.blocks, self.nulls.finish()) };
        Arc::new(array)
    }
}

/// Where `bytes` starts inside `chunk`, if it is a slice of it.
fn offset_in(chunk: &[u8], bytes: &[u8]) -> Option<usize> {
    let base = chunk.as_ptr() as usize;
    let start = bytes.as_ptr() as usize;
    let offset = start.checked_sub(base)?;
    (offset.checked_add(bytes.len())? <= chunk.len()).then_some(offset)
}

/// The view of a value of at most [`INLINE_LEN`] bytes: its length, then its bytes.
#[inline(always)]
fn inline_view(b: &[u8]) -> u128 {
    let len = b.len();
    debug_assert!(len <= INLINE_LEN);
    // Two loads that overlap when the value is shorter than both together; OR-ing the
    // overlapping bytes (equal in both) leaves them as they are.
    let data: u128 = if len >= 8 {
        let head = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let tail = u64::from_le_bytes(b[len - 8..].try_into().unwrap_or_default());
        u128::from(head) | u128::from(tail) << ((len - 8) * 8)
    } else if len >= 4 {
        let head = u32::from_le_bytes(b[..4].try_into().unwrap_or_default());
        let tail = u32::from_le_bytes(b[len - 4..].try_into().unwrap_or_default());
        u128::from(head) | u128::from(tail) << ((len - 4) * 8)
    } else {
        b.iter()
            .enumerate()
            .fold(0, |v, (i, &c)| v | u128::from(c) << (8 * i))
    };
    len as u128 | data << 32
}

/// The view of a longer value at `offset` in block `block`: length, first four bytes, block,
/// offset.
#[inline(always)]
fn long_view(b: &[u8], block: u32, offset: usize) -> u128 {
    let prefix = u32::from_le_bytes(b[..4].try_into().unwrap_or_default());
    b.len() as u128 | u128::from(prefix) << 32 | u128::from(block) << 64 | (offset as u128) << 96
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringViewBuilder};

    /// Every length from 0 to 40, inside and outside the chunk, with NULLs between: the same
    /// array as Arrow's own builder gives, and valid by Arrow's full check.
    #[test]
    fn views_equal_arrows_builder() {
        let text: String = (0..64u8).map(|i| char::from(b'a' + i % 26)).collect();
        let chunk = text.as_bytes();
        let mut shared = None;
        let mut ours = TextColumn::new();
        let mut arrows = StringViewBuilder::new();
        for len in 0..=40 {
            let inside = &text[3..3 + len];
            let outside = format!("{}é", &text[..len]);
            ours.append(inside, chunk, &mut shared);
            arrows.append_value(inside);
            ours.append_null();
            arrows.append_null();
            ours.append(&outside, chunk, &mut shared);
            arrows.append_value(&outside);
        }
        let ours = ours.finish();
        let arrows: ArrayRef = Arc::new(arrows.finish());
        assert_eq!(&ours, &arrows);
        ours.to_data().validate_full().expect("valid views");
        let views = ours
            .as_any()
            .downcast_ref::<StringViewArray>()
            .expect("views");
        assert_eq!(views.value(3 * 20), &text[3..23]);
        assert!(views.is_null(3 * 20 + 1));
        // Long values inside the chunk point into its one copy; others were copied.
        assert_eq!(views.data_buffers().len(), 2);
        assert!(views.data_buffers().iter().any(|b| b.as_slice() == chunk));
    }

    #[test]
    fn a_full_block_of_copies_starts_another() {
        let mut col = TextColumn::new();
        col.max_owned = 20;
        let values = ["0123456789abcdef", "ghijklmnopqrstuv", "wxyz0123456789ab"];
        for v in values {
            col.append(v, b"", &mut None);
        }
        let array = col.finish();
        array.to_data().validate_full().expect("valid views");
        let views = array
            .as_any()
            .downcast_ref::<StringViewArray>()
            .expect("views");
        assert_eq!(views.iter().flatten().collect::<Vec<_>>(), values);
        assert_eq!(views.data_buffers().len(), 3);
    }
}

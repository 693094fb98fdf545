//! One text column of a decoded chunk ([`TextColumn`]): a [`ViewColumn`] whose long values
//! point into the chunk's one shared copy when they lie inside the chunk (most do), and are
//! copied otherwise (unescaped, repaired or made-up values).
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::buffer::Buffer;

use crate::views::{make_view, ViewColumn, INLINE_LEN};

/// Views reserved when a column starts (most chunks hold a few thousand rows).
const INITIAL_ROWS: usize = 1024;

pub(super) struct TextColumn {
    views: ViewColumn,
    /// The block index of the shared chunk copy, once a view points into it.
    chunk_block: Option<u32>,
}

impl TextColumn {
    pub fn new() -> TextColumn {
        TextColumn {
            views: ViewColumn::with_capacity(INITIAL_ROWS),
            chunk_block: None,
        }
    }

    pub fn append_null(&mut self) {
        self.views.push_null();
    }

    /// Appends `text`: inline when short, else a view into `shared` (the chunk as an Arrow
    /// buffer, made from `chunk` on first use) when `text` lies inside `chunk`, else a copy.
    #[inline]
    pub fn append(&mut self, text: &str, chunk: &[u8], shared: &mut Option<Buffer>) {
        let bytes = text.as_bytes();
        if bytes.len() <= INLINE_LEN {
            return self.views.push_view(make_view(bytes, 0, 0));
        }
        let offset = offset_in(chunk, bytes).and_then(|o| u32::try_from(o).ok());
        let Some(offset) = offset.filter(|_| chunk.len() < u32::MAX as usize) else {
            return self.views.push_copy(text);
        };
        let block = match self.chunk_block {
            Some(b) => b,
            None => {
                let buffer = shared.get_or_insert_with(|| Buffer::from_slice_ref(chunk));
                let b = self.views.add_block(buffer.clone());
                self.chunk_block = Some(b);
                b
            }
        };
        // `text` is bytes `offset..offset + len` of the chunk, whose copy the block is.
        self.views.push_view(make_view(bytes, block, offset));
    }

    pub fn finish(self) -> ArrayRef {
        Arc::new(self.views.finish())
    }
}

/// Where `bytes` starts inside `chunk`, if it is a slice of it.
fn offset_in(chunk: &[u8], bytes: &[u8]) -> Option<usize> {
    let base = chunk.as_ptr() as usize;
    let start = bytes.as_ptr() as usize;
    let offset = start.checked_sub(base)?;
    (offset.checked_add(bytes.len())? <= chunk.len()).then_some(offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringViewArray};

    /// Short values inline, long ones inside the chunk as views into its one copy, others
    /// copied; NULLs between.
    #[test]
    fn values_inside_the_chunk_are_views_into_it() {
        let chunk = "a fairly long first value|x|another long value here".as_bytes();
        let text = std::str::from_utf8(chunk).unwrap();
        let mut shared = None;
        let mut col = TextColumn::new();
        col.append(&text[..25], chunk, &mut shared);
        col.append(&text[26..27], chunk, &mut shared);
        col.append_null();
        col.append("a value made elsewhere, longer", chunk, &mut shared);
        col.append(&text[28..], chunk, &mut shared);
        let array = col.finish();
        array.to_data().validate_full().expect("valid views");
        let views = array
            .as_any()
            .downcast_ref::<StringViewArray>()
            .expect("views");
        let got: Vec<Option<&str>> = views.iter().collect();
        assert_eq!(
            got,
            [
                Some("a fairly long first value"),
                Some("x"),
                None,
                Some("a value made elsewhere, longer"),
                Some("another long value here"),
            ]
        );
        let copy = shared.expect("the chunk was copied once");
        assert_eq!(copy.as_slice(), chunk);
        assert_eq!(views.data_buffers().len(), 2);
        assert!(views
            .data_buffers()
            .iter()
            .any(|b| b.as_ptr() == copy.as_ptr()));
    }
}

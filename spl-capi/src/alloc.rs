//! Peak memory of one call. With the `count-alloc` feature (default) the library installs a
//! global allocator that forwards to mimalloc (feature `mimalloc`, default: the allocator `spl`
//! itself runs on; the engine allocates and frees Arrow buffers per batch, which a C agent's
//! system allocator does markedly slower) or else to the system allocator, and counts, per
//! thread, the bytes currently allocated; a call's peak is the highest count above the count at its start. This
//! measures what the engine really allocates on the calling thread (input buffers owned by the
//! caller are not counted: they are read in place). Without the feature the peak falls back to
//! the largest of the input and output Arrow sizes.
use std::cell::Cell;

thread_local! {
    static CURRENT: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

#[cfg(feature = "count-alloc")]
mod counting {
    use std::alloc::{GlobalAlloc, Layout};

    #[cfg(not(feature = "mimalloc"))]
    use std::alloc::System;

    #[cfg(feature = "mimalloc")]
    use mimalloc::MiMalloc as System;

    /// mimalloc (feature `mimalloc`) or the system allocator, counting bytes per thread.
    pub struct Counting;

    // SAFETY: every call forwards to the allocator unchanged; only counters are updated.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's layout.
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                super::add(layout.size() as i64);
            }
            p
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: forwarded with the caller's layout.
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                super::add(layout.size() as i64);
            }
            p
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded unchanged.
            unsafe { System.dealloc(ptr, layout) };
            super::add(-(layout.size() as i64));
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: forwarded unchanged.
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                super::add(new_size as i64 - layout.size() as i64);
            }
            p
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}

#[cfg_attr(not(feature = "count-alloc"), allow(dead_code))]
fn add(delta: i64) {
    let _ = CURRENT.try_with(|c| {
        let now = c.get().wrapping_add(delta);
        c.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now);
            }
        });
    });
}

/// Starts measuring on this thread; returns the baseline for [`peak_since`].
pub(crate) fn start() -> i64 {
    let now = CURRENT.try_with(Cell::get).unwrap_or(0);
    let _ = PEAK.try_with(|p| p.set(now));
    now
}

/// Bytes allocated at the highest point since [`start`] returned `baseline`; `None` when the
/// counting allocator is not installed.
pub(crate) fn peak_since(baseline: i64) -> Option<u64> {
    if !cfg!(feature = "count-alloc") {
        return None;
    }
    let peak = PEAK.try_with(Cell::get).unwrap_or(baseline);
    Some(u64::try_from(peak.saturating_sub(baseline)).unwrap_or(0))
}

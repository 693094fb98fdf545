//! Work shared by the function calls of one stage on one batch: `url_extract_host(url)`,
//! `url_extract_path(url)` and `url_extract_parameter(url, 'id')` in one `extend` split the same
//! column of URLs once, not three times.
//!
//! An operator opens a [`scope`] around its expression evaluation; inside it, a function asks
//! [`memoized`] for a value derived from a text column, keyed by what it computes and by the
//! column's identity (its buffers). The scope holds a clone of each column it keyed on, so the
//! buffers cannot be freed and their addresses reused while the scope lives, and everything is
//! dropped when the scope ends: nothing outlives the batch. Outside a scope nothing is kept.
use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use arrow::array::{Array, StringViewArray};

/// Entries one scope keeps at most (later ones are computed without being kept).
const MAX_ENTRIES: usize = 16;

struct Entry {
    kind: &'static str,
    /// The keyed column (kept alive so that its identity stays unique).
    column: StringViewArray,
    value: Rc<dyn Any>,
}

thread_local! {
    static SCOPE: RefCell<Option<Vec<Entry>>> = const { RefCell::new(None) };
}

/// Runs `f` with a memo scope open on this thread (an enclosing scope is set aside and
/// restored, also when `f` panics).
pub fn scope<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Vec<Entry>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            // The entries dropped here may run arbitrary drops; none touch the memo.
            let _ = SCOPE.try_with(|s| s.replace(outer));
        }
    }
    let outer = SCOPE.with(|s| s.replace(Some(Vec::new())));
    let _restore = Restore(outer);
    f()
}

/// True when both arrays are the same column: the same views buffer at the same offset and
/// length, and the same data buffers.
fn same_column(a: &StringViewArray, b: &StringViewArray) -> bool {
    a.len() == b.len()
        && a.views().inner().as_ptr() == b.views().inner().as_ptr()
        && a.data_buffers().len() == b.data_buffers().len()
        && a.data_buffers()
            .iter()
            .zip(b.data_buffers())
            .all(|(x, y)| x.as_ptr() == y.as_ptr() && x.len() == y.len())
        && a.nulls().map(|n| n.buffer().as_ptr()) == b.nulls().map(|n| n.buffer().as_ptr())
}

/// The `kind` value of `column`: computed by `compute`, or the one computed earlier in this
/// scope for the same column.
pub fn memoized<T: 'static>(
    kind: &'static str,
    column: &StringViewArray,
    compute: impl FnOnce() -> T,
) -> Rc<T> {
    let found = SCOPE.with(|s| {
        s.borrow().as_ref().and_then(|entries| {
            entries
                .iter()
                .find(|e| e.kind == kind && same_column(&e.column, column))
                .map(|e| Rc::clone(&e.value))
        })
    });
    if let Some(value) = found.and_then(|v| v.downcast::<T>().ok()) {
        return value;
    }
    let value = Rc::new(compute());
    SCOPE.with(|s| {
        if let Some(entries) = s.borrow_mut().as_mut() {
            if entries.len() < MAX_ENTRIES {
                entries.push(Entry {
                    kind,
                    column: column.clone(),
                    value: Rc::clone(&value) as Rc<dyn Any>,
                });
            }
        }
    });
    value
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn lengths(column: &StringViewArray, calls: &Cell<usize>) -> Rc<Vec<usize>> {
        memoized("lengths", column, || {
            calls.set(calls.get() + 1);
            column.iter().map(|v| v.map_or(0, str::len)).collect()
        })
    }

    #[test]
    fn a_scope_computes_once_per_column_and_nothing_outside_it() {
        let calls = Cell::new(0);
        let a = StringViewArray::from(vec![Some("http://a/b"), None, Some("xyz")]);
        let b = StringViewArray::from(vec![Some("http://a/b"), None, Some("xyz")]);
        scope(|| {
            assert_eq!(*lengths(&a, &calls), [10, 0, 3]);
            // A clone is the same column; an equal array built apart is not.
            assert_eq!(*lengths(&a.clone(), &calls), [10, 0, 3]);
            assert_eq!(calls.get(), 1);
            lengths(&b, &calls);
            assert_eq!(calls.get(), 2);
            // A slice is a different column.
            assert_eq!(*lengths(&a.slice(1, 2), &calls), [0, 3]);
            assert_eq!(calls.get(), 3);
        });
        // Outside: computed every time.
        lengths(&a, &calls);
        lengths(&a, &calls);
        assert_eq!(calls.get(), 5);
    }

    #[test]
    fn scopes_nest_and_end_on_panic() {
        let calls = Cell::new(0);
        let a = StringViewArray::from(vec![Some("x")]);
        scope(|| {
            lengths(&a, &calls);
            let inner = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                scope(|| {
                    lengths(&a, &calls);
                    panic!("inside");
                })
            }));
            assert!(inner.is_err());
            // The outer scope is back, with its entry.
            lengths(&a, &calls);
        });
        assert_eq!(calls.get(), 2);
    }
}

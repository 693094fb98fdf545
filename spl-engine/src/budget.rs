//! The budget of the work in progress on this thread: a deadline and a memory ceiling that long
//! loops check while they run, so one batch cannot run far past its budgets before the pipeline
//! notices.
//!
//! DataFusion's UDFs take no context parameter, so the current budget is thread-local: the
//! pipeline runner enters a [`Scope`] around each stage it runs on a batch (each rayon worker
//! runs its own batches and so sets its own), constant folding enters one around each
//! compile-time evaluation. Loops call [`tick`] with the number of elements they handled (the
//! clock is read only every [`CHECK_EVERY`] elements) and [`charge`] with the bytes of the
//! arrays they build (summed over the scope: an upper bound of its peak). Outside any scope both
//! are a thread-local read and nothing else.
//!
//! A hit is sticky: once the deadline or the ceiling is exceeded, every later `tick`/`charge`
//! in the scope fails at once, so a caller that retries (an expression re-evaluated row by row)
//! also stops at once, and the runner, which checks [`Scope::hit`] after the stage, reports the
//! budget even when the error it returned was turned into a row error on the way.
//!
//! A scope entered inside another keeps the earlier of the two deadlines: a host that gives a
//! whole request a deadline (a pull of the pushdown server) enters a scope around it, and every
//! stage scope the runner enters inside stops at that deadline too. A scope whose deadline has
//! already passed starts out hit.
//!
//! What is charged is what the engine allocates, counted from the Arrow buffers themselves:
//! [`charge_arrays`] adds the capacity of each allocation behind an array that this scope has
//! not counted yet (an allocation shared by several arrays — the columns that are views into
//! one input chunk, a sliced array — counts once), and [`known`] marks the buffers of a stage's
//! input as counted, so a stage is charged for what it builds, not for what it was given.
//! Loops that are about to build something large charge their estimate first ([`charge`]), so a
//! runaway stops before the allocation, and [`top_up`] then charges only what the finished
//! array holds beyond the estimates made while it was built.
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::time::Instant;

use arrow::array::{Array, ArrayData};
use arrow::record_batch::RecordBatch;

/// Elements handled between two reads of the clock.
pub const CHECK_EVERY: u64 = 1024;

/// Which budget was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// The scope's deadline passed.
    Deadline,
    /// The bytes charged in the scope passed its ceiling.
    Memory { used: usize, limit: usize },
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exceeded::Deadline => write!(f, "the time budget was exceeded"),
            Exceeded::Memory { used, limit } => write!(
                f,
                "the memory budget was exceeded ({used} bytes, over {limit})"
            ),
        }
    }
}

impl std::error::Error for Exceeded {}

/// The budget of one scope.
#[derive(Debug, Clone, Copy, Default)]
struct State {
    active: bool,
    deadline: Option<Instant>,
    limit: Option<usize>,
    used: usize,
    ticks: u64,
    hit: Option<Exceeded>,
}

thread_local! {
    /// Whether a budget is in force: read first by every check, so that work outside a budget
    /// (the `cli` profile) pays one flag load per row instead of copying [`State`].
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<State> = const {
        Cell::new(State {
            active: false,
            deadline: None,
            limit: None,
            used: 0,
            ticks: 0,
            hit: None,
        })
    };
}

/// A budget in force on this thread until it is dropped (the one before it comes back).
#[must_use = "the budget holds only while the scope lives"]
pub struct Scope {
    previous: State,
    /// The allocations the enclosing scope had counted (set aside while this scope counts its
    /// own; `None` when this scope checks nothing).
    counted: Option<HashSet<usize>>,
}

thread_local! {
    /// The allocations (Arrow buffers, by address) counted in the current scope.
    static COUNTED: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
}

/// Enters a budget: work on this thread must finish by `deadline` (or the deadline of the scope
/// it is entered in, when that is earlier) and charge at most `limit` bytes. With neither,
/// checks cost nothing.
pub fn enter(deadline: Option<Instant>, limit: Option<usize>) -> Scope {
    let previous = CURRENT.with(|c| c.get());
    let deadline = match (deadline, previous.deadline.filter(|_| previous.active)) {
        (Some(d), Some(outer)) => Some(d.min(outer)),
        (d, outer) => d.or(outer),
    };
    let hit = deadline
        .is_some_and(|d| Instant::now() > d)
        .then_some(Exceeded::Deadline);
    ACTIVE.with(|a| a.set(deadline.is_some() || limit.is_some()));
    CURRENT.with(|c| {
        c.set(State {
            active: deadline.is_some() || limit.is_some(),
            deadline,
            limit,
            hit,
            ..State::default()
        })
    });
    let counted = (deadline.is_some() || limit.is_some())
        .then(|| COUNTED.with(|c| std::mem::take(&mut *c.borrow_mut())));
    Scope { previous, counted }
}

/// True when a budget is in force on this thread (callers skip bookkeeping otherwise).
#[inline]
pub fn active() -> bool {
    ACTIVE.with(Cell::get)
}

/// Bytes charged in the current scope so far (0 outside a scope).
#[inline]
pub fn used() -> usize {
    CURRENT.with(|c| c.get().used)
}

/// Visits every allocation behind `data` (buffers, validity, children, dictionary values) as
/// (address, capacity in bytes). A buffer owned by the host (imported through the C Data
/// Interface) reports its length: its capacity is not known.
fn allocations(data: &ArrayData, f: &mut dyn FnMut(usize, usize)) {
    for b in data.buffers() {
        f(b.data_ptr().as_ptr() as usize, b.capacity().max(b.len()));
    }
    if let Some(n) = data.nulls() {
        let b = n.buffer();
        f(b.data_ptr().as_ptr() as usize, b.capacity().max(b.len()));
    }
    for child in data.child_data() {
        allocations(child, f);
    }
}

/// The bytes of the distinct allocations behind `arrays` (what they actually hold in memory,
/// shared buffers once).
pub fn arrays_bytes<'a>(arrays: impl IntoIterator<Item = &'a dyn Array>) -> usize {
    let mut seen = HashSet::new();
    let mut total = 0usize;
    for a in arrays {
        allocations(&a.to_data(), &mut |at, bytes| {
            if seen.insert(at) {
                total = total.saturating_add(bytes);
            }
        });
    }
    total
}

/// The bytes of the distinct allocations behind the columns of `batches`.
pub fn batches_bytes(batches: &[RecordBatch]) -> usize {
    arrays_bytes(
        batches
            .iter()
            .flat_map(|b| b.columns().iter().map(|c| c.as_ref())),
    )
}

/// The bytes of the allocations behind `batch` that are not in `counted` yet, which are added
/// to it (a buffering stage's own count of what it holds).
pub fn new_bytes(batch: &RecordBatch, counted: &mut HashSet<usize>) -> usize {
    let mut total = 0usize;
    for col in batch.columns() {
        allocations(&col.to_data(), &mut |at, bytes| {
            if counted.insert(at) {
                total = total.saturating_add(bytes);
            }
        });
    }
    total
}

/// Marks the allocations behind `batch` as counted in this scope (a stage's input, already
/// counted where it was built).
pub fn known(batch: &RecordBatch) {
    if !active() {
        return;
    }
    COUNTED.with(|c| {
        let mut c = c.borrow_mut();
        for col in batch.columns() {
            allocations(&col.to_data(), &mut |at, _| {
                c.insert(at);
            });
        }
    });
}

/// Charges the allocations behind `arrays` that this scope has not counted yet.
pub fn charge_arrays(arrays: &[&dyn Array]) -> Result<(), Exceeded> {
    top_up(used(), arrays)
}

/// Charges what the allocations behind `arrays` not yet counted in this scope hold beyond the
/// bytes charged since `before` (a [`used`] reading taken before they were built, by loops that
/// charged their estimates on the way).
pub fn top_up(before: usize, arrays: &[&dyn Array]) -> Result<(), Exceeded> {
    if !active() {
        return Ok(());
    }
    let mut new = 0usize;
    COUNTED.with(|c| {
        let mut c = c.borrow_mut();
        for a in arrays {
            allocations(&a.to_data(), &mut |at, bytes| {
                if c.insert(at) {
                    new = new.saturating_add(bytes);
                }
            });
        }
    });
    let estimated = used().saturating_sub(before);
    charge(new.saturating_sub(estimated))
}

impl Scope {
    /// The budget this scope exceeded, if any.
    pub fn hit(&self) -> Option<Exceeded> {
        CURRENT.with(|c| c.get().hit)
    }

    /// Bytes charged in this scope so far.
    pub fn used(&self) -> usize {
        CURRENT.with(|c| c.get().used)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
        ACTIVE.with(|a| a.set(self.previous.active));
        if let Some(counted) = self.counted.take() {
            COUNTED.with(|c| *c.borrow_mut() = counted);
        }
    }
}

/// Counts `n` handled elements; reads the clock every [`CHECK_EVERY`] of them.
#[inline]
pub fn tick(n: usize) -> Result<(), Exceeded> {
    if !active() {
        return Ok(());
    }
    CURRENT.with(|c| {
        let mut s = c.get();
        if let Some(hit) = s.hit {
            return Err(hit);
        }
        s.ticks += n as u64;
        if s.ticks >= CHECK_EVERY {
            s.ticks = 0;
            if s.deadline.is_some_and(|d| Instant::now() > d) {
                s.hit = Some(Exceeded::Deadline);
            }
        }
        c.set(s);
        s.hit.map_or(Ok(()), Err)
    })
}

/// Reads the clock now (for a loop whose single steps may be long).
pub fn check() -> Result<(), Exceeded> {
    if !active() {
        return Ok(());
    }
    CURRENT.with(|c| {
        let mut s = c.get();
        if s.hit.is_none() && s.deadline.is_some_and(|d| Instant::now() > d) {
            s.hit = Some(Exceeded::Deadline);
            c.set(s);
        }
        s.hit.map_or(Ok(()), Err)
    })
}

/// Charges `bytes` about to be (or just) allocated.
#[inline]
pub fn charge(bytes: usize) -> Result<(), Exceeded> {
    if !active() {
        return Ok(());
    }
    CURRENT.with(|c| {
        let mut s = c.get();
        if let Some(hit) = s.hit {
            return Err(hit);
        }
        s.used = s.used.saturating_add(bytes);
        if let Some(limit) = s.limit.filter(|&l| s.used > l) {
            s.hit = Some(Exceeded::Memory {
                used: s.used,
                limit,
            });
        }
        c.set(s);
        s.hit.map_or(Ok(()), Err)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn outside_a_scope_nothing_is_checked() {
        assert_eq!(charge(usize::MAX), Ok(()));
        assert_eq!(tick(usize::MAX), Ok(()));
    }

    #[test]
    fn memory_hits_are_sticky_and_scopes_nest() {
        let outer = enter(None, Some(100));
        charge(60).unwrap();
        {
            let inner = enter(None, Some(10));
            assert_eq!(
                charge(11),
                Err(Exceeded::Memory {
                    used: 11,
                    limit: 10
                })
            );
            assert!(tick(1).is_err(), "a hit stays");
            assert!(inner.hit().is_some());
        }
        assert_eq!(outer.hit(), None);
        assert_eq!(outer.used(), 60);
        assert!(charge(41).is_err());
    }

    #[test]
    fn an_inner_scope_keeps_the_earlier_deadline() {
        let past = Instant::now() - Duration::from_millis(1);
        let _outer = enter(Some(past), None);
        let inner = enter(
            Some(Instant::now() + Duration::from_secs(60)),
            Some(1 << 30),
        );
        assert_eq!(inner.hit(), Some(Exceeded::Deadline), "hit from the start");
        assert!(charge(1).is_err());
    }

    #[test]
    fn top_up_charges_what_an_array_holds_beyond_the_estimates() {
        use arrow::array::Int64Array;
        let scope = enter(None, Some(1 << 30));
        let a = Int64Array::from(vec![1i64; 1000]);
        let held = arrays_bytes([&a as &dyn Array]);
        assert!(held >= 8000, "{held}");
        let before = used();
        charge(3000).unwrap();
        top_up(before, &[&a]).unwrap();
        assert_eq!(scope.used(), held, "estimate plus the rest");
        // Counted once per scope.
        charge_arrays(&[&a, &a.slice(10, 10)]).unwrap();
        assert_eq!(scope.used(), held);
    }

    #[test]
    fn a_past_deadline_is_seen_within_check_every_elements() {
        let scope = enter(Some(Instant::now() - Duration::from_millis(1)), None);
        let mut handled = 0;
        while tick(1).is_ok() {
            handled += 1;
        }
        assert!(handled < CHECK_EVERY);
        assert_eq!(scope.hit(), Some(Exceeded::Deadline));
    }
}

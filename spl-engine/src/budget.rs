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
use std::cell::Cell;
use std::time::Instant;

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
}

/// Enters a budget: work on this thread must finish by `deadline` and charge at most `limit`
/// bytes. With neither, checks cost nothing.
pub fn enter(deadline: Option<Instant>, limit: Option<usize>) -> Scope {
    let previous = CURRENT.with(|c| {
        c.replace(State {
            active: deadline.is_some() || limit.is_some(),
            deadline,
            limit,
            ..State::default()
        })
    });
    Scope { previous }
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
    }
}

/// Counts `n` handled elements; reads the clock every [`CHECK_EVERY`] of them.
#[inline]
pub fn tick(n: usize) -> Result<(), Exceeded> {
    CURRENT.with(|c| {
        let mut s = c.get();
        if !s.active {
            return Ok(());
        }
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
    CURRENT.with(|c| {
        let mut s = c.get();
        if !s.active {
            return Ok(());
        }
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
    CURRENT.with(|c| {
        let mut s = c.get();
        if !s.active {
            return Ok(());
        }
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

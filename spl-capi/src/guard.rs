//! The error side of every entry point: a failure is a status code plus a message kept per
//! thread for `spl_last_error`; panics are caught here so none crosses the ABI, and none prints
//! to the host's stderr (a panic hook, installed once, records the message and location of a
//! panic raised inside an entry point and stays silent; panics elsewhere in the process go to
//! the hook that was installed before).
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use crate::status::SplStatus;

/// A failed call: its status and message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: SplStatus,
    pub message: String,
}

impl Failure {
    pub fn new(status: SplStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

pub(crate) type Outcome = Result<SplStatus, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// How many entry points are running on this thread (an entry point can call back into the
    /// library only through the host, so this is 0 or 1 in practice).
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// The message and location of the last panic caught inside an entry point.
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs the silent hook once per process, chaining to the previous hook for panics that
/// happen outside the library's entry points (the host's own panics keep their output).
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            let inside = DEPTH.try_with(Cell::get).unwrap_or(0) > 0;
            if inside {
                let what = payload_text(info.payload());
                let text = match info.location() {
                    Some(l) => format!("{what} (at {}:{})", l.file(), l.line()),
                    None => what,
                };
                let _ = PANIC.try_with(|p| *p.borrow_mut() = Some(text));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Marks this thread as inside an entry point for as long as it lives.
struct Inside;

impl Inside {
    fn enter() -> Inside {
        let _ = DEPTH.try_with(|d| d.set(d.get() + 1));
        Inside
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        let _ = DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Runs one entry point: catches panics and records the message of a failure as the thread's
/// last error (successful calls leave it alone, like `errno`). `Ok(status)` lets a call return
/// a non-OK status that still produced output (a budget hit under pass-through) with a message.
pub(crate) fn guard(f: impl FnOnce(&mut Option<String>) -> Outcome) -> SplStatus {
    install_hook();
    let mut note = None;
    let result = {
        let _inside = Inside::enter();
        catch_unwind(AssertUnwindSafe(|| f(&mut note)))
    };
    match result {
        Ok(Ok(status)) => {
            if status != SplStatus::SPL_OK {
                set_last_error(note.as_deref().unwrap_or("unknown error"));
            }
            status
        }
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.status
        }
        Err(payload) => {
            let what = PANIC
                .try_with(|p| p.borrow_mut().take())
                .ok()
                .flatten()
                .unwrap_or_else(|| payload_text(payload.as_ref()));
            set_last_error(&format!("internal error (caught panic): {what}"));
            SplStatus::SPL_ERR_INTERNAL
        }
    }
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = text);
}

/// The message of the thread's last failed call (empty before any).
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// Fails with `SPL_ERR_NULL_POINTER` when `p` is NULL.
pub(crate) fn non_null<T>(p: *const T, what: &str) -> Result<(), Failure> {
    if p.is_null() {
        Err(Failure::new(
            SplStatus::SPL_ERR_NULL_POINTER,
            format!("{what} is NULL"),
        ))
    } else {
        Ok(())
    }
}

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    non_null(p, what)?;
    // SAFETY: checked non-null; the caller promises NUL termination.
    let s = unsafe { std::ffi::CStr::from_ptr(p) };
    s.to_str().map_err(|e| {
        Failure::new(
            SplStatus::SPL_ERR_INVALID_UTF8,
            format!("{what} is not valid UTF-8 (byte {})", e.valid_up_to()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHILD: &str = "SPL_CAPI_PANIC_CHILD";

    /// A panic inside an entry point: `SPL_ERR_INTERNAL`, the message and location in the last
    /// error. Run in a child process by the test below (it does nothing otherwise).
    #[test]
    fn child_panics_inside_the_guard() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        let status = guard(|_| panic!("boom {}", 42));
        assert_eq!(status, SplStatus::SPL_ERR_INTERNAL);
        // SAFETY: the thread's NUL-terminated last error.
        let message = unsafe { std::ffi::CStr::from_ptr(last_error_ptr()) }
            .to_string_lossy()
            .into_owned();
        assert!(message.contains("(caught panic): boom 42"), "{message}");
        assert!(message.contains("guard.rs"), "{message}");
        // A later call that fails normally is unaffected.
        let status = guard(|_| Err(Failure::new(SplStatus::SPL_ERR_DATA, "plain")));
        assert_eq!(status, SplStatus::SPL_ERR_DATA);
    }

    #[test]
    fn a_panic_inside_an_entry_point_prints_nothing() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "guard::tests::child_panics_inside_the_guard",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("RUST_BACKTRACE", "full")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("1 passed"), "{stdout}");
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A panic outside the library's entry points still reaches the previous hook (here the
    /// test harness's default one, which prints it): the hook only silences its own calls.
    #[test]
    fn panics_outside_the_guard_keep_their_output() {
        if std::env::var_os(CHILD).is_some() {
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "guard::tests::child_panics_outside_after_install",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("outside 7"), "stderr: {stderr}");
    }

    #[test]
    fn child_panics_outside_after_install() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        assert_eq!(guard(|_| Ok(SplStatus::SPL_OK)), SplStatus::SPL_OK);
        let r = std::panic::catch_unwind(|| panic!("outside {}", 7));
        assert!(r.is_err());
    }
}

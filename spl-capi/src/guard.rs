//! The error side of every entry point: a failure is a status code plus a message kept per
//! thread for `spl_last_error`; panics are caught here so none crosses the ABI.
use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

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
}

/// Runs one entry point: catches panics and records the message of a failure as the thread's
/// last error (successful calls leave it alone, like `errno`). `Ok(status)` lets a call return
/// a non-OK status that still produced output (a budget hit under pass-through) with a message.
pub(crate) fn guard(f: impl FnOnce(&mut Option<String>) -> Outcome) -> SplStatus {
    let mut note = None;
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut note)));
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
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
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

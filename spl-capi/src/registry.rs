//! Live handles. A handle given to C is the address of a value this module keeps alive; every
//! call looks the address up before using it, so a NULL, stale (freed), double-freed or
//! garbage handle is `SPL_ERR_INVALID_HANDLE` instead of a crash. Lookups clone an `Arc`, so a
//! pipeline freed by one thread stays valid for calls already running on others.
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::guard::Failure;
use crate::status::SplStatus;

/// A set of live values keyed by the address handed out.
pub(crate) struct Registry<T> {
    live: Mutex<Option<HashMap<usize, Arc<T>>>>,
    what: &'static str,
}

impl<T> Registry<T> {
    pub const fn new(what: &'static str) -> Registry<T> {
        Registry {
            live: Mutex::new(None),
            what,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<HashMap<usize, Arc<T>>>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `value` alive and returns its handle.
    pub fn insert(&self, value: T) -> *mut T {
        let value = Arc::new(value);
        let handle = Arc::as_ptr(&value) as *mut T;
        self.lock()
            .get_or_insert_with(HashMap::new)
            .insert(handle as usize, value);
        handle
    }

    /// The value behind a live handle.
    pub fn get(&self, handle: *const T) -> Result<Arc<T>, Failure> {
        crate::guard::non_null(handle, self.what)?;
        self.lock()
            .as_ref()
            .and_then(|m| m.get(&(handle as usize)))
            .cloned()
            .ok_or_else(|| self.invalid(handle))
    }

    /// Forgets a live handle (the value is dropped once no call uses it).
    pub fn remove(&self, handle: *const T) -> Result<(), Failure> {
        crate::guard::non_null(handle, self.what)?;
        let removed = {
            let mut live = self.lock();
            let removed = live.as_mut().and_then(|m| m.remove(&(handle as usize)));
            // An empty set gives its table back, so leak checkers see nothing at exit.
            if live.as_ref().is_some_and(HashMap::is_empty) {
                *live = None;
            }
            removed
        };
        match removed {
            Some(value) => {
                drop(value);
                Ok(())
            }
            None => Err(self.invalid(handle)),
        }
    }

    fn invalid(&self, handle: *const T) -> Failure {
        Failure::new(
            SplStatus::SPL_ERR_INVALID_HANDLE,
            format!(
                "{} {handle:p} is not a live handle (freed twice, never created, or garbage)",
                self.what
            ),
        )
    }
}

/// Strings handed to C (`spl_string_free`).
static STRINGS: Mutex<Option<HashMap<usize, CString>>> = Mutex::new(None);

/// Hands `text` to C; it stays valid until `spl_string_free`.
pub(crate) fn give_string(text: String) -> *mut c_char {
    let c = CString::new(text.replace('\0', " ")).unwrap_or_default();
    let p = c.as_ptr() as *mut c_char;
    STRINGS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(p as usize, c);
    p
}

/// Frees a string given by [`give_string`].
pub(crate) fn free_string(p: *mut c_char) -> Result<(), Failure> {
    crate::guard::non_null(p, "string")?;
    let removed = {
        let mut live = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
        let removed = live.as_mut().and_then(|m| m.remove(&(p as usize)));
        if live.as_ref().is_some_and(HashMap::is_empty) {
            *live = None;
        }
        removed
    };
    removed.map(drop).ok_or_else(|| {
        Failure::new(
            SplStatus::SPL_ERR_INVALID_HANDLE,
            format!("string {p:p} was not returned by this library or was freed already"),
        )
    })
}

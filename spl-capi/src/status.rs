//! The bottom of the C ABI: the status code every entry point returns and the Arrow C Data
//! Interface structs, shared by the entry points (`abi`), the error guard, the handle registry
//! and the importer. Imports in this crate run downward to here.
use std::ffi::{c_char, c_void};

/// Status of a call. Anything but `SPL_OK` comes with a message in `spl_last_error()`.
#[repr(i32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplStatus {
    /// Success.
    SPL_OK = 0,
    /// A required pointer argument was NULL.
    SPL_ERR_NULL_POINTER = 1,
    /// A pipeline, result or string handle is not live (freed, never created, garbage).
    SPL_ERR_INVALID_HANDLE = 2,
    /// A string argument, field name or text column is not valid UTF-8.
    SPL_ERR_INVALID_UTF8 = 3,
    /// An argument is out of range (unknown profile, time zone or policy, group index, a
    /// released Arrow struct).
    SPL_ERR_INVALID_ARGUMENT = 4,
    /// The program does not compile; the diagnostics JSON says why.
    SPL_ERR_COMPILE = 5,
    /// The Arrow batch is malformed or has an unsupported column type.
    SPL_ERR_INVALID_INPUT = 6,
    /// The batch exceeded its time budget. Under the pass-through, drop and error-stream
    /// policies a result is still returned (the original batch, nothing, or the batch on the
    /// error stream); under the fail policy there is none.
    SPL_ERR_DEADLINE_EXCEEDED = 7,
    /// The batch exceeded its memory ceiling; the result is as for the deadline.
    SPL_ERR_MEMORY_EXCEEDED = 8,
    /// A row failed with a data error under the fail policy; no result.
    SPL_ERR_DATA = 9,
    /// A stage failed for the whole batch under the fail policy; no result.
    SPL_ERR_BATCH = 10,
    /// A bug in the library (a caught panic or an unexpected internal error).
    SPL_ERR_INTERNAL = 11,
}

/// The Arrow C Data Interface schema (the header declares the standard struct).
#[repr(C)]
#[derive(Debug)]
pub struct ArrowSchema {
    pub format: *const c_char,
    pub name: *const c_char,
    pub metadata: *const c_char,
    pub flags: i64,
    pub n_children: i64,
    pub children: *mut *mut ArrowSchema,
    pub dictionary: *mut ArrowSchema,
    pub release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    pub private_data: *mut c_void,
}

/// The Arrow C Data Interface array (the header declares the standard struct).
#[repr(C)]
#[derive(Debug)]
pub struct ArrowArray {
    pub length: i64,
    pub null_count: i64,
    pub offset: i64,
    pub n_buffers: i64,
    pub n_children: i64,
    pub buffers: *mut *const c_void,
    pub children: *mut *mut ArrowArray,
    pub dictionary: *mut ArrowArray,
    pub release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    pub private_data: *mut c_void,
}

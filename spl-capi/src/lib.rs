//! C ABI over the SPL engine for log agents: compile a program once, then process batches
//! handed over through the Arrow C Data Interface (zero-copy in) and get Arrow back, one event
//! group per emitted dataset and tag combination. Every entry point catches panics, checks its
//! pointers and handles, and returns a status code with a message (`spl_last_error`). The C
//! header `include/spl.h` is generated from [`abi`] by cbindgen and checked in; see
//! `docs/embedding.md`.
//!
//! | module | job |
//! |---|---|
//! | [`abi`] | the `extern "C"` functions and `#[repr(C)]` types of the header |
//! | [`status`] | the bottom: `SplStatus` and the Arrow C Data Interface structs every module shares |
//! | `guard` | status codes' messages, the thread's last error, catching panics |
//! | `registry` | live pipeline, result and string handles (stale or garbage handles are errors) |
//! | `import` | checking and importing the input `ArrowArray`/`ArrowSchema` into an engine batch |
//! | `export` | event groups → Arrow struct arrays (text or typed) for the caller |
//! | `alloc` | a counting global allocator measuring each call's peak memory |
pub mod abi;
mod alloc;
mod export;
mod guard;
mod import;
mod registry;
pub mod status;

pub use abi::*;

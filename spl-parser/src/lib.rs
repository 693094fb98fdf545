//! `spl-parser`: SPL text → typed AST with byte spans, diagnostics with stable codes, and the
//! canonical printer.
//!
//! ```
//! let program = spl_parser::parse("* | where status >= 500 | project status, uri").unwrap();
//! assert_eq!(program.to_string(), "* | where status >= 500 | project status, uri");
//! ```
#![doc = include_str!("../../ARCHITECTURE.md")]
// A `Diagnostic` is the error of parsing: built once per failed parse, never on a hot path, so
// its size in `Result` does not matter.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod charlit;
pub mod codes;
pub mod diagnostic;
pub mod docs;
mod grammar;
pub mod instructions;
mod parse;
mod prescan;
pub mod print;
pub mod suggest;
mod syntax_error;
mod types;
pub mod validate;

pub use ast::*;
pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use parse::{parse, parse_with_warnings, EXTRACT_FIELDS, MAX_EXPR_DEPTH};

/// The SPL base type names accepted by `CAST`.
pub fn type_names() -> impl Iterator<Item = &'static str> {
    types::names()
}

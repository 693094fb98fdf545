//! `spl lsp`: the language server (crate `spl-lsp`) on stdin/stdout, for editors.
use std::process::ExitCode;

pub fn run() -> ExitCode {
    ExitCode::from(spl_lsp::run_stdio().clamp(0, 255) as u8)
}

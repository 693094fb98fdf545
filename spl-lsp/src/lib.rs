//! `spl-lsp`: a language server for SPL over stdio (JSON-RPC with `Content-Length` framing):
//! diagnostics the same as `spl check`, completion, hover, formatting the same as `spl fmt`,
//! and go-to-definition for `$dataset` names. Synchronous: one thread reads a message, answers
//! it, and reads the next. `spl lsp` runs [`run_stdio`].
pub mod complete;
pub mod context;
pub mod diagnostics;
pub mod fields;
pub mod hover;
pub mod server;
pub mod settings;
pub mod text;
pub mod textmate;
pub mod transport;

pub use server::serve;

/// Serves a client on stdin/stdout; returns the process exit code.
pub fn run_stdio() -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut input = stdin.lock();
    let mut output = stdout.lock();
    match serve(&mut input, &mut output) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spl lsp: {e}");
            1
        }
    }
}

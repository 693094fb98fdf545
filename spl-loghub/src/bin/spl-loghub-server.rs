//! `spl-loghub-server`: runs the LogHub-compatible server until Ctrl-C. Its flags are
//! [`spl_loghub::ServeArgs`], the same as `spl serve`'s.
use std::process::ExitCode;

use clap::Parser;

/// A LogHub-compatible shard server with SPL pushdown (same flags as `spl serve`).
#[derive(Parser)]
#[command(name = "spl-loghub-server", version)]
struct Cli {
    #[command(flatten)]
    args: spl_loghub::ServeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match spl_loghub::run_blocking(cli.args.config()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spl-loghub-server: {e}");
            ExitCode::FAILURE
        }
    }
}

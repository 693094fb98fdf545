//! The `spl` command: check, format, explain, run and test SPL pipelines offline, and serve
//! them to LogHub consumers. Arguments are parsed in two phases: clap's raw flags (`cli.rs`) become a
//! validated command (`config.rs`), and only that reaches the commands.
mod chart;
mod cli;
mod commands;
mod config;
mod consume;
#[cfg(test)]
mod docs;
mod play;
mod present;
mod runner;
mod source;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: the run loop allocates and frees Arrow buffers per
/// chunk, and glibc's heap trimming returned them to the kernel chunk after chunk (page faults
/// and `brk` calls; 3–10% of W1–W3's CPU time). Built without transparent huge pages
/// (`no_thp`, docs/decisions.md "Allocator"). Hosts that link the engine as a library keep
/// their own allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let raw = cli::Cli::parse();
    let command = match config::Command::from_cli(raw) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    commands::run(command)
}

//! The `spl` command: check, format (and, as the engine lands, run, explain and test) SPL
//! pipelines offline. Arguments are parsed in two phases: clap's raw flags (`cli.rs`) become a
//! validated command (`config.rs`), and only that reaches the commands.
mod cli;
mod commands;
mod config;
#[cfg(test)]
mod docs;
mod input;
mod present;
mod runner;
mod source;

use std::process::ExitCode;

use clap::Parser;

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

//! The commands of `spl`, one file each.
mod check;
mod fmt;

use std::process::ExitCode;

use crate::config::Command;

/// Exit code for usage and compile errors.
pub const EXIT_USAGE: u8 = 2;

/// Runs a validated command.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Check {
            source,
            json,
            color,
        } => check::run(&source, json, color),
        Command::Fmt {
            source,
            check,
            write,
        } => fmt::run(&source, check, write.as_deref()),
    }
}

//! `spl check`: parse and validate a pipeline, print diagnostics, exit 0 (valid) or 2.
use std::process::ExitCode;

use crate::source::SplSource;

pub fn run(source: &SplSource, json: bool, color: bool) -> ExitCode {
    let (program, diags) = spl_parser::parse_with_warnings(&source.text);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&diags.to_json(&source.text)).unwrap_or_default()
        );
    } else if !diags.is_empty() {
        eprint!("{}", diags.render(&source.name, &source.text, color));
    }
    if program.is_some() && !diags.has_errors() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_USAGE)
    }
}

//! `spl fmt`: print a pipeline in canonical form; `--check` exits 1 when it is not.
use std::path::Path;
use std::process::ExitCode;

use crate::source::SplSource;

pub fn run(source: &SplSource, check: bool, write: Option<&Path>) -> ExitCode {
    let program = match spl_parser::parse(&source.text) {
        Ok(p) => p,
        Err(d) => {
            eprint!("{}", d.render(&source.name, &source.text, false));
            return ExitCode::from(super::EXIT_USAGE);
        }
    };
    let formatted = format!("{program}\n");
    if check {
        if source.text == formatted || source.text.trim_end() == formatted.trim_end() {
            return ExitCode::SUCCESS;
        }
        eprintln!(
            "{} is not canonically formatted; run `spl fmt` to fix",
            source.name
        );
        return ExitCode::from(1);
    }
    if let Some(path) = write {
        if let Err(e) = std::fs::write(path, &formatted) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
        return ExitCode::SUCCESS;
    }
    out!("{formatted}");
    ExitCode::SUCCESS
}

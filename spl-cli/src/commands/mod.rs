//! The commands of `spl`, one file each, and what they share: compiling with diagnostics on
//! stderr, and the per-stage table of `--stats` and `explain --analyze`.
/// `print!` that ignores a closed stdout (`spl explain … | head`) instead of panicking: these
/// commands print short reports, and a reader that stopped early wants no more.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` that ignores a closed stdout (see [`out!`]).
macro_rules! outln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout());
    }};
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod check;
mod explain;
mod fmt;
mod lsp;
mod play;
mod run;
mod test;
pub(crate) mod trace;

use std::io::IsTerminal;
use std::process::ExitCode;

use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline, StageStats};

use crate::config::Command;
use crate::source::SplSource;

/// Exit code for usage and compile errors.
pub const EXIT_USAGE: u8 = 2;

/// Runs a validated command.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Check {
            source,
            json,
            color,
            profile,
            geoip,
        } => check::run(&source, json, color, profile, geoip),
        Command::Serve(config) => match spl_loghub::run_blocking(*config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        Command::Consume(config) => crate::consume::run(*config),
        Command::Fmt {
            source,
            check,
            write,
        } => fmt::run(&source, check, write.as_deref()),
        Command::Run(cfg) => run::run(cfg),
        Command::Lsp => lsp::run(),
        Command::Explain {
            source,
            options,
            analyze,
            input,
            written,
        } => explain::run(&source, &options, analyze.as_deref(), input, written),
        Command::Trace(cfg) => trace::run(&cfg),
        Command::Play {
            sample,
            port,
            geoip,
        } => play::run(sample.as_deref(), port, geoip),
        Command::Test {
            files,
            update,
            filter,
        } => test::run(&files, update, filter.as_deref()),
    }
}

/// Compiles, printing diagnostics (errors, or warnings of a valid program) on stderr; a compile
/// error is exit code 2.
fn compile(source: &SplSource, options: &Options) -> Result<Pipeline, ExitCode> {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match Pipeline::compile(&source.text, options) {
        Ok(p) => {
            if !p.warnings.is_empty() {
                eprint!("{}", p.warnings.render(&source.name, &source.text, color));
            }
            Ok(p)
        }
        Err(d) => {
            eprint!("{}", d.render(&source.name, &source.text, color));
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// The name of an error policy as the documentation spells it.
fn policy_name(p: ErrorPolicy) -> &'static str {
    match p {
        ErrorPolicy::ErrorStream => "error-stream",
        ErrorPolicy::PassThrough => "pass-through",
        ErrorPolicy::Drop => "drop",
        ErrorPolicy::Fail => "fail",
    }
}

/// Rows in/out, errors and time per stage that runs, one line each grouped by statement,
/// numbered by the stages as written it runs (`1+2` for two the optimizer combined).
fn stage_table(pipeline: &Pipeline, stats: &[Vec<StageStats>]) -> String {
    let mut s = format!(
        "{:<28} {:>12} {:>12} {:>8} {:>10}\n",
        "stage", "rows in", "rows out", "errors", "time"
    );
    let names = pipeline.stage_names();
    if names.iter().all(|c| c.is_empty()) {
        return String::new();
    }
    let written = pipeline.written_stages();
    for (ci, chain) in names.iter().enumerate() {
        for (si, name) in chain.iter().enumerate() {
            let st = stats
                .get(ci)
                .and_then(|c| c.get(si))
                .cloned()
                .unwrap_or_default();
            let numbers = written
                .get(ci)
                .and_then(|c| c.get(si))
                .map(|n| n.iter().map(usize::to_string).collect::<Vec<_>>().join("+"))
                .unwrap_or_else(|| (si + 1).to_string());
            let label = if names.len() > 1 {
                format!("{}.{numbers} {name}", ci + 1)
            } else {
                format!("{numbers} {name}")
            };
            s.push_str(&format!(
                "{:<28} {:>12} {:>12} {:>8} {:>10}\n",
                label,
                st.rows_in,
                st.rows_out,
                st.errors,
                format!("{:.2} ms", st.nanos as f64 / 1e6)
            ));
        }
    }
    s
}

//! Raw command-line flags as clap parses them (phase one of argument handling).
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "spl",
    version,
    about = "Check, format and run SPL (SLS Processing Language) pipelines offline"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Check a pipeline: syntax, options, datasets. Exit 0 when it is valid, 2 otherwise.
    #[command(
        after_help = "Examples:\n  spl check '* | where status >= 500 | project status, uri'\n  spl check -q pipeline.spl --format json"
    )]
    Check {
        /// The SPL text (omit when using --query-file).
        spl: Option<String>,
        /// Read the SPL text from this file ('-' for stdin).
        #[arg(short = 'q', long = "query-file")]
        query_file: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = DiagFormat::Text)]
        format: DiagFormat,
        /// Colour diagnostics: auto (when stderr is a terminal), always, never.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Print a pipeline in canonical form.
    #[command(
        after_help = "Examples:\n  spl fmt '*|where a=1|project a'\n  spl fmt pipeline.spl\n  spl fmt --check pipeline.spl"
    )]
    Fmt {
        /// SPL text, or a path to a file holding it.
        spl_or_file: String,
        /// Do not print; exit 1 when the input is not canonically formatted.
        #[arg(long)]
        check: bool,
        /// Rewrite the file in place.
        #[arg(short, long)]
        write: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

//! Raw command-line flags as clap parses them (phase one of argument handling).
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "spl",
    version,
    about = "Check, format and run SPL (SLS Processing Language) pipelines offline",
    after_help = MAIN_EXAMPLES
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
        /// The SPL text (omit when using --query-file). It may start with a `-- ` comment.
        #[arg(allow_hyphen_values = true)]
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
        /// Check availability and limits for this deployment profile.
        #[arg(long, default_value = "cli", value_parser = profile_names())]
        profile: String,
        /// MaxMind DB file (GeoLite2/GeoIP2 City, ISP or ASN) answering the ip_to_* geolocation functions.
        #[arg(long, value_name = "FILE")]
        geoip: Option<PathBuf>,
    },
    /// Run a pipeline over log files or stdin and print the result.
    #[command(after_help = RUN_EXAMPLES)]
    Run(RunArgs),
    /// Show the plan that runs (--written: as written): stages, fields read and written, rewrites; --analyze runs it.
    #[command(
        after_help = "Examples:\n  spl explain '* | where status >= 500 | project status, uri'\n  spl explain --written '* | where x > 1 + 2'\n  spl explain --analyze access.log -q pipeline.spl"
    )]
    Explain {
        /// The SPL text (omit when using --query-file). It may start with a `-- ` comment.
        #[arg(allow_hyphen_values = true)]
        spl: Option<String>,
        /// Read the SPL text from this file ('-' for stdin).
        #[arg(short = 'q', long = "query-file")]
        query_file: Option<PathBuf>,
        /// Show the plan as written instead of the optimized plan that runs.
        #[arg(long)]
        written: bool,
        /// Run the pipeline over this file and show rows in/out and time per stage.
        #[arg(long, value_name = "FILE")]
        analyze: Option<PathBuf>,
        /// Input format for --analyze.
        #[arg(short = 'i', long, value_enum, default_value_t = InputFormatArg::Auto)]
        input_format: InputFormatArg,
        /// Deployment profile.
        #[arg(long, default_value = "cli", value_parser = profile_names())]
        profile: String,
        /// Session time zone.
        #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
        timezone: String,
        /// MaxMind DB file (GeoLite2/GeoIP2 City, ISP or ASN) answering the ip_to_* geolocation functions.
        #[arg(long, value_name = "FILE")]
        geoip: Option<PathBuf>,
    },
    /// Run conformance/golden test files (JSON lines: {id, spl, input, output, ...}).
    #[command(
        after_help = "Examples:\n  spl test testdata/conformance/*.jsonl\n  spl test --update my-cases.jsonl"
    )]
    Test {
        /// Test files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Rewrite each case's expected output with the actual output.
        #[arg(long)]
        update: bool,
        /// Only run cases whose id contains this text.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Start a LogHub-compatible server whose PullLogs applies the consumer's SPL (pushdown).
    #[command(
        after_help = "Examples:\n  spl serve --data-dir /var/lib/spl-loghub --listen 127.0.0.1:7099 --shards 2\n  See docs/pushdown.md for the API and a runnable example."
    )]
    Serve(spl_loghub::ServeArgs),
    /// Consume a logstore as a worker of a consumer group: pull the assigned shards with the SPL pushed down, write rows, checkpoint.
    #[command(
        after_help = "Examples:\n  spl consume --endpoint http://127.0.0.1:7099 --project demo --logstore web --group g1 --query '* | where status >= 500 | project uri'\n  See docs/consume.md."
    )]
    Consume(crate::consume::ConsumeArgs),
    /// Trace rows through a pipeline: each row in and out of every stage, and why a stage dropped, split or failed it.
    #[command(after_help = TRACE_EXAMPLES)]
    Trace(TraceArgs),
    /// Serve a local playground page on 127.0.0.1: editor with live diagnostics, sample, output, errors, per-stage rows and traces.
    #[command(
        after_help = "Examples:\n  spl play\n  spl play --sample access.jsonl --port 8080\n  See docs/play.md."
    )]
    Play {
        /// Sample input shown in the page at start (JSON lines, raw lines or CSV).
        #[arg(long, value_name = "FILE")]
        sample: Option<PathBuf>,
        /// Port on 127.0.0.1 (0: any free port; the address is printed).
        #[arg(long, default_value_t = 7878)]
        port: u16,
        /// MaxMind DB file (GeoLite2/GeoIP2 City, ISP or ASN) answering the ip_to_* geolocation functions.
        #[arg(long, value_name = "FILE")]
        geoip: Option<PathBuf>,
    },
    /// Print a pipeline in canonical form.
    #[command(
        after_help = "Examples:\n  spl fmt '*|where a=1|project a'\n  spl fmt pipeline.spl\n  spl fmt --check pipeline.spl"
    )]
    Fmt {
        /// SPL text (it may start with a `-- ` comment), or a path to a file holding it.
        #[arg(allow_hyphen_values = true)]
        spl_or_file: String,
        /// Do not print; exit 1 when the input is not canonically formatted.
        #[arg(long)]
        check: bool,
        /// Rewrite the file in place.
        #[arg(short, long)]
        write: bool,
    },
    /// Run the language server on stdin/stdout (diagnostics, completion, hover, formatting, go-to-definition).
    #[command(
        after_help = "Started by an editor, not by hand. Settings: the client's `spl.profile` and `spl.sample`, else spl.toml.\n  See docs/editors.md for VS Code, Neovim and Helix."
    )]
    Lsp,
}

const RUN_EXAMPLES: &str = "Examples:
  spl run \"* | where level = 'ERROR' | project service, msg\" app.jsonl
  spl run -o table \"* | parse-regexp content, '^(\\S+)' as ip | project ip\" access.log
  spl run -o csv \"* | where country = 'JP' | project order_id, amount\" orders.csv
  zcat app.jsonl.gz | spl run -q pipeline.spl --stats
  spl run --threads 1 --limit 10 --timezone Asia/Shanghai -q pipeline.spl app.jsonl.zst
  spl run --output-dir out/ -q multi-output.spl app.jsonl
  spl run --profile logtail --errors failed.jsonl -q pipeline.spl app.jsonl

Exit codes: 0 success, 1 runtime failure (unreadable input, --fail-fast), 2 usage or compile error.";

const MAIN_EXAMPLES: &str = "Examples:
  spl check '* | where status >= 500'
  spl run \"* | where level = 'ERROR'\" app.jsonl
  spl explain --analyze app.jsonl -q pipeline.spl
  spl fmt --write pipeline.spl
  spl test cases.jsonl

Documentation: docs/cli.md";

const TRACE_EXAMPLES: &str = "Examples:
  spl trace \"* | where status >= 500 | project status, uri\" access.jsonl
  spl trace -q pipeline.spl access.jsonl --row 3
  spl trace -q pipeline.spl access.jsonl --where \"uri = '/login'\" -o json
  spl trace -q pipeline.spl access.jsonl --summary

Exit codes: 0 success, 1 unreadable input, 2 usage or compile error.";

/// `spl trace` flags.
#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The SPL text (omit when using --query-file; then the argument is the input file). It may
    /// start with a `-- ` comment.
    #[arg(allow_hyphen_values = true)]
    pub spl: Option<String>,
    /// The input sample ('-' for stdin; gzip and zstd read transparently).
    pub input: Option<PathBuf>,
    /// Read the SPL text from this file.
    #[arg(short = 'q', long = "query-file")]
    pub query_file: Option<PathBuf>,
    /// Trace only this input row (1-based, counting decoded rows).
    #[arg(long, conflicts_with = "where_")]
    pub row: Option<u64>,
    /// Trace only the input rows for which this condition is true.
    #[arg(long = "where", value_name = "EXPR", allow_hyphen_values = true)]
    pub where_: Option<String>,
    /// Print per stage rows in/out/dropped/failed/split and the top reasons instead of rows.
    #[arg(long)]
    pub summary: bool,
    /// Output format: text, or JSON (one object per traced row; one object for --summary).
    #[arg(short = 'o', long, value_enum, default_value_t = DiagFormat::Text)]
    pub output_format: DiagFormat,
    /// Input format: raw (each line is `content`), json (one object per line), csv (header row), auto.
    #[arg(short = 'i', long, value_enum, default_value_t = InputFormatArg::Auto)]
    pub input_format: InputFormatArg,
    /// Session time zone (UTC, +08:00, Asia/Shanghai).
    #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
    pub timezone: String,
    /// Deployment profile whose instruction set, limits and error policy apply.
    #[arg(long, default_value = "cli", value_parser = profile_names())]
    pub profile: String,
    /// MaxMind DB file (GeoLite2/GeoIP2 City, ISP or ASN) answering the ip_to_* geolocation functions.
    #[arg(long, value_name = "FILE")]
    pub geoip: Option<PathBuf>,
}

/// `spl run` flags.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The SPL text (omit when using --query-file; then every argument is an input file). It may
    /// start with a `-- ` comment.
    #[arg(allow_hyphen_values = true)]
    pub spl: Option<String>,
    /// Input files ('-' or none for stdin); gzip and zstd files are read transparently.
    pub files: Vec<PathBuf>,
    /// Read the SPL text from this file ('-' for stdin).
    #[arg(short = 'q', long = "query-file")]
    pub query_file: Option<PathBuf>,
    /// Input format: raw (each line is `content`), json (one object per line), csv (header row), auto.
    #[arg(short = 'i', long, value_enum, default_value_t = InputFormatArg::Auto)]
    pub input_format: InputFormatArg,
    /// Output format (default: table when stdout is a terminal, else json).
    #[arg(short = 'o', long, value_enum)]
    pub output_format: Option<OutputFormatArg>,
    /// Session time zone (UTC, +08:00, Asia/Shanghai).
    #[arg(long, default_value = "UTC", allow_hyphen_values = true)]
    pub timezone: String,
    /// Deployment profile whose instruction set, limits and error policy apply.
    #[arg(long, default_value = "cli", value_parser = profile_names())]
    pub profile: String,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop after writing this many rows (per output).
    #[arg(long)]
    pub limit: Option<u64>,
    /// Write error rows (with `__error__`) to this file as JSON lines instead of a summary on stderr.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Stop with exit code 1 at the first error row.
    #[arg(long)]
    pub fail_fast: bool,
    /// Print rows in/out/dropped/errors, bytes, time, MB/s and per-stage counts on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Write one file per output dataset into this directory instead of stdout (and
    /// `<dataset>.svg` for each output that ends with `render`).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Write the chart of `render` to FILE: SVG or PNG by the extension (.svg, .png); '-' prints
    /// it as text after the rows, as on a terminal. Other charted outputs go to FILE-<dataset>.
    /// Without it, a terminal stdout gets the text chart after the rows.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// Start of the run's time range: what `sls_begin_time` means in `make-series` (unix
    /// seconds, `YYYY-MM-DD HH:MM:SS` in UTC, or RFC 3339). Default: the data's first time.
    #[arg(long, value_name = "TIME", requires = "to", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End (exclusive) of the run's time range: `sls_end_time` in `make-series`. Default: just
    /// after the data's last time.
    #[arg(
        long,
        value_name = "TIME",
        requires = "from",
        allow_hyphen_values = true
    )]
    pub to: Option<String>,
    /// MaxMind DB file (GeoLite2/GeoIP2 City, ISP or ASN) answering the ip_to_* geolocation functions.
    #[arg(long, value_name = "FILE")]
    pub geoip: Option<PathBuf>,
}

/// True when a command-line argument that starts with `-` is SPL text opening with a `--`
/// comment rather than a flag: a flag name never holds whitespace, so `--` followed by
/// whitespace, or any `--` argument spanning several lines, is SPL.
pub fn is_spl_comment(arg: &str) -> bool {
    arg.strip_prefix("--")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_whitespace()) || rest.contains('\n'))
}

/// The positional SPL slots accept values that start with `-` so that SPL opening with a
/// comment reaches the parser; anything else there that looks like a flag is still an unknown
/// flag (`-` alone is stdin). Known flags never get here: clap matches them first.
pub fn reject_unknown_flag(arg: &str) -> Result<(), String> {
    if arg.starts_with('-') && arg != "-" && !is_spl_comment(arg) {
        return Err(format!(
            "unexpected argument '{arg}' (not a flag of this command; SPL text that starts \
             with a comment needs whitespace after `--`)"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    Auto,
    Raw,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormatArg {
    Json,
    Table,
    Csv,
    Raw,
}

fn profile_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new([
        "cli",
        "logtail",
        "agent",
        "consumer",
        "transform",
        "scan",
    ])
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

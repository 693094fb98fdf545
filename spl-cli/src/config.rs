//! Phase two of argument handling: raw flags become a validated [`Command`].
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spl_engine::codec::InputFormat;
use spl_engine::functions::geoip::GeoIpDb;
use spl_engine::pipeline::{ErrorPolicy, Options, Profile};
use spl_engine::timezone::SessionTz;

use crate::cli::{
    reject_unknown_flag, Cli, ColorChoice, DiagFormat, InputFormatArg, OutputFormatArg, RunArgs,
    Sub,
};
use crate::present::OutputFormat;
use crate::source::SplSource;

/// A validated command.
#[derive(Debug)]
pub enum Command {
    Check {
        source: SplSource,
        json: bool,
        color: bool,
        profile: Profile,
        /// The `--geoip` database, opened.
        geoip: Option<Arc<GeoIpDb>>,
    },
    Run(RunConfig),
    Explain {
        source: SplSource,
        options: Options,
        analyze: Option<PathBuf>,
        input: Option<InputFormat>,
        written: bool,
    },
    Serve(Box<spl_loghub::Config>),
    Consume(Box<crate::consume::ConsumeConfig>),
    Test {
        files: Vec<PathBuf>,
        update: bool,
        filter: Option<String>,
    },
    Fmt {
        source: SplSource,
        check: bool,
        write: Option<PathBuf>,
    },
    Trace(TraceConfig),
    Lsp,
    Play {
        sample: Option<PathBuf>,
        port: u16,
        /// The `--geoip` database, opened.
        geoip: Option<Arc<GeoIpDb>>,
    },
}

/// A validated `spl trace`.
#[derive(Debug)]
pub struct TraceConfig {
    pub source: SplSource,
    /// The sample; `-` is stdin.
    pub input: PathBuf,
    pub format: Option<InputFormat>,
    pub options: Options,
    /// 1-based input row to trace.
    pub row: Option<u64>,
    pub where_: Option<String>,
    pub summary: bool,
    pub json: bool,
}

impl TraceConfig {
    fn from_args(a: crate::cli::TraceArgs) -> Result<TraceConfig, String> {
        if let Some(first) = &a.spl {
            reject_unknown_flag(first)?;
        }
        let (source, input) = match (a.spl, a.query_file, a.input) {
            (Some(first), Some(q), None) => {
                (SplSource::from_args(None, Some(q))?, Some(first.into()))
            }
            (Some(_), Some(_), Some(extra)) => {
                return Err(format!(
                    "unexpected argument '{}': with --query-file give only the input file",
                    extra.display()
                ))
            }
            (spl, q, input) => (SplSource::from_args(spl, q)?, input),
        };
        let input = input.unwrap_or_else(|| PathBuf::from("-"));
        if input.as_os_str() == "-" && source.from_stdin {
            return Err(
                "stdin ('-') can be read only once: as the query file or as the input".into(),
            );
        }
        Ok(TraceConfig {
            source,
            input,
            format: input_format_of(a.input_format),
            options: options(&a.profile, &a.timezone, a.geoip.as_deref())?,
            row: a.row,
            where_: a.where_,
            summary: a.summary,
            json: a.output_format == DiagFormat::Json,
        })
    }
}

impl Command {
    pub fn from_cli(cli: Cli) -> Result<Command, String> {
        Ok(match cli.command {
            Sub::Check {
                spl,
                query_file,
                format,
                color,
                profile,
                geoip,
            } => Command::Check {
                source: inline_source(spl, query_file)?,
                json: format == DiagFormat::Json,
                color: match color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                    }
                },
                profile: profile_of(&profile)?,
                geoip: open_geoip(geoip.as_deref())?,
            },
            Sub::Run(args) => Command::Run(RunConfig::from_args(args)?),
            Sub::Explain {
                spl,
                query_file,
                written,
                analyze,
                input_format,
                profile,
                timezone,
                geoip,
            } => Command::Explain {
                source: inline_source(spl, query_file)?,
                options: options(&profile, &timezone, geoip.as_deref())?,
                analyze,
                input: input_format_of(input_format),
                written,
            },
            Sub::Test {
                files,
                update,
                filter,
            } => Command::Test {
                files,
                update,
                filter,
            },
            Sub::Serve(args) => Command::Serve(Box::new(args.config())),
            Sub::Consume(args) => {
                Command::Consume(Box::new(crate::consume::ConsumeConfig::from_args(args)?))
            }
            Sub::Trace(args) => Command::Trace(TraceConfig::from_args(args)?),
            Sub::Play {
                sample,
                port,
                geoip,
            } => Command::Play {
                sample,
                port,
                geoip: open_geoip(geoip.as_deref())?,
            },
            Sub::Lsp => Command::Lsp,
            Sub::Fmt {
                spl_or_file,
                check,
                write,
            } => {
                reject_unknown_flag(&spl_or_file)?;
                let source = SplSource::text_or_file(&spl_or_file)?;
                let write = match (&source, write) {
                    (SplSource { path: Some(p), .. }, true) => Some(p.clone()),
                    (_, true) => return Err("--write needs a file argument".into()),
                    _ => None,
                };
                Command::Fmt {
                    source,
                    check,
                    write,
                }
            }
        })
    }
}

/// A validated `spl run`.
#[derive(Debug)]
pub struct RunConfig {
    pub source: SplSource,
    /// Input files; `-` is stdin. Never empty.
    pub files: Vec<PathBuf>,
    /// `None` detects JSON or raw from the first non-blank line.
    pub input: Option<InputFormat>,
    pub output: OutputFormat,
    pub options: Options,
    pub threads: usize,
    pub limit: Option<u64>,
    pub errors: Option<PathBuf>,
    pub fail_fast: bool,
    pub stats: bool,
    pub output_dir: Option<PathBuf>,
    /// `--chart`: where the chart of `render` goes (`None`: the terminal when stdout is one).
    pub chart: Option<crate::chart::Target>,
}

impl RunConfig {
    fn from_args(a: RunArgs) -> Result<RunConfig, String> {
        let mut files = a.files;
        if let Some(first) = &a.spl {
            reject_unknown_flag(first)?;
        }
        let source = match (a.spl, a.query_file) {
            (Some(first), Some(q)) => {
                files.insert(0, PathBuf::from(first));
                SplSource::from_args(None, Some(q))?
            }
            (spl, q) => SplSource::from_args(spl, q)?,
        };
        if files.is_empty() {
            files.push(PathBuf::from("-"));
        }
        let stdin_inputs = files.iter().filter(|f| f.as_os_str() == "-").count();
        if stdin_inputs > 1 || (stdin_inputs == 1 && source.from_stdin) {
            return Err(
                "stdin ('-') can be read only once: as the query file or as one input".into(),
            );
        }
        let output = match a.output_format {
            Some(OutputFormatArg::Json) => OutputFormat::Json,
            Some(OutputFormatArg::Table) => OutputFormat::Table,
            Some(OutputFormatArg::Csv) => OutputFormat::Csv,
            Some(OutputFormatArg::Raw) => OutputFormat::Raw,
            None if a.output_dir.is_none() && std::io::stdout().is_terminal() => {
                OutputFormat::Table
            }
            None => OutputFormat::Json,
        };
        let threads = match a.threads {
            Some(0) => return Err("--threads must be at least 1".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if a.limit == Some(0) {
            return Err("--limit must be at least 1".into());
        }
        let mut options = options(&a.profile, &a.timezone, a.geoip.as_deref())?;
        if let (Some(from), Some(to)) = (&a.from, &a.to) {
            let time = |flag: &str, text: &str| {
                spl_engine::ops::make_series::parse_time_text(text)
                    .ok_or_else(|| format!("{flag}: `{text}` is not a time (unix seconds, 'YYYY-MM-DD HH:MM:SS' or RFC 3339)"))
            };
            let (from, to) = (time("--from", from)?, time("--to", to)?);
            if to <= from {
                return Err("--to must be after --from".into());
            }
            options.time_range = Some((from, to));
        }
        // `--fail-fast` stops at the first failed row; under a profile that would pass failed
        // rows through (or drop them), the first failure must fail the run instead.
        if a.fail_fast && options.profile.error_policy() != ErrorPolicy::ErrorStream {
            options.error_policy = Some(ErrorPolicy::Fail);
        }
        Ok(RunConfig {
            source,
            files,
            input: input_format_of(a.input_format),
            output,
            options,
            threads,
            limit: a.limit,
            errors: a.errors,
            fail_fast: a.fail_fast,
            stats: a.stats,
            output_dir: a.output_dir,
            chart: match a.chart {
                Some(p) if p.as_os_str() == "-" => {
                    Some(crate::chart::Target::Terminal { color: false })
                }
                Some(p) => Some(crate::chart::Target::file(&p)?),
                None => None,
            },
        })
    }
}

/// SPL given inline or with `--query-file`; an inline value that is an unknown flag is refused.
fn inline_source(spl: Option<String>, query_file: Option<PathBuf>) -> Result<SplSource, String> {
    if let Some(text) = &spl {
        reject_unknown_flag(text)?;
    }
    SplSource::from_args(spl, query_file)
}

fn profile_of(name: &str) -> Result<Profile, String> {
    Profile::parse(name).ok_or_else(|| format!("unknown profile `{name}`"))
}

fn options(profile: &str, timezone: &str, geoip: Option<&Path>) -> Result<Options, String> {
    let mut o = Options::new(profile_of(profile)?);
    o.timezone = SessionTz::parse(timezone).map_err(|e| format!("--timezone: {e}"))?;
    o.geoip = open_geoip(geoip)?;
    Ok(o)
}

/// Opens the `--geoip` MaxMind DB file once; a missing or corrupt file is a usage error.
fn open_geoip(path: Option<&Path>) -> Result<Option<Arc<GeoIpDb>>, String> {
    path.map(|p| GeoIpDb::open(p).map_err(|e| format!("--geoip: {e}")))
        .transpose()
}

fn input_format_of(arg: InputFormatArg) -> Option<InputFormat> {
    match arg {
        InputFormatArg::Auto => None,
        InputFormatArg::Raw => Some(InputFormat::Raw),
        InputFormatArg::Json => Some(InputFormat::Json),
        InputFormatArg::Csv => Some(InputFormat::Csv),
    }
}

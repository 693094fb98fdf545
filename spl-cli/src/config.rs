//! Phase two of argument handling: raw flags become a validated [`Command`].
use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, ColorChoice, DiagFormat, Sub};
use crate::source::SplSource;

/// A validated command.
#[derive(Debug)]
pub enum Command {
    Check {
        source: SplSource,
        json: bool,
        color: bool,
    },
    Fmt {
        source: SplSource,
        check: bool,
        write: Option<PathBuf>,
    },
}

impl Command {
    pub fn from_cli(cli: Cli) -> Result<Command, String> {
        Ok(match cli.command {
            Sub::Check {
                spl,
                query_file,
                format,
                color,
            } => Command::Check {
                source: SplSource::from_args(spl, query_file)?,
                json: format == DiagFormat::Json,
                color: match color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                    }
                },
            },
            Sub::Fmt {
                spl_or_file,
                check,
                write,
            } => {
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

//! `spl-loghub-server`: runs the LogHub-compatible server until Ctrl-C.
//!
//! ```text
//! spl-loghub-server [--listen ADDR] [--data-dir DIR] [--shards N] [--logstore-shards NAME=N]...
//!                   [--ttl-days D] [--fsync always|never] [--max-pull-bytes N]
//! ```
use std::process::ExitCode;
use std::time::Duration;

use spl_loghub::{Config, Fsync};

const USAGE: &str = "usage: spl-loghub-server [--listen ADDR] [--data-dir DIR] [--shards N] \
[--logstore-shards NAME=N]... [--ttl-days D (0 keeps data forever)] [--fsync always|never] \
[--max-pull-bytes N]";

fn parse(args: &[String]) -> Result<Config, String> {
    let mut config = Config::new(
        "127.0.0.1:7099".parse().map_err(|e| format!("{e}"))?,
        "spl-loghub-data",
    );
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .as_str();
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--listen" => {
                config.listen = value.parse().map_err(|_| {
                    format!("--listen: `{value}` is not an address like 127.0.0.1:7099")
                })?
            }
            "--data-dir" => config.store.data_dir = value.into(),
            "--shards" => {
                config.store.default_shards = u32::try_from(number(value)?)
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or("--shards must be 1 to 256")?
            }
            "--logstore-shards" => {
                let (name, n) = value
                    .split_once('=')
                    .ok_or("--logstore-shards takes NAME=N")?;
                let n = u32::try_from(number(n)?)
                    .ok()
                    .filter(|n| (1..=256).contains(n))
                    .ok_or("--logstore-shards: N must be 1 to 256")?;
                config.store.logstore_shards.insert(name.to_string(), n);
            }
            "--ttl-days" => {
                let d = number(value)?;
                config.store.ttl = (d > 0).then(|| Duration::from_secs(d.saturating_mul(86_400)));
            }
            "--fsync" => {
                config.store.fsync = match value {
                    "always" => Fsync::Always,
                    "never" => Fsync::Never,
                    _ => return Err("--fsync is always or never".to_string()),
                }
            }
            "--max-pull-bytes" => {
                config.max_pull_bytes =
                    usize::try_from(number(value)?).map_err(|e| e.to_string())?
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(config)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("spl-loghub-server: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match spl_loghub::run_blocking(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spl-loghub-server: {e}");
            ExitCode::FAILURE
        }
    }
}

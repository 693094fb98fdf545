//! `spl consume`'s flags (clap) and their validation into a [`ConsumeConfig`].
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use spl_loghub::client::AccessKey;

use crate::source::SplSource;

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// The server: http://HOST[:PORT] (e.g. what `spl serve` announces).
    #[arg(long)]
    pub endpoint: String,
    /// The project (sent as the first label of Host).
    #[arg(long)]
    pub project: String,
    /// The logstore to consume.
    #[arg(long)]
    pub logstore: String,
    /// The consumer group (created when missing).
    #[arg(long)]
    pub group: String,
    /// This worker's name in the group (default: spl-<host>-<pid>).
    #[arg(long)]
    pub consumer: Option<String>,
    /// The SPL to apply (pushed down to the server unless --local).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "query_file")]
    pub query: Option<String>,
    /// Read the SPL from this file.
    #[arg(short = 'q', long = "query-file")]
    pub query_file: Option<PathBuf>,
    /// Run the SPL here over the pulled rows instead of on the server.
    #[arg(long)]
    pub local: bool,
    /// Where a shard without a checkpoint starts: begin, end, or a Unix time in seconds.
    #[arg(long, default_value = "begin")]
    pub from: String,
    /// Write one JSON-lines file per shard (shard-N.jsonl, appended) here instead of stdout.
    #[arg(long, value_name = "DIR", conflicts_with = "output")]
    pub output_dir: Option<PathBuf>,
    /// Output format on stdout (JSON lines).
    #[arg(short = 'o', long, value_enum, default_value_t = ConsumeOutput::Json)]
    pub output: ConsumeOutput,
    /// Access key id (or SPL_ACCESS_KEY_ID).
    #[arg(long)]
    pub access_key_id: Option<String>,
    /// Access key secret (or SPL_ACCESS_KEY_SECRET).
    #[arg(long)]
    pub access_key_secret: Option<String>,
    /// Read the key from this file (first ID:SECRET line, as `spl serve --keys-file`).
    #[arg(long, value_name = "FILE")]
    pub keys_file: Option<PathBuf>,
    /// Seconds between heartbeats.
    #[arg(long, default_value = "5", value_name = "SECS")]
    pub heartbeat_interval: f64,
    /// The group's timeout in seconds when this worker creates it.
    #[arg(long, default_value = "20", value_name = "SECS")]
    pub timeout: u64,
    /// LogGroups per pull.
    #[arg(long, default_value = "100")]
    pub batch: u32,
    /// How long a failing call (no connection, HTTP 5xx, 429 throttling) is retried, with
    /// backoff from 0.1 s doubling to 5 s, before the worker gives up (0: never retry).
    #[arg(long, default_value = "300", value_name = "SECS")]
    pub retry_for: u64,
    /// Print progress on stderr at every heartbeat, and totals at the end.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConsumeOutput {
    Json,
}

/// Where a shard without a checkpoint starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    Begin,
    End,
    Time(u64),
}

impl From {
    /// The `from` parameter of GetCursor.
    pub fn param(&self) -> String {
        match self {
            From::Begin => "begin".to_string(),
            From::End => "end".to_string(),
            From::Time(t) => t.to_string(),
        }
    }
}

/// A validated `spl consume`.
#[derive(Debug)]
pub struct ConsumeConfig {
    pub endpoint: String,
    pub project: String,
    pub logstore: String,
    pub group: String,
    pub consumer: String,
    pub query: Option<String>,
    pub local: bool,
    pub from: From,
    pub output_dir: Option<PathBuf>,
    pub key: Option<AccessKey>,
    pub heartbeat_interval: Duration,
    pub timeout: u64,
    pub batch: u32,
    pub retry_for: Duration,
    pub stats: bool,
}

impl ConsumeConfig {
    pub fn from_args(a: ConsumeArgs) -> Result<ConsumeConfig, String> {
        let query = match (a.query, a.query_file) {
            (None, None) => None,
            (q, f) => Some(SplSource::from_args(q, f)?.text),
        };
        if a.local && query.is_none() {
            return Err("--local needs --query or --query-file".to_string());
        }
        let from = match a.from.trim() {
            "begin" => From::Begin,
            "end" => From::End,
            t => From::Time(t.parse().map_err(|_| {
                format!("--from must be begin, end or a Unix time in seconds, not `{t}`")
            })?),
        };
        if !(a.heartbeat_interval.is_finite()
            && a.heartbeat_interval >= 0.05
            && a.heartbeat_interval <= 3600.0)
        {
            return Err("--heartbeat-interval must be 0.05 to 3600 seconds".to_string());
        }
        if a.timeout == 0 || a.timeout > spl_loghub::consumer::MAX_TIMEOUT_SECS {
            return Err(format!(
                "--timeout must be 1 to {} seconds",
                spl_loghub::consumer::MAX_TIMEOUT_SECS
            ));
        }
        if a.batch == 0 || a.batch > 1000 {
            return Err("--batch must be 1 to 1000".to_string());
        }
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let id = a.access_key_id.or_else(|| env("SPL_ACCESS_KEY_ID"));
        let secret = a.access_key_secret.or_else(|| env("SPL_ACCESS_KEY_SECRET"));
        let key = match (id, secret, a.keys_file) {
            (Some(id), Some(secret), _) => Some(AccessKey { id, secret }),
            (Some(_), None, None) | (None, Some(_), None) => {
                return Err(
                    "give both the access key id and secret (flags or SPL_ACCESS_KEY_ID / SPL_ACCESS_KEY_SECRET)"
                        .to_string(),
                )
            }
            (_, _, Some(f)) => Some(AccessKey::from_file(&f)?),
            (None, None, None) => None,
        };
        let consumer = a.consumer.unwrap_or_else(|| {
            let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_string());
            format!("spl-{host}-{}", std::process::id())
        });
        if consumer.is_empty() || consumer.len() > 256 || consumer.chars().any(char::is_control) {
            return Err("--consumer must be 1 to 256 bytes without control characters".to_string());
        }
        // Checks the endpoint and project now, not at the first request.
        spl_loghub::client::Client::new(&a.endpoint, &a.project, None)?;
        Ok(ConsumeConfig {
            endpoint: a.endpoint,
            project: a.project,
            logstore: a.logstore,
            group: a.group,
            consumer,
            query,
            local: a.local,
            from,
            output_dir: a.output_dir,
            key,
            heartbeat_interval: Duration::from_secs_f64(a.heartbeat_interval),
            timeout: a.timeout,
            batch: a.batch,
            retry_for: Duration::from_secs(a.retry_for),
            stats: a.stats,
        })
    }
}

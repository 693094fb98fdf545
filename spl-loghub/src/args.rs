//! The server's command-line flags, defined once: `spl serve` and the standalone
//! `spl-loghub-server` binary both flatten [`ServeArgs`] (docs/pushdown.md lists them; a test
//! checks the two agree).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::TypedValueParser;
use spl_engine::pipeline::ErrorPolicy;

use crate::auth::Keys;
use crate::{Config, Fsync, Limits};

/// Fault injection for tests: while the file this variable names exists, every write to a
/// segment fails as if the disk were full (ENOSPC). See `docs/reliability.md`.
pub const FAULT_DISK_FULL_ENV: &str = "SPL_LOGHUB_FAULT_DISK_FULL";

/// Flags of the LogHub-compatible server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port (the first stdout line says which).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7099")]
    pub listen: SocketAddr,
    /// Directory for shard data (created if missing).
    #[arg(long, value_name = "DIR", default_value = "spl-loghub-data")]
    pub data_dir: PathBuf,
    /// Shards of a logstore created by its first PutLogs.
    #[arg(long, value_name = "N", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub shards: u32,
    /// Shard count for one logstore, as NAME=N (repeatable).
    #[arg(long, value_name = "NAME=N", value_parser = logstore_shards)]
    pub logstore_shards: Vec<(String, u32)>,
    /// Days data is kept, by receive time (0 keeps it forever).
    #[arg(long, value_name = "D", default_value_t = 30)]
    pub ttl_days: u64,
    /// Flush every PutLogs to disk before answering (always) or leave it to the OS (never).
    #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
    pub fsync: FsyncArg,
    /// A pull stops scanning once this many stored bytes were read (at least one group).
    #[arg(long, value_name = "N", default_value_t = 10 << 20)]
    pub max_pull_bytes: usize,
    /// Largest request body as sent (compressed), in bytes; more is 413.
    #[arg(long, value_name = "N", default_value_t = 10 << 20)]
    pub max_body_bytes: usize,
    /// Open connections; more are answered 503 ServerBusy.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections: usize,
    /// Open connections from one IP address; more are answered 503 ServerBusy.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections_per_ip,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections_per_ip: usize,
    /// Requests handled at once; more are answered 503 ServerBusy.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_requests,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_requests: usize,
    /// Request line plus headers, in bytes (at least 8192); more is 431.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_header_bytes,
          value_parser = clap::value_parser!(u32).range(8192..).map(|n| n as usize))]
    pub max_header_bytes: usize,
    /// Request URI (path and query), in bytes; more is 414.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_uri_bytes,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_uri_bytes: usize,
    /// Seconds a client has to send a request's headers; then the connection is closed.
    #[arg(long, value_name = "S", default_value_t = 10.0, value_parser = seconds)]
    pub header_read_timeout: f64,
    /// Seconds a client has to send a request's body; then 408.
    #[arg(long, value_name = "S", default_value_t = 60.0, value_parser = seconds)]
    pub body_read_timeout: f64,
    /// Seconds a connection may sit idle (no request in flight, no bytes moving) before it is
    /// closed.
    #[arg(long, value_name = "S", default_value_t = 60.0, value_parser = seconds)]
    pub idle_timeout: f64,
    /// What a pull with a query returns for a row that fails a stage: the row as stored
    /// (pass-through) or nothing (drop); either way it is counted in `x-log-failedlines`.
    #[arg(long, value_enum, default_value_t = PushdownFailures::PassThrough)]
    pub pushdown_failures: PushdownFailures,
    /// Access key id whose signature every request must carry (with --access-key-secret).
    #[arg(long, value_name = "ID", requires = "access_key_secret")]
    pub access_key_id: Option<String>,
    /// The secret of --access-key-id (visible to other local users in the process list: prefer
    /// --keys-file).
    #[arg(long, value_name = "SECRET", requires = "access_key_id")]
    pub access_key_secret: Option<String>,
    /// A file of access keys, one `ID:SECRET` per line (`#` comments); requests must be signed
    /// with one of them.
    #[arg(long, value_name = "FILE", value_parser = keys_file)]
    pub keys_file: Option<Keys>,
    /// Accept unsigned requests on an address that is not loopback (without keys the server
    /// otherwise listens on loopback only).
    #[arg(long)]
    pub allow_anonymous: bool,
}

fn keys_file(v: &str) -> Result<Keys, String> {
    Keys::from_file(std::path::Path::new(v))
}

/// `--pushdown-failures` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PushdownFailures {
    /// The failing row comes back as stored, whole (the consumer profile's policy).
    PassThrough,
    /// The failing row is left out.
    Drop,
}

fn seconds(v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .ok_or_else(|| "expected seconds, more than 0 and at most 86400".to_string())
}

/// `--fsync` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FsyncArg {
    Always,
    Never,
}

fn logstore_shards(v: &str) -> Result<(String, u32), String> {
    let (name, n) = v
        .split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or("expected NAME=N")?;
    let n = n
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=256).contains(n))
        .ok_or("N must be 1 to 256")?;
    Ok((name.to_string(), n))
}

impl ServeArgs {
    /// The server configuration these flags describe.
    pub fn config(&self) -> Config {
        let mut c = Config::new(self.listen, &self.data_dir);
        c.store.default_shards = self.shards;
        c.store
            .logstore_shards
            .extend(self.logstore_shards.iter().cloned());
        c.store.ttl =
            (self.ttl_days > 0).then(|| Duration::from_secs(self.ttl_days.saturating_mul(86_400)));
        c.store.fsync = match self.fsync {
            FsyncArg::Always => Fsync::Always,
            FsyncArg::Never => Fsync::Never,
        };
        c.max_pull_bytes = self.max_pull_bytes;
        let mut keys = self.keys_file.clone().unwrap_or_default();
        if let (Some(id), Some(secret)) = (&self.access_key_id, &self.access_key_secret) {
            keys.add(id, secret);
        }
        c.keys = (!keys.is_empty()).then_some(keys);
        c.allow_anonymous = self.allow_anonymous;
        c.pushdown_failures = match self.pushdown_failures {
            PushdownFailures::PassThrough => ErrorPolicy::PassThrough,
            PushdownFailures::Drop => ErrorPolicy::Drop,
        };
        c.max_body_bytes = self.max_body_bytes;
        c.store.disk_full_when = std::env::var_os(FAULT_DISK_FULL_ENV).map(PathBuf::from);
        c.limits = Limits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            max_requests: self.max_requests,
            max_header_bytes: self.max_header_bytes,
            max_uri_bytes: self.max_uri_bytes,
            header_read_timeout: Duration::from_secs_f64(self.header_read_timeout),
            body_read_timeout: Duration::from_secs_f64(self.body_read_timeout),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
        };
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }

    #[test]
    fn flags_become_the_config() {
        let cli = Cli::try_parse_from([
            "x",
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "3",
            "--logstore-shards",
            "a=5",
            "--logstore-shards",
            "b=1",
            "--ttl-days",
            "0",
            "--fsync",
            "never",
            "--max-pull-bytes",
            "1000",
            "--max-connections",
            "7",
            "--header-read-timeout",
            "0.5",
            "--max-header-bytes",
            "9000",
            "--pushdown-failures",
            "drop",
        ])
        .unwrap();
        let c = cli.args.config();
        assert_eq!(c.store.default_shards, 3);
        assert_eq!(c.store.logstore_shards.get("a"), Some(&5));
        assert_eq!(c.store.logstore_shards.get("b"), Some(&1));
        assert_eq!(c.store.ttl, None);
        assert_eq!(c.store.fsync, Fsync::Never);
        assert_eq!(c.max_pull_bytes, 1000);
        assert_eq!(c.limits.max_connections, 7);
        assert_eq!(c.limits.header_read_timeout, Duration::from_millis(500));
        assert_eq!(c.limits.max_header_bytes, 9000);
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(60));
        assert_eq!(c.pushdown_failures, ErrorPolicy::Drop);
        assert_eq!(c.keys, None);
        let signed =
            Cli::try_parse_from(["x", "--access-key-id", "ak", "--access-key-secret", "s"])
                .unwrap()
                .args
                .config();
        assert_eq!(signed.keys, Some(Keys::single("ak", "s")));
        let default = Cli::try_parse_from(["x"]).unwrap().args.config();
        assert_eq!(default.pushdown_failures, ErrorPolicy::PassThrough);
        for bad in [
            &["x", "--logstore-shards", "a"][..],
            &["x", "--logstore-shards", "a=0"],
            &["x", "--shards", "300"],
            &["x", "--fsync", "sometimes"],
            &["x", "--max-connections", "0"],
            &["x", "--max-header-bytes", "100"],
            &["x", "--idle-timeout", "0"],
            &["x", "--body-read-timeout", "nan"],
            &["x", "--pushdown-failures", "error-stream"],
            &["x", "--access-key-id", "ak"],
            &["x", "--keys-file", "/nonexistent/keys"],
        ] {
            assert!(Cli::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }
}

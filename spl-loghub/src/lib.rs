//! spl-loghub: a LogHub-compatible shard server with SPL pushdown.
//!
//! It implements the subset of the Alibaba Cloud SLS LogHub REST API that the stock SDKs use to
//! write and consume logs — PutLogs, ListShards, GetCursor, GetCursorTime and PullLogs with a
//! `query` — over durable per-shard storage on local disk ([`store`]). A pull with a query runs
//! the consumer's SPL on each LogGroup before it is sent ([`spl_engine::pushdown`]), so only
//! matching, projected rows cross the wire while the cursor still advances over everything
//! scanned. See `docs/pushdown.md`.
//!
//! | module | job |
//! |---|---|
//! | [`args`] | the server's flags (`spl serve`, `spl-loghub-server`) |
//! | [`auth`] | signed requests: the SDKs' v1 `LOG <ak>:<sig>` HMAC-SHA1 signature, date and body checks |
//! | [`proto`] | LogGroup / LogGroupList protobuf messages (the wire model), conversion to and from engine event groups |
//! | [`scan`] | a pull's pushdown over wire groups, scan statistics with wire sizes |
//! | [`restore`] | rows a query left unchanged come back as stored (logs that repeat a key) |
//! | [`compress`] | lz4 (raw block), zstd, deflate bodies with `x-log-bodyrawsize` |
//! | [`store`] | segments, cursor index, fsync policy, retention; logstores created, listed, deleted |
//! | `durable` | the fsync policy and atomic replacement of metadata files |
//! | `names` | the service's naming rules for projects, logstores and looked-up names |
//! | [`consumer`] | consumer groups: settings, durable checkpoints, heartbeats and shard assignment |
//! | [`server`] | HTTP routing, the data-path handlers (PutLogs, shards, cursors, pulls), headers, errors, query cache, limits |
//! | `api` | the handlers' request and answer model: `Req`, `Answer`, `ApiError` with stable codes, cursors |
//! | `admin` | logstore management over HTTP (create, get, list, update TTL, delete; split/merge refused) |
//! | `group_api` | consumer groups over HTTP (groups, heartbeats, checkpoints) with the service's error codes |
//! | `conn` | one connection under the limits: admission, idle watchdog, JSON for the HTTP layer's own errors |
mod admin;
mod api;
pub mod args;
pub mod auth;
pub mod client;
mod columnar;
pub mod compress;
mod conn;
pub mod consumer;
mod durable;
mod group_api;
mod names;
pub mod proto;
pub mod restore;
pub mod scan;
pub mod server;
pub mod store;
mod wire;

use std::io;

pub use args::ServeArgs;
pub use server::{runtime, Config, Limits, Server};
pub use store::{Fsync, StoreConfig};

/// Serves until Ctrl-C (SIGINT).
pub async fn serve(config: Config) -> io::Result<()> {
    let server = Server::bind(config).await?;
    announce(&server)?;
    server
        .run_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Prints the bound address on stdout (`listening on 127.0.0.1:PORT`), for scripts that start the
/// server on port 0.
fn announce(server: &Server) -> io::Result<()> {
    use std::io::Write;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", server.local_addr()?)?;
    out.flush()
}

/// Starts the server's runtime ([`runtime`]: threads with an explicit stack size) and serves
/// until Ctrl-C (for `spl serve`).
pub fn run_blocking(config: Config) -> io::Result<()> {
    runtime()?.block_on(serve(config))
}

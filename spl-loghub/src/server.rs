//! The HTTP side: routes the LogHub REST subset (PutLogs, ListShards, GetCursor, GetCursorTime,
//! PullLogs with `query`) onto the [`Store`] and the pushdown engine, with the wire details the
//! SDKs rely on (lower-case `x-log-*` headers, base64 cursors, JSON errors with stable codes, 4xx
//! for every deterministic error because the SDKs retry 5xx), under the limits of [`Limits`]
//! (connection and request caps, timeouts, sizes; `docs/pushdown.md`, "Limits").
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use spl_engine::pipeline::{ErrorPolicy, Options, Profile};
use spl_engine::pushdown::Pushdown;
use tokio::sync::Semaphore;

use crate::scan::{self, ScanStats};
use tokio::net::TcpListener;

pub(crate) use crate::api::{bad, err, Answer, Req};
pub use crate::api::{decode_cursor, encode_cursor, ApiError};
use crate::auth::Keys;
use crate::compress::Compression;
use crate::conn::{self, Activity, PerAddress, Watched};
use crate::proto;
use crate::store::{now_secs, Store, StoreConfig, StoreError};
use crate::{admin, group_api};

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    pub store: StoreConfig,
    /// Largest request body as sent (compressed), in bytes.
    pub max_body_bytes: usize,
    /// Largest `x-log-bodyrawsize` (uncompressed LogGroup), in bytes (LogHub: 10 MB).
    pub max_raw_bytes: usize,
    /// A pull stops scanning once this many stored bytes were read (at least one group).
    pub max_pull_bytes: usize,
    /// Compiled queries kept (per query text, failures included).
    pub query_cache: usize,
    /// The project for requests whose `Host` is an IP address or `localhost`.
    pub default_project: String,
    /// How often expired segments are deleted.
    pub expire_every: Duration,
    /// Connection and request caps, timeouts, head sizes.
    pub limits: Limits,
    /// What a pull with a query does with a row that fails: [`ErrorPolicy::PassThrough`]
    /// (default: the row as stored) or [`ErrorPolicy::Drop`].
    pub pushdown_failures: ErrorPolicy,
    /// Access keys: every request must be signed with one ([`crate::auth`]). `None` accepts
    /// unsigned requests, on a loopback address only unless `allow_anonymous`.
    pub keys: Option<Keys>,
    /// Serve without keys on an address that is not loopback.
    pub allow_anonymous: bool,
}

/// What one client, or all of them, may hold of the server. Every answer past a limit is a JSON
/// error (`docs/pushdown.md`, "Limits").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections; one more is answered 503 `ServerBusy` and closed.
    pub max_connections: usize,
    /// Open connections from one IP address; one more is answered 503 `ServerBusy` and closed.
    pub max_connections_per_ip: usize,
    /// Requests being handled at once (a connection carries one at a time); one more is
    /// answered 503 `ServerBusy` (the SDKs retry 5xx with backoff).
    pub max_requests: usize,
    /// Request line plus headers, in bytes (at least 8192); more is 431 `RequestHeaderTooLarge`.
    pub max_header_bytes: usize,
    /// The request URI (path and query), in bytes; more is 414 `RequestURITooLong`.
    pub max_uri_bytes: usize,
    /// A request head must arrive within this; otherwise the connection is closed.
    pub header_read_timeout: Duration,
    /// A request body must arrive within this; otherwise 408 `RequestTimeout`.
    pub body_read_timeout: Duration,
    /// A connection with no request in flight and no bytes moving for this long is closed
    /// (keep-alive idle, and clients that stop reading an answer).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 1024,
            max_connections_per_ip: 256,
            max_requests: 256,
            max_header_bytes: 128 << 10,
            max_uri_bytes: 64 << 10,
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// A body over the limit is read and dropped up to this many bytes so the client, still
/// sending, gets to read the 413; past it the connection is closed.
pub const DRAIN_BYTES: u64 = 64 << 20;

/// Stack size of the server's runtime threads (async workers and the blocking pool that
/// compiles and runs queries): a margin over the deepest query the engine accepts, even in a
/// debug build (an 800-term `1+1+…` chain needs more than 8 MiB there).
pub const THREAD_STACK_BYTES: usize = 32 << 20;

/// The runtime the server needs: multi-threaded, timers and I/O on, threads with
/// [`THREAD_STACK_BYTES`] of stack, at most 64 blocking threads (PutLogs and pulls run there;
/// more wait their turn).
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .max_blocking_threads(64)
        .build()
}

impl Config {
    pub fn new(listen: SocketAddr, data_dir: impl Into<std::path::PathBuf>) -> Config {
        Config {
            listen,
            store: StoreConfig::new(data_dir),
            max_body_bytes: 10 << 20,
            max_raw_bytes: 10 << 20,
            max_pull_bytes: 10 << 20,
            query_cache: 256,
            default_project: "default".to_string(),
            expire_every: Duration::from_secs(60),
            limits: Limits::default(),
            pushdown_failures: ErrorPolicy::PassThrough,
            keys: None,
            allow_anonymous: false,
        }
    }
}

/// Shared server state.
pub(crate) struct State {
    pub(crate) config: Config,
    pub(crate) store: Store,
    queries: Mutex<HashMap<String, Result<Arc<Pushdown>, String>>>,
    requests: AtomicU64,
    started: u64,
    /// Open connections (permits of `limits.max_connections`).
    connections: Arc<Semaphore>,
    per_ip: Arc<PerAddress>,
    /// Requests being handled (permits of `limits.max_requests`).
    handling: Semaphore,
    /// Connections being turned away at once (beyond it they are just closed).
    turning_away: Arc<Semaphore>,
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

impl Server {
    /// Opens the store and binds the listening socket.
    pub async fn bind(config: Config) -> io::Result<Server> {
        if config.keys.as_ref().is_none_or(Keys::is_empty)
            && !config.allow_anonymous
            && !config.listen.ip().is_loopback()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to serve unsigned requests on {}: give access keys \
                     (--access-key-id/--access-key-secret or --keys-file), listen on a loopback \
                     address, or pass --allow-anonymous",
                    config.listen
                ),
            ));
        }
        let store = Store::open(config.store.clone())?;
        let listener = TcpListener::bind(config.listen).await?;
        Ok(Server {
            listener,
            state: Arc::new(State {
                store,
                queries: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
                started: now_secs(),
                connections: Arc::new(Semaphore::new(config.limits.max_connections.max(1))),
                per_ip: Arc::new(PerAddress::default()),
                handling: Semaphore::new(config.limits.max_requests.max(1)),
                turning_away: Arc::new(Semaphore::new(64)),
                config,
            }),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let state = self.state;
        let expirer = {
            let state = state.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(state.config.expire_every);
                loop {
                    tick.tick().await;
                    let s = state.clone();
                    let _ = tokio::task::spawn_blocking(move || s.store.expire(now_secs())).await;
                }
            })
        };
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(_) => {
                            // Out of file descriptors and the like: back off briefly.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    accept(&state, stream, peer);
                }
                () = &mut shutdown => break,
            }
        }
        expirer.abort();
        Ok(())
    }
}

/// Admits a connection under the caps (or turns it away with a JSON 503) and serves it.
fn accept(state: &Arc<State>, stream: tokio::net::TcpStream, peer: SocketAddr) {
    let limits = &state.config.limits;
    let conn_permit = state.connections.clone().try_acquire_owned().ok();
    let slot = conn_permit.as_ref().and_then(|_| {
        state
            .per_ip
            .enter(peer.ip(), limits.max_connections_per_ip.max(1))
    });
    let (Some(conn_permit), Some(slot)) = (conn_permit, slot) else {
        let message = if state.connections.available_permits() == 0 {
            format!(
                "the server has {} open connections (--max-connections); retry later",
                limits.max_connections
            )
        } else {
            format!(
                "{} has {} open connections (--max-connections-per-ip); retry later",
                peer.ip(),
                limits.max_connections_per_ip
            )
        };
        if let Ok(permit) = state.turning_away.clone().try_acquire_owned() {
            tokio::spawn(async move {
                conn::turn_away(stream, &message).await;
                drop(permit);
            });
        }
        return;
    };
    let state = state.clone();
    tokio::spawn(async move {
        let activity = Activity::new();
        let limits = state.config.limits.clone();
        let svc = {
            let activity = activity.clone();
            service_fn(move |req| {
                let state = state.clone();
                let busy = activity.busy();
                async move {
                    let resp = handle(state, req).await;
                    drop(busy);
                    Ok::<_, Infallible>(resp)
                }
            })
        };
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .max_buf_size(limits.max_header_bytes.max(8192))
            // One flat buffer per answer, so an automatic error head reaches `Watched` whole.
            .writev(false);
        let connection =
            builder.serve_connection(TokioIo::new(Watched::new(stream, activity.clone())), svc);
        tokio::select! {
            _ = connection => {}
            () = activity.idle_for(limits.idle_timeout) => {}
        }
        drop(slot);
        drop(conn_permit);
    });
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("{:08X}{:016X}", state.started as u32, n);
    let result = match state.handling.try_acquire() {
        Ok(_permit) => route(state.clone(), req).await,
        Err(_) => Err(err(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServerBusy",
            format!(
                "the server is handling {} requests (--max-requests); retry later",
                state.config.limits.max_requests
            ),
        )),
    };
    let mut close = false;
    let (status, headers, body, content_type) = match result {
        Ok(a) => (a.status, a.headers, a.body, a.content_type),
        Err(e) => (
            e.status,
            {
                close = e.close;
                Vec::new()
            },
            serde_json::json!({
                "errorCode": e.code,
                "errorMessage": e.message,
                "requestId": request_id,
            })
            .to_string()
            .into_bytes(),
            "application/json",
        ),
    };
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if !content_type.is_empty() {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    h.insert("server", HeaderValue::from_static("spl-loghub"));
    if close {
        h.insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-log-requestid", v);
    }
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    resp
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Answer, ApiError> {
    let (parts, body) = req.into_parts();
    let uri_len = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    let max_uri = state.config.limits.max_uri_bytes;
    if uri_len > max_uri {
        let mut e = err(
            StatusCode::URI_TOO_LONG,
            "RequestURITooLong",
            format!("the request URI has {uri_len} bytes, over the limit of {max_uri} (--max-uri-bytes)"),
        );
        e.close = !drain(body, DRAIN_BYTES, state.config.limits.body_read_timeout).await;
        return Err(e);
    }
    let host = parts
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let path = parts.uri.path().to_string();
    let r = Req {
        method: parts.method.clone(),
        project: project_of(&host, &state.config.default_project),
        segments: parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(percent_decode)
            .collect(),
        params: parse_query(parts.uri.query().unwrap_or("")),
        headers: parts.headers,
    };
    let body = read_body(&state, &r, body).await?;
    if let Some(keys) = &state.config.keys {
        keys.verify(
            r.method.as_str(),
            &path,
            &r.params,
            &r.headers,
            &body,
            now_secs() as i64,
        )
        .map_err(|e| {
            err(
                StatusCode::from_u16(e.status).unwrap_or(StatusCode::UNAUTHORIZED),
                e.code,
                e.message,
            )
        })?;
    }
    let segs: Vec<&str> = r.segments.iter().map(String::as_str).collect();
    if admin::handles(&r, &segs) {
        let segs: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        return blocking(move || admin::handle(&state.store, &r, &segs, &body)).await;
    }
    if let ["logstores", _, "consumergroups", ..] = segs.as_slice() {
        let segs: Vec<String> = segs.iter().map(|s| s.to_string()).collect();
        return blocking(move || group_api::handle(&state.store, &r, &segs, &body)).await;
    }
    match (&r.method, segs.as_slice()) {
        (&Method::POST, ["logstores", ls]) | (&Method::POST, ["logstores", ls, "shards", "lb"]) => {
            let ls = ls.to_string();
                blocking(move || put_logs(&state, &r, &ls, None, &body)).await
        }
        (&Method::POST, ["logstores", ls, "shards", "route"]) => {
            let ls = ls.to_string();
            let key = r
                .param("key")
                .or_else(|| r.param("hashKey"))
                .ok_or_else(|| bad("ParameterInvalid", "`/shards/route` needs `key`"))?
                .to_string();
                blocking(move || put_logs(&state, &r, &ls, Some(&key), &body)).await
        }
        (&Method::GET, ["logstores", ls, "shards"]) => {
            let ls = ls.to_string();
            blocking(move || list_shards(&state, &r, &ls)).await
        }
        (&Method::GET, ["logstores", ls, "shards", shard]) => {
            let ls = ls.to_string();
            let shard: u32 = shard.parse().map_err(|_| {
                err(
                    StatusCode::NOT_FOUND,
                    "ShardNotExist",
                    "shard does not exist",
                )
            })?;
            match r.param("type") {
                Some("cursor") => blocking(move || get_cursor(&state, &r, &ls, shard)).await,
                Some("cursor_time") => {
                    blocking(move || get_cursor_time(&state, &r, &ls, shard)).await
                }
                Some("log") | Some("logs") => {
                    blocking(move || pull_logs(&state, &r, &ls, shard)).await
                }
                other => Err(bad(
                    "ParameterInvalid",
                    format!(
                        "unsupported `type` {:?}: use cursor, cursor_time, log or logs",
                        other.unwrap_or("")
                    ),
                )),
            }
        }
        (_, ["logstores", ..]) => Err(err(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{} is not supported on this path", r.method),
        )),
        _ => Err(err(
            StatusCode::NOT_FOUND,
            "RequestPathNotSupported",
            "spl-loghub serves the logstore, shard, pull and consumer-group calls under /logstores only",
        )),
    }
}

pub(crate) async fn blocking(
    f: impl FnOnce() -> Result<Answer, ApiError> + Send + 'static,
) -> Result<Answer, ApiError> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            format!("request failed: {e}"),
        ))
    })
}

fn too_large(what: &str, limit: usize) -> ApiError {
    err(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PostBodyTooLarge",
        format!("{what} is over the limit of {limit} bytes"),
    )
}

/// Reads the body under the size limits and the body timeout. A body declared (by
/// `content-length` or `x-log-bodyrawsize`) or found to be over a limit is answered 413 after
/// it is read and dropped (up to [`DRAIN_BYTES`]), so a client still sending reads the answer.
pub(crate) async fn read_body(
    state: &State,
    r: &Req,
    mut body: Incoming,
) -> Result<Vec<u8>, ApiError> {
    let limit = state.config.max_body_bytes;
    let timeout = state.config.limits.body_read_timeout;
    let declared = |name| {
        r.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let over = if declared(CONTENT_LENGTH.as_str()).is_some_and(|n| n > limit as u64) {
        Some(too_large("the request body", limit))
    } else if declared("x-log-bodyrawsize").is_some_and(|n| n > state.config.max_raw_bytes as u64) {
        Some(too_large(
            "the uncompressed LogGroup",
            state.config.max_raw_bytes,
        ))
    } else {
        None
    };
    if let Some(mut e) = over {
        e.close = !drain(body, DRAIN_BYTES, timeout).await;
        return Err(e);
    }
    let read = async {
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                let mut e = bad("PostBodyInvalid", format!("could not read the body: {e}"));
                e.close = true;
                e
            })?;
            if let Ok(data) = frame.into_data() {
                if out.len() + data.len() > limit {
                    let mut e = too_large("the request body", limit);
                    e.close = !drain(body, DRAIN_BYTES, timeout).await;
                    return Err(e);
                }
                out.extend_from_slice(&data);
            }
        }
        Ok(out)
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => {
            let mut e = err(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeout",
                format!(
                    "the request body did not arrive within {} s (--body-read-timeout)",
                    timeout.as_secs_f64()
                ),
            );
            e.close = true;
            Err(e)
        }
    }
}

/// Reads and drops the rest of a body, up to `max` bytes and `timeout`; true when it was read
/// to its end (the connection can be kept).
async fn drain(mut body: Incoming, max: u64, timeout: Duration) -> bool {
    let read = async {
        let mut n = 0u64;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Ok(data) = frame.into_data() {
                n += data.len() as u64;
                if n > max {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, read).await.unwrap_or(false)
}

/// PutLogs: decompress, validate and append one LogGroup.
fn put_logs(
    state: &State,
    r: &Req,
    logstore: &str,
    key: Option<&str>,
    body: &[u8],
) -> Result<Answer, ApiError> {
    let raw_size = match r.header("x-log-bodyrawsize") {
        None => None,
        Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
            bad(
                "ParameterInvalid",
                format!("x-log-bodyrawsize `{v}` is not a size"),
            )
        })?),
    };
    let limit = state.config.max_raw_bytes;
    if raw_size.unwrap_or(body.len()) > limit {
        return Err(too_large("the uncompressed LogGroup", limit));
    }
    let compression =
        Compression::from_header(r.header("x-log-compresstype")).ok_or_else(|| {
            bad(
                "InvalidCompressType",
                format!(
                    "unsupported x-log-compresstype `{}` (lz4, zstd, deflate or none)",
                    r.header("x-log-compresstype").unwrap_or("")
                ),
            )
        })?;
    let raw = compression
        .decompress(body, raw_size)
        .map_err(|m| bad("PostBodyUncompressError", m))?;
    proto::decode_group(&raw).map_err(|m| bad("PostBodyInvalid", m))?;
    let ls = state.store.logstore_or_create(&r.project, logstore)?;
    let shard = match key {
        None => ls.next_shard(),
        Some(k) => ls.route(k).ok_or_else(|| {
            bad(
                "ParameterInvalid",
                format!("hash key `{k}` is not 32 hex digits"),
            )
        })?,
    };
    shard.append(&raw).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => StoreError::LogstoreNotFound,
        _ => StoreError::Io(e),
    })?;
    Ok(Answer::empty())
}

fn list_shards(state: &State, r: &Req, logstore: &str) -> Result<Answer, ApiError> {
    let ls = state.store.logstore(&r.project, logstore)?;
    let shards: Vec<serde_json::Value> = ls
        .shards()
        .iter()
        .map(|s| {
            let (begin, end) = ls.hash_range(s.id);
            serde_json::json!({
                "shardID": s.id,
                "status": "readwrite",
                "inclusiveBeginKey": begin,
                "exclusiveEndKey": end,
                "createTime": ls.created,
            })
        })
        .collect();
    Ok(Answer::json(serde_json::Value::Array(shards)))
}

fn get_cursor(state: &State, r: &Req, logstore: &str, id: u32) -> Result<Answer, ApiError> {
    let ls = state.store.logstore(&r.project, logstore)?;
    let shard = ls.shard(id)?;
    let from = r.param("from").ok_or_else(|| {
        bad(
            "ParameterInvalid",
            "GetCursor needs `from` (begin, end or a Unix time)",
        )
    })?;
    let cursor = match from {
        "begin" => shard.begin(),
        "end" => shard.end(),
        t => shard.cursor_at(t.trim().parse::<u64>().map_err(|_| {
            bad(
                "ParameterInvalid",
                format!("`from` must be begin, end or a Unix time in seconds, not `{t}`"),
            )
        })?),
    };
    Ok(Answer::json(
        serde_json::json!({ "cursor": encode_cursor(cursor) }),
    ))
}

fn get_cursor_time(state: &State, r: &Req, logstore: &str, id: u32) -> Result<Answer, ApiError> {
    let ls = state.store.logstore(&r.project, logstore)?;
    let shard = ls.shard(id)?;
    let cursor = decode_cursor(r.param("cursor"))?;
    let time = shard.time_of(cursor)?;
    Ok(Answer::json(serde_json::json!({ "cursor_time": time })))
}

/// PullLogs: scan `[cursor, min(cursor + count, end_cursor, tail))`, apply the query per group.
fn pull_logs(state: &State, r: &Req, logstore: &str, id: u32) -> Result<Answer, ApiError> {
    let ls = state.store.logstore(&r.project, logstore)?;
    let shard = ls.shard(id)?;
    let cursor = decode_cursor(r.param("cursor"))?;
    let end = match r.param("end_cursor").or_else(|| r.param("endCursor")) {
        None | Some("") => u64::MAX,
        Some(c) => {
            let end = decode_cursor(Some(c))?;
            if end < cursor {
                return Err(bad(
                    "InvalidCursor",
                    format!("end_cursor {end} is before cursor {cursor}"),
                ));
            }
            end
        }
    };
    let count = match r.param("count") {
        None | Some("") => 1000,
        Some(c) => c
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                bad(
                    "ParameterInvalid",
                    format!("`count` must be 1 to 1000, not `{c}`"),
                )
            })?,
    };
    if r.param("processor").is_some_and(|p| !p.is_empty()) {
        return Err(bad(
            "ParameterInvalid",
            "stored consume processors are not supported; pass the SPL in `query`",
        ));
    }
    let query = r
        .param("query")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| compiled(state, q))
        .transpose()?;
    let started = Instant::now();
    let records = shard.read(cursor, end, count, state.config.max_pull_bytes)?;
    let next = records.last().map_or(cursor, |rec| rec.cursor + 1);
    let last = records.last().map(|rec| (rec.cursor, rec.received));
    let mut body = Vec::new();
    let mut groups = 0u64;
    let mut stats = ScanStats::default();
    match &query {
        None => {
            for rec in &records {
                proto::append_group(&mut body, &rec.bytes);
            }
            groups = records.len() as u64;
        }
        Some(pushdown) => {
            // The consumer profile's time budget holds for the whole pull.
            let pull = scan::Pull::new(pushdown);
            for rec in records {
                let cursor = rec.cursor;
                let (n, s) = pull.scan(rec.bytes, &mut body).map_err(|e| match e {
                    scan::ScanError::Corrupt(e) => err(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "InternalServerError",
                        format!("stored LogGroup at cursor {cursor} is corrupt: {e}"),
                    ),
                    scan::ScanError::Process(e) => bad("SplExecutionError", e.to_string()),
                })?;
                stats.add(&s);
                groups += n;
            }
        }
    }
    let raw_len = body.len();
    let compression = if body.is_empty() {
        Compression::None
    } else {
        Compression::from_accept(r.header("accept-encoding"))
    };
    let sent = compression.compress(&body);
    let mut headers = vec![
        ("x-log-cursor", encode_cursor(next)),
        ("x-log-count", groups.to_string()),
        ("x-log-bodyrawsize", raw_len.to_string()),
    ];
    if let Some(c) = compression.header() {
        headers.push(("x-log-compresstype", c.to_string()));
    }
    if let Some((cursor, received)) = last {
        headers.push(("x-log-read-last-cursor", cursor.to_string()));
        headers.push(("x-log-cursor-time", received.to_string()));
    }
    if next >= shard.end() {
        headers.push(("x-log-end-of-cursor", "1".to_string()));
    }
    if query.is_some() {
        headers.push(("x-log-rawdatacount", stats.engine.raw_groups.to_string()));
        headers.push(("x-log-rawdatasize", stats.raw_bytes.to_string()));
        headers.push(("x-log-rawdatalines", stats.engine.raw_rows.to_string()));
        headers.push(("x-log-resultlines", stats.engine.rows_returned.to_string()));
        headers.push(("x-log-failedlines", stats.engine.rows_failed.to_string()));
        headers.push((
            "x-log-budgetexceeded",
            stats.engine.budget_exceeded.to_string(),
        ));
    }
    headers.push((
        "x-log-process-time-us",
        started.elapsed().as_micros().to_string(),
    ));
    Ok(Answer {
        status: StatusCode::OK,
        headers,
        body: sent,
        content_type: "application/x-protobuf",
    })
}

/// The compiled query for `text`, from the cache or compiled now (failures are cached too, so a
/// bad query costs one compile).
fn compiled(state: &State, text: &str) -> Result<Arc<Pushdown>, ApiError> {
    let cached = state
        .queries
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(text)
        .cloned();
    let entry = match cached {
        Some(e) => e,
        None => {
            let options = Options {
                error_policy: Some(state.config.pushdown_failures),
                ..Options::new(Profile::Consumer)
            };
            let e = Pushdown::with_options(text, &options)
                .map(Arc::new)
                .map_err(|d| d.render("query", text, false).trim_end().to_string());
            let mut cache = state.queries.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= state.config.query_cache.max(1) {
                cache.clear();
            }
            cache.insert(text.to_string(), e.clone());
            e
        }
    };
    entry.map_err(|message| bad("InvalidSplQuery", message))
}

/// The project: the first label of `Host`; an IP address or `localhost` means the default.
pub fn project_of(host: &str, default: &str) -> String {
    let host = host.trim();
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return if rest.contains(']') {
            default.to_string()
        } else {
            host.to_string()
        };
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h)
    };
    if name.is_empty()
        || name.eq_ignore_ascii_case("localhost")
        || name.parse::<std::net::IpAddr>().is_ok()
    {
        return default.to_string();
    }
    name.split('.')
        .next()
        .unwrap_or(default)
        .to_ascii_lowercase()
}

/// `application/x-www-form-urlencoded` query parameters (`+` is a space); the last value wins.
pub fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(
            encode_cursor(1729070618428044655),
            "MTcyOTA3MDYxODQyODA0NDY1NQ=="
        );
        assert_eq!(
            decode_cursor(Some("MTcyOTA3MDYxODQyODA0NDY1NQ==")).unwrap(),
            1729070618428044655
        );
        assert_eq!(
            decode_cursor(Some("MTQ0NzMyOTQwMTEwMjEzMDkwNA")).unwrap(),
            1447329401102130904
        );
        for bad in ["", "!!!", "YWJj", "LTE="] {
            assert_eq!(
                decode_cursor(Some(bad)).unwrap_err().code,
                "InvalidCursor",
                "{bad}"
            );
        }
    }

    #[test]
    fn project_comes_from_the_first_host_label() {
        assert_eq!(project_of("Proj.cn-hangzhou.log.aliyuncs.com", "d"), "proj");
        assert_eq!(project_of("proj.x.test:8080", "d"), "proj");
        assert_eq!(project_of("127.0.0.1:8080", "d"), "d");
        assert_eq!(project_of("localhost", "d"), "d");
        assert_eq!(project_of("[::1]:80", "d"), "d");
        assert_eq!(project_of("", "d"), "d");
    }

    #[test]
    fn query_strings_decode_plus_and_percent() {
        let q = parse_query("type=log&query=*+%7C+where+a%3D%271%27&cursor=MA%3D%3D&bad=%zz");
        assert_eq!(q["query"], "* | where a='1'");
        assert_eq!(q["cursor"], "MA==");
        assert_eq!(q["bad"], "%zz");
    }
}

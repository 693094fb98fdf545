//! Logstore management over HTTP, the calls the SDKs make before they write or consume:
//! CreateLogStore, GetLogStore, ListLogStore, UpdateLogStore (TTL), DeleteLogStore, and a clear
//! `Unsupported` answer for SplitShard and MergeShard (shards here have no parents).
use hyper::{Method, StatusCode};

use crate::api::{bad, err, json_body, Answer, ApiError, Req};
use crate::store::Store;
use crate::store::StoreError;

/// A TTL of this many days or more means the data is kept forever (as in the service).
const TTL_FOREVER_DAYS: u64 = 3650;

/// True for the requests this module answers.
pub(crate) fn handles(r: &Req, segs: &[&str]) -> bool {
    match (&r.method, segs) {
        (&Method::GET | &Method::POST, ["logstores"]) => true,
        (&Method::GET, ["logstores", _]) => r.param("type").is_none(),
        (&Method::PUT | &Method::DELETE, ["logstores", _]) => true,
        (&Method::POST, ["logstores", _, "shards", id]) => {
            r.param("action").is_some() && !matches!(*id, "lb" | "route")
        }
        _ => false,
    }
}

pub(crate) fn handle(
    store: &Store,
    r: &Req,
    segs: &[String],
    body: &[u8],
) -> Result<Answer, ApiError> {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (&r.method, segs.as_slice()) {
        (&Method::GET, ["logstores"]) => list(store, r),
        (&Method::POST, ["logstores"]) => create(store, r, body),
        (&Method::GET, ["logstores", ls]) => get(store, r, ls),
        (&Method::PUT, ["logstores", ls]) => update(store, r, ls, body),
        (&Method::DELETE, ["logstores", ls]) => {
            store.delete_logstore(&r.project, ls)?;
            Ok(Answer::empty())
        }
        (_, ["logstores", ls, "shards", id]) => {
            let ls = store.logstore(&r.project, ls)?;
            id.parse::<u32>()
                .ok()
                .and_then(|id| ls.shard(id).ok())
                .ok_or(StoreError::ShardNotFound)?;
            Err(bad(
                "Unsupported",
                format!(
                    "shard action `{}` is not supported: spl-loghub shards cannot be split or merged \
                     (create a logstore with the shard count you need)",
                    r.param("action").unwrap_or("")
                ),
            ))
        }
        _ => Err(err(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{} is not supported on this path", r.method),
        )),
    }
}

fn int_field(v: &serde_json::Value, name: &str) -> Result<Option<u64>, ApiError> {
    match &v[name] {
        serde_json::Value::Null => Ok(None),
        x => x.as_u64().map(Some).ok_or_else(|| {
            bad(
                "ParameterInvalid",
                format!("`{name}` must be a non-negative integer"),
            )
        }),
    }
}

fn ttl_field(v: &serde_json::Value) -> Result<Option<u64>, ApiError> {
    match int_field(v, "ttl")? {
        Some(0) => Err(bad("ParameterInvalid", "`ttl` must be at least 1 day")),
        t => Ok(t.map(|t| t.min(TTL_FOREVER_DAYS))),
    }
}

fn create(store: &Store, r: &Req, body: &[u8]) -> Result<Answer, ApiError> {
    let v = json_body(body)?;
    let name = v["logstoreName"]
        .as_str()
        .ok_or_else(|| bad("ParameterInvalid", "`logstoreName` is required"))?;
    let shards = match int_field(&v, "shardCount")? {
        None => store.config().default_shards,
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| (1..=256).contains(n))
            .ok_or_else(|| {
                bad(
                    "ParameterInvalid",
                    format!("`shardCount` must be 1 to 256, not {n}"),
                )
            })?,
    };
    let ttl = ttl_field(&v)?;
    store.create_logstore(&r.project, name, shards, ttl)?;
    Ok(Answer::empty())
}

fn describe(store: &Store, ls: &crate::store::Logstore) -> serde_json::Value {
    let ttl = ls
        .ttl_days(store.config())
        .map_or(TTL_FOREVER_DAYS, |d| d.min(TTL_FOREVER_DAYS));
    let shards = ls.shards().len();
    serde_json::json!({
        "logstoreName": ls.name,
        "ttl": ttl,
        "shardCount": shards,
        "enable_tracking": false,
        "autoSplit": false,
        "maxSplitShard": shards,
        "appendMeta": false,
        "telemetryType": "None",
        "mode": "standard",
        "createTime": ls.created,
        "lastModifyTime": ls.modified(),
    })
}

fn get(store: &Store, r: &Req, name: &str) -> Result<Answer, ApiError> {
    let ls = store.logstore(&r.project, name)?;
    Ok(Answer::json(describe(store, &ls)))
}

fn update(store: &Store, r: &Req, name: &str, body: &[u8]) -> Result<Answer, ApiError> {
    let ls = store.logstore(&r.project, name)?;
    let v = json_body(body)?;
    if let Some(other) = v["logstoreName"].as_str().filter(|n| *n != name) {
        return Err(bad(
            "ParameterInvalid",
            format!("`logstoreName` `{other}` does not match the path's `{name}`"),
        ));
    }
    if let Some(n) = int_field(&v, "shardCount")?.filter(|n| *n != ls.shards().len() as u64) {
        return Err(bad(
            "Unsupported",
            format!(
                "the shard count cannot change ({} to {n}): shards cannot be split or merged",
                ls.shards().len()
            ),
        ));
    }
    if let Some(ttl) = ttl_field(&v)? {
        ls.set_ttl_days(ttl).map_err(StoreError::Io)?;
    }
    Ok(Answer::empty())
}

fn list(store: &Store, r: &Req) -> Result<Answer, ApiError> {
    let number = |name: &str, default: usize| -> Result<usize, ApiError> {
        match r.param(name) {
            None | Some("") => Ok(default),
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                bad(
                    "ParameterInvalid",
                    format!("`{name}` must be a number, not `{v}`"),
                )
            }),
        }
    };
    let offset = number("offset", 0)?;
    let size = number("size", 100)?;
    if !(1..=500).contains(&size) {
        return Err(bad("ParameterInvalid", "`size` must be 1 to 500"));
    }
    let pattern = r.param("logstoreName").unwrap_or("");
    let names: Vec<String> = store
        .list_logstores(&r.project)?
        .into_iter()
        .filter(|n| n.contains(pattern))
        .collect();
    let page: Vec<&String> = names.iter().skip(offset).take(size).collect();
    Ok(Answer::json(serde_json::json!({
        "count": page.len(),
        "total": names.len(),
        "logstores": page,
    })))
}

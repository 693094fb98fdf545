//! Consumer groups over HTTP (`/logstores/{ls}/consumergroups[/{cg}]`): create, list, update and
//! delete groups, heartbeats and checkpoints, with the service's error codes; the state and its
//! rules are in [`crate::consumer`].
use std::time::Instant;

use hyper::{Method, StatusCode};

use crate::api::{bad, decode_cursor, err, json_body, Answer, ApiError, Req};
use crate::consumer::{valid_consumer_name, GroupError};
use crate::store::Store;

impl From<GroupError> for ApiError {
    fn from(e: GroupError) -> ApiError {
        match e {
            GroupError::NotFound => err(
                StatusCode::NOT_FOUND,
                "ConsumerGroupNotExist",
                "consumer group does not exist",
            ),
            GroupError::Exists => bad("ConsumerGroupAlreadyExist", "consumer group already exists"),
            GroupError::InvalidName(m) => bad("ParameterInvalid", format!("invalid name: {m}")),
            GroupError::Invalid(m) => bad("ParameterInvalid", m),
            // The service's spelling, which the SDKs compare against.
            GroupError::ConsumerNotExist => bad(
                "ConsumerNotExsit",
                "the consumer is not in the consumer group",
            ),
            GroupError::ConsumerNotMatch(m) => bad("ConsumerNotMatch", m),
            GroupError::ShardNotFound => err(
                StatusCode::NOT_FOUND,
                "ShardNotExist",
                "shard does not exist",
            ),
            GroupError::Io(e) => crate::store::StoreError::Io(e).into(),
        }
    }
}

pub(crate) fn handle(
    store: &Store,
    r: &Req,
    segs: &[String],
    body: &[u8],
) -> Result<Answer, ApiError> {
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let (ls, cg) = match segs.as_slice() {
        ["logstores", ls, "consumergroups"] => (*ls, None),
        ["logstores", ls, "consumergroups", cg] => (*ls, Some(*cg)),
        _ => {
            return Err(err(
                StatusCode::NOT_FOUND,
                "RequestPathNotSupported",
                "unknown consumer-group path",
            ))
        }
    };
    let logstore = store.logstore(&r.project, ls)?;
    let groups = &logstore.groups;
    match (&r.method, cg) {
        (&Method::POST, None) => {
            let v = json_body(body)?;
            let name = v["consumerGroup"]
                .as_str()
                .ok_or_else(|| bad("ParameterInvalid", "`consumerGroup` is required"))?;
            let timeout = seconds(&v["timeout"])
                .ok_or_else(|| bad("ParameterInvalid", "`timeout` (seconds) is required"))?;
            groups.create(name, timeout, bool_field(&v, "order")?.unwrap_or(false))?;
            Ok(Answer::empty())
        }
        (&Method::GET, None) => Ok(Answer::json(serde_json::Value::Array(
            groups
                .list()
                .into_iter()
                .map(
                    |g| serde_json::json!({"name": g.name, "timeout": g.timeout, "order": g.order}),
                )
                .collect(),
        ))),
        (&Method::PUT, Some(cg)) => {
            let v = json_body(body)?;
            let timeout = match &v["timeout"] {
                serde_json::Value::Null => None,
                t => Some(seconds(t).ok_or_else(|| {
                    bad("ParameterInvalid", "`timeout` must be a number of seconds")
                })?),
            };
            let order = bool_field(&v, "order")?;
            if timeout.is_none() && order.is_none() {
                return Err(bad("ParameterInvalid", "give `timeout` and/or `order`"));
            }
            groups.update(cg, timeout, order)?;
            Ok(Answer::empty())
        }
        (&Method::DELETE, Some(cg)) => {
            groups.delete(cg)?;
            Ok(Answer::empty())
        }
        (&Method::POST, Some(cg)) => match r.param("type") {
            Some("heartbeat") => {
                let consumer = consumer(r, true)?;
                let v = json_body(if body.is_empty() { b"[]" } else { body })?;
                let shards: Vec<i64> = v
                    .as_array()
                    .and_then(|a| a.iter().map(serde_json::Value::as_i64).collect())
                    .ok_or_else(|| {
                        bad(
                            "PostBodyInvalid",
                            "the heartbeat body must be a JSON array of shard ids",
                        )
                    })?;
                let assigned = groups.heartbeat(cg, consumer, &shards, Instant::now())?;
                Ok(Answer::json(serde_json::json!(assigned)))
            }
            Some("checkpoint") => {
                let consumer = consumer(r, false)?;
                let force = match r
                    .param("forceSuccess")
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("") | Some("false") | Some("0") => false,
                    Some("true") | Some("1") => true,
                    Some(other) => {
                        return Err(bad(
                            "ParameterInvalid",
                            format!("`forceSuccess` must be true or false, not `{other}`"),
                        ))
                    }
                };
                let v = json_body(body)?;
                let shard = v["shard"]
                    .as_u64()
                    .and_then(|s| u32::try_from(s).ok())
                    .ok_or_else(|| bad("ParameterInvalid", "`shard` (an id) is required"))?;
                let cursor = v["checkpoint"].as_str().unwrap_or("");
                decode_cursor(Some(cursor)).map_err(|_| {
                    bad(
                        "InvalidShardCheckPoint",
                        format!("checkpoint `{cursor}` is not a cursor (base64 of a number)"),
                    )
                })?;
                groups.update_checkpoint(cg, consumer, force, shard, cursor, Instant::now())?;
                Ok(Answer::empty())
            }
            other => Err(bad(
                "ParameterInvalid",
                format!(
                    "unsupported `type` {:?}: use heartbeat or checkpoint",
                    other.unwrap_or("")
                ),
            )),
        },
        (&Method::GET, Some(cg)) => {
            let shard = match r.param("shard") {
                None | Some("") => None,
                Some(s) => match s.trim().parse::<i64>() {
                    Ok(n) if n < 0 => None,
                    Ok(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
                    Err(_) => {
                        return Err(bad(
                            "ParameterInvalid",
                            format!("`shard` must be a shard id, not `{s}`"),
                        ))
                    }
                },
            };
            let list = groups.checkpoints(cg, shard)?;
            Ok(Answer::json(serde_json::Value::Array(
                list.into_iter()
                    .map(|c| {
                        serde_json::json!({
                            "shard": c.shard,
                            "checkpoint": c.cursor,
                            "updateTime": c.update_time,
                            "consumer": c.consumer,
                        })
                    })
                    .collect(),
            )))
        }
        _ => Err(err(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{} is not supported on this path", r.method),
        )),
    }
}

/// A timeout in seconds: an integer, or a number rounded up (the Python SDK sends twice its
/// heartbeat interval, a float when the interval is one).
fn seconds(v: &serde_json::Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f <= 1e12)
            .map(|f| f.ceil() as u64)
    })
}

fn bool_field(v: &serde_json::Value, name: &str) -> Result<Option<bool>, ApiError> {
    match &v[name] {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Bool(b) => Ok(Some(*b)),
        _ => Err(bad(
            "ParameterInvalid",
            format!("`{name}` must be true or false"),
        )),
    }
}

/// The `consumer` parameter (required for heartbeats; a checkpoint may go without one).
fn consumer(r: &Req, required: bool) -> Result<&str, ApiError> {
    match r.param("consumer") {
        Some(c) if valid_consumer_name(c) => Ok(c),
        None | Some("") if !required => Ok(""),
        Some(c) if !c.is_empty() => Err(bad(
            "ParameterInvalid",
            "`consumer` must be 1 to 256 bytes of text without control characters",
        )),
        _ => Err(bad("ParameterInvalid", "`consumer` is required")),
    }
}

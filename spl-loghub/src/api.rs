//! The request and answer model of the HTTP handlers: the parsed request ([`Req`]), a success
//! answer ([`Answer`]), an error answer with the service's stable code ([`ApiError`]) and the
//! wire forms handlers share (cursors, JSON bodies). The router (`server`) and the handler
//! modules (`admin`, `group_api`) build on it.
use std::collections::HashMap;
use std::io;

use base64::Engine;
use hyper::{Method, StatusCode};

use crate::store::StoreError;

/// An error answer: HTTP status, stable `errorCode`, message; `close` ends the connection
/// after the answer (the request body was not read to its end).
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub close: bool,
}

pub(crate) fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code,
        message: message.into(),
        close: false,
    }
}

pub(crate) fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    err(StatusCode::BAD_REQUEST, code, message)
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::LogstoreNotFound => err(
                StatusCode::NOT_FOUND,
                "LogStoreNotExist",
                "logstore does not exist",
            ),
            StoreError::ShardNotFound => err(
                StatusCode::NOT_FOUND,
                "ShardNotExist",
                "shard does not exist",
            ),
            StoreError::LogstoreExists => bad("LogStoreAlreadyExist", "logstore already exists"),
            StoreError::InvalidCursor(m) => bad("InvalidCursor", m),
            StoreError::InvalidName(n) => bad("ParameterInvalid", format!("invalid name: {n}")),
            StoreError::Io(e) if e.kind() == io::ErrorKind::StorageFull => err(
                StatusCode::INSUFFICIENT_STORAGE,
                "StorageFull",
                format!("the data directory is full; nothing was stored: {e}"),
            ),
            StoreError::Io(e) => err(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                format!("storage error: {e}"),
            ),
        }
    }
}

/// What a handler answers on success.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// Empty for an empty body: the service sends no `content-type` then (the Node SDK parses
    /// any `application/json` body, even an empty one).
    pub(crate) content_type: &'static str,
}

impl Answer {
    pub(crate) fn json(value: serde_json::Value) -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
            content_type: "application/json",
        }
    }

    /// 200 with no body and no `content-type` (PutLogs, the management calls that return
    /// nothing).
    pub(crate) fn empty() -> Answer {
        Answer {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: Vec::new(),
            content_type: "",
        }
    }
}

/// The parsed parts of a request that handlers use.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) project: String,
    pub(crate) segments: Vec<String>,
    pub(crate) params: HashMap<String, String>,
    pub(crate) headers: hyper::HeaderMap,
}

impl Req {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The request body as a JSON object.
pub(crate) fn json_body(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice::<serde_json::Value>(body)
        .map_err(|e| bad("PostBodyInvalid", format!("the body is not JSON: {e}")))
}

/// base64 of the decimal text of the cursor.
pub fn encode_cursor(cursor: u64) -> String {
    base64::engine::general_purpose::STANDARD.encode(cursor.to_string())
}

/// Reads a cursor (padding optional); anything else is `InvalidCursor`.
pub fn decode_cursor(text: Option<&str>) -> Result<u64, ApiError> {
    let text = text.ok_or_else(|| bad("InvalidCursor", "a cursor is required"))?;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine
        .decode(text.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| bad("InvalidCursor", format!("`{text}` is not a cursor")))
}

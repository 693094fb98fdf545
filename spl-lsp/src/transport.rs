//! The base protocol: `Content-Length`-framed JSON-RPC messages read from a byte stream and
//! written to another. Framing is done here rather than by `lsp-server`'s stdio threads so that
//! a malformed message gets a JSON-RPC error and the server keeps reading, instead of the
//! reader stopping at the first bad payload.
use std::io::{self, BufRead, Read, Write};

use lsp_server::{ErrorCode, Message};

/// The largest message body accepted; bigger ones are skipped with an error.
pub const MAX_BODY: usize = 64 << 20;

/// What one read from the stream gave.
#[derive(Debug)]
pub enum Incoming {
    /// A well-formed message.
    Message(Message),
    /// A frame that could not be used: the JSON-RPC error to send (with `id` when the payload
    /// had a usable one).
    Bad {
        id: serde_json::Value,
        code: ErrorCode,
        message: String,
    },
    /// The stream ended.
    Eof,
}

/// Reads the next frame. Only an I/O error of the stream itself is an `Err`.
pub fn read(r: &mut impl BufRead) -> io::Result<Incoming> {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    let mut saw_header = false;
    loop {
        line.clear();
        let n = r.by_ref().take(8192).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(Incoming::Eof);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| format!("invalid Content-Length `{}`", value.trim())),
                );
            }
        }
    }
    let length = match length {
        None => {
            return Ok(bad(
                ErrorCode::ParseError,
                "message without a Content-Length header",
            ))
        }
        Some(Err(e)) => return Ok(bad(ErrorCode::ParseError, &e)),
        Some(Ok(n)) => n,
    };
    if length > MAX_BODY {
        io::copy(&mut r.by_ref().take(length as u64), &mut io::sink())?;
        return Ok(bad(
            ErrorCode::InvalidRequest,
            &format!("message of {length} bytes is over the limit of {MAX_BODY} bytes"),
        ));
    }
    let mut body = Vec::with_capacity(length);
    r.by_ref().take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Ok(Incoming::Eof);
    }
    Ok(decode(&body))
}

/// A message from a frame's body.
pub fn decode(body: &[u8]) -> Incoming {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return bad(ErrorCode::ParseError, &format!("invalid JSON: {e}")),
    };
    let id = match value.get("id") {
        Some(id @ (serde_json::Value::Number(_) | serde_json::Value::String(_))) => id.clone(),
        _ => serde_json::Value::Null,
    };
    if !value.is_object() || value.get("method").is_some_and(|m| !m.is_string()) {
        return Incoming::Bad {
            id,
            code: ErrorCode::InvalidRequest,
            message: "not a JSON-RPC request, notification or response".into(),
        };
    }
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => Incoming::Bad {
            id,
            code: ErrorCode::InvalidRequest,
            message: format!("not a JSON-RPC message: {e}"),
        },
    }
}

fn bad(code: ErrorCode, message: &str) -> Incoming {
    Incoming::Bad {
        id: serde_json::Value::Null,
        code,
        message: message.to_string(),
    }
}

/// Writes one message with its header.
pub fn write(w: &mut impl Write, message: &Message) -> io::Result<()> {
    let body = serde_json::to_vec(message).map_err(io::Error::other)?;
    write_body(w, &body)
}

/// Writes an error response whose id may be null (which `lsp-server`'s `Response` cannot hold).
pub fn write_error(
    w: &mut impl Write,
    id: &serde_json::Value,
    code: ErrorCode,
    message: &str,
) -> io::Result<()> {
    let body = serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code as i32, "message": message },
    }))
    .map_err(io::Error::other)?;
    write_body(w, &body)
}

fn write_body(w: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(body)?;
    w.flush()
}

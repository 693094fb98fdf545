//! A small blocking LogHub client: one HTTP/1.1 request per connection over `std::net`, signed
//! with [`crate::auth::string_to_sign`] (the same text the server verifies), with the project in
//! the `Host` header and compressed pull bodies decoded. Plain `http://` endpoints only.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use crate::auth::{content_md5, sign, string_to_sign};
use crate::compress::Compression;

/// An access key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey").field("id", &self.id).finish()
    }
}

impl AccessKey {
    /// The first `ID:SECRET` line of a keys file (the format `spl serve --keys-file` reads).
    pub fn from_file(path: &Path) -> Result<AccessKey, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read keys file {}: {e}", path.display()))?;
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .and_then(|l| l.split_once(':'))
            .filter(|(id, secret)| !id.trim().is_empty() && !secret.trim().is_empty())
            .map(|(id, secret)| AccessKey {
                id: id.trim().to_string(),
                secret: secret.trim().to_string(),
            })
            .ok_or_else(|| {
                format!(
                    "keys file {} holds no ACCESS_KEY_ID:ACCESS_KEY_SECRET line",
                    path.display()
                )
            })
    }
}

/// A response: status, headers (names lower case) and the body, decompressed.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The service's error as one line (`status code: message`).
    pub fn error_text(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        match (v["errorCode"].as_str(), v["errorMessage"].as_str()) {
            (Some(code), Some(msg)) => format!("HTTP {} {code}: {msg}", self.status),
            _ => format!(
                "HTTP {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body).trim()
            ),
        }
    }

    /// The service's error code, if the body is a JSON error.
    pub fn error_code(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        v["errorCode"].as_str().map(str::to_string)
    }
}

/// A client of one project at one endpoint.
#[derive(Debug, Clone)]
pub struct Client {
    addr: String,
    host_header: String,
    key: Option<AccessKey>,
    timeout: Duration,
}

impl Client {
    /// `endpoint` is `http://HOST[:PORT]` or `HOST[:PORT]` (port 80 by default).
    pub fn new(endpoint: &str, project: &str, key: Option<AccessKey>) -> Result<Client, String> {
        let rest = endpoint.trim().trim_end_matches('/');
        if rest.starts_with("https://") {
            return Err("https endpoints are not supported; use http://HOST:PORT".to_string());
        }
        let rest = rest.strip_prefix("http://").unwrap_or(rest);
        if rest.is_empty() || rest.contains('/') {
            return Err(format!("endpoint `{endpoint}` is not http://HOST[:PORT]"));
        }
        if project.is_empty()
            || !project
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "project `{project}` must be letters, digits and `-`"
            ));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port: u16 = p
                    .parse()
                    .map_err(|_| format!("endpoint `{endpoint}`: bad port `{p}`"))?;
                (h.to_string(), port)
            }
            _ => (rest.to_string(), 80),
        };
        // The server reads the project from the first label of Host; an address gets the
        // project as a label of `localhost`.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let named_host = if bare.parse::<std::net::IpAddr>().is_ok() || bare == "localhost" {
            "localhost".to_string()
        } else {
            host.clone()
        };
        Ok(Client {
            addr: format!("{host}:{port}"),
            host_header: format!("{project}.{named_host}:{port}"),
            key,
            timeout: Duration::from_secs(60),
        })
    }

    /// Sends one request with a JSON body (if any); `params` are the decoded query parameters.
    /// Transport failures are errors; HTTP errors are responses.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, String> {
        self.request_typed(method, path, params, body, "application/json")
    }

    /// PutLogs of one uncompressed, encoded LogGroup to the next shard (`shards/lb`).
    pub fn put_logs(&self, logstore: &str, group: &[u8]) -> Result<Response, String> {
        let path = format!("/logstores/{logstore}/shards/lb");
        self.request_typed("POST", &path, &[], group, "application/x-protobuf")
    }

    /// [`Client::request`] with the body's content type.
    pub fn request_typed(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
        body_type: &str,
    ) -> Result<Response, String> {
        let date = chrono::Utc::now()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let md5 = if body.is_empty() {
            String::new()
        } else {
            content_md5(body)
        };
        let content_type = if body.is_empty() { "" } else { body_type };
        let raw_size = body.len().to_string();
        let log_headers = [
            ("x-log-apiversion", "0.6.0"),
            ("x-log-bodyrawsize", raw_size.as_str()),
            ("x-log-signaturemethod", "hmac-sha1"),
        ];
        let mut head = format!(
            "{method} {path}{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nDate: {date}\r\nAccept-Encoding: lz4, deflate\r\nContent-Length: {}\r\n",
            encode_query(params),
            self.host_header,
            body.len()
        );
        for (k, v) in log_headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-MD5: {md5}\r\n"
            ));
        }
        if let Some(key) = &self.key {
            let text = string_to_sign(
                method,
                &md5,
                content_type,
                &date,
                &log_headers,
                path,
                params,
            );
            head.push_str(&format!(
                "Authorization: LOG {}:{}\r\n",
                key.id,
                sign(&key.secret, &text)
            ));
        }
        head.push_str("\r\n");
        let mut stream = TcpStream::connect(&self.addr)
            .map_err(|e| format!("cannot connect to {}: {e}", self.addr))?;
        let _ = stream.set_read_timeout(Some(self.timeout));
        let _ = stream.set_write_timeout(Some(self.timeout));
        let mut wire = head.into_bytes();
        wire.extend_from_slice(body);
        stream
            .write_all(&wire)
            .map_err(|e| format!("sending to {}: {e}", self.addr))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("reading from {}: {e}", self.addr))?;
        parse_response(&raw)
    }
}

/// `?k=v&…` with every byte outside the unreserved set percent-encoded (empty without params).
fn encode_query(params: &[(&str, &str)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    format!("?{}", parts.join("&"))
}

fn parse_response(raw: &[u8]) -> Result<Response, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the server closed the connection before a full response")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    let payload = &raw[split + 4..];
    let body = if response
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        dechunk(payload)?
    } else {
        match response.header("content-length").map(str::parse::<usize>) {
            Some(Ok(n)) if n <= payload.len() => payload[..n].to_vec(),
            Some(Ok(_)) => return Err("the response body was cut short".to_string()),
            _ => payload.to_vec(),
        }
    };
    let compression = Compression::from_header(response.header("x-log-compresstype"))
        .ok_or("unsupported x-log-compresstype in the response")?;
    let raw_size = response
        .header("x-log-bodyrawsize")
        .and_then(|v| v.parse().ok());
    response.body = if compression.header().is_some() {
        compression.decompress(&body, raw_size)?
    } else {
        body
    };
    Ok(response)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunked body")?;
        let size_text = std::str::from_utf8(&data[..eol]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size + 2 {
            return Err("the chunked body was cut short".to_string());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_host_headers() {
        let c = Client::new("http://127.0.0.1:7099", "demo", None).unwrap();
        assert_eq!(c.addr, "127.0.0.1:7099");
        assert_eq!(c.host_header, "demo.localhost:7099");
        let c = Client::new("log.example.test", "p1", None).unwrap();
        assert_eq!(c.host_header, "p1.log.example.test:80");
        assert!(Client::new("https://x", "p", None).is_err());
        assert!(Client::new("http://x:port", "p", None).is_err());
        assert!(Client::new("http://x", "a b", None).is_err());
    }

    #[test]
    fn queries_are_percent_encoded_and_chunks_joined() {
        assert_eq!(
            encode_query(&[("query", "* | where a > 1"), ("type", "logs")]),
            "?query=%2A%20%7C%20where%20a%20%3E%201&type=logs"
        );
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abcde"[..]));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc").is_err());
    }
}

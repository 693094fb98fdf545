//! What the limit and fault tests share: a tiny HTTP/1.1 client over `std::net` (no client
//! library, so malformed requests can be sent as is), LogGroup helpers, scratch directories.
#![allow(dead_code)]
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use prost::Message;
use spl_loghub::proto::{Log, LogContent, LogGroup, LogGroupList};

/// A parsed answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the status and text when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answer is not JSON ({e}): {:?}",
                self.status,
                self.text()
            )
        })
    }

    pub fn error_code(&self) -> String {
        self.json()["errorCode"].as_str().unwrap_or("").to_string()
    }

    /// Asserts a JSON error answer with this status and code and a message.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(
            self.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
        assert_eq!(self.error_code(), code, "{}", self.text());
        assert!(!self.json()["errorMessage"].as_str().unwrap().is_empty());
    }

    /// The pulled LogGroupList (sent uncompressed: no accept-encoding).
    pub fn groups(&self) -> Vec<LogGroup> {
        assert!(!self.headers.contains_key("x-log-compresstype"));
        LogGroupList::decode(&self.body[..]).unwrap().log_groups
    }
}

/// Connects with a read timeout that only keeps a broken test from hanging forever.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    s
}

/// Reads one answer (head, then `content-length` bytes of body).
pub fn read_answer(s: &mut TcpStream) -> io::Result<Resp> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .map_or(0, |v| v.parse().unwrap());
    let mut body = vec![0; len];
    s.read_exact(&mut body)?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// True when the server closed the connection (EOF or reset) before sending anything more.
pub fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match s.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
        ),
    }
}

/// One request on a new connection (`connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: proj.loghub.test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    read_answer(&mut s)
}

/// PutLogs of one group, uncompressed.
pub fn put(addr: SocketAddr, logstore: &str, group: &LogGroup) -> io::Result<Resp> {
    let raw = group.encode_to_vec();
    let size = raw.len().to_string();
    request(
        addr,
        "POST",
        &format!("/logstores/{logstore}/shards/lb"),
        &[("x-log-bodyrawsize", &size)],
        &raw,
    )
}

/// Every group of every shard of `logstore`, from the beginning.
pub fn pull_all(addr: SocketAddr, logstore: &str) -> Vec<LogGroup> {
    let shards = request(
        addr,
        "GET",
        &format!("/logstores/{logstore}/shards"),
        &[],
        b"",
    )
    .unwrap()
    .json();
    let mut out = Vec::new();
    for shard in shards.as_array().unwrap() {
        let id = shard["shardID"].as_u64().unwrap();
        let base = format!("/logstores/{logstore}/shards/{id}");
        let r = request(
            addr,
            "GET",
            &format!("{base}?type=cursor&from=begin"),
            &[],
            b"",
        )
        .unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let mut cursor = r.json()["cursor"].as_str().unwrap().to_string();
        loop {
            let r = request(
                addr,
                "GET",
                &format!(
                    "{base}?type=log&count=1000&cursor={}",
                    cursor.replace('=', "%3D")
                ),
                &[],
                b"",
            )
            .unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            let groups = r.groups();
            let next = r.headers["x-log-cursor"].clone();
            let done = groups.is_empty() || next == cursor;
            out.extend(groups);
            if done {
                break;
            }
            cursor = next;
        }
    }
    out
}

/// A group of one log `{id: <id>, pad: <pad bytes>}`.
pub fn group(id: &str, pad: usize) -> LogGroup {
    LogGroup {
        logs: vec![Log {
            time: 1_700_000_000,
            contents: vec![
                LogContent {
                    key: b"id".to_vec(),
                    value: id.as_bytes().to_vec(),
                },
                LogContent {
                    key: b"pad".to_vec(),
                    value: vec![b'x'; pad],
                },
            ],
            time_ns: None,
        }],
        ..LogGroup::default()
    }
}

/// The `id` of every log in `groups`.
pub fn ids(groups: &[LogGroup]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| &g.logs)
        .filter_map(|l| l.contents.iter().find(|c| c.key == b"id"))
        .map(|c| String::from_utf8_lossy(&c.value).into_owned())
        .collect()
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "spl-loghub-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

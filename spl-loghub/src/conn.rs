//! One connection's life under the server's limits: admission (global and per-address
//! connection caps, a JSON 503 for those turned away), the idle watchdog, and the rewrite of the
//! HTTP layer's own error answers (400/414/431, sent by hyper with an empty body) into the
//! LogHub JSON error shape that every other answer uses.
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// An error answer written directly on the socket (outside hyper): status line, JSON body,
/// `connection: close`.
pub(crate) fn raw_answer(status: u16, reason: &str, code: &str, message: &str) -> Vec<u8> {
    let body = serde_json::json!({"errorCode": code, "errorMessage": message}).to_string();
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\nserver: spl-loghub\r\nx-log-requestid: 0\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Open connections per peer address, with a cap.
#[derive(Debug, Default)]
pub(crate) struct PerAddress {
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Holds one connection slot of an address; frees it on drop.
pub(crate) struct AddressSlot {
    owner: Arc<PerAddress>,
    ip: IpAddr,
}

impl PerAddress {
    /// A slot for `ip` unless it already has `cap` connections.
    pub(crate) fn enter(self: &Arc<Self>, ip: IpAddr, cap: usize) -> Option<AddressSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            owner: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Turns a connection away: writes a JSON 503, closes the write side, and reads (and drops)
/// what the client already sent for a moment so the close does not reset the answer away.
pub(crate) async fn turn_away(mut stream: TcpStream, message: &str) {
    let answer = raw_answer(503, "Service Unavailable", "ServerBusy", message);
    let linger = async {
        stream.write_all(&answer).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 8192];
        let mut read = 0usize;
        while read < 1 << 20 {
            match stream.read(&mut sink).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<_, io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), linger).await;
}

/// What the idle watchdog sees of a connection: when bytes last moved, and how many requests
/// are being handled (a connection is idle only with none).
#[derive(Debug)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Marks a request as being handled until the guard drops.
    pub(crate) fn busy(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Completes once the connection has been idle (no request in flight, no bytes moved) for
    /// `idle`.
    pub(crate) async fn idle_for(&self, idle: Duration) {
        loop {
            let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let since = self.start.elapsed().saturating_sub(last);
            if since >= idle && self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            let wait = if since >= idle {
                idle / 4
            } else {
                idle - since
            };
            tokio::time::sleep(wait.max(Duration::from_millis(10))).await;
        }
    }
}

/// A request in flight on a connection.
pub(crate) struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket as hyper sees it: records activity, and replaces hyper's automatic error answers
/// (a bare head with `content-length: 0`, no `x-log-requestid`) with the JSON answer.
pub(crate) struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
    /// A replacement being written: bytes, how many were written, how many of hyper's bytes it
    /// stands for.
    rewrite: Option<(Vec<u8>, usize, usize)>,
}

impl Watched {
    pub(crate) fn new(inner: TcpStream, activity: Arc<Activity>) -> Watched {
        Watched {
            inner,
            activity,
            rewrite: None,
        }
    }
}

/// The JSON answer for one of hyper's automatic error heads, and the head's length.
fn replacement(buf: &[u8]) -> Option<(Vec<u8>, usize)> {
    let (status, reason, code, message) = if buf.starts_with(b"HTTP/1.1 431 ") {
        (
            431,
            "Request Header Fields Too Large",
            "RequestHeaderTooLarge",
            "the request line and headers are over the server's limit (--max-header-bytes) or \
             there are too many headers",
        )
    } else if buf.starts_with(b"HTTP/1.1 414 ") {
        (
            414,
            "URI Too Long",
            "RequestURITooLong",
            "the request URI is over the server's limit",
        )
    } else if buf.starts_with(b"HTTP/1.1 400 ") {
        (
            400,
            "Bad Request",
            "BadRequest",
            "the request is not valid HTTP/1.1 (request line or headers could not be parsed)",
        )
    } else {
        return None;
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    if head.contains("x-log-requestid") || !head.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    Some((raw_answer(status, reason, code, message), end))
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.rewrite.is_none() {
            if let Some((bytes, claim)) = replacement(buf) {
                this.rewrite = Some((bytes, 0, claim));
            }
        }
        if let Some((bytes, written, claim)) = &mut this.rewrite {
            while *written < bytes.len() {
                match Pin::new(&mut this.inner).poll_write(cx, &bytes[*written..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                    }
                    Poll::Ready(Ok(n)) => {
                        *written += n;
                        this.activity.touch();
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            let claim = *claim;
            this.rewrite = None;
            return Poll::Ready(Ok(claim));
        }
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyper_error_heads_are_replaced() {
        let hyper =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let (bytes, claim) = replacement(hyper).unwrap();
        assert_eq!(claim, hyper.len());
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("HTTP/1.1 431 "));
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["errorCode"], "RequestHeaderTooLarge");
        // Our own answers carry a request id; other statuses are left alone.
        assert!(replacement(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nx-log-requestid: 1\r\n\r\n"
        )
        .is_none());
        assert!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").is_none());
        assert!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 9\r\n\r\n").is_none());
    }
}

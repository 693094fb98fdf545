//! The server's limits over real TCP (raw sockets for the malformed cases): every answer past a
//! limit is a JSON error, slow or idle clients are disconnected, connection and request caps
//! hold, an oversized upload gets a readable 413, and a query the engine rejects (or a very long
//! one) does not stop the server.
mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use common::*;
use spl_loghub::{Config, Server};

struct TestServer {
    rt: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    dir: PathBuf,
}

impl TestServer {
    fn start(name: &str, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = temp_dir(name);
        let mut config = Config::new("127.0.0.1:0".parse().unwrap(), &dir);
        tweak(&mut config);
        let rt = spl_loghub::runtime().unwrap();
        let server = rt.block_on(Server::bind(config)).unwrap();
        let addr = server.local_addr().unwrap();
        rt.spawn(server.run_until(std::future::pending()));
        TestServer {
            rt: Some(rt),
            addr,
            dir,
        }
    }

    /// The server still answers: a PutLogs and a ListShards.
    fn assert_serving(&self) {
        let r = put(self.addr, "alive", &group("1", 10)).unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
        let r = request(self.addr, "GET", "/logstores/alive/shards", &[], b"").unwrap();
        assert_eq!(r.status, 200, "{}", r.text());
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends raw bytes on a new connection and reads one answer.
fn raw(addr: SocketAddr, bytes: &[u8]) -> Resp {
    let mut s = connect(addr);
    s.write_all(bytes).unwrap();
    read_answer(&mut s).unwrap()
}

#[test]
fn errors_of_the_http_layer_are_json() {
    let srv = TestServer::start("http-layer", |c| {
        c.limits.max_header_bytes = 16 << 10;
        c.limits.max_uri_bytes = 4 << 10;
    });
    // Headers over --max-header-bytes.
    let big = format!(
        "GET /logstores/a/shards HTTP/1.1\r\nHost: x\r\nx-pad: {}\r\n\r\n",
        "a".repeat(40 << 10)
    );
    raw(srv.addr, big.as_bytes()).assert_error(431, "RequestHeaderTooLarge");
    // More headers than the parser takes.
    let mut many = "GET /logstores/a/shards HTTP/1.1\r\nHost: x\r\n".to_string();
    for i in 0..200 {
        many.push_str(&format!("x-h{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    raw(srv.addr, many.as_bytes()).assert_error(431, "RequestHeaderTooLarge");
    // A URI over --max-uri-bytes but within the head limit.
    let uri = format!(
        "GET /logstores/a/shards/0?type=log&query={} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "x".repeat(10 << 10)
    );
    raw(srv.addr, uri.as_bytes()).assert_error(414, "RequestURITooLong");
    // Requests that are not HTTP.
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nbad header line\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    ] {
        raw(srv.addr, garbage).assert_error(400, "BadRequest");
    }
    // Routing errors were JSON already.
    raw(srv.addr, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        .assert_error(404, "RequestPathNotSupported");
    srv.assert_serving();
}

#[test]
fn slow_partial_headers_and_idle_connections_are_closed() {
    let srv = TestServer::start("slow", |c| {
        c.limits.header_read_timeout = Duration::from_millis(500);
        c.limits.idle_timeout = Duration::from_millis(500);
    });
    // 100 clients that send half a request head and then nothing.
    let mut slow: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut s = connect(srv.addr);
            s.write_all(b"GET /logstores/a/shards HTTP/1.1\r\nHost: x\r\nx-slow: ")
                .unwrap();
            s
        })
        .collect();
    for s in &mut slow {
        assert!(closed_by_server(s), "a slow head is cut off");
    }
    // A kept-alive connection that stops sending requests.
    let mut s = connect(srv.addr);
    s.write_all(b"GET /logstores/a/shards HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    read_answer(&mut s)
        .unwrap()
        .assert_error(404, "LogStoreNotExist");
    assert!(closed_by_server(&mut s), "an idle connection is closed");
    srv.assert_serving();
}

#[test]
fn a_stalled_body_is_a_408() {
    let srv = TestServer::start("stalled-body", |c| {
        c.limits.body_read_timeout = Duration::from_millis(500);
        c.limits.idle_timeout = Duration::from_secs(600);
    });
    let mut s = connect(srv.addr);
    s.write_all(
        b"POST /logstores/a/shards/lb HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf",
    )
    .unwrap();
    read_answer(&mut s)
        .unwrap()
        .assert_error(408, "RequestTimeout");
    srv.assert_serving();
}

#[test]
fn connection_caps_answer_503_json() {
    let srv = TestServer::start("conn-cap", |c| c.limits.max_connections = 2);
    // Two kept-alive connections hold both slots (each answered once, so both were accepted).
    let mut held: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut s = connect(srv.addr);
            s.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            read_answer(&mut s)
                .unwrap()
                .assert_error(404, "RequestPathNotSupported");
            s
        })
        .collect();
    let r = request(srv.addr, "GET", "/logstores/a/shards", &[], b"").unwrap();
    r.assert_error(503, "ServerBusy");
    assert!(r.text().contains("--max-connections"), "{}", r.text());
    // Freeing one slot lets a new connection in (once the server has seen the close).
    held.pop();
    let mut answered = None;
    for _ in 0..1000 {
        let r = request(srv.addr, "GET", "/logstores/a/shards", &[], b"").unwrap();
        if r.status != 503 {
            answered = Some(r);
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    answered
        .expect("a slot frees up")
        .assert_error(404, "LogStoreNotExist");
    drop(held);

    let srv = TestServer::start("ip-cap", |c| c.limits.max_connections_per_ip = 1);
    let mut s = connect(srv.addr);
    s.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    read_answer(&mut s)
        .unwrap()
        .assert_error(404, "RequestPathNotSupported");
    let r = request(srv.addr, "GET", "/logstores/a/shards", &[], b"").unwrap();
    r.assert_error(503, "ServerBusy");
    assert!(
        r.text().contains("--max-connections-per-ip"),
        "{}",
        r.text()
    );
}

#[test]
fn requests_over_the_cap_answer_503_json() {
    let srv = TestServer::start("req-cap", |c| {
        c.limits.max_requests = 1;
        c.limits.body_read_timeout = Duration::from_secs(600);
        c.limits.idle_timeout = Duration::from_secs(600);
    });
    // A request whose body has not arrived yet holds the only request slot; a second request
    // meanwhile is turned away. (The second may reach the server first; then both finish and
    // the round is tried again.)
    let mut busy = None;
    for _ in 0..100 {
        let mut s = connect(srv.addr);
        s.write_all(
            b"POST /logstores/a/shards/lb HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345",
        )
        .unwrap();
        let r = request(srv.addr, "GET", "/logstores/a/shards", &[], b"").unwrap();
        // Finishing the first request frees the slot.
        s.write_all(b"67890").unwrap();
        let first = read_answer(&mut s).unwrap();
        if r.status == 503 {
            first.assert_error(400, "PostBodyInvalid");
            busy = Some(r);
            break;
        }
    }
    let r = busy.expect("the cap is reached");
    r.assert_error(503, "ServerBusy");
    assert!(r.text().contains("--max-requests"), "{}", r.text());
    srv.assert_serving();
}

#[test]
fn an_oversized_upload_gets_a_readable_413() {
    let srv = TestServer::start("413", |_| {});
    // 11 MiB uncompressed, declared by content-length: the whole body is sent, then the answer
    // is read.
    let body = vec![b'x'; 11 << 20];
    let r = request(srv.addr, "POST", "/logstores/a/shards/lb", &[], &body).unwrap();
    r.assert_error(413, "PostBodyTooLarge");
    // Declared by x-log-bodyrawsize only.
    let r = request(
        srv.addr,
        "POST",
        "/logstores/a/shards/lb",
        &[
            ("x-log-bodyrawsize", "11534336"),
            ("x-log-compresstype", "lz4"),
        ],
        &[0; 1000],
    )
    .unwrap();
    r.assert_error(413, "PostBodyTooLarge");
    // Chunked, no length: found while reading.
    let mut s = connect(srv.addr);
    s.write_all(
        b"POST /logstores/a/shards/lb HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .unwrap();
    let chunk = vec![b'y'; 1 << 20];
    for _ in 0..11 {
        s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        s.write_all(&chunk).unwrap();
        s.write_all(b"\r\n").unwrap();
    }
    s.write_all(b"0\r\n\r\n").unwrap();
    read_answer(&mut s)
        .unwrap()
        .assert_error(413, "PostBodyTooLarge");
    // Nothing was stored.
    let r = request(srv.addr, "GET", "/logstores/a/shards", &[], b"").unwrap();
    r.assert_error(404, "LogStoreNotExist");
    srv.assert_serving();
}

#[test]
fn long_operator_chains_in_a_query_do_not_stop_the_server() {
    let srv = TestServer::start("deep-query", |_| {});
    assert_eq!(put(srv.addr, "web", &group("1", 1)).unwrap().status, 200);
    for query in [
        format!("* | extend x = {}", vec!["1"; 800].join("+")),
        format!("* | where {}", vec!["id = '1'"; 1000].join(" and ")),
    ] {
        let encoded: String = query
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let r = request(
            srv.addr,
            "GET",
            "/logstores/web/shards/0?type=cursor&from=begin",
            &[],
            b"",
        )
        .unwrap();
        let cursor = r.json()["cursor"].as_str().unwrap().replace('=', "%3D");
        let r = request(
            srv.addr,
            "GET",
            &format!("/logstores/web/shards/0?type=log&cursor={cursor}&query={encoded}"),
            &[],
            b"",
        )
        .unwrap();
        if r.status != 200 {
            r.assert_error(400, "InvalidSplQuery");
        }
        srv.assert_serving();
    }
}

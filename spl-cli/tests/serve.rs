//! `spl serve` starts the LogHub-compatible server: it announces its address, answers the
//! REST API (an unknown logstore is a JSON `LogStoreNotExist` error) and keeps its data dir.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn serve_announces_and_answers_the_api() {
    let dir = std::env::temp_dir().join(format!("spl-serve-test-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--shards",
            "3",
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spl serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /logstores/nothing/shards HTTP/1.1\r\nHost: demo.localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
    assert!(response.contains("LogStoreNotExist"), "{response}");
}

#[test]
fn serve_rejects_bad_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["serve", "--shards", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

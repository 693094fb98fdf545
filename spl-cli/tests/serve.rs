//! `spl serve` starts the LogHub-compatible server: it announces its address, answers the
//! REST API (an unknown logstore is a JSON `LogStoreNotExist` error) and keeps its data dir. Its
//! flags are `spl_loghub::ServeArgs`, shared with `spl-loghub-server`: `spl serve --help` lists
//! every flag docs/pushdown.md documents, and the docs name no flag that does not exist.
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

#[test]
fn serve_announces_and_answers_the_api() {
    let dir = std::env::temp_dir().join(format!("spl-serve-test-{}", std::process::id()));
    let (mut child, addr) = common::start_serve(
        Command::new(env!("CARGO_BIN_EXE_spl"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--shards",
                "3",
                "--data-dir",
            ])
            .arg(&dir),
    );
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

#[test]
fn serve_rejects_bad_values_of_the_server_flags() {
    for args in [
        &["serve", "--logstore-shards", "nope"][..],
        &["serve", "--logstore-shards", "a=0"],
        &["serve", "--max-pull-bytes", "x"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_spl"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// The `--flag` names in the flag table of docs/pushdown.md (rows starting with "| `--").
fn documented_flags() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pushdown.md");
    let doc = std::fs::read_to_string(path).expect("docs/pushdown.md");
    let flags: Vec<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| `--"))
        .map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            format!("--{name}")
        })
        .collect();
    assert!(flags.len() >= 7, "the flag table was not found: {flags:?}");
    flags
}

/// Every `--flag` mentioned anywhere in docs/pushdown.md.
fn mentioned_flags() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pushdown.md");
    let doc = std::fs::read_to_string(path).expect("docs/pushdown.md");
    let mut out = Vec::new();
    let mut rest = doc.as_str();
    while let Some(i) = rest.find("--") {
        rest = &rest[i + 2..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            out.push(format!("--{name}"));
        }
    }
    out
}

fn help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_spl"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn serve_help_lists_every_documented_flag() {
    let help = help();
    for flag in documented_flags() {
        assert!(
            help.contains(&flag),
            "`spl serve --help` lacks {flag}:\n{help}"
        );
    }
}

#[test]
fn the_docs_name_only_flags_that_exist() {
    let help = help();
    // Flags of other tools named in the page (cargo, the server's own test commands).
    let other = ["--bin", "--test", "--release", "--lib"];
    for flag in mentioned_flags() {
        if other.contains(&flag.as_str()) {
            continue;
        }
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "docs/pushdown.md names {flag}, which `spl serve` does not have:\n{help}"
        );
    }
}

//! End-to-end tests of the IP functions through the `spl` binary: `--geoip FILE` with a small
//! MaxMind DB written by the engine's test-support writer, the clear errors for a missing or
//! corrupt file and for a pipeline that needs a database without one, and the W0004
//! portability warning of `spl check --profile logtail|consumer|transform`.
use assert_cmd::Command;
use serde_json::Value;
use spl_engine::functions::geoip::mmdb;

fn spl() -> Command {
    Command::cargo_bin("spl").expect("spl binary")
}

const INPUT: &str =
    "{\"ip\":\"1.0.1.7\"}\n{\"ip\":\"8.8.8.8\"}\n{\"ip\":\"10.0.0.1\"}\n{\"ip\":\"oops\"}\n";

const PIPELINE: &str = "* | extend country = ip_to_country(ip), code = ip_to_country_code(ip), \
     province = ip_to_province(ip, 'en'), city = ip_to_city(ip), geo = ip_to_geo(ip), \
     isp = ip_to_provider(ip), domain = ip_to_domain(ip), net = ip_prefix(ip, 16)";

fn rows(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn run_with_a_geoip_database_answers_every_function() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.mmdb");
    std::fs::write(&db, mmdb::sample()).unwrap();
    let out = spl()
        .args(["run", "-o", "json", "--geoip"])
        .arg(&db)
        .arg(PIPELINE)
        .write_stdin(INPUT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(&out.stdout);
    assert_eq!(rows.len(), 4);
    let r = &rows[0];
    assert_eq!(r["country"], "中国");
    assert_eq!(r["code"], "CN");
    assert_eq!(r["province"], "Zhejiang");
    assert_eq!(r["city"], "杭州");
    assert_eq!(r["geo"], "30.2936,120.1614");
    assert_eq!(r["isp"], "China Telecom");
    assert_eq!(r["domain"], "internet");
    assert_eq!(r["net"], "1.0.0.0/16");
    let r = &rows[1];
    assert_eq!(r["country"], "美国");
    assert_eq!(r["province"], "United States");
    assert_eq!(r["isp"], "Google LLC");
    // Not in the database: no value (NULL fields are not emitted); the domain still answers.
    let r = &rows[2];
    assert!(r.get("country").is_none(), "{r}");
    assert_eq!(r["domain"], "intranet");
    let r = &rows[3];
    assert!(r.get("country").is_none() && r.get("net").is_none(), "{r}");
    assert_eq!(r["domain"], "invalid");
}

#[test]
fn without_a_database_the_pipeline_does_not_compile() {
    let out = spl()
        .args(["run", "-o", "json", "* | extend c = ip_to_city(ip)"])
        .write_stdin(INPUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("E1015"), "{err}");
    assert!(
        err.contains("ip_to_city needs an IP geolocation database"),
        "{err}"
    );
    assert!(err.contains("--geoip"), "{err}");
    // `spl check` reports the same, and accepts the pipeline with a database.
    let out = spl()
        .args(["check", "* | extend c = ip_to_city(ip)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.mmdb");
    std::fs::write(&db, mmdb::sample()).unwrap();
    let out = spl()
        .args(["check", "--geoip"])
        .arg(&db)
        .arg("* | extend c = ip_to_city(ip)")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn missing_or_corrupt_database_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.mmdb");
    let out = spl()
        .args(["run", "--geoip"])
        .arg(&missing)
        .arg("* | extend c = ip_to_country(ip)")
        .write_stdin(INPUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--geoip: cannot read the IP geolocation database"),
        "{err}"
    );
    assert!(err.contains("none.mmdb"), "{err}");

    let corrupt = dir.path().join("corrupt.mmdb");
    std::fs::write(&corrupt, b"this is not a MaxMind database").unwrap();
    let out = spl()
        .args(["trace", "--geoip"])
        .arg(&corrupt)
        .arg("* | extend c = ip_to_country(ip)")
        .write_stdin(INPUT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a valid MaxMind DB (.mmdb)"), "{err}");
}

#[test]
fn check_warns_about_functions_the_hosted_service_does_not_run() {
    let spl_text = "* | where is_subnet_of('10.0.0.0/8', ip) | extend s = strpos(uri, '/')";
    for profile in ["logtail", "consumer", "transform"] {
        let out = spl()
            .args(["check", "--format", "json", "--profile", profile, spl_text])
            .output()
            .unwrap();
        // A warning, not an error.
        assert!(
            out.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let text = v.to_string();
        assert!(text.contains("W0004"), "{profile}: {text}");
        assert!(text.contains("is_subnet_of"), "{profile}: {text}");
        assert!(!text.contains("strpos"), "{profile}: {text}");
    }
    let out = spl()
        .args(["check", "--format", "json", "--profile", "cli", spl_text])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("W0004"));
}

/// Starts `spl play` on a free port with `args`, posts one run, returns the JSON answer text.
fn play_run(args: &[&std::ffi::OsStr], spl_text: &str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command as Std, Stdio};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("spl"))
        .args(["play", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    let body = serde_json::json!({"spl": spl_text, "sample": "{\"ip\":\"1.0.1.7\"}\n"}).to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "POST /api/run HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    answer
}

#[test]
fn play_uses_the_geoip_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("city.mmdb");
    std::fs::write(&db, mmdb::sample()).unwrap();
    let spl_text = "* | extend c = ip_to_country(ip)";
    let answer = play_run(&["--geoip".as_ref(), db.as_os_str()], spl_text);
    assert!(answer.contains("中国"), "{answer}");
    let answer = play_run(&[], spl_text);
    assert!(answer.contains("E1015"), "{answer}");
}

//! Shared inputs for the criterion benchmarks in `benches/benches/`.

/// A realistic multi-stage pipeline of about 300 bytes.
pub const PIPELINE: &str = "* | parse-regexp content, '^(\\S+) \\S+ \\S+ \\[([^\\]]+)\\] \"(\\S+) (\\S+) [^\"]*\" (\\d+) (\\d+)' as ip, time, method, uri, status, size | where cast(status as bigint) >= 500 and uri like '/api/%' | extend latency_ms = cast(latency as double) * 1000 | project ip, method, uri, status, latency_ms";

/// A program of about 64 KiB: the longest script the logtail profile accepts.
pub fn large_program() -> String {
    let stage = " | where status >= 500 and uri like '/api/%' | extend a = concat(x, 'y')";
    format!("*{}", stage.repeat(65536 / stage.len() + 1))
}

/// The benchmark workloads of `../shared/bench/WORKLOADS.md`.
pub const W1: &str = "* | where cast(status as bigint) >= 500";
pub const W2: &str = "* | parse-regexp content, '^(\\S+) \\S+ \\S+ \\[([^\\]]+)\\] \"(\\S+) (\\S+) [^\"]*\" (\\d+) (\\d+)' as ip, time, method, uri, status, size | where cast(status as bigint) >= 500 | project ip, method, uri, status";
pub const W3: &str =
    "* | extend latency_ms = cast(latency as double) * 1000 | project-away user_agent";

/// Deterministic synthetic access-log events in the shape of `../shared/bench/gen_logs.py`:
/// nginx combined lines (with latency and request id) and the same events as flat JSON lines.
pub struct AccessLogs {
    pub raw: String,
    pub jsonl: String,
}

/// Generates `n` events.
pub fn access_logs(n: usize) -> AccessLogs {
    const METHODS: &[&str] = &["GET", "GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"];
    const PATHS: &[&str] = &[
        "/api/v1/users",
        "/api/v1/orders",
        "/api/v2/items",
        "/static/app.js",
        "/login",
        "/health",
        "/search",
    ];
    const STATUS: &[&str] = &[
        "200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "200", "200",
        "200", "200", "200", "201", "204", "301", "304", "400", "404", "500", "502", "503",
    ];
    const AGENTS: &[&str] = &[
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        "curl/8.4.0",
        "Go-http-client/1.1",
        "python-requests/2.31.0",
    ];
    let mut seed: u64 = 42;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut raw = String::with_capacity(n * 180);
    let mut jsonl = String::with_capacity(n * 260);
    for i in 0..n {
        let ip = format!("10.{}.{}.{}", next() % 256, next() % 256, 1 + next() % 254);
        let m = METHODS[next() % METHODS.len()];
        let mut p = PATHS[next() % PATHS.len()].to_string();
        if next() % 2 == 0 {
            p.push_str(&format!("?id={}&page={}", next() % 99999, 1 + next() % 20));
        }
        let st = STATUS[next() % STATUS.len()];
        let size = next() % 50000;
        let lat = format!("{}.{:03}", next() % 2, next() % 1000);
        let ua = AGENTS[next() % AGENTS.len()];
        let rid = format!("{:016x}", next() as u64 * 2654435761);
        let ts = 1_700_000_000 + i / 50;
        raw.push_str(&format!(
            "{ip} - - [14/Nov/2023:22:13:20 +0000] \"{m} {p} HTTP/1.1\" {st} {size} \"-\" \"{ua}\" {lat} {rid}\n"
        ));
        jsonl.push_str(&format!(
            "{{\"time\":\"{ts}\",\"ip\":\"{ip}\",\"method\":\"{m}\",\"uri\":\"{p}\",\"status\":\"{st}\",\"size\":\"{size}\",\"referer\":\"-\",\"user_agent\":\"{ua}\",\"latency\":\"{lat}\",\"request_id\":\"{rid}\"}}\n"
        ));
    }
    AccessLogs { raw, jsonl }
}

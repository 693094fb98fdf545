//! Shared inputs for the criterion benchmarks in `benches/benches/`.

/// A realistic multi-stage pipeline of about 300 bytes.
pub const PIPELINE: &str = "* | parse-regexp content, '^(\\S+) \\S+ \\S+ \\[([^\\]]+)\\] \"(\\S+) (\\S+) [^\"]*\" (\\d+) (\\d+)' as ip, time, method, uri, status, size | where cast(status as bigint) >= 500 and uri like '/api/%' | extend latency_ms = cast(latency as double) * 1000 | project ip, method, uri, status, latency_ms";

/// A program of about 64 KiB: the longest script the logtail profile accepts.
pub fn large_program() -> String {
    let stage = " | where status >= 500 and uri like '/api/%' | extend a = concat(x, 'y')";
    format!("*{}", stage.repeat(65536 / stage.len() + 1))
}

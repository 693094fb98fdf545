//! Helpers shared by the parser's integration tests: locating test data and reading the
//! `### name` block files.
#![allow(dead_code)] // each test binary uses a different subset
use std::path::PathBuf;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Reads a file of `### name` headers each followed by an SPL text.
pub fn blocks(rel: &str) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("### ") {
            out.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(line);
        }
    }
    out
}

/// Every SPL text of the corpora: testdata and, when present, ../shared/conformance.
pub fn corpus() -> Vec<(String, String)> {
    let mut texts = Vec::new();
    let root = repo();
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        "testdata/corpus",
        "testdata/conformance",
        "../shared/conformance",
    ] {
        if let Ok(rd) = std::fs::read_dir(root.join(dir)) {
            files.extend(rd.filter_map(|e| e.ok()).map(|e| e.path()));
        }
    }
    files.sort();
    for f in files {
        let name = f.display().to_string();
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        match f.extension().and_then(|e| e.to_str()) {
            Some("txt") => {
                for (i, l) in text.lines().enumerate() {
                    if !l.trim().is_empty() && !l.starts_with('#') {
                        texts.push((format!("{name}:{}", i + 1), l.to_string()));
                    }
                }
            }
            Some("jsonl") => {
                for (i, l) in text.lines().enumerate() {
                    // Conformance files allow `#` and `//` comment lines.
                    let t = l.trim();
                    if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
                        continue;
                    }
                    let v: serde_json::Value =
                        serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}:{}: {e}", i + 1));
                    // Cases that expect a compile error are not valid programs.
                    if v.get("compile_error").is_some() {
                        continue;
                    }
                    if let Some(spl) = v["spl"].as_str() {
                        texts.push((format!("{name}:{}", i + 1), spl.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    texts
}

//! Keeps `docs/cli.md` true: every command of a ```` ```console ```` block (lines starting with
//! `$ `) is run with `sh` in a scratch directory holding copies of `testdata/logs` and
//! `testdata/pipelines`, with the `spl` under test first on `PATH` and stderr merged into
//! stdout, and what it prints must be the lines under it. Timings (`--stats`, `--analyze`)
//! are compared with their numbers masked. `SPL_UPDATE_DOCS=1` rewrites the blocks with what
//! the commands print.
use std::path::Path;
use std::process::Command;

fn repo(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A scratch directory with `testdata/logs` and `testdata/pipelines` copied in.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("spl-docs-test")
        .tempdir()
        .unwrap();
    for sub in ["testdata/logs", "testdata/pipelines"] {
        let to = dir.path().join(sub);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(repo(sub)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    dir
}

/// Runs one documented command line.
fn shell(cmd: &str, dir: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_spl")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("exec 2>&1\n{cmd}"))
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Masks what changes from run to run: on timing lines (`input: …`, stage rows ending in
/// ` ms`) every decimal number, and runs of spaces.
fn normalize(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("input: ") || l.ends_with(" ms") {
                l.split_whitespace()
                    .map(|w| {
                        let n = w.trim_start_matches('(');
                        if n.contains('.') && n.parse::<f64>().is_ok() {
                            "#"
                        } else {
                            w
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn console_examples_in_docs_cli_md_print_what_they_show() {
    let path = repo("docs/cli.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let update = std::env::var_os("SPL_UPDATE_DOCS").is_some();
    let dir = scratch();
    let mut rewritten = String::new();
    let mut failures = Vec::new();
    let mut lines = text.lines().peekable();
    let mut commands = 0;
    while let Some(line) = lines.next() {
        rewritten.push_str(line);
        rewritten.push('\n');
        if line != "```console" {
            continue;
        }
        while let Some(line) = lines.next() {
            if line == "```" {
                rewritten.push_str("```\n");
                break;
            }
            let Some(cmd) = line.strip_prefix("$ ") else {
                panic!("console block line without a command before it: {line}");
            };
            commands += 1;
            let mut expected = String::new();
            while let Some(next) = lines.peek() {
                if next.starts_with("$ ") || *next == "```" {
                    break;
                }
                expected.push_str(next);
                expected.push('\n');
                lines.next();
            }
            let actual = shell(cmd, dir.path());
            rewritten.push_str(line);
            rewritten.push('\n');
            if update {
                rewritten.push_str(&actual);
            } else {
                rewritten.push_str(&expected);
                if normalize(&actual) != normalize(&expected) {
                    failures.push(format!(
                        "$ {cmd}\n--- docs/cli.md\n{expected}--- actual\n{actual}"
                    ));
                }
            }
        }
    }
    assert!(commands > 20, "only {commands} examples found");
    if update {
        std::fs::write(&path, rewritten).unwrap();
        return;
    }
    assert!(
        failures.is_empty(),
        "{} examples in docs/cli.md are stale (SPL_UPDATE_DOCS=1 rewrites them):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

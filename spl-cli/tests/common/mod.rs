//! Helpers shared by the CLI's integration tests.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// Starts `spl serve` as `cmd` describes (its `--listen` on port 0) and returns the child and the
/// address it announced on stdout (`listening on ADDR`).
pub fn start_serve(cmd: &mut Command) -> (Child, String) {
    let mut child = cmd
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
    (child, addr)
}

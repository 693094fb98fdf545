//! The standalone `spl-loghub-server` takes the same flags as `spl serve` (one `ServeArgs`): its
//! `--help` lists every flag of the docs/pushdown.md table, and bad values are usage errors.
use std::path::Path;
use std::process::Command;

#[test]
fn server_help_lists_every_documented_flag() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/pushdown.md"))
            .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spl-loghub-server"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for line in doc.lines().filter_map(|l| l.strip_prefix("| `--")) {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        assert!(help.contains(&format!("--{name}")), "--{name}:\n{help}");
        n += 1;
    }
    assert!(n >= 7, "flag table not found");
    let bad = Command::new(env!("CARGO_BIN_EXE_spl-loghub-server"))
        .args(["--logstore-shards", "x"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

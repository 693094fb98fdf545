//! The generated reference pages in docs/ match the code metadata.
use std::path::PathBuf;

fn check(rel: &str, expected: String) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel);
    if std::env::var_os("SPL_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{rel} is stale: run `SPL_UPDATE_DOCS=1 cargo test -p spl-parser --test docs`"
    );
}

#[test]
fn diagnostics_page_is_current() {
    check("docs/diagnostics.md", spl_parser::docs::diagnostics_md());
}

#[test]
fn instructions_page_is_current() {
    check("docs/instructions.md", spl_parser::docs::instructions_md());
}

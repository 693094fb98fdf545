//! The generated reference pages in docs/ match the code metadata.
use std::path::PathBuf;

fn page(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

#[test]
fn diagnostics_page_is_current() {
    spl_parser::docs::check_generated(
        &page("docs/diagnostics.md"),
        &spl_parser::docs::diagnostics_md(),
    )
    .unwrap();
}

#[test]
fn instructions_page_is_current() {
    spl_parser::docs::check_generated(
        &page("docs/instructions.md"),
        &spl_parser::docs::instructions_md(),
    )
    .unwrap();
}

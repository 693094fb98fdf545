//! Generates the reference pages `docs/diagnostics.md` and `docs/instructions.md` from the code
//! metadata (the code registry and the instruction table). A test fails when the checked-in pages
//! are stale; `SPL_UPDATE_DOCS=1 cargo test -p spl-parser --test docs` rewrites them.
use std::fmt::Write;

use crate::codes;
use crate::instructions::INSTRUCTIONS;

/// `docs/diagnostics.md`: every diagnostic code.
pub fn diagnostics_md() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n<!-- Generated from spl-parser/src/codes.rs; do not edit. -->\n\n\
         Codes are stable and never reused. `E0xxx`: syntax and validation errors; `E1xxx`: compile \
         errors from the engine; `W0xxx`: warnings. `spl check --format json` reports them with \
         line and column.\n\n| code | name | meaning |\n|---|---|---|\n",
    );
    for c in codes::ALL {
        let _ = writeln!(
            out,
            "| {} | `{}` | {}{} |",
            c.id,
            c.name,
            c.summary,
            if c.retired { " (retired)" } else { "" }
        );
    }
    out
}

/// `docs/instructions.md`: every instruction with its syntax and options.
pub fn instructions_md() -> String {
    let mut out = String::from("# Instructions\n\n<!-- Generated from spl-parser/src/instructions.rs; do not edit. -->\n\n");
    for i in INSTRUCTIONS {
        let _ = writeln!(
            out,
            "## `{}`\n\n{}\n\n```\n{}\n```\n",
            i.name, i.summary, i.syntax
        );
        if i.stateful {
            out.push_str("Scan mode only: buffers all rows.\n\n");
        }
        if !i.options.is_empty() {
            out.push_str("| option | value | meaning |\n|---|---|---|\n");
            for o in i.options {
                let mut note = String::new();
                if o.extension {
                    note.push_str(" *Extension of this implementation (warning W0002).*");
                }
                if o.legacy {
                    note.push_str(" *Older form (warning W0003).*");
                }
                let _ = writeln!(
                    out,
                    "| `-{}` | {} | {}{} |",
                    o.name,
                    o.kind.describe().replace('|', "\\|"),
                    o.summary.replace('|', "\\|"),
                    note
                );
            }
            out.push('\n');
        }
    }
    out
}

/// Compares a generated page with the checked-in file at `path`; with `SPL_UPDATE_DOCS` set in
/// the environment, rewrites the file instead. Used by the crates' doc tests.
pub fn check_generated(path: &std::path::Path, expected: &str) -> Result<(), String> {
    if std::env::var_os("SPL_UPDATE_DOCS").is_some() {
        return std::fs::write(path, expected)
            .map_err(|e| format!("cannot write {}: {e}", path.display()));
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        Ok(())
    } else {
        Err(format!(
            "{} is stale: run the tests with SPL_UPDATE_DOCS=1 to regenerate it",
            path.display()
        ))
    }
}

//! Generates `docs/functions.md` from the function library's metadata ([`crate::functions`]).
//! A test fails when the checked-in page is stale; `SPL_UPDATE_DOCS=1 cargo test -p spl-engine
//! --test docs` rewrites it.
use std::fmt::Write;

use crate::functions::{self, Family};

/// `docs/functions.md`: every function by family with signature, summary and examples.
pub fn functions_md() -> String {
    let all = functions::all();
    let mut out = format!(
        "# Functions\n\n<!-- Generated from spl-engine/src/functions/*; do not edit. -->\n\n\
         {} functions usable in `extend` and `where` expressions. Names are case-insensitive. \
         Results in the examples are shown as text (spec §18.4); *NULL* means no value.\n\n",
        all.len()
    );
    let mut families: Vec<Family> = all.iter().map(|f| f.family).collect();
    families.sort();
    families.dedup();
    for fam in &families {
        let names: Vec<String> = all
            .iter()
            .filter(|f| f.family == *fam)
            .map(|f| format!("[`{0}`](#{0})", f.name))
            .collect();
        let _ = writeln!(out, "- **{}**: {}", fam.title(), names.join(", "));
    }
    for fam in families {
        let _ = writeln!(out, "\n## {}\n", fam.title());
        for f in all.iter().filter(|f| f.family == fam) {
            let _ = writeln!(
                out,
                "### {}\n\n```sql\n{}\n```\n\n{}\n",
                f.name, f.signature, f.summary
            );
            if !f.aliases.is_empty() {
                let _ = writeln!(
                    out,
                    "Also written: {}.\n",
                    f.aliases
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            if !f.examples.is_empty() {
                out.push_str("| expression | result |\n|---|---|\n");
                for e in f.examples {
                    let result = e
                        .result
                        .map(|r| format!("`{}`", r.replace('|', "\\|")))
                        .unwrap_or_else(|| "*NULL*".into());
                    let _ = writeln!(out, "| `{}` | {} |", e.expr.replace('|', "\\|"), result);
                }
                out.push('\n');
            }
        }
    }
    out
}

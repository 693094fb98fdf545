//! The flag reference of `docs/cli.md`, generated from the clap definitions so it cannot drift:
//! a test compares the section between the markers with [`flag_reference`] (run the tests with
//! `SPL_UPDATE_DOCS=1` to rewrite it).
use clap::CommandFactory;

use crate::cli::Cli;

pub const BEGIN: &str = "<!-- BEGIN GENERATED FLAGS: spl-cli/src/docs.rs; SPL_UPDATE_DOCS=1 cargo test -p spl-cli rewrites it -->";
pub const END: &str = "<!-- END GENERATED FLAGS -->";

/// Markdown: per command its usage and a table of its arguments and flags.
pub fn flag_reference() -> String {
    let mut cli = Cli::command();
    cli.build();
    let mut s = String::new();
    for sub in cli.get_subcommands_mut() {
        let name = sub.get_name().to_string();
        if name == "help" {
            continue;
        }
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        let usage = sub.render_usage().to_string();
        let usage = usage.trim_start_matches("Usage: ").trim();
        s.push_str(&format!(
            "### `spl {name}`\n\n{about}\n\n```text\n{usage}\n```\n\n"
        ));
        s.push_str("| argument | values | default | meaning |\n|---|---|---|---|\n");
        for arg in sub.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let value = arg
                .get_value_names()
                .and_then(|v| v.first())
                .map(|v| v.to_string())
                .unwrap_or_else(|| id.to_ascii_uppercase());
            let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
            let shown = if arg.is_positional() {
                let dots = if arg.get_num_args().is_some_and(|n| n.max_values() > 1) {
                    "..."
                } else {
                    ""
                };
                format!("`<{value}>{dots}`")
            } else {
                let mut names = Vec::new();
                if let Some(c) = arg.get_short() {
                    names.push(format!("-{c}"));
                }
                if let Some(l) = arg.get_long() {
                    names.push(format!("--{l}"));
                }
                if takes_value {
                    format!("`{} <{value}>`", names.join(", "))
                } else {
                    format!("`{}`", names.join(", "))
                }
            };
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            let default: Vec<String> = arg
                .get_default_values()
                .iter()
                .map(|v| format!("`{}`", v.to_string_lossy()))
                .collect();
            let help = arg
                .get_long_help()
                .or_else(|| arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default()
                .replace('|', "\\|")
                .replace('\n', " ");
            let required = if arg.is_required_set() {
                " (required)"
            } else {
                ""
            };
            s.push_str(&format!(
                "| {shown}{required} | {} | {} | {help} |\n",
                values.join(" "),
                default.join(" ")
            ));
        }
        s.push('\n');
    }
    s.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_cli_md_flag_reference_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md");
        let text = std::fs::read_to_string(&path).expect("docs/cli.md");
        let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
            panic!("docs/cli.md lacks the generated flag markers");
        };
        let head = &text[..start + BEGIN.len()];
        let tail = &text[end..];
        let expected = format!("{head}\n\n{}\n{tail}", flag_reference());
        if std::env::var_os("SPL_UPDATE_DOCS").is_some() {
            std::fs::write(&path, expected).unwrap();
            return;
        }
        assert!(
            text == expected,
            "the flag reference in docs/cli.md is stale: run `SPL_UPDATE_DOCS=1 cargo test -p spl-cli`"
        );
    }

    #[test]
    fn every_flag_is_in_the_reference() {
        let r = flag_reference();
        for flag in [
            "`-i, --input-format <INPUT_FORMAT>`",
            "`-o, --output-format <OUTPUT_FORMAT>`",
            "`--timezone <TIMEZONE>`",
            "`--profile <PROFILE>`",
            "`--threads <THREADS>`",
            "`--limit <LIMIT>`",
            "`--errors <FILE>`",
            "`--fail-fast`",
            "`--stats`",
            "`--output-dir <DIR>`",
            "`-q, --query-file <QUERY_FILE>`",
            "`--analyze <FILE>`",
            "`--update`",
            "`--check`",
            "`-w, --write`",
            "`<FILES>...`",
        ] {
            assert!(r.contains(flag), "{flag} missing from\n{r}");
        }
        assert!(r.contains("### `spl run`"));
        assert!(r.contains("`auto` `raw` `json` `csv`"));
    }
}

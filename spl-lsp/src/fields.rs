//! Names a document defines: the fields visible at a stage (the sample file's, and those
//! written by earlier stages of the plan, through `$dataset` sources too), the fields a stage
//! reads and writes, and the `.let` dataset definitions.
use spl_engine::plan::{self, Fields};

use crate::context::{self, Scan};

/// Fields to offer in the stage starting at `stage_start`, with where each comes from.
pub fn visible(text: &str, stage_start: usize, sample: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // The text up to the `|` before the stage: its last statement is the one being edited.
    let prefix = &text[..stage_start.saturating_sub(1)];
    if let Some((program, chain)) = parse_last_chain(prefix) {
        let mut chains = vec![chain];
        let mut c = chain;
        while let plan::Source::Dataset { chain: src, .. } = &program.chains[c].source {
            if chains.contains(src) {
                break;
            }
            chains.push(*src);
            c = *src;
        }
        for &ci in chains.iter().rev() {
            let ch = &program.chains[ci];
            for (si, st) in ch.stages.iter().enumerate() {
                if let Fields::Named(names) = st.writes() {
                    for n in names {
                        if !out.iter().any(|(o, _)| *o == n) {
                            let at = match &ch.name {
                                Some(d) => {
                                    format!("written by ${d} stage {} ({})", si + 1, st.name())
                                }
                                None => format!("written by stage {} ({})", si + 1, st.name()),
                            };
                            out.push((n, at));
                        }
                    }
                }
            }
        }
    }
    for n in sample {
        if !out.iter().any(|(o, _)| o == n) {
            out.push((n.clone(), "field of the sample file".into()));
        }
    }
    out
}

/// The plan of `text` and the index of its last chain, when `text` parses.
fn parse_last_chain(text: &str) -> Option<(plan::Program, usize)> {
    let program = spl_parser::parse(text).ok()?;
    let plan = plan::lower(&program);
    let last = program.statements.len().checked_sub(1)?;
    let ci = plan.chains.iter().rposition(|c| c.statement == last)?;
    Some((plan, ci))
}

/// What the stage around `offset` reads, writes and removes, from the plan of the text up to
/// the end of that stage. `None` when that text does not parse.
pub fn stage_fields(text: &str, offset: usize) -> Option<(Fields, Fields, Fields)> {
    let scan = context::scan(text);
    if scan.stage_start(offset).1 {
        return None;
    }
    let end = scan
        .pipes
        .iter()
        .chain(&scan.semis)
        .copied()
        .filter(|&p| p >= offset)
        .min()
        .unwrap_or(text.len());
    let (program, ci) = parse_last_chain(&text[..end])?;
    let stage = program.chains[ci].stages.last()?;
    Some((stage.reads(), stage.writes(), stage.removes()))
}

/// `.let` definitions outside strings and comments: name and its byte span.
pub fn let_definitions(text: &str, scan: &Scan) -> Vec<(String, usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = lower[from..].find(".let") {
        let at = from + i;
        from = at + 4;
        if scan.literal_at(at + 1).is_some() {
            continue;
        }
        let rest = &text[from..];
        let skipped = rest.len() - rest.trim_start().len();
        if skipped == 0 {
            continue;
        }
        let a = from + skipped;
        let (_, e) = context::word_at(text, a, false);
        if e > a {
            out.push((text[a..e].to_string(), a, e));
        }
    }
    out
}

//! Hover and go-to-definition: a function's signature, summary and examples; an instruction's
//! syntax and the fields its stage reads, writes and removes; an option's meaning; a
//! `$dataset`'s definition.
use spl_engine::plan::Fields;
use spl_parser::instructions;

use crate::context;
use crate::fields;

/// Markdown hover text at byte `offset`, and the byte span it is about.
pub fn hover(text: &str, offset: usize) -> Option<(String, usize, usize)> {
    let scan = context::scan(text);
    if scan.literal_at(offset).is_some() {
        return None;
    }
    let (stage_start, is_source) = scan.stage_start(offset);
    let (a, e) = context::word_at(text, offset, true);
    if a == e {
        return None;
    }
    let word = &text[a..e];
    if text[..a].ends_with('$') {
        let name = &text[a..context::word_at(text, offset, false).1];
        let def = fields::let_definitions(text, &scan)
            .into_iter()
            .find(|d| d.0 == name)?;
        let line = crate::text::position(text, def.1).line + 1;
        return Some((
            format!("dataset `${name}`, defined by `.let` on line {line}"),
            a - 1,
            e,
        ));
    }
    if is_source {
        return None;
    }
    let instr = context::stage_instruction(text, stage_start);
    if let Some((name, ia, ie)) = &instr {
        if (*ia..=*ie).contains(&offset) {
            let def = instructions::lookup(name)?;
            let mut s = format!("```\n{}\n```\n\n{}", def.syntax, def.summary);
            if let Some((reads, writes, removes)) = fields::stage_fields(text, offset) {
                s.push_str("\n\n");
                s.push_str(&format!("- reads: {}\n", show(&reads)));
                s.push_str(&format!("- writes: {}\n", show(&writes)));
                if !removes.is_empty() {
                    s.push_str(&format!("- removes: {}\n", show(&removes)));
                }
            }
            return Some((s, *ia, *ie));
        }
    }
    if let Some(opt) = word.strip_prefix('-') {
        let def = instr.and_then(|(n, _, _)| instructions::lookup(&n))?;
        let o = def.option(opt)?;
        return Some((
            format!(
                "`-{}` ({}): {}\n\nValue: {}.",
                o.name,
                def.name,
                o.summary,
                o.kind.describe()
            ),
            a,
            e,
        ));
    }
    // A name followed by `(` is a function call.
    let (na, ne) = context::word_at(text, offset, false);
    if !text[ne..].trim_start().starts_with('(') {
        return None;
    }
    let name = &text[na..ne];
    if let Some(f) = spl_engine::functions::lookup(name) {
        let mut s = format!("```sql\n{}\n```\n\n{}", f.signature, f.summary);
        if !f.aliases.is_empty() {
            s.push_str(&format!("\n\nAlso written: {}.", f.aliases.join(", ")));
        }
        if !f.examples.is_empty() {
            s.push_str("\n\n| expression | result |\n|---|---|\n");
            for ex in f.examples {
                let r = ex
                    .result
                    .map(|r| format!("`{}`", r.replace('|', "\\|")))
                    .unwrap_or_else(|| "*NULL*".into());
                s.push_str(&format!("| `{}` | {r} |\n", ex.expr.replace('|', "\\|")));
            }
        }
        return Some((s, na, ne));
    }
    let lower = name.to_ascii_lowercase();
    spl_engine::functions::is_aggregate(&lower).then(|| {
        (
            format!("`{lower}`: aggregate function (only in `stats`)"),
            na,
            ne,
        )
    })
}

fn show(f: &Fields) -> String {
    match f {
        Fields::Named(v) if v.is_empty() => "none".into(),
        Fields::Named(v) => v
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", "),
        Fields::Dynamic(d) => format!("decided by the data ({d})"),
    }
}

/// The span of the `.let` name that the `$name` at `offset` refers to.
pub fn definition(text: &str, offset: usize) -> Option<(usize, usize)> {
    let scan = context::scan(text);
    if scan.literal_at(offset).is_some() {
        return None;
    }
    let (a, e) = context::word_at(text, offset, false);
    let on_dollar = text[offset..].starts_with('$');
    let (a, e) = if on_dollar {
        context::word_at(text, offset + 1, false)
    } else {
        (a, e)
    };
    if a == e || !text[..a].ends_with('$') {
        return None;
    }
    let name = &text[a..e];
    fields::let_definitions(text, &scan)
        .into_iter()
        .find(|d| d.0 == name)
        .map(|d| (d.1, d.2))
}

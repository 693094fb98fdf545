//! Completion: at a stage's start the instructions, after `-` the instruction's options (and
//! inside `-name='` an enumerated option's values), after `$` the `.let` datasets, elsewhere in
//! a stage the field names (from the sample file and written by earlier stages of the plan) and
//! the functions with their signatures (aggregates in `stats`).
use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use spl_parser::instructions::{self, OptKind};

use crate::context::{self, Scan};
use crate::fields;

/// Instructions whose arguments are expressions (functions are offered there).
const EXPRESSION_INSTRUCTIONS: &[&str] = &["extend", "where", "stats", "sort"];

/// Completion items at byte `offset` of `text`; `sample` is the sample file's fields.
pub fn complete(text: &str, offset: usize, sample: &[String]) -> Vec<CompletionItem> {
    let scan = context::scan(text);
    if let Some(lit) = scan.literal_at(offset) {
        return if lit.kind == b'\'' {
            enum_values(text, lit.start)
        } else {
            Vec::new()
        };
    }
    let (stage_start, is_source) = scan.stage_start(offset);
    let word = context::word_start(text, offset, true);
    let before_word = text[stage_start..word].trim();
    if is_source {
        return datasets(text, &scan, offset);
    }
    if text[..word].ends_with('$') {
        return datasets(text, &scan, offset);
    }
    if before_word.is_empty() && !text[word..offset].starts_with('-') {
        return instructions::INSTRUCTIONS
            .iter()
            .map(|d| CompletionItem {
                label: d.name.into(),
                kind: Some(CompletionItemKind::KEYWORD),
                detail: Some(d.syntax.into()),
                documentation: Some(markdown(d.summary.into())),
                ..CompletionItem::default()
            })
            .collect();
    }
    let Some((name, _, name_end)) = context::stage_instruction(text, stage_start) else {
        return Vec::new();
    };
    let def = instructions::lookup(&name);
    if text[word..offset].starts_with('-') {
        let only_options = text[name_end.min(word)..word]
            .split_whitespace()
            .all(|t| t.starts_with('-'));
        if let (Some(def), true) = (def, only_options) {
            return def
                .options
                .iter()
                .map(|o| CompletionItem {
                    label: format!("-{}", o.name),
                    kind: Some(CompletionItemKind::PROPERTY),
                    detail: Some(o.kind.describe()),
                    documentation: Some(markdown(o.summary.into())),
                    ..CompletionItem::default()
                })
                .collect();
        }
    }
    let mut items = Vec::new();
    for (field, detail) in fields::visible(text, stage_start, sample) {
        items.push(CompletionItem {
            label: field,
            kind: Some(CompletionItemKind::FIELD),
            detail: Some(detail),
            ..CompletionItem::default()
        });
    }
    if EXPRESSION_INSTRUCTIONS.contains(&name.as_str()) {
        for f in spl_engine::functions::all() {
            items.push(CompletionItem {
                label: f.name.into(),
                kind: Some(CompletionItemKind::FUNCTION),
                detail: Some(f.signature.into()),
                documentation: Some(markdown(f.summary.into())),
                ..CompletionItem::default()
            });
        }
        if name == "stats" {
            for a in spl_engine::functions::aggregates::AGGREGATES {
                items.push(CompletionItem {
                    label: (*a).into(),
                    kind: Some(CompletionItemKind::FUNCTION),
                    detail: Some("aggregate (stats only)".into()),
                    ..CompletionItem::default()
                });
            }
        }
    }
    items
}

/// The values of an enumerated option whose string starts at `quote` (`-mode='|`).
fn enum_values(text: &str, quote: usize) -> Vec<CompletionItem> {
    let Some(before) = text[..quote].strip_suffix('=') else {
        return Vec::new();
    };
    let start = context::word_start(before, before.len(), true);
    let Some(opt) = before[start..].strip_prefix('-') else {
        return Vec::new();
    };
    let scan = context::scan(text);
    let (stage_start, _) = scan.stage_start(quote);
    let def = context::stage_instruction(text, stage_start)
        .and_then(|(n, _, _)| instructions::lookup(&n))
        .and_then(|d| d.option(opt));
    match def.map(|o| o.kind) {
        Some(OptKind::Enum(values)) => values
            .iter()
            .map(|v| CompletionItem {
                label: (*v).into(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                ..CompletionItem::default()
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `$name` items for the datasets defined before `offset`.
fn datasets(text: &str, scan: &Scan, offset: usize) -> Vec<CompletionItem> {
    fields::let_definitions(text, scan)
        .into_iter()
        .filter(|d| d.1 < offset)
        .map(|(name, _, _)| CompletionItem {
            label: format!("${name}"),
            insert_text: Some(name.clone()),
            filter_text: Some(name),
            kind: Some(CompletionItemKind::VARIABLE),
            detail: Some("dataset (.let)".into()),
            ..CompletionItem::default()
        })
        .collect()
}

pub(crate) fn markdown(value: String) -> Documentation {
    Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

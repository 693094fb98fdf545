//! `parse-regexp [-flags='i'] field, 'pattern' [as a, b, ...]`: extracts capture groups of the
//! first match (unanchored search) into VARCHAR fields. Groups map to the `as` names by position
//! (extra groups are ignored); without `as`, named groups `(?P<name>…)` name the outputs. A row
//! whose field is absent, not VARCHAR or does not match is left unchanged; a group that does not
//! take part leaves its output as it was (spec §18.7). Time fields are never written.
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringViewBuilder};
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{codes, Diagnostic, Ident, Instruction, StrLit};

use super::{BatchError, Operator, StageOutput};
use crate::batch::{is_time_field, set_column};
use crate::expr::Session;
use crate::render::Renderer;
use crate::types;

#[derive(Debug)]
pub struct ParseRegexp {
    field: String,
    regex: Regex,
    /// (output name, group index)
    outputs: Vec<(String, usize)>,
}

impl ParseRegexp {
    /// Compiles the pattern (with `-flags`) and resolves the outputs.
    pub fn new(
        instr: &Instruction,
        field: &Ident,
        pattern: &StrLit,
        names: &[Ident],
    ) -> Result<ParseRegexp, Box<Diagnostic>> {
        let flags = instr.text("flags").unwrap_or("");
        if let Some(bad) = flags.chars().find(|c| !"imsUx".contains(*c)) {
            let span = instr.option("flags").map(|o| o.span).unwrap_or(instr.span);
            return Err(Box::new(
                Diagnostic::error(codes::BAD_OPTION_VALUE, format!("unknown regex flag `{bad}`"), span, "in -flags")
                    .with_help("flags are i (case-insensitive), m (multi-line), s (dot matches newline), U (ungreedy), x (verbose)"),
            ));
        }
        let source = if flags.is_empty() {
            pattern.value.clone()
        } else {
            format!("(?{flags}){}", pattern.value)
        };
        let regex = compile_regex(&source, pattern)?;
        let groups = regex.captures_len() - 1;
        let outputs: Vec<(String, usize)> = if names.is_empty() {
            let named: Vec<(String, usize)> = regex
                .capture_names()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
                .collect();
            if named.is_empty() {
                return Err(Box::new(
                    Diagnostic::error(codes::BAD_ARGUMENTS, "no output names: add `as name, ...` or use named groups", pattern.span, "no named groups")
                        .with_help("write `parse-regexp field, '(\\S+) (\\S+)' as a, b` or `'(?P<a>\\S+) (?P<b>\\S+)'`"),
                ));
            }
            named
        } else {
            if names.len() > groups {
                return Err(Box::new(Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!(
                        "{} output names but the pattern has {groups} capture group{}",
                        names.len(),
                        if groups == 1 { "" } else { "s" }
                    ),
                    names[groups].span,
                    "no group for this name",
                )));
            }
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.name.clone(), i + 1))
                .collect()
        };
        Ok(ParseRegexp {
            field: field.name.clone(),
            regex,
            outputs: outputs
                .into_iter()
                .filter(|(n, _)| !is_time_field(n))
                .collect(),
        })
    }
}

/// Compiles an RE2-syntax pattern; errors point at the pattern literal.
pub(crate) fn compile_regex(source: &str, at: &StrLit) -> Result<Regex, Box<Diagnostic>> {
    Regex::new(source).map_err(|e| {
        Box::new(
            Diagnostic::error(
                codes::INVALID_REGEX,
                "invalid regular expression",
                at.span,
                "does not compile",
            )
            .with_note(
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            ),
        )
    })
}

impl Operator for ParseRegexp {
    fn name(&self) -> &'static str {
        "parse-regexp"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(source) = batch
            .column_by_name(&self.field)
            .filter(|c| types::is_varchar(c.data_type()))
        else {
            return Ok(StageOutput::one(batch));
        };
        let source =
            arrow::compute::cast(source, &types::VARCHAR).map_err(|e| BatchError(e.to_string()))?;
        let text = source
            .as_any()
            .downcast_ref::<arrow::array::StringViewArray>()
            .expect("cast to Utf8View");
        let rows = batch.num_rows();
        let renderer = Renderer::default();
        let existing: Vec<Option<ArrayRef>> = self
            .outputs
            .iter()
            .map(|(n, _)| batch.column_by_name(n).cloned())
            .collect();
        let mut builders: Vec<StringViewBuilder> = self
            .outputs
            .iter()
            .map(|_| StringViewBuilder::with_capacity(rows))
            .collect();
        let mut locs = self.regex.capture_locations();
        for row in 0..rows {
            let matched = !text.is_null(row)
                && self
                    .regex
                    .captures_read(&mut locs, text.value(row))
                    .is_some();
            for (k, (_, group)) in self.outputs.iter().enumerate() {
                let value = if matched {
                    locs.get(*group).map(|(s, e)| &text.value(row)[s..e])
                } else {
                    None
                };
                match value {
                    Some(v) => builders[k].append_value(v),
                    None => match existing[k]
                        .as_ref()
                        .and_then(|c| renderer.text(c.as_ref(), row))
                    {
                        Some(old) => builders[k].append_value(old),
                        None => builders[k].append_null(),
                    },
                }
            }
        }
        let mut out = batch;
        for ((name, _), mut b) in self.outputs.iter().zip(builders) {
            out = set_column(&out, name, Arc::new(b.finish()))
                .map_err(|e| BatchError(e.to_string()))?;
        }
        Ok(StageOutput::one(out))
    }
}

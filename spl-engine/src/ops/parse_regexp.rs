//! `parse-regexp [-flags='i'] field, 'pattern' [as a, b, ...]`: extracts capture groups of the
//! first match (unanchored search) into VARCHAR fields. Groups map to the `as` names by position
//! (extra groups are ignored); without `as`, named groups `(?P<name>…)` name the outputs. A row
//! whose field is absent, not VARCHAR or does not match is left unchanged; a group that does not
//! take part leaves its output as it was (spec §18.7). Time fields are never written.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{codes, Diagnostic, Ident, Instruction, Span, StrLit};

use super::{varchar_source, BatchError, FixedFields, Operator, StageOutput};
use crate::batch::is_time_field;
use crate::expr::Session;

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
        let regex = compile_regex(&source, pattern.span)?;
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

/// Compiles an RE2-syntax pattern; errors point at `at` (the pattern or its option).
pub(crate) fn compile_regex(source: &str, at: Span) -> Result<Regex, Box<Diagnostic>> {
    Regex::new(source).map_err(|e| {
        Box::new(
            Diagnostic::error(
                codes::INVALID_REGEX,
                "invalid regular expression",
                at,
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
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut out = FixedFields::new(
            &batch,
            self.outputs.iter().map(|(n, _)| n.clone()).collect(),
        );
        let mut locs = self.regex.capture_locations();
        for row in 0..batch.num_rows() {
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
                out.push(k, row, value);
            }
        }
        Ok(StageOutput::one(out.apply(batch)?))
    }
}

//! `parse-kv`: extracts key-value pairs from a text field, in three forms:
//! `parse-kv field, '&', '='` (pair delimiter and key/value separator, each a whole string),
//! `parse-kv -regexp field, '(\w+)=(\w+)'` (every match; group 1 key, group 2 value), and the older
//! `parse-kv -delims='&?' -kv-sep=':' field` (a set of one-character delimiters; separator `=` by
//! default, delimiters `&` by default). Segments without the separator are skipped; keys are
//! trimmed; values keep surrounding quotes (spec §18.5) unless `-strip-quotes` (an extension);
//! `-greedy` lets a value run up to the next `key<sep>`; `-prefix` and `-mode` as in parse-json.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{Diagnostic, Ident, Instruction, StrLit};

use super::parse_regexp::compile_regex;
use super::{varchar_source, BatchError, DynamicFields, Operator, StageOutput};
use crate::expr::Session;

/// How pairs are found.
#[derive(Debug)]
enum Splitter {
    /// Pair delimiter (a whole string) and key/value separator.
    Delimited { delim: String, sep: String },
    /// A set of single-character pair delimiters and a separator.
    CharSet { delims: Vec<char>, sep: String },
    /// A regex with two groups, applied to every match.
    Regex(Regex),
}

#[derive(Debug)]
pub struct ParseKv {
    field: String,
    splitter: Splitter,
    prefix: String,
    preserve: bool,
    greedy: bool,
    strip_quotes: bool,
}

impl ParseKv {
    pub fn new(
        instr: &Instruction,
        field: &Ident,
        args: &[StrLit],
    ) -> Result<ParseKv, Box<Diagnostic>> {
        let splitter = match args {
            [pattern] if instr.has("regexp") => {
                let re = compile_regex(&pattern.value, pattern.span)?;
                if re.captures_len() < 3 {
                    return Err(Box::new(Diagnostic::error(
                        spl_parser::codes::BAD_ARGUMENTS,
                        "the `-regexp` pattern needs two capture groups: key and value",
                        pattern.span,
                        "fewer than two groups",
                    )));
                }
                Splitter::Regex(re)
            }
            [delim, sep] => Splitter::Delimited {
                delim: delim.value.clone(),
                sep: sep.value.clone(),
            },
            // The parser has checked the argument forms; this is the older option form.
            _ => Splitter::CharSet {
                delims: instr.text("delims").unwrap_or("&").chars().collect(),
                sep: instr.text("kv-sep").unwrap_or("=").to_string(),
            },
        };
        Ok(ParseKv {
            field: field.name.clone(),
            splitter,
            prefix: instr.text("prefix").unwrap_or("").to_string(),
            preserve: instr.text("mode") == Some("preserve"),
            greedy: instr.has("greedy"),
            strip_quotes: instr.has("strip-quotes"),
        })
    }

    /// The pairs of one text, in order.
    fn pairs<'t>(&self, text: &'t str) -> Vec<(&'t str, &'t str)> {
        let (segments, sep): (Vec<&str>, &str) = match &self.splitter {
            Splitter::Regex(re) => {
                return re
                    .captures_iter(text)
                    .filter_map(|c| {
                        Some((
                            c.get(1)?.as_str(),
                            c.get(2).map(|m| m.as_str()).unwrap_or(""),
                        ))
                    })
                    .collect()
            }
            Splitter::Delimited { delim, sep } if !delim.is_empty() => {
                (text.split(delim.as_str()).collect(), sep)
            }
            Splitter::Delimited { sep, .. } => (vec![text], sep),
            Splitter::CharSet { delims, sep } => {
                (text.split(|c| delims.contains(&c)).collect(), sep)
            }
        };
        let mut out: Vec<(&str, &str)> = Vec::new();
        for seg in segments {
            match seg.find(sep).filter(|_| !sep.is_empty()) {
                Some(i) => {
                    let key = seg[..i].trim();
                    if !key.is_empty() {
                        out.push((key, &seg[i + sep.len()..]));
                    }
                }
                None if self.greedy => {
                    // The value runs on over this segment, up to the next `key<sep>`.
                    if let Some(last) = out.last_mut() {
                        let start = offset(text, last.1);
                        last.1 = &text[start..offset(text, seg) + seg.len()];
                    }
                }
                None => {}
            }
        }
        out
    }
}

/// Byte offset of `part` (a subslice) inside `whole`.
fn offset(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

fn strip_quotes(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v)
}

impl Operator for ParseKv {
    fn name(&self) -> &'static str {
        "parse-kv"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut fields = DynamicFields::new(batch.num_rows());
        for row in 0..batch.num_rows() {
            if text.is_null(row) {
                continue;
            }
            super::tick_row(text.value(row).len())?;
            for (k, v) in self.pairs(text.value(row)) {
                let v = if self.strip_quotes {
                    strip_quotes(v)
                } else {
                    v
                };
                fields.set(format!("{}{k}", self.prefix), row, Some(v.to_string()));
            }
        }
        Ok(StageOutput::one(fields.apply(batch, self.preserve)?))
    }
}

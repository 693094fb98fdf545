//! `parse-kv`: extracts key-value pairs from a text field, in three forms:
//! `parse-kv field, '&', '='` (pair delimiter and key/value separator, each a whole string),
//! `parse-kv -regexp field, '(\w+)=(\w+)'` (every match; group 1 key, group 2 value), and the older
//! `parse-kv -delims='&?' -kv-sep=':' field` (a set of one-character delimiters; separator `=` by
//! default, delimiters `&` by default). Segments without the separator are skipped; keys are
//! trimmed; values keep surrounding quotes (spec §18.5) unless `-strip-quotes` (an extension);
//! `-greedy` lets a value run up to the next `key<sep>`; `-prefix` and `-mode` as in parse-json.
use std::ops::Range;

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use memchr::memmem::Finder;
use regex::Regex;
use spl_parser::{Diagnostic, Ident, Instruction, StrLit};

use super::parse_regexp::compile_regex;
use super::{varchar_source, BatchError, DynamicFields, Operator, StageOutput};
use crate::expr::Session;

/// How pairs are found.
#[derive(Debug)]
enum Splitter {
    /// Pair delimiter (a whole string) and key/value separator.
    Delimited {
        delim: Box<Finder<'static>>,
        sep: Box<Finder<'static>>,
    },
    /// A set of single-character pair delimiters and a separator.
    CharSet {
        delims: Vec<char>,
        sep: Box<Finder<'static>>,
    },
    /// A regex with two groups, applied to every match.
    Regex(Regex),
}

/// A pair found in a text: byte ranges of the key and the value.
type Pair = (Range<usize>, Range<usize>);

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
                delim: Box::new(Finder::new(delim.value.as_bytes()).into_owned()),
                sep: Box::new(Finder::new(sep.value.as_bytes()).into_owned()),
            },
            // The parser has checked the argument forms; this is the older option form.
            _ => Splitter::CharSet {
                delims: instr.text("delims").unwrap_or("&").chars().collect(),
                sep: Box::new(
                    Finder::new(instr.text("kv-sep").unwrap_or("=").as_bytes()).into_owned(),
                ),
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

    /// The pairs of one text, in order, into `out` (cleared first).
    fn pairs(&self, text: &str, out: &mut Vec<Pair>) {
        out.clear();
        let sep = match &self.splitter {
            Splitter::Regex(re) => {
                out.extend(re.captures_iter(text).filter_map(|c| {
                    let key = c.get(1)?.range();
                    let value = c.get(2).map_or(key.end..key.end, |m| m.range());
                    Some((key, value))
                }));
                return;
            }
            Splitter::Delimited { delim, sep } => {
                let bytes = text.as_bytes();
                let step = delim.needle().len();
                let mut start = 0;
                loop {
                    let end = match delim.find(&bytes[start..]).filter(|_| step > 0) {
                        Some(at) => start + at,
                        None => text.len(),
                    };
                    self.segment(text, start..end, sep, out);
                    if end == text.len() {
                        return;
                    }
                    start = end + step;
                }
            }
            Splitter::CharSet { sep, .. } => sep,
        };
        let Splitter::CharSet { delims, .. } = &self.splitter else {
            return;
        };
        for seg in text.split(|c| delims.contains(&c)) {
            let at = offset(text, seg);
            self.segment(text, at..at + seg.len(), sep, out);
        }
    }

    /// The pair in segment `seg` of `text`, when it has the separator and a key; under
    /// `-greedy`, a segment without one continues the last value.
    fn segment(&self, text: &str, seg: Range<usize>, sep: &Finder<'_>, out: &mut Vec<Pair>) {
        let at = match sep.needle() {
            [] => None,
            [b] => memchr::memchr(*b, &text.as_bytes()[seg.clone()]),
            _ => sep.find(&text.as_bytes()[seg.clone()]),
        };
        match at {
            Some(i) => {
                let key = text[seg.start..seg.start + i].trim();
                if !key.is_empty() {
                    let k = offset(text, key);
                    out.push((
                        k..k + key.len(),
                        seg.start + i + sep.needle().len()..seg.end,
                    ));
                }
            }
            None if self.greedy => {
                // The value runs on over this segment, up to the next `key<sep>`.
                if let Some(last) = out.last_mut() {
                    last.1.end = seg.end;
                }
            }
            None => {}
        }
    }
}

/// Byte offset of `part` (a subslice) inside `whole`.
fn offset(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
}

/// `value` (a range of `text`) without one pair of surrounding double quotes.
fn strip_quotes(text: &str, value: Range<usize>) -> Range<usize> {
    let v = text.as_bytes().get(value.clone()).unwrap_or_default();
    if v.len() >= 2 && v[0] == b'"' && v[v.len() - 1] == b'"' {
        value.start + 1..value.end - 1
    } else {
        value
    }
}

impl Operator for ParseKv {
    fn name(&self) -> &'static str {
        "parse-kv"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut fields = DynamicFields::new(batch.num_rows()).views_into(&text);
        let mut pairs = Vec::new();
        for row in 0..batch.num_rows() {
            if text.is_null(row) {
                continue;
            }
            let value = text.value(row);
            super::tick_row(value.len())?;
            self.pairs(value, &mut pairs);
            for (i, (k, v)) in pairs.drain(..).enumerate() {
                let Some(field) = fields.field(i, &self.prefix, &value[k]) else {
                    continue;
                };
                let v = if self.strip_quotes {
                    strip_quotes(value, v)
                } else {
                    v
                };
                fields.set_slice(field, row, v.start, v.end);
            }
        }
        Ok(StageOutput::one(fields.apply(batch, self.preserve)?))
    }
}

//! `parse-csv [-delim=','] [-quote='"'] [-strict] field as a, b, ...`: splits delimited text into
//! VARCHAR fields (spec §18.6). The delimiter is one to three characters matched as a whole;
//! a value that starts with the quote character runs to the closing quote, where a doubled quote
//! stands for one (RFC 4180). Values map to the names by position: missing values leave fields
//! unset and surplus values are ignored; with `-strict` the row is left unchanged unless the counts
//! match exactly. Empty values are empty strings. Time fields are never written.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use spl_parser::{Ident, Instruction};
use std::borrow::Cow;

use super::{varchar_source, BatchError, FixedFields, Operator, StageOutput};
use crate::expr::Session;

#[derive(Debug)]
pub struct ParseCsv {
    field: String,
    outputs: Vec<String>,
    delim: String,
    quote: Option<char>,
    strict: bool,
}

impl ParseCsv {
    pub fn new(instr: &Instruction, field: &Ident, outputs: &[Ident]) -> ParseCsv {
        ParseCsv {
            field: field.name.clone(),
            outputs: outputs.iter().map(|o| o.name.clone()).collect(),
            delim: instr.text("delim").unwrap_or(",").to_string(),
            quote: Some(
                instr
                    .text("quote")
                    .and_then(|q| q.chars().next())
                    .unwrap_or('"'),
            ),
            strict: instr.has("strict"),
        }
    }
}

/// Splits one line into values.
pub fn split_csv<'a>(line: &'a str, delim: &str, quote: Option<char>) -> Vec<Cow<'a, str>> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        match quote.filter(|q| rest.starts_with(*q)) {
            Some(q) => {
                // Quoted value: up to the closing quote; a doubled quote is one quote.
                let mut value = String::new();
                let mut chars = rest[q.len_utf8()..].char_indices();
                let mut end = rest.len();
                let base = q.len_utf8();
                while let Some((i, c)) = chars.next() {
                    if c == q {
                        let after = base + i + q.len_utf8();
                        if rest[after..].starts_with(q) {
                            value.push(q);
                            chars.next();
                        } else {
                            end = after;
                            break;
                        }
                    } else {
                        value.push(c);
                    }
                }
                // Text between the closing quote and the next delimiter is kept as it is.
                let tail = &rest[end..];
                match tail.find(delim) {
                    Some(d) => {
                        value.push_str(&tail[..d]);
                        out.push(Cow::Owned(value));
                        rest = &tail[d + delim.len()..];
                    }
                    None => {
                        value.push_str(tail);
                        out.push(Cow::Owned(value));
                        return out;
                    }
                }
            }
            None => match rest.find(delim) {
                Some(d) => {
                    out.push(Cow::Borrowed(&rest[..d]));
                    rest = &rest[d + delim.len()..];
                }
                None => {
                    out.push(Cow::Borrowed(rest));
                    return out;
                }
            },
        }
    }
}

impl Operator for ParseCsv {
    fn name(&self) -> &'static str {
        "parse-csv"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut out = FixedFields::new(&batch, self.outputs.clone());
        for row in 0..batch.num_rows() {
            let values = if text.is_null(row) {
                None
            } else {
                super::tick_row(text.value(row).len())?;
                Some(split_csv(text.value(row), &self.delim, self.quote))
            };
            let values = values.filter(|v| !self.strict || v.len() == self.outputs.len());
            for k in 0..self.outputs.len() {
                out.push(
                    k,
                    row,
                    values.as_ref().and_then(|v| v.get(k)).map(|v| v.as_ref()),
                );
            }
        }
        Ok(StageOutput::one(out.apply(batch)?))
    }
}

#[cfg(test)]
mod tests {
    use super::split_csv;

    fn s(line: &str, d: &str, q: Option<char>) -> Vec<String> {
        split_csv(line, d, q)
            .into_iter()
            .map(|c| c.into_owned())
            .collect()
    }

    #[test]
    fn splitting() {
        assert_eq!(s("a,b,,c", ",", Some('"')), ["a", "b", "", "c"]);
        assert_eq!(s(r#"a,"b,c",d"#, ",", Some('"')), ["a", "b,c", "d"]);
        assert_eq!(s(r#""say ""hi""",x"#, ",", Some('"')), [r#"say "hi""#, "x"]);
        assert_eq!(s("a||b||c", "||", None), ["a", "b", "c"]);
        assert_eq!(s("a^_^b", "^_^", Some('"')), ["a", "b"]);
        assert_eq!(s("", ",", Some('"')), [""]);
        assert_eq!(s(r#""unterminated,x"#, ",", Some('"')), ["unterminated,x"]);
        assert_eq!(s("a\tb", "\t", Some('-')), ["a", "b"]);
        assert_eq!(s("-a\tb-\tc", "\t", Some('-')), ["a\tb", "c"]);
    }
}

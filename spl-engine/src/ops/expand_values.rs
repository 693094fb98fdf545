//! `expand-values [-path='$.a'] [-keep] [-limit=N] [-keys] field [as output]`: expands the first
//! level of a JSON value into rows (spec §18.10). An array gives one row per element; an object
//! one row per key (the value in the output; with the `-keys` extension the key in
//! `<output>_key`). Every other field is copied. An empty array or object, a non-JSON value or a
//! missing path leaves the row unchanged. Values are VARCHAR: strings unquoted, everything else
//! JSON text (numbers as written); a JSON null leaves the output absent. Without `-keep` the
//! source field is removed from expanded rows (when the output has another name). `-limit` caps
//! rows per input row.
//!
//! Budgets: every input row reports its output rows and their estimated bytes (the parsed key
//! and value, copied again into the output column, plus one view or value per copied column)
//! to [`crate::budget`], so one row of a huge array stops at the batch's memory ceiling or
//! deadline instead of building all of its rows first.
use std::sync::Arc;

use arrow::array::{Array, UInt32Array};
use arrow::record_batch::RecordBatch;
use spl_parser::{codes, Diagnostic, Ident, Instruction};

use super::cut_views::CutViews;
use super::parse_json::{first_level, FirstLevel};
use super::{path_option, varchar_source, BatchError, Operator, StageOutput};
use crate::batch::{from_columns, is_time_field, set_column};
use crate::budget;
use crate::codec::json_scan::{scan_array, scan_object, unescape, Member, Value as ScannedValue};
use crate::expr::Session;
use crate::jsonpath::JsonPath;

#[derive(Debug)]
pub struct ExpandValues {
    field: String,
    output: String,
    path: Option<JsonPath>,
    keep: bool,
    keys: bool,
    limit: Option<usize>,
}

impl ExpandValues {
    pub fn new(
        instr: &Instruction,
        field: &Ident,
        output: Option<&Ident>,
    ) -> Result<ExpandValues, Box<Diagnostic>> {
        let path = path_option(instr)?;
        let output = output.unwrap_or(field);
        if is_time_field(&output.name) {
            return Err(Box::new(Diagnostic::error(
                codes::TIME_FIELD,
                "`expand-values` cannot write a time field",
                output.span,
                "time field",
            )));
        }
        Ok(ExpandValues {
            field: field.name.clone(),
            output: output.name.clone(),
            path,
            keep: instr.has("keep"),
            keys: instr.has("keys"),
            limit: instr.int("limit").map(|n| n as usize),
        })
    }
}

/// A key or value of one element: bytes of the source value, text made from it, or absent.
#[derive(Debug)]
enum Element {
    Cut(u32, u32),
    Text(String),
    Absent,
}

impl Element {
    /// Bytes of text it stands for.
    fn len(&self) -> usize {
        match self {
            Element::Cut(s, e) => (e - s) as usize,
            Element::Text(t) => t.len(),
            Element::Absent => 0,
        }
    }

    /// Appends it to `column` (cuts from the source's value in row `from`).
    fn push_to(&self, column: &mut CutViews, from: usize) {
        match self {
            Element::Cut(s, e) => column.push_cut(from, *s as usize, *e as usize),
            Element::Text(t) => column.push(Some(t)),
            Element::Absent => column.push_null(),
        }
    }

    /// A scanned value of `text` as the text extraction writes (see [`first_level`]).
    fn of(text: &str, value: ScannedValue) -> Element {
        let cut = |r: std::ops::Range<usize>| Element::Cut(r.start as u32, r.end as u32);
        match value {
            ScannedValue::Str(r) | ScannedValue::Plain(r) => cut(r),
            ScannedValue::Escaped(r) => Element::Text(unescape(&text[r])),
            ScannedValue::Nested(r) => match crate::codec::compact_json(&text[r.clone()]) {
                std::borrow::Cow::Borrowed(_) => cut(r),
                std::borrow::Cow::Owned(t) => Element::Text(t),
            },
            ScannedValue::Null => Element::Absent,
        }
    }
}

impl ExpandValues {
    /// The (key, value) elements of one source value into `out` (nothing when it is not an
    /// array or object, or the path selects none). Without `-path` the fast scanner reads
    /// it, and `first_level` (serde_json) whatever the scanner leaves.
    fn elements(&self, value: &str, scanned: &mut Vec<Member>, out: &mut Vec<(Element, Element)>) {
        if self.path.is_none() {
            let b = value.trim_start().as_bytes().first();
            if b == Some(&b'[') && scan_array(value.as_bytes(), scanned).is_ok() {
                out.extend(
                    scanned
                        .iter()
                        .map(|m| (Element::Absent, Element::of(value, m.value()))),
                );
                return;
            }
            if b == Some(&b'{') && scan_object(value.as_bytes(), scanned).is_ok() {
                out.extend(scanned.iter().map(|m| {
                    let k = m.key();
                    (
                        Element::Cut(k.start as u32, k.end as u32),
                        Element::of(value, m.value()),
                    )
                }));
                return;
            }
        }
        let text = |v: Option<String>| v.map_or(Element::Absent, Element::Text);
        match first_level(value, self.path.as_ref()) {
            Some(FirstLevel::Array(a)) => {
                out.extend(a.into_iter().map(|v| (Element::Absent, text(v))));
            }
            Some(FirstLevel::Object(o)) => {
                out.extend(o.into_iter().map(|(k, v)| (Element::Text(k), text(v))));
            }
            None => {}
        }
    }
}

impl Operator for ExpandValues {
    fn name(&self) -> &'static str {
        "expand-values"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        // For each output row: the input row it comes from, and its (key, value) when expanded.
        let mut take: Vec<u32> = Vec::new();
        let mut expanded: Vec<Option<(Element, Element)>> = Vec::new();
        // Bytes of one output row besides its key and value: the take index, the `expanded`
        // entry, and a view or value (at most 16 bytes) per copied column.
        let row_bytes = std::mem::size_of::<u32>()
            + std::mem::size_of::<Option<(Element, Element)>>()
            + 16 * (batch.num_columns() + 2);
        let over = |e: budget::Exceeded| BatchError::new(e.to_string());
        let mut items: Vec<(Element, Element)> = Vec::new();
        let mut scanned = Vec::new();
        for row in 0..batch.num_rows() {
            budget::tick(1).map_err(over)?;
            items.clear();
            if !text.is_null(row) {
                self.elements(text.value(row), &mut scanned, &mut items);
            }
            if items.is_empty() {
                take.push(row as u32);
                expanded.push(None);
                continue;
            }
            items.truncate(self.limit.unwrap_or(usize::MAX));
            let text_bytes: usize = items.iter().map(|(k, v)| k.len() + v.len()).sum();
            budget::tick(items.len()).map_err(over)?;
            // The parsed text is copied once more into the output columns.
            budget::charge(items.len() * row_bytes + 2 * text_bytes).map_err(over)?;
            for item in items.drain(..) {
                take.push(row as u32);
                expanded.push(Some(item));
            }
        }
        let indices = UInt32Array::from(take);
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BatchError::new(e.to_string()))?;
        let fields = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut out = from_columns(fields, columns, indices.len())
            .map_err(|e| BatchError::new(e.to_string()))?;
        let err = |e: arrow::error::ArrowError| BatchError::new(e.to_string());
        // The output: the element value for expanded rows, the old value elsewhere.
        let old_output = varchar_source(&batch, &self.output)?;
        let rows = expanded.len();
        let mut values = CutViews::new(rows, Some(&text));
        let mut keys = CutViews::new(if self.keys { rows } else { 0 }, Some(&text));
        let mut source = CutViews::new(rows, Some(&text));
        for (from, e) in indices.values().iter().map(|r| *r as usize).zip(&expanded) {
            match e {
                Some((k, v)) => {
                    v.push_to(&mut values, from);
                    if self.keys {
                        k.push_to(&mut keys, from);
                    }
                    source.push_null();
                }
                None => {
                    let old = old_output.as_ref().filter(|c| !c.is_null(from));
                    values.push(old.map(|c| c.value(from)));
                    if self.keys {
                        keys.push_null();
                    }
                    if text.is_null(from) {
                        source.push_null();
                    } else {
                        source.push_cut(from, 0, text.value(from).len());
                    }
                }
            }
        }
        if !self.keep && self.output != self.field {
            out = set_column(&out, &self.field, Arc::new(source.finish())).map_err(err)?;
        }
        out = set_column(&out, &self.output, Arc::new(values.finish())).map_err(err)?;
        if self.keys {
            out = set_column(
                &out,
                &format!("{}_key", self.output),
                Arc::new(keys.finish()),
            )
            .map_err(err)?;
        }
        Ok(StageOutput::one(out))
    }
}

#[cfg(test)]
mod tests {
    use super::{first_level, Element, ExpandValues, FirstLevel};

    fn text_of(value: &str, e: &Element) -> Option<String> {
        match e {
            Element::Cut(s, t) => Some(value[*s as usize..*t as usize].to_string()),
            Element::Text(t) => Some(t.clone()),
            Element::Absent => None,
        }
    }

    /// The scanner's elements are the ones serde_json's `first_level` reads, for arrays and
    /// objects of every kind of value, spaced or not, and for what is neither.
    #[test]
    fn scanned_elements_agree_with_first_level() {
        let op = ExpandValues {
            field: "f".into(),
            output: "o".into(),
            path: None,
            keep: false,
            keys: true,
            limit: None,
        };
        for value in [
            r#"[1, "a", "x\"y\u00e9", null, true, {"b": [1, 2]}, [ ], 1.50]"#,
            r#" {"k": "v", "n": null, "o": {"p" : 1}, "k": 2} "#,
            r#"["\ud83d\ude00", -0.5e3]"#,
            "[]",
            "{}",
            "[1,]",
            r#"["\ud800"]"#,
            "5",
            "\"s\"",
            "not json",
        ] {
            let mut got = Vec::new();
            op.elements(value, &mut Vec::new(), &mut got);
            let got: Vec<(Option<String>, Option<String>)> = got
                .iter()
                .map(|(k, v)| (text_of(value, k), text_of(value, v)))
                .collect();
            let want: Vec<(Option<String>, Option<String>)> = match first_level(value, None) {
                Some(FirstLevel::Array(a)) => a.into_iter().map(|v| (None, v)).collect(),
                Some(FirstLevel::Object(o)) => o.into_iter().map(|(k, v)| (Some(k), v)).collect(),
                None => Vec::new(),
            };
            assert_eq!(got, want, "{value}");
        }
    }
}

//! `parse-json [-mode=...] [-path='$.a'] [-prefix='p_'] field`: extracts the first level of a
//! JSON object into VARCHAR fields. Strings become their content, numbers and booleans their JSON
//! text as written (`1.50` stays `1.50`, big integers keep every digit), objects and arrays
//! compact JSON text; a JSON `null` sets nothing (NULL is never the text `null`, spec §18.3).
//! Invalid JSON, a missing path or a non-object leaves the row unchanged. Keys named like time
//! fields are ignored. `-mode='preserve'` keeps existing non-NULL values.
//!
//! Also home of [`first_level`], the reader of a JSON container's first level that keeps number
//! text, shared with `expand-values`.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use spl_parser::{Diagnostic, Ident, Instruction};

use super::{path_option, varchar_source, BatchError, DynamicFields, Operator, StageOutput};
use crate::expr::Session;
use crate::jsonpath::JsonPath;

#[derive(Debug)]
pub struct ParseJson {
    field: String,
    path: Option<JsonPath>,
    prefix: String,
    preserve: bool,
}

impl ParseJson {
    pub fn new(instr: &Instruction, field: &Ident) -> Result<ParseJson, Box<Diagnostic>> {
        let path = path_option(instr)?;
        Ok(ParseJson {
            field: field.name.clone(),
            path,
            prefix: instr.text("prefix").unwrap_or("").to_string(),
            preserve: instr.text("mode") == Some("preserve"),
        })
    }
}

/// The first level of the JSON container a document (or its `-path`) holds, each value as the
/// text an extraction writes: strings their content, numbers and booleans their JSON text as
/// written, objects and arrays compact JSON text, `null` as `None`.
#[derive(Debug, PartialEq)]
pub(crate) enum FirstLevel {
    Object(Vec<(String, Option<String>)>),
    Array(Vec<Option<String>>),
}

/// Reads the first level of `text` (at `path` when given); `None` when `text` is not JSON, the
/// path selects nothing or the value is not an object or array.
pub(crate) fn first_level(text: &str, path: Option<&JsonPath>) -> Option<FirstLevel> {
    match path {
        None => {
            let raw: &RawValue = serde_json::from_str(text).ok()?;
            match raw.get().as_bytes().first()? {
                b'{' => Some(FirstLevel::Object(
                    entries(raw.get())?
                        .into_iter()
                        .map(|(k, v)| (k, token_text(v.get())))
                        .collect(),
                )),
                b'[' => Some(FirstLevel::Array(
                    serde_json::from_str::<Vec<&RawValue>>(raw.get())
                        .ok()?
                        .into_iter()
                        .map(|v| token_text(v.get()))
                        .collect(),
                )),
                _ => None,
            }
        }
        Some(path) => {
            // Navigate a tree whose scalars are kept as their JSON token text.
            let tree = skeleton(serde_json::from_str::<&RawValue>(text).ok()?)?;
            match path.select_one(&tree)? {
                Value::Object(o) => Some(FirstLevel::Object(
                    o.iter()
                        .map(|(k, v)| (k.clone(), skeleton_text(v)))
                        .collect(),
                )),
                Value::Array(a) => Some(FirstLevel::Array(a.iter().map(skeleton_text).collect())),
                _ => None,
            }
        }
    }
}

/// The members of a JSON object text in order, values raw.
fn entries(text: &str) -> Option<Vec<(String, &RawValue)>> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, &'de RawValue)>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                out.push((k, v));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    de.deserialize_map(Entries).ok()
}

/// The extraction text of one raw JSON value.
fn token_text(raw: &str) -> Option<String> {
    let raw = raw.trim();
    match raw.as_bytes().first()? {
        b'"' => serde_json::from_str::<String>(raw).ok(),
        b'n' => None,
        b'{' | b'[' => Some(crate::codec::compact_json(raw).into_owned()),
        _ => Some(raw.to_string()),
    }
}

/// The document as a `Value` whose strings and numbers are `Value::String` holding their JSON
/// token text (`"a\"b"` with its quotes, `1.50`), so a path can be applied without losing number
/// text. Nesting is bounded by serde_json's recursion limit, which the first parse enforced.
fn skeleton(raw: &RawValue) -> Option<Value> {
    let text = raw.get().trim();
    Some(match text.as_bytes().first()? {
        b'{' => Value::Object(
            entries(text)?
                .into_iter()
                .map(|(k, v)| Some((k, skeleton(v)?)))
                .collect::<Option<_>>()?,
        ),
        b'[' => Value::Array(
            serde_json::from_str::<Vec<&RawValue>>(text)
                .ok()?
                .into_iter()
                .map(skeleton)
                .collect::<Option<_>>()?,
        ),
        b't' => Value::Bool(true),
        b'f' => Value::Bool(false),
        b'n' => Value::Null,
        _ => Value::String(text.to_string()),
    })
}

/// The extraction text of a skeleton value.
fn skeleton_text(v: &Value) -> Option<String> {
    match v {
        Value::String(token) => token_text(token),
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        other => {
            let mut out = String::new();
            write_skeleton(other, &mut out);
            Some(out)
        }
    }
}

/// Writes a skeleton value back as compact JSON with its original tokens.
fn write_skeleton(v: &Value, out: &mut String) {
    match v {
        Value::String(token) => out.push_str(token),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_skeleton(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_skeleton(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

impl Operator for ParseJson {
    fn name(&self) -> &'static str {
        "parse-json"
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
            let Some(FirstLevel::Object(members)) =
                first_level(text.value(row), self.path.as_ref())
            else {
                continue;
            };
            for (k, v) in members {
                fields.set(format!("{}{k}", self.prefix), row, v);
            }
        }
        let out = fields.apply(batch, self.preserve)?;
        Ok(StageOutput::one(out))
    }
}

#[cfg(test)]
mod tests {
    use super::{first_level, FirstLevel};
    use crate::jsonpath::JsonPath;

    fn obj(text: &str, path: Option<&str>) -> Vec<(String, Option<String>)> {
        let p = path.map(|p| JsonPath::parse(p).unwrap());
        match first_level(text, p.as_ref()) {
            Some(FirstLevel::Object(o)) => o,
            other => panic!("{other:?}"),
        }
    }

    fn pairs(v: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    #[test]
    fn numbers_keep_their_text_at_every_level_and_under_a_path() {
        let doc = r#"{"n": 1.50, "e": 1e3, "big": 123456789012345678901234, "s": "a\"b",
            "o": {"b": 2.0, "a": [1, "x y", null, true]}, "z": null}"#;
        let want = pairs(&[
            ("n", Some("1.50")),
            ("e", Some("1e3")),
            ("big", Some("123456789012345678901234")),
            ("s", Some("a\"b")),
            ("o", Some(r#"{"b":2.0,"a":[1,"x y",null,true]}"#)),
            ("z", None),
        ]);
        assert_eq!(obj(doc, None), want);
        let wrapped = format!(r#"{{"body": {doc}}}"#);
        assert_eq!(obj(&wrapped, Some("$.body")), want);
        assert_eq!(
            first_level("[1.0, {\"a\": 1}]", None),
            Some(FirstLevel::Array(vec![
                Some("1.0".into()),
                Some(r#"{"a":1}"#.into())
            ]))
        );
        assert_eq!(first_level("nope", None), None);
        assert_eq!(first_level("\"s\"", None), None);
        assert_eq!(
            first_level(r#"{"a":1}"#, Some(&JsonPath::parse("$.b").unwrap())),
            None
        );
    }
}

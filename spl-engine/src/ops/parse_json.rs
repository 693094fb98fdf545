//! `parse-json [-mode=...] [-path='$.a'] [-prefix='p_'] field`: extracts the first level of a
//! JSON object into VARCHAR fields. Strings become their content, numbers and booleans their JSON
//! text as written (`1.50` stays `1.50`, big integers keep every digit), objects and arrays
//! compact JSON text; a JSON `null` sets nothing (NULL is never the text `null`, spec §18.3).
//! Invalid JSON, a missing path or a non-object leaves the row unchanged. Keys named like time
//! fields are ignored. `-mode='preserve'` keeps existing non-NULL values.
//!
//! Without `-path`, a row is first read by the JSON-lines scanner (`codec/json_scan.rs`): its
//! string and number values become views into the source column's data blocks (no copy); rows
//! outside the scanner's subset (escapes, invalid JSON, non-objects, deep nesting) and every row
//! under `-path` take the general `serde_json` path, which gives the same fields.
//!
//! Also home of [`first_level`], the reader of a JSON container's first level that keeps number
//! text, shared with `expand-values`.
use std::borrow::Cow;

use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use spl_parser::{Diagnostic, Ident, Instruction};

use super::{path_option, varchar_source, BatchError, DynamicFields, Operator, StageOutput};
use crate::codec::json_scan::{scan_object, unescape, Value as ScannedValue};
use crate::expr::Session;
use crate::jsonpath::JsonPath;

#[derive(Debug)]
pub struct ParseJson {
    field: String,
    path: Option<JsonPath>,
    prefix: String,
    preserve: bool,
    /// Set by the optimizer when later stages can observe only these output fields (prefix
    /// included): other keys are not extracted.
    only: Option<Vec<String>>,
}

impl ParseJson {
    pub fn new(instr: &Instruction, field: &Ident) -> Result<ParseJson, Box<Diagnostic>> {
        let path = path_option(instr)?;
        Ok(ParseJson {
            field: field.name.clone(),
            path,
            prefix: instr.text("prefix").unwrap_or("").to_string(),
            preserve: instr.text("mode") == Some("preserve"),
            only: None,
        })
    }

    /// Writes only the output fields (prefix included) in `only` (all when `None`): the
    /// optimizer found that later stages can observe no other.
    pub fn only(mut self, only: Option<Vec<String>>) -> ParseJson {
        self.only = only;
        self
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
        self.run(batch, true).map(StageOutput::one)
    }
}

impl ParseJson {
    /// `fast`: read objects with the scanner of `codec/json_scan.rs` first (false only in tests
    /// that compare it with the general path). Rows outside the scanner's subset (escapes,
    /// invalid JSON, non-objects, deep nesting), and every row under `-path`, take the general
    /// path, [`first_level`]; both give the same fields.
    fn run(&self, batch: RecordBatch, fast: bool) -> Result<RecordBatch, BatchError> {
        if self.only.as_ref().is_some_and(Vec::is_empty) {
            return Ok(batch);
        }
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(batch);
        };
        let mut fields = DynamicFields::new(batch.num_rows())
            .views_into(&text)
            .only(self.only.as_deref());
        let fast = fast && self.path.is_none();
        let mut members = Vec::new();
        for row in 0..batch.num_rows() {
            if text.is_null(row) {
                continue;
            }
            let value = text.value(row);
            super::tick_row(value.len())?;
            if fast && scan_object(value.as_bytes(), &mut members).is_ok() {
                for (i, m) in members.iter().enumerate() {
                    let Some(field) = fields.field(i, &self.prefix, &value[m.key()]) else {
                        continue;
                    };
                    match m.value() {
                        ScannedValue::Str(r) | ScannedValue::Plain(r) => {
                            fields.set_slice(field, row, r.start, r.end)
                        }
                        ScannedValue::Escaped(r) => {
                            fields.set_text(field, row, Some(unescape(&value[r])))
                        }
                        ScannedValue::Nested(r) => {
                            match crate::codec::compact_json(&value[r.clone()]) {
                                Cow::Borrowed(_) => fields.set_slice(field, row, r.start, r.end),
                                Cow::Owned(compacted) => {
                                    fields.set_text(field, row, Some(compacted))
                                }
                            }
                        }
                        ScannedValue::Null => fields.set_text(field, row, None),
                    }
                }
                continue;
            }
            let Some(FirstLevel::Object(members)) = first_level(value, self.path.as_ref()) else {
                continue;
            };
            for (k, v) in members {
                fields.set(format!("{}{k}", self.prefix), row, v);
            }
        }
        fields.apply(batch, self.preserve)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, Int64Array, StringViewArray, StringViewBuilder};
    use arrow::datatypes::{Field, Schema};
    use arrow::record_batch::RecordBatch;

    use super::{first_level, FirstLevel, ParseJson};
    use crate::codec::json_scan::scan_object;
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

    /// parse-json as it was before the scanner fast path (first_level on every row, values
    /// copied into a map of per-row slots), kept verbatim as the reference.
    fn reference(
        batch: &RecordBatch,
        field: &str,
        prefix: &str,
        preserve: bool,
        path: Option<&JsonPath>,
    ) -> RecordBatch {
        let Some(text) = super::varchar_source(batch, field).unwrap() else {
            return batch.clone();
        };
        let rows = batch.num_rows();
        let mut order: Vec<String> = Vec::new();
        let mut values: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for row in 0..rows {
            if text.is_null(row) {
                continue;
            }
            let Some(FirstLevel::Object(members)) = first_level(text.value(row), path) else {
                continue;
            };
            for (k, v) in members {
                let name = format!("{prefix}{k}");
                if crate::batch::is_time_field(&name) {
                    continue;
                }
                let slot = values.entry(name.clone()).or_insert_with(|| {
                    order.push(name);
                    vec![None; rows]
                });
                slot[row] = v;
            }
        }
        let renderer = crate::render::Renderer::default();
        let mut out = batch.clone();
        for name in order {
            let new = &values[&name];
            let existing = out.column_by_name(&name).cloned();
            let mut b = StringViewBuilder::with_capacity(rows);
            for (row, v) in new.iter().enumerate() {
                let old = || {
                    existing
                        .as_ref()
                        .and_then(|c| renderer.text(c.as_ref(), row))
                };
                b.append_option(match (v, preserve) {
                    (Some(_), true) => old().or_else(|| v.clone()),
                    (Some(v), false) => Some(v.clone()),
                    (None, _) => old(),
                });
            }
            out = crate::batch::set_column(&out, &name, Arc::new(b.finish())).unwrap();
        }
        out
    }

    fn next(x: &mut u64) -> u64 {
        *x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *x >> 24
    }

    fn pick<'a, T: ?Sized>(items: &[&'a T], x: &mut u64) -> &'a T {
        items[next(x) as usize % items.len()]
    }

    /// JSON lines: hand-written seeds, objects generated from pieces (duplicate and time keys,
    /// escapes, unicode, nesting, number text, nulls), and byte mutations of both.
    fn lines() -> Vec<String> {
        let deep = format!("{{\"deep\":{}1{}}}", "[".repeat(70), "]".repeat(70));
        let mut seeds: Vec<String> = [
            r#"{"a":"x","b":1.50,"c":123456789012345678901234567890,"d":true,"e":false,"f":null}"#,
            r#"{"msg":"a long value that is longer than twelve bytes","nested":{"x":[1, 2.0, {"y":null}],"z":"é"},"arr":[ ],"empty":{}}"#,
            r#"{"a":"dup","a":"dup2 long enough to be a view","b":null,"b":"after null"}"#,
            r#"{"a":"first value, long enough","a":null}"#,
            r#"{"__time__":"123","__time_ns_part__":5,"k":"v","p___time__":"x"}"#,
            r#"{"esc":"with \"quote\" and \\ backslash","u":"\u00e9\u4e2d","k\u0041":"key escape"}"#,
            r#"{"uni":"漢字 ünïcödé 🎉 long enough","short":"ü","漢字":"key"}"#,
            "  { \"spaced\" : \"value\" , \"n\" : -0.0e+5 }\t ",
            "{}",
            "{ }",
            r#"[1,2,{"a":1}]"#,
            r#""just a string""#,
            "42",
            "null",
            "not json at all",
            r#"{"a":1,}"#,
            r#"{"a":"x"} trailing"#,
            "{\"tab\":\"x\ty\"}",
            r#"{"content":"self-overwrite","a":{"b":{"c":"d e"}}}"#,
            r#"{"n":7,"a":"x","p_a":"pa"}"#,
            r#"{"n":null,"a":null}"#,
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        seeds.push(deep);
        let keys = [
            "a",
            "b",
            "msg",
            "n",
            "p_a",
            "__time__",
            "__time_ns_part__",
            "k\\u0041",
            "é",
            "content",
            "a",
        ];
        let values = [
            "\"x\"",
            "\"a value longer than twelve bytes\"",
            "\"esc \\\" \\n \\u00e9\"",
            "\"ünï 漢字 long enough to view\"",
            "\"\"",
            "1.50",
            "-0",
            "1e3",
            "123456789012345678901234567890",
            "true",
            "false",
            "null",
            "{}",
            "[]",
            "{\"x\": [1, 2.0, \"a b\"]}",
            "[{\"y\":null},\"z\"]",
            "{\"k\":\"v\\\"\"}",
        ];
        let mut x: u64 = 11;
        for _ in 0..1500 {
            let n = next(&mut x) % 6;
            let members: Vec<String> = (0..n)
                .map(|_| {
                    let ws = if next(&mut x).is_multiple_of(5) {
                        " "
                    } else {
                        ""
                    };
                    format!(
                        "\"{}\"{ws}:{ws}{}",
                        pick(&keys, &mut x),
                        pick(&values, &mut x)
                    )
                })
                .collect();
            seeds.push(format!("{{{}}}", members.join(",")));
        }
        let mut lines = seeds.clone();
        for seed in &seeds {
            for _ in 0..3 {
                let mut b = seed.as_bytes().to_vec();
                if b.is_empty() {
                    continue;
                }
                let at = next(&mut x) as usize % b.len();
                match next(&mut x) % 4 {
                    0 => b.truncate(at),
                    1 => {
                        b.remove(at);
                    }
                    2 => {
                        let bytes = b"{}[]\\\",:0-.e\"ntf ";
                        b[at] = bytes[next(&mut x) as usize % bytes.len()];
                    }
                    _ => b.insert(at, b"{}[],:\"0 \\"[next(&mut x) as usize % 10]),
                }
                if let Ok(line) = String::from_utf8(b) {
                    lines.push(line);
                }
            }
        }
        lines
    }

    /// The batch: `content` holds the lines (and some NULLs); `a`, `p_a` and `n` exist already
    /// on some rows, so overwriting and `-mode='preserve'` are exercised.
    fn batch(lines: &[String]) -> RecordBatch {
        let content: Vec<Option<&str>> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| (i % 17 != 3).then_some(l.as_str()))
            .collect();
        let old = |i: usize| i.is_multiple_of(3).then(|| format!("old {i}"));
        let a: StringViewArray = (0..lines.len()).map(old).collect();
        let p_a: StringViewArray = (0..lines.len()).map(|i| old(i + 1)).collect();
        let n: Int64Array = (0..lines.len())
            .map(|i| (i % 2 == 0).then_some(i as i64))
            .collect();
        let time: Int64Array = (0..lines.len()).map(|i| Some(i as i64)).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("__time__", Arc::new(time)),
            ("content", Arc::new(StringViewArray::from(content))),
            ("a", Arc::new(a)),
            ("p_a", Arc::new(p_a)),
            ("n", Arc::new(n)),
        ];
        let schema = Schema::new(
            columns
                .iter()
                .map(|(name, c)| Field::new(*name, c.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(
            Arc::new(schema),
            columns.into_iter().map(|(_, c)| c).collect(),
        )
        .unwrap()
    }

    fn op(prefix: &str, preserve: bool, path: Option<&str>, only: Option<&[&str]>) -> ParseJson {
        ParseJson {
            field: "content".into(),
            path: path.map(|p| JsonPath::parse(p).unwrap()),
            prefix: prefix.into(),
            preserve,
            only: only.map(|o| o.iter().map(|s| s.to_string()).collect()),
        }
    }

    /// The scanner path, the general path and the code as it was give identical batches for
    /// every generated line, with and without `-prefix`, `-mode='preserve'` and `-path`, on the
    /// whole batch and on a slice of it (views at an offset).
    #[test]
    fn fast_path_extracts_like_the_general_path() {
        let lines = lines();
        let mut members = Vec::new();
        let scanned = lines
            .iter()
            .filter(|l| scan_object(l.as_bytes(), &mut members).is_ok())
            .count();
        let rejected = lines.len() - scanned;
        assert!(
            scanned > 1000 && rejected > 500,
            "both paths must be exercised: {scanned} scanned, {rejected} rejected"
        );
        let whole = batch(&lines);
        for input in [whole.clone(), whole.slice(101, 1500)] {
            for (prefix, preserve, path) in [
                ("", false, None),
                ("", true, None),
                ("p_", false, None),
                ("p_", true, None),
                ("", false, Some("$.a")),
                ("p_", true, Some("$.msg")),
            ] {
                let op = op(prefix, preserve, path, None);
                let fast = op.run(input.clone(), true).unwrap();
                let slow = op.run(input.clone(), false).unwrap();
                let want = reference(&input, "content", prefix, preserve, op.path.as_ref());
                assert!(
                    fast == want,
                    "fast: prefix {prefix:?} preserve {preserve} {path:?}"
                );
                assert!(
                    slow == want,
                    "slow: prefix {prefix:?} preserve {preserve} {path:?}"
                );
                assert!(fast.num_columns() > input.num_columns());
            }
        }
    }

    /// Long string values are views into the source's blocks, not copies.
    #[test]
    fn string_values_are_views_into_the_source() {
        let lines = [r#"{"msg":"a message longer than twelve bytes","s":"short"}"#.to_string()];
        let input = batch(&lines);
        let out = op("", false, None, None).run(input.clone(), true).unwrap();
        let source = input.column_by_name("content").unwrap();
        let source = arrow::array::AsArray::as_string_view(source.as_ref());
        let msg = out.column_by_name("msg").unwrap();
        let msg = arrow::array::AsArray::as_string_view(msg.as_ref());
        assert_eq!(msg.value(0), "a message longer than twelve bytes");
        assert_eq!(
            msg.data_buffers()[0].as_ptr(),
            source.data_buffers()[0].as_ptr()
        );
        assert!(msg.data_buffers().iter().skip(1).all(|b| b.is_empty()));
    }

    /// With the optimizer's list of observable fields, only those are written, with the same
    /// values as a full extraction.
    #[test]
    fn only_the_kept_keys_are_extracted() {
        let lines = lines();
        let input = batch(&lines);
        for (prefix, only) in [("", ["a", "msg", "nested"]), ("p_", ["p_a", "p_msg", "x"])] {
            let full = op(prefix, false, None, None)
                .run(input.clone(), true)
                .unwrap();
            for fast in [true, false] {
                let some = op(prefix, false, None, Some(&only))
                    .run(input.clone(), fast)
                    .unwrap();
                let names: Vec<String> = some
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let before: Vec<&str> = vec!["__time__", "content", "a", "p_a", "n"];
                let new: Vec<&String> = names
                    .iter()
                    .filter(|n| !before.contains(&n.as_str()))
                    .collect();
                assert!(
                    new.iter().all(|n| only.contains(&n.as_str())),
                    "{new:?} beyond {only:?}"
                );
                for name in &only {
                    let (got, want) = (some.column_by_name(name), full.column_by_name(name));
                    assert!(
                        got.map(|c| c.to_data()) == want.map(|c| c.to_data()),
                        "{name}"
                    );
                }
                for name in before.iter().filter(|n| !only.contains(n)) {
                    let (got, want) = (some.column_by_name(name), input.column_by_name(name));
                    assert!(
                        got.map(|c| c.to_data()) == want.map(|c| c.to_data()),
                        "{name}"
                    );
                }
            }
        }
    }
}

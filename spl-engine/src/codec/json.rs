//! JSON input: each non-blank line is one JSON object, one event. Its keys become fields, in
//! first-seen order across the chunk (a key missing from a row is NULL there):
//!
//! | JSON value | field |
//! |---|---|
//! | string | VARCHAR, unescaped |
//! | number | VARCHAR with the number's JSON text (`1.50` stays `1.50`) |
//! | `true` / `false` | VARCHAR `true` / `false` |
//! | object, array | VARCHAR holding the value as compact JSON text (number text kept) |
//! | `null` | absent |
//! | `__time__`, `__time_ns_part__` | BIGINT from a number or numeric string (fraction truncated) |
//!
//! A key that repeats within one object keeps its last value. Parsing uses serde_json with
//! borrowed keys and raw values, so unescaped text is not copied until it reaches the column;
//! `parse_object` is the one place to swap for a faster decoder.
use std::borrow::Cow;
use std::fmt;

use arrow::record_batch::RecordBatch;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::columns::{Cell, Columns};
use super::{time_value, Input};

pub(super) fn decode(input: &mut Input<'_>) -> RecordBatch {
    let mut columns = Columns::new(input.chunk);
    input.for_each_line(|input, line| match parse_object(&line.text) {
        Ok(cells) => columns.push_named(cells),
        Err(message) => input.error(&line, message),
    });
    columns.finish()
}

/// The fields of one JSON object line, or a message saying why the line is not one.
pub(super) fn parse_object(text: &str) -> Result<Vec<(Cow<'_, str>, Cell<'_>)>, String> {
    let trimmed = text.trim_start();
    let column = text.len() - trimmed.len() + 1;
    if !trimmed.starts_with('{') {
        // Valid JSON that is not an object, or not JSON at all.
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| json_error(&e))?;
        let found = match trimmed.as_bytes().first() {
            Some(b'[') => "an array",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "a boolean",
            Some(b'n') => "null",
            _ => "a number",
        };
        return Err(format!(
            "expected a JSON object at column {column}, found {found}"
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let entries = de
        .deserialize_map(ObjectVisitor)
        .and_then(|entries| de.end().map(|()| entries))
        .map_err(|e| json_error(&e))?;
    entries
        .into_iter()
        .map(|(key, raw)| {
            let cell = if Columns::is_time(&key) {
                time_cell(&key, raw.get())?
            } else {
                cell(raw.get())
            };
            Ok((key, cell))
        })
        .collect()
}

/// A serde_json error as `invalid JSON at column N: <what>`.
fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line L column C"; the line is always 1 here.
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    let what = match what {
        "expected ident" | "expected value" => "expected a JSON value",
        other => other,
    };
    format!("invalid JSON at column {}: {what}", e.column())
}

/// The field value of a raw JSON value.
fn cell(raw: &str) -> Cell<'_> {
    let raw = raw.trim();
    match raw.as_bytes().first() {
        Some(b'"') => Cell::Text(unquote(raw)),
        Some(b'n') => Cell::Absent,
        Some(b'{' | b'[') => Cell::Text(compact(raw)),
        _ => Cell::Text(Cow::Borrowed(raw)),
    }
}

/// A time field: BIGINT from a number or a string holding one; `null` leaves it absent.
fn time_cell<'a>(key: &str, raw: &'a str) -> Result<Cell<'a>, String> {
    let raw = raw.trim();
    let value = match raw.as_bytes().first() {
        Some(b'n') => return Ok(Cell::Absent),
        Some(b'"') => time_value(&unquote(raw)),
        Some(b'-' | b'0'..=b'9') => time_value(raw),
        _ => None,
    };
    value.map(Cell::Time).ok_or_else(|| {
        let shown: String = raw.chars().take(40).collect();
        let more = if shown.len() < raw.len() { "…" } else { "" };
        format!("`{key}` must be an integer number of seconds (or nanoseconds for `__time_ns_part__`), found {shown}{more}")
    })
}

/// The text of a JSON string literal; borrowed when it holds no escape.
fn unquote(raw: &str) -> Cow<'_, str> {
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    // serde_json has validated the literal already.
    serde_json::from_str::<String>(raw).map_or(Cow::Borrowed(inner), Cow::Owned)
}

/// A valid JSON value without the whitespace between tokens.
pub(super) fn compact(raw: &str) -> Cow<'_, str> {
    if !raw
        .bytes()
        .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in raw.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

type Entries<'de> = Vec<(Cow<'de, str>, &'de RawValue)>;

/// Collects an object's entries in order, keys borrowed when unescaped, values as raw JSON.
struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Entries<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8).min(256));
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value: &'de RawValue = map.next_value()?;
            entries.push((key, value));
        }
        Ok(entries)
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(line: &str) -> Vec<(String, String)> {
        parse_object(line)
            .unwrap()
            .into_iter()
            .map(|(k, c)| {
                let v = match c {
                    Cell::Text(t) => t.into_owned(),
                    Cell::Time(t) => format!("time:{t}"),
                    Cell::Absent => "absent".into(),
                };
                (k.into_owned(), v)
            })
            .collect()
    }

    #[test]
    fn values_keep_their_json_text() {
        assert_eq!(
            texts(
                r#"{"a": 1.50, "b":true, "c" : {"x": [1, 2.0, "a b"]}, "d":null, "e\u0041":"x\ty"}"#
            ),
            vec![
                ("a".into(), "1.50".into()),
                ("b".into(), "true".into()),
                ("c".into(), r#"{"x":[1,2.0,"a b"]}"#.into()),
                ("d".into(), "absent".into()),
                ("eA".into(), "x\ty".into()),
            ]
        );
    }

    #[test]
    fn unescaped_text_is_borrowed() {
        let line = r#"{"key":"a value without escapes"}"#;
        let cells = parse_object(line).unwrap();
        assert!(matches!(cells[0].0, Cow::Borrowed(_)));
        assert!(matches!(cells[0].1, Cell::Text(Cow::Borrowed(_))));
    }

    #[test]
    fn time_fields_become_integers() {
        assert_eq!(
            texts(r#"{"__time__":1700000000,"__time_ns_part__":"5"}"#),
            vec![
                ("__time__".into(), "time:1700000000".into()),
                ("__time_ns_part__".into(), "time:5".into()),
            ]
        );
        let err = parse_object(r#"{"__time__":"yesterday"}"#).unwrap_err();
        assert!(err.contains("`__time__` must be an integer"), "{err}");
    }

    #[test]
    fn errors_name_the_column() {
        assert_eq!(
            parse_object(r#"{"a":1,}"#).unwrap_err(),
            "invalid JSON at column 8: trailing comma"
        );
        assert_eq!(
            parse_object("[1]").unwrap_err(),
            "expected a JSON object at column 1, found an array"
        );
        assert!(parse_object(r#"{"a":1} x"#)
            .unwrap_err()
            .contains("trailing characters"));
    }

    #[test]
    fn compact_keeps_spaces_inside_strings() {
        assert_eq!(
            compact(r#"{ "a b" : [ 1 , "\" x" ] }"#),
            r#"{"a b":[1,"\" x"]}"#
        );
    }
}

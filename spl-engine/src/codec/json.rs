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
//! A line is first read by the fast scanner of `json_scan.rs` (no value is built; unescaped text
//! becomes views into the chunk); lines outside its subset (escapes, errors) are read by
//! `serde_json` with borrowed keys and raw values, which gives the same fields or the error
//! message. When the plan needs only some fields, the decoder materialises only those (and the
//! time fields, which are always checked).
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::columns::{Cell, Columns};
use super::json_scan::{scan_object, scan_object_keeping, unescape, Member, Value};
use super::splice::{self, Cut, SpliceSpec};
use super::FieldSelection;
use super::{time_value, Input};

pub(super) fn decode(
    input: &mut Input<'_>,
    wanted: Arc<FieldSelection>,
    lines: bool,
    splice: Option<&SpliceSpec>,
) -> RecordBatch {
    decode_with(input, wanted, lines, splice, true)
}

/// `fast`: try the scanner first (false only in tests that compare it with `serde_json`).
/// `splice`: record each row's splice ([`super::splice`]).
fn decode_with(
    input: &mut Input<'_>,
    wanted: Arc<FieldSelection>,
    lines: bool,
    splice: Option<&SpliceSpec>,
    fast: bool,
) -> RecordBatch {
    let mut columns = Columns::new(input.chunk, input.buffer.clone());
    columns.only(wanted);
    if lines {
        columns.keep_lines();
    }
    if let Some(spec) = splice {
        columns.keep_cuts(spec.read.as_deref());
    }
    let mut members = Vec::new();
    // With a narrow selection (and no splices, which need every member), the scanner records
    // only the members that become columns.
    let narrow = columns.narrow_keys().filter(|_| splice.is_none());
    let mut names_memo = None;
    input.for_each_line(|input, line| {
        let text: &str = &line.text;
        let scanned = fast
            && match &narrow {
                Some(keys) => scan_object_keeping(text.as_bytes(), &mut members, |k| keys.wants(k)),
                None => scan_object(text.as_bytes(), &mut members),
            }
            .is_ok();
        let result = if scanned {
            push_scanned(&mut columns, text, &members, splice, &mut names_memo)
        } else {
            parse_object(text).map(|cells| {
                columns.push_named(cells);
                None
            })
        };
        match result {
            Ok(cut) => {
                columns.line(text);
                if splice.is_some() {
                    columns.cut(cut.map(Cut::pack));
                }
            }
            Err(message) => input.error(&line, message),
        }
    });
    columns.finish()
}

/// What the names of rows with the same names in the same columns allow a splice
/// ([`Columns::row_names`] and [`splice::names_of`]).
type NamesMemo = Option<((u64, usize), Option<splice::Names>)>;

/// Adds the row of a line the fast scanner read; under a splice edit, returns the row's
/// splice (a spliced row materialises only the fields the pipeline reads).
fn push_scanned(
    columns: &mut Columns<'_>,
    text: &str,
    members: &[Member],
    splice: Option<&SpliceSpec>,
    memo: &mut NamesMemo,
) -> Result<Option<Cut>, String> {
    // Time fields are checked first, so a bad one leaves no partial row.
    let mut times = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let key = &text[m.key()];
        if Columns::is_time(key) {
            let raw = match &m.value() {
                Value::Str(r) | Value::Escaped(r) => &text[r.start - 1..r.end + 1],
                Value::Plain(r) | Value::Nested(r) => &text[r.clone()],
                Value::Null => "null",
            };
            times.push((i, time_cell(key, raw)?));
        }
    }
    columns.resolve_row(
        members.len(),
        |i| &text[members[i].key()],
        |i| members[i].is_null(),
    );
    let cut = splice.and_then(|spec| {
        let key = columns.row_names();
        let names = match memo {
            Some((k, names)) if key == Some(*k) => *names,
            _ => {
                let names = splice::names_of(text, members, |i| columns.spliced_slot(i), spec);
                *memo = key.map(|k| (k, names));
                names
            }
        };
        splice::cut_by(text, members, &names?)
    });
    columns.append_row(
        |i| {
            if let Some(t) = times.iter_mut().find(|(at, _)| *at == i) {
                return std::mem::replace(&mut t.1, Cell::Absent);
            }
            match members[i].value() {
                Value::Str(r) | Value::Plain(r) => Cell::Text(Cow::Borrowed(&text[r])),
                Value::Escaped(r) => Cell::Text(Cow::Owned(unescape(&text[r]))),
                Value::Nested(r) => Cell::Text(compact(&text[r])),
                Value::Null => Cell::Absent,
            }
        },
        cut.is_some(),
    );
    Ok(cut)
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

/// A valid JSON value without the whitespace between tokens (string contents untouched);
/// borrowed when there is none. Shared with `parse-json`.
pub(crate) fn compact(raw: &str) -> Cow<'_, str> {
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

    fn pick(bytes: &[u8], x: u64) -> u8 {
        bytes[x as usize % bytes.len()]
    }

    /// The scanner and `serde_json` decode every line to the same batch and the same errors,
    /// also when only some fields are wanted.
    #[test]
    fn fast_path_decodes_like_serde_json() {
        let seeds = [
            r#"{"time":"1700000000","ip":"10.0.0.1","status":"200","n":12,"f":-1.5e3}"#,
            r#"{"a":{"b":[1, 2, {"c":null}]},"b":true,"c":false,"d":null,"a":"dup"}"#,
            r#"  {"__time__":1700000001,"x":"with \"escape\"","y":[ ]}  "#,
            r#"{"__time__":"17.9","__time_ns_part__":5,"k":"v"}"#,
            r#"{"__time__":"soon","k":"v"}"#,
            r#"{"k":"tab	here","m":"é ü 漢字","e":{}}"#,
        ];
        let mut lines: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
        // Deterministic mutations: cut, drop or replace a byte of each seed.
        let mut x: u64 = 7;
        for seed in seeds {
            for _ in 0..300 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut b = seed.as_bytes().to_vec();
                let at = (x >> 33) as usize % b.len();
                match (x >> 20) % 4 {
                    0 => b.truncate(at),
                    1 => {
                        b.remove(at);
                    }
                    2 => b[at] = pick(br#"{}[]\",:0-.e"ntf "#, x >> 40),
                    _ => b.insert(at, pick(br#"{}[],:"0 \"#, x >> 44)),
                }
                if let Ok(line) = String::from_utf8(b) {
                    lines.push(line.replace('\n', " "));
                }
            }
        }
        let mut members = Vec::new();
        let scanned = lines
            .iter()
            .filter(|l| scan_object(l.as_bytes(), &mut members).is_ok())
            .count();
        assert!(scanned > 100, "the fast path must be exercised: {scanned}");
        let chunk = lines.join("\n");
        for wanted in [
            FieldSelection::All,
            FieldSelection::Only(vec!["status".to_string(), "k".to_string()]),
            FieldSelection::Only(vec!["a".to_string(), "__time_".to_string(), "d".repeat(70)]),
            FieldSelection::AllBut(vec!["ip".to_string(), "k".to_string()]),
        ] {
            let run = |fast| {
                let mut input = Input::new(chunk.as_bytes(), 1);
                let batch = decode_with(&mut input, Arc::new(wanted.clone()), true, None, fast);
                (batch, input.errors)
            };
            let (fast, slow) = (run(true), run(false));
            assert_eq!(fast.0, slow.0);
            assert_eq!(fast.1, slow.1);
            assert!(fast.1.len() > 100 && fast.0.num_rows() > 100);
        }
    }

    #[test]
    fn compact_keeps_spaces_inside_strings() {
        assert_eq!(
            compact(r#"{ "a b" : [ 1 , "\" x" ] }"#),
            r#"{"a b":[1,"\" x"]}"#
        );
    }
}

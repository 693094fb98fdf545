//! SLS JSON functions (spec §7.3): `json_extract`, `json_extract_scalar`, `json_parse`,
//! `json_format`, `json_array_contains`, `json_array_length`, `json_array_get`, `json_size` and
//! `is_json_scalar`, with Presto semantics.
//!
//! Inputs may be VARCHAR holding JSON text (`Utf8View`/`Utf8`) or JSON values (`LargeUtf8`, which
//! always holds compact JSON text). JSON results are compact JSON text in `LargeUtf8`. Paths are
//! parsed by [`crate::jsonpath`], once per call when they are literals.
//!
//! Decisions:
//! - **Invalid JSON text** gives NULL (the SLS JSON-functions page: "if a string cannot be parsed
//!   as JSON, the function returns null"), except in `json_parse`, which raises an error (the
//!   same page wraps it in `try(...)` for truncated logs; Presto does the same).
//! - **Serialization** is compact (`{"a":1}`) and keeps the member order of the input. Integers
//!   (within 64 bits) keep their digits; other numbers go through an f64 and are written as the
//!   shortest text that reads back to the same double, as Presto (Jackson) does: `1.50` → `1.5`,
//!   `1e3` → `1000.0`, `1.0` stays `1.0`. Non-ASCII text is written as UTF-8, not `\u` escapes.
//! - **Wildcard paths** (`[*]`, `.*`) select every match; `json_extract` returns them as a JSON
//!   array (`[]` when nothing matches), `json_size` counts them, `json_extract_scalar` returns NULL
//!   (the result is an array, not a scalar).
//! - **`json_array_get`** returns valid JSON: a string element keeps its quotes (`"a"`), unlike
//!   old Presto versions that returned it unquoted.
//! - A JSON `null` at the path is the JSON value `null` for `json_extract` (not SQL NULL), and
//!   SQL NULL for `json_extract_scalar`.
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Builder, LargeStringArray, LargeStringBuilder,
    StringArray, StringViewArray, StringViewBuilder,
};
use arrow::datatypes::{DataType, Int64Type};
use datafusion_common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, Volatility};
use serde_json::Value;

use super::common::{op_udf, UdfOp};
use super::{Example, Family, FunctionDef};
use crate::codec::json_scan::Member;
use crate::jsonpath::JsonPath;

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    let def = |kind: Kind,
               signature: &'static str,
               summary: &'static str,
               examples: &'static [Example]| FunctionDef {
        name: kind.name(),
        aliases: &[],
        family: Family::Json,
        signature,
        summary,
        examples,
        udf: op_udf(kind.name(), &[], kind, Volatility::Immutable),
    };
    vec![
        def(
            Kind::Extract,
            "json_extract(x VARCHAR|JSON, path VARCHAR) -> JSON",
            "Returns the value at the JSONPath `path` in the JSON text `x` as JSON; a wildcard path \
             returns a JSON array of all matches. NULL when the path does not exist, `x` is not \
             valid JSON or an argument is NULL.",
            &[
                Example {
                    expr: r#"json_extract('{"a": {"b": 1}}', '$.a')"#,
                    result: Some(r#"{"b":1}"#),
                },
                Example {
                    expr: r#"json_extract('{"a": [{"b": 1}, {"b": 2}]}', '$.a[*].b')"#,
                    result: Some("[1,2]"),
                },
                Example {
                    expr: r#"json_extract('{"a": 1}', '$.b')"#,
                    result: None,
                },
            ],
        ),
        def(
            Kind::ExtractScalar,
            "json_extract_scalar(x VARCHAR|JSON, path VARCHAR) -> VARCHAR",
            "Returns the scalar at the JSONPath `path` in `x` as text: strings unquoted, numbers \
             and booleans as written in JSON. NULL for objects, arrays, JSON null, a missing path, \
             invalid JSON or a NULL argument.",
            &[
                Example {
                    expr: r#"json_extract_scalar('{"peoples": [{"name": "xh"}]}', '$.peoples[0].name')"#,
                    result: Some("xh"),
                },
                Example {
                    expr: r#"json_extract_scalar('{"a": {"b": 1.5}}', '$.a.b')"#,
                    result: Some("1.5"),
                },
                Example {
                    expr: r#"json_extract_scalar('{"a": {"b": 1}}', '$.a')"#,
                    result: None,
                },
            ],
        ),
        def(
            Kind::Parse,
            "json_parse(s VARCHAR) -> JSON",
            "Parses the text `s` as JSON and returns it as a JSON value (compact, member order \
             kept). Invalid JSON is an error; NULL gives NULL.",
            &[
                Example {
                    expr: r#"json_parse('{"x": {"a": 1, "b": 2}}')"#,
                    result: Some(r#"{"x":{"a":1,"b":2}}"#),
                },
                Example {
                    expr: "json_parse('[1, \"a\", null]')",
                    result: Some(r#"[1,"a",null]"#),
                },
            ],
        ),
        def(
            Kind::Format,
            "json_format(j JSON|VARCHAR) -> VARCHAR",
            "Returns the JSON value `j` as compact JSON text (strings keep their quotes). VARCHAR \
             input is read as JSON text; invalid JSON text or NULL gives NULL.",
            &[
                Example {
                    expr: r#"json_format(json_parse('{"x": {"a": 1, "b": 2}}'))"#,
                    result: Some(r#"{"x":{"a":1,"b":2}}"#),
                },
                Example {
                    expr: r#"json_format(json_parse('"abc"'))"#,
                    result: Some(r#""abc""#),
                },
            ],
        ),
        def(
            Kind::ArrayContains,
            "json_array_contains(j VARCHAR|JSON, v BIGINT|DOUBLE|BOOLEAN|VARCHAR) -> BOOLEAN",
            "True when the JSON array `j` has a top-level element equal to `v` (same JSON kind: \
             an integer only matches integers, a string only strings). NULL when `j` is not an \
             array or not valid JSON, or an argument is NULL.",
            &[
                Example {
                    expr: "json_array_contains('[1, 2, 3]', 2)",
                    result: Some("true"),
                },
                Example {
                    expr: r#"json_array_contains('["a", "b"]', 'c')"#,
                    result: Some("false"),
                },
                Example {
                    expr: "json_array_contains('{\"a\": 1}', 1)",
                    result: None,
                },
            ],
        ),
        def(
            Kind::ArrayLength,
            "json_array_length(j VARCHAR|JSON) -> BIGINT",
            "Returns the number of elements of the JSON array `j`. NULL when `j` is not an array, \
             not valid JSON or NULL.",
            &[
                Example {
                    expr: "json_array_length('[1, 2, 3]')",
                    result: Some("3"),
                },
                Example {
                    expr: r#"json_array_length('{"a": 1}')"#,
                    result: None,
                },
            ],
        ),
        def(
            Kind::ArrayGet,
            "json_array_get(j VARCHAR|JSON, index BIGINT) -> JSON",
            "Returns element `index` (0-based; negative counts from the end, -1 is the last) of \
             the JSON array `j` as JSON. NULL when the index is out of range, `j` is not an array \
             or not valid JSON, or an argument is NULL.",
            &[
                Example {
                    expr: r#"json_array_get('["a", [3, 9], "c"]', 1)"#,
                    result: Some("[3,9]"),
                },
                Example {
                    expr: "json_array_get('[1, 2, 3]', -1)",
                    result: Some("3"),
                },
                Example {
                    expr: "json_array_get('[1, 2, 3]', 3)",
                    result: None,
                },
            ],
        ),
        def(
            Kind::Size,
            "json_size(x VARCHAR|JSON, path VARCHAR) -> BIGINT",
            "Returns the number of members or elements of the object or array at the JSONPath \
             `path` in `x`, 0 for a scalar. NULL when the path does not exist, `x` is not valid \
             JSON or an argument is NULL.",
            &[
                Example {
                    expr: r#"json_size('{"x": {"a": [1, 2], "b": 2}}', '$.x.a')"#,
                    result: Some("2"),
                },
                Example {
                    expr: r#"json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')"#,
                    result: Some("0"),
                },
                Example {
                    expr: r#"json_size('{"x": 1}', '$.y')"#,
                    result: None,
                },
            ],
        ),
        def(
            Kind::IsScalar,
            "is_json_scalar(j VARCHAR|JSON) -> BOOLEAN",
            "True when the JSON value `j` is a scalar (number, string, boolean or null), false \
             for an object or array. NULL when `j` is not valid JSON text or is NULL.",
            &[
                Example {
                    expr: "is_json_scalar('1')",
                    result: Some("true"),
                },
                Example {
                    expr: r#"is_json_scalar(json_parse('{"x": {"a": 1, "b": 2}}'))"#,
                    result: Some("false"),
                },
            ],
        ),
    ]
}

/// Which JSON function an [`OpUdf`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Extract,
    ExtractScalar,
    Parse,
    Format,
    ArrayContains,
    ArrayLength,
    ArrayGet,
    Size,
    IsScalar,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Extract => "json_extract",
            Kind::ExtractScalar => "json_extract_scalar",
            Kind::Parse => "json_parse",
            Kind::Format => "json_format",
            Kind::ArrayContains => "json_array_contains",
            Kind::ArrayLength => "json_array_length",
            Kind::ArrayGet => "json_array_get",
            Kind::Size => "json_size",
            Kind::IsScalar => "is_json_scalar",
        }
    }

    /// What each argument is, in order.
    fn params(self) -> &'static [Param] {
        match self {
            Kind::Extract | Kind::ExtractScalar | Kind::Size => &[Param::Json, Param::Path],
            Kind::Parse | Kind::Format | Kind::ArrayLength | Kind::IsScalar => &[Param::Json],
            Kind::ArrayContains => &[Param::Json, Param::Needle],
            Kind::ArrayGet => &[Param::Json, Param::Index],
        }
    }

    fn result_type(self) -> DataType {
        match self {
            Kind::Extract | Kind::Parse | Kind::ArrayGet => DataType::LargeUtf8,
            Kind::ExtractScalar | Kind::Format => DataType::Utf8View,
            Kind::ArrayContains | Kind::IsScalar => DataType::Boolean,
            Kind::ArrayLength | Kind::Size => DataType::Int64,
        }
    }
}

/// The kinds of argument the JSON functions take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Param {
    /// JSON text: VARCHAR or JSON.
    Json,
    /// A JSONPath (VARCHAR).
    Path,
    /// An array index (BIGINT).
    Index,
    /// The value looked for by `json_array_contains`: BIGINT, DOUBLE, BOOLEAN or VARCHAR.
    Needle,
}

impl Param {
    /// The type an argument of type `t` is cast to, or `None` when it is not accepted.
    fn coerce(self, t: &DataType) -> Option<DataType> {
        use DataType::*;
        let integer = matches!(
            t,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64
        );
        match self {
            Param::Json => match t {
                Utf8View | Utf8 | LargeUtf8 => Some(t.clone()),
                Null => Some(Utf8View),
                _ => None,
            },
            Param::Path => match t {
                Utf8View | Utf8 => Some(t.clone()),
                LargeUtf8 | Null => Some(Utf8View),
                _ => None,
            },
            Param::Index => (integer || *t == Null).then_some(Int64),
            Param::Needle => match t {
                Boolean => Some(Boolean),
                _ if integer => Some(Int64),
                Float16 | Float32 | Float64 | Decimal128(..) | Decimal256(..) => Some(Float64),
                Utf8View | Utf8 | LargeUtf8 => Some(Utf8View),
                Null => Some(Int64),
                _ => None,
            },
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Param::Json => "VARCHAR or JSON",
            Param::Path => "a VARCHAR JSON path",
            Param::Index => "BIGINT",
            Param::Needle => "BIGINT, DOUBLE, BOOLEAN or VARCHAR",
        }
    }
}

impl UdfOp for Kind {
    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.result_type())
    }

    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let params = self.params();
        if arg_types.len() != params.len() {
            return plan_err!(
                "{name}: expected {} argument(s), got {}",
                params.len(),
                arg_types.len()
            );
        }
        params
            .iter()
            .zip(arg_types)
            .enumerate()
            .map(|(i, (p, t))| match p.coerce(t) {
                Some(t) => Ok(t),
                None => plan_err!(
                    "{name}: argument {} must be {}, got {t}",
                    i + 1,
                    p.describe()
                ),
            })
            .collect()
    }

    fn invoke(self, _name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let args = args_of(&args, self)?;
        // All-literal calls are computed once and stay scalar.
        let all_scalar = args.0.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.1 };
        let out = eval(self, args.0, rows)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Checks the argument count; returns the arguments and the row count.
fn args_of(args: &ScalarFunctionArgs, kind: Kind) -> Result<(&[ColumnarValue], usize)> {
    if args.args.len() != kind.params().len() {
        return exec_err!(
            "{}: expected {} argument(s), got {}",
            kind.name(),
            kind.params().len(),
            args.args.len()
        );
    }
    Ok((&args.args, args.number_rows))
}

/// Computes `rows` results of function `kind`.
fn eval(kind: Kind, args: &[ColumnarValue], rows: usize) -> Result<ArrayRef> {
    let name = kind.name();
    let x = Texts::new(name, &args[0])?;
    let mut buf = Vec::new();
    Ok(match kind {
        Kind::Extract => {
            let mut path = PathArg::new(name, &args[1])?;
            let mut out = LargeStringBuilder::with_capacity(rows, 0);
            for i in 0..rows {
                match with_selection(&x, &mut path, i, |sel| write_selection(sel, &mut buf))? {
                    Some(()) => out.append_value(as_str(&buf)?),
                    None => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
        Kind::ExtractScalar => {
            let mut path = PathArg::new(name, &args[1])?;
            let mut out = StringViewBuilder::with_capacity(rows);
            // A literal path of member names is followed with the JSON scanner, without
            // building the document (rows the scanner leaves take the general path).
            let names = match &path {
                PathArg::Fixed(Some(p)) => p
                    .member_names()
                    .map(|n| n.into_iter().map(str::to_string).collect::<Vec<_>>()),
                _ => None,
            };
            let mut members = Vec::new();
            for i in 0..rows {
                if let (Some(names), Some(text)) = (&names, x.get(i)) {
                    if let Some(found) = scalar_by_scan(text, names, &mut members, &mut buf) {
                        if found {
                            out.append_value(as_str(&buf)?);
                        } else {
                            out.append_null();
                        }
                        continue;
                    }
                }
                let found = with_selection(&x, &mut path, i, |sel| {
                    Ok(match sel {
                        Selection::One(v) => scalar_text(v, &mut buf),
                        Selection::Many(_) => false,
                    })
                })?;
                if found == Some(true) {
                    out.append_value(as_str(&buf)?);
                } else {
                    out.append_null();
                }
            }
            Arc::new(out.finish())
        }
        Kind::Size => {
            let mut path = PathArg::new(name, &args[1])?;
            let mut out = Int64Builder::with_capacity(rows);
            for i in 0..rows {
                let size = with_selection(&x, &mut path, i, |sel| {
                    Ok(match sel {
                        Selection::One(Value::Array(a)) => a.len(),
                        Selection::One(Value::Object(m)) => m.len(),
                        Selection::One(_) => 0,
                        Selection::Many(all) => all.len(),
                    })
                })?;
                out.append_option(size.map(|n| n as i64));
            }
            Arc::new(out.finish())
        }
        Kind::Parse => {
            let mut out = LargeStringBuilder::with_capacity(rows, 0);
            for i in 0..rows {
                match x.get(i) {
                    None => out.append_null(),
                    Some(s) if x.is_json => out.append_value(s),
                    Some(s) => {
                        let v: Value = serde_json::from_str(s).map_err(|e| {
                            DataFusionError::Execution(format!(
                                "json_parse: invalid JSON ({e}): {}",
                                excerpt(s)
                            ))
                        })?;
                        write_json(&v, &mut buf)?;
                        out.append_value(as_str(&buf)?);
                    }
                }
            }
            Arc::new(out.finish())
        }
        Kind::Format => {
            let mut out = StringViewBuilder::with_capacity(rows);
            for i in 0..rows {
                match x.get(i) {
                    None => out.append_null(),
                    Some(s) if x.is_json => out.append_value(s),
                    Some(s) => match parse_doc(s) {
                        Some(v) => {
                            write_json(&v, &mut buf)?;
                            out.append_value(as_str(&buf)?);
                        }
                        None => out.append_null(),
                    },
                }
            }
            Arc::new(out.finish())
        }
        Kind::IsScalar => {
            let mut out = BooleanBuilder::with_capacity(rows);
            for i in 0..rows {
                let Some(s) = x.get(i) else {
                    out.append_null();
                    continue;
                };
                let scalar = if x.is_json {
                    // Compact JSON text from our own functions: the first byte tells.
                    Some(!matches!(s.as_bytes().first(), Some(b'{' | b'[')))
                } else {
                    parse_doc(s).map(|v| !matches!(v, Value::Array(_) | Value::Object(_)))
                };
                out.append_option(scalar);
            }
            Arc::new(out.finish())
        }
        Kind::ArrayLength => {
            let mut out = Int64Builder::with_capacity(rows);
            for i in 0..rows {
                let len = x.get(i).and_then(parse_doc).and_then(|v| match v {
                    Value::Array(a) => Some(a.len() as i64),
                    _ => None,
                });
                out.append_option(len);
            }
            Arc::new(out.finish())
        }
        Kind::ArrayGet => {
            let index = Ints::new(name, &args[1])?;
            let mut out = LargeStringBuilder::with_capacity(rows, 0);
            for i in 0..rows {
                let (Some(s), Some(idx)) = (x.get(i), index.get(i)) else {
                    out.append_null();
                    continue;
                };
                let Some(Value::Array(items)) = parse_doc(s) else {
                    out.append_null();
                    continue;
                };
                let pos = if idx < 0 {
                    usize::try_from(idx.unsigned_abs())
                        .ok()
                        .and_then(|back| items.len().checked_sub(back))
                } else {
                    usize::try_from(idx).ok()
                };
                match pos.and_then(|p| items.get(p)) {
                    Some(v) => {
                        write_json(v, &mut buf)?;
                        out.append_value(as_str(&buf)?);
                    }
                    None => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
        Kind::ArrayContains => {
            let needle = Needles::new(name, &args[1])?;
            let mut out = BooleanBuilder::with_capacity(rows);
            for i in 0..rows {
                let (Some(s), Some(n)) = (x.get(i), needle.get(i)) else {
                    out.append_null();
                    continue;
                };
                match parse_doc(s) {
                    Some(Value::Array(items)) => {
                        out.append_value(items.iter().any(|v| n.matches(v)))
                    }
                    _ => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
    })
}

/// What a path selected in one document.
enum Selection<'a> {
    /// The value at a definite path.
    One(&'a Value),
    /// All matches of a wildcard path (possibly none).
    Many(Vec<&'a Value>),
}

/// Parses row `i` of `x`, applies row `i`'s path and hands the selection to `f`.
/// `Ok(None)` when the result is NULL: NULL input or path, invalid JSON, or a missing value.
fn with_selection<T>(
    x: &Texts<'_>,
    path: &mut PathArg<'_>,
    i: usize,
    f: impl FnOnce(Selection<'_>) -> Result<T>,
) -> Result<Option<T>> {
    let Some(text) = x.get(i) else {
        return Ok(None);
    };
    let Some(path) = path.get(i)? else {
        return Ok(None);
    };
    let Some(doc) = parse_doc(text) else {
        return Ok(None);
    };
    let selection = if path.is_definite() {
        match path.select_one(&doc) {
            Some(v) => Selection::One(v),
            None => return Ok(None),
        }
    } else {
        Selection::Many(path.select(&doc))
    };
    f(selection).map(Some)
}

/// Writes a selection as compact JSON into `buf` (a wildcard selection as an array).
fn write_selection(sel: Selection<'_>, buf: &mut Vec<u8>) -> Result<()> {
    match sel {
        Selection::One(v) => write_json(v, buf),
        Selection::Many(all) => {
            buf.clear();
            buf.push(b'[');
            for (k, v) in all.into_iter().enumerate() {
                if k > 0 {
                    buf.push(b',');
                }
                serde_json::to_writer(&mut *buf, v).map_err(internal)?;
            }
            buf.push(b']');
            Ok(())
        }
    }
}

/// `json_extract_scalar` of `text` at the member path `names` read with the JSON scanner: the
/// result text in `buf` (`Some(true)`), NULL (`Some(false)`: no such member, a JSON null, an
/// object or array), or `None` when the scanner cannot decide as `serde_json` would (text
/// outside its subset, a number that serde_json would rewrite).
fn scalar_by_scan(
    text: &str,
    names: &[String],
    members: &mut Vec<Member>,
    buf: &mut Vec<u8>,
) -> Option<bool> {
    use crate::codec::json_scan::{scan_object, unescape, Value as Scanned};
    if !text.trim_start().starts_with('{') {
        return None;
    }
    // The whole document is checked by the first scan; nested objects are scanned again.
    // `doc` is `text[base..]`: member ranges are moved by `base` to index `text`.
    let (mut doc, mut base) = (text, 0);
    let mut value = None;
    for (k, name) in names.iter().enumerate() {
        if k > 0 {
            match value {
                Some(Scanned::Nested(r)) if text.as_bytes()[r.start] == b'{' => {
                    doc = &text[r.clone()];
                    base = r.start;
                }
                // A member of a scalar or of an array (names are not indexes): nothing.
                Some(_) => return Some(false),
                None => return Some(false),
            }
        }
        scan_object(doc.as_bytes(), members).ok()?;
        // serde_json keeps the last of duplicate members.
        value = members
            .iter()
            .rev()
            .find(|m| doc[m.key()] == **name)
            .map(|m| m.value().shifted(base));
        if value.is_none() {
            return Some(false);
        }
    }
    buf.clear();
    match value? {
        Scanned::Str(r) => buf.extend_from_slice(text[r].as_bytes()),
        Scanned::Escaped(r) => buf.extend_from_slice(unescape(&text[r]).as_bytes()),
        Scanned::Plain(r) => {
            let token = &text[r];
            let digits = token.strip_prefix('-').unwrap_or(token);
            let integer = matches!(token, "true" | "false")
                || (digits.len() <= 18
                    && digits.bytes().all(|c| c.is_ascii_digit())
                    && (digits == "0" && token == "0" || !digits.starts_with('0')));
            if !integer {
                // Fractions and exponents are rewritten by serde_json (`1.50` → `1.5`).
                return None;
            }
            buf.extend_from_slice(token.as_bytes());
        }
        Scanned::Nested(_) | Scanned::Null => return Some(false),
    }
    Some(true)
}

/// The text `json_extract_scalar` returns for `v`, written into `buf`; false for non-scalars.
fn scalar_text(v: &Value, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    match v {
        Value::String(s) => buf.extend_from_slice(s.as_bytes()),
        Value::Number(n) => buf.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Null | Value::Array(_) | Value::Object(_) => return false,
    }
    true
}

/// Parses JSON text; `None` when it is not valid JSON.
fn parse_doc(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// Writes `v` as compact JSON into `buf` (replacing its contents).
fn write_json(v: &Value, buf: &mut Vec<u8>) -> Result<()> {
    buf.clear();
    serde_json::to_writer(&mut *buf, v).map_err(internal)
}

fn as_str(buf: &[u8]) -> Result<&str> {
    std::str::from_utf8(buf).map_err(internal)
}

fn internal(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("JSON serialization failed: {e}"))
}

/// The start of a user value, for error messages.
fn excerpt(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        Some((end, _)) => format!("'{}…'", &s[..end]),
        None => format!("'{s}'"),
    }
}

/// A text argument: a literal (broadcast to every row) or a column of one of the string types.
struct Texts<'a> {
    kind: TextsKind<'a>,
    /// True when the values are JSON (`LargeUtf8`), i.e. already compact, valid JSON text.
    is_json: bool,
}

enum TextsKind<'a> {
    Scalar(Option<&'a str>),
    View(&'a StringViewArray),
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
}

impl<'a> Texts<'a> {
    fn new(name: &str, v: &'a ColumnarValue) -> Result<Self> {
        let (kind, is_json) = match v {
            ColumnarValue::Scalar(s) => match s {
                ScalarValue::Utf8View(t) | ScalarValue::Utf8(t) => {
                    (TextsKind::Scalar(t.as_deref()), false)
                }
                ScalarValue::LargeUtf8(t) => (TextsKind::Scalar(t.as_deref()), true),
                ScalarValue::Null => (TextsKind::Scalar(None), false),
                other => return exec_err!("{name}: expected text, got {}", other.data_type()),
            },
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Utf8View => (TextsKind::View(a.as_string_view()), false),
                DataType::Utf8 => (TextsKind::Utf8(a.as_string::<i32>()), false),
                DataType::LargeUtf8 => (TextsKind::Large(a.as_string::<i64>()), true),
                DataType::Null => (TextsKind::Scalar(None), false),
                other => return exec_err!("{name}: expected text, got {other}"),
            },
        };
        Ok(Texts { kind, is_json })
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match &self.kind {
            TextsKind::Scalar(s) => *s,
            TextsKind::View(a) => a.is_valid(i).then(|| a.value(i)),
            TextsKind::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            TextsKind::Large(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// The path argument: parsed once when it is a literal, else per row (reusing the last parse
/// while consecutive rows carry the same text).
enum PathArg<'a> {
    Fixed(Option<JsonPath>),
    PerRow {
        name: &'static str,
        texts: Texts<'a>,
        last: Option<(&'a str, JsonPath)>,
    },
}

impl<'a> PathArg<'a> {
    fn new(name: &'static str, v: &'a ColumnarValue) -> Result<Self> {
        let texts = Texts::new(name, v)?;
        Ok(match (v, texts.kind) {
            (ColumnarValue::Scalar(_), TextsKind::Scalar(s)) => {
                PathArg::Fixed(s.map(|s| parse_path(name, s)).transpose()?)
            }
            (_, kind) => PathArg::PerRow {
                name,
                texts: Texts {
                    kind,
                    is_json: texts.is_json,
                },
                last: None,
            },
        })
    }

    fn get(&mut self, i: usize) -> Result<Option<&JsonPath>> {
        match self {
            PathArg::Fixed(p) => Ok(p.as_ref()),
            PathArg::PerRow { name, texts, last } => {
                let Some(text) = texts.get(i) else {
                    return Ok(None);
                };
                if last.as_ref().is_none_or(|(t, _)| *t != text) {
                    *last = Some((text, parse_path(name, text)?));
                }
                Ok(last.as_ref().map(|(_, p)| p))
            }
        }
    }
}

fn parse_path(name: &str, text: &str) -> Result<JsonPath> {
    JsonPath::parse(text).map_err(|e| {
        DataFusionError::Execution(format!(
            "{name}: invalid JSON path {}: {} (at position {})",
            excerpt(text),
            e.message,
            e.position
        ))
    })
}

/// A BIGINT argument.
enum Ints<'a> {
    Scalar(Option<i64>),
    Array(&'a arrow::array::Int64Array),
}

impl<'a> Ints<'a> {
    fn new(name: &str, v: &'a ColumnarValue) -> Result<Self> {
        Ok(match v {
            ColumnarValue::Scalar(ScalarValue::Int64(n)) => Ints::Scalar(*n),
            ColumnarValue::Scalar(ScalarValue::Null) => Ints::Scalar(None),
            ColumnarValue::Array(a) if a.data_type() == &DataType::Int64 => {
                Ints::Array(a.as_primitive::<Int64Type>())
            }
            ColumnarValue::Array(a) if a.data_type() == &DataType::Null => Ints::Scalar(None),
            other => return exec_err!("{name}: expected BIGINT, got {}", other.data_type()),
        })
    }

    fn get(&self, i: usize) -> Option<i64> {
        match self {
            Ints::Scalar(n) => *n,
            Ints::Array(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

/// The value `json_array_contains` looks for.
#[derive(Clone, Copy)]
enum Needle<'a> {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'a str),
}

impl Needle<'_> {
    /// Presto's matching: an integer matches integer elements only; a double matches any
    /// number with the same value; booleans and strings match their own kind.
    fn matches(self, v: &Value) -> bool {
        match (self, v) {
            (Needle::Int(n), Value::Number(m)) => m.as_i64() == Some(n),
            (Needle::Float(f), Value::Number(m)) => m.as_f64() == Some(f),
            (Needle::Bool(b), Value::Bool(c)) => b == *c,
            (Needle::Str(s), Value::String(t)) => s == t,
            _ => false,
        }
    }
}

/// The second argument of `json_array_contains`, per row.
enum Needles<'a> {
    Scalar(Option<Needle<'a>>),
    Ints(&'a arrow::array::Int64Array),
    Floats(&'a arrow::array::Float64Array),
    Bools(&'a arrow::array::BooleanArray),
    Texts(Texts<'a>),
}

impl<'a> Needles<'a> {
    fn new(name: &str, v: &'a ColumnarValue) -> Result<Self> {
        use arrow::datatypes::Float64Type;
        Ok(match v {
            ColumnarValue::Scalar(s) => Needles::Scalar(match s {
                ScalarValue::Int64(n) => n.map(Needle::Int),
                ScalarValue::Float64(f) => f.map(Needle::Float),
                ScalarValue::Boolean(b) => b.map(Needle::Bool),
                ScalarValue::Utf8View(t) | ScalarValue::Utf8(t) | ScalarValue::LargeUtf8(t) => {
                    t.as_deref().map(Needle::Str)
                }
                ScalarValue::Null => None,
                other => {
                    return exec_err!(
                        "{name}: expected BIGINT, DOUBLE, BOOLEAN or VARCHAR, got {}",
                        other.data_type()
                    )
                }
            }),
            ColumnarValue::Array(a) => match a.data_type() {
                DataType::Int64 => Needles::Ints(a.as_primitive::<Int64Type>()),
                DataType::Float64 => Needles::Floats(a.as_primitive::<Float64Type>()),
                DataType::Boolean => Needles::Bools(a.as_boolean()),
                DataType::Null => Needles::Scalar(None),
                _ => Needles::Texts(Texts::new(name, v)?),
            },
        })
    }

    fn get(&self, i: usize) -> Option<Needle<'a>> {
        match self {
            Needles::Scalar(n) => *n,
            Needles::Ints(a) => a.is_valid(i).then(|| Needle::Int(a.value(i))),
            Needles::Floats(a) => a.is_valid(i).then(|| Needle::Float(a.value(i))),
            Needles::Bools(a) => a.is_valid(i).then(|| Needle::Bool(a.value(i))),
            Needles::Texts(t) => t.get(i).map(Needle::Str),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{BooleanArray, Float64Array, Int64Array};
    use datafusion_expr::ScalarUDF;

    use super::super::testing::{eval, invoke};

    /// The scanner's answers for member paths are serde_json's, over documents with
    /// duplicates, escapes, numbers of every form, nulls, nesting, arrays and bad JSON.
    #[test]
    fn scanned_scalars_agree_with_the_general_path() {
        let docs = [
            r#"{"user":{"id":"u1","tier":"free"},"region":"eu"}"#,
            r#" {"user" : {"tier" : "pro\u00e9\n", "n": -12, "z": -0, "f": 1.50, "e": 1e3}} "#,
            r#"{"user":{"tier":true,"tier":null},"a":[{"tier":1}]}"#,
            r#"{"user":{"tier":{"x":1}},"n":123456789012345678901}"#,
            r#"{"user":"str","region":["eu"]}"#,
            r#"{"user":{"tier":"a"} "#,
            r#"[{"user":1}]"#,
            r#"{"user":{"t\u0069er":"escaped key"}}"#,
            "not json",
            r#"{"user":{"tier":"x"},"user":{"tier":"last"}}"#,
        ];
        let paths = [
            "$.user.tier",
            "$.region",
            "$.user",
            "$.user.n",
            "$.user.z",
            "$.user.f",
            "$.user.e",
            "$.n",
            "$.a.tier",
            "$.missing.x",
            "$.user.id",
        ];
        let mut members = Vec::new();
        for doc in docs {
            for p in paths {
                let path = JsonPath::parse(p).unwrap();
                let names: Vec<String> = path
                    .member_names()
                    .unwrap()
                    .into_iter()
                    .map(str::to_string)
                    .collect();
                let mut buf = Vec::new();
                let Some(found) = scalar_by_scan(doc, &names, &mut members, &mut buf) else {
                    continue;
                };
                let fast = found.then(|| String::from_utf8(buf.clone()).unwrap());
                let mut want_buf = Vec::new();
                let want = parse_doc(doc)
                    .and_then(|d| path.select_one(&d).map(|v| scalar_text(v, &mut want_buf)))
                    .filter(|ok| *ok)
                    .map(|_| String::from_utf8(want_buf.clone()).unwrap());
                assert_eq!(fast, want, "{p} of {doc}");
            }
        }
        // Paths with indexes, numeric names or wildcards are not member paths.
        for p in ["$.a[0]", "$.0", "$.a.*", "$"] {
            let path = JsonPath::parse(p).unwrap();
            assert!(path.member_names().is_none_or(|n| n.is_empty()), "{p}");
        }
    }

    /// The UDF of `kind`, as `functions()` builds it.
    fn json_udf(kind: Kind) -> Arc<ScalarUDF> {
        op_udf(kind.name(), &[], kind, Volatility::Immutable)
    }

    fn call_with(kind: Kind, args: Vec<ColumnarValue>, rows: usize) -> Result<ColumnarValue> {
        let udf = json_udf(kind);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        assert_eq!(
            udf.coerce_types(&types)?,
            types,
            "test inputs must be pre-coerced"
        );
        invoke(&udf, args, rows)
    }

    /// Calls `kind` with array arguments and returns the result as an array.
    fn call(kind: Kind, args: Vec<ArrayRef>) -> Result<ArrayRef> {
        let rows = args[0].len();
        let args = args.into_iter().map(ColumnarValue::Array).collect();
        match call_with(kind, args, rows)? {
            ColumnarValue::Array(a) => Ok(a),
            ColumnarValue::Scalar(_) => panic!("array inputs gave a scalar"),
        }
    }

    fn varchars(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringViewArray::from(v.to_vec()))
    }

    fn jsons(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(LargeStringArray::from(v.to_vec()))
    }

    /// A column of `n` copies of `s`.
    fn repeat(s: &str, n: usize) -> ArrayRef {
        varchars(&vec![Some(s); n])
    }

    fn texts_of(a: &ArrayRef) -> Vec<Option<String>> {
        let col = ColumnarValue::Array(a.clone());
        let t = Texts::new("test", &col).unwrap();
        (0..a.len()).map(|i| t.get(i).map(str::to_string)).collect()
    }

    fn strs(v: &[Option<&str>]) -> Vec<Option<String>> {
        v.iter().map(|s| s.map(str::to_string)).collect()
    }

    fn ints_of(a: &ArrayRef) -> Vec<Option<i64>> {
        a.as_primitive::<Int64Type>().iter().collect()
    }

    fn bools_of(a: &ArrayRef) -> Vec<Option<bool>> {
        a.as_boolean().iter().collect()
    }

    /// `kind(x, path)` over a column of documents with one literal path.
    fn with_path(kind: Kind, docs: &[Option<&str>], path: &str) -> Result<ArrayRef> {
        let args = vec![
            ColumnarValue::Array(varchars(docs)),
            ColumnarValue::Scalar(ScalarValue::Utf8View(Some(path.to_string()))),
        ];
        match call_with(kind, args, docs.len())? {
            ColumnarValue::Array(a) => Ok(a),
            ColumnarValue::Scalar(_) => panic!("array input gave a scalar"),
        }
    }

    const PARSE_JSON_3: &str = r#"{"foo": {"bar": "baz"}, "peoples": [{"name": "xh", "sex": "girl"}, {"name": "xm", "sex": "boy"}]}"#;

    #[test]
    fn doc_case_parse_json_3() {
        let d = [Some(PARSE_JSON_3)];
        let name = with_path(Kind::ExtractScalar, &d, "$.peoples[0].name").unwrap();
        assert_eq!(name.data_type(), &DataType::Utf8View);
        assert_eq!(texts_of(&name), strs(&[Some("xh")]));
        let bar = with_path(Kind::ExtractScalar, &d, "$.foo.bar").unwrap();
        assert_eq!(texts_of(&bar), strs(&[Some("baz")]));
        let foo = with_path(Kind::Extract, &d, "$.foo").unwrap();
        assert_eq!(foo.data_type(), &DataType::LargeUtf8);
        assert_eq!(texts_of(&foo), strs(&[Some(r#"{"bar":"baz"}"#)]));
        // The `names` the doc output shows would come from a wildcard path.
        let names = with_path(Kind::Extract, &d, "$.peoples[*].name").unwrap();
        assert_eq!(texts_of(&names), strs(&[Some(r#"["xh","xm"]"#)]));
        // The doc's input was pretty-printed over several lines.
        let pretty = "{\n  \"foo\": {\n    \"bar\": \"baz\"\n  }\n}";
        let foo = with_path(Kind::Extract, &[Some(pretty)], "$.foo").unwrap();
        assert_eq!(texts_of(&foo), strs(&[Some(r#"{"bar":"baz"}"#)]));
    }

    #[test]
    fn doc_case_extend_1() {
        let d = [Some(r#"{"body": {"a": 1, "b": 2}}"#)];
        let a = with_path(Kind::Extract, &d, "$.body.a").unwrap();
        let b = with_path(Kind::Extract, &d, "$.body.b").unwrap();
        assert_eq!(texts_of(&a), strs(&[Some("1")]));
        assert_eq!(texts_of(&b), strs(&[Some("2")]));
        assert_eq!(a.data_type(), &DataType::LargeUtf8);
    }

    #[test]
    fn doc_case_flink_spl_1() {
        // After `parse-json Payload`, `schedule` holds the nested object as compact JSON text.
        let schedule = r#"{"timeZone":"","delay":0,"runImmediately":false,"type":"FixedRate","interval":"1m"}"#;
        let t = with_path(Kind::ExtractScalar, &[Some(schedule)], "$.type").unwrap();
        assert_eq!(texts_of(&t), strs(&[Some("FixedRate")]));
        // And straight from the payload, whose `\u` escapes come out as UTF-8.
        let payload = r#"{"alertDisplayName": "\u6d4b\u8bd5", "schedule": {"timeZone": "", "delay": 0, "runImmediately": false, "type": "FixedRate", "interval": "1m"}}"#;
        let s = with_path(Kind::Extract, &[Some(payload)], "$.schedule").unwrap();
        assert_eq!(texts_of(&s), strs(&[Some(schedule)]));
        let n = with_path(Kind::ExtractScalar, &[Some(payload)], "$.alertDisplayName").unwrap();
        assert_eq!(texts_of(&n), strs(&[Some("测试")]));
        let f = with_path(
            Kind::ExtractScalar,
            &[Some(payload)],
            "$.schedule.runImmediately",
        );
        assert_eq!(texts_of(&f.unwrap()), strs(&[Some("false")]));
    }

    #[test]
    fn extract_values_nulls_and_invalid_json() {
        let docs = [
            Some(r#"{"a": {"x": [1, 2.50, "s", null, true]}}"#),
            Some(r#"{"a": "str"}"#),
            Some(r#"{"a": null}"#),
            Some(r#"{"b": 1}"#),
            Some("not json"),
            Some(r#"{"a": 1} trailing"#),
            None,
            Some(""),
        ];
        let r = with_path(Kind::Extract, &docs, "$.a").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[
                Some(r#"{"x":[1,2.5,"s",null,true]}"#),
                Some(r#""str""#),
                Some("null"),
                None,
                None,
                None,
                None,
                None,
            ])
        );
        let r = with_path(Kind::ExtractScalar, &docs, "$.a").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[None, Some("str"), None, None, None, None, None, None])
        );
        let r = with_path(Kind::Extract, &docs[..1], "$.a.x[1]").unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("2.5")]));
        let r = with_path(Kind::Extract, &docs[..1], "$").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[Some(r#"{"a":{"x":[1,2.5,"s",null,true]}}"#)])
        );
    }

    #[test]
    fn serialization_keeps_member_order_and_number_text() {
        let d = [Some(
            r#"{"z": 1, "a": {"y": 2, "b": 3}, "big": 12345678901234567, "f": 1.0, "e": 1e3, "neg": -0.5, "s": "a\"b\\c\n/é"}"#,
        )];
        let r = with_path(Kind::Extract, &d, "$").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[Some(
                r#"{"z":1,"a":{"y":2,"b":3},"big":12345678901234567,"f":1.0,"e":1000.0,"neg":-0.5,"s":"a\"b\\c\n/é"}"#
            )])
        );
        let r = with_path(Kind::ExtractScalar, &d, "$.big").unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("12345678901234567")]));
        let r = with_path(Kind::ExtractScalar, &d, "$.s").unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("a\"b\\c\n/é")]));
    }

    #[test]
    fn wildcard_paths() {
        let d = [
            Some(r#"{"a": [{"b": 1}, {"b": "x"}, {"c": 3}]}"#),
            Some(r#"{"a": []}"#),
            Some(r#"{"a": {"k1": 1, "k2": [2]}}"#),
        ];
        let r = with_path(Kind::Extract, &d, "$.a[*].b").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[Some(r#"[1,"x"]"#), Some("[]"), Some("[]")])
        );
        let r = with_path(Kind::Extract, &d, "$.a.*").unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[
                Some(r#"[{"b":1},{"b":"x"},{"c":3}]"#),
                Some("[]"),
                Some("[1,[2]]")
            ])
        );
        let r = with_path(Kind::ExtractScalar, &d, "$.a[*].b").unwrap();
        assert_eq!(texts_of(&r), strs(&[None, None, None]));
        let r = with_path(Kind::Size, &d, "$.a[*]").unwrap();
        assert_eq!(ints_of(&r), vec![Some(3), Some(0), Some(2)]); // `[*]` on an object: its values
    }

    #[test]
    fn json_input_and_utf8_input() {
        let r = call(
            Kind::ExtractScalar,
            vec![
                jsons(&[Some(r#"{"x":{"a":1,"b":2}}"#), None]),
                repeat("$.x.a", 2),
            ],
        )
        .unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("1"), None]));
        let utf8: ArrayRef = Arc::new(StringArray::from(vec![Some(r#"{"a":[1]}"#)]));
        let path: ArrayRef = Arc::new(StringArray::from(vec![Some("$.a")]));
        let r = call(Kind::Extract, vec![utf8, path]).unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("[1]")]));
    }

    #[test]
    fn per_row_paths() {
        let d = r#"{"a": 1, "b": [5, 6], "c.d": true}"#;
        let paths = varchars(&[
            Some("$.a"),
            Some("$.a"),
            Some("$.b[1]"),
            Some(r#"$["c.d"]"#),
            None,
            Some("$.zz"),
        ]);
        let r = call(Kind::ExtractScalar, vec![repeat(d, 6), paths]).unwrap();
        assert_eq!(
            texts_of(&r),
            strs(&[Some("1"), Some("1"), Some("6"), Some("true"), None, None])
        );
    }

    #[test]
    fn invalid_paths_are_errors() {
        let e = with_path(Kind::Extract, &[Some("{}")], "$.a[").unwrap_err();
        assert!(
            e.to_string()
                .contains("json_extract: invalid JSON path '$.a[': unterminated `[`"),
            "{e}"
        );
        assert!(e.to_string().contains("(at position 4)"), "{e}");
        let e = with_path(Kind::Size, &[Some("{}")], "a").unwrap_err();
        assert!(
            e.to_string().contains("json_size: invalid JSON path 'a'"),
            "{e}"
        );
        // A bad path in a column: an error as well.
        let e = call(
            Kind::ExtractScalar,
            vec![repeat("{}", 2), varchars(&[Some("$.a"), Some("$$")])],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("json_extract_scalar: invalid JSON path '$$'"),
            "{e}"
        );
        // A NULL path is not an error.
        let r = with_path(Kind::Extract, &[None], "$.a").unwrap();
        assert_eq!(texts_of(&r), strs(&[None]));
    }

    #[test]
    fn all_literal_calls_stay_scalar() {
        let args = vec![
            ColumnarValue::Scalar(ScalarValue::Utf8View(Some(r#"{"a": [1, 2]}"#.into()))),
            ColumnarValue::Scalar(ScalarValue::Utf8View(Some("$.a".into()))),
        ];
        match call_with(Kind::Extract, args, 7).unwrap() {
            ColumnarValue::Scalar(ScalarValue::LargeUtf8(Some(s))) => assert_eq!(s, "[1,2]"),
            other => panic!("unexpected {other:?}"),
        }
        let args = vec![ColumnarValue::Scalar(ScalarValue::Utf8View(None))];
        match call_with(Kind::ArrayLength, args, 3).unwrap() {
            ColumnarValue::Scalar(ScalarValue::Int64(None)) => {}
            other => panic!("unexpected {other:?}"),
        }
        // A literal document with a column of paths.
        let args = vec![
            ColumnarValue::Scalar(ScalarValue::Utf8View(Some(r#"{"a": 1, "b": 2}"#.into()))),
            ColumnarValue::Array(varchars(&[Some("$.b"), Some("$.a")])),
        ];
        match call_with(Kind::ExtractScalar, args, 2).unwrap() {
            ColumnarValue::Array(a) => assert_eq!(texts_of(&a), strs(&[Some("2"), Some("1")])),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_parse_and_format() {
        let r = call(
            Kind::Parse,
            vec![varchars(&[
                Some(r#"{"x": {"a": 1, "b": 2}}"#),
                Some(" [1, \"a\", null] "),
                Some("\"abc\""),
                Some("12.50"),
                None,
            ])],
        )
        .unwrap();
        assert_eq!(r.data_type(), &DataType::LargeUtf8);
        assert_eq!(
            texts_of(&r),
            strs(&[
                Some(r#"{"x":{"a":1,"b":2}}"#),
                Some(r#"[1,"a",null]"#),
                Some(r#""abc""#),
                Some("12.5"),
                None
            ])
        );
        for bad in ["{", "abc", "", "[1,]", "{\"a\":1}x"] {
            let e = call(Kind::Parse, vec![varchars(&[Some(bad)])]).unwrap_err();
            assert!(
                e.to_string().contains("json_parse: invalid JSON"),
                "{bad}: {e}"
            );
        }
        // JSON input passes through.
        let r = call(Kind::Parse, vec![jsons(&[Some("[1]")])]).unwrap();
        assert_eq!(texts_of(&r), strs(&[Some("[1]")]));

        let r = call(
            Kind::Format,
            vec![jsons(&[
                Some(r#"{"x":{"a":1,"b":2}}"#),
                Some(r#""s""#),
                None,
            ])],
        )
        .unwrap();
        assert_eq!(r.data_type(), &DataType::Utf8View);
        assert_eq!(
            texts_of(&r),
            strs(&[Some(r#"{"x":{"a":1,"b":2}}"#), Some(r#""s""#), None])
        );
        let r = call(
            Kind::Format,
            vec![varchars(&[Some("{ \"b\" : [ 1 , 2 ] }"), Some("nope")])],
        )
        .unwrap();
        assert_eq!(texts_of(&r), strs(&[Some(r#"{"b":[1,2]}"#), None]));
    }

    #[test]
    fn deep_nesting_is_not_a_crash() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let r = call(Kind::ArrayLength, vec![varchars(&[Some(&deep)])]).unwrap();
        assert_eq!(ints_of(&r), vec![None]);
        assert!(call(Kind::Parse, vec![varchars(&[Some(&deep)])]).is_err());
    }

    #[test]
    fn array_contains() {
        let docs = varchars(&[
            Some("[1, 2, 3]"),
            Some("[1.0, 2.5]"),
            Some(r#"["a", "b", true, [2]]"#),
            Some(r#"{"a": 2}"#),
            Some("[1, 2"),
            None,
            Some("[]"),
        ]);
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![2; 7]));
        let r = call(Kind::ArrayContains, vec![docs.clone(), ints]).unwrap();
        assert_eq!(
            bools_of(&r),
            vec![
                Some(true),
                Some(false),
                Some(false),
                None,
                None,
                None,
                Some(false)
            ]
        );
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![1.0; 7]));
        let r = call(Kind::ArrayContains, vec![docs.clone(), floats]).unwrap();
        assert_eq!(
            bools_of(&r),
            vec![
                Some(true),
                Some(true),
                Some(false),
                None,
                None,
                None,
                Some(false)
            ]
        );
        let bools: ArrayRef = Arc::new(BooleanArray::from(vec![true; 7]));
        let r = call(Kind::ArrayContains, vec![docs.clone(), bools]).unwrap();
        assert_eq!(
            bools_of(&r),
            vec![
                Some(false),
                Some(false),
                Some(true),
                None,
                None,
                None,
                Some(false)
            ]
        );
        let r = call(Kind::ArrayContains, vec![docs.clone(), repeat("b", 7)]).unwrap();
        assert_eq!(
            bools_of(&r),
            vec![
                Some(false),
                Some(false),
                Some(true),
                None,
                None,
                None,
                Some(false)
            ]
        );
        // A NULL needle gives NULL.
        let args = vec![
            ColumnarValue::Array(docs),
            ColumnarValue::Scalar(ScalarValue::Int64(None)),
        ];
        match call_with(Kind::ArrayContains, args, 7).unwrap() {
            ColumnarValue::Array(a) => assert_eq!(bools_of(&a), vec![None; 7]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn array_length() {
        let r = call(
            Kind::ArrayLength,
            vec![varchars(&[
                Some("[1, 2, 3]"),
                Some("[]"),
                Some("{}"),
                Some("1"),
                Some("["),
                None,
            ])],
        )
        .unwrap();
        assert_eq!(ints_of(&r), vec![Some(3), Some(0), None, None, None, None]);
        let r = call(Kind::ArrayLength, vec![jsons(&[Some("[[1],[2]]")])]).unwrap();
        assert_eq!(ints_of(&r), vec![Some(2)]);
    }

    #[test]
    fn array_get() {
        let doc = r#"["a", [3, 9], {"c": 1}]"#;
        let idx: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(0),
            Some(1),
            Some(2),
            Some(3),
            Some(-1),
            Some(-3),
            Some(-4),
            Some(i64::MIN),
            Some(i64::MAX),
            None,
        ]));
        let r = call(Kind::ArrayGet, vec![repeat(doc, 10), idx]).unwrap();
        assert_eq!(r.data_type(), &DataType::LargeUtf8);
        assert_eq!(
            texts_of(&r),
            strs(&[
                Some(r#""a""#),
                Some("[3,9]"),
                Some(r#"{"c":1}"#),
                None,
                Some(r#"{"c":1}"#),
                Some(r#""a""#),
                None,
                None,
                None,
                None,
            ])
        );
        let idx: ArrayRef = Arc::new(Int64Array::from(vec![0, 0, 0]));
        let r = call(
            Kind::ArrayGet,
            vec![varchars(&[Some("{}"), Some("x"), None]), idx],
        )
        .unwrap();
        assert_eq!(texts_of(&r), strs(&[None, None, None]));
    }

    #[test]
    fn size() {
        let docs = [
            Some(r#"{"x": {"a": 1, "b": 2}}"#),
            Some(r#"{"x": {"a": [1, 2], "b": 2}}"#),
            Some(r#"{"x": {"a": "s"}}"#),
            Some(r#"{"x": {"a": null}}"#),
            Some(r#"{"x": {}}"#),
            Some("bad"),
            None,
        ];
        let r = with_path(Kind::Size, &docs, "$.x.a").unwrap();
        assert_eq!(
            ints_of(&r),
            vec![Some(0), Some(2), Some(0), Some(0), None, None, None]
        );
        let r = with_path(Kind::Size, &docs, "$.x").unwrap();
        assert_eq!(
            ints_of(&r),
            vec![Some(2), Some(2), Some(1), Some(1), Some(0), None, None]
        );
    }

    #[test]
    fn is_json_scalar() {
        let r = call(
            Kind::IsScalar,
            vec![varchars(&[
                Some("1"),
                Some("\"s\""),
                Some("null"),
                Some(" true "),
                Some("[1, 2]"),
                Some(r#"{"a": 1}"#),
                None,
            ])],
        )
        .unwrap();
        assert_eq!(
            bools_of(&r),
            vec![
                Some(true),
                Some(true),
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                None
            ]
        );
        let r = call(
            Kind::IsScalar,
            vec![jsons(&[
                Some("1"),
                Some(r#"{"x":{"a":1}}"#),
                Some("[]"),
                Some("null"),
            ])],
        )
        .unwrap();
        assert_eq!(
            bools_of(&r),
            vec![Some(true), Some(false), Some(false), Some(true)]
        );
        let r = call(
            Kind::IsScalar,
            vec![varchars(&[Some("abc"), Some("1 2"), Some("")])],
        );
        assert_eq!(bools_of(&r.unwrap()), vec![None, None, None]);
    }

    #[test]
    fn coercion() {
        let udf = json_udf(Kind::ArrayContains);
        let t = |v: &[DataType]| udf.coerce_types(v);
        assert_eq!(
            t(&[DataType::Utf8, DataType::Int32]).unwrap(),
            vec![DataType::Utf8, DataType::Int64]
        );
        assert_eq!(
            t(&[DataType::LargeUtf8, DataType::Float32]).unwrap(),
            vec![DataType::LargeUtf8, DataType::Float64]
        );
        assert_eq!(
            t(&[DataType::Null, DataType::Utf8]).unwrap(),
            vec![DataType::Utf8View, DataType::Utf8View]
        );
        assert!(t(&[DataType::Int64, DataType::Int64]).is_err());
        assert!(t(&[DataType::Utf8View]).is_err());
        let get = json_udf(Kind::ArrayGet);
        assert_eq!(
            get.coerce_types(&[DataType::Utf8View, DataType::Int8])
                .unwrap(),
            vec![DataType::Utf8View, DataType::Int64]
        );
        assert!(get
            .coerce_types(&[DataType::Utf8View, DataType::Float64])
            .is_err());
        let e = json_udf(Kind::Extract)
            .coerce_types(&[DataType::Boolean, DataType::Utf8View])
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("json_extract: argument 1 must be VARCHAR or JSON"),
            "{e}"
        );
    }

    /// Evaluates an example expression made of calls to this family's functions and literals;
    /// returns the result rendered as text.
    fn eval_example(expr: &str) -> Result<Option<String>> {
        eval(&functions(), expr)
    }

    #[test]
    fn examples_are_right() {
        for def in functions() {
            for ex in def.examples {
                assert!(ex.expr.starts_with(def.name), "{}", ex.expr);
                let got = eval_example(ex.expr).unwrap();
                assert_eq!(got.as_deref(), ex.result, "{}", ex.expr);
            }
        }
    }

    #[test]
    fn every_function_is_listed_with_examples() {
        let defs = functions();
        let names: Vec<_> = defs.iter().map(|d| d.name).collect();
        assert_eq!(
            names,
            [
                "json_extract",
                "json_extract_scalar",
                "json_parse",
                "json_format",
                "json_array_contains",
                "json_array_length",
                "json_array_get",
                "json_size",
                "is_json_scalar"
            ]
        );
        for d in &defs {
            assert_eq!(d.udf.name(), d.name);
            assert!(!d.examples.is_empty(), "{}", d.name);
        }
    }
}

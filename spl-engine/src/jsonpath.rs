//! JSONPath as used by SPL (spec §6.6): the paths of `json_extract*`, `json_size`,
//! `parse-json -path` and `expand-values -path`.
//!
//! # Syntax
//!
//! | form               | meaning |
//! |--------------------|---------|
//! | `$`                | the root; every path starts with it (surrounding whitespace is ignored) |
//! | `.key`             | object member `key`; an unquoted key runs up to the next `.` or `[` and may not contain whitespace, quotes or `]` |
//! | `."key"`, `.'key'` | quoted member name (same quoting as in brackets) |
//! | `[n]`              | element `n` (0-based) of an array |
//! | `["key"]`, `['key']` | member with any name, e.g. `$["req.body"]`; `\` escapes the next character |
//! | `.*`, `[*]`        | wildcard: every element of an array or every member value of an object, in order |
//!
//! Whitespace is allowed inside brackets (`[ 0 ]`, `[ "a" ]`). Recursive descent (`..`), filters,
//! slices and negative indexes are not supported and are reported as errors.
//!
//! A path has at most [`MAX_PATH_STEPS`] steps.
//!
//! # Numeric names and indexes (decision)
//!
//! As in Presto's JSON path, a member name made only of ASCII digits also works as an array index,
//! and an index also works as a member name: `$.0`, `$[0]` and `$["0"]` all select element 0 of an
//! array and member `"0"` of an object. This is what the docs' `parse-json -path='$.0'` relies on.
//!
//! # Results
//!
//! A path without wildcards is *definite*: it selects at most one value ([`JsonPath::select_one`],
//! which never allocates). A path with wildcards selects any number of values in document order
//! ([`JsonPath::select`]). A missing member, an index out of range or a step into a scalar simply
//! selects nothing; it is not an error.
use std::fmt;

use serde_json::Value;

/// Most steps in one path (a compile-time limit): JSON documents are read with at most 128
/// levels of nesting, so a longer path can never select anything, and matching a path recurses
/// once per step.
pub const MAX_PATH_STEPS: usize = 256;

/// A parsed JSONPath, ready to be applied to many documents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonPath {
    steps: Vec<Step>,
    definite: bool,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    /// An object member; `index` is set when the name is a decimal number, so the step also
    /// selects that element of an array.
    Member {
        name: Box<str>,
        index: Option<usize>,
    },
    /// Every element of an array / every member value of an object.
    Wildcard,
}

/// Why a JSONPath could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPathError {
    /// 0-based character (not byte) position in the path text where the problem was found.
    pub position: usize,
    /// What is wrong, e.g. "expected `]`".
    pub message: String,
}

impl fmt::Display for JsonPathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON path at position {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for JsonPathError {}

impl JsonPath {
    /// Parses a path such as `$.peoples[0].name` or `$["req.body"]`.
    pub fn parse(text: &str) -> Result<JsonPath, JsonPathError> {
        Parser { text, pos: 0 }.parse()
    }

    /// True when the path has no wildcard, so it selects at most one value.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True for the bare root path `$`.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// The member names of a path made only of object members whose names are not numbers
    /// (`$.user.tier`), in order; `None` for any other path.
    pub fn member_names(&self) -> Option<Vec<&str>> {
        self.steps
            .iter()
            .map(|step| match step {
                Step::Member { name, index: None } => Some(&**name),
                _ => None,
            })
            .collect()
    }

    /// The value a definite path selects, or `None` when it does not exist. For a path with
    /// wildcards, the first match in document order. Never allocates.
    pub fn select_one<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        if self.definite {
            let mut cur = root;
            for step in &self.steps {
                cur = match step {
                    Step::Member { name, index } => member(cur, name, *index)?,
                    Step::Wildcard => return None, // unreachable for definite paths
                };
            }
            Some(cur)
        } else {
            let mut first = None;
            visit(&self.steps, root, &mut |v| {
                first = Some(v);
                false
            });
            first
        }
    }

    /// Every value the path selects, in document order (at most one for a definite path).
    pub fn select<'a>(&self, root: &'a Value) -> Vec<&'a Value> {
        if self.definite {
            return self.select_one(root).into_iter().collect();
        }
        let mut out = Vec::new();
        visit(&self.steps, root, &mut |v| {
            out.push(v);
            true
        });
        out
    }
}

/// Applies `steps` to `v`, calling `f` on every match; `f` returns false to stop early.
/// Returns false when stopped.
fn visit<'a>(steps: &[Step], v: &'a Value, f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return f(v);
    };
    match step {
        Step::Member { name, index } => match member(v, name, *index) {
            Some(child) => visit(rest, child, f),
            None => true,
        },
        Step::Wildcard => match v {
            Value::Array(items) => items.iter().all(|child| visit(rest, child, f)),
            Value::Object(map) => map.values().all(|child| visit(rest, child, f)),
            _ => true,
        },
    }
}

/// One member step: object member `name`, or array element `index`.
fn member<'a>(v: &'a Value, name: &str, index: Option<usize>) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map.get(name),
        Value::Array(items) => items.get(index?),
        _ => None,
    }
}

/// Digits-only names double as array indexes (Presto compatible); too large → no index.
fn numeric_index(name: &str) -> Option<usize> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

impl fmt::Display for JsonPath {
    /// The canonical text of the path: `$`, `.key` for simple names, `[n]` for numeric names,
    /// `["..."]` otherwise, `[*]` for wildcards. Parsing it gives back the same path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.steps {
            match step {
                Step::Wildcard => f.write_str("[*]")?,
                Step::Member {
                    name,
                    index: Some(i),
                } if i.to_string() == **name => write!(f, "[{name}]")?,
                Step::Member { name, .. } => {
                    let simple = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
                        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
                    if simple {
                        write!(f, ".{name}")?;
                    } else {
                        f.write_str("[\"")?;
                        for c in name.chars() {
                            if c == '"' || c == '\\' {
                                f.write_str("\\")?;
                            }
                            write!(f, "{c}")?;
                        }
                        f.write_str("\"]")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Recursive-descent parser over the path text; `pos` is a byte offset.
struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn parse(mut self) -> Result<JsonPath, JsonPathError> {
        self.skip_ws();
        if !self.eat('$') {
            return Err(self.error(if self.at_end() {
                "empty path; a JSON path starts with `$`"
            } else {
                "a JSON path starts with `$`"
            }));
        }
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(c) if c.is_whitespace() => {
                    self.skip_ws();
                    if !self.at_end() {
                        return Err(self.error("unexpected character after whitespace"));
                    }
                }
                Some('.' | '[') if steps.len() == MAX_PATH_STEPS => {
                    return Err(self.error(&format!(
                        "a JSON path has at most {MAX_PATH_STEPS} steps (documents nest at most 128 levels)"
                    )));
                }
                Some('.') => {
                    self.pos += 1;
                    steps.push(self.dot_step()?);
                }
                Some('[') => {
                    self.pos += 1;
                    steps.push(self.bracket_step()?);
                }
                Some(c) => {
                    return Err(self.error(&format!("expected `.` or `[`, found `{c}`")));
                }
            }
        }
        let definite = !steps.contains(&Step::Wildcard);
        Ok(JsonPath { steps, definite })
    }

    /// After a `.`: `*`, a quoted name or an unquoted name.
    fn dot_step(&mut self) -> Result<Step, JsonPathError> {
        match self.peek() {
            None => Err(self.error("expected a member name after `.`")),
            Some('*') => {
                self.pos += 1;
                Ok(Step::Wildcard)
            }
            Some('.') => Err(self.error("recursive descent `..` is not supported")),
            Some(q @ ('"' | '\'')) => {
                self.pos += 1;
                let name = self.quoted(q)?;
                Ok(member_step(name))
            }
            Some(_) => {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    if c.is_whitespace() || matches!(c, ']' | '"' | '\'') {
                        if self.pos == start {
                            return Err(self.error(&format!("unexpected `{c}` after `.`")));
                        }
                        // Trailing whitespace is allowed (the main loop checks it); others not.
                        if c.is_whitespace() {
                            break;
                        }
                        return Err(self.error(&format!(
                            "unexpected `{c}` in a member name (use [\"...\"] for special names)"
                        )));
                    }
                    self.pos += c.len_utf8();
                }
                if self.pos == start {
                    return Err(self.error("expected a member name after `.`"));
                }
                Ok(member_step(self.text[start..self.pos].into()))
            }
        }
    }

    /// After a `[`: `*]`, `n]` or a quoted name followed by `]`.
    fn bracket_step(&mut self) -> Result<Step, JsonPathError> {
        self.skip_ws();
        let step = match self.peek() {
            None => return Err(self.error("unterminated `[`")),
            Some('*') => {
                self.pos += 1;
                Step::Wildcard
            }
            Some(q @ ('"' | '\'')) => {
                self.pos += 1;
                member_step(self.quoted(q)?)
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits = &self.text[start..self.pos];
                let index: usize = digits.parse().map_err(|_| JsonPathError {
                    position: self.char_pos(start),
                    message: format!("array index {digits} is too large"),
                })?;
                Step::Member {
                    name: index.to_string().into(),
                    index: Some(index),
                }
            }
            Some('-') => {
                return Err(self.error("negative array indexes are not supported"));
            }
            Some(c) => {
                return Err(self.error(&format!(
                    "expected an index, `*` or a quoted name after `[`, found `{c}`"
                )));
            }
        };
        self.skip_ws();
        if !self.eat(']') {
            return Err(self.error(match self.peek() {
                None => "unterminated `[`: expected `]`",
                Some(':') => "array slices are not supported",
                Some(_) => "expected `]`",
            }));
        }
        Ok(step)
    }

    /// A quoted name, after its opening quote `q`; consumes the closing quote.
    fn quoted(&mut self, q: char) -> Result<Box<str>, JsonPathError> {
        let open = self.pos - 1;
        let mut name = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(JsonPathError {
                        position: self.char_pos(open),
                        message: format!("unterminated quoted name (missing closing {q})"),
                    });
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => {
                            name.push(c);
                            self.pos += c.len_utf8();
                        }
                        None => return Err(self.error("dangling `\\` at end of path")),
                    }
                }
                Some(c) if c == q => {
                    self.pos += 1;
                    return Ok(name.into());
                }
                Some(c) => {
                    name.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn char_pos(&self, byte_pos: usize) -> usize {
        self.text[..byte_pos].chars().count()
    }

    fn error(&self, message: &str) -> JsonPathError {
        JsonPathError {
            position: self.char_pos(self.pos),
            message: message.to_string(),
        }
    }
}

fn member_step(name: Box<str>) -> Step {
    let index = numeric_index(&name);
    Step::Member { name, index }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "foo": {"bar": "baz"},
            "peoples": [{"name": "xh", "sex": "girl"}, {"name": "xm", "sex": "boy"}],
            "req.body": "dotted",
            "0": "zero-key",
            "arr": [10, 20, 30],
            "with \"quote\"": 1,
            "中文": "cjk",
        })
    }

    fn one(path: &str, v: &Value) -> Option<Value> {
        JsonPath::parse(path).unwrap().select_one(v).cloned()
    }

    fn all(path: &str, v: &Value) -> Vec<Value> {
        JsonPath::parse(path)
            .unwrap()
            .select(v)
            .into_iter()
            .cloned()
            .collect()
    }

    fn err(path: &str) -> JsonPathError {
        JsonPath::parse(path).unwrap_err()
    }

    #[test]
    fn root_and_members() {
        let d = doc();
        assert_eq!(one("$", &d), Some(d.clone()));
        assert!(JsonPath::parse("$").unwrap().is_root());
        assert_eq!(one("$.foo.bar", &d), Some(json!("baz")));
        assert_eq!(one("$.foo", &d), Some(json!({"bar": "baz"})));
        assert_eq!(one("$.peoples[0].name", &d), Some(json!("xh")));
        assert_eq!(one("$.peoples[1].sex", &d), Some(json!("boy")));
        assert_eq!(one("$.中文", &d), Some(json!("cjk")));
        assert_eq!(one("  $.foo.bar  ", &d), Some(json!("baz")));
    }

    #[test]
    fn bracket_quoted_names() {
        let d = doc();
        assert_eq!(one(r#"$["req.body"]"#, &d), Some(json!("dotted")));
        assert_eq!(one("$['req.body']", &d), Some(json!("dotted")));
        assert_eq!(one(r#"$[ "foo" ][ 'bar' ]"#, &d), Some(json!("baz")));
        assert_eq!(one(r#"$["with \"quote\""]"#, &d), Some(json!(1)));
        assert_eq!(one(r#"$."req.body""#, &d), Some(json!("dotted")));
        // `.req.body` is two steps, so it misses.
        assert_eq!(one("$.req.body", &d), None);
    }

    #[test]
    fn numeric_names_select_object_keys_and_array_elements() {
        let d = doc();
        // On an object: the member "0".
        assert_eq!(one("$.0", &d), Some(json!("zero-key")));
        assert_eq!(one("$[0]", &d), Some(json!("zero-key")));
        assert_eq!(one(r#"$["0"]"#, &d), Some(json!("zero-key")));
        // On an array: the element.
        assert_eq!(one("$.arr.0", &d), Some(json!(10)));
        assert_eq!(one("$.arr[2]", &d), Some(json!(30)));
        assert_eq!(one("$.arr['1']", &d), Some(json!(20)));
        assert_eq!(one("$.0", &json!([{"a": 1}])), Some(json!({"a": 1})));
    }

    #[test]
    fn missing_selects_nothing() {
        let d = doc();
        assert_eq!(one("$.nope", &d), None);
        assert_eq!(one("$.arr[3]", &d), None);
        assert_eq!(one("$.foo.bar.baz", &d), None); // step into a string
        assert_eq!(one("$.arr.x", &d), None); // name on an array
        assert_eq!(one("$[0]", &json!(5)), None);
        assert!(all("$.nope", &d).is_empty());
    }

    #[test]
    fn wildcards() {
        let d = doc();
        let p = JsonPath::parse("$.peoples[*].name").unwrap();
        assert!(!p.is_definite());
        assert_eq!(all("$.peoples[*].name", &d), vec![json!("xh"), json!("xm")]);
        assert_eq!(
            all("$.peoples.*.sex", &d),
            vec![json!("girl"), json!("boy")]
        );
        assert_eq!(all("$.foo.*", &d), vec![json!("baz")]);
        assert_eq!(all("$.arr[*]", &d), vec![json!(10), json!(20), json!(30)]);
        assert_eq!(all("$.foo.bar[*]", &d), Vec::<Value>::new());
        assert_eq!(
            all("$[*][*]", &json!([[1, 2], [3]])),
            vec![json!(1), json!(2), json!(3)]
        );
        // select_one on an indefinite path: the first match.
        assert_eq!(one("$.arr[*]", &d), Some(json!(10)));
        assert_eq!(one("$.foo.bar[*]", &d), None);
        // Object wildcards follow the input's member order.
        let v: Value = serde_json::from_str(r#"{"z": 1, "a": 2, "m": 3}"#).unwrap();
        assert_eq!(all("$.*", &v), vec![json!(1), json!(2), json!(3)]);
    }

    #[test]
    fn definite_select_returns_at_most_one() {
        let d = doc();
        assert_eq!(all("$.foo.bar", &d), vec![json!("baz")]);
        assert!(JsonPath::parse("$.a[0]['b']").unwrap().is_definite());
    }

    #[test]
    fn errors_carry_character_positions() {
        assert_eq!(err("").position, 0);
        assert!(err("").message.contains("starts with `$`"));
        let e = err("a.b");
        assert_eq!(
            (e.position, e.message.as_str()),
            (0, "a JSON path starts with `$`")
        );
        assert_eq!(err("$.").position, 2);
        assert_eq!(
            err("$..a").message,
            "recursive descent `..` is not supported"
        );
        assert_eq!(err("$[0").position, 3);
        assert_eq!(
            err("$[-1]").message,
            "negative array indexes are not supported"
        );
        assert_eq!(err("$[1:2]").message, "array slices are not supported");
        assert_eq!(err("$[\"abc]").position, 2);
        assert!(err("$[\"abc]").message.contains("unterminated"));
        assert_eq!(err("$[abc]").position, 2);
        assert_eq!(err("$a").position, 1);
        assert_eq!(err("$.a b").position, 4);
        assert_eq!(err("$.a]").position, 3);
        // Positions count characters, not bytes.
        assert_eq!(err("$.中文]").position, 4);
        assert_eq!(
            err("$[99999999999999999999999]").message,
            "array index 99999999999999999999999 is too large"
        );
        assert_eq!(
            err("$x").to_string(),
            "invalid JSON path at position 1: expected `.` or `[`, found `x`"
        );
    }

    #[test]
    fn display_round_trips() {
        for (text, canonical) in [
            ("$", "$"),
            ("$.a.b", "$.a.b"),
            ("$.a[0]", "$.a[0]"),
            ("$.0", "$[0]"),
            ("$.00", r#"$["00"]"#),
            ("$['req.body'].x", r#"$["req.body"].x"#),
            (r#"$["a\"b"]"#, r#"$["a\"b"]"#),
            ("$.a.*[*]", "$.a[*][*]"),
        ] {
            let p = JsonPath::parse(text).unwrap();
            assert_eq!(p.to_string(), canonical);
            assert_eq!(JsonPath::parse(canonical).unwrap(), p);
        }
    }
}

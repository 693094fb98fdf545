//! The fast path of JSON-lines input: a validating single-pass scanner for one object per line
//! that records where each member's key and value lie in the line instead of building values.
//! It accepts a subset of what `serde_json` accepts — strict RFC 8259 JSON whose strings hold
//! no escapes and no control characters, nesting up to [`MAX_DEPTH`] — and answers
//! [`Fallback`] for anything else (escapes, malformed text, deep nesting), so the caller
//! re-reads the line with `serde_json`, which gives the same fields or the error message. The
//! scanner therefore never changes what a line decodes to; it only decides how fast.
use std::ops::Range;

/// Nesting deeper than this is left to `serde_json` (which allows 128).
pub(super) const MAX_DEPTH: usize = 64;

/// The line is not in the scanner's subset; decode it the general way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fallback;

/// Where a member's value lies, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Value {
    /// A string literal; the range is its text between the quotes (no escapes inside).
    Str(Range<usize>),
    /// A number, `true` or `false`: its JSON text.
    Plain(Range<usize>),
    /// An object or array: its JSON text, possibly with whitespace between tokens.
    Nested(Range<usize>),
    Null,
}

/// One member of the top-level object: its key (text between the quotes) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    pub key: Range<usize>,
    pub value: Value,
}

/// Scans `line` (one JSON object, surrounding whitespace allowed) into `members`, in order.
pub(super) fn scan_object(line: &[u8], members: &mut Vec<Member>) -> Result<(), Fallback> {
    members.clear();
    let mut s = Scanner { b: line, i: 0 };
    s.ws();
    s.expect(b'{')?;
    s.ws();
    if s.peek() == Some(b'}') {
        s.i += 1;
    } else {
        loop {
            let key = s.string()?;
            s.ws();
            s.expect(b':')?;
            s.ws();
            let value = s.value()?;
            members.push(Member { key, value });
            s.ws();
            match s.next()? {
                b',' => s.ws(),
                b'}' => break,
                _ => return Err(Fallback),
            }
        }
    }
    s.ws();
    if s.i == line.len() {
        Ok(())
    } else {
        Err(Fallback)
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn next(&mut self) -> Result<u8, Fallback> {
        let c = self.peek().ok_or(Fallback)?;
        self.i += 1;
        Ok(c)
    }

    fn expect(&mut self, c: u8) -> Result<(), Fallback> {
        if self.next()? == c {
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// A string literal without escapes or control characters; returns its inner range.
    fn string(&mut self) -> Result<Range<usize>, Fallback> {
        self.expect(b'"')?;
        let (b, start) = (self.b, self.i);
        let mut i = start;
        // Eight bytes at a time while they hold no quote, backslash or control character.
        while let Some(word) = b.get(i..i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let found = special_bytes(u64::from_le_bytes(bytes));
            if found != 0 {
                i += (found.trailing_zeros() / 8) as usize;
                return self.string_end(start, i);
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            if is_special(c) {
                return self.string_end(start, i);
            }
            i += 1;
        }
        Err(Fallback)
    }

    /// The string that started at `start` stops at `i`: fine when that is its closing quote.
    fn string_end(&mut self, start: usize, i: usize) -> Result<Range<usize>, Fallback> {
        if self.b.get(i) == Some(&b'"') {
            self.i = i + 1;
            Ok(start..i)
        } else {
            Err(Fallback)
        }
    }

    fn value(&mut self) -> Result<Value, Fallback> {
        let start = self.i;
        match self.peek().ok_or(Fallback)? {
            b'"' => self.string().map(Value::Str),
            b'{' | b'[' => {
                self.nested(0)?;
                Ok(Value::Nested(start..self.i))
            }
            b't' => self.word(b"true").map(|()| Value::Plain(start..self.i)),
            b'f' => self.word(b"false").map(|()| Value::Plain(start..self.i)),
            b'n' => self.word(b"null").map(|()| Value::Null),
            _ => {
                self.number()?;
                Ok(Value::Plain(start..self.i))
            }
        }
    }

    fn word(&mut self, word: &[u8]) -> Result<(), Fallback> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Result<(), Fallback> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(Fallback),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.some_digits()?;
        }
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> Result<(), Fallback> {
        let start = self.i;
        self.digits();
        if self.i > start {
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    /// Skips a whole object or array, validating it.
    fn nested(&mut self, depth: usize) -> Result<(), Fallback> {
        if depth >= MAX_DEPTH {
            return Err(Fallback);
        }
        let (object, close) = match self.next()? {
            b'{' => (true, b'}'),
            _ => (false, b']'),
        };
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            if object {
                self.string()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
            }
            match self.peek().ok_or(Fallback)? {
                b'{' | b'[' => self.nested(depth + 1)?,
                _ => {
                    self.value()?;
                }
            }
            self.ws();
            match self.next()? {
                b',' => self.ws(),
                c if c == close => return Ok(()),
                _ => return Err(Fallback),
            }
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` (little endian) that is `"`, `\\` or below 0x20 — exact
/// for the lowest such byte, which is all the caller uses (a borrow can only flag bytes above a
/// flagged one).
pub(super) fn special_bytes(x: u64) -> u64 {
    let quote = x ^ (ONES * u64::from(b'"'));
    let backslash = x ^ (ONES * u64::from(b'\\'));
    let zero = |v: u64| v.wrapping_sub(ONES) & !v;
    let control = x.wrapping_sub(ONES * 0x20) & !x;
    (zero(quote) | zero(backslash) | control) & HIGH
}

/// True when `s` holds a byte a JSON string must escape (`"`, `\\`, control characters).
pub(super) fn needs_escape(s: &[u8]) -> bool {
    let mut words = s.chunks_exact(8);
    for w in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(w);
        if special_bytes(u64::from_le_bytes(bytes)) != 0 {
            return true;
        }
    }
    words.remainder().iter().any(|&c| is_special(c))
}

/// A byte a JSON string cannot hold as it is: `"`, `\\` or a control character.
fn is_special(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Result<Vec<(String, String)>, Fallback> {
        let mut members = Vec::new();
        scan_object(line.as_bytes(), &mut members)?;
        Ok(members
            .into_iter()
            .map(|m| {
                let value = match m.value {
                    Value::Str(r) => format!("str:{}", &line[r]),
                    Value::Plain(r) => format!("plain:{}", &line[r]),
                    Value::Nested(r) => format!("nested:{}", &line[r]),
                    Value::Null => "null".into(),
                };
                (line[m.key].to_string(), value)
            })
            .collect())
    }

    #[test]
    fn special_bytes_finds_the_first_one() {
        for (text, at) in [
            (*b"abcdefgh", None),
            (*b"abc\"efgh", Some(3)),
            (*b"\\bcdefgh", Some(0)),
            (*b"abcdefg\x1f", Some(7)),
            (*b"\xc3\xa9\x1f\"\"\"\"\"", Some(2)),
            (*b"\x7f\x80\xff !~AB", None),
        ] {
            let found = special_bytes(u64::from_le_bytes(text));
            let first = (found != 0).then(|| found.trailing_zeros() as usize / 8);
            assert_eq!(first, at, "{text:?}");
        }
        // Every byte value in every position.
        for pos in 0..8 {
            for c in 0..=255u8 {
                let mut text = *b"aaaaaaaa";
                text[pos] = c;
                let found = special_bytes(u64::from_le_bytes(text));
                let first = (found != 0).then(|| found.trailing_zeros() as usize / 8);
                let want = (c == b'"' || c == b'\\' || c < 0x20).then_some(pos);
                assert_eq!(first, want, "{c} at {pos}");
            }
        }
    }

    #[test]
    fn members_are_located() {
        let got =
            scan(r#" {"a" : "x y", "b":-1.5e+3,"c":true,"d":null,"e":{"f":[1, {}]}} "#).unwrap();
        let want: Vec<(String, String)> = [
            ("a", "str:x y"),
            ("b", "plain:-1.5e+3"),
            ("c", "plain:true"),
            ("d", "null"),
            ("e", r#"nested:{"f":[1, {}]}"#),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        assert_eq!(scan("{}").unwrap(), vec![]);
    }

    /// Every line the scanner accepts, serde_json accepts too; the rest fall back.
    #[test]
    fn anything_unusual_falls_back() {
        for line in [
            r#"{"a":"x\"y"}"#,
            "{\"a\":\"x\ty\"}",
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":{"b"}}"#,
            r#"{"a":1} x"#,
            r#"{"a":1"#,
            r#"{"a" 1}"#,
            r#"[1]"#,
            r#"{'a':1}"#,
            "",
        ] {
            assert_eq!(scan(line), Err(Fallback), "{line}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(70), "]".repeat(70));
        assert_eq!(scan(&deep), Err(Fallback));
        for line in [r#"{"a":"x"}"#, r#"{"a":[[[]]],"b":0.0e0}"#, "{\t}"] {
            assert!(scan(line).is_ok(), "{line}");
            assert!(serde_json::from_str::<serde_json::Value>(line).is_ok());
        }
    }
}

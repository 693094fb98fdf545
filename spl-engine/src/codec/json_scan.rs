//! The fast path of JSON-lines input: a validating single-pass scanner for one object per line
//! that records where each member's key and value lie in the line instead of building values.
//! It accepts a subset of what `serde_json` accepts — strict RFC 8259 JSON whose strings hold
//! no control characters and whose keys no escapes, nesting up to [`MAX_DEPTH`]; a `\u` escape
//! that is half of a surrogate pair stands with its other half — and answers [`Fallback`] for
//! anything else (escaped keys, lone surrogates, malformed text, deep nesting), so the caller
//! re-reads the line with `serde_json`, which gives the same fields or the error message. The
//! scanner therefore never changes what a line decodes to; it only decides how fast.
//! `parse-json` reads each row's object with it the same way (`ops/parse_json.rs`).
use std::ops::Range;

/// Nesting deeper than this is left to `serde_json` (which allows 128).
pub(crate) const MAX_DEPTH: usize = 64;

/// The line is not in the scanner's subset; decode it the general way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fallback;

/// Where a member's value lies, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// A string literal; the range is its text between the quotes (no escapes inside).
    Str(Range<usize>),
    /// A string literal with escapes (valid ones): the range is its text between the quotes,
    /// as written; [`unescape`] gives its value.
    Escaped(Range<usize>),
    /// A number, `true` or `false`: its JSON text.
    Plain(Range<usize>),
    /// An object or array: its JSON text, possibly with whitespace between tokens.
    Nested(Range<usize>),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Escaped,
    Plain,
    Nested,
    Null,
}

/// One member of the top-level object: where its key (text between the quotes) and value lie.
/// Offsets are `u32` (longer lines fall back) so a member is small and cheap to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Member {
    key: (u32, u32),
    value: (u32, u32),
    kind: Kind,
}

impl Value {
    /// The same value with its range moved by `by` bytes (a value scanned in a slice that
    /// starts `by` bytes into a larger text, located in that text).
    pub fn shifted(self, by: usize) -> Value {
        let at = |r: Range<usize>| r.start + by..r.end + by;
        match self {
            Value::Str(r) => Value::Str(at(r)),
            Value::Escaped(r) => Value::Escaped(at(r)),
            Value::Plain(r) => Value::Plain(at(r)),
            Value::Nested(r) => Value::Nested(at(r)),
            Value::Null => Value::Null,
        }
    }
}

impl Member {
    pub fn key(&self) -> Range<usize> {
        self.key.0 as usize..self.key.1 as usize
    }

    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }

    pub fn value(&self) -> Value {
        let range = self.value.0 as usize..self.value.1 as usize;
        match self.kind {
            Kind::Str => Value::Str(range),
            Kind::Escaped => Value::Escaped(range),
            Kind::Plain => Value::Plain(range),
            Kind::Nested => Value::Nested(range),
            Kind::Null => Value::Null,
        }
    }
}

/// Scans `line` (one JSON object, surrounding whitespace allowed) into `members`, in order.
pub(crate) fn scan_object(line: &[u8], members: &mut Vec<Member>) -> Result<(), Fallback> {
    scan_object_keeping(line, members, |_| true)
}

/// [`scan_object`] that records only the members whose key (its text between the quotes)
/// `keep` accepts; every member is still checked, so the answer for a malformed line is the
/// same.
#[inline(always)]
pub(crate) fn scan_object_keeping(
    line: &[u8],
    members: &mut Vec<Member>,
    mut keep: impl FnMut(&[u8]) -> bool,
) -> Result<(), Fallback> {
    members.clear();
    whole(line, b'{', b'}', |s| {
        loop {
            s.expect(b'"')?;
            let key = s.string_body()?;
            // Compact `"key":value` first; spaced JSON takes the general route.
            if s.peek() == Some(b':') {
                s.i += 1;
            } else {
                s.ws();
                s.expect(b':')?;
            }
            s.ws();
            let start = s.i;
            let (kind, value) = s.member_value(start)?;
            if keep(&s.b[key.0..key.1]) {
                members.push(Member {
                    key: offsets(key),
                    value: offsets(value),
                    kind,
                });
            }
            match s.peek() {
                Some(b',') => s.i += 1,
                Some(b'}') => {
                    s.i += 1;
                    break;
                }
                _ => {
                    s.ws();
                    match s.next()? {
                        b',' => {}
                        b'}' => break,
                        _ => return Err(Fallback),
                    }
                }
            }
            s.ws();
        }
        Ok(())
    })
}

/// Scans `line` (one JSON array, surrounding whitespace allowed) into `items`: each element
/// as a [`Member`] with an empty key, in order.
pub(crate) fn scan_array(line: &[u8], items: &mut Vec<Member>) -> Result<(), Fallback> {
    items.clear();
    whole(line, b'[', b']', |s| loop {
        let start = s.i;
        let (kind, value) = s.member_value(start)?;
        items.push(Member {
            key: (0, 0),
            value: offsets(value),
            kind,
        });
        s.ws();
        match s.next()? {
            b',' => s.ws(),
            b']' => return Ok(()),
            _ => return Err(Fallback),
        }
    })
}

/// Scans `line` as one container from `open` to `close` with only whitespace around it:
/// `contents` reads a non-empty container's contents up to and past `close`.
#[inline(always)]
fn whole<'a>(
    line: &'a [u8],
    open: u8,
    close: u8,
    contents: impl FnOnce(&mut Scanner<'a>) -> Result<(), Fallback>,
) -> Result<(), Fallback> {
    if u32::try_from(line.len()).is_err() {
        return Err(Fallback);
    }
    let mut s = Scanner {
        b: line,
        i: 0,
        block: usize::MAX,
        mask: 0,
    };
    s.ws();
    s.expect(open)?;
    s.ws();
    if s.peek() == Some(close) {
        s.i += 1;
    } else {
        contents(&mut s)?;
    }
    s.ws();
    if s.i == line.len() {
        Ok(())
    } else {
        Err(Fallback)
    }
}

/// Offsets known to fit (the line is shorter than `u32::MAX`).
#[inline(always)]
fn offsets((start, end): (usize, usize)) -> (u32, u32) {
    (start as u32, end as u32)
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    /// Where the 64 bytes start whose special bytes `mask` holds (`usize::MAX`: none yet):
    /// strings are found by reading that mask, the line's bytes are compared once.
    block: usize,
    /// One bit per byte from `block` that is a quote, a backslash or a control character.
    mask: u64,
}

impl Scanner<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn next(&mut self) -> Result<u8, Fallback> {
        let c = self.peek().ok_or(Fallback)?;
        self.i += 1;
        Ok(c)
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Result<(), Fallback> {
        if self.next()? == c {
            Ok(())
        } else {
            Err(Fallback)
        }
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// The rest of a string literal whose opening quote was just read, without escapes or
    /// control characters: returns where its text starts and ends, and moves past the closing
    /// quote.
    #[inline(always)]
    fn string_body(&mut self) -> Result<(usize, usize), Fallback> {
        let start = self.i;
        let i = self.next_special(start)?;
        self.string_end(start, i)
    }

    /// The rest of a string literal whose opening quote was just read, escapes allowed (and
    /// checked): where its text starts and ends, and whether it holds an escape; moves past
    /// the closing quote.
    #[inline(always)]
    fn string_value(&mut self) -> Result<(usize, usize, bool), Fallback> {
        let start = self.i;
        let mut i = self.next_special(start)?;
        let mut escaped = false;
        while self.b.get(i) == Some(&b'\\') {
            i = escape_end(self.b, i)?;
            escaped = true;
            i = self.next_special(i)?;
        }
        let (start, end) = self.string_end(start, i)?;
        Ok((start, end, escaped))
    }

    /// The first byte at or after `i` that is a quote, a backslash or a control character.
    #[inline(always)]
    fn next_special(&mut self, mut i: usize) -> Result<usize, Fallback> {
        loop {
            if i >= self.block && i - self.block < 64 {
                let rest = self.mask >> (i - self.block);
                if rest != 0 {
                    return Ok(i + rest.trailing_zeros() as usize);
                }
                i = self.block + 64;
            }
            if !self.load_block(i) {
                return self.next_special_bytewise(i);
            }
        }
    }

    /// Reads the special bytes of the 64 bytes that hold `i` (starting at `i`, or ending at
    /// the line's end when fewer than 64 bytes are left). False when the line is shorter than
    /// 64 bytes or `i` is past its end.
    #[inline(always)]
    fn load_block(&mut self, i: usize) -> bool {
        if i >= self.b.len() || self.b.len() < 64 {
            return false;
        }
        let start = i.min(self.b.len() - 64);
        self.block = start;
        self.mask = special_mask_64(&self.b[start..start + 64]);
        true
    }

    /// [`Scanner::next_special`] for lines shorter than 64 bytes.
    #[inline(always)]
    fn next_special_bytewise(&self, mut i: usize) -> Result<usize, Fallback> {
        let b = self.b;
        while let Some(word) = b.get(i..i + 8) {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(word);
            let found = special_bytes(u64::from_le_bytes(bytes));
            if found != 0 {
                return Ok(i + (found.trailing_zeros() / 8) as usize);
            }
            i += 8;
        }
        while let Some(&c) = b.get(i) {
            if is_special(c) {
                return Ok(i);
            }
            i += 1;
        }
        Err(Fallback)
    }

    /// The string that started at `start` stops at `i`: fine when that is its closing quote.
    #[inline(always)]
    fn string_end(&mut self, start: usize, i: usize) -> Result<(usize, usize), Fallback> {
        if self.b.get(i) == Some(&b'"') {
            self.i = i + 1;
            Ok((start, i))
        } else {
            Err(Fallback)
        }
    }

    /// The value starting at `start` (the current position): its kind and range.
    #[inline(always)]
    fn member_value(&mut self, start: usize) -> Result<(Kind, (usize, usize)), Fallback> {
        Ok(match self.peek().ok_or(Fallback)? {
            b'"' => {
                self.i += 1;
                let (start, end, escaped) = self.string_value()?;
                let kind = if escaped { Kind::Escaped } else { Kind::Str };
                (kind, (start, end))
            }
            b'{' | b'[' => {
                self.nested(0)?;
                (Kind::Nested, (start, self.i))
            }
            _ => (self.scalar()?, (start, self.i)),
        })
    }

    /// A number, `true`, `false` or `null`.
    #[inline(always)]
    fn scalar(&mut self) -> Result<Kind, Fallback> {
        match self.peek().ok_or(Fallback)? {
            b't' => self.word(b"true").map(|()| Kind::Plain),
            b'f' => self.word(b"false").map(|()| Kind::Plain),
            b'n' => self.word(b"null").map(|()| Kind::Null),
            _ => self.number().map(|()| Kind::Plain),
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
                self.expect(b'"')?;
                self.string_body()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
            }
            match self.peek().ok_or(Fallback)? {
                b'{' | b'[' => self.nested(depth + 1)?,
                b'"' => {
                    self.i += 1;
                    self.string_value()?;
                }
                _ => {
                    self.scalar()?;
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

/// Where the escape at `b[i]` (a backslash) ends: after `\\n`-like one-letter escapes, after
/// `\\u` and four hex digits, or after both halves of a surrogate pair; `Fallback` for anything else (an
/// unknown letter, bad hex digits, a lone surrogate).
#[inline(always)]
fn escape_end(b: &[u8], i: usize) -> Result<usize, Fallback> {
    match b.get(i + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 2),
        Some(b'u') => {
            let unit = hex4(b, i + 2)?;
            match unit {
                0xD800..=0xDBFF => {
                    if b.get(i + 6..i + 8) != Some(b"\\u") {
                        return Err(Fallback);
                    }
                    match hex4(b, i + 8)? {
                        0xDC00..=0xDFFF => Ok(i + 12),
                        _ => Err(Fallback),
                    }
                }
                0xDC00..=0xDFFF => Err(Fallback),
                _ => Ok(i + 6),
            }
        }
        _ => Err(Fallback),
    }
}

/// The four hex digits at `b[at..]` as a number.
#[inline]
fn hex4(b: &[u8], at: usize) -> Result<u32, Fallback> {
    let digits = b.get(at..at + 4).ok_or(Fallback)?;
    digits.iter().try_fold(0u32, |n, &c| {
        let d = (c as char).to_digit(16).ok_or(Fallback)?;
        Ok(n * 16 + d)
    })
}

/// The value of a string literal's text (between the quotes) that the scanner accepted with
/// escapes ([`Value::Escaped`]).
pub(crate) fn unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', &b[from..]).map(|k| from + k) {
        out.push_str(raw.get(from..at).unwrap_or_default());
        let (c, next) = match b.get(at + 1) {
            Some(b'u') => {
                let unit = hex4(b, at + 2).unwrap_or(0xFFFD);
                if (0xD800..=0xDBFF).contains(&unit) {
                    let c = match hex4(b, at + 8) {
                        Ok(low @ 0xDC00..=0xDFFF) => {
                            char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        }
                        _ => None,
                    };
                    (c.unwrap_or('\u{FFFD}'), at + 12)
                } else {
                    (char::from_u32(unit).unwrap_or('\u{FFFD}'), at + 6)
                }
            }
            Some(&c) => (
                match c {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    other => other as char,
                },
                at + 2,
            ),
            None => {
                from = at;
                break;
            }
        };
        out.push(c);
        from = next.min(b.len());
    }
    out.push_str(raw.get(from..).unwrap_or_default());
    out
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

/// One bit per byte of `block` (16 bytes) that is `"`, `\\` or below 0x20, lowest byte in the
/// lowest bit.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn special_mask_16(block: &[u8]) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    assert!(block.len() >= 16);
    // SAFETY: SSE2 is part of the x86_64 baseline, and the unaligned load reads the first 16
    // bytes of `block`, which has at least that many (checked above).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // v <= 0x1f (unsigned) exactly when min(v, 0x1f) == v.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// One bit per byte of `block` (64 bytes) that is `"`, `\\` or below 0x20, lowest byte in the
/// lowest bit.
#[inline(always)]
fn special_mask_64(block: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        (0..4).fold(0, |mask, k| {
            mask | u64::from(special_mask_16(&block[16 * k..16 * k + 16])) << (16 * k)
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        block
            .iter()
            .enumerate()
            .fold(0, |mask, (k, &c)| mask | u64::from(is_special(c)) << k)
    }
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
                let value = match m.value() {
                    Value::Str(r) => format!("str:{}", &line[r]),
                    Value::Escaped(r) => format!("esc:{}", unescape(&line[r])),
                    Value::Plain(r) => format!("plain:{}", &line[r]),
                    Value::Nested(r) => format!("nested:{}", &line[r]),
                    Value::Null => "null".into(),
                };
                (line[m.key()].to_string(), value)
            })
            .collect())
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_sixteen_byte_mask_flags_exactly_the_special_bytes() {
        // Every byte value at every position, in blocks of otherwise plain text.
        for at in 0..16 {
            for c in 0..=255u8 {
                let mut block = *b"abcdefghijklmnop";
                block[at] = c;
                let want = if is_special(c) { 1u32 << at } else { 0 };
                assert_eq!(special_mask_16(&block), want, "byte {c:#x} at {at}");
            }
        }
        let block = *b"\x1f\"ab\\\xc3\xa9\x7f\x80\xff \x00~ABC";
        assert_eq!(block.len(), 16);
        assert_eq!(
            special_mask_16(&block),
            (1 << 0) | (1 << 1) | (1 << 4) | (1 << 11)
        );
    }

    #[test]
    fn next_special_finds_the_next_special_byte_across_blocks() {
        // Lines of every length up to 200 with specials sprinkled in; from every start, in
        // increasing order as the scanner asks, the answer is the first special byte at or
        // after it (or none).
        let mut x: u64 = 11;
        for len in 0..200 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let line: Vec<u8> = (0..len)
                .map(|k| match (x >> (k % 61)) % 23 {
                    0 => b'"',
                    1 => b'\\',
                    2 => 0x1f,
                    _ => b'a' + (k % 26) as u8,
                })
                .collect();
            let mut s = Scanner {
                b: &line,
                i: 0,
                block: usize::MAX,
                mask: 0,
            };
            for i in 0..=len {
                let want = (i..len).find(|&k| is_special(line[k])).ok_or(Fallback);
                assert_eq!(s.next_special(i), want, "length {len}, from {i}");
            }
        }
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
            r#"{"x\"y":1}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00x"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\q"}"#,
            r#"{"a":"\u12g4"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"x\"}"#,
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
        for line in [
            r#"{"a":"x"}"#,
            r#"{"a":[[[]]],"b":0.0e0}"#,
            "{\t}",
            r#"{"a":"x\"y"}"#,
            r#"{"a":["\u00e9\n"]}"#,
        ] {
            assert!(scan(line).is_ok(), "{line}");
            assert!(serde_json::from_str::<serde_json::Value>(line).is_ok());
        }
    }

    /// Strings made of plain text, every kind of escape and broken escapes: the scanner accepts
    /// exactly the literals serde_json reads as a string, and `unescape` gives serde_json's
    /// value.
    #[test]
    fn escaped_strings_agree_with_serde_json() {
        let pieces = [
            "ab",
            "é",
            "😀",
            " ",
            r"\n",
            r#"\""#,
            r"\\",
            r"\/",
            r"\b",
            r"\f",
            r"\r",
            r"\t",
            r"\u0041",
            r"\u00e9",
            r"\u20AC",
            r"\ud83d\ude00",
            r"\uD834\uDD1E",
            r"\u0000",
            r"\ud800",
            r"\udc00",
            r"\ud800\u0041",
            r"\u12",
            r"\x",
            "\t",
            r"\",
        ];
        let mut seed = 11u64;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..1 + (seed >> 60) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let line = format!("{{\"k\":\"{text}\"}}");
            let serde = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|v| v["k"].as_str().map(str::to_string));
            let mut members = Vec::new();
            let scanned = scan_object(line.as_bytes(), &mut members).ok().map(|()| {
                match members[0].value() {
                    Value::Str(r) => line[r].to_string(),
                    Value::Escaped(r) => unescape(&line[r]),
                    other => panic!("{other:?}"),
                }
            });
            if let Some(got) = &scanned {
                assert_eq!(Some(got), serde.as_ref(), "{line}");
            } else {
                // Only lone surrogates are serde_json's to accept or refuse.
                assert!(
                    serde.is_none() || text.contains(r"\ud800") || text.contains(r"\udc00"),
                    "{line} fell back"
                );
            }
            // Inside a nested value the same literals are validated the same way.
            let nested = format!("{{\"k\":[\"{text}\"]}}");
            if scan_object(nested.as_bytes(), &mut members).is_ok() {
                assert!(
                    serde_json::from_str::<serde_json::Value>(&nested).is_ok(),
                    "{nested}"
                );
            }
        }
    }
}

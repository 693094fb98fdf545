//! Where the cursor is in SPL text, found by a small scanner that skips strings, quoted names
//! and comments: the statement and the stage around it, the word under it, and whether it is
//! inside a string or comment. Works on text that does not parse (text being typed).

/// Byte ranges of the top-level separators and of strings/comments of a text.
#[derive(Debug, Default)]
pub struct Scan {
    /// Offsets of stage separators `|` (not the `||` operator).
    pub pipes: Vec<usize>,
    /// Offsets of statement separators `;`.
    pub semis: Vec<usize>,
    /// Single-quoted strings, double-quoted names and comments.
    pub literals: Vec<Literal>,
}

/// A string, quoted name or comment.
#[derive(Debug, Clone, Copy)]
pub struct Literal {
    pub start: usize,
    pub end: usize,
    /// `'`, `"`, `-` (line comment) or `/` (block comment).
    pub kind: u8,
    /// False when the text ends inside it.
    pub closed: bool,
}

/// Scans `text` (unterminated strings and comments run to the end).
pub fn scan(text: &str) -> Scan {
    let b = text.as_bytes();
    let mut s = Scan::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                let start = i;
                let mut closed = false;
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        closed = true;
                        break;
                    }
                    i += 1;
                }
                s.literals.push(Literal {
                    start,
                    end: i,
                    kind: q,
                    closed,
                });
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                s.literals.push(Literal {
                    start,
                    end: i,
                    kind: b'-',
                    closed: false,
                });
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                let end = text[i + 2..].find("*/").map(|e| i + 2 + e + 2);
                i = end.unwrap_or(b.len());
                s.literals.push(Literal {
                    start,
                    end: i,
                    kind: b'/',
                    closed: end.is_some(),
                });
                continue;
            }
            b'|' if b.get(i + 1) == Some(&b'|') => i += 1,
            b'|' => s.pipes.push(i),
            b';' => s.semis.push(i),
            _ => {}
        }
        i += 1;
    }
    s
}

impl Scan {
    /// The literal (string, quoted name, comment) containing `offset` strictly inside it.
    pub fn literal_at(&self, offset: usize) -> Option<Literal> {
        self.literals
            .iter()
            .copied()
            .find(|l| l.start < offset && (offset < l.end || (offset == l.end && !l.closed)))
    }
    /// Start of the statement containing `offset` (just after the previous `;`).
    pub fn statement_start(&self, offset: usize) -> usize {
        self.semis
            .iter()
            .rev()
            .find(|&&p| p < offset)
            .map_or(0, |p| p + 1)
    }
    /// Start of the stage containing `offset` (just after the previous `|` of its statement),
    /// and whether the stage is the statement's source (no `|` before it).
    pub fn stage_start(&self, offset: usize) -> (usize, bool) {
        let st = self.statement_start(offset);
        match self.pipes.iter().rev().find(|&&p| p < offset && p >= st) {
            Some(p) => (p + 1, false),
            None => (st, true),
        }
    }
}

/// True for characters of names (fields, functions, datasets).
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The word (letters, digits, `_`, and `-` when `dashes`) that ends at `offset`, as a start offset.
pub fn word_start(text: &str, offset: usize, dashes: bool) -> usize {
    let mut start = offset;
    for (i, c) in text[..offset].char_indices().rev() {
        if is_name_char(c) || (dashes && c == '-') {
            start = i;
        } else {
            break;
        }
    }
    start
}

/// The name (letters, digits, `_`, and `-` when `dashes`) around `offset`, as a byte range.
pub fn word_at(text: &str, offset: usize, dashes: bool) -> (usize, usize) {
    let start = word_start(text, offset, dashes);
    let mut end = offset;
    for (i, c) in text[offset..].char_indices() {
        if is_name_char(c) || (dashes && c == '-') {
            end = offset + i + c.len_utf8();
        } else {
            break;
        }
    }
    (start, end)
}

/// The instruction name a stage starts with (`parse-regexp`), lower-cased, and its span.
pub fn stage_instruction(text: &str, stage_start: usize) -> Option<(String, usize, usize)> {
    let rest = &text[stage_start..];
    let skipped = rest.len() - rest.trim_start().len();
    let a = stage_start + skipped;
    let (_, e) = word_at(text, a, true);
    (e > a).then(|| (text[a..e].to_ascii_lowercase(), a, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_skip_strings_comments_and_concat() {
        let t = "* | where a = 'x|y' -- c|d\n| extend b = a || 'z' ; $d | limit 1";
        let s = scan(t);
        assert_eq!(s.pipes.len(), 3);
        assert_eq!(s.semis.len(), 1);
        let extend = t.find("extend").unwrap();
        assert_eq!(s.stage_start(extend + 2).0, t.find("| extend").unwrap() + 1);
        assert!(s.literal_at(t.find("x|y").unwrap() + 1).is_some());
        assert_eq!(
            s.stage_start(t.find("$d").unwrap()),
            (t.find(';').unwrap() + 1, true)
        );
    }
}

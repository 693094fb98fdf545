//! Documents as the server holds them, and LSP positions (line, UTF-16 code unit) converted to
//! and from byte offsets. Lines end at `\n`, `\r\n` or `\r`; a position past the end of its line
//! is the line's end, and one inside a character is that character's start.
use lsp_types::{Position, Range};

/// The byte offset of a position in `text`.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut line = 0u32;
    let mut start = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    while line < pos.line {
        if i >= bytes.len() {
            return text.len();
        }
        match bytes[i] {
            b'\n' => {
                line += 1;
                start = i + 1;
            }
            b'\r' => {
                line += 1;
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let mut units = 0u32;
    for (o, c) in text[start..].char_indices() {
        if c == '\n' || c == '\r' {
            return start + o;
        }
        let next = units + c.len_utf16() as u32;
        if next > pos.character {
            return start + o;
        }
        units = next;
    }
    text.len()
}

/// The position of a byte offset (clamped to the text, moved back to a character boundary).
pub fn position(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let mut line = 0u32;
    let mut line_start = 0usize;
    let bytes = before.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => {
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    // A `\r` right before `offset` whose `\n` follows ends the line too.
    let character = before[line_start..]
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| c.len_utf16() as u32)
        .sum();
    Position { line, character }
}

/// The range of a byte span.
pub fn range(text: &str, start: usize, end: usize) -> Range {
    Range {
        start: position(text, start),
        end: position(text, end.max(start)),
    }
}

/// Applies one change of `textDocument/didChange`: a range edit, or the whole text.
pub fn apply(text: &mut String, range: Option<Range>, new_text: &str) {
    match range {
        None => *text = new_text.to_string(),
        Some(r) => {
            let a = offset(text, r.start);
            let b = offset(text, r.end).max(a);
            text.replace_range(a..b, new_text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn utf16_columns_round_trip() {
        let t = "* | where a = 'é😀x'\r\n| project b\rc";
        let x = t.find('x').unwrap();
        // é is one UTF-16 unit, 😀 two.
        assert_eq!(position(t, x), p(0, 18));
        assert_eq!(offset(t, p(0, 18)), x);
        // Inside the surrogate pair: the emoji's start.
        assert_eq!(offset(t, p(0, 17)), t.find('😀').unwrap());
        assert_eq!(offset(t, p(1, 2)), t.find("project").unwrap());
        assert_eq!(position(t, t.len()), p(2, 1));
        // Past the end of a line or of the text.
        assert_eq!(offset(t, p(0, 999)), t.find('\r').unwrap());
        assert_eq!(offset(t, p(99, 0)), t.len());
    }

    #[test]
    fn range_edits_apply() {
        let mut t = String::from("* | where é = 1");
        apply(&mut t, Some(Range::new(p(0, 10), p(0, 11))), "b");
        assert_eq!(t, "* | where b = 1");
        apply(&mut t, None, "*");
        assert_eq!(t, "*");
    }
}

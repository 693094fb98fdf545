//! A lexical pre-pass run before the grammar: finds unterminated strings, quoted names and block
//! comments (so they are reported where they start, not where the input ends) and bounds the
//! nesting depth of brackets, so that deeply nested input gets a diagnostic instead of exhausting
//! the stack.
use crate::ast::Span;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The deepest `(`/`[` nesting accepted.
pub const MAX_NESTING: usize = 128;

/// Checks the lexical structure; returns the first problem found.
pub fn check(src: &str) -> Result<(), Diagnostic> {
    let bytes = src.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' => {
                let quote = bytes[i];
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(unterminated(quote, start, src)),
                        Some(&b) if b == quote => {
                            if bytes.get(i + 1) == Some(&quote) {
                                i += 2;
                            } else {
                                i += 1;
                                break;
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => match src[i + 2..].find("*/") {
                Some(end) => i = i + 2 + end + 2,
                None => {
                    return Err(Diagnostic::error(
                        codes::UNTERMINATED_COMMENT,
                        "unterminated block comment",
                        Span::new(i, i + 2),
                        "this comment is never closed",
                    )
                    .with_help("close the comment with `*/`"))
                }
            },
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(Diagnostic::error(
                        codes::TOO_DEEP,
                        format!("expression nested more than {MAX_NESTING} levels deep"),
                        Span::new(i, i + 1),
                        "too deep here",
                    ));
                }
                i += 1;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn unterminated(quote: u8, start: usize, src: &str) -> Diagnostic {
    // Point at the opening quote and the rest of its line.
    let line_end = src[start..].find('\n').map(|e| start + e).unwrap_or(src.len());
    if quote == b'\'' {
        Diagnostic::error(
            codes::UNTERMINATED_STRING,
            "unterminated string literal",
            Span::new(start, line_end.max(start + 1)),
            "this string is never closed",
        )
        .with_help("close the string with `'`; write a quote inside a string as `''`")
    } else {
        Diagnostic::error(
            codes::UNTERMINATED_NAME,
            "unterminated quoted field name",
            Span::new(start, line_end.max(start + 1)),
            "this name is never closed",
        )
        .with_help("close the field name with `\"`; write a double quote inside it as `\"\"`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unterminated_things() {
        assert_eq!(check("* | where a = 'x").unwrap_err().code, codes::UNTERMINATED_STRING);
        assert_eq!(check("* | project \"a").unwrap_err().code, codes::UNTERMINATED_NAME);
        assert_eq!(check("* /* x").unwrap_err().code, codes::UNTERMINATED_COMMENT);
        assert!(check("* | where a = 'it''s' -- 'open").is_ok());
        assert!(check("* | where a = '/*' and b = \"--\"").is_ok());
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("* | where {}1{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(check(&deep).unwrap_err().code, codes::TOO_DEEP);
        let ok = format!("* | where {}1{}", "(".repeat(50), ")".repeat(50));
        assert!(check(&ok).is_ok());
    }
}

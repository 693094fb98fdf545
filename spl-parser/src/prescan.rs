//! A lexical pre-pass run before the grammar: finds unterminated strings, quoted names and block
//! comments (so they are reported where they start, not where the input ends) and bounds the
//! nesting depth of brackets, so that deeply nested input gets a diagnostic instead of exhausting
//! the stack.
use crate::ast::Span;
use crate::codes;
use crate::diagnostic::Diagnostic;

/// The deepest `(`/`[` nesting accepted.
pub const MAX_NESTING: usize = 64;

/// Checks the lexical structure; returns the first problem found.
pub fn check(src: &str) -> Result<(), Diagnostic> {
    let bytes = src.as_bytes();
    let mut i = 0;
    // Nesting = open brackets + open CASE + pending unary operators (all recurse in the parser).
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    let mut stack: Vec<usize> = Vec::new();
    let mut case_stack: Vec<usize> = Vec::new();
    let mut prev_operand = false;
    let mut prev_word = String::new();
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
                                prev_operand = true;
                                prefix_run = 0;
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
                // Pending unary operators stay open until the bracket closes.
                let add = 1 + prefix_run;
                depth += add;
                stack.push(add);
                prefix_run = 0;
                check_depth(depth, i)?;
                prev_operand = false;
                i += 1;
            }
            b')' | b']' => {
                depth = depth.saturating_sub(stack.pop().unwrap_or(1));
                prefix_run = 0;
                prev_operand = true;
                i += 1;
            }
            b'-' | b'+' | b'!' if !prev_operand => {
                // A unary sign: each one nests the operand one level deeper.
                if bytes[i] != b'!' {
                    prefix_run += 1;
                    check_depth(depth + prefix_run, i)?;
                }
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                let word = src[start..i].to_ascii_lowercase();
                match word.as_str() {
                    "case" => {
                        let add = 1 + prefix_run;
                        depth += add;
                        case_stack.push(add);
                        prefix_run = 0;
                        check_depth(depth, start)?;
                        prev_operand = false;
                    }
                    "end" => {
                        depth = depth.saturating_sub(case_stack.pop().unwrap_or(1));
                        prefix_run = 0;
                        prev_operand = true;
                    }
                    "not" if !prev_operand || prev_word == "is" => {
                        prefix_run += 1;
                        check_depth(depth + prefix_run, start)?;
                    }
                    "and" | "or" | "when" | "then" | "else" | "where" | "like" | "in"
                    | "between" | "is" | "escape" | "by" | "not" => prev_operand = false,
                    _ => {
                        prefix_run = 0;
                        prev_operand = true;
                    }
                }
                prev_word = word;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            _ => {
                // Other punctuation (operators, `,`, `=`, `|`) ends an operand.
                prev_operand = false;
                i += 1;
            }
        }
    }
    Ok(())
}

fn check_depth(depth: usize, at: usize) -> Result<(), Diagnostic> {
    if depth > MAX_NESTING {
        return Err(Diagnostic::error(
            codes::TOO_DEEP,
            format!("expression nested more than {MAX_NESTING} levels deep"),
            Span::new(at, at + 1),
            "too deep here",
        )
        .with_help("split the expression over several `extend` stages"));
    }
    Ok(())
}

fn unterminated(quote: u8, start: usize, src: &str) -> Diagnostic {
    // Point at the opening quote and the rest of its line.
    let line_end = src[start..]
        .find('\n')
        .map(|e| start + e)
        .unwrap_or(src.len());
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
        assert_eq!(
            check("* | where a = 'x").unwrap_err().code,
            codes::UNTERMINATED_STRING
        );
        assert_eq!(
            check("* | project \"a").unwrap_err().code,
            codes::UNTERMINATED_NAME
        );
        assert_eq!(
            check("* /* x").unwrap_err().code,
            codes::UNTERMINATED_COMMENT
        );
        assert!(check("* | where a = 'it''s' -- 'open").is_ok());
        assert!(check("* | where a = '/*' and b = \"--\"").is_ok());
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("* | where {}1{}", "(".repeat(500), ")".repeat(500));
        assert_eq!(check(&deep).unwrap_err().code, codes::TOO_DEEP);
        let ok = format!("* | where {}1{}", "(".repeat(40), ")".repeat(40));
        assert!(check(&ok).is_ok());
        let cases = format!(
            "* | extend a = {}1{}",
            "case when x then ".repeat(200),
            " end".repeat(200)
        );
        assert_eq!(check(&cases).unwrap_err().code, codes::TOO_DEEP);
        let negs = format!("* | extend a = {}1", "- ".repeat(300));
        assert_eq!(check(&negs).unwrap_err().code, codes::TOO_DEEP);
        let nots = format!("* | where {}a", "not ".repeat(300));
        assert_eq!(check(&nots).unwrap_err().code, codes::TOO_DEEP);
        // Long flat chains are not nesting.
        let flat = format!("* | where a{}", " - 1 and not b like 'x'".repeat(500));
        assert!(check(&flat).is_ok());
    }
}

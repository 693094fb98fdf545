//! RE2 → Rust `regex` translation: SPL patterns have RE2 meaning (the reference engine's
//! syntax); this rewrites the few constructs the `regex` crate reads differently. A base module:
//! used by `parse-regexp`, the regexp functions and the sequence matcher.
/// Rewrites the places where RE2 (the reference engine's syntax) and the `regex` crate read the
/// same text differently, so that a pattern means what it means in RE2:
/// - inside a class, `[` (other than `[:name:]`), `&`, `~` and a `-` right after `-` are literal
///   in RE2 but nesting and set operators for `regex`: they are escaped;
/// - a `{` that does not start a repetition `{n}`, `{n,}`, `{n,m}` is literal in RE2, an error for
///   `regex`: it is escaped (a `}` outside a repetition too);
/// - `\d`, `\w`, `\s`, their negations and `\b`, `\B` are ASCII-only, as in RE2;
/// - `\Q…\E` quotes literal text; `\C` (any byte) becomes any character.
pub fn re2_to_rust(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains(['[', '{', '}', '\\']) {
        return std::borrow::Cow::Borrowed(pattern);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => i = escape(&chars, i, &mut out, false),
            '[' => i = class(&chars, i, &mut out),
            '{' => match repetition_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end + 1;
                }
                None => {
                    out.push_str("\\{");
                    i += 1;
                }
            },
            '}' => {
                out.push_str("\\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Copies the escape starting at `chars[i] == '\\'`; returns the index after it.
fn escape(chars: &[char], i: usize, out: &mut String, in_class: bool) -> usize {
    let Some(&next) = chars.get(i + 1) else {
        // A trailing `\` is an error in RE2 too: left for the regex compiler to report.
        out.push('\\');
        return i + 1;
    };
    match next {
        'Q' if !in_class => {
            let mut j = i + 2;
            let mut literal = String::new();
            while j < chars.len() && !(chars[j] == '\\' && chars.get(j + 1) == Some(&'E')) {
                literal.push(chars[j]);
                j += 1;
            }
            out.push_str(&regex::escape(&literal));
            (j + 2).min(chars.len())
        }
        'C' if !in_class => {
            out.push_str("(?s:.)");
            i + 2
        }
        // Perl classes and word boundaries are ASCII in RE2, Unicode in `regex`.
        'd' | 'w' | 's' if in_class => {
            out.push_str(perl_class(next));
            i + 2
        }
        'd' | 'w' | 's' | 'D' | 'W' | 'S' => {
            let negated = next.is_ascii_uppercase();
            out.push_str(if negated { "[^" } else { "[" });
            out.push_str(perl_class(next.to_ascii_lowercase()));
            out.push(']');
            i + 2
        }
        'b' | 'B' if !in_class => {
            out.push_str(if next == 'b' {
                r"(?-u:\b)"
            } else {
                r"(?-u:\B)"
            });
            i + 2
        }
        'x' | 'p' | 'P' if chars.get(i + 2) == Some(&'{') => {
            // `\x{4e00}`, `\p{Han}`: copy through the closing brace.
            let end = chars[i + 2..]
                .iter()
                .position(|&c| c == '}')
                .map_or(chars.len(), |p| i + 2 + p + 1);
            out.extend(&chars[i..end]);
            end
        }
        _ => {
            out.push('\\');
            out.push(next);
            i + 2
        }
    }
}

/// The members of an RE2 Perl class (`\d`, `\w`, `\s`) for use inside brackets.
fn perl_class(c: char) -> &'static str {
    match c {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        _ => r"\t\n\x0C\r ",
    }
}

/// Copies the class starting at `chars[i] == '['`; returns the index after its `]`.
fn class(chars: &[char], mut i: usize, out: &mut String) -> usize {
    out.push('[');
    i += 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `]` first in the class is literal.
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    let mut prev_dash = false;
    while i < chars.len() {
        let c = chars[i];
        let dash = c == '-';
        match c {
            ']' => {
                out.push(']');
                return i + 1;
            }
            '\\' => {
                i = escape(chars, i, out, true);
                prev_dash = false;
                continue;
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]`: copy through `:]` when it closes, else the `[` is literal.
                let close = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']');
                match close {
                    Some(j) => {
                        out.extend(&chars[i..j + 2]);
                        i = j + 2;
                        prev_dash = false;
                        continue;
                    }
                    None => out.push_str("\\["),
                }
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '-' if prev_dash => out.push_str("\\-"),
            _ => out.push(c),
        }
        prev_dash = dash && !prev_dash;
        i += 1;
    }
    // Unclosed class: leave the error to the regex compiler.
    i
}

/// When `chars[i] == '{'` starts a repetition `{n}`, `{n,}` or `{n,m}`, the index of its `}`.
fn repetition_end(chars: &[char], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let digits = |j: &mut usize| {
        let start = *j;
        while chars.get(*j).is_some_and(|c| c.is_ascii_digit()) {
            *j += 1;
        }
        *j > start
    };
    if !digits(&mut j) {
        return None;
    }
    if chars.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    (chars.get(j) == Some(&'}')).then_some(j)
}

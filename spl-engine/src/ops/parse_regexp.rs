//! `parse-regexp [-flags='i'] field, 'pattern' [as a, b, ...]`: extracts capture groups of the
//! first match (unanchored search) into VARCHAR fields. Groups map to the `as` names by position
//! (extra groups are ignored); without `as`, named groups `(?P<name>…)` name the outputs. A row
//! whose field is absent, not VARCHAR or does not match is left unchanged; a group that does not
//! take part leaves its output as it was (spec §18.7). Time fields are never written.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{codes, Diagnostic, Ident, Instruction, Span, StrLit};

use super::{varchar_source, BatchError, FixedFields, Operator, StageOutput};
use crate::batch::is_time_field;
use crate::expr::Session;
use crate::regex_seq::{Found, SeqMatcher};

#[derive(Debug)]
pub struct ParseRegexp {
    field: String,
    regex: Regex,
    /// The same pattern as a one-pass sequence matcher, when it is one.
    sequence: Option<SeqMatcher>,
    /// (output name, group index)
    outputs: Vec<(String, usize)>,
    /// A literal every match contains (set by the optimizer): rows without it skip the regex.
    prefilter: Option<memchr::memmem::Finder<'static>>,
}

impl ParseRegexp {
    /// Compiles the pattern (with `-flags`) and resolves the outputs.
    pub fn new(
        instr: &Instruction,
        field: &Ident,
        pattern: &StrLit,
        names: &[Ident],
    ) -> Result<ParseRegexp, Box<Diagnostic>> {
        let flags = instr.text("flags").unwrap_or("");
        if let Some(bad) = flags.chars().find(|c| !"imsUx".contains(*c)) {
            let span = instr.option("flags").map(|o| o.span).unwrap_or(instr.span);
            return Err(Box::new(
                Diagnostic::error(codes::BAD_OPTION_VALUE, format!("unknown regex flag `{bad}`"), span, "in -flags")
                    .with_help("flags are i (case-insensitive), m (multi-line), s (dot matches newline), U (ungreedy), x (verbose)"),
            ));
        }
        let source = if flags.is_empty() {
            pattern.value.clone()
        } else {
            format!("(?{flags}){}", pattern.value)
        };
        let regex = compile_regex(&source, pattern.span)?;
        let groups = regex.captures_len() - 1;
        let outputs: Vec<(String, usize)> = if names.is_empty() {
            let named: Vec<(String, usize)> = regex
                .capture_names()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (n.to_string(), i)))
                .collect();
            if named.is_empty() {
                return Err(Box::new(
                    Diagnostic::error(codes::BAD_ARGUMENTS, "no output names: add `as name, ...` or use named groups", pattern.span, "no named groups")
                        .with_help("write `parse-regexp field, '(\\S+) (\\S+)' as a, b` or `'(?P<a>\\S+) (?P<b>\\S+)'`"),
                ));
            }
            named
        } else {
            if names.len() > groups {
                return Err(Box::new(Diagnostic::error(
                    codes::BAD_ARGUMENTS,
                    format!(
                        "{} output names but the pattern has {groups} capture group{}",
                        names.len(),
                        if groups == 1 { "" } else { "s" }
                    ),
                    names[groups].span,
                    "no group for this name",
                )));
            }
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.name.clone(), i + 1))
                .collect()
        };
        Ok(ParseRegexp {
            field: field.name.clone(),
            sequence: SeqMatcher::new(&re2_to_rust(&source))
                .filter(|m| m.groups() == regex.captures_len()),
            regex,
            outputs: outputs
                .into_iter()
                .filter(|(n, _)| !is_time_field(n))
                .collect(),
            prefilter: None,
        })
    }

    /// Does not write the outputs in `unused` (the optimizer found nothing reads them).
    pub fn without_outputs(mut self, unused: &[String]) -> ParseRegexp {
        self.outputs.retain(|(name, _)| !unused.contains(name));
        self
    }

    /// Skips the regex on rows that do not contain `literal`; only correct when every match
    /// of the pattern contains it (the optimizer's prefilter rule checks that).
    pub fn with_prefilter(mut self, literal: &[u8]) -> ParseRegexp {
        self.prefilter = Some(memchr::memmem::Finder::new(literal).into_owned());
        self
    }
}

/// Compiles an RE2-syntax pattern; errors point at `at` (the pattern or its option).
pub(crate) fn compile_regex(source: &str, at: Span) -> Result<Regex, Box<Diagnostic>> {
    Regex::new(&re2_to_rust(source)).map_err(|e| {
        Box::new(
            Diagnostic::error(
                codes::INVALID_REGEX,
                "invalid regular expression",
                at,
                "does not compile",
            )
            .with_note(
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            ),
        )
    })
}

/// Rewrites the places where RE2 (the reference engine's syntax) and the `regex` crate read the
/// same text differently, so that a pattern means what it means in RE2:
/// - inside a class, `[` (other than `[:name:]`), `&`, `~` and a `-` right after `-` are literal
///   in RE2 but nesting and set operators for `regex`: they are escaped;
/// - a `{` that does not start a repetition `{n}`, `{n,}`, `{n,m}` is literal in RE2, an error for
///   `regex`: it is escaped (a `}` outside a repetition too);
/// - `\d`, `\w`, `\s`, their negations and `\b`, `\B` are ASCII-only, as in RE2;
/// - `\Q…\E` quotes literal text; `\C` (any byte) becomes any character.
pub(crate) fn re2_to_rust(pattern: &str) -> std::borrow::Cow<'_, str> {
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

impl Operator for ParseRegexp {
    fn name(&self) -> &'static str {
        "parse-regexp"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut out = FixedFields::new(
            &batch,
            self.outputs.iter().map(|(n, _)| n.clone()).collect(),
        )
        .views_into(&text);
        let mut locs = self.regex.capture_locations();
        let mut slots = vec![None; self.regex.captures_len()];
        for row in 0..batch.num_rows() {
            let matched = !text.is_null(row)
                && self
                    .prefilter
                    .as_ref()
                    .is_none_or(|f| f.find(text.value(row).as_bytes()).is_some())
                && match self
                    .sequence
                    .as_ref()
                    .map(|m| m.captures(text.value(row), &mut slots))
                {
                    Some(Found::Match) => true,
                    Some(Found::NoMatch) => false,
                    Some(Found::Undecided) | None => {
                        let found = self
                            .regex
                            .captures_read(&mut locs, text.value(row))
                            .is_some();
                        // An undecided search was given to `regex`: its groups fill `slots`.
                        if self.sequence.is_some() {
                            for (g, slot) in slots.iter_mut().enumerate() {
                                *slot = locs.get(g);
                            }
                        }
                        found
                    }
                };
            for (k, (_, group)) in self.outputs.iter().enumerate() {
                let span = match &self.sequence {
                    Some(_) => slots.get(*group).copied().flatten(),
                    None => locs.get(*group),
                };
                match span.filter(|_| matched) {
                    // Captured text is a view into the source value, not a copy.
                    Some((s, e)) => out.push_slice(k, row, s, e),
                    None => out.push(k, row, None),
                }
            }
        }
        Ok(StageOutput::one(out.apply(batch)?))
    }
}

#[cfg(test)]
mod tests {
    use super::re2_to_rust;
    use regex::Regex;

    fn finds(pattern: &str, text: &str) -> Option<String> {
        let re = Regex::new(&re2_to_rust(pattern)).expect("compiles");
        re.find(text).map(|m| m.as_str().to_string())
    }

    #[test]
    fn re2_literal_brackets_and_braces() {
        // `[` inside a class and a `{` that is no repetition are literal in RE2.
        assert_eq!(finds(r"\[([^[\]]+)\]", "x [a[b] y").as_deref(), Some("[b]"));
        assert_eq!(finds(r"[[]+", "a[[b").as_deref(), Some("[["));
        assert_eq!(finds(r"({[a]+)", "x{aa}").as_deref(), Some("{aa"));
        assert_eq!(finds(r"a{,2}", "a{,2}").as_deref(), Some("a{,2}"));
        assert_eq!(finds(r"x{", "x{").as_deref(), Some("x{"));
        assert_eq!(finds(r"}", "a}").as_deref(), Some("}"));
        // Real repetitions stay repetitions.
        assert_eq!(finds(r"a{2}", "aaa").as_deref(), Some("aa"));
        assert_eq!(finds(r"a{1,}", "aaa").as_deref(), Some("aaa"));
        assert_eq!(finds(r"a{1,2}", "aaa").as_deref(), Some("aa"));
        // `]` first in a class is literal; POSIX classes work.
        assert_eq!(finds(r"[]a]+", "x]a]").as_deref(), Some("]a]"));
        assert_eq!(finds(r"[^]]+", "ab]").as_deref(), Some("ab"));
        assert_eq!(finds(r"[[:digit:]]+", "ab12").as_deref(), Some("12"));
        // Set operators of the regex crate are plain characters in RE2.
        assert_eq!(finds(r"[a&&b]+", "x&ab").as_deref(), Some("&ab"));
        assert_eq!(finds(r"[a~~]+", "~a~").as_deref(), Some("~a~"));
        assert_eq!(finds(r"[!--]+", "a!-,b").as_deref(), Some("!-,"));
        // Escapes with braces and quoting.
        assert_eq!(
            finds(r"[\x{4e00}-\x{9fa5}]+", "ab卫小明").as_deref(),
            Some("卫小明")
        );
        assert_eq!(finds(r"\p{Han}+", "ab卫").as_deref(), Some("卫"));
        assert_eq!(finds(r"\Qa.b\E+", "axb a.bb").as_deref(), Some("a.bb"));
        assert_eq!(finds(r"\Q(x", "((x").as_deref(), Some("(x"));
        assert_eq!(finds(r"a\Cb", "a-b").as_deref(), Some("a-b"));
        assert_eq!(finds(r"\{\}", "{}").as_deref(), Some("{}"));
    }

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        assert_eq!(finds(r"\w+", "héllo").as_deref(), Some("h"));
        assert_eq!(finds(r"\W+", "héllo").as_deref(), Some("é"));
        assert_eq!(finds(r"\d+", "٣12").as_deref(), Some("12"));
        assert_eq!(finds(r"\D+", "٣12").as_deref(), Some("٣"));
        assert_eq!(finds(r"a\sb", "a\tb").as_deref(), Some("a\tb"));
        assert_eq!(finds(r"a\sb", "a\u{a0}b"), None);
        assert_eq!(finds(r"a\Sb", "a\u{a0}b").as_deref(), Some("a\u{a0}b"));
        assert_eq!(finds(r"[\w.]+", "x.y é").as_deref(), Some("x.y"));
        assert_eq!(finds(r"[^\s]+", "ab cd").as_deref(), Some("ab"));
        assert_eq!(finds(r"[\W\d]+", "ab-3c").as_deref(), Some("-3"));
        assert_eq!(finds(r"\bis\b", "this is").as_deref(), Some("is"));
        assert_eq!(finds(r"\Bis", "this").as_deref(), Some("is"));
    }

    #[test]
    fn plain_patterns_are_not_copied() {
        assert!(matches!(
            re2_to_rust(r"(\S+) (\w+)"),
            std::borrow::Cow::Owned(_)
        ));
        assert!(matches!(
            re2_to_rust("(a+) (b)"),
            std::borrow::Cow::Borrowed(_)
        ));
        // A trailing backslash stays an error.
        assert!(Regex::new(&re2_to_rust(r"ab\")).is_err());
    }
}

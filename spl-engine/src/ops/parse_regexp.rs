//! `parse-regexp [-flags='i'] field, 'pattern' [as a, b, ...]`: extracts capture groups of the
//! first match (unanchored search) into VARCHAR fields. Groups map to the `as` names by position
//! (extra groups are ignored); without `as`, named groups `(?P<name>…)` name the outputs. A row
//! whose field is absent, not VARCHAR or does not match is left unchanged; a group that does not
//! take part leaves its output as it was (spec §18.7). Time fields are never written.
use arrow::array::{Array, StringViewArray};
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{codes, Diagnostic, Ident, Instruction, Span, StrLit};

use super::{varchar_source, BatchError, FixedFields, Operator, StageOutput};
use crate::batch::is_time_field;
use crate::expr::Session;
use crate::re2::re2_to_rust;
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

/// Most bytes one compiled pattern may take (the regex crate's NFA); past it, compilation stops
/// at once with a diagnostic instead of building a huge program (`(a{1000}){1000}`).
pub(crate) const MAX_REGEX_PROGRAM: usize = 10 << 20;
/// Most bytes of the lazy DFA cache one pattern may use while matching (per thread).
pub(crate) const MAX_REGEX_DFA: usize = 2 << 20;

/// Compiles an RE2-syntax pattern within [`MAX_REGEX_PROGRAM`]; errors point at `at` (the
/// pattern or its option).
pub(crate) fn compile_regex(source: &str, at: Span) -> Result<Regex, Box<Diagnostic>> {
    regex::RegexBuilder::new(&re2_to_rust(source))
        .size_limit(MAX_REGEX_PROGRAM)
        .dfa_size_limit(MAX_REGEX_DFA)
        .build()
        .map_err(|e| {
            let d = match e {
                regex::Error::CompiledTooBig(limit) => Diagnostic::error(
                    codes::INVALID_REGEX,
                    format!("regular expression too large: it compiles to more than {limit} bytes"),
                    at,
                    "too large once compiled",
                )
                .with_help(
                    "counted repetitions multiply: `(a{1000}){1000}` is a million states; \
                     use a smaller count or `+`/`*`",
                ),
                e => Diagnostic::error(
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
            };
            Box::new(d)
        })
}

impl Operator for ParseRegexp {
    fn name(&self) -> &'static str {
        "parse-regexp"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let all: Vec<usize> = (0..self.outputs.len()).collect();
        let (out, _) = self.extract_some(&batch, &text, &all, &[])?;
        Ok(StageOutput::one(out))
    }
}

/// Where one output's value lies in its row's source value (byte range), or `None` when the
/// row keeps the output's old value (no match, or the group took no part).
pub(crate) type GroupSpan = Option<(u32, u32)>;

impl ParseRegexp {
    /// The field the pattern runs on.
    pub(crate) fn field(&self) -> &str {
        &self.field
    }

    /// The output names, in the order they are written.
    pub(crate) fn output_names(&self) -> impl Iterator<Item = &str> {
        self.outputs.iter().map(|(n, _)| n.as_str())
    }

    /// Matches every row of `text` (the batch's source column) once: writes the outputs at
    /// positions `now` (indices into [`ParseRegexp::output_names`]) into the batch, and returns
    /// the spans of the outputs at positions `later`, `later.len()` per row, row after row, for
    /// [`ParseRegexp::write_spans`].
    pub(crate) fn extract_some(
        &self,
        batch: &RecordBatch,
        text: &StringViewArray,
        now: &[usize],
        later: &[usize],
    ) -> Result<(RecordBatch, Vec<GroupSpan>), BatchError> {
        let mut out = FixedFields::new(
            batch,
            now.iter().map(|&o| self.outputs[o].0.clone()).collect(),
        )
        .views_into(text);
        let mut spans = Vec::with_capacity(if later.is_empty() {
            0
        } else {
            later.len() * batch.num_rows()
        });
        let mut locs = self.regex.capture_locations();
        let mut slots = vec![None; self.regex.captures_len()];
        for row in 0..batch.num_rows() {
            let matched = self.find(text, row, &mut slots, &mut locs)?;
            let span = |o: usize| {
                let group = self.outputs[o].1;
                match &self.sequence {
                    Some(_) => slots.get(group).copied().flatten(),
                    None => locs.get(group),
                }
                .filter(|_| matched)
            };
            for (k, &o) in now.iter().enumerate() {
                match span(o) {
                    // Captured text is a view into the source value, not a copy.
                    Some((s, e)) => out.push_slice(k, row, s, e),
                    None => out.push(k, row, None),
                }
            }
            for &o in later {
                // Offsets within one value fit: a view's length is a u32.
                spans.push(span(o).map(|(s, e)| (s as u32, e as u32)));
            }
        }
        Ok((out.apply(batch.clone())?, spans))
    }

    /// Writes the outputs at positions `which` into `batch`, whose row `i` is row `rows[i]`
    /// of the source column `text`, from `spans` as [`ParseRegexp::extract_some`] returned
    /// them for `which` (indexed by source row).
    pub(crate) fn write_spans(
        &self,
        batch: RecordBatch,
        text: &StringViewArray,
        which: &[usize],
        spans: &[GroupSpan],
        rows: &[u32],
    ) -> Result<RecordBatch, BatchError> {
        let mut out = FixedFields::new(
            &batch,
            which.iter().map(|&o| self.outputs[o].0.clone()).collect(),
        )
        .views_into(text);
        for (i, &source_row) in rows.iter().enumerate() {
            let at = source_row as usize * which.len();
            for (k, span) in spans[at..at + which.len()].iter().enumerate() {
                match span {
                    Some((s, e)) => {
                        out.push_slice(k, source_row as usize, *s as usize, *e as usize)
                    }
                    None => out.push(k, i, None),
                }
            }
        }
        out.apply(batch)
    }

    /// Finds the first match in `row`'s value: true when there is one, its groups then in
    /// `slots` (or in `locs` when there is no sequence matcher). Counts the row against the
    /// budget.
    #[inline(always)]
    fn find(
        &self,
        text: &StringViewArray,
        row: usize,
        slots: &mut [Option<(usize, usize)>],
        locs: &mut regex::CaptureLocations,
    ) -> Result<bool, BatchError> {
        if text.is_null(row) {
            super::tick_row(0)?;
            return Ok(false);
        }
        let value = text.value(row);
        super::tick_row(value.len())?;
        if self
            .prefilter
            .as_ref()
            .is_some_and(|f| f.find(value.as_bytes()).is_none())
        {
            return Ok(false);
        }
        Ok(
            match self.sequence.as_ref().map(|m| m.captures(value, slots)) {
                Some(Found::Match) => true,
                Some(Found::NoMatch) => false,
                Some(Found::Undecided) | None => {
                    let found = self.regex.captures_read(locs, value).is_some();
                    // An undecided search was given to `regex`: its groups fill `slots`.
                    if self.sequence.is_some() {
                        for (g, slot) in slots.iter_mut().enumerate() {
                            *slot = locs.get(g);
                        }
                    }
                    found
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::re2::re2_to_rust;
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

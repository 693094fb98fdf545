//! SLS regular-expression functions (spec §7.2, §6.5, §18.8) on the `regex` crate (RE2 syntax,
//! linear time, Unicode code points). Matching is search (unanchored) semantics.
//!
//! Patterns are compiled once per distinct pattern text: a per-call [`LastUsed`] (hit on every
//! row when the pattern is a literal) in front of a process-wide [`BoundedCache`] of
//! [`MAX_CACHED_PATTERNS`] patterns, so a literal pattern is not recompiled for every batch. An invalid pattern is an error carrying the regex
//! crate's message.
//!
//! `regexp_replace` replacement strings (spec §18.8):
//! - `\N`, `$N` and `${N}` insert capture group N (`0` is the whole match); `${name}` a named
//!   group. Group numbers are read greedily, digit by digit, while they name an existing group
//!   (as Java/Presto `$N`), so with two groups `\10` is group 1 followed by `0`. A reference to
//!   a group the pattern does not have is an error; a group that did not participate inserts
//!   nothing.
//! - `\\` inserts `\`, `\$` inserts `$`, and `$$` inserts `$`.
//! - Any other `\` or `$` is kept literally.
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, BooleanBuilder, Int64Builder, StringViewBuilder};
use datafusion_common::{exec_err, Result};
use regex::{Regex, RegexBuilder};

use super::common::{
    ex, int_col, ret_bigint, ret_boolean, ret_varchar, ret_varchar_list, spend, str_col, too_large,
    varchar_list_builder, Arg, SplUdf, MAX_RESULT_BYTES,
};
use super::{Example, Family, FunctionDef};
use crate::cache::{BoundedCache, LastUsed};

/// Compiled-program size limit for one pattern (the regex crate's default).
const MAX_COMPILED_BYTES: usize = 10 * 1024 * 1024;
/// Lazy-DFA cache limit for one pattern while it matches (the regex crate's default, explicit).
const MAX_DFA_BYTES: usize = 2 * 1024 * 1024;
/// Number of compiled patterns kept process-wide; when full, the oldest is dropped.
const MAX_CACHED_PATTERNS: usize = 256;

fn global_cache() -> &'static BoundedCache<String, Regex> {
    static CACHE: OnceLock<BoundedCache<String, Regex>> = OnceLock::new();
    CACHE.get_or_init(|| BoundedCache::new(MAX_CACHED_PATTERNS))
}

/// Compiles `pattern` with RE2 meaning (the reference engine's syntax), reusing a process-wide
/// cache.
fn compile(fname: &str, pattern: &str) -> Result<Regex> {
    global_cache().get_or_try_insert_key(pattern, || {
        match RegexBuilder::new(&crate::re2::re2_to_rust(pattern))
            .size_limit(MAX_COMPILED_BYTES)
            .dfa_size_limit(MAX_DFA_BYTES)
            .build()
        {
            Ok(re) => Ok(re),
            Err(e) => exec_err!("{fname}: invalid regular expression '{pattern}': {e}"),
        }
    })
}

/// Checks that `pattern` compiles the way the regexp functions compile it (used to report a
/// literal pattern at compile time, `E1004`). The error is the regex crate's message.
pub fn check_pattern(pattern: &str) -> std::result::Result<(), String> {
    RegexBuilder::new(&crate::re2::re2_to_rust(pattern))
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_DFA_BYTES)
        .build()
        .map(|_| ())
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => format!(
                "too large: it compiles to more than {limit} bytes (counted repetitions multiply)"
            ),
            e => e.to_string(),
        })
}

/// Per-call front of the process-wide cache: remembers the last pattern, so a literal pattern
/// costs one comparison per row.
#[derive(Default)]
struct Patterns {
    last: LastUsed<String, Regex>,
}

impl Patterns {
    fn get(&mut self, fname: &str, pattern: &str) -> Result<&Regex> {
        self.last.get_or_try_insert(pattern, |p| compile(fname, p))
    }
}

/// Checks a group index against the pattern's groups.
fn check_group(fname: &str, re: &Regex, group: i64) -> Result<usize> {
    let groups = re.captures_len() - 1;
    match usize::try_from(group) {
        Ok(g) if g <= groups => Ok(g),
        _ => exec_err!("{fname}: pattern has {groups} groups, cannot access group {group}"),
    }
}

fn eval_regexp_extract(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_extract";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let g = arrays.get(2).map(|a| int_col(F, a)).transpose()?;
    let mut cache = Patterns::default();
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let group = match &g {
            None => Some(0),
            Some(c) => c.get(i),
        };
        let (Some(s), Some(p), Some(group)) = (s.get(i), p.get(i), group) else {
            out.append_null();
            continue;
        };
        let re = cache.get(F, p)?;
        let group = check_group(F, re, group)?;
        let value = if group == 0 {
            re.find(s).map(|m| m.as_str())
        } else {
            re.captures(s)
                .and_then(|c| c.get(group))
                .map(|m| m.as_str())
        };
        out.append_option(value);
    }
    Ok(Arc::new(out.finish()))
}

fn eval_regexp_extract_all(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_extract_all";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let g = arrays.get(2).map(|a| int_col(F, a)).transpose()?;
    let mut cache = Patterns::default();
    let mut out = varchar_list_builder(rows);
    for i in 0..rows {
        let group = match &g {
            None => Some(0),
            Some(c) => c.get(i),
        };
        let (Some(s), Some(p), Some(group)) = (s.get(i), p.get(i), group) else {
            out.append(false);
            continue;
        };
        let re = cache.get(F, p)?;
        let group = check_group(F, re, group)?;
        if group == 0 {
            for m in re.find_iter(s) {
                spend(1, 16 + m.len())?;
                out.values().append_value(m.as_str());
            }
        } else {
            for c in re.captures_iter(s) {
                let m = c.get(group).map(|m| m.as_str());
                spend(1, 16 + m.map_or(0, str::len))?;
                out.values().append_option(m);
            }
        }
        out.append(true);
    }
    Ok(Arc::new(out.finish()))
}

fn eval_regexp_like(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_like";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let mut cache = Patterns::default();
    let mut out = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        match (s.get(i), p.get(i)) {
            (Some(s), Some(p)) => out.append_value(cache.get(F, p)?.is_match(s)),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_regexp_count(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_count";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let mut cache = Patterns::default();
    let mut out = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        match (s.get(i), p.get(i)) {
            (Some(s), Some(p)) => out.append_value(cache.get(F, p)?.find_iter(s).count() as i64),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_regexp_split(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_split";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let mut cache = Patterns::default();
    let mut out = varchar_list_builder(rows);
    for i in 0..rows {
        match (s.get(i), p.get(i)) {
            (Some(s), Some(p)) => {
                for part in cache.get(F, p)?.split(s) {
                    spend(1, 16 + part.len())?;
                    out.values().append_value(part);
                }
                out.append(true);
            }
            _ => out.append(false),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// One piece of a parsed `regexp_replace` replacement.
#[derive(Debug, PartialEq, Eq)]
enum Piece<'a> {
    Literal(&'a str),
    Group(usize),
}

/// Reads a group number starting at the digit `bytes[0]`: greedily, while the number still
/// names a group of the pattern. Returns the group and the digits consumed.
fn group_number(fname: &str, bytes: &[u8], groups: usize) -> Result<(usize, usize)> {
    let mut n = usize::from(bytes[0] - b'0');
    if n > groups {
        return exec_err!(
            "{fname}: replacement refers to group {n} but the pattern has {groups} groups"
        );
    }
    let mut used = 1;
    while let Some(d) = bytes.get(used).filter(|b| b.is_ascii_digit()) {
        let next = n * 10 + usize::from(d - b'0');
        if next > groups {
            break;
        }
        n = next;
        used += 1;
    }
    Ok((n, used))
}

/// Parses a replacement string (syntax in the module docs) for `re`.
fn parse_replacement<'r>(fname: &str, rep: &'r str, re: &Regex) -> Result<Vec<Piece<'r>>> {
    let groups = re.captures_len() - 1;
    let bytes = rep.as_bytes();
    let mut pieces = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let (piece, consumed) = match (bytes[i], bytes.get(i + 1)) {
            (b'\\' | b'$', Some(d)) if d.is_ascii_digit() => {
                let (n, used) = group_number(fname, &bytes[i + 1..], groups)?;
                (Piece::Group(n), 1 + used)
            }
            (b'\\', Some(b'\\')) => (Piece::Literal("\\"), 2),
            (b'\\' | b'$', Some(b'$')) => (Piece::Literal("$"), 2),
            (b'$', Some(b'{')) => match rep[i + 2..].find('}') {
                Some(len) => {
                    let name = &rep[i + 2..i + 2 + len];
                    let n = if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
                        match name.parse::<usize>() {
                            Ok(n) if n <= groups => n,
                            _ => {
                                return exec_err!(
                                    "{fname}: replacement refers to group {name} but the pattern has {groups} groups"
                                )
                            }
                        }
                    } else {
                        match re.capture_names().position(|c| c == Some(name)) {
                            Some(n) => n,
                            None => {
                                return exec_err!(
                                    "{fname}: replacement refers to group '{name}' which the pattern does not have"
                                )
                            }
                        }
                    };
                    (Piece::Group(n), len + 3)
                }
                None => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        if lit_start < i {
            pieces.push(Piece::Literal(&rep[lit_start..i]));
        }
        pieces.push(piece);
        i += consumed;
        lit_start = i;
    }
    if lit_start < bytes.len() {
        pieces.push(Piece::Literal(&rep[lit_start..]));
    }
    Ok(pieces)
}

/// Replaces every match of `re` in `s` by the expanded replacement.
fn replace_all(fname: &str, s: &str, re: &Regex, pieces: &[Piece<'_>]) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s) {
        let m = caps.get(0).expect("group 0 always participates");
        out.push_str(&s[last..m.start()]);
        for piece in pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Group(g) => {
                    if let Some(g) = caps.get(*g) {
                        out.push_str(g.as_str());
                    }
                }
            }
        }
        last = m.end();
        if out.len() > MAX_RESULT_BYTES {
            return too_large(fname);
        }
    }
    out.push_str(&s[last..]);
    if out.len() > MAX_RESULT_BYTES {
        return too_large(fname);
    }
    Ok(out)
}

fn eval_regexp_replace(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "regexp_replace";
    let s = str_col(F, &arrays[0])?;
    let p = str_col(F, &arrays[1])?;
    let r = arrays.get(2).map(|a| str_col(F, a)).transpose()?;
    let mut cache = Patterns::default();
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let rep = match &r {
            None => Some(""),
            Some(c) => c.get(i),
        };
        let (Some(s), Some(p), Some(rep)) = (s.get(i), p.get(i), rep) else {
            out.append_null();
            continue;
        };
        let re = cache.get(F, p)?;
        let pieces = parse_replacement(F, rep, re)?;
        let v = replace_all(F, s, re, &pieces)?;
        spend(1 + s.len() / 256, v.len())?;
        out.append_value(v);
    }
    Ok(Arc::new(out.finish()))
}

fn def(
    udf: SplUdf,
    name: &'static str,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
) -> FunctionDef {
    udf.into_def(Family::Regexp, name, signature, summary, examples)
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    use Arg::{Int, Str};
    vec![
        def(
            SplUdf::new("regexp_count", &[Str, Str], 2, ret_bigint, eval_regexp_count),
            "regexp_count",
            "regexp_count(s VARCHAR, pattern VARCHAR) -> BIGINT",
            "The number of non-overlapping matches of pattern in s. NULL if an argument is NULL. Extension (Trino): not in the SLS SPL function list.",
            &[ex!(r"regexp_count('1a 2b 14m', '\d+')", Some("3"))],
        ),
        def(
            SplUdf::new("regexp_extract", &[Str, Str, Int], 2, ret_varchar, eval_regexp_extract),
            "regexp_extract",
            "regexp_extract(s VARCHAR, pattern VARCHAR[, group BIGINT]) -> VARCHAR",
            "The first match of pattern in s, or its capture group number group. NULL if there is no match, the group did not participate, or an argument is NULL; an error if the pattern has no such group.",
            &[
                ex!(r"regexp_extract('this is word 555', '\d+')", Some("555")),
                ex!(r"regexp_extract('a1b22', '([a-z])(\d+)', 2)", Some("1")),
                ex!(r"regexp_extract('abc', '\d+')", None),
            ],
        ),
        def(
            SplUdf::new(
                "regexp_extract_all",
                &[Str, Str, Int],
                2,
                ret_varchar_list,
                eval_regexp_extract_all,
            ),
            "regexp_extract_all",
            "regexp_extract_all(s VARCHAR, pattern VARCHAR[, group BIGINT]) -> ARRAY(VARCHAR)",
            "Every match of pattern in s (or its capture group number group; NULL elements where the group did not participate). NULL if an argument is NULL; an error if the pattern has no such group.",
            &[
                ex!(r"regexp_extract_all('1a 2b 14m', '\d+')", Some(r#"["1","2","14"]"#)),
                ex!(r"regexp_extract_all('1a 2b 14m', '(\d+)([a-z])', 2)", Some(r#"["a","b","m"]"#)),
            ],
        ),
        def(
            SplUdf::new("regexp_like", &[Str, Str], 2, ret_boolean, eval_regexp_like),
            "regexp_like",
            "regexp_like(s VARCHAR, pattern VARCHAR) -> BOOLEAN",
            "Whether pattern matches somewhere in s (use ^ and $ to anchor). NULL if an argument is NULL.",
            &[
                ex!(r"regexp_like('this is word 555', '\d+')", Some("true")),
                ex!("regexp_like('abc', '^b')", Some("false")),
            ],
        ),
        def(
            SplUdf::new("regexp_replace", &[Str, Str, Str], 2, ret_varchar, eval_regexp_replace),
            "regexp_replace",
            "regexp_replace(s VARCHAR, pattern VARCHAR[, replacement VARCHAR]) -> VARCHAR",
            r"Replaces every match of pattern in s with replacement, where \N, $N and ${N} insert capture group N (${name} a named group, \\ and $$ a literal \ or $); without replacement, removes the matches. NULL if an argument is NULL.",
            &[
                ex!(r"regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2')", Some("3ca3cb14m")),
                ex!(r"regexp_replace('13812345678', '(\d{3})\d{4}(\d{4})', '\1****\2')", Some("138****5678")),
                ex!(r"regexp_replace('this is word 555', '\d+')", Some("this is word ")),
            ],
        ),
        def(
            SplUdf::new("regexp_split", &[Str, Str], 2, ret_varchar_list, eval_regexp_split),
            "regexp_split",
            "regexp_split(s VARCHAR, pattern VARCHAR) -> ARRAY(VARCHAR)",
            "Splits s at every match of pattern (keeping empty parts). NULL if an argument is NULL.",
            &[ex!(r"regexp_split('1a 2b 14m', '\s*[a-z]+\s*')", Some(r#"["1","2","14",""]"#))],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::string::tests::{
        call, col, err, int, list_of, lists, lit, null_of, one_i64, one_str, strs,
    };
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::DataType;
    use datafusion_expr::ColumnarValue;

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    fn replace(input: &str, pattern: &str, rep: &str) -> Option<String> {
        one_str("regexp_replace", vec![lit(input), lit(pattern), lit(rep)])
    }

    /// The regexp_replace cases of doc-cases.jsonl, with the outputs their notes establish.
    #[test]
    fn doc_cases_regexp_replace() {
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "regexp_replace-1",
                r#"receivePhoneNo":\s*"([\+86]*1[3-9]{1}\d{1})\d{4}(\d{4,11})"#,
                r#"receivePhoneNo":"\1****\2"#,
                r#"{"data":{"receivePhoneNo":"13812345678"}}"#,
                r#"{"data":{"receivePhoneNo":"138****5678"}}"#,
            ),
            (
                "regexp_replace-3",
                r#"receivePhoneNo":\s*"(0[2-9])(\d{5,6})(\d{2})\""#,
                r#"receivePhoneNo":"\1******\3""#,
                r#"{"data":{"receivePhoneNo":"020928198"}}"#,
                r#"{"data":{"receivePhoneNo":"02******98"}}"#,
            ),
            (
                // The doc's '***9780' is a typo: the replacement writes four stars.
                "regexp_replace-4",
                r"([1-9]{1})(\d{11}|\d{13}|\d{14})(\d{4})",
                r"****\3",
                "bank number is 491648411333978312 and credit card number is 4916484113339780",
                "bank number is ****978312 and credit card number is ****9780",
            ),
            (
                "regexp_replace-6",
                r#"":\s*"([A-Za-z0-9._%+-]{1,2})(@\w+\.)(com|net|org)\""#,
                r#"":"\1**\2\3""#,
                r#"{"data":{"email":"tt@1111.com","icon":"ee@2.png"}}"#,
                r#"{"data":{"email":"tt**@1111.com","icon":"ee@2.png"}}"#,
            ),
            (
                "regexp_replace-7",
                r#"email":\s*"([A-Za-z0-9._%+-]{3})([A-Za-z0-9._%+-]*)(@)(\w+\.\w+)""#,
                r#"email":"\1**\3\4""#,
                r#"{"data":{"email":"ttewew@1111.com","icon":"esdse@2.png"}}"#,
                r#"{"data":{"email":"tte**@1111.com","icon":"esdse@2.png"}}"#,
            ),
            (
                "regexp_replace-9",
                r"(\w+\s+\w+\s+)\d{1,3}.\d{1,3}.\d{1,3}.\d{1,3}",
                r"\1****",
                "ip is 192.168.1.1",
                "ip is ****",
            ),
            (
                // The doc's '110105****' is inconsistent with the replacement: group 1 is 4 digits.
                "regexp_replace-10",
                r"([\d]{4})[\d]{11}([\d]{2}[\d|Xx])",
                r"\1****",
                "Id card is 11010519491231002X",
                "Id card is 1101****",
            ),
            (
                "regexp_replace-12",
                r#"cardNumber":\s*"([G|E|H|M|P|B|D])\d{6}(\d{3})\""#,
                r#"cardNumber":"\1****\2""#,
                r#"{"data":{"cardNumber":"410106171821090234","cardNumber":"E138123451","receivePhoneNo":"13812345678"}}"#,
                r#"{"data":{"cardNumber":"410106171821090234","cardNumber":"E****451","receivePhoneNo":"13812345678"}}"#,
            ),
            (
                "regexp_replace-13",
                r#"cardNumber":\s*"([\d]{4})([\d]{4})\""#,
                r#"cardNumber":"****\2""#,
                r#"{"data":{"cardNumber":"18210902","cardNumber":"E138123451","receivePhoneNo":"13812345678"}}"#,
                r#"{"data":{"cardNumber":"****0902","cardNumber":"E138123451","receivePhoneNo":"13812345678"}}"#,
            ),
            (
                // Leftmost-first (RE2/Perl) semantics: the optional greedy group 1 takes the
                // longest prefix ending in 区 that leaves a later 区 for group 3. The doc's
                // '上海市徐汇区**' does not follow from the pattern.
                "regexp_replace-15",
                r#"address":\s*"(.*(省|市|自治区|特别行政区|地区|县|区|市辖区))?(.*(区))(.*)\""#,
                r#"address":"\1\3**""#,
                r#"{"data":{"address":"上海市徐汇区漕河泾开发区文景路90号"}}"#,
                r#"{"data":{"address":"上海市徐汇区漕河泾开发区**"}}"#,
            ),
            (
                "regexp_replace-16",
                r#"name":\s*"([\x{4e00}-\x{9fa5}])([\x{4e00}-\x{9fa5}])([\x{4e00}-\x{9fa5}])\""#,
                r#"name":"\1*\3""#,
                r#"{"data":{"name":"卫小明"}}"#,
                r#"{"data":{"name":"卫*明"}}"#,
            ),
            (
                // The pattern leaves the closing quote, the replacement adds one: `""`.
                "regexp_replace-18",
                r#"name":\s*"([a-zA-Z])[a-zA-Z]+\s+([a-zA-Z])[a-zA-Z]+"#,
                r#"name":"\1**** \2****""#,
                r#"{"data":{"name":"Sam Alice"}}"#,
                r#"{"data":{"name":"S**** A****""}}"#,
            ),
        ];
        for (id, pattern, rep, input, want) in cases {
            assert_eq!(replace(input, pattern, rep).as_deref(), Some(*want), "{id}");
        }
    }

    #[test]
    fn regexp_replace_two_args_removes() {
        let out = call(
            "regexp_replace",
            vec![
                col(&[Some("this is word 555"), None, Some("no digits")]),
                lit(r"(\d+)"),
            ],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("this is word "), None, s("no digits")]);
        assert_eq!(
            one_str(
                "regexp_replace",
                vec![lit("a"), lit("a"), null_of(&DataType::Utf8View)]
            ),
            None
        );
    }

    #[test]
    fn regexp_replace_backreference_syntax() {
        // The loongcollector corpus case with `$2`.
        assert_eq!(
            replace("1a 2b 14m", r"(\d+)([ab]) ", "3c$2"),
            s("3ca3cb14m")
        );
        assert_eq!(replace("ab", "(a)(b)", r"\2\1"), s("ba"));
        assert_eq!(replace("ab", "(a)(b)", "$2$1"), s("ba"));
        assert_eq!(replace("ab", "(a)(b)", "${2}${1}"), s("ba"));
        assert_eq!(replace("ab", "(?P<x>a)(?P<y>b)", "${y}${x}"), s("ba"));
        assert_eq!(replace("ab", "(a)(b)", r"[\0|$0]"), s("[ab|ab]"));
        // Greedy group numbers, limited to existing groups: `\10` is group 1 then `0`.
        assert_eq!(replace("ab", "(a)(b)", r"\10$21"), s("a0b1"));
        assert_eq!(
            replace(
                "abcdefghijk",
                "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)",
                "$11-$10-$1"
            ),
            s("k-j-a")
        );
        // Escapes.
        assert_eq!(replace("a", "a", r"\\1"), s(r"\1"));
        assert_eq!(replace("a", "a", r"\$1"), s("$1"));
        assert_eq!(replace("a", "a", "$$1"), s("$1"));
        assert_eq!(replace("a", "a", r"x\y$z$\"), s(r"x\y$z$\"));
        assert_eq!(replace("a", "a", "${"), s("${"));
        // A group that did not participate inserts nothing.
        assert_eq!(replace("b", "(a)?b", "[$1]"), s("[]"));
        // References to missing groups are errors.
        let e = err("regexp_replace", vec![lit("ab"), lit("(a)(b)"), lit(r"\3")]);
        assert!(
            e.contains("refers to group 3 but the pattern has 2 groups"),
            "{e}"
        );
        let e = err("regexp_replace", vec![lit("ab"), lit("ab"), lit("$1")]);
        assert!(e.contains("has 0 groups"), "{e}");
        let e = err("regexp_replace", vec![lit("ab"), lit("(a)"), lit("${12}")]);
        assert!(e.contains("refers to group 12"), "{e}");
        let e = err(
            "regexp_replace",
            vec![lit("ab"), lit("(a)"), lit("${nope}")],
        );
        assert!(e.contains("'nope'"), "{e}");
    }

    #[test]
    fn regexp_replace_empty_matches_and_cap() {
        assert_eq!(replace("abc", "x*", "-"), s("-a-b-c-"));
        assert_eq!(replace("", "^", "x"), s("x"));
        let big = "y".repeat(100_000);
        let e = err(
            "regexp_replace",
            vec![lit(&"a".repeat(1_000)), lit(""), lit(&big)],
        );
        assert!(e.contains("exceed"), "{e}");
    }

    #[test]
    fn patterns_per_row() {
        let out = call(
            "regexp_replace",
            vec![
                col(&[Some("a1"), Some("b2"), Some("c3"), Some("a1")]),
                col(&[Some(r"\d"), Some("[a-z]"), None, Some(r"\d")]),
                lit("#"),
            ],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("a#"), s("#2"), None, s("a#")]);
    }

    #[test]
    fn check_pattern_reports_bad_patterns() {
        assert!(check_pattern("(\\d+)-(?P<n>x)").is_ok());
        assert!(check_pattern("(").unwrap_err().contains("unclosed group"));
        assert!(check_pattern("a{2,1}").is_err());
    }

    #[test]
    fn invalid_pattern_is_an_error() {
        let e = err("regexp_like", vec![lit("a"), lit("(a")]);
        assert!(
            e.contains("regexp_like: invalid regular expression '(a'"),
            "{e}"
        );
        assert!(e.contains("unclosed group"), "{e}");
        // Look-around is not RE2.
        let e = err("regexp_extract", vec![lit("a"), lit("(?=a)")]);
        assert!(e.contains("invalid regular expression"), "{e}");
    }

    #[test]
    fn regexp_extract_groups() {
        let input = col(&[Some("this is word 555"), None, Some("no digits")]);
        assert_eq!(
            strs(&call("regexp_extract", vec![input.clone(), lit(r"(\d+)")]).unwrap()),
            vec![s("555"), None, None]
        );
        assert_eq!(
            strs(&call("regexp_extract", vec![input.clone(), lit(r"(\d+)"), int(1)]).unwrap()),
            vec![s("555"), None, None]
        );
        assert_eq!(
            one_str(
                "regexp_extract",
                vec![lit("a1b22"), lit(r"([a-z])(\d+)"), int(2)]
            ),
            s("1")
        );
        // Search semantics: the first match anywhere.
        assert_eq!(
            one_str("regexp_extract", vec![lit("xx ab"), lit("a.")]),
            s("ab")
        );
        // A group that did not participate gives NULL.
        assert_eq!(
            one_str("regexp_extract", vec![lit("b"), lit("(a)?b"), int(1)]),
            None
        );
        assert_eq!(
            one_str("regexp_extract", vec![lit("b"), lit("(a)?b"), int(0)]),
            s("b")
        );
        assert_eq!(
            one_str(
                "regexp_extract",
                vec![lit("a"), lit("a"), null_of(&DataType::Int64)]
            ),
            None
        );
        let e = err("regexp_extract", vec![lit("a"), lit("(a)"), int(2)]);
        assert!(
            e.contains("pattern has 1 groups, cannot access group 2"),
            "{e}"
        );
        let e = err("regexp_extract", vec![lit("a"), lit("(a)"), int(-1)]);
        assert!(e.contains("cannot access group -1"), "{e}");
    }

    #[test]
    fn regexp_extract_all_matches() {
        let input = col(&[Some("1a 2b 14m"), None, Some("none")]);
        assert_eq!(
            lists(&call("regexp_extract_all", vec![input.clone(), lit(r"\d+")]).unwrap()),
            vec![list_of(&["1", "2", "14"]), None, list_of(&[])]
        );
        assert_eq!(
            lists(
                &call(
                    "regexp_extract_all",
                    vec![input.clone(), lit(r"(\d+)([a-z])"), int(2)]
                )
                .unwrap()
            ),
            vec![list_of(&["a", "b", "m"]), None, list_of(&[])]
        );
        assert_eq!(
            lists(
                &call(
                    "regexp_extract_all",
                    vec![lit("this is word 555"), lit(r"(\d+)"), int(1)]
                )
                .unwrap()
            )[0],
            list_of(&["555"])
        );
        assert_eq!(
            lists(
                &call(
                    "regexp_extract_all",
                    vec![lit("ab b"), lit("(a)?b"), int(1)]
                )
                .unwrap()
            )[0],
            Some(vec![s("a"), None])
        );
        assert!(err("regexp_extract_all", vec![lit("a"), lit("a"), int(1)]).contains("group 1"));
    }

    #[test]
    fn regexp_like_searches() {
        let out = call(
            "regexp_like",
            vec![
                col(&[Some("this is word 555"), Some("abc"), None]),
                lit(r"(\d+)"),
            ],
        )
        .unwrap();
        let out = out.as_boolean();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(true), Some(false), None]
        );
        let anchored = call("regexp_like", vec![lit("abc"), lit("^b")]).unwrap();
        assert!(!anchored.as_boolean().value(0));
        let multi = call(
            "regexp_like",
            vec![lit("x\nLogException y"), lit(".*LogException.*")],
        )
        .unwrap();
        assert!(multi.as_boolean().value(0));
    }

    #[test]
    fn regexp_split_and_count() {
        assert_eq!(
            lists(&call("regexp_split", vec![lit("1a 2b 14m"), lit(r"\s*[a-z]+\s*")]).unwrap())[0],
            list_of(&["1", "2", "14", ""])
        );
        assert_eq!(
            lists(
                &call(
                    "regexp_split",
                    vec![col(&[Some("a,b;c"), None]), lit("[,;]")]
                )
                .unwrap()
            ),
            vec![list_of(&["a", "b", "c"]), None]
        );
        assert_eq!(
            one_i64("regexp_count", vec![lit("1a 2b 14m"), lit(r"\d+")]),
            Some(3)
        );
        assert_eq!(
            one_i64("regexp_count", vec![lit("abc"), lit(r"\d")]),
            Some(0)
        );
        let out = call(
            "regexp_count",
            vec![
                ColumnarValue::Array(std::sync::Arc::new(arrow::array::StringViewArray::from(
                    vec![None::<&str>],
                ))),
                lit("a"),
            ],
        )
        .unwrap();
        assert!(out.is_null(0));
    }

    #[test]
    fn literal_examples_hold() {
        let ran = crate::functions::string::tests::check_literal_examples(&functions());
        assert_eq!(ran, 12);
    }

    #[test]
    fn replacement_parser_pieces() {
        let re = Regex::new("(a)(b)").unwrap();
        assert_eq!(
            parse_replacement("t", r"x\1y$2${0}", &re).unwrap(),
            vec![
                Piece::Literal("x"),
                Piece::Group(1),
                Piece::Literal("y"),
                Piece::Group(2),
                Piece::Group(0)
            ]
        );
    }

    #[test]
    fn the_process_wide_pattern_cache_stays_bounded() {
        let patterns: Vec<String> = (0..MAX_CACHED_PATTERNS + 44)
            .map(|i| format!("^p{i}x$"))
            .collect();
        let subjects: Vec<String> = (0..patterns.len()).map(|i| format!("p{i}x")).collect();
        let out = call(
            "regexp_like",
            vec![
                col(&subjects
                    .iter()
                    .map(|s| Some(s.as_str()))
                    .collect::<Vec<_>>()),
                col(&patterns
                    .iter()
                    .map(|p| Some(p.as_str()))
                    .collect::<Vec<_>>()),
            ],
        )
        .unwrap();
        assert_eq!(out.len(), patterns.len());
        assert!(out.as_boolean().iter().all(|v| v == Some(true)));
        assert!(global_cache().len() <= MAX_CACHED_PATTERNS);
        let last = &patterns[patterns.len() - 1];
        assert!(global_cache().get(last.as_str()).is_some());
        // Compiling a cached pattern again returns the cached program.
        assert_eq!(
            compile("regexp_like", last).unwrap().as_str(),
            global_cache().get(last.as_str()).unwrap().as_str()
        );
        // An invalid pattern is an error and is not cached.
        assert!(compile("regexp_like", "(").is_err());
        assert!(global_cache().get("(").is_none());
    }
}

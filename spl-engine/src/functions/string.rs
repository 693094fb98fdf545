//! SLS string functions (spec §7.1), with Presto/Trino semantics: positions and indexes are
//! 1-based and count characters (Unicode code points), not bytes.
//!
//! Built on the argument-list UDF framework of [`super::common`] ([`SplUdf`]).
//!
//! Functions that can amplify their input (`lpad`, `rpad`, `repeat`, `replace`, and
//! `regexp_replace`) fail with an error rather than produce more than [`MAX_RESULT_BYTES`].
use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BinaryBuilder, BooleanBuilder, Int32Builder, Int64Builder, ListArray,
    StringViewBuilder,
};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};

use super::common::*;
use super::{Example, Family, FunctionDef};

/// Applies `f` to every row of a one-VARCHAR-argument function producing VARCHAR.
fn map_str<F>(fname: &str, arrays: &[ArrayRef], rows: usize, f: F) -> Result<ArrayRef>
where
    F: Fn(&str) -> Result<Cow<'_, str>>,
{
    let s = str_col(fname, &arrays[0])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match s.get(i) {
            Some(v) => out.append_value(f(v)?),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

// ---------------------------------------------------------------------------------------------
// Character helpers
// ---------------------------------------------------------------------------------------------

/// Byte offset of the character with 0-based index `n`; `s.len()` when `n` is the character
/// count; `None` beyond that.
fn char_byte_offset(s: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(0);
    }
    let mut count = 0;
    for (i, _) in s.char_indices() {
        if count == n {
            return Some(i);
        }
        count += 1;
    }
    (count == n).then_some(s.len())
}

/// The first `n` characters of `s` (all of `s` when shorter).
fn take_chars(s: &str, n: usize) -> &str {
    match char_byte_offset(s, n) {
        Some(b) => &s[..b],
        None => s,
    }
}

/// 1-based character position of byte offset `b` (a character boundary).
fn char_position(s: &str, b: usize) -> i64 {
    s[..b].chars().count() as i64 + 1
}

/// Whitespace as Java's `Character.isWhitespace`, which Presto's `trim` family uses: Unicode
/// space, line and paragraph separators except the no-break spaces, plus ASCII controls
/// `\t \n \x0B \x0C \r` and `\x1C`–`\x1F`.
fn is_java_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\u{0B}'
            | '\u{0C}'
            | '\r'
            | '\u{1C}'..='\u{1F}'
            | ' '
            | '\u{1680}'
            | '\u{2000}'..='\u{2006}'
            | '\u{2008}'..='\u{200A}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{205F}'
            | '\u{3000}'
    )
}

// ---------------------------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------------------------

fn eval_chr(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let n = int_col("chr", &arrays[0])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match n.get(i) {
            None => out.append_null(),
            Some(cp) => match u32::try_from(cp).ok().and_then(char::from_u32) {
                Some(c) => out.append_value(c.encode_utf8(&mut [0; 4])),
                None => return exec_err!("chr: not a valid Unicode code point: {cp}"),
            },
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_codepoint(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = str_col("codepoint", &arrays[0])?;
    let mut out = Int32Builder::with_capacity(rows);
    for i in 0..rows {
        match s.get(i) {
            None => out.append_null(),
            Some(v) => {
                let mut chars = v.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => out.append_value(c as i32),
                    _ => {
                        return exec_err!(
                            "codepoint: input string must be a single character string, got '{v}'"
                        )
                    }
                }
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_concat(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let cols = arrays
        .iter()
        .map(|a| str_col("concat", a))
        .collect::<Result<Vec<_>>>()?;
    let mut out = StringViewBuilder::with_capacity(rows);
    let mut buf = String::new();
    'rows: for i in 0..rows {
        buf.clear();
        for c in &cols {
            match c.get(i) {
                Some(v) => buf.push_str(v),
                None => {
                    out.append_null();
                    continue 'rows;
                }
            }
        }
        spend(1, buf.len())?;
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}

fn eval_concat_ws(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let sep = str_col("concat_ws", &arrays[0])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    let mut buf = String::new();
    if arrays.len() == 2 && matches!(arrays[1].data_type(), DataType::List(_)) {
        let list = arrays[1]
            .as_any()
            .downcast_ref::<ListArray>()
            .expect("List");
        for i in 0..rows {
            let Some(sep) = sep.get(i) else {
                out.append_null();
                continue;
            };
            if list.is_null(i) {
                out.append_null();
                continue;
            }
            let values = list.value(i);
            let items = str_col("concat_ws", &values)?;
            buf.clear();
            let mut first = true;
            for j in 0..values.len() {
                if let Some(v) = items.get(j) {
                    if !first {
                        buf.push_str(sep);
                    }
                    buf.push_str(v);
                    first = false;
                }
            }
            spend(values.len(), buf.len())?;
            out.append_value(&buf);
        }
        return Ok(Arc::new(out.finish()));
    }
    let cols = arrays[1..]
        .iter()
        .map(|a| str_col("concat_ws", a))
        .collect::<Result<Vec<_>>>()?;
    for i in 0..rows {
        let Some(sep) = sep.get(i) else {
            out.append_null();
            continue;
        };
        buf.clear();
        let mut first = true;
        for v in cols.iter().filter_map(|c| c.get(i)) {
            if !first {
                buf.push_str(sep);
            }
            buf.push_str(v);
            first = false;
        }
        spend(1, buf.len())?;
        out.append_value(&buf);
    }
    Ok(Arc::new(out.finish()))
}

/// Decodes UTF-8, replacing each invalid sequence with `replacement` (nothing when `None`).
fn fix_utf8(bytes: &[u8], replacement: Option<char>) -> String {
    let mut s = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        s.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            if let Some(r) = replacement {
                s.push(r);
            }
        }
    }
    s
}

fn eval_from_utf8(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "from_utf8";
    let b = bin_col(F, &arrays[0])?;
    // The replacement: a code point (BIGINT) or a string of at most one character.
    enum Rep<'a> {
        Default,
        Int(IntCol<'a>),
        Str(StrCol<'a>),
    }
    let rep = match arrays.get(1) {
        None => Rep::Default,
        Some(a) if a.data_type() == &DataType::Int64 => Rep::Int(int_col(F, a)?),
        Some(a) => Rep::Str(str_col(F, a)?),
    };
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let Some(bytes) = b.get(i) else {
            out.append_null();
            continue;
        };
        let replacement = match &rep {
            Rep::Default => Some(char::REPLACEMENT_CHARACTER),
            Rep::Int(c) => match c.get(i) {
                None => {
                    out.append_null();
                    continue;
                }
                Some(cp) => match u32::try_from(cp).ok().and_then(char::from_u32) {
                    Some(c) => Some(c),
                    None => return exec_err!("{F}: invalid replacement character: {cp}"),
                },
            },
            Rep::Str(c) => match c.get(i) {
                None => {
                    out.append_null();
                    continue;
                }
                Some(r) => {
                    let mut chars = r.chars();
                    match (chars.next(), chars.next()) {
                        (first, None) => first,
                        _ => {
                            return exec_err!(
                                "{F}: replacement must be empty or a single character, got '{r}'"
                            )
                        }
                    }
                }
            },
        };
        match std::str::from_utf8(bytes) {
            Ok(s) => out.append_value(s),
            Err(_) => out.append_value(fix_utf8(bytes, replacement)),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_length(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let mut out = Int64Builder::with_capacity(rows);
    if matches!(
        arrays[0].data_type(),
        DataType::Binary | DataType::LargeBinary
    ) {
        // Presto: the length of a VARBINARY is its number of bytes.
        let b = bin_col("length", &arrays[0])?;
        for i in 0..rows {
            out.append_option(b.get(i).map(|v| v.len() as i64));
        }
        return Ok(Arc::new(out.finish()));
    }
    let s = str_col("length", &arrays[0])?;
    for i in 0..rows {
        out.append_option(s.get(i).map(|v| v.chars().count() as i64));
    }
    Ok(Arc::new(out.finish()))
}

/// Per-character case mapping as Presto (Java's `Character.toLowerCase`/`toUpperCase`, which
/// never change the number of characters): where Unicode's full mapping expands a character,
/// lower case keeps the first character of the expansion (`İ` → `i`) and upper case keeps the
/// character unchanged (`ß` stays `ß`). No context rules (a final `Σ` becomes `σ`).
fn map_case(s: &str, upper: bool) -> String {
    if s.is_ascii() {
        return if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_ascii_lowercase()
        };
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if upper {
            let mut m = c.to_uppercase();
            match (m.next(), m.next()) {
                (Some(u), None) => out.push(u),
                _ => out.push(c),
            }
        } else {
            out.push(c.to_lowercase().next().unwrap_or(c));
        }
    }
    out
}

fn eval_lower(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    map_str("lower", arrays, rows, |s| {
        Ok(Cow::Owned(map_case(s, false)))
    })
}

fn eval_upper(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    map_str("upper", arrays, rows, |s| Ok(Cow::Owned(map_case(s, true))))
}

/// Presto `lpad`/`rpad`: pads `s` to `target` characters with `pad` repeated (cut at the end),
/// or truncates `s` to `target` characters.
fn pad<'a>(fname: &str, s: &'a str, target: i64, pad: &str, left: bool) -> Result<Cow<'a, str>> {
    if !(0..=i64::from(i32::MAX)).contains(&target) {
        return exec_err!(
            "{fname}: target length must be in the range [0..{}], got {target}",
            i32::MAX
        );
    }
    if pad.is_empty() {
        return exec_err!("{fname}: padding string must not be empty");
    }
    let target = target as usize;
    if target > MAX_RESULT_BYTES {
        return too_large(fname);
    }
    let len = s.chars().count();
    if len >= target {
        return Ok(Cow::Borrowed(take_chars(s, target)));
    }
    let need = target - len;
    let pad_chars = pad.chars().count();
    let fill_bytes = (need / pad_chars) * pad.len() + take_chars(pad, need % pad_chars).len();
    if fill_bytes + s.len() > MAX_RESULT_BYTES {
        return too_large(fname);
    }
    let mut out = String::with_capacity(fill_bytes + s.len());
    if !left {
        out.push_str(s);
    }
    for _ in 0..need / pad_chars {
        out.push_str(pad);
    }
    out.push_str(take_chars(pad, need % pad_chars));
    if left {
        out.push_str(s);
    }
    Ok(Cow::Owned(out))
}

fn eval_pad(fname: &str, arrays: &[ArrayRef], rows: usize, left: bool) -> Result<ArrayRef> {
    let s = str_col(fname, &arrays[0])?;
    let n = int_col(fname, &arrays[1])?;
    let p = str_col(fname, &arrays[2])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match (s.get(i), n.get(i), p.get(i)) {
            (Some(s), Some(n), Some(p)) => {
                let v = pad(fname, s, n, p, left)?;
                spend(1, v.len())?;
                out.append_value(v)
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_lpad(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_pad("lpad", arrays, rows, true)
}

fn eval_rpad(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_pad("rpad", arrays, rows, false)
}

/// Shared body of `ltrim`, `rtrim` and `trim`: whitespace, or the characters of the optional
/// second argument.
fn eval_trim(
    fname: &str,
    arrays: &[ArrayRef],
    rows: usize,
    start: bool,
    end: bool,
) -> Result<ArrayRef> {
    let s = str_col(fname, &arrays[0])?;
    let chars = arrays.get(1).map(|a| str_col(fname, a)).transpose()?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let Some(v) = s.get(i) else {
            out.append_null();
            continue;
        };
        let trimmed = match &chars {
            None => {
                let v = if start {
                    v.trim_start_matches(is_java_whitespace)
                } else {
                    v
                };
                if end {
                    v.trim_end_matches(is_java_whitespace)
                } else {
                    v
                }
            }
            Some(c) => {
                let Some(set) = c.get(i) else {
                    out.append_null();
                    continue;
                };
                let in_set = |ch: char| set.contains(ch);
                let v = if start {
                    v.trim_start_matches(in_set)
                } else {
                    v
                };
                if end {
                    v.trim_end_matches(in_set)
                } else {
                    v
                }
            }
        };
        out.append_value(trimmed);
    }
    Ok(Arc::new(out.finish()))
}

fn eval_ltrim(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_trim("ltrim", arrays, rows, true, false)
}

fn eval_rtrim(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_trim("rtrim", arrays, rows, false, true)
}

fn eval_trim_both(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_trim("trim", arrays, rows, true, true)
}

/// Literal replace-all as Presto: an empty `search` inserts `rep` before every character and
/// at the end.
fn replace_all(s: &str, search: &str, rep: &str) -> Result<String> {
    let count = if search.is_empty() {
        s.chars().count() + 1
    } else if rep.len() > search.len() {
        memchr::memmem::find_iter(s.as_bytes(), search.as_bytes()).count()
    } else {
        0
    };
    let grow = count.saturating_mul(rep.len());
    if s.len().saturating_add(grow) > MAX_RESULT_BYTES {
        return too_large("replace");
    }
    Ok(s.replace(search, rep))
}

fn eval_replace(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "replace";
    let s = str_col(F, &arrays[0])?;
    let search = str_col(F, &arrays[1])?;
    let rep = arrays.get(2).map(|a| str_col(F, a)).transpose()?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let r = match &rep {
            None => Some(""),
            Some(r) => r.get(i),
        };
        match (s.get(i), search.get(i), r) {
            (Some(s), Some(search), Some(r)) => {
                if !search.is_empty() && !s.contains(search) {
                    out.append_value(s);
                } else {
                    let v = replace_all(s, search, r)?;
                    spend(1, v.len())?;
                    out.append_value(v);
                }
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_reverse(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    if matches!(
        arrays[0].data_type(),
        DataType::Binary | DataType::LargeBinary
    ) {
        let b = bin_col("reverse", &arrays[0])?;
        let mut out = BinaryBuilder::with_capacity(rows, 0);
        for i in 0..rows {
            match b.get(i) {
                Some(v) => out.append_value(v.iter().rev().copied().collect::<Vec<u8>>()),
                None => out.append_null(),
            }
        }
        return Ok(Arc::new(out.finish()));
    }
    map_str("reverse", arrays, rows, |s| {
        Ok(Cow::Owned(s.chars().rev().collect()))
    })
}

/// Presto `split`: at most `limit` parts, the last holding the rest of the string; an empty
/// delimiter splits after every character (and leaves a final empty part).
fn split_parts<'a>(s: &'a str, delim: &str, limit: usize) -> Vec<&'a str> {
    if limit == 1 {
        return vec![s];
    }
    if delim.is_empty() {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if parts.len() + 1 == limit {
                break;
            }
            let (head, tail) = rest.split_at(c.len_utf8());
            parts.push(head);
            rest = tail;
        }
        parts.push(rest);
        return parts;
    }
    s.splitn(limit, delim).collect()
}

fn eval_split(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "split";
    let s = str_col(F, &arrays[0])?;
    let d = str_col(F, &arrays[1])?;
    let limit = arrays.get(2).map(|a| int_col(F, a)).transpose()?;
    let mut out = varchar_list_builder(rows);
    for i in 0..rows {
        let lim = match &limit {
            None => Some(usize::MAX),
            Some(l) => match l.get(i) {
                None => None,
                Some(l) if l <= 0 => return exec_err!("{F}: limit must be positive, got {l}"),
                Some(l) => Some(usize::try_from(l).unwrap_or(usize::MAX)),
            },
        };
        match (s.get(i), d.get(i), lim) {
            (Some(s), Some(d), Some(lim)) => {
                let parts = split_parts(s, d, lim);
                spend(parts.len(), s.len() + 16 * parts.len())?;
                for part in parts {
                    out.values().append_value(part);
                }
                out.append(true);
            }
            _ => out.append(false),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_split_part(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "split_part";
    let s = str_col(F, &arrays[0])?;
    let d = str_col(F, &arrays[1])?;
    let idx = int_col(F, &arrays[2])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match (s.get(i), d.get(i), idx.get(i)) {
            (Some(s), Some(d), Some(n)) => {
                if n <= 0 {
                    return exec_err!("{F}: index must be greater than zero, got {n}");
                }
                let n = usize::try_from(n - 1).unwrap_or(usize::MAX);
                let part = if d.is_empty() {
                    char_byte_offset(s, n)
                        .and_then(|b| s[b..].chars().next().map(|c| (b, c)))
                        .map(|(b, c)| &s[b..b + c.len_utf8()])
                } else {
                    s.split(d).nth(n)
                };
                out.append_option(part);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_split_to_map(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "split_to_map";
    let s = str_col(F, &arrays[0])?;
    let ed = str_col(F, &arrays[1])?;
    let kd = str_col(F, &arrays[2])?;
    let mut out = varchar_map_builder();
    let mut seen: Vec<&str> = Vec::new();
    for i in 0..rows {
        let (Some(s), Some(ed), Some(kd)) = (s.get(i), ed.get(i), kd.get(i)) else {
            out.append(false)?;
            continue;
        };
        if ed.is_empty() {
            return exec_err!("{F}: entry delimiter must not be empty");
        }
        if kd.is_empty() {
            return exec_err!("{F}: key-value delimiter must not be empty");
        }
        if ed == kd {
            return exec_err!("{F}: entry delimiter and key-value delimiter must not be the same");
        }
        seen.clear();
        // A trailing entry delimiter does not start another (empty) entry.
        let body = s.strip_suffix(ed).unwrap_or(s);
        if !s.is_empty() {
            for entry in body.split(ed) {
                let mut kv = entry.split(kd);
                let (Some(k), Some(v), None) = (kv.next(), kv.next(), kv.next()) else {
                    return exec_err!(
                        "{F}: key-value delimiter must appear exactly once in each entry, bad input: '{entry}'"
                    );
                };
                if seen.contains(&k) {
                    return exec_err!("{F}: duplicate keys ({k}) are not allowed");
                }
                seen.push(k);
                out.keys().append_value(k);
                out.values().append_value(v);
            }
        }
        out.append(true)?;
    }
    Ok(Arc::new(out.finish()))
}

/// 1-based position of the `instance`-th (overlapping) occurrence of `sub`, from the start;
/// 0 when absent. An empty `sub` is found at position 1.
fn position_from_start(s: &str, sub: &str, instance: u64) -> i64 {
    if sub.is_empty() {
        return 1;
    }
    let finder = memchr::memmem::Finder::new(sub.as_bytes());
    let bytes = s.as_bytes();
    let mut from = 0;
    let mut found = 0;
    while let Some(rel) = finder.find(&bytes[from..]) {
        let at = from + rel;
        found += 1;
        if found == instance {
            return char_position(s, at);
        }
        // Next candidate starts at the following character (occurrences may overlap).
        from = at + s[at..].chars().next().map_or(1, char::len_utf8);
    }
    0
}

/// 1-based position of the `instance`-th (overlapping) occurrence of `sub`, counted from the
/// end; 0 when absent. An empty `sub` is found at position 1.
fn position_from_end(s: &str, sub: &str, instance: u64) -> i64 {
    if sub.is_empty() {
        return 1;
    }
    let finder = memchr::memmem::FinderRev::new(sub.as_bytes());
    let bytes = s.as_bytes();
    // The next occurrence must start before the previous one: search the prefix that can hold it.
    let mut end = bytes.len();
    let mut found = 0;
    loop {
        let Some(at) = finder.rfind(&bytes[..end]) else {
            return 0;
        };
        found += 1;
        if found == instance {
            return char_position(s, at);
        }
        if at == 0 {
            return 0;
        }
        end = at - 1 + sub.len();
    }
}

fn eval_strpos_impl(
    fname: &'static str,
    arrays: &[ArrayRef],
    rows: usize,
    reverse: bool,
) -> Result<ArrayRef> {
    let s = str_col(fname, &arrays[0])?;
    let sub = str_col(fname, &arrays[1])?;
    let inst = arrays.get(2).map(|a| int_col(fname, a)).transpose()?;
    let mut out = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        let instance = match &inst {
            None => Some(1),
            Some(c) => c.get(i),
        };
        let (Some(s), Some(sub), Some(instance)) = (s.get(i), sub.get(i), instance) else {
            out.append_null();
            continue;
        };
        let pos = if reverse {
            if instance <= 0 {
                return exec_err!("{fname}: 'instance' must be a positive number, got {instance}");
            }
            position_from_end(s, sub, instance.unsigned_abs())
        } else if instance > 0 {
            position_from_start(s, sub, instance.unsigned_abs())
        } else if instance < 0 {
            position_from_end(s, sub, instance.unsigned_abs())
        } else {
            return exec_err!("{fname}: 'instance' must be a positive or negative number, got 0");
        };
        out.append_value(pos);
    }
    Ok(Arc::new(out.finish()))
}

fn eval_strpos(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_strpos_impl("strpos", arrays, rows, false)
}

fn eval_strrpos(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_strpos_impl("strrpos", arrays, rows, true)
}

/// `position(sub IN s)`, parsed as `position(sub, s)`: `strpos(s, sub)`.
fn eval_position(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let swapped = [Arc::clone(&arrays[1]), Arc::clone(&arrays[0])];
    eval_strpos_impl("position", &swapped, rows, false)
}

/// The Unicode normalization forms of `normalize`.
#[derive(Clone, Copy)]
enum NormalForm {
    Nfc,
    Nfd,
    Nfkc,
    Nfkd,
}

impl NormalForm {
    fn named(fname: &str, form: &str) -> Result<NormalForm> {
        Ok(match form.trim().to_ascii_uppercase().as_str() {
            "NFC" => NormalForm::Nfc,
            "NFD" => NormalForm::Nfd,
            "NFKC" => NormalForm::Nfkc,
            "NFKD" => NormalForm::Nfkd,
            _ => {
                return exec_err!(
                    "{fname}: normalization form must be NFC, NFD, NFKC or NFKD, got '{form}'"
                )
            }
        })
    }

    fn apply(self, s: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        match self {
            NormalForm::Nfc => s.nfc().collect(),
            NormalForm::Nfd => s.nfd().collect(),
            NormalForm::Nfkc => s.nfkc().collect(),
            NormalForm::Nfkd => s.nfkd().collect(),
        }
    }
}

fn eval_normalize(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = str_col("normalize", &arrays[0])?;
    let form = arrays.get(1).map(|a| str_col("normalize", a)).transpose()?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let f = match &form {
            None => Some(NormalForm::Nfc),
            Some(c) => c
                .get(i)
                .map(|f| NormalForm::named("normalize", f))
                .transpose()?,
        };
        match (s.get(i), f) {
            (Some(v), Some(f)) => {
                let n = f.apply(v);
                spend(1, n.len())?;
                out.append_value(n);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// Presto `substr`: 1-based `start` (negative counts from the end), optional length in
/// characters; out-of-range positions give the empty string.
fn substr(s: &str, start: i64, len: Option<i64>) -> &str {
    if start == 0 || s.is_empty() || len.is_some_and(|l| l <= 0) {
        return "";
    }
    let first = if start > 0 {
        usize::try_from(start - 1).unwrap_or(usize::MAX)
    } else {
        let count = s.chars().count() as i64;
        match usize::try_from(count + start) {
            Ok(p) => p,
            Err(_) => return "",
        }
    };
    let Some(b) = char_byte_offset(s, first) else {
        return "";
    };
    let rest = &s[b..];
    match len {
        None => rest,
        Some(l) => take_chars(rest, usize::try_from(l).unwrap_or(usize::MAX)),
    }
}

fn eval_substr(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "substr";
    let s = str_col(F, &arrays[0])?;
    let start = int_col(F, &arrays[1])?;
    let len = arrays.get(2).map(|a| int_col(F, a)).transpose()?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let l = match &len {
            None => Some(None),
            Some(c) => c.get(i).map(Some),
        };
        match (s.get(i), start.get(i), l) {
            (Some(s), Some(start), Some(l)) => out.append_value(substr(s, start, l)),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_to_utf8(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = str_col("to_utf8", &arrays[0])?;
    let mut out = BinaryBuilder::with_capacity(rows, 0);
    for i in 0..rows {
        out.append_option(s.get(i));
    }
    Ok(Arc::new(out.finish()))
}

fn eval_repeat(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "repeat";
    let s = str_col(F, &arrays[0])?;
    let n = int_col(F, &arrays[1])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match (s.get(i), n.get(i)) {
            (Some(s), Some(n)) => {
                if n < 0 {
                    return exec_err!("{F}: count must be greater than or equal to 0, got {n}");
                }
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if s.is_empty() || n == 0 {
                    out.append_value("");
                } else if s.len().checked_mul(n).is_none_or(|b| b > MAX_RESULT_BYTES) {
                    return too_large(F);
                } else {
                    spend(1, s.len() * n)?;
                    out.append_value(s.repeat(n));
                }
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_starts_with(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = str_col("starts_with", &arrays[0])?;
    let p = str_col("starts_with", &arrays[1])?;
    let mut out = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        out.append_option(match (s.get(i), p.get(i)) {
            (Some(s), Some(p)) => Some(s.starts_with(p)),
            _ => None,
        });
    }
    Ok(Arc::new(out.finish()))
}

/// Largest `len(a) * len(b)` table `levenshtein_distance` accepts (as Presto).
const MAX_LEVENSHTEIN_CELLS: usize = 1_000_000;

fn levenshtein(a: &str, b: &str) -> Result<i64> {
    let (mut long, mut short): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if long.len() < short.len() {
        std::mem::swap(&mut long, &mut short);
    }
    if short.is_empty() {
        return Ok(long.len() as i64);
    }
    if long.len().saturating_mul(short.len() - 1) > MAX_LEVENSHTEIN_CELLS {
        return exec_err!("levenshtein_distance: the combined inputs are too large");
    }
    // One row of the edit-distance table over `short`.
    let mut row: Vec<usize> = (0..=short.len()).collect();
    for (i, lc) in long.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, sc) in short.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if lc == sc {
                diag
            } else {
                1 + diag.min(up).min(row[j])
            };
            diag = up;
        }
    }
    Ok(row[short.len()] as i64)
}

fn eval_levenshtein(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let a = str_col("levenshtein_distance", &arrays[0])?;
    let b = str_col("levenshtein_distance", &arrays[1])?;
    let mut out = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        match (a.get(i), b.get(i)) {
            (Some(a), Some(b)) => out.append_value(levenshtein(a, b)?),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_hamming(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    const F: &str = "hamming_distance";
    let a = str_col(F, &arrays[0])?;
    let b = str_col(F, &arrays[1])?;
    let mut out = Int64Builder::with_capacity(rows);
    for i in 0..rows {
        match (a.get(i), b.get(i)) {
            (Some(a), Some(b)) => {
                let (mut x, mut y) = (a.chars(), b.chars());
                let mut d = 0i64;
                loop {
                    match (x.next(), y.next()) {
                        (Some(p), Some(q)) => d += i64::from(p != q),
                        (None, None) => break,
                        _ => return exec_err!("{F}: the input strings must have the same length"),
                    }
                }
                out.append_value(d);
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

fn def(
    udf: SplUdf,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
) -> FunctionDef {
    let name = udf.name;
    udf.into_def(Family::String, name, signature, summary, examples)
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    use Arg::*;
    let mut v = vec![
        def(
            SplUdf::new("chr", &[Int], 1, ret_varchar, eval_chr),
            "chr(n BIGINT) -> VARCHAR",
            "The one-character string of Unicode code point n. NULL if n is NULL; an error if n is not a valid code point.",
            &[ex!("chr(65)", Some("A")), ex!("chr(20013)", Some("中"))],
        ),
        def(
            SplUdf::new("codepoint", &[Str], 1, ret_integer, eval_codepoint),
            "codepoint(s VARCHAR) -> INTEGER",
            "The Unicode code point of the single character s. NULL if s is NULL; an error if s is not exactly one character.",
            &[ex!("codepoint('A')", Some("65")), ex!("codepoint('中')", Some("20013"))],
        ),
        def(
            SplUdf::new("concat", &[Str], 1, ret_varchar, eval_concat).variadic(Str),
            "concat(s1 VARCHAR, s2 VARCHAR, ...) -> VARCHAR",
            "Concatenates its arguments. NULL if any argument is NULL.",
            &[
                ex!("concat('hello', 'world', '111')", Some("helloworld111")),
                ex!("concat('a', NULL)", None),
            ],
        ),
        def(
            SplUdf::new("concat_ws", &[Str, StrOrStrList], 2, ret_varchar, eval_concat_ws)
                .variadic(Str),
            "concat_ws(sep VARCHAR, s1 VARCHAR, ...) -> VARCHAR; concat_ws(sep VARCHAR, a ARRAY(VARCHAR)) -> VARCHAR",
            "Joins the strings (or the array elements) with the separator sep, skipping NULL values. NULL if sep is NULL. Extension: not in the SLS SPL function list.",
            &[
                ex!("concat_ws('-', 'a', NULL, 'b')", Some("a-b")),
                ex!("concat_ws(',', ARRAY['x', 'y'])", Some("x,y")),
            ],
        ),
        def(
            SplUdf::new("from_utf8", &[Bin, StrOrInt], 1, ret_varchar, eval_from_utf8),
            "from_utf8(b VARBINARY) -> VARCHAR; from_utf8(b VARBINARY, replace VARCHAR|BIGINT) -> VARCHAR",
            "Decodes UTF-8 bytes; each invalid sequence becomes U+FFFD, or replace (one character, a code point, or '' to drop it). NULL if an argument is NULL.",
            &[
                ex!("from_utf8(to_utf8('hello'))", Some("hello")),
                ex!("from_utf8(from_hex('61FF62'), '?')", Some("a?b")),
            ],
        ),
        def(
            SplUdf::new("length", &[StrOrBin], 1, ret_bigint, eval_length),
            "length(s VARCHAR | VARBINARY) -> BIGINT",
            "The number of characters (code points) in s, or of bytes when s is VARBINARY. NULL if s is NULL.",
            &[
                ex!("length('hello')", Some("5")),
                ex!("length('中文')", Some("2")),
                ex!("length(to_utf8('中文'))", Some("6")),
            ],
        ),
        def(
            SplUdf::new("lower", &[Str], 1, ret_varchar, eval_lower),
            "lower(s VARCHAR) -> VARCHAR",
            "s in lower case. NULL if s is NULL.",
            &[ex!("lower('Hello World')", Some("hello world"))],
        ),
        def(
            SplUdf::new("upper", &[Str], 1, ret_varchar, eval_upper),
            "upper(s VARCHAR) -> VARCHAR",
            "s in upper case. NULL if s is NULL.",
            &[ex!("upper('Hello World')", Some("HELLO WORLD"))],
        ),
        def(
            SplUdf::new("lpad", &[Str, Int, Str], 3, ret_varchar, eval_lpad),
            "lpad(s VARCHAR, size BIGINT, pad VARCHAR) -> VARCHAR",
            "Pads s on the left with pad (repeated) to size characters, or truncates s to size characters. NULL if an argument is NULL; an error if pad is empty or size is negative or too large.",
            &[ex!("lpad('7', 3, '0')", Some("007")), ex!("lpad('hello', 3, 'x')", Some("hel"))],
        ),
        def(
            SplUdf::new("rpad", &[Str, Int, Str], 3, ret_varchar, eval_rpad),
            "rpad(s VARCHAR, size BIGINT, pad VARCHAR) -> VARCHAR",
            "Pads s on the right with pad (repeated) to size characters, or truncates s to size characters. NULL if an argument is NULL; an error if pad is empty or size is negative or too large.",
            &[ex!("rpad('ab', 5, 'xy')", Some("abxyx")), ex!("rpad('hello', 2, 'x')", Some("he"))],
        ),
        def(
            SplUdf::new("ltrim", &[Str, Str], 1, ret_varchar, eval_ltrim),
            "ltrim(s VARCHAR[, chars VARCHAR]) -> VARCHAR",
            "Removes leading whitespace (or leading characters found in chars) from s. NULL if an argument is NULL.",
            &[ex!("ltrim('  a b  ')", Some("a b  ")), ex!("ltrim('xxaxx', 'x')", Some("axx"))],
        ),
        def(
            SplUdf::new("rtrim", &[Str, Str], 1, ret_varchar, eval_rtrim),
            "rtrim(s VARCHAR[, chars VARCHAR]) -> VARCHAR",
            "Removes trailing whitespace (or trailing characters found in chars) from s. NULL if an argument is NULL.",
            &[ex!("rtrim('  a b  ')", Some("  a b")), ex!("rtrim('xxaxx', 'x')", Some("xxa"))],
        ),
        def(
            SplUdf::new("trim", &[Str, Str], 1, ret_varchar, eval_trim_both),
            "trim(s VARCHAR[, chars VARCHAR]) -> VARCHAR",
            "Removes leading and trailing whitespace (or characters found in chars) from s. NULL if an argument is NULL.",
            &[ex!("trim('  a b  ')", Some("a b")), ex!("trim('xxaxx', 'x')", Some("a"))],
        ),
        def(
            SplUdf::new("replace", &[Str, Str, Str], 2, ret_varchar, eval_replace),
            "replace(s VARCHAR, search VARCHAR[, rep VARCHAR]) -> VARCHAR",
            "Replaces every occurrence of the literal search in s with rep (removes them without rep). NULL if an argument is NULL.",
            &[
                ex!("replace('hello volex', 'hello', 'rep')", Some("rep volex")),
                ex!("replace('hello volex', 'hello')", Some(" volex")),
            ],
        ),
        def(
            SplUdf::new("reverse", &[StrOrBin], 1, ret_same_as_first, eval_reverse),
            "reverse(s VARCHAR) -> VARCHAR; reverse(b VARBINARY) -> VARBINARY",
            "s with its characters (or b with its bytes) in reverse order. NULL if the argument is NULL.",
            &[ex!("reverse('hello')", Some("olleh"))],
        ),
        def(
            SplUdf::new("split", &[Str, Str, Int], 2, ret_varchar_list, eval_split),
            "split(s VARCHAR, delim VARCHAR[, limit BIGINT]) -> ARRAY(VARCHAR)",
            "Splits s at each delim; with limit, returns at most limit parts, the last holding the rest of s. NULL if an argument is NULL; an error if limit is not positive.",
            &[
                ex!("split('a,b,c', ',')", Some(r#"["a","b","c"]"#)),
                ex!("split('a,b,c', ',', 2)", Some(r#"["a","b,c"]"#)),
            ],
        ),
        def(
            SplUdf::new("split_part", &[Str, Str, Int], 3, ret_varchar, eval_split_part),
            "split_part(s VARCHAR, delim VARCHAR, index BIGINT) -> VARCHAR",
            "The index-th (1-based) part of s split at delim. NULL if index is beyond the last part or an argument is NULL; an error if index is not positive.",
            &[
                ex!("split_part('a,b,c', ',', 2)", Some("b")),
                ex!("split_part('a,b,c', ',', 4)", None),
            ],
        ),
        def(
            SplUdf::new("split_to_map", &[Str, Str, Str], 3, ret_varchar_map, eval_split_to_map),
            "split_to_map(s VARCHAR, entry_delim VARCHAR, kv_delim VARCHAR) -> MAP(VARCHAR, VARCHAR)",
            "Splits s into entries at entry_delim and each entry into key and value at kv_delim. NULL if an argument is NULL; an error on a duplicate key or an entry without exactly one kv_delim.",
            &[ex!("split_to_map('a=1,b=2', ',', '=')", Some(r#"{"a":"1","b":"2"}"#))],
        ),
        def(
            SplUdf::new("strpos", &[Str, Str, Int], 2, ret_bigint, eval_strpos),
            "strpos(s VARCHAR, sub VARCHAR[, instance BIGINT]) -> BIGINT",
            "The 1-based character position of the instance-th occurrence of sub in s (counted from the end when instance is negative), 0 if absent. NULL if an argument is NULL.",
            &[
                ex!("strpos('hello,world,hello', 'hello')", Some("1")),
                ex!("strpos('hello,world,hello', 'hello', 2)", Some("13")),
                ex!("strpos('abc', 'x')", Some("0")),
            ],
        ),
        def(
            SplUdf::new("strrpos", &[Str, Str, Int], 2, ret_bigint, eval_strrpos),
            "strrpos(s VARCHAR, sub VARCHAR[, instance BIGINT]) -> BIGINT",
            "The 1-based character position of the last (or instance-th from the end) occurrence of sub in s, 0 if absent. NULL if an argument is NULL; an error if instance is not positive.",
            &[
                ex!("strrpos('hello,world,hello', 'hello')", Some("13")),
                ex!("strrpos('hello,world,hello', 'hello', 2)", Some("1")),
            ],
        ),
        def(
            SplUdf::new("position", &[Str, Str], 2, ret_bigint, eval_position),
            "position(sub VARCHAR IN s VARCHAR) -> BIGINT",
            "The 1-based character position of the first occurrence of sub in s, 0 if absent (strpos(s, sub)). NULL if an argument is NULL. Documented as unsupported in SLS SPL (extension here; use strpos).",
            &[
                ex!("position('world' IN 'hello world')", Some("7")),
                ex!("position('x' IN 'abc')", Some("0")),
            ],
        ),
        def(
            SplUdf::new("normalize", &[Str, Str], 1, ret_varchar, eval_normalize),
            "normalize(s VARCHAR[, form]) -> VARCHAR",
            "s in Unicode normalization form NFC, or form: NFC, NFD, NFKC or NFKD (a bare word or a string). NULL if an argument is NULL; an error for another form. Documented as unsupported in SLS SPL (extension here).",
            &[
                ex!("normalize('e\u{301}') = '\u{e9}'", Some("true")),
                ex!("normalize('ｓｐｌ①', NFKC)", Some("spl1")),
                ex!("length(normalize('\u{e9}', 'NFD'))", Some("2")),
            ],
        ),
        FunctionDef {
            aliases: &["substring"],
            ..def(
                SplUdf::new("substr", &[Str, Int, Int], 2, ret_varchar, eval_substr)
                    .aliases(&["substring"]),
                "substr(s VARCHAR, start BIGINT[, length BIGINT]) -> VARCHAR",
                "The characters of s from the 1-based position start (negative counts from the end), at most length of them. Empty when start is out of range; NULL if an argument is NULL.",
                &[
                    ex!("substr('hello velox', 1, 5)", Some("hello")),
                    ex!("substr('hello velox', 7)", Some("velox")),
                    ex!("substr('hello velox', -5, 3)", Some("vel")),
                ],
            )
        },
        def(
            SplUdf::new("to_utf8", &[Str], 1, ret_varbinary, eval_to_utf8),
            "to_utf8(s VARCHAR) -> VARBINARY",
            "The UTF-8 bytes of s. NULL if s is NULL.",
            &[ex!("to_hex(to_utf8('abc'))", Some("616263"))],
        ),
        def(
            SplUdf::new("repeat", &[Str, Int], 2, ret_varchar, eval_repeat),
            "repeat(s VARCHAR, n BIGINT) -> VARCHAR",
            "s repeated n times. NULL if an argument is NULL; an error if n is negative or the result would exceed 16 MiB.",
            &[ex!("repeat('ab', 3)", Some("ababab"))],
        ),
        def(
            SplUdf::new("starts_with", &[Str, Str], 2, ret_boolean, eval_starts_with),
            "starts_with(s VARCHAR, prefix VARCHAR) -> BOOLEAN",
            "Whether s begins with prefix. NULL if an argument is NULL. Extension: not in the SLS SPL function list.",
            &[ex!("starts_with('hello', 'he')", Some("true"))],
        ),
        def(
            SplUdf::new("levenshtein_distance", &[Str, Str], 2, ret_bigint, eval_levenshtein),
            "levenshtein_distance(a VARCHAR, b VARCHAR) -> BIGINT",
            "The minimum number of single-character edits turning a into b. NULL if an argument is NULL. Documented as unsupported in SLS SPL (extension here).",
            &[ex!("levenshtein_distance('kitten', 'sitting')", Some("3"))],
        ),
        def(
            SplUdf::new("hamming_distance", &[Str, Str], 2, ret_bigint, eval_hamming),
            "hamming_distance(a VARCHAR, b VARCHAR) -> BIGINT",
            "The number of positions at which the characters of a and b differ. NULL if an argument is NULL; an error if their lengths differ. Extension: not in the SLS SPL function list.",
            &[ex!("hamming_distance('abcde', 'abxdy')", Some("2"))],
        ),
    ];
    v.sort_by_key(|f| f.name);
    v
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use arrow::array::{
        AsArray, BinaryArray, BooleanArray, Int32Array, Int64Array, MapArray, StringViewArray,
    };
    use arrow::datatypes::Field;
    use datafusion_common::config::ConfigOptions;
    use datafusion_common::ScalarValue;

    use super::super::testing::{invoke_with, rows_of};
    use datafusion_expr::{ColumnarValue, ScalarFunctionArgs};

    /// A VARCHAR column.
    pub(crate) fn col(values: &[Option<&str>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringViewArray::from(values.to_vec())))
    }

    /// A VARCHAR literal.
    pub(crate) fn lit(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8View(Some(v.to_string())))
    }

    /// A BIGINT literal.
    pub(crate) fn int(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }

    /// A BIGINT column.
    pub(crate) fn ints(values: &[Option<i64>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(Int64Array::from(values.to_vec())))
    }

    /// A typed NULL literal.
    pub(crate) fn null_of(t: &DataType) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::try_from(t).unwrap())
    }

    /// Invokes the library function `name` as the engine would, returning a result column.
    pub(crate) fn call(name: &str, args: Vec<ColumnarValue>) -> Result<ArrayRef> {
        let def = crate::functions::lookup(name).unwrap_or_else(|| panic!("no function {name}"));
        let udf = &def.udf;
        let rows = rows_of(&args);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        // The coercion must leave already-coerced arguments unchanged.
        assert_eq!(
            udf.coerce_types(&types)?,
            types,
            "{name}: coercion changed {types:?}"
        );
        let (out, return_field) = invoke_with(udf, args, rows, ConfigOptions::default())?;
        let out = out.into_array(rows)?;
        assert_eq!(
            out.data_type(),
            return_field.data_type(),
            "{name}: return type"
        );
        assert_eq!(out.len(), rows);
        Ok(out)
    }

    /// The rows of a VARCHAR result.
    pub(crate) fn strs(a: &ArrayRef) -> Vec<Option<String>> {
        a.as_string_view()
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    /// The single value of a VARCHAR result.
    pub(crate) fn one_str(name: &str, args: Vec<ColumnarValue>) -> Option<String> {
        strs(&call(name, args).unwrap()).remove(0)
    }

    /// The rows of a BIGINT result.
    pub(crate) fn i64s(a: &ArrayRef) -> Vec<Option<i64>> {
        a.as_primitive::<arrow::datatypes::Int64Type>()
            .iter()
            .collect()
    }

    /// The single value of a BIGINT result.
    pub(crate) fn one_i64(name: &str, args: Vec<ColumnarValue>) -> Option<i64> {
        i64s(&call(name, args).unwrap())[0]
    }

    /// The rows of an ARRAY(VARCHAR) result.
    pub(crate) fn lists(a: &ArrayRef) -> Vec<Option<Vec<Option<String>>>> {
        let l = a.as_list::<i32>();
        (0..l.len())
            .map(|i| (!l.is_null(i)).then(|| strs(&l.value(i))))
            .collect()
    }

    /// `Some(vec![Some(..), ..])` from plain strings.
    pub(crate) fn list_of(items: &[&str]) -> Option<Vec<Option<String>>> {
        Some(items.iter().map(|s| Some(s.to_string())).collect())
    }

    /// The error message of a failing call.
    pub(crate) fn err(name: &str, args: Vec<ColumnarValue>) -> String {
        match call(name, args) {
            Ok(a) => panic!("{name}: expected an error, got {} rows", a.len()),
            Err(e) => e.to_string(),
        }
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn all_scalar_arguments_give_a_scalar() {
        let def = crate::functions::lookup("length").unwrap();
        let out = def
            .udf
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![lit("abc")],
                arg_fields: vec![Arc::new(Field::new("a", DataType::Utf8View, true))],
                number_rows: 7,
                return_field: Arc::new(Field::new("r", DataType::Int64, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })
            .unwrap();
        match out {
            ColumnarValue::Scalar(ScalarValue::Int64(Some(3))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn coercion_of_argument_types() {
        let udf = &crate::functions::lookup("substr").unwrap().udf;
        assert_eq!(
            udf.coerce_types(&[DataType::Utf8, DataType::Int32])
                .unwrap(),
            vec![DataType::Utf8View, DataType::Int64]
        );
        assert_eq!(
            udf.coerce_types(&[DataType::Null, DataType::Null, DataType::UInt8])
                .unwrap(),
            vec![DataType::Utf8View, DataType::Int64, DataType::Int64]
        );
        let e = udf
            .coerce_types(&[DataType::Utf8View, DataType::Float64])
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("substr: argument 2 must be an integer"),
            "{e}"
        );
        let e = udf.coerce_types(&[DataType::Utf8View]).unwrap_err();
        assert!(
            e.to_string().contains("expected 2 to 3 argument(s), got 1"),
            "{e}"
        );
        let e = udf
            .coerce_types(&[
                DataType::Utf8View,
                DataType::Int64,
                DataType::Int64,
                DataType::Int64,
            ])
            .unwrap_err();
        assert!(e.to_string().contains("got 4"), "{e}");
        let concat = &crate::functions::lookup("concat").unwrap().udf;
        assert_eq!(
            concat.coerce_types(&vec![DataType::Utf8; 5]).unwrap(),
            vec![DataType::Utf8View; 5]
        );
        assert!(concat
            .coerce_types(&[DataType::Utf8, DataType::Int64])
            .is_err());
        let ws = &crate::functions::lookup("concat_ws").unwrap().udf;
        assert_eq!(
            ws.coerce_types(&[DataType::Utf8, DataType::new_list(DataType::Utf8, true)])
                .unwrap(),
            vec![DataType::Utf8View, varchar_list_type()]
        );
        let rev = &crate::functions::lookup("reverse").unwrap().udf;
        assert_eq!(
            rev.return_type(&[DataType::Binary]).unwrap(),
            DataType::Binary
        );
        assert_eq!(
            rev.return_type(&[DataType::Utf8View]).unwrap(),
            DataType::Utf8View
        );
        assert!(rev
            .coerce_types(&[DataType::new_list(DataType::Int64, true)])
            .is_err());
    }

    #[test]
    fn lookup_by_alias() {
        assert_eq!(
            crate::functions::lookup("SUBSTRING").unwrap().name,
            "substr"
        );
        assert_eq!(
            one_str("substring", vec![lit("hello"), int(2), int(3)]),
            s("ell")
        );
    }

    #[test]
    fn chr_and_codepoint() {
        let out = call("chr", vec![ints(&[Some(65), None, Some(0x4e2d), Some(23)])]).unwrap();
        assert_eq!(strs(&out), vec![s("A"), None, s("中"), s("\u{17}")]);
        assert!(err("chr", vec![int(-1)]).contains("chr: not a valid Unicode code point: -1"));
        assert!(err("chr", vec![int(0xD800)]).contains("not a valid Unicode code point"));
        assert!(err("chr", vec![int(0x110000)]).contains("not a valid Unicode code point"));

        let out = call("codepoint", vec![col(&[Some("t"), None, Some("中")])]).unwrap();
        let out = out.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(116), None, Some(20013)]
        );
        assert!(err("codepoint", vec![lit("ab")]).contains("single character"));
        assert!(err("codepoint", vec![lit("")]).contains("single character"));
    }

    #[test]
    fn concat_propagates_null() {
        let out = call(
            "concat",
            vec![
                col(&[Some("hello"), Some("a"), None]),
                lit("world"),
                col(&[Some("111"), None, Some("x")]),
            ],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("helloworld111"), None, None]);
        assert_eq!(one_str("concat", vec![lit("x")]), s("x"));
        assert_eq!(one_str("concat", vec![lit(""), lit("")]), s(""));
    }

    #[test]
    fn concat_ws_skips_nulls() {
        let out = call(
            "concat_ws",
            vec![
                col(&[Some("-"), None, Some("")]),
                lit("a"),
                col(&[None, Some("b"), Some("c")]),
                lit("d"),
            ],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("a-d"), None, s("acd")]);
        let list: ArrayRef = {
            let mut b = varchar_list_builder(2);
            b.values().append_value("x");
            b.values().append_null();
            b.values().append_value("y");
            b.append(true);
            b.append(false);
            Arc::new(b.finish())
        };
        let out = call("concat_ws", vec![lit(","), ColumnarValue::Array(list)]).unwrap();
        assert_eq!(strs(&out), vec![s("x,y"), None]);
    }

    fn bin(values: &[Option<&[u8]>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(BinaryArray::from(values.to_vec())))
    }

    #[test]
    fn from_utf8_replaces_invalid_bytes() {
        let input = bin(&[Some(b"hello"), Some(b"a\xFFb"), None, Some(b"\xE4\xB8x")]);
        assert_eq!(
            strs(&call("from_utf8", vec![input.clone()]).unwrap()),
            vec![s("hello"), s("a\u{FFFD}b"), None, s("\u{FFFD}x")]
        );
        assert_eq!(
            strs(&call("from_utf8", vec![input.clone(), lit("?")]).unwrap()),
            vec![s("hello"), s("a?b"), None, s("?x")]
        );
        assert_eq!(
            strs(&call("from_utf8", vec![input.clone(), lit("")]).unwrap()),
            vec![s("hello"), s("ab"), None, s("x")]
        );
        assert_eq!(
            strs(&call("from_utf8", vec![input.clone(), int(35)]).unwrap()),
            vec![s("hello"), s("a#b"), None, s("#x")]
        );
        assert_eq!(
            strs(
                &call(
                    "from_utf8",
                    vec![input.clone(), null_of(&DataType::Utf8View)]
                )
                .unwrap()
            ),
            vec![None; 4]
        );
        assert!(err("from_utf8", vec![input.clone(), lit("ab")]).contains("single character"));
        assert!(err("from_utf8", vec![input, int(-3)]).contains("invalid replacement"));
    }

    #[test]
    fn length_counts_characters() {
        let out = call(
            "length",
            vec![col(&[Some("hello"), Some("中文"), Some(""), None])],
        )
        .unwrap();
        assert_eq!(i64s(&out), vec![Some(5), Some(2), Some(0), None]);
        let bytes = call(
            "length",
            vec![bin(&[Some("中".as_bytes()), Some(b""), None])],
        )
        .unwrap();
        assert_eq!(i64s(&bytes), vec![Some(3), Some(0), None]);
    }

    #[test]
    fn lower_and_upper() {
        let input = col(&[Some("This is Word 555"), None, Some("ÄÖ straße İ ΟΔΟΣ")]);
        assert_eq!(
            strs(&call("lower", vec![input.clone()]).unwrap()),
            vec![s("this is word 555"), None, s("äö straße i οδοσ")]
        );
        assert_eq!(
            strs(&call("upper", vec![input]).unwrap()),
            vec![s("THIS IS WORD 555"), None, s("ÄÖ STRAßE İ ΟΔΟΣ")]
        );
    }

    #[test]
    fn lpad_and_rpad() {
        assert_eq!(one_str("lpad", vec![lit("7"), int(3), lit("0")]), s("007"));
        assert_eq!(
            one_str("lpad", vec![lit("ab"), int(5), lit("xy")]),
            s("xyxab")
        );
        assert_eq!(
            one_str("rpad", vec![lit("ab"), int(5), lit("xy")]),
            s("abxyx")
        );
        assert_eq!(
            one_str("lpad", vec![lit("hello"), int(3), lit("x")]),
            s("hel")
        );
        assert_eq!(
            one_str("rpad", vec![lit("hello"), int(2), lit("x")]),
            s("he")
        );
        assert_eq!(one_str("rpad", vec![lit("hello"), int(0), lit("x")]), s(""));
        assert_eq!(
            one_str("lpad", vec![lit("中"), int(4), lit("文字")]),
            s("文字文中")
        );
        assert_eq!(
            one_str("rpad", vec![lit("héllo"), int(5), lit("x")]),
            s("héllo")
        );
        let long = one_str("lpad", vec![lit("hello volex"), int(100), lit("rep")]).unwrap();
        assert_eq!(long.chars().count(), 100);
        assert!(long.starts_with("reprep") && long.ends_with("hello volex"));
        assert_eq!(
            one_str("lpad", vec![lit("a"), null_of(&DataType::Int64), lit("x")]),
            None
        );
        assert!(err("lpad", vec![lit("a"), int(3), lit("")])
            .contains("padding string must not be empty"));
        assert!(err("rpad", vec![lit("a"), int(-1), lit("x")])
            .contains("target length must be in the range"));
        assert!(err("rpad", vec![lit("a"), int(1_000_000_000_000), lit("x")]).contains("range"));
        assert!(err("lpad", vec![lit("a"), int(100_000_000), lit("x")]).contains("exceed"));
        assert!(err("lpad", vec![lit("a"), int(6_000_000), lit("中文字")]).contains("exceed"));
    }

    #[test]
    fn trim_family() {
        let input = col(&[
            Some(" \t a b \n "),
            None,
            Some("\u{A0}x\u{3000}"),
            Some("   "),
        ]);
        assert_eq!(
            strs(&call("trim", vec![input.clone()]).unwrap()),
            vec![s("a b"), None, s("\u{A0}x"), s("")]
        );
        assert_eq!(
            strs(&call("ltrim", vec![input.clone()]).unwrap()),
            vec![s("a b \n "), None, s("\u{A0}x\u{3000}"), s("")]
        );
        assert_eq!(
            strs(&call("rtrim", vec![input]).unwrap()),
            vec![s(" \t a b"), None, s("\u{A0}x"), s("")]
        );
        assert_eq!(one_str("trim", vec![lit("xyaxy"), lit("yx")]), s("a"));
        assert_eq!(one_str("ltrim", vec![lit("xyaxy"), lit("yx")]), s("axy"));
        assert_eq!(one_str("rtrim", vec![lit("xyaxy"), lit("yx")]), s("xya"));
        assert_eq!(one_str("trim", vec![lit(" a "), lit("")]), s(" a "));
        assert_eq!(
            one_str("trim", vec![lit("a"), null_of(&DataType::Utf8View)]),
            None
        );
    }

    #[test]
    fn replace_is_literal() {
        let input = col(&[Some("hello volex"), None, Some("a.b.c")]);
        assert_eq!(
            strs(&call("replace", vec![input.clone(), lit("hello")]).unwrap()),
            vec![s(" volex"), None, s("a.b.c")]
        );
        assert_eq!(
            strs(&call("replace", vec![input.clone(), lit("."), lit("rep")]).unwrap()),
            vec![s("hello volex"), None, s("arepbrepc")]
        );
        assert_eq!(
            one_str("replace", vec![lit("abc"), lit(""), lit("x")]),
            s("xaxbxcx")
        );
        assert_eq!(one_str("replace", vec![lit("abc"), lit("")]), s("abc"));
        assert_eq!(
            one_str("replace", vec![lit("aaa"), lit("aa"), lit("b")]),
            s("ba")
        );
        assert_eq!(
            one_str(
                "replace",
                vec![lit("a"), lit("a"), null_of(&DataType::Utf8View)]
            ),
            None
        );
        let big = "x".repeat(20_000);
        assert!(
            err("replace", vec![lit(&"a".repeat(1000)), lit(""), lit(&big)]).contains("exceed")
        );
    }

    #[test]
    fn reverse_strings_and_bytes() {
        let out = call(
            "reverse",
            vec![col(&[Some("this is word 555"), None, Some("中文a")])],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("555 drow si siht"), None, s("a文中")]);
        let out = call("reverse", vec![bin(&[Some(b"\x01\x02\x03"), None])]).unwrap();
        let out = out.as_any().downcast_ref::<BinaryArray>().unwrap();
        assert_eq!(out.value(0), b"\x03\x02\x01");
        assert!(out.is_null(1));
    }

    #[test]
    fn split_with_and_without_limit() {
        let input = col(&[
            Some("hello,volex,world,hello"),
            None,
            Some(""),
            Some("a,,b,"),
        ]);
        assert_eq!(
            lists(&call("split", vec![input.clone(), lit(",")]).unwrap()),
            vec![
                list_of(&["hello", "volex", "world", "hello"]),
                None,
                list_of(&[""]),
                list_of(&["a", "", "b", ""]),
            ]
        );
        assert_eq!(
            lists(&call("split", vec![input.clone(), lit(","), int(2)]).unwrap()),
            vec![
                list_of(&["hello", "volex,world,hello"]),
                None,
                list_of(&[""]),
                list_of(&["a", ",b,"]),
            ]
        );
        assert_eq!(
            lists(&call("split", vec![input.clone(), lit(","), int(1)]).unwrap())[0],
            list_of(&["hello,volex,world,hello"])
        );
        assert_eq!(
            lists(&call("split", vec![lit("a中c"), lit("")]).unwrap())[0],
            list_of(&["a", "中", "c", ""])
        );
        assert_eq!(
            lists(&call("split", vec![lit("abc"), lit(""), int(2)]).unwrap())[0],
            list_of(&["a", "bc"])
        );
        assert_eq!(
            lists(&call("split", vec![lit("a::b"), lit("::")]).unwrap())[0],
            list_of(&["a", "b"])
        );
        assert!(
            err("split", vec![input.clone(), lit(","), int(0)]).contains("limit must be positive")
        );
        assert_eq!(
            lists(&call("split", vec![lit("a"), lit(","), null_of(&DataType::Int64)]).unwrap())[0],
            None
        );
    }

    #[test]
    fn split_part_is_one_based() {
        let input = col(&[
            Some("hello,volex,world,hello"),
            None,
            Some("a,b,"),
            Some(""),
        ]);
        assert_eq!(
            strs(&call("split_part", vec![input.clone(), lit(","), int(2)]).unwrap()),
            vec![s("volex"), None, s("b"), None]
        );
        assert_eq!(
            strs(&call("split_part", vec![input.clone(), lit(","), int(3)]).unwrap()),
            vec![s("world"), None, s(""), None]
        );
        assert_eq!(
            strs(&call("split_part", vec![input.clone(), lit(","), int(1)]).unwrap()),
            vec![s("hello"), None, s("a"), s("")]
        );
        assert_eq!(
            one_str("split_part", vec![lit("a,b"), lit(","), int(5)]),
            None
        );
        assert_eq!(
            one_str("split_part", vec![lit("a中c"), lit(""), int(2)]),
            s("中")
        );
        assert_eq!(
            one_str("split_part", vec![lit("abc"), lit(""), int(4)]),
            None
        );
        assert_eq!(
            one_str("split_part", vec![lit("a<>b<>c"), lit("<>"), int(3)]),
            s("c")
        );
        assert!(err("split_part", vec![input, lit(","), int(0)])
            .contains("index must be greater than zero"));
    }

    fn maps(a: &ArrayRef) -> Vec<Option<Vec<(String, String)>>> {
        let m = a.as_any().downcast_ref::<MapArray>().unwrap();
        (0..m.len())
            .map(|i| {
                (!m.is_null(i)).then(|| {
                    let e = m.value(i);
                    let k = strs(e.column(0));
                    let v = strs(e.column(1));
                    k.into_iter()
                        .zip(v)
                        .map(|(k, v)| (k.unwrap(), v.unwrap()))
                        .collect()
                })
            })
            .collect()
    }

    #[test]
    fn split_to_map_entries() {
        let input = col(&[Some("a=1,b=2"), None, Some(""), Some("x=,=y,")]);
        let out = call("split_to_map", vec![input, lit(","), lit("=")]).unwrap();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            maps(&out),
            vec![
                Some(vec![pair("a", "1"), pair("b", "2")]),
                None,
                Some(vec![]),
                Some(vec![pair("x", ""), pair("", "y")]),
            ]
        );
        assert!(
            err("split_to_map", vec![lit("a=1,a=2"), lit(","), lit("=")])
                .contains("duplicate keys (a)")
        );
        assert!(
            err("split_to_map", vec![lit("a=1,b"), lit(","), lit("=")]).contains("bad input: 'b'")
        );
        assert!(
            err("split_to_map", vec![lit("a=1=2"), lit(","), lit("=")]).contains("exactly once")
        );
        assert!(
            err("split_to_map", vec![lit("a=1,,"), lit(","), lit("=")]).contains("exactly once")
        );
        assert!(err("split_to_map", vec![lit("a"), lit(","), lit(",")])
            .contains("must not be the same"));
        assert!(
            err("split_to_map", vec![lit("a"), lit(""), lit("=")]).contains("must not be empty")
        );
    }

    #[test]
    fn strpos_and_strrpos() {
        let input = col(&[Some("hello,volex,world,hello"), None, Some("中文hello")]);
        assert_eq!(
            i64s(&call("strpos", vec![input.clone(), lit("hello")]).unwrap()),
            vec![Some(1), None, Some(3)]
        );
        assert_eq!(
            i64s(&call("strpos", vec![input.clone(), lit("hello"), int(2)]).unwrap()),
            vec![Some(19), None, Some(0)]
        );
        assert_eq!(
            i64s(&call("strpos", vec![input.clone(), lit("hello"), int(-1)]).unwrap()),
            vec![Some(19), None, Some(3)]
        );
        assert_eq!(
            i64s(&call("strrpos", vec![input.clone(), lit("hello")]).unwrap()),
            vec![Some(19), None, Some(3)]
        );
        assert_eq!(
            i64s(&call("strrpos", vec![input.clone(), lit("hello"), int(2)]).unwrap()),
            vec![Some(1), None, Some(0)]
        );
        assert_eq!(
            one_i64("strpos", vec![lit("hello velox"), lit("velox"), int(1)]),
            Some(7)
        );
        assert_eq!(one_i64("strpos", vec![lit("abc"), lit("x")]), Some(0));
        assert_eq!(one_i64("strpos", vec![lit("abc"), lit("")]), Some(1));
        assert_eq!(one_i64("strrpos", vec![lit("abc"), lit("")]), Some(1));
        // Occurrences may overlap, as in Presto.
        assert_eq!(
            one_i64("strpos", vec![lit("aaaa"), lit("aa"), int(2)]),
            Some(2)
        );
        assert_eq!(
            one_i64("strpos", vec![lit("aaaa"), lit("aa"), int(3)]),
            Some(3)
        );
        assert_eq!(
            one_i64("strpos", vec![lit("aaaa"), lit("aa"), int(4)]),
            Some(0)
        );
        assert_eq!(
            one_i64("strrpos", vec![lit("aaaa"), lit("aa"), int(2)]),
            Some(2)
        );
        assert_eq!(
            one_i64("strrpos", vec![lit("aaaa"), lit("aa"), int(3)]),
            Some(1)
        );
        assert_eq!(
            one_i64("strrpos", vec![lit("aaaa"), lit("aa"), int(4)]),
            Some(0)
        );
        assert_eq!(
            one_i64("strpos", vec![lit("a中a中"), lit("中"), int(-2)]),
            Some(2)
        );
        assert_eq!(
            one_i64(
                "strpos",
                vec![lit("a"), lit("a"), null_of(&DataType::Int64)]
            ),
            None
        );
        assert!(err("strpos", vec![lit("a"), lit("a"), int(0)]).contains("positive or negative"));
        assert!(
            err("strrpos", vec![lit("a"), lit("a"), int(0)]).contains("must be a positive number")
        );
        assert!(
            err("strrpos", vec![lit("a"), lit("a"), int(-1)]).contains("must be a positive number")
        );
    }

    #[test]
    fn substr_presto_semantics() {
        let cases: &[(&str, i64, Option<i64>, &str)] = &[
            ("hello velox", 1, None, "hello velox"),
            ("hello velox", 1, Some(3), "hel"),
            ("hello velox", 7, None, "velox"),
            ("hello velox", 7, Some(100), "velox"),
            ("hello velox", -5, None, "velox"),
            ("hello velox", -5, Some(3), "vel"),
            ("hello velox", -11, Some(1), "h"),
            ("hello velox", -12, None, ""),
            ("hello velox", 0, None, ""),
            ("hello velox", 12, None, ""),
            ("hello velox", 11, None, "x"),
            ("hello velox", 2, Some(0), ""),
            ("hello velox", 2, Some(-1), ""),
            ("hello velox", i64::MAX, Some(i64::MAX), ""),
            ("hello velox", i64::MIN, None, ""),
            ("中文字符", 2, Some(2), "文字"),
            ("中文字符", -1, None, "符"),
            ("", 1, None, ""),
        ];
        for (input, start, len, want) in cases {
            let mut args = vec![lit(input), int(*start)];
            args.extend(len.map(int));
            assert_eq!(
                one_str("substr", args).as_deref(),
                Some(*want),
                "{input} {start} {len:?}"
            );
        }
        let out = call(
            "substr",
            vec![col(&[Some("abc"), None]), ints(&[Some(2), Some(1)])],
        )
        .unwrap();
        assert_eq!(strs(&out), vec![s("bc"), None]);
    }

    #[test]
    fn to_utf8_bytes() {
        let out = call("to_utf8", vec![col(&[Some("a中"), None])]).unwrap();
        let out = out.as_any().downcast_ref::<BinaryArray>().unwrap();
        assert_eq!(out.value(0), "a中".as_bytes());
        assert!(out.is_null(1));
    }

    #[test]
    fn repeat_is_capped() {
        assert_eq!(
            one_str("repeat", vec![lit("hello "), int(3)]),
            s("hello hello hello ")
        );
        assert_eq!(one_str("repeat", vec![lit("ab"), int(0)]), s(""));
        assert_eq!(one_str("repeat", vec![lit(""), int(i64::MAX)]), s(""));
        assert_eq!(
            one_str("repeat", vec![lit("a"), null_of(&DataType::Int64)]),
            None
        );
        assert!(err("repeat", vec![lit("a"), int(-1)]).contains("greater than or equal to 0"));
        assert!(err("repeat", vec![lit("ab"), int(1_000_000_000_000)]).contains("exceed"));
        assert!(err("repeat", vec![lit("ab"), int(i64::MAX)]).contains("exceed"));
    }

    #[test]
    fn starts_with_prefix() {
        let out = call(
            "starts_with",
            vec![col(&[Some("hello"), Some("xhello"), None]), lit("he")],
        )
        .unwrap();
        let out = out.as_any().downcast_ref::<BooleanArray>().unwrap();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(true), Some(false), None]
        );
    }

    #[test]
    fn edit_distances() {
        assert_eq!(
            one_i64("levenshtein_distance", vec![lit("kitten"), lit("sitting")]),
            Some(3)
        );
        assert_eq!(
            one_i64("levenshtein_distance", vec![lit(""), lit("abc")]),
            Some(3)
        );
        assert_eq!(
            one_i64("levenshtein_distance", vec![lit("中文"), lit("中")]),
            Some(1)
        );
        assert_eq!(
            one_i64("levenshtein_distance", vec![lit("same"), lit("same")]),
            Some(0)
        );
        let big = "a".repeat(2000);
        assert!(err("levenshtein_distance", vec![lit(&big), lit(&big)]).contains("too large"));
        assert_eq!(
            one_i64("hamming_distance", vec![lit("abcde"), lit("abxdy")]),
            Some(2)
        );
        assert_eq!(
            one_i64("hamming_distance", vec![lit("中文"), lit("中x")]),
            Some(1)
        );
        assert!(err("hamming_distance", vec![lit("ab"), lit("abc")]).contains("same length"));
    }

    #[test]
    fn every_function_has_docs_and_examples() {
        for f in functions() {
            assert_eq!(f.name, f.udf.name(), "udf name");
            assert!(
                !f.summary.is_empty() && !f.examples.is_empty(),
                "{}",
                f.name
            );
            assert!(f.signature.starts_with(f.name), "{}", f.signature);
        }
    }

    /// Parses `name(arg, ...)` whose arguments are all string, integer or NULL literals;
    /// `None` for anything else (nested calls, ARRAY constructors, ...).
    fn parse_literal_call(expr: &str) -> Option<(String, Vec<Option<ScalarValue>>)> {
        let open = expr.find('(')?;
        let name = expr[..open].trim().to_string();
        let body = expr[open + 1..].strip_suffix(')')?;
        let mut args = Vec::new();
        let mut rest = body.trim_start();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('\'') {
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    let (i, c) = chars.next()?;
                    if c == '\'' {
                        if after[i + 1..].starts_with('\'') {
                            value.push('\'');
                            chars.next();
                        } else {
                            break i + 1;
                        }
                    } else {
                        value.push(c);
                    }
                };
                args.push(Some(ScalarValue::Utf8View(Some(value))));
                rest = &after[end..];
            } else {
                let end = rest.find(',').unwrap_or(rest.len());
                let token = rest[..end].trim();
                if token.eq_ignore_ascii_case("null") {
                    args.push(None);
                } else {
                    args.push(Some(ScalarValue::Int64(Some(token.parse().ok()?))));
                }
                rest = &rest[end..];
            }
            rest = rest.trim_start();
            rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
        }
        Some((name, args))
    }

    /// Renders row 0 of a result as text per spec §18.4 (`None` = NULL).
    fn render(a: &ArrayRef) -> Option<String> {
        if a.is_null(0) {
            return None;
        }
        let json = |a: &ArrayRef| -> Vec<String> {
            strs(a)
                .into_iter()
                .map(|v| serde_json::to_string(&v).unwrap())
                .collect()
        };
        Some(match a.data_type() {
            DataType::Utf8View => a.as_string_view().value(0).to_string(),
            DataType::Int64 => a
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0)
                .to_string(),
            DataType::Int32 => a
                .as_primitive::<arrow::datatypes::Int32Type>()
                .value(0)
                .to_string(),
            DataType::Boolean => a.as_boolean().value(0).to_string(),
            DataType::List(_) => format!("[{}]", json(&a.as_list::<i32>().value(0)).join(",")),
            DataType::Map(_, _) => {
                let e = a.as_any().downcast_ref::<MapArray>().unwrap().value(0);
                let (k, v) = (json(e.column(0)), json(e.column(1)));
                let pairs: Vec<String> =
                    k.iter().zip(&v).map(|(k, v)| format!("{k}:{v}")).collect();
                format!("{{{}}}", pairs.join(","))
            }
            t => panic!("cannot render {t}"),
        })
    }

    /// Runs every example of `defs` that is a call with literal arguments; returns how many ran.
    pub(crate) fn check_literal_examples(defs: &[FunctionDef]) -> usize {
        let mut ran = 0;
        for f in defs {
            for e in f.examples {
                let Some((name, args)) = parse_literal_call(e.expr) else {
                    continue;
                };
                let udf = &crate::functions::lookup(&name).unwrap().udf;
                let types: Vec<DataType> = args
                    .iter()
                    .map(|a| a.as_ref().map_or(DataType::Null, |v| v.data_type()))
                    .collect();
                let coerced = udf.coerce_types(&types).unwrap();
                let args = args
                    .into_iter()
                    .zip(&coerced)
                    .map(|(a, t)| {
                        ColumnarValue::Scalar(
                            a.unwrap_or_else(|| ScalarValue::try_from(t).unwrap()),
                        )
                    })
                    .collect();
                let out = call(&name, args).unwrap_or_else(|e2| panic!("{}: {e2}", e.expr));
                assert_eq!(render(&out).as_deref(), e.result, "example {}", e.expr);
                ran += 1;
            }
        }
        ran
    }

    #[test]
    fn literal_examples_hold() {
        assert!(check_literal_examples(&functions()) >= 40);
    }

    #[test]
    fn examples_without_other_families_hold() {
        // A direct check of examples that only use literals of this family (the engine runs
        // them all later): name, args, expected.
        assert_eq!(
            one_str("split_part", vec![lit("a,b,c"), lit(","), int(2)]),
            s("b")
        );
        assert_eq!(
            one_i64(
                "strpos",
                vec![lit("hello,world,hello"), lit("hello"), int(2)]
            ),
            Some(13)
        );
        assert_eq!(
            one_i64("strrpos", vec![lit("hello,world,hello"), lit("hello")]),
            Some(13)
        );
        assert_eq!(one_str("rtrim", vec![lit("  a b  ")]), s("  a b"));
        assert_eq!(
            one_str(
                "concat_ws",
                vec![lit("-"), lit("a"), null_of(&DataType::Utf8View), lit("b")]
            ),
            s("a-b")
        );
    }
}

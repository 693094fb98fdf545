//! A fast matcher for the regexes log parsing uses most: a sequence of literals and greedy
//! runs of one character class (`^(\S+) \S+ \[([^\]]+)\] "(\S+) [^"]*" (\d+)`), optionally
//! ending in `$`, with capture groups around parts of the sequence. Anchored with `^`, or
//! unanchored when it starts with a literal or a class (a search then tries each occurrence of
//! the literal, or each member of the class — only run starts for an unbounded run —
//! leftmost first).
//!
//! [`SeqMatcher::new`] accepts a pattern only when matching it needs no backtracking: every
//! run of variable length stops at a character that nothing after it can start with (its class
//! and the first characters of the rest of the pattern are disjoint). Then taking each run as
//! long as it goes is the only way the rest can match, so one left-to-right pass finds the
//! same match and the same groups as the `regex` crate (leftmost-first, greedy). Anything else
//! (alternation, lazy runs, repeated groups, look-arounds other than the anchors, unanchored
//! patterns starting otherwise) is left to `regex`, and so is a line on which an unanchored
//! search would take more than linear time ([`Found::Undecided`]). The differential test in this module checks the claim on
//! thousands of mutated lines.
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::bytes::starts_with;

/// A compiled sequence pattern.
#[derive(Debug, Clone)]
pub struct SeqMatcher {
    start: Start,
    items: Vec<Item>,
    /// `items` compiled for the match loop ([`Op`]).
    ops: Vec<Op>,
    /// Capture groups including group 0 (the whole match).
    groups: usize,
}

/// Where a match may start.
#[derive(Debug, Clone)]
enum Start {
    /// `^`: only at the start of the text.
    Anchored,
    /// At a member of `class`, which the pattern starts with (at least one). When the pattern
    /// starts with an unbounded run of it (`whole_runs`), a match starting inside a run implies
    /// one from the run's start (the run ends at the same place either way), so only run
    /// starts are tried.
    Class { class: CharSet, whole_runs: bool },
    /// At an occurrence of the literal the pattern starts with.
    Literal(memchr::memmem::Finder<'static>),
}

/// What [`SeqMatcher::captures`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Match,
    NoMatch,
    /// An unanchored search tried so many starts that going on could take time quadratic in
    /// the line: the caller should ask `regex` (which is linear) instead.
    Undecided,
}

#[derive(Debug, Clone)]
enum Item {
    /// These bytes (one or more characters).
    Literal(Box<[u8]>),
    /// `min..=max` characters of `class`, as many as there are.
    Run {
        class: CharSet,
        min: u32,
        max: u32,
    },
    /// Capture group `n` starts / ends here.
    Open(usize),
    Close(usize),
    /// The end of the text (`$`).
    End,
}

/// An [`Item`] as the match loop runs it: a few bytes each (an item holds a 128-entry table),
/// with one-byte literals and runs that step over bytes told apart, so the loop over a
/// pattern's thirty-odd steps stays in a few cache lines.
#[derive(Debug, Clone)]
enum Op {
    Byte(u8),
    Literal(Box<[u8]>),
    /// An unbounded run of a class whose members show in their first byte, of at least one
    /// character (`min` 0 or 1).
    Scan {
        table: Box<[bool; 256]>,
        min: u32,
        /// When every byte outside the class is below this value (at most 0x80; `\S` stops
        /// below 0x21), eight bytes are tested at a time for one below it; 0 otherwise.
        below: u8,
    },
    /// Any other run: `items[k]`.
    Run(u32),
    Open(u32),
    Close(u32),
    End,
}

impl Op {
    fn compile(items: &[Item]) -> Vec<Op> {
        items
            .iter()
            .enumerate()
            .map(|(k, item)| match item {
                Item::Literal(l) if l.len() == 1 => Op::Byte(l[0]),
                Item::Literal(l) => Op::Literal(l.clone()),
                Item::Run { class, min, max }
                    if *max == u32::MAX && *min <= 1 && class.stops.is_none() =>
                {
                    match &class.bytewise {
                        Some(table) => Op::Scan {
                            below: stops_below(table),
                            table: table.clone(),
                            min: *min,
                        },
                        None => Op::Run(k as u32),
                    }
                }
                Item::Run { .. } => Op::Run(k as u32),
                Item::Open(g) => Op::Open(*g as u32),
                Item::Close(g) => Op::Close(*g as u32),
                Item::End => Op::End,
            })
            .collect()
    }
}

/// The bound for [`Op::Scan`]'s `below`: one more than the largest byte outside `table`, when
/// every such byte is ASCII (and there is one); 0 otherwise.
fn stops_below(table: &[bool; 256]) -> u8 {
    match (0..256).rev().find(|&b| !table[b]) {
        Some(last) if last < 0x80 => last as u8 + 1,
        _ => 0,
    }
}

/// From `i`, the first byte of `b` that `table` does not hold, testing eight bytes at a time
/// for a byte below `below` (every byte outside the table is; see [`stops_below`]).
#[inline]
fn scan_words(b: &[u8], mut i: usize, table: &[bool; 256], below: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let sub = ONES * u64::from(below);
    while let Some(word) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
        // The lowest flagged byte is the first one below `below` (higher flags may be false,
        // from a borrow; bytes of 0x80 and up are never flagged).
        let flagged = w.wrapping_sub(sub) & !w & HIGH;
        if flagged == 0 {
            i += 8;
            continue;
        }
        i += (flagged.trailing_zeros() / 8) as usize;
        if !table[b[i] as usize] {
            return i;
        }
        i += 1; // below the bound but in the class (a control character in `\S`)
    }
    while i < b.len() && table[b[i] as usize] {
        i += 1;
    }
    i
}

/// A set of characters: a table for ASCII, sorted ranges above.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CharSet {
    ascii: [bool; 128],
    /// Non-ASCII members, sorted and disjoint.
    wide: Vec<(char, char)>,
    /// When the set is every character except a few ASCII bytes (at most 3): those bytes,
    /// so a run can be found with `memchr`.
    stops: Option<Vec<u8>>,
    /// When a character's membership shows in its first byte (the set holds no character
    /// above ASCII, or every one): per byte value, whether it belongs to a run. A run then
    /// steps over bytes without decoding characters.
    bytewise: Option<Box<[bool; 256]>>,
}

impl CharSet {
    fn from_class(class: &Class) -> Option<CharSet> {
        let mut ascii = [false; 128];
        let mut wide = Vec::new();
        let mut add = |lo: u32, hi: u32| {
            for c in lo..=hi.min(127) {
                ascii[c as usize] = true;
            }
            if hi >= 128 {
                let lo = char::from_u32(lo.max(128))?;
                let hi = char::from_u32(hi)?;
                wide.push((lo, hi));
            }
            Some(())
        };
        match class {
            Class::Unicode(c) => {
                for r in c.ranges() {
                    add(u32::from(r.start()), u32::from(r.end()))?;
                }
            }
            Class::Bytes(c) => {
                for r in c.ranges() {
                    // Bytes above ASCII are not characters of valid text.
                    if r.end() >= 128 {
                        return None;
                    }
                    add(u32::from(r.start()), u32::from(r.end()))?;
                }
            }
        }
        Some(CharSet::new(ascii, wide))
    }

    fn of_char(c: char) -> CharSet {
        let mut ascii = [false; 128];
        let mut wide = Vec::new();
        if c.is_ascii() {
            ascii[c as usize] = true;
        } else {
            wide.push((c, c));
        }
        CharSet::new(ascii, wide)
    }

    fn new(ascii: [bool; 128], wide: Vec<(char, char)>) -> CharSet {
        let all_wide = covers_all_wide(&wide);
        let excluded: Vec<u8> = (0..128u8).filter(|b| !ascii[*b as usize]).collect();
        let stops = (all_wide && !excluded.is_empty() && excluded.len() <= 3).then_some(excluded);
        let bytewise = (all_wide || wide.is_empty()).then(|| {
            let mut table = Box::new([all_wide; 256]);
            table[..128].copy_from_slice(&ascii);
            table
        });
        CharSet {
            ascii,
            wide,
            stops,
            bytewise,
        }
    }

    #[inline(always)]
    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return self.ascii[c as usize];
        }
        self.wide
            .binary_search_by(|&(lo, hi)| {
                if hi < c {
                    std::cmp::Ordering::Less
                } else if lo > c {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .is_ok()
    }

    fn intersects(&self, other: &CharSet) -> bool {
        if (0..128).any(|i| self.ascii[i] && other.ascii[i]) {
            return true;
        }
        let (mut a, mut b) = (self.wide.iter().peekable(), other.wide.iter().peekable());
        while let (Some(&&(alo, ahi)), Some(&&(blo, bhi))) = (a.peek(), b.peek()) {
            if alo <= bhi && blo <= ahi {
                return true;
            }
            if ahi < bhi {
                a.next();
            } else {
                b.next();
            }
        }
        false
    }

    fn union(&mut self, other: &CharSet) {
        for i in 0..128 {
            self.ascii[i] |= other.ascii[i];
        }
        self.wide.extend_from_slice(&other.wide);
        self.wide.sort_unstable();
        let mut merged: Vec<(char, char)> = Vec::with_capacity(self.wide.len());
        for &(lo, hi) in &self.wide {
            match merged.last_mut() {
                Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        self.wide = merged;
    }

    /// The first byte at or after `i` where a member starts (`text.len()` when none does).
    fn next_member(&self, text: &str, i: usize) -> usize {
        text[i..]
            .char_indices()
            .find(|&(_, c)| self.contains(c))
            .map_or(text.len(), |(at, _)| i + at)
    }

    /// From byte `i` of `text`, as many members as there are, up to `max`: where the run ends
    /// and how many characters it holds (`count` is exact only up to `need`, the least the
    /// caller needs, when the run is found with `memchr`).
    #[inline(always)]
    fn run(&self, text: &str, mut i: usize, max: u32, need: u32) -> (usize, u32) {
        let b = text.as_bytes();
        if let (Some(table), Some(stops), u32::MAX) = (&self.bytewise, &self.stops, max) {
            let rest = &b[i..];
            // Runs are often short: look at the first bytes one by one before `memchr`.
            let near = rest.len().min(SHORT_RUN);
            let len = match rest[..near].iter().position(|&c| !table[c as usize]) {
                Some(at) => Some(at),
                None if near == rest.len() => None,
                None => match stops.as_slice() {
                    [x] => memchr::memchr(*x, &rest[near..]),
                    [x, y] => memchr::memchr2(*x, *y, &rest[near..]),
                    [x, y, z] => memchr::memchr3(*x, *y, *z, &rest[near..]),
                    _ => unreachable_stops(),
                }
                .map(|at| near + at),
            }
            .unwrap_or(rest.len());
            let end = i + len;
            let count = if need <= 1 {
                u32::from(len > 0)
            } else {
                text[i..end].chars().take(need as usize).count() as u32
            };
            return (end, count);
        }
        if let Some(table) = &self.bytewise {
            // Without wide members every byte of a run is a character, so a bounded run is
            // bounded in bytes; with all of them, only an unbounded run needs no counting.
            let limit = match max {
                u32::MAX => Some(b.len()),
                _ if self.wide.is_empty() => Some(b.len().min(i.saturating_add(max as usize))),
                _ => None,
            };
            if let Some(limit) = limit {
                let start = i;
                while i < limit && table[b[i] as usize] {
                    i += 1;
                }
                let count = if self.wide.is_empty() {
                    u32::try_from(i - start).unwrap_or(u32::MAX)
                } else if need <= 1 {
                    u32::from(i > start)
                } else {
                    text[start..i].chars().take(need as usize).count() as u32
                };
                return (i, count);
            }
        }
        let mut count = 0;
        while count < max {
            let Some(&c) = b.get(i) else { break };
            if c < 0x80 {
                if !self.ascii[c as usize] {
                    break;
                }
                i += 1;
            } else {
                // `i` is at a character boundary: runs only ever step over whole characters.
                let Some(ch) = text[i..].chars().next() else {
                    break;
                };
                if !self.contains(ch) {
                    break;
                }
                i += ch.len_utf8();
            }
            count += 1;
        }
        (i, count)
    }
}

/// True when sorted, disjoint `wide` ranges hold every character above ASCII (the surrogate
/// gap is not made of characters).
fn covers_all_wide(wide: &[(char, char)]) -> bool {
    let mut next = 0x80u32;
    for &(lo, hi) in wide {
        let lo = u32::from(lo);
        if lo > next && !(next == 0xD800 && lo == 0xE000) {
            return false;
        }
        next = next.max(u32::from(hi) + 1);
    }
    next == 0x11_0000
}

/// Bytes of a run looked at one by one before `memchr` takes over.
const SHORT_RUN: usize = 16;

/// `stops` holds one to three bytes by construction.
#[cold]
fn unreachable_stops() -> Option<usize> {
    None
}

impl SeqMatcher {
    /// The matcher for `pattern` (in the `regex` crate's syntax), or `None` when the pattern is
    /// not a sequence that can be matched without backtracking.
    pub fn new(pattern: &str) -> Option<SeqMatcher> {
        let hir = regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .ok()?;
        let parts: Vec<&Hir> = match hir.kind() {
            HirKind::Concat(parts) => parts.iter().collect(),
            _ => vec![&hir],
        };
        let anchored = parts
            .first()
            .is_some_and(|p| *p.kind() == HirKind::Look(Look::Start));
        let mut items = Vec::new();
        for part in &parts[usize::from(anchored)..] {
            flatten(part, &mut items)?;
        }
        let start = if anchored {
            Start::Anchored
        } else {
            match items
                .iter()
                .find(|i| !matches!(i, Item::Open(_) | Item::Close(_)))?
            {
                Item::Run { class, min, max } if *min >= 1 => Start::Class {
                    class: class.clone(),
                    whole_runs: *max == u32::MAX,
                },
                Item::Literal(l) => Start::Literal(memchr::memmem::Finder::new(l).into_owned()),
                _ => return None,
            }
        };
        // `$` only as the last item.
        let ends = items.iter().filter(|i| matches!(i, Item::End)).count();
        if ends > 1 || (ends == 1 && !matches!(items.last(), Some(Item::End))) {
            return None;
        }
        for (k, item) in items.iter().enumerate() {
            if let Item::Run { class, min, max } = item {
                if min != max && first_chars(&items[k + 1..]).intersects(class) {
                    return None;
                }
            }
        }
        Some(SeqMatcher {
            start,
            ops: Op::compile(&items),
            items,
            groups: hir.properties().explicit_captures_len() + 1,
        })
    }

    /// True for a `^`-anchored pattern (tried once, at the start of the text).
    pub fn is_anchored(&self) -> bool {
        matches!(self.start, Start::Anchored)
    }

    /// Capture groups, including group 0.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Finds the leftmost match in `text` (from its start when anchored); on a match fills
    /// `slots[g]` with each group's byte range (`slots` has [`SeqMatcher::groups`] entries).
    pub fn captures(&self, text: &str, slots: &mut [Option<(usize, usize)>]) -> Found {
        let found = |ok: bool| if ok { Found::Match } else { Found::NoMatch };
        // Bytes failed attempts may look at before the search gives up (linear in the line).
        let mut budget = 4 * text.len() + 256;
        let mut spend = |from: usize, to: usize| {
            budget = budget.saturating_sub(to - from + 1);
            budget > 0
        };
        match &self.start {
            Start::Anchored => found(self.attempt(text, 0, slots).is_ok()),
            Start::Class { class, whole_runs } => {
                let mut at = 0;
                loop {
                    at = class.next_member(text, at);
                    if at == text.len() {
                        return Found::NoMatch;
                    }
                    match self.attempt(text, at, slots) {
                        Ok(()) => return Found::Match,
                        Err(failed_at) if spend(at, failed_at) => {
                            at = if *whole_runs {
                                // Every start inside this run fails the same way.
                                class.run(text, at, u32::MAX, 0).0
                            } else {
                                at + text[at..].chars().next().map_or(1, char::len_utf8)
                            };
                        }
                        Err(_) => return Found::Undecided,
                    }
                }
            }
            Start::Literal(finder) => {
                let mut from = 0;
                while let Some(pos) = finder.find(&text.as_bytes()[from..]) {
                    let at = from + pos;
                    match self.attempt(text, at, slots) {
                        Ok(()) => return Found::Match,
                        Err(failed_at) if spend(at, failed_at) => from = at + 1,
                        Err(_) => return Found::Undecided,
                    }
                }
                Found::NoMatch
            }
        }
    }

    /// Matches the items from byte `start` (a character boundary); on failure, how far the
    /// attempt read.
    fn attempt(
        &self,
        text: &str,
        start: usize,
        slots: &mut [Option<(usize, usize)>],
    ) -> Result<(), usize> {
        let b = text.as_bytes();
        let mut i = start;
        for op in &self.ops {
            match op {
                Op::Byte(c) => {
                    if b.get(i) != Some(c) {
                        return Err(i);
                    }
                    i += 1;
                }
                Op::Literal(l) => {
                    if !starts_with(&b[i..], l) {
                        return Err(i);
                    }
                    i += l.len();
                }
                Op::Scan { table, min, below } => {
                    let from = i;
                    if *below > 0 {
                        i = scan_words(b, i, table, *below);
                    } else {
                        while i < b.len() && table[b[i] as usize] {
                            i += 1;
                        }
                    }
                    if i == from && *min > 0 {
                        return Err(i);
                    }
                }
                Op::Run(k) => {
                    let Some(Item::Run { class, min, max }) = self.items.get(*k as usize) else {
                        return Err(i);
                    };
                    let (end, count) = class.run(text, i, *max, *min);
                    if count < *min {
                        return Err(end);
                    }
                    i = end;
                }
                Op::Open(g) => {
                    if let Some(slot) = slots.get_mut(*g as usize) {
                        *slot = Some((i, i));
                    }
                }
                Op::Close(g) => {
                    if let Some(Some(slot)) = slots.get_mut(*g as usize) {
                        slot.1 = i;
                    }
                }
                Op::End => {
                    if i != b.len() {
                        return Err(i);
                    }
                }
            }
        }
        if let Some(slot) = slots.first_mut() {
            *slot = Some((start, i));
        }
        Ok(())
    }
}

/// Appends the items of `hir`, or `None` when it is not part of a plain sequence.
fn flatten(hir: &Hir, items: &mut Vec<Item>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(l) => items.push(Item::Literal(l.0.clone())),
        HirKind::Class(c) => items.push(Item::Run {
            class: CharSet::from_class(c)?,
            min: 1,
            max: 1,
        }),
        HirKind::Look(Look::End) => items.push(Item::End),
        HirKind::Repetition(r) if r.greedy => {
            let class = match r.sub.kind() {
                HirKind::Class(c) => CharSet::from_class(c)?,
                HirKind::Literal(l) => {
                    let text = std::str::from_utf8(&l.0).ok()?;
                    let mut chars = text.chars();
                    let (Some(c), None) = (chars.next(), chars.next()) else {
                        return None;
                    };
                    CharSet::of_char(c)
                }
                _ => return None,
            };
            items.push(Item::Run {
                class,
                min: r.min,
                max: r.max.unwrap_or(u32::MAX),
            });
        }
        HirKind::Capture(c) => {
            let g = c.index as usize;
            items.push(Item::Open(g));
            flatten(&c.sub, items)?;
            items.push(Item::Close(g));
        }
        HirKind::Concat(parts) => {
            for p in parts {
                flatten(p, items)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// The characters a match of `items` can start with (nothing for the end of the text).
fn first_chars(items: &[Item]) -> CharSet {
    let mut set = CharSet::new([false; 128], Vec::new());
    for item in items {
        match item {
            Item::Literal(l) => {
                if let Some(c) = std::str::from_utf8(l).ok().and_then(|t| t.chars().next()) {
                    set.union(&CharSet::of_char(c));
                }
                break;
            }
            Item::Run { class, min, .. } => {
                set.union(class);
                if *min > 0 {
                    break;
                }
            }
            Item::Open(_) | Item::Close(_) => {}
            Item::End => break,
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::re2::re2_to_rust;

    const W2: &str = r#"^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)"#;

    fn accepted(pattern: &str) -> bool {
        SeqMatcher::new(&re2_to_rust(pattern)).is_some()
    }

    /// Patterns the matcher takes; the differential test runs each of them.
    const SEQUENCES: [&str; 22] = [
        W2,
        r"^(\d+)-(\d+)$",
        r"^(\w+)=(\w*);",
        r"^\[([^\]]*)\] (.*)",
        r"^(?i)level=(\w+) ",
        r"^(\d{4})-(\d{2})-(\d{2})",
        r"^(\S+) (\S{2,5}) ",
        r"^(\p{Han}+)，(\S+)",
        r"^(?i)(a{2,3})(b)",
        r"^a*b",
        r#"^(\S+) \S+ (\S+) \[[^\]]+\] "(\w+) .*$"#,
        r"^([^\s]+)\s+([^\s]+)\s",
        r"^",
        // Unanchored: starting with a literal or an unbounded run.
        r"(\S+) (\S+)",
        r"(\w+)=(\w*);",
        r"\[([^\]]*)\]",
        r"level=(\w+)",
        r#""(\S+) (\S+) [^"]*" (\d+)"#,
        r"(\d+)-(\d+)$",
        r"(?i)(LEVEL)=(\w+) ",
        r"((\p{Han}+))，",
        r"(\d{2})-(\S+)",
    ];

    #[test]
    fn sequences_without_backtracking_are_accepted() {
        for p in SEQUENCES {
            assert!(accepted(p), "{p}");
        }
    }

    #[test]
    fn anything_that_may_backtrack_is_left_to_regex() {
        for p in [
            r"(\d*)x",           // unanchored, starting with a run that may be empty
            r"(?:)",             // unanchored, empty
            r"^(\S+)(\d+)",      // the run could give characters back
            r"^(.*) (\S+)",      // `.` includes the space
            r"^(\S+?) ",         // lazy
            r"^(ab|c) ",         // alternation
            r"^(ab)+",           // repeated group
            r"^\b\w+",           // look-around
            r"^a$b",             // `$` not last
            r"(?m)^(\S+) (\S+)", // line anchors
            r"^(\d*)\d",
        ] {
            assert!(!accepted(p), "{p}");
        }
    }

    /// Lines like the benchmark's, then mutated byte by byte, shortened and mixed with
    /// non-ASCII text: the matcher agrees with `regex` on every one, for every accepted pattern.
    #[test]
    fn matches_and_groups_agree_with_regex() {
        let base = [
            r#"10.57.12.190 - - [14/Nov/2023:22:13:20 +0000] "GET /static/app.js?id=96531&page=4 HTTP/1.1" 302 48540 "-" "python-requests/2.31.0" 0.111"#,
            r#"10.0.0.1 - bob [01/Jan/2024:00:00:00 +0000] "POST /é/ü HTTP/2" 500 0"#,
            "2024-01-02 level=ERROR msg=x\u{2003}y 名字，值 a=1;b=;",
            "[héllo wörld] tail text 123-456",
            "aaab 1-2 LEVEL=warn ",
        ];
        let mut lines: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        let inserts = [
            " ", "\"", "]", "[", "9", "é", "\u{2003}", "\t", "-", "x", "\u{1}", "\u{b}", "\u{c}",
            "\r", "\u{7f}", "\u{85}", "\u{a0}",
        ];
        let mut seed = 7u64;
        for b in base {
            for _ in 0..300 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let mut s: Vec<char> = b.chars().collect();
                let at = (seed >> 33) as usize % (s.len() + 1);
                match (seed >> 20) % 3 {
                    0 if at < s.len() => {
                        s.remove(at);
                    }
                    1 => s.truncate(at),
                    _ => s.insert(
                        at,
                        inserts[(seed >> 40) as usize % inserts.len()]
                            .chars()
                            .next()
                            .unwrap(),
                    ),
                }
                lines.push(s.into_iter().collect());
            }
        }
        for p in SEQUENCES {
            let rust = re2_to_rust(p);
            let m = SeqMatcher::new(&rust).unwrap_or_else(|| panic!("{p} not accepted"));
            let re = regex::Regex::new(&rust).unwrap();
            assert_eq!(m.groups(), re.captures_len(), "{p}");
            let mut locs = re.capture_locations();
            let mut slots = vec![None; m.groups()];
            for line in &lines {
                slots.iter_mut().for_each(|s| *s = None);
                let want = re.captures_read(&mut locs, line).is_some();
                let got = m.captures(line, &mut slots);
                assert_eq!(got == Found::Match, want, "{p} on {line:?}");
                assert_ne!(got, Found::Undecided, "{p} on {line:?}");
                if want {
                    for (g, slot) in slots.iter().enumerate() {
                        assert_eq!(*slot, locs.get(g), "{p} group {g} on {line:?}");
                    }
                }
            }
        }
    }

    /// The word-at-a-time scan stops where the bytewise one does, at every offset and for
    /// every byte value in the word (control characters are in `\S`, spaces are not).
    #[test]
    fn scan_words_stops_where_the_bytewise_scan_does() {
        let mut table = [true; 256];
        for stop in [b'\t', b'\n', 0x0c, b'\r', b' '] {
            table[stop as usize] = false;
        }
        assert_eq!(stops_below(&table), 0x21);
        assert_eq!(stops_below(&[true; 256]), 0);
        let mut digits = [false; 256];
        digits[b'0' as usize..=b'9' as usize].fill(true);
        assert_eq!(
            stops_below(&digits),
            0,
            "bytes above ASCII stop a digit run"
        );
        for len in 0..40 {
            for at in 0..=len {
                for byte in [0u8, 1, 9, 0x0b, 0x0c, 0x20, 0x21, 0x7f, 0x80, 0xff] {
                    let mut b = vec![b'a'; len];
                    if at < len {
                        b[at] = byte;
                    }
                    for from in 0..=len.min(9) {
                        let mut want = from;
                        while want < b.len() && table[b[want] as usize] {
                            want += 1;
                        }
                        assert_eq!(
                            scan_words(&b, from, &table, 0x21),
                            want,
                            "{b:?} from {from}"
                        );
                    }
                }
            }
        }
    }

    /// A line on which every start fails late would make the search quadratic: it gives up
    /// and leaves the line to `regex`.
    #[test]
    fn a_search_that_would_be_quadratic_is_left_to_regex() {
        let m = SeqMatcher::new(r"(\w+)=x([^;]*);").unwrap();
        let mut slots = vec![None; m.groups()];
        let line = "a=x ".repeat(5_000);
        assert_eq!(m.captures(&line, &mut slots), Found::Undecided);
        let short = "a=x b=x c=x";
        assert_eq!(m.captures(short, &mut slots), Found::NoMatch);
        assert_eq!(m.captures("q a=x 1; z", &mut slots), Found::Match);
        assert_eq!(slots[1], Some((2, 3)));
        assert_eq!(slots[2], Some((5, 7)));
    }
}

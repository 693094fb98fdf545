//! Date/time format strings: MySQL-style (`%Y-%m-%d %H:%i:%s`) and Joda (`yyyy-MM-dd`) patterns.
//!
//! A format string is compiled once into a [`DateFormat`] (a list of items) that can both print an
//! instant in a session zone and parse text back into an instant. The MySQL specifiers follow
//! Presto's `date_format`/`date_parse` table (which Presto implements on Joda's builder), the
//! pattern letters follow Joda's `DateTimeFormat` as used by `format_datetime`/`parse_datetime`.
//!
//! Parsing rules (as in Joda): a numeric field reads 1 to its maximum number of digits (greedy);
//! names (`Jan`, `January`, `Mon`, `AM`) and literals match case-insensitively; fields that are not
//! in the format default to 1970-01-01 00:00:00; the whole input must be consumed. Weekday names
//! are checked for shape but do not move the date unless a week number (`%v`, `w`) is given.
//! Without a parsed zone the wall time is read in the session zone.
//!
//! Deviations: Joda's long zone names (`zzzz`, "China Standard Time") print the IANA id instead;
//! `%D`, `%w` are supported although Presto rejects them; `%U %u %V %X` are rejected.
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};

use crate::timezone::{offset_text, parse_offset, SessionTz};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A numeric calendar field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumField {
    Year,
    YearOfEra,
    Century,
    WeekYear,
    WeekOfWeekYear,
    Month,
    DayOfMonth,
    DayOfYear,
    /// 0–23.
    HourOfDay,
    /// 1–24 (Joda `k`).
    ClockHourOfDay,
    /// 0–11 (Joda `K`).
    HourOfHalfDay,
    /// 1–12.
    ClockHourOfHalfDay,
    Minute,
    Second,
    /// 1 = Monday … 7 = Sunday.
    DayOfWeekIso,
    /// 0 = Sunday … 6 = Saturday (MySQL `%w`).
    DayOfWeekSun0,
}

impl NumField {
    /// Name and valid range, for parse errors.
    fn range(self) -> (&'static str, i64, i64) {
        match self {
            NumField::Year | NumField::WeekYear => ("year", -292_000, 292_000),
            NumField::YearOfEra => ("year of era", 1, 292_000),
            NumField::Century => ("century", 0, 2920),
            NumField::WeekOfWeekYear => ("week of year", 1, 53),
            NumField::Month => ("month", 1, 12),
            NumField::DayOfMonth => ("day of month", 1, 31),
            NumField::DayOfYear => ("day of year", 1, 366),
            NumField::HourOfDay => ("hour of day", 0, 23),
            NumField::ClockHourOfDay => ("clock hour of day", 1, 24),
            NumField::HourOfHalfDay => ("hour of half day", 0, 11),
            NumField::ClockHourOfHalfDay => ("clock hour of half day", 1, 12),
            NumField::Minute => ("minute", 0, 59),
            NumField::Second => ("second", 0, 59),
            NumField::DayOfWeekIso => ("day of week", 1, 7),
            NumField::DayOfWeekSun0 => ("day of week", 0, 6),
        }
    }
}

/// One compiled element of a format.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    /// Printed zero-padded to `min_width`; parsed as 1..=`max_parse` digits.
    Number {
        field: NumField,
        min_width: usize,
        max_parse: usize,
    },
    /// `yy`/`%y`: prints the last two digits; parses two digits around a pivot year. `lenient`
    /// (Joda, when no numeric field follows) reads any other digit count as a literal year.
    TwoDigitYear {
        field: NumField,
        lenient: bool,
    },
    /// Fraction of a second: printed with `print_digits` digits (truncated), parsed as 1..=`max_parse`.
    Fraction {
        print_digits: usize,
        max_parse: usize,
    },
    MonthName {
        long: bool,
    },
    WeekdayName {
        long: bool,
    },
    /// `AM` / `PM`.
    HalfDay,
    /// `AD` / `BC`.
    Era,
    /// Day of month with English suffix (`1st`, `22nd`).
    DaySuffix,
    /// `+0800` or (`colon`) `+08:00`; parses `Z` too.
    ZoneOffset {
        colon: bool,
    },
    /// Zone id (`Asia/Shanghai`, `UTC`, `+08:00`).
    ZoneId,
    /// Zone abbreviation (`CST`, `UTC`); `long` prints the id.
    ZoneName {
        long: bool,
    },
}

/// A compiled date/time format, reusable for printing and parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    items: Vec<Item>,
}

fn num(field: NumField, min_width: usize, max_parse: usize) -> Item {
    Item::Number {
        field,
        min_width,
        max_parse,
    }
}

fn lit(s: &str) -> Item {
    Item::Literal(s.to_string())
}

/// Appends a literal, merging with a preceding literal.
fn push_literal(items: &mut Vec<Item>, s: &str) {
    if let Some(Item::Literal(prev)) = items.last_mut() {
        prev.push_str(s);
    } else {
        items.push(lit(s));
    }
}

impl DateFormat {
    /// Compiles a MySQL-style format (`%Y-%m-%d %H:%i:%s`) as used by `date_format`/`date_parse`.
    /// `%x` for an unlisted `x` stands for the character itself; `%U %u %V %X` are rejected.
    pub fn mysql(format: &str) -> Result<DateFormat, String> {
        use NumField::*;
        let mut items = Vec::new();
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                push_literal(&mut items, c.encode_utf8(&mut [0; 4]));
                continue;
            }
            let Some(spec) = chars.next() else {
                push_literal(&mut items, "%");
                break;
            };
            match spec {
                'a' => items.push(Item::WeekdayName { long: false }),
                'b' => items.push(Item::MonthName { long: false }),
                'c' => items.push(num(Month, 1, 2)),
                'D' => items.push(Item::DaySuffix),
                'd' => items.push(num(DayOfMonth, 2, 2)),
                'e' => items.push(num(DayOfMonth, 1, 2)),
                'f' => items.push(Item::Fraction {
                    print_digits: 6,
                    max_parse: 9,
                }),
                'H' => items.push(num(HourOfDay, 2, 2)),
                'h' | 'I' => items.push(num(ClockHourOfHalfDay, 2, 2)),
                'i' => items.push(num(Minute, 2, 2)),
                'j' => items.push(num(DayOfYear, 3, 3)),
                'k' => items.push(num(HourOfDay, 1, 2)),
                'l' => items.push(num(ClockHourOfHalfDay, 1, 2)),
                'M' => items.push(Item::MonthName { long: true }),
                'm' => items.push(num(Month, 2, 2)),
                'p' => items.push(Item::HalfDay),
                'r' => items.extend([
                    num(ClockHourOfHalfDay, 2, 2),
                    lit(":"),
                    num(Minute, 2, 2),
                    lit(":"),
                    num(Second, 2, 2),
                    lit(" "),
                    Item::HalfDay,
                ]),
                'S' | 's' => items.push(num(Second, 2, 2)),
                'T' => items.extend([
                    num(HourOfDay, 2, 2),
                    lit(":"),
                    num(Minute, 2, 2),
                    lit(":"),
                    num(Second, 2, 2),
                ]),
                'v' => items.push(num(WeekOfWeekYear, 2, 2)),
                'W' => items.push(Item::WeekdayName { long: true }),
                'w' => items.push(num(DayOfWeekSun0, 1, 1)),
                'x' => items.push(num(WeekYear, 4, 4)),
                'Y' => items.push(num(Year, 4, 4)),
                'y' => items.push(Item::TwoDigitYear {
                    field: Year,
                    lenient: false,
                }),
                'U' | 'u' | 'V' | 'X' => {
                    return Err(format!(
                        "format specifier %{spec} is not supported (use %v and %x for ISO weeks)"
                    ));
                }
                other => push_literal(&mut items, other.encode_utf8(&mut [0; 4])),
            }
        }
        Ok(DateFormat { items })
    }

    /// Compiles a Joda pattern (`yyyy-MM-dd HH:mm:ss.SSS Z`) as used by `format_datetime`/
    /// `parse_datetime`. Text in single quotes is literal (`''` is a quote); other non-letters are
    /// literal; unknown pattern letters are an error.
    pub fn joda(pattern: &str) -> Result<DateFormat, String> {
        enum Tok {
            Letter(char, usize),
            Text(String),
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_alphabetic() {
                let start = i;
                while i < chars.len() && chars[i] == c {
                    i += 1;
                }
                toks.push(Tok::Letter(c, i - start));
            } else if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    toks.push(Tok::Text("'".into()));
                    i += 2;
                    continue;
                }
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated quote in pattern '{pattern}'")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                toks.push(Tok::Text(text));
            } else {
                toks.push(Tok::Text(c.to_string()));
                i += 1;
            }
        }
        let is_numeric = |t: Option<&Tok>| match t {
            Some(Tok::Letter(c, n)) => {
                matches!(
                    c,
                    'C' | 'x'
                        | 'w'
                        | 'e'
                        | 'y'
                        | 'Y'
                        | 'D'
                        | 'd'
                        | 'H'
                        | 'k'
                        | 'K'
                        | 'h'
                        | 'm'
                        | 's'
                        | 'S'
                ) || (*c == 'M' && *n <= 2)
            }
            _ => false,
        };
        use NumField::*;
        let mut items = Vec::new();
        for (idx, tok) in toks.iter().enumerate() {
            let (c, n) = match tok {
                Tok::Text(t) => {
                    push_literal(&mut items, t);
                    continue;
                }
                Tok::Letter(c, n) => (*c, *n),
            };
            let next_numeric = is_numeric(toks.get(idx + 1));
            let item = match c {
                'G' => Item::Era,
                'C' => num(Century, n, n.min(9)),
                'y' | 'Y' | 'x' => {
                    let field = match c {
                        'y' => Year,
                        'Y' => YearOfEra,
                        _ => WeekYear,
                    };
                    if n == 2 {
                        Item::TwoDigitYear {
                            field: if c == 'x' { WeekYear } else { Year },
                            lenient: !next_numeric,
                        }
                    } else {
                        num(field, n, if next_numeric { n.min(9) } else { 9 })
                    }
                }
                'w' => num(WeekOfWeekYear, n, 2),
                'e' => num(DayOfWeekIso, n, 1),
                'E' => Item::WeekdayName { long: n >= 4 },
                'D' => num(DayOfYear, n, 3),
                'M' if n >= 3 => Item::MonthName { long: n >= 4 },
                'M' => num(Month, n, 2),
                'd' => num(DayOfMonth, n, 2),
                'a' => Item::HalfDay,
                'K' => num(HourOfHalfDay, n, 2),
                'h' => num(ClockHourOfHalfDay, n, 2),
                'H' => num(HourOfDay, n, 2),
                'k' => num(ClockHourOfDay, n, 2),
                'm' => num(Minute, n, 2),
                's' => num(Second, n, 2),
                'S' => Item::Fraction {
                    print_digits: n,
                    max_parse: n,
                },
                'z' => Item::ZoneName { long: n >= 4 },
                'Z' if n == 1 => Item::ZoneOffset { colon: false },
                'Z' if n == 2 => Item::ZoneOffset { colon: true },
                'Z' => Item::ZoneId,
                other => {
                    return Err(format!(
                        "illegal pattern component '{other}' in '{pattern}'"
                    ));
                }
            };
            items.push(item);
        }
        Ok(DateFormat { items })
    }

    /// Prints the instant `ns` as seen in zone `tz`.
    pub fn format(&self, ns: i64, tz: &SessionTz) -> String {
        let mut out = String::new();
        self.format_into(&mut out, ns, tz);
        out
    }

    /// Like [`DateFormat::format`], appending to `out`.
    pub fn format_into(&self, out: &mut String, ns: i64, tz: &SessionTz) {
        use std::fmt::Write;
        let local = tz.to_local(ns);
        for item in &self.items {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::Number {
                    field, min_width, ..
                } => {
                    push_padded(out, field_value(&local, *field), *min_width);
                }
                Item::TwoDigitYear { field, .. } => {
                    push_padded(out, field_value(&local, *field).rem_euclid(100), 2);
                }
                Item::Fraction { print_digits, .. } => {
                    let nanos = format!("{:09}", local.nanosecond() % 1_000_000_000);
                    let shown = (*print_digits).min(9);
                    out.push_str(&nanos[..shown]);
                    out.extend(std::iter::repeat_n('0', print_digits - shown));
                }
                Item::MonthName { long } => {
                    let name = MONTHS[local.month0() as usize];
                    out.push_str(if *long { name } else { &name[..3] });
                }
                Item::WeekdayName { long } => {
                    let name = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
                    out.push_str(if *long { name } else { &name[..3] });
                }
                Item::HalfDay => out.push_str(if local.hour() < 12 { "AM" } else { "PM" }),
                Item::Era => out.push_str(if local.year() > 0 { "AD" } else { "BC" }),
                Item::DaySuffix => {
                    let d = local.day();
                    let suffix = match (d % 10, d % 100) {
                        (_, 11..=13) => "th",
                        (1, _) => "st",
                        (2, _) => "nd",
                        (3, _) => "rd",
                        _ => "th",
                    };
                    let _ = write!(out, "{d}{suffix}");
                }
                Item::ZoneOffset { colon } => {
                    out.push_str(&offset_text(tz.offset_seconds_at(ns), *colon))
                }
                Item::ZoneId | Item::ZoneName { long: true } => out.push_str(&tz.to_string()),
                Item::ZoneName { long: false } => out.push_str(&tz.abbreviation_at(ns)),
            }
        }
    }

    /// Parses `text` into an instant (ns); a zone in the text wins over `tz`.
    pub fn parse(&self, text: &str, tz: &SessionTz) -> Result<i64, String> {
        let (local, zone) = self.parse_local(text)?;
        zone.as_ref()
            .unwrap_or(tz)
            .from_local(local)
            .ok_or_else(|| format!("\"{text}\" is outside the supported timestamp range"))
    }

    /// Parses `text` into a wall time and the zone it names, if any.
    pub fn parse_local(&self, text: &str) -> Result<(NaiveDateTime, Option<SessionTz>), String> {
        let mut p = Parsed::default();
        let mut pos = 0;
        let malformed = |pos: usize| {
            format!(
                "invalid format: \"{text}\" is malformed at \"{}\"",
                &text[pos..]
            )
        };
        for item in &self.items {
            let rest = &text[pos..];
            let used = match item {
                Item::Literal(s) => {
                    let n = s.len();
                    match rest.get(..n) {
                        Some(head) if head.eq_ignore_ascii_case(s) => n,
                        _ => return Err(malformed(pos)),
                    }
                }
                Item::Number {
                    field, max_parse, ..
                } => {
                    let (v, used) = take_digits(rest, *max_parse).ok_or_else(|| malformed(pos))?;
                    p.set(*field, v)?;
                    used
                }
                Item::TwoDigitYear { field, lenient } => {
                    let max = if *lenient { 9 } else { 2 };
                    let (v, used) = take_digits(rest, max).ok_or_else(|| malformed(pos))?;
                    let year = if used == 2 {
                        pivot_two_digit_year(v)
                    } else if *lenient {
                        v
                    } else {
                        return Err(malformed(pos));
                    };
                    p.set(*field, year)?;
                    used
                }
                Item::Fraction { max_parse, .. } => {
                    let digits = rest
                        .bytes()
                        .take(*max_parse)
                        .take_while(u8::is_ascii_digit)
                        .count();
                    if digits == 0 {
                        return Err(malformed(pos));
                    }
                    let mut nanos: u32 = 0;
                    for (i, b) in rest.bytes().take(digits.min(9)).enumerate() {
                        nanos += u32::from(b - b'0') * 10u32.pow(8 - i as u32);
                    }
                    p.nanos = Some(nanos);
                    digits
                }
                Item::MonthName { .. } => {
                    let (i, used) = match_name(rest, &MONTHS).ok_or_else(|| malformed(pos))?;
                    p.set(NumField::Month, i as i64 + 1)?;
                    used
                }
                Item::WeekdayName { .. } => {
                    let (i, used) = match_name(rest, &WEEKDAYS).ok_or_else(|| malformed(pos))?;
                    p.set(NumField::DayOfWeekIso, i as i64 + 1)?;
                    used
                }
                Item::HalfDay => {
                    let (i, used) =
                        match_name(rest, &["AM", "PM"]).ok_or_else(|| malformed(pos))?;
                    p.pm = Some(i == 1);
                    used
                }
                Item::Era => {
                    let (i, used) =
                        match_name(rest, &["AD", "BC"]).ok_or_else(|| malformed(pos))?;
                    p.bc = i == 1;
                    used
                }
                Item::DaySuffix => {
                    let (v, used) = take_digits(rest, 2).ok_or_else(|| malformed(pos))?;
                    p.set(NumField::DayOfMonth, v)?;
                    let suffix = rest[used..].get(..2).ok_or_else(|| malformed(pos + used))?;
                    if !["st", "nd", "rd", "th"]
                        .iter()
                        .any(|s| s.eq_ignore_ascii_case(suffix))
                    {
                        return Err(malformed(pos + used));
                    }
                    used + 2
                }
                Item::ZoneOffset { .. } => {
                    if rest.starts_with(['Z', 'z']) {
                        p.zone = Some(SessionTz::UTC);
                        1
                    } else {
                        let len = rest
                            .char_indices()
                            .find(|&(i, c)| {
                                !(c.is_ascii_digit()
                                    || c == ':'
                                    || (i == 0 && (c == '+' || c == '-')))
                            })
                            .map_or(rest.len(), |(i, _)| i)
                            .min(6);
                        let off = parse_offset(&rest[..len]).ok_or_else(|| malformed(pos))?;
                        p.zone = Some(SessionTz::Fixed(off));
                        len
                    }
                }
                Item::ZoneId | Item::ZoneName { .. } => {
                    let len = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || "/_+-:".contains(c)))
                        .unwrap_or(rest.len());
                    let zone = SessionTz::parse(&rest[..len]).map_err(|_| malformed(pos))?;
                    p.zone = Some(zone);
                    len
                }
            };
            pos += used;
        }
        if pos < text.len() {
            return Err(malformed(pos));
        }
        p.resolve(text)
    }
}

/// Two-digit years (`%y`, `yy`) map into 1970–2069, as in Presto (pivot 2020).
fn pivot_two_digit_year(v: i64) -> i64 {
    if v >= 70 {
        1900 + v
    } else {
        2000 + v
    }
}

/// The numeric value of `field` for a wall time.
/// Appends `v` in decimal, zero-padded to `width` characters (as `{v:0width$}` writes it).
fn push_padded(out: &mut String, v: i64, width: usize) {
    let Ok(n) = u64::try_from(v) else {
        use std::fmt::Write;
        let _ = write!(out, "{v:0width$}");
        return;
    };
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

fn field_value(t: &NaiveDateTime, field: NumField) -> i64 {
    let v = match field {
        NumField::Year => t.year(),
        NumField::YearOfEra => {
            let y = t.year();
            if y > 0 {
                y
            } else {
                1 - y
            }
        }
        NumField::Century => t.year().div_euclid(100),
        NumField::WeekYear => t.iso_week().year(),
        NumField::WeekOfWeekYear => t.iso_week().week() as i32,
        NumField::Month => t.month() as i32,
        NumField::DayOfMonth => t.day() as i32,
        NumField::DayOfYear => t.ordinal() as i32,
        NumField::HourOfDay => t.hour() as i32,
        NumField::ClockHourOfDay => {
            if t.hour() == 0 {
                24
            } else {
                t.hour() as i32
            }
        }
        NumField::HourOfHalfDay => (t.hour() % 12) as i32,
        NumField::ClockHourOfHalfDay => match t.hour() % 12 {
            0 => 12,
            h => h as i32,
        },
        NumField::Minute => t.minute() as i32,
        NumField::Second => t.second() as i32,
        NumField::DayOfWeekIso => t.weekday().number_from_monday() as i32,
        NumField::DayOfWeekSun0 => t.weekday().num_days_from_sunday() as i32,
    };
    i64::from(v)
}

/// Reads 1..=`max` ASCII digits; returns the value and the byte count.
fn take_digits(s: &str, max: usize) -> Option<(i64, usize)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    // At most 9 digits by construction (max ≤ 9), so this cannot overflow.
    let v = s[..n]
        .bytes()
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    Some((v, n))
}

/// Matches a full name or its three-letter abbreviation, case-insensitively, preferring the full
/// name. Returns the index and the byte length matched.
fn match_name(s: &str, names: &[&str]) -> Option<(usize, usize)> {
    let starts = |n: &str| s.get(..n.len()).is_some_and(|h| h.eq_ignore_ascii_case(n));
    names
        .iter()
        .position(|n| starts(n))
        .map(|i| (i, names[i].len()))
        .or_else(|| {
            names
                .iter()
                .position(|n| n.len() > 3 && starts(&n[..3]))
                .map(|i| (i, 3))
        })
}

/// Fields collected while parsing.
#[derive(Debug, Default)]
struct Parsed {
    year: Option<i64>,
    year_of_era: Option<i64>,
    bc: bool,
    week_year: Option<i64>,
    week: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    day_of_week: Option<i64>,
    hour: Option<i64>,
    clock_hour_half: Option<i64>,
    hour_half: Option<i64>,
    pm: Option<bool>,
    minute: Option<i64>,
    second: Option<i64>,
    nanos: Option<u32>,
    zone: Option<SessionTz>,
}

impl Parsed {
    /// Records a numeric field after checking its range.
    fn set(&mut self, field: NumField, v: i64) -> Result<(), String> {
        let (name, lo, hi) = field.range();
        if v < lo || v > hi {
            return Err(format!(
                "value {v} for {name} must be in the range [{lo},{hi}]"
            ));
        }
        let slot = match field {
            NumField::Year => &mut self.year,
            NumField::YearOfEra => &mut self.year_of_era,
            NumField::Century => return Ok(()),
            NumField::WeekYear => &mut self.week_year,
            NumField::WeekOfWeekYear => &mut self.week,
            NumField::Month => &mut self.month,
            NumField::DayOfMonth => &mut self.day,
            NumField::DayOfYear => &mut self.day_of_year,
            NumField::HourOfDay => &mut self.hour,
            NumField::ClockHourOfDay => {
                self.hour = Some(v % 24);
                return Ok(());
            }
            NumField::HourOfHalfDay => &mut self.hour_half,
            NumField::ClockHourOfHalfDay => &mut self.clock_hour_half,
            NumField::Minute => &mut self.minute,
            NumField::Second => &mut self.second,
            NumField::DayOfWeekIso => &mut self.day_of_week,
            NumField::DayOfWeekSun0 => {
                self.day_of_week = Some(if v == 0 { 7 } else { v });
                return Ok(());
            }
        };
        *slot = Some(v);
        Ok(())
    }

    /// Combines the fields into a wall time.
    fn resolve(self, text: &str) -> Result<(NaiveDateTime, Option<SessionTz>), String> {
        let invalid = || format!("\"{text}\" is not a valid date");
        let mut year = self.year;
        if let Some(yoe) = self.year_of_era {
            year = Some(if self.bc { 1 - yoe } else { yoe });
        } else if self.bc {
            year = year.map(|y| 1 - y);
        }
        let year = i32::try_from(year.unwrap_or(1970)).map_err(|_| invalid())?;
        let date = if let Some(doy) = self.day_of_year {
            NaiveDate::from_yo_opt(year, doy as u32)
        } else if let Some(week) = self.week {
            let wy = self.week_year.map_or(year, |w| w as i32);
            let dow = self.day_of_week.unwrap_or(1);
            let weekday = Weekday::try_from(dow as u8 - 1).map_err(|_| invalid())?;
            NaiveDate::from_isoywd_opt(wy, week as u32, weekday)
        } else {
            NaiveDate::from_ymd_opt(
                year,
                self.month.unwrap_or(1) as u32,
                self.day.unwrap_or(1) as u32,
            )
        }
        .ok_or_else(invalid)?;
        let pm_add = if self.pm == Some(true) { 12 } else { 0 };
        let hour = self
            .hour
            .or(self.clock_hour_half.map(|h| h % 12 + pm_add))
            .or(self.hour_half.map(|h| h + pm_add))
            .unwrap_or(0);
        let time = NaiveTime::from_hms_nano_opt(
            hour as u32,
            self.minute.unwrap_or(0) as u32,
            self.second.unwrap_or(0) as u32,
            self.nanos.unwrap_or(0),
        )
        .ok_or_else(|| format!("\"{text}\" is not a valid time"))?;
        Ok((NaiveDateTime::new(date, time), self.zone))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn padded_numbers_match_the_format_macro() {
        for v in [
            0,
            5,
            9,
            10,
            42,
            99,
            100,
            2023,
            12345,
            i64::MAX,
            -1,
            -7,
            -42,
            -12345,
            i64::MIN,
        ] {
            for width in 0..6 {
                let mut out = String::from("x");
                super::push_padded(&mut out, v, width);
                assert_eq!(out, format!("x{v:0width$}"), "{v} width {width}");
            }
        }
    }

    use super::*;

    fn ns(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_nanos_opt()
            .unwrap()
    }

    fn utc() -> SessionTz {
        SessionTz::UTC
    }

    #[test]
    fn mysql_format_all_specifiers() {
        let t = ns("2023-09-03 07:04:05.123456789"); // a Sunday
        let f = |s: &str| DateFormat::mysql(s).unwrap().format(t, &utc());
        assert_eq!(f("%Y-%m-%d %H:%i:%s"), "2023-09-03 07:04:05");
        assert_eq!(f("%a %b %c %D %d %e %f"), "Sun Sep 9 3rd 03 3 123456");
        assert_eq!(f("%H %h %I %i %j %k %l"), "07 07 07 04 246 7 7");
        assert_eq!(
            f("%M %m %p %r %S %s %T"),
            "September 09 AM 07:04:05 AM 05 05 07:04:05"
        );
        assert_eq!(f("%v %W %w %x %Y %y %% %q"), "35 Sunday 0 2023 2023 23 % q");
        assert_eq!(f("%"), "%");
        let pm = ns("2023-01-01 00:30:00");
        assert_eq!(
            DateFormat::mysql("%h %l %p").unwrap().format(pm, &utc()),
            "12 12 AM"
        );
        let pm = ns("2023-01-21 23:30:00");
        assert_eq!(
            DateFormat::mysql("%r %D").unwrap().format(pm, &utc()),
            "11:30:00 PM 21st"
        );
        assert!(DateFormat::mysql("%U")
            .unwrap_err()
            .contains("%U is not supported"));
    }

    #[test]
    fn mysql_format_uses_zone() {
        let t = ns("2023-09-21 10:59:37.055");
        let plus8 = SessionTz::parse("+08:00").unwrap();
        assert_eq!(
            DateFormat::mysql("%H:%i:%s").unwrap().format(t, &utc()),
            "10:59:37"
        );
        assert_eq!(
            DateFormat::mysql("%H:%i:%s").unwrap().format(t, &plus8),
            "18:59:37"
        );
    }

    #[test]
    fn mysql_parse() {
        let p = |s: &str, f: &str| DateFormat::mysql(f).unwrap().parse(s, &utc());
        assert_eq!(
            p("2022-10-19 15:46:05", "%Y-%m-%d %H:%i:%s"),
            Ok(ns("2022-10-19 15:46:05"))
        );
        assert_eq!(
            p("2020-09-17 9:00:00", "%Y-%m-%d %H:%i:%s"),
            Ok(ns("2020-09-17 09:00:00"))
        );
        assert_eq!(
            p("19/Oct/2022:15:46:05", "%d/%b/%Y:%H:%i:%s"),
            Ok(ns("2022-10-19 15:46:05"))
        );
        assert_eq!(
            p("19 october 2022", "%d %M %Y"),
            Ok(ns("2022-10-19 00:00:00"))
        );
        assert_eq!(p("03:04:05 PM", "%r"), Ok(ns("1970-01-01 15:04:05")));
        assert_eq!(p("12:04 am", "%h:%i %p"), Ok(ns("1970-01-01 00:04:00")));
        assert_eq!(p("05.12", "%s.%f"), Ok(ns("1970-01-01 00:00:05.120")));
        assert_eq!(p("22-1-5", "%y-%c-%e"), Ok(ns("2022-01-05 00:00:00")));
        assert_eq!(p("99-12-31", "%y-%m-%d"), Ok(ns("1999-12-31 00:00:00")));
        assert_eq!(p("2023 032", "%Y %j"), Ok(ns("2023-02-01 00:00:00")));
        assert_eq!(p("2023 01 Tue", "%x %v %a"), Ok(ns("2023-01-03 00:00:00")));
        assert_eq!(
            p("21st Jan 2023", "%D %b %Y"),
            Ok(ns("2023-01-21 00:00:00"))
        );
        let plus8 = SessionTz::parse("+08:00").unwrap();
        assert_eq!(
            DateFormat::mysql("%Y-%m-%d %H:%i:%S")
                .unwrap()
                .parse("2023-11-11 01:23:45", &plus8),
            Ok(1_699_637_025_000_000_000)
        );
        let err = p("2022-10-19 15:46", "%Y-%m-%d %H:%i:%s").unwrap_err();
        assert!(err.contains("malformed at \"\""), "{err}");
        let err = p("2022-10-19x", "%Y-%m-%d").unwrap_err();
        assert!(err.contains("malformed at \"x\""), "{err}");
        let err = p("2022-13-19", "%Y-%m-%d").unwrap_err();
        assert!(
            err.contains("value 13 for month must be in the range [1,12]"),
            "{err}"
        );
        let err = p("2022-02-30", "%Y-%m-%d").unwrap_err();
        assert!(err.contains("not a valid date"), "{err}");
        assert!(p("abc", "%Y").is_err());
        assert!(p("", "%Y").is_err());
    }

    #[test]
    fn joda_format() {
        let t = ns("2018-08-17 16:05:09.042");
        let f = |s: &str| DateFormat::joda(s).unwrap().format(t, &utc());
        assert_eq!(f("yyyyMMdd"), "20180817");
        assert_eq!(f("yyyy-MM-dd HH:mm:ss.SSS"), "2018-08-17 16:05:09.042");
        assert_eq!(f("yy M d H h hh a"), "18 8 17 16 4 04 PM");
        assert_eq!(f("MMM MMMM EEE EEEE"), "Aug August Fri Friday");
        assert_eq!(f("Z ZZ ZZZ z"), "+0000 +00:00 UTC UTC");
        assert_eq!(f("'at' HH 'o''clock' ''"), "at 16 o'clock '");
        assert_eq!(f("D e k K G S SSSSSS"), "229 5 16 4 AD 0 042000");
        let sh = SessionTz::parse("Asia/Shanghai").unwrap();
        assert_eq!(
            DateFormat::joda("HH:mm Z ZZZ z").unwrap().format(t, &sh),
            "00:05 +0800 Asia/Shanghai CST"
        );
        assert!(DateFormat::joda("yyyy-MM-dd Q")
            .unwrap_err()
            .contains("illegal pattern component 'Q'"));
        assert!(DateFormat::joda("'abc")
            .unwrap_err()
            .contains("unterminated quote"));
    }

    #[test]
    fn joda_parse() {
        let p = |s: &str, f: &str| DateFormat::joda(f).unwrap().parse(s, &utc());
        assert_eq!(p("20220101", "yyyyMMdd"), Ok(ns("2022-01-01 00:00:00")));
        assert_eq!(
            p("2022-1-5 9:3:7", "yyyy-M-d H:m:s"),
            Ok(ns("2022-01-05 09:03:07"))
        );
        assert_eq!(
            p("2022-01-05 09:03:07.5", "yyyy-MM-dd HH:mm:ss.SSS"),
            Ok(ns("2022-01-05 09:03:07.500"))
        );
        assert_eq!(
            p("05 Jan 2022 08:00 PM", "dd MMM yyyy hh:mm a"),
            Ok(ns("2022-01-05 20:00:00"))
        );
        assert_eq!(
            p("2022-01-05 08:00 +0800", "yyyy-MM-dd HH:mm Z"),
            Ok(ns("2022-01-05 00:00:00"))
        );
        assert_eq!(
            p("2022-01-05 08:00 +08:00", "yyyy-MM-dd HH:mm ZZ"),
            Ok(ns("2022-01-05 00:00:00"))
        );
        assert_eq!(
            p("2022-01-05 08:00 Asia/Shanghai", "yyyy-MM-dd HH:mm ZZZ"),
            Ok(ns("2022-01-05 00:00:00"))
        );
        assert_eq!(
            p("2022-01-05T08:00Z", "yyyy-MM-dd'T'HH:mmZ"),
            Ok(ns("2022-01-05 08:00:00"))
        );
        assert_eq!(p("22-01-05", "yy-MM-dd"), Ok(ns("2022-01-05 00:00:00")));
        assert_eq!(p("2022-01-05", "yy-MM-dd"), Ok(ns("2022-01-05 00:00:00")));
        assert!(p("2022-01-05", "yyyy-MM-dd HH")
            .unwrap_err()
            .contains("malformed"));
        assert!(p("2022-01-05 08:00 +99:00", "yyyy-MM-dd HH:mm ZZ").is_err());
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            "",
            "年",
            "2022年01月",
            "+",
            "-",
            "9999999999999999999999",
            "Z",
            "+08:0",
            "\u{0}",
            "1st",
            "12:00 P",
            "2022-01-05 08:00 +08:00年",
        ];
        let formats = [
            DateFormat::mysql("%Y-%m-%d %H:%i:%s.%f %p %D %b").unwrap(),
            DateFormat::mysql("%Y年%m月").unwrap(),
            DateFormat::joda("yyyy-MM-dd HH:mm ZZ").unwrap(),
            DateFormat::joda("yyyyyyyyyyyyyyyyyyyyyy SSSSSSSSSSSSSS ZZZ z EEEE a G").unwrap(),
        ];
        for f in &formats {
            for s in inputs {
                let _ = f.parse(s, &utc());
            }
            let _ = f.format(i64::MIN, &utc());
            let _ = f.format(i64::MAX, &SessionTz::parse("Asia/Shanghai").unwrap());
        }
        assert_eq!(
            DateFormat::mysql("%Y年%m月")
                .unwrap()
                .parse("2022年01月", &utc()),
            Ok(ns("2022-01-01 00:00:00"))
        );
    }

    #[test]
    fn round_trips() {
        let t = ns("2024-02-29 23:59:58.007");
        for f in [
            "yyyy-MM-dd HH:mm:ss.SSS",
            "EEEE, d MMMM yyyy hh:mm:ss.SSS a",
            "yyyyDDD HHmmss.SSS",
        ] {
            let df = DateFormat::joda(f).unwrap();
            assert_eq!(df.parse(&df.format(t, &utc()), &utc()), Ok(t), "{f}");
        }
        let df = DateFormat::mysql("%W %M %e %Y %r %f").unwrap();
        assert_eq!(df.parse(&df.format(t, &utc()), &utc()), Ok(t));
    }
}

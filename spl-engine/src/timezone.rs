//! The session time zone (spec §18.1): parsing `UTC`, `+08:00`, IANA names, and converting
//! between instants and wall-clock time.
//!
//! A TIMESTAMP is an instant (nanoseconds since the Unix epoch, UTC). It is shown, and naive text is
//! interpreted, in the session zone. The engine stores the zone in DataFusion's
//! `config.execution.time_zone`; functions read it back with [`SessionTz::from_config`] (unset means
//! UTC).
//!
//! Wall time → instant is ambiguous around daylight-saving transitions. The rule here is "earliest":
//! a wall time that occurs twice (clocks go back) maps to the earlier instant; a wall time that does
//! not exist (clocks go forward) is read with the offset in force just before the gap, which lands
//! the same distance past the transition (02:30 in a 02:00→03:00 gap becomes 03:30), as Java's
//! `ZonedDateTime.ofLocal` does.
use std::fmt;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Timelike,
};
use chrono_tz::{OffsetName, Tz};
use datafusion_common::config::ConfigOptions;
use datafusion_common::{DataFusionError, Result};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A session time zone: a fixed UTC offset or an IANA zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTz {
    /// A fixed offset from UTC (`UTC`, `Z`, `+08:00`, `-05:30`).
    Fixed(FixedOffset),
    /// An IANA zone such as `Asia/Shanghai`, with its daylight-saving rules.
    Named(Tz),
}

impl Default for SessionTz {
    fn default() -> Self {
        SessionTz::UTC
    }
}

impl fmt::Display for SessionTz {
    /// `UTC`, `+08:00`, or the IANA name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionTz::Fixed(off) if off.local_minus_utc() == 0 => f.write_str("UTC"),
            SessionTz::Fixed(off) => f.write_str(&offset_text(off.local_minus_utc(), true)),
            SessionTz::Named(tz) => f.write_str(tz.name()),
        }
    }
}

impl SessionTz {
    /// Coordinated Universal Time, the default session zone.
    pub const UTC: SessionTz = SessionTz::Fixed(match FixedOffset::east_opt(0) {
        Some(off) => off,
        None => unreachable!(),
    });

    /// Parses a zone: `UTC`/`GMT`/`Z` (any case), a fixed offset `+08:00`, `+0800`, `+08`,
    /// `-5:30`, optionally prefixed by `UTC`/`GMT` (`UTC+8`), or an IANA name (`Asia/Shanghai`).
    pub fn parse(text: &str) -> std::result::Result<SessionTz, String> {
        let s = text.trim();
        if s.is_empty() {
            return Err("empty time zone".to_string());
        }
        let upper = s.to_ascii_uppercase();
        if matches!(upper.as_str(), "UTC" | "Z" | "GMT" | "UT" | "ZULU") {
            return Ok(SessionTz::UTC);
        }
        let offset_part = ["UTC", "GMT"]
            .iter()
            .find_map(|p| upper.strip_prefix(p))
            .filter(|rest| rest.starts_with(['+', '-']))
            .map(|rest| &s[s.len() - rest.len()..])
            .unwrap_or(s);
        if offset_part.starts_with(['+', '-']) {
            return parse_offset(offset_part)
                .map(SessionTz::Fixed)
                .ok_or_else(|| format!("invalid time zone offset '{s}' (expected e.g. +08:00)"));
        }
        s.parse::<Tz>().map(SessionTz::Named).map_err(|_| {
            format!("unknown time zone '{s}' (expected UTC, an offset like +08:00, or an IANA name like Asia/Shanghai)")
        })
    }

    /// The session zone from DataFusion's `execution.time_zone` option (unset → UTC).
    pub fn from_config(config: &ConfigOptions) -> Result<SessionTz> {
        match config.execution.time_zone.as_deref() {
            None => Ok(SessionTz::UTC),
            Some(s) => SessionTz::parse(s)
                .map_err(|e| DataFusionError::Configuration(format!("session time zone: {e}"))),
        }
    }

    /// The zone's UTC offset in seconds at the given instant.
    pub fn offset_seconds_at(&self, ns: i64) -> i32 {
        match self {
            SessionTz::Fixed(off) => off.local_minus_utc(),
            SessionTz::Named(tz) => tz
                .offset_from_utc_datetime(&utc_naive(ns))
                .fix()
                .local_minus_utc(),
        }
    }

    /// The zone abbreviation in force at the instant (`CST`, `EDT`); offsets render as `+08:00`.
    pub fn abbreviation_at(&self, ns: i64) -> String {
        match self {
            SessionTz::Fixed(_) => self.to_string(),
            SessionTz::Named(tz) => {
                let off = tz.offset_from_utc_datetime(&utc_naive(ns));
                match off.abbreviation() {
                    Some(a) => a.to_string(),
                    None => offset_text(off.fix().local_minus_utc(), true),
                }
            }
        }
    }

    /// Wall-clock time in this zone of the instant `ns` (nanoseconds since the epoch).
    pub fn to_local(&self, ns: i64) -> NaiveDateTime {
        let utc = utc_naive(ns);
        // The i64 nanosecond range (years 1677..2262) is far inside chrono's range, so the
        // addition cannot overflow; fall back to UTC rather than panic regardless.
        utc.checked_add_signed(TimeDelta::seconds(i64::from(self.offset_seconds_at(ns))))
            .unwrap_or(utc)
    }

    /// The instant (ns since the epoch) of the wall-clock time `local` in this zone, or `None`
    /// when it falls outside the representable range (years 1677..2262). DST: see the module doc.
    pub fn from_local(&self, local: NaiveDateTime) -> Option<i64> {
        let offset = match self {
            SessionTz::Fixed(off) => off.local_minus_utc(),
            SessionTz::Named(tz) => match tz.offset_from_local_datetime(&local) {
                LocalResult::Single(off) => off.fix().local_minus_utc(),
                LocalResult::Ambiguous(a, b) => {
                    // The earlier instant has the larger offset.
                    a.fix().local_minus_utc().max(b.fix().local_minus_utc())
                }
                LocalResult::None => {
                    // In a gap: use the offset in force a day earlier (before the transition).
                    let before = local.checked_sub_signed(TimeDelta::days(1))?;
                    tz.offset_from_utc_datetime(&before).fix().local_minus_utc()
                }
            },
        };
        let utc = local.checked_sub_signed(TimeDelta::seconds(i64::from(offset)))?;
        utc.and_utc().timestamp_nanos_opt()
    }
}

/// Formats an offset in seconds as `+08:00` (`colon`) or `+0800`.
pub fn offset_text(secs: i32, colon: bool) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m) = (abs / 3600, abs / 60 % 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// Parses `+HH:MM`, `+HHMM`, `+HH`, `+H`, `+H:MM` (sign required) into an offset within ±18 h.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits_ok =
        |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|b| b.is_ascii_digit());
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        if !digits_ok(h) || m.len() != 2 || !digits_ok(m) {
            return None;
        }
        (h, m)
    } else if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) {
        (&rest[..2], &rest[2..])
    } else if digits_ok(rest) {
        (rest, "0")
    } else {
        return None;
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 18 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// The UTC wall time of an instant; total over `i64`.
fn utc_naive(ns: i64) -> NaiveDateTime {
    DateTime::from_timestamp_nanos(ns).naive_utc()
}

/// Renders an instant as `YYYY-MM-DD HH:MM:SS.fff` in the zone (spec §18.4); the fraction is
/// truncated to milliseconds.
pub fn format_timestamp(ns: i64, tz: &SessionTz) -> String {
    let local = tz.to_local(ns);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.nanosecond() / 1_000_000
    )
}

/// Parses timestamp text as CAST(VARCHAR AS TIMESTAMP) does: `YYYY-MM-DD`, optionally followed by
/// a space or `T` and `H[H]:MM[:SS[.f{1,9}]]`, optionally followed by a zone (`Z`, `+08:00`,
/// `UTC`, `Asia/Shanghai`, with or without a space before it) which overrides `tz`. Surrounding
/// whitespace is ignored. Returns the instant in ns, or `None` when the text is not a timestamp.
pub fn parse_timestamp_text(s: &str, tz: &SessionTz) -> Option<i64> {
    let (local, zone) = parse_local_datetime(s, false)?;
    zone.as_ref().unwrap_or(tz).from_local(local)
}

/// Parses ISO 8601 text (`2020-05-11`, `2020-05-11T11:15:05.055+09:00`, `2020-05`, `2020`):
/// the `T` separator only, hour-only and minute-only times allowed. Returns the wall time and the
/// zone when the text carries one.
pub fn parse_iso8601(s: &str) -> Option<(NaiveDateTime, Option<SessionTz>)> {
    parse_local_datetime(s, true)
}

/// Shared parser behind [`parse_timestamp_text`] and [`parse_iso8601`].
fn parse_local_datetime(s: &str, iso: bool) -> Option<(NaiveDateTime, Option<SessionTz>)> {
    let mut cur = Cursor::new(s.trim());
    let year = cur.digits(4, 4)?;
    let (mut month, mut day) = (1, 1);
    if cur.eat(b'-') {
        month = cur.digits(1, 2)?;
        if cur.eat(b'-') {
            day = cur.digits(1, 2)?;
        } else if !iso {
            return None;
        }
    } else if !iso {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let mut time = NaiveTime::MIN;
    let has_time = if iso {
        cur.eat(b'T')
    } else {
        cur.eat(b'T')
            || (cur.peek() == Some(b' ')
                && cur
                    .rest()
                    .trim_start()
                    .starts_with(|c: char| c.is_ascii_digit()))
    };
    if has_time {
        cur.skip_spaces();
        let hour = cur.digits(1, 2)?;
        let (mut minute, mut second, mut nanos) = (0, 0, 0);
        if cur.eat(b':') {
            minute = cur.digits(1, 2)?;
            if cur.eat(b':') {
                second = cur.digits(1, 2)?;
                if cur.eat(b'.') || (iso && cur.eat(b',')) {
                    let start = cur.pos;
                    let frac = cur.digits(1, 9)?;
                    let width = (cur.pos - start) as u32;
                    nanos = frac * 10u32.pow(9 - width);
                }
            }
        } else if !iso {
            return None;
        }
        time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    }
    let rest = cur.rest();
    let zone = if rest.trim().is_empty() {
        None
    } else if iso {
        let z = rest.trim_end();
        if z == "Z" {
            Some(SessionTz::UTC)
        } else {
            Some(SessionTz::Fixed(parse_offset(z)?))
        }
    } else {
        Some(SessionTz::parse(rest).ok()?)
    };
    Some((NaiveDateTime::new(date, time), zone))
}

/// A tiny byte cursor for the fixed-shape parsers above.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }
    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }
    /// Between `min` and `max` ASCII digits (greedy) as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.pos;
        let mut v: u32 = 0;
        while self.pos - start < max {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos - start >= min).then_some(v)
    }
}

/// Splits an instant into whole seconds (floor) and the nanosecond remainder.
pub fn split_seconds(ns: i64) -> (i64, u32) {
    (
        ns.div_euclid(NANOS_PER_SEC),
        ns.rem_euclid(NANOS_PER_SEC) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(s: &str) -> i64 {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn parses_zones() {
        assert_eq!(SessionTz::parse("UTC").unwrap(), SessionTz::UTC);
        assert_eq!(SessionTz::parse("z").unwrap(), SessionTz::UTC);
        let plus8 = SessionTz::Fixed(FixedOffset::east_opt(8 * 3600).unwrap());
        assert_eq!(SessionTz::parse("+08:00").unwrap(), plus8);
        assert_eq!(SessionTz::parse("+0800").unwrap(), plus8);
        assert_eq!(SessionTz::parse("+8").unwrap(), plus8);
        assert_eq!(SessionTz::parse("UTC+8").unwrap(), plus8);
        assert_eq!(
            SessionTz::parse("-05:30").unwrap(),
            SessionTz::Fixed(FixedOffset::west_opt(5 * 3600 + 1800).unwrap())
        );
        assert_eq!(
            SessionTz::parse("Asia/Shanghai").unwrap(),
            SessionTz::Named(chrono_tz::Asia::Shanghai)
        );
        assert!(SessionTz::parse("Mars/Olympus")
            .unwrap_err()
            .contains("unknown time zone"));
        assert!(SessionTz::parse("+25:00").unwrap_err().contains("invalid"));
        assert!(SessionTz::parse("").is_err());
        assert_eq!(SessionTz::parse("+08:00").unwrap().to_string(), "+08:00");
        assert_eq!(SessionTz::UTC.to_string(), "UTC");
    }

    #[test]
    fn from_config_defaults_to_utc() {
        let mut options = ConfigOptions::default();
        assert_eq!(SessionTz::from_config(&options).unwrap(), SessionTz::UTC);
        options.execution.time_zone = Some("+08:00".into());
        assert_eq!(
            SessionTz::from_config(&options)
                .unwrap()
                .offset_seconds_at(0),
            28800
        );
        options.execution.time_zone = Some("nowhere".into());
        assert!(SessionTz::from_config(&options).is_err());
    }

    #[test]
    fn converts_and_formats() {
        let t = ns("2023-09-21 10:59:37.055");
        assert_eq!(
            format_timestamp(t, &SessionTz::UTC),
            "2023-09-21 10:59:37.055"
        );
        let plus8 = SessionTz::parse("+08:00").unwrap();
        assert_eq!(format_timestamp(t, &plus8), "2023-09-21 18:59:37.055");
        assert_eq!(plus8.from_local(plus8.to_local(t)), Some(t));
        assert_eq!(
            format_timestamp(-1, &SessionTz::UTC),
            "1969-12-31 23:59:59.999"
        );
    }

    #[test]
    fn dst_rules_pick_earliest() {
        let ny = SessionTz::parse("America/New_York").unwrap();
        // 2021-11-07 01:30 happens twice; the earlier is EDT (-4).
        let amb =
            NaiveDateTime::parse_from_str("2021-11-07 01:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(ny.from_local(amb), Some(ns("2021-11-07 05:30:00")));
        // 2021-03-14 02:30 does not exist; read with EST (-5) → 07:30Z = 03:30 EDT.
        let gap =
            NaiveDateTime::parse_from_str("2021-03-14 02:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let inst = ny.from_local(gap).unwrap();
        assert_eq!(inst, ns("2021-03-14 07:30:00"));
        assert_eq!(format_timestamp(inst, &ny), "2021-03-14 03:30:00.000");
        assert_eq!(ny.abbreviation_at(inst), "EDT");
    }

    #[test]
    fn parses_timestamp_text() {
        let utc = SessionTz::UTC;
        assert_eq!(
            parse_timestamp_text("2020-09-17 9:00:00", &utc),
            Some(1_600_333_200 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_timestamp_text("2020-09-17T09:00:00", &utc),
            Some(1_600_333_200 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_timestamp_text(" 2020-09-17 ", &utc),
            Some(ns("2020-09-17 00:00:00"))
        );
        assert_eq!(
            parse_timestamp_text("2024-03-13 16:44:58.800", &utc),
            Some(ns("2024-03-13 16:44:58.800"))
        );
        assert_eq!(
            parse_timestamp_text("2024-03-13 16:44:58.123456789", &utc),
            Some(ns("2024-03-13 16:44:58.123456789"))
        );
        let plus8 = SessionTz::parse("+08:00").unwrap();
        assert_eq!(
            parse_timestamp_text("2023-11-11 01:23:45", &plus8),
            Some(1_699_637_025 * NANOS_PER_SEC)
        );
        // A zone in the text overrides the session zone.
        assert_eq!(
            parse_timestamp_text("2023-11-11 01:23:45+08:00", &utc),
            Some(1_699_637_025 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_timestamp_text("2023-11-11 01:23:45 Asia/Shanghai", &utc),
            Some(1_699_637_025 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_timestamp_text("2023-11-10T17:23:45Z", &plus8),
            Some(1_699_637_025 * NANOS_PER_SEC)
        );
        assert_eq!(
            parse_timestamp_text("2023-11-10 17:23", &utc),
            Some(ns("2023-11-10 17:23:00"))
        );
        for bad in [
            "",
            "abc",
            "2023-13-01",
            "2023-02-30",
            "2023-01-01 25:00:00",
            "2023-01-01 10",
            "2023-01-01 10:00:00 junk",
            "20230101",
        ] {
            assert_eq!(parse_timestamp_text(bad, &utc), None, "{bad}");
        }
    }

    #[test]
    fn parses_iso8601() {
        let (local, zone) = parse_iso8601("2020-05-11T11:15:05.055+09:00").unwrap();
        assert_eq!(local.to_string(), "2020-05-11 11:15:05.055");
        assert_eq!(zone.unwrap().offset_seconds_at(0), 9 * 3600);
        assert_eq!(
            parse_iso8601("2020-05").unwrap().0.to_string(),
            "2020-05-01 00:00:00"
        );
        assert_eq!(
            parse_iso8601("2020-05-11T11").unwrap().0.to_string(),
            "2020-05-11 11:00:00"
        );
        assert!(parse_iso8601("2020-05-11 11:00").is_none());
        assert!(parse_iso8601("2020-05-11T11:00Asia/Shanghai").is_none());
    }
}

//! SLS datetime functions (spec §7.4): conversions between epoch seconds, text and TIMESTAMP,
//! truncation and arithmetic, field extraction, and MySQL/Joda formatting and parsing.
//!
//! A TIMESTAMP is an instant (`Timestamp(Nanosecond, None)`, ns since the epoch, UTC). Field
//! extraction, truncation, formatting and the reading of naive text all happen in the session zone
//! (spec §18.1), read from `config.execution.time_zone` through [`SessionTz::from_config`].
//!
//! Decisions:
//! - Arguments typed as TIMESTAMP also accept DATE (its local midnight) and VARCHAR (parsed as
//!   `CAST(x AS TIMESTAMP)` would: [`parse_timestamp_text`]; unparseable text is an error).
//! - `from_unixtime(sec, zone)` and `at_timezone(ts, zone)`: a TIMESTAMP carries no zone, so the
//!   result is the instant whose rendering in the session zone shows the wall time of `zone`
//!   (the instant is shifted by the difference between the two zones' offsets). With a UTC
//!   session, `from_unixtime(0, '+01:00')` renders `1970-01-01 01:00:00.000`.
//! - `from_unixtime` of a DOUBLE keeps microsecond precision (the precision a double of current
//!   epoch seconds holds), rounding to the nearest microsecond.
//! - `parse_datetime(s, fmt)` reads `fmt` as a MySQL-style format when it contains `%` (the
//!   Logtail corpus calls it with `'%Y-%m-%d %H:%i:%s'`), else as a Joda pattern.
//! - `date_add`/`date_diff`/`date_trunc` work on the instant for units below a day and on the
//!   session-zone wall time for day and longer units (so `date_add('day', 1, ts)` keeps the wall
//!   clock across a DST change). Month arithmetic clamps to the month's end (Jan 31 + 1 month =
//!   Feb 28/29); `date_diff` counts whole units, truncating toward zero.
//! - `now()`, `current_timestamp`, `localtimestamp` all return the current instant.
use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, StringViewBuilder,
    TimestampNanosecondArray,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use datafusion_common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, Volatility};

use super::common::{function_def, invoke_rowwise, op_udf, UdfOp};
use super::datetime_format::DateFormat;
use super::{Example, Family, FunctionDef};
use crate::cache::{BoundedCache, LastUsed};
use crate::timezone::{format_timestamp, parse_iso8601, parse_timestamp_text, SessionTz};
use crate::types::TIMESTAMP;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;
/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// A field extracted from a TIMESTAMP or DATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Field {
    Day,
    DayOfWeek,
    DayOfYear,
    Hour,
    Millisecond,
    Minute,
    Month,
    Quarter,
    Second,
    Week,
    Year,
    YearOfWeek,
    /// Hours of the session zone's UTC offset at the instant.
    TimezoneHour,
    /// Minutes of the session zone's UTC offset beyond the whole hours (signed as the offset).
    TimezoneMinute,
}

impl Field {
    /// The field of `extract(field FROM x)` (Presto's list; case-insensitive).
    fn named(name: &str) -> Option<Field> {
        Some(match name.to_ascii_lowercase().as_str() {
            "year" => Field::Year,
            "quarter" => Field::Quarter,
            "month" => Field::Month,
            "week" => Field::Week,
            "day" | "day_of_month" => Field::Day,
            "day_of_week" | "dow" => Field::DayOfWeek,
            "day_of_year" | "doy" => Field::DayOfYear,
            "year_of_week" | "yow" => Field::YearOfWeek,
            "hour" => Field::Hour,
            "minute" => Field::Minute,
            "second" => Field::Second,
            "timezone_hour" => Field::TimezoneHour,
            "timezone_minute" => Field::TimezoneMinute,
            _ => return None,
        })
    }
}

/// Which function a [`DateTimeUdf`] implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    CurrentDate,
    Now,
    CurrentTimezone,
    Date,
    FromUnixtime,
    ToUnixtime,
    DateTrunc,
    DateAdd,
    DateDiff,
    DateFormat,
    DateParse,
    ParseDatetime,
    FormatDatetime,
    Extract(Field),
    /// `extract(field FROM x)`, parsed as `extract('field', x)`.
    ExtractNamed,
    CurrentTime,
    LocalTime,
    FromIso8601Timestamp,
    FromIso8601Date,
    ToIso8601,
    AtTimezone,
}

/// How an argument is coerced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    /// TIMESTAMP; DATE and VARCHAR also accepted.
    Time,
    /// VARCHAR (units, formats, zones, text to parse).
    Text,
    /// BIGINT.
    Int,
    /// BIGINT or DOUBLE (or VARCHAR holding a number): epoch seconds.
    Number,
}

impl Kind {
    /// The accepted argument lists.
    fn arities(self) -> &'static [&'static [Arg]] {
        use Arg::*;
        match self {
            Kind::CurrentDate
            | Kind::Now
            | Kind::CurrentTimezone
            | Kind::CurrentTime
            | Kind::LocalTime => &[&[]],
            Kind::ExtractNamed => &[&[Text, Time]],
            Kind::Date | Kind::ToUnixtime | Kind::Extract(_) | Kind::ToIso8601 => &[&[Time]],
            Kind::FromUnixtime => &[&[Number], &[Number, Text], &[Number, Int, Int]],
            Kind::DateTrunc => &[&[Text, Time]],
            Kind::DateAdd => &[&[Text, Int, Time]],
            Kind::DateDiff => &[&[Text, Time, Time]],
            Kind::DateFormat | Kind::FormatDatetime | Kind::AtTimezone => &[&[Time, Text]],
            Kind::DateParse | Kind::ParseDatetime => &[&[Text, Text]],
            Kind::FromIso8601Timestamp | Kind::FromIso8601Date => &[&[Text]],
        }
    }
}

/// One datetime function as a DataFusion UDF.
fn udf(name: &'static str, aliases: &[&str], kind: Kind) -> Arc<ScalarUDF> {
    let volatility = match kind {
        Kind::CurrentDate | Kind::Now | Kind::CurrentTime | Kind::LocalTime => Volatility::Volatile,
        _ => Volatility::Immutable,
    };
    op_udf(name, aliases, kind, volatility)
}

/// Coerces one argument type.
fn coerce_arg(name: &str, arg: Arg, t: &DataType) -> Result<DataType> {
    use DataType::*;
    let ok = match (arg, t) {
        (Arg::Time, Timestamp(_, _) | Null) => Some(TIMESTAMP),
        (Arg::Time, Date32 | Date64) => Some(Date32),
        (Arg::Time | Arg::Text | Arg::Number, Utf8 | Utf8View) => Some(Utf8View),
        (Arg::Text, Null) => Some(Utf8View),
        (Arg::Int | Arg::Number, Null) => Some(Int64),
        (
            Arg::Int | Arg::Number,
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64,
        ) => Some(Int64),
        (Arg::Number, Float16 | Float32 | Float64 | Decimal128(_, _) | Decimal256(_, _)) => {
            Some(Float64)
        }
        _ => None,
    };
    let want = match arg {
        Arg::Time => "TIMESTAMP",
        Arg::Text => "VARCHAR",
        Arg::Int => "BIGINT",
        Arg::Number => "BIGINT or DOUBLE",
    };
    match ok {
        Some(t) => Ok(t),
        None => plan_err!("{name}: expected {want} argument, got {t}"),
    }
}

impl UdfOp for Kind {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let arities = self.arities();
        let Some(args) = arities.iter().find(|a| a.len() == arg_types.len()) else {
            let counts: Vec<String> = arities.iter().map(|a| a.len().to_string()).collect();
            return plan_err!(
                "{}: expected {} argument(s), got {}",
                name,
                counts.join(" or "),
                arg_types.len()
            );
        };
        args.iter()
            .zip(arg_types)
            .map(|(a, t)| coerce_arg(name, *a, t))
            .collect()
    }

    fn return_type(self, _name: &str, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self {
            Kind::CurrentDate | Kind::Date | Kind::FromIso8601Date => DataType::Date32,
            Kind::Now
            | Kind::FromUnixtime
            | Kind::DateParse
            | Kind::ParseDatetime
            | Kind::FromIso8601Timestamp
            | Kind::AtTimezone => TIMESTAMP,
            Kind::DateTrunc | Kind::DateAdd => match arg_types.last() {
                Some(DataType::Date32) => DataType::Date32,
                _ => TIMESTAMP,
            },
            Kind::ToUnixtime => DataType::Float64,
            Kind::DateDiff | Kind::Extract(_) | Kind::ExtractNamed => DataType::Int64,
            Kind::DateFormat
            | Kind::FormatDatetime
            | Kind::ToIso8601
            | Kind::CurrentTimezone
            | Kind::CurrentTime
            | Kind::LocalTime => DataType::Utf8View,
        })
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let tz = SessionTz::from_config(&args.config_options)?;
        if args.args.is_empty() {
            return nullary(self, &tz);
        }
        invoke_rowwise(&args, |arrays, rows| {
            Ok(match self {
                Kind::CurrentDate
                | Kind::Now
                | Kind::CurrentTimezone
                | Kind::CurrentTime
                | Kind::LocalTime => {
                    return exec_err!("{name}: takes no arguments");
                }
                Kind::Date => {
                    let t = TimeCol::new(&arrays[0])?;
                    let v = (0..rows)
                        .map(|i| Ok(t.local(i, &tz, name)?.map(|l| days_since_epoch(l.date()))))
                        .collect::<Result<Date32Array>>()?;
                    Arc::new(v)
                }
                Kind::FromUnixtime => from_unixtime(name, arrays, rows, &tz)?,
                Kind::ToUnixtime => {
                    let t = TimeCol::new(&arrays[0])?;
                    let v = (0..rows)
                        .map(|i| Ok(t.instant(i, &tz, name)?.map(ns_to_seconds)))
                        .collect::<Result<Float64Array>>()?;
                    Arc::new(v)
                }
                Kind::DateTrunc => date_trunc(name, arrays, rows, &tz)?,
                Kind::DateAdd => date_add(name, arrays, rows, &tz)?,
                Kind::DateDiff => date_diff(name, arrays, rows, &tz)?,
                Kind::DateFormat | Kind::FormatDatetime => {
                    format_column(name, self == Kind::DateFormat, arrays, rows, &tz)?
                }
                Kind::DateParse | Kind::ParseDatetime => {
                    parse_column(name, self == Kind::DateParse, arrays, rows, &tz)?
                }
                Kind::Extract(field) => {
                    let t = TimeCol::new(&arrays[0])?;
                    let v = (0..rows)
                        .map(|i| field_at(&t, i, &tz, name, field))
                        .collect::<Result<Int64Array>>()?;
                    Arc::new(v)
                }
                Kind::ExtractNamed => {
                    let f = StrCol::new(&arrays[0])?;
                    let t = TimeCol::new(&arrays[1])?;
                    let v = (0..rows)
                        .map(|i| {
                            let Some(text) = f.get(i) else {
                                return Ok(None);
                            };
                            let Some(field) = Field::named(text) else {
                                return Err(exec_error(
                                    name,
                                    format!("'{text}' is not a field of extract"),
                                ));
                            };
                            field_at(&t, i, &tz, name, field)
                        })
                        .collect::<Result<Int64Array>>()?;
                    Arc::new(v)
                }
                Kind::FromIso8601Timestamp => {
                    let s = StrCol::new(&arrays[0])?;
                    let v = (0..rows)
                        .map(|i| {
                            s.get(i)
                                .map(|text| {
                                    let (local, zone) = parse_iso8601(text).ok_or_else(|| {
                                        exec_error(
                                            name,
                                            format!("invalid ISO 8601 timestamp '{text}'"),
                                        )
                                    })?;
                                    zone.as_ref().unwrap_or(&tz).from_local(local).ok_or_else(
                                        || {
                                            exec_error(
                                                name,
                                                format!("'{text}' is out of the supported range"),
                                            )
                                        },
                                    )
                                })
                                .transpose()
                        })
                        .collect::<Result<TimestampNanosecondArray>>()?;
                    Arc::new(v)
                }
                Kind::FromIso8601Date => {
                    let s = StrCol::new(&arrays[0])?;
                    let v = (0..rows)
                        .map(|i| {
                            s.get(i)
                                .map(|text| match parse_iso8601(text) {
                                    Some((local, None)) if !text.contains('T') => {
                                        Ok(days_since_epoch(local.date()))
                                    }
                                    _ => Err(exec_error(
                                        name,
                                        format!("invalid ISO 8601 date '{text}'"),
                                    )),
                                })
                                .transpose()
                        })
                        .collect::<Result<Date32Array>>()?;
                    Arc::new(v)
                }
                Kind::ToIso8601 => {
                    let mut b = StringViewBuilder::with_capacity(rows);
                    if let TimeCol::Date(d) = TimeCol::new(&arrays[0])? {
                        for i in 0..rows {
                            b.append_option(
                                d.is_valid(i)
                                    .then(|| date_from_days(d.value(i)).to_string()),
                            );
                        }
                    } else {
                        let t = TimeCol::new(&arrays[0])?;
                        for i in 0..rows {
                            b.append_option(t.instant(i, &tz, name)?.map(|ns| to_iso8601(ns, &tz)));
                        }
                    }
                    Arc::new(b.finish())
                }
                Kind::AtTimezone => {
                    let t = TimeCol::new(&arrays[0])?;
                    let z = StrCol::new(&arrays[1])?;
                    let mut zones = ZoneCache::default();
                    let v = (0..rows)
                        .map(|i| {
                            let (Some(ns), Some(zone)) = (t.instant(i, &tz, name)?, z.get(i))
                            else {
                                return Ok(None);
                            };
                            let zone = zones.get(name, zone)?;
                            shift_to_zone(ns, &zone, &tz)
                                .map(Some)
                                .ok_or_else(|| exec_error(name, "result is out of range"))
                        })
                        .collect::<Result<TimestampNanosecondArray>>()?;
                    Arc::new(v)
                }
            })
        })
    }
}

/// Functions without arguments.
fn nullary(kind: Kind, tz: &SessionTz) -> Result<ColumnarValue> {
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    Ok(ColumnarValue::Scalar(match kind {
        Kind::CurrentDate => ScalarValue::Date32(Some(days_since_epoch(tz.to_local(now).date()))),
        Kind::Now => ScalarValue::TimestampNanosecond(Some(now), None),
        Kind::CurrentTimezone => ScalarValue::Utf8View(Some(tz.to_string())),
        Kind::CurrentTime | Kind::LocalTime => {
            let wall = tz.to_local(now).format("%H:%M:%S%.3f").to_string();
            ScalarValue::Utf8View(Some(if kind == Kind::CurrentTime {
                wall + &crate::timezone::offset_text(tz.offset_seconds_at(now), true)
            } else {
                wall
            }))
        }
        _ => return exec_err!("function requires arguments"),
    }))
}

fn exec_error(name: &str, msg: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{name}: {msg}"))
}

/// A VARCHAR column (Utf8View, Utf8 or all-NULL).
enum StrCol<'a> {
    View(&'a arrow::array::StringViewArray),
    Utf8(&'a arrow::array::StringArray),
    Null,
}

impl<'a> StrCol<'a> {
    fn new(a: &'a ArrayRef) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Utf8View => StrCol::View(a.as_string_view()),
            DataType::Utf8 => StrCol::Utf8(a.as_string::<i32>()),
            DataType::Null => StrCol::Null,
            t => return exec_err!("expected a VARCHAR column, got {t}"),
        })
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            StrCol::View(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            StrCol::Null => None,
        }
    }
}

/// A TIMESTAMP-like column: timestamps, dates, or text to parse.
enum TimeCol<'a> {
    Ts(TimestampNanosecondArray),
    Date(&'a Date32Array),
    Text(StrCol<'a>),
    Null,
}

impl<'a> TimeCol<'a> {
    fn new(a: &'a ArrayRef) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Timestamp(TimeUnit::Nanosecond, _) => TimeCol::Ts(
                a.as_primitive::<arrow::datatypes::TimestampNanosecondType>()
                    .clone(),
            ),
            DataType::Timestamp(_, _) => {
                let c = cast(a, &TIMESTAMP)?;
                TimeCol::Ts(
                    c.as_primitive::<arrow::datatypes::TimestampNanosecondType>()
                        .clone(),
                )
            }
            DataType::Date32 => TimeCol::Date(a.as_primitive()),
            DataType::Utf8 | DataType::Utf8View => TimeCol::Text(StrCol::new(a)?),
            DataType::Null => TimeCol::Null,
            t => return exec_err!("expected a TIMESTAMP column, got {t}"),
        })
    }

    /// The instant at row `i`.
    fn instant(&self, i: usize, tz: &SessionTz, name: &str) -> Result<Option<i64>> {
        Ok(match self {
            TimeCol::Ts(a) => a.is_valid(i).then(|| a.value(i)),
            TimeCol::Date(a) if a.is_valid(i) => {
                let midnight = date_from_days(a.value(i)).and_time(chrono::NaiveTime::MIN);
                Some(
                    tz.from_local(midnight)
                        .ok_or_else(|| exec_error(name, "date out of range"))?,
                )
            }
            TimeCol::Text(s) => match s.get(i) {
                Some(text) => Some(parse_timestamp_text(text, tz).ok_or_else(|| {
                    exec_error(name, format!("cannot read '{text}' as a TIMESTAMP"))
                })?),
                None => None,
            },
            TimeCol::Date(_) | TimeCol::Null => None,
        })
    }

    /// The session-zone wall time at row `i`.
    fn local(&self, i: usize, tz: &SessionTz, name: &str) -> Result<Option<NaiveDateTime>> {
        Ok(match self {
            TimeCol::Date(a) => a
                .is_valid(i)
                .then(|| date_from_days(a.value(i)).and_time(chrono::NaiveTime::MIN)),
            _ => self.instant(i, tz, name)?.map(|ns| tz.to_local(ns)),
        })
    }
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

fn date_from_days(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days.saturating_add(UNIX_EPOCH_DAYS_FROM_CE))
        .unwrap_or(NaiveDate::MIN)
}

/// Instant → DOUBLE seconds, correctly rounded.
fn ns_to_seconds(ns: i64) -> f64 {
    let (secs, nanos) = crate::timezone::split_seconds(ns);
    secs as f64 + f64::from(nanos) / 1e9
}

/// `2018-08-17T16:00:00.000Z` / `…+08:00` in the session zone.
fn to_iso8601(ns: i64, tz: &SessionTz) -> String {
    let mut s = format_timestamp(ns, tz).replacen(' ', "T", 1);
    let off = tz.offset_seconds_at(ns);
    if off == 0 {
        s.push('Z');
    } else {
        s.push_str(&crate::timezone::offset_text(off, true));
    }
    s
}

/// The instant whose session-zone rendering shows the wall time of `zone` at `ns`.
fn shift_to_zone(ns: i64, zone: &SessionTz, session: &SessionTz) -> Option<i64> {
    session.from_local(zone.to_local(ns))
}

/// Zones kept parsed process-wide; zone arguments are nearly always constant, and a column of
/// zones rarely holds more than a few.
const MAX_CACHED_ZONES: usize = 64;
/// Compiled date formats kept process-wide, per flavour (MySQL, Joda).
const MAX_CACHED_FORMATS: usize = 64;

fn zone_cache() -> &'static BoundedCache<String, SessionTz> {
    static CACHE: OnceLock<BoundedCache<String, SessionTz>> = OnceLock::new();
    CACHE.get_or_init(|| BoundedCache::new(MAX_CACHED_ZONES))
}

fn format_cache(mysql: bool) -> &'static BoundedCache<String, Arc<DateFormat>> {
    static MYSQL: OnceLock<BoundedCache<String, Arc<DateFormat>>> = OnceLock::new();
    static JODA: OnceLock<BoundedCache<String, Arc<DateFormat>>> = OnceLock::new();
    let cache = if mysql { &MYSQL } else { &JODA };
    cache.get_or_init(|| BoundedCache::new(MAX_CACHED_FORMATS))
}

/// Parses zone arguments for one call: the last one is remembered in front of the process-wide
/// zone cache.
#[derive(Default)]
struct ZoneCache {
    last: LastUsed<String, SessionTz>,
}

impl ZoneCache {
    fn get(&mut self, name: &str, text: &str) -> Result<SessionTz> {
        self.last
            .get_or_try_insert(text, |text| {
                zone_cache().get_or_try_insert_key(text, || {
                    SessionTz::parse(text).map_err(|e| exec_error(name, e))
                })
            })
            .copied()
    }
}

/// Compiles format arguments for one call: the last one is remembered in front of the
/// process-wide format caches.
struct FormatCache {
    mysql: bool,
    last: LastUsed<String, Arc<DateFormat>>,
}

impl FormatCache {
    fn new(mysql: bool) -> Self {
        FormatCache {
            mysql,
            last: LastUsed::default(),
        }
    }

    fn get(&mut self, name: &str, text: &str) -> Result<&DateFormat> {
        let always_mysql = self.mysql;
        let format = self.last.get_or_try_insert(text, |text| {
            // `parse_datetime` is documented as Joda but called with MySQL formats in practice.
            let mysql = always_mysql || text.contains('%');
            format_cache(mysql).get_or_try_insert_key(text, || {
                if mysql {
                    DateFormat::mysql(text)
                } else {
                    DateFormat::joda(text)
                }
                .map(Arc::new)
                .map_err(|e| exec_error(name, e))
            })
        })?;
        Ok(format)
    }
}

fn from_unixtime(name: &str, arrays: &[ArrayRef], rows: usize, tz: &SessionTz) -> Result<ArrayRef> {
    let secs = &arrays[0];
    let secs = match secs.data_type() {
        DataType::Int64 | DataType::Float64 | DataType::Utf8View | DataType::Utf8 => {
            Arc::clone(secs)
        }
        DataType::Float16 | DataType::Float32 | DataType::Decimal128(_, _) => {
            cast(secs, &DataType::Float64)?
        }
        _ => cast(secs, &DataType::Int64)?,
    };
    let instant = |i: usize| -> Result<Option<i64>> {
        let out_of_range = |v: &dyn std::fmt::Display| {
            exec_error(
                name,
                format!("{v} seconds is out of the supported TIMESTAMP range"),
            )
        };
        match secs.data_type() {
            DataType::Int64 => {
                let a = secs.as_primitive::<arrow::datatypes::Int64Type>();
                if a.is_null(i) {
                    return Ok(None);
                }
                let v = a.value(i);
                v.checked_mul(NANOS_PER_SEC)
                    .map(Some)
                    .ok_or_else(|| out_of_range(&v))
            }
            DataType::Float64 => {
                let a = secs.as_primitive::<arrow::datatypes::Float64Type>();
                if a.is_null(i) {
                    return Ok(None);
                }
                let v = a.value(i);
                seconds_f64_to_ns(v)
                    .map(Some)
                    .ok_or_else(|| out_of_range(&v))
            }
            _ => {
                let s = StrCol::new(&secs)?;
                let Some(text) = s.get(i) else {
                    return Ok(None);
                };
                let t = text.trim();
                if let Ok(v) = t.parse::<i64>() {
                    return v
                        .checked_mul(NANOS_PER_SEC)
                        .map(Some)
                        .ok_or_else(|| out_of_range(&v));
                }
                match t.parse::<f64>() {
                    Ok(v) => seconds_f64_to_ns(v)
                        .map(Some)
                        .ok_or_else(|| out_of_range(&v)),
                    Err(_) => Err(exec_error(
                        name,
                        format!("'{text}' is not a number of seconds"),
                    )),
                }
            }
        }
    };
    let shifted = |ns: i64, zone: &SessionTz| {
        shift_to_zone(ns, zone, tz)
            .ok_or_else(|| exec_error(name, "result is out of the supported TIMESTAMP range"))
    };
    let v: TimestampNanosecondArray = match arrays.len() {
        1 => (0..rows).map(instant).collect::<Result<_>>()?,
        2 => {
            let z = StrCol::new(&arrays[1])?;
            let mut zones = ZoneCache::default();
            (0..rows)
                .map(|i| {
                    let (Some(ns), Some(zone)) = (instant(i)?, z.get(i)) else {
                        return Ok(None);
                    };
                    let zone = zones.get(name, zone)?;
                    shifted(ns, &zone).map(Some)
                })
                .collect::<Result<_>>()?
        }
        _ => {
            let h = arrays[1].as_primitive::<arrow::datatypes::Int64Type>();
            let m = arrays[2].as_primitive::<arrow::datatypes::Int64Type>();
            (0..rows)
                .map(|i| {
                    let Some(ns) = instant(i)? else {
                        return Ok(None);
                    };
                    if h.is_null(i) || m.is_null(i) {
                        return Ok(None);
                    }
                    let (h, m) = (h.value(i), m.value(i));
                    let offset = h
                        .checked_mul(3600)
                        .and_then(|s| s.checked_add(m.checked_mul(60)?))
                        .filter(|s| s.abs() <= 18 * 3600)
                        .and_then(|s| chrono::FixedOffset::east_opt(s as i32))
                        .ok_or_else(|| {
                            exec_error(name, format!("invalid zone offset {h} hours {m} minutes"))
                        })?;
                    shifted(ns, &SessionTz::Fixed(offset)).map(Some)
                })
                .collect::<Result<_>>()?
        }
    };
    Ok(Arc::new(v))
}

/// DOUBLE seconds → ns, rounded to the microsecond; `None` when not finite or out of range.
fn seconds_f64_to_ns(v: f64) -> Option<i64> {
    let micros = (v * 1e6).round();
    if !micros.is_finite() || micros.abs() >= 9.2e15 {
        return None;
    }
    (micros as i64).checked_mul(1000)
}

/// A `date_trunc`/`date_add`/`date_diff` unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(name: &str, text: &str) -> Result<Unit> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "millisecond" => Unit::Millisecond,
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" => Unit::Quarter,
            "year" => Unit::Year,
            _ => {
                return Err(exec_error(
                    name,
                    format!(
                        "unknown unit '{text}' (expected millisecond, second, minute, hour, day, week, month, quarter or year)"
                    ),
                ));
            }
        })
    }

    /// Length in ns for units below a day.
    fn fixed_nanos(self) -> Option<i64> {
        match self {
            Unit::Millisecond => Some(NANOS_PER_MILLI),
            Unit::Second => Some(NANOS_PER_SEC),
            Unit::Minute => Some(NANOS_PER_MINUTE),
            Unit::Hour => Some(NANOS_PER_HOUR),
            _ => None,
        }
    }

    /// Months per unit for month-based units.
    fn months(self) -> Option<i64> {
        match self {
            Unit::Month => Some(1),
            Unit::Quarter => Some(3),
            Unit::Year => Some(12),
            _ => None,
        }
    }
}

/// Truncates a wall-clock date to a day-or-longer unit.
fn trunc_date(d: NaiveDate, unit: Unit) -> Option<NaiveDate> {
    match unit {
        Unit::Week => d.checked_sub_signed(TimeDelta::days(i64::from(
            d.weekday().num_days_from_monday(),
        ))),
        Unit::Month => d.with_day(1),
        Unit::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1),
        Unit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1),
        _ => Some(d),
    }
}

fn date_trunc(name: &str, arrays: &[ArrayRef], rows: usize, tz: &SessionTz) -> Result<ArrayRef> {
    let units = StrCol::new(&arrays[0])?;
    let t = TimeCol::new(&arrays[1])?;
    if let TimeCol::Date(d) = &t {
        let v = (0..rows)
            .map(|i| {
                let (Some(u), true) = (units.get(i), d.is_valid(i)) else {
                    return Ok(None);
                };
                let unit = Unit::parse(name, u)?;
                if unit.fixed_nanos().is_some() {
                    return Err(exec_error(name, format!("'{u}' is not a valid DATE field")));
                }
                Ok(trunc_date(date_from_days(d.value(i)), unit).map(days_since_epoch))
            })
            .collect::<Result<Date32Array>>()?;
        return Ok(Arc::new(v));
    }
    let v = (0..rows)
        .map(|i| {
            let (Some(u), Some(ns)) = (units.get(i), t.instant(i, tz, name)?) else {
                return Ok(None);
            };
            let unit = Unit::parse(name, u)?;
            let local = tz.to_local(ns);
            let out = match unit.fixed_nanos() {
                Some(step) => {
                    // Within the same offset: subtract the part of the wall time below the unit.
                    let since_midnight = i64::from(local.num_seconds_from_midnight())
                        * NANOS_PER_SEC
                        + i64::from(local.nanosecond());
                    ns.checked_sub(since_midnight.rem_euclid(step))
                }
                None => trunc_date(local.date(), unit)
                    .and_then(|d| tz.from_local(d.and_time(chrono::NaiveTime::MIN))),
            };
            out.map(Some)
                .ok_or_else(|| exec_error(name, "result is out of range"))
        })
        .collect::<Result<TimestampNanosecondArray>>()?;
    Ok(Arc::new(v))
}

/// Adds `n` day-or-longer units to a wall-clock time.
fn add_to_local(local: NaiveDateTime, unit: Unit, n: i64) -> Option<NaiveDateTime> {
    if let Some(per) = unit.months() {
        let months = n.checked_mul(per)?;
        let m = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
        if months >= 0 {
            local.checked_add_months(m)
        } else {
            local.checked_sub_months(m)
        }
    } else {
        let days = if unit == Unit::Week {
            n.checked_mul(7)?
        } else {
            n
        };
        local.checked_add_signed(TimeDelta::try_days(days)?)
    }
}

fn date_add(name: &str, arrays: &[ArrayRef], rows: usize, tz: &SessionTz) -> Result<ArrayRef> {
    let units = StrCol::new(&arrays[0])?;
    let amounts = cast(&arrays[1], &DataType::Int64)?;
    let amounts = amounts.as_primitive::<arrow::datatypes::Int64Type>();
    let amount = |i: usize| amounts.is_valid(i).then(|| amounts.value(i));
    let overflow = || exec_error(name, "result is out of the supported range");
    let t = TimeCol::new(&arrays[2])?;
    if let TimeCol::Date(d) = &t {
        let v = (0..rows)
            .map(|i| {
                let (Some(u), Some(n), true) = (units.get(i), amount(i), d.is_valid(i)) else {
                    return Ok(None);
                };
                let unit = Unit::parse(name, u)?;
                if unit.fixed_nanos().is_some() {
                    return Err(exec_error(name, format!("'{u}' is not a valid DATE field")));
                }
                let local = date_from_days(d.value(i)).and_time(chrono::NaiveTime::MIN);
                let out = add_to_local(local, unit, n).ok_or_else(overflow)?;
                Ok(Some(days_since_epoch(out.date())))
            })
            .collect::<Result<Date32Array>>()?;
        return Ok(Arc::new(v));
    }
    let v = (0..rows)
        .map(|i| {
            let (Some(u), Some(n), Some(ns)) = (units.get(i), amount(i), t.instant(i, tz, name)?)
            else {
                return Ok(None);
            };
            let unit = Unit::parse(name, u)?;
            let out = match unit.fixed_nanos() {
                Some(step) => n.checked_mul(step).and_then(|d| ns.checked_add(d)),
                None => add_to_local(tz.to_local(ns), unit, n).and_then(|l| tz.from_local(l)),
            };
            out.map(Some).ok_or_else(overflow)
        })
        .collect::<Result<TimestampNanosecondArray>>()?;
    Ok(Arc::new(v))
}

/// Whole months from `a` to `b` (wall times), truncated toward zero.
fn months_between(a: NaiveDateTime, b: NaiveDateTime) -> i64 {
    let mut m = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
    if m > 0 && add_to_local(a, Unit::Month, m).is_some_and(|x| x > b) {
        m -= 1;
    } else if m < 0 && add_to_local(a, Unit::Month, m).is_some_and(|x| x < b) {
        m += 1;
    }
    m
}

fn date_diff(name: &str, arrays: &[ArrayRef], rows: usize, tz: &SessionTz) -> Result<ArrayRef> {
    let units = StrCol::new(&arrays[0])?;
    let t1 = TimeCol::new(&arrays[1])?;
    let t2 = TimeCol::new(&arrays[2])?;
    let v = (0..rows)
        .map(|i| {
            let (Some(u), Some(a), Some(b)) = (
                units.get(i),
                t1.instant(i, tz, name)?,
                t2.instant(i, tz, name)?,
            ) else {
                return Ok(None);
            };
            let unit = Unit::parse(name, u)?;
            Ok(Some(match (unit.fixed_nanos(), unit.months()) {
                (Some(step), _) => (i128::from(b) - i128::from(a))
                    .checked_div(i128::from(step))
                    .unwrap_or(0) as i64,
                (None, Some(per)) => months_between(tz.to_local(a), tz.to_local(b)) / per,
                (None, None) => {
                    let days = (tz.to_local(b) - tz.to_local(a)).num_days();
                    if unit == Unit::Week {
                        days / 7
                    } else {
                        days
                    }
                }
            }))
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(v))
}

fn format_column(
    name: &str,
    mysql: bool,
    arrays: &[ArrayRef],
    rows: usize,
    tz: &SessionTz,
) -> Result<ArrayRef> {
    let t = TimeCol::new(&arrays[0])?;
    let f = StrCol::new(&arrays[1])?;
    let mut formats = FormatCache::new(mysql);
    let mut b = StringViewBuilder::with_capacity(rows);
    let mut buf = String::new();
    for i in 0..rows {
        let (Some(fmt), Some(ns)) = (f.get(i), t.instant(i, tz, name)?) else {
            b.append_null();
            continue;
        };
        buf.clear();
        formats.get(name, fmt)?.format_into(&mut buf, ns, tz);
        b.append_value(&buf);
    }
    Ok(Arc::new(b.finish()))
}

fn parse_column(
    name: &str,
    mysql: bool,
    arrays: &[ArrayRef],
    rows: usize,
    tz: &SessionTz,
) -> Result<ArrayRef> {
    let s = StrCol::new(&arrays[0])?;
    let f = StrCol::new(&arrays[1])?;
    let mut formats = FormatCache::new(mysql);
    let v = (0..rows)
        .map(|i| {
            let (Some(text), Some(fmt)) = (s.get(i), f.get(i)) else {
                return Ok(None);
            };
            formats
                .get(name, fmt)?
                .parse(text, tz)
                .map(Some)
                .map_err(|e| exec_error(name, e))
        })
        .collect::<Result<TimestampNanosecondArray>>()?;
    Ok(Arc::new(v))
}

/// Field `field` of row `i`: of the session-zone wall time, or of the zone's offset at the
/// instant (`timezone_hour`, `timezone_minute`).
fn field_at(
    t: &TimeCol<'_>,
    i: usize,
    tz: &SessionTz,
    name: &str,
    field: Field,
) -> Result<Option<i64>> {
    Ok(match field {
        Field::TimezoneHour | Field::TimezoneMinute => t.instant(i, tz, name)?.map(|ns| {
            let off = i64::from(tz.offset_seconds_at(ns));
            if field == Field::TimezoneHour {
                off / 3600
            } else {
                off / 60 % 60
            }
        }),
        _ => t.local(i, tz, name)?.map(|l| extract(&l, field)),
    })
}

fn extract(l: &NaiveDateTime, field: Field) -> i64 {
    let v = match field {
        Field::Day => l.day(),
        Field::DayOfWeek => l.weekday().number_from_monday(),
        Field::DayOfYear => l.ordinal(),
        Field::Hour => l.hour(),
        Field::Millisecond => l.nanosecond() % 1_000_000_000 / 1_000_000,
        Field::Minute => l.minute(),
        Field::Month => l.month(),
        Field::Quarter => l.month0() / 3 + 1,
        Field::Second => l.second(),
        Field::Week => l.iso_week().week(),
        Field::Year => return i64::from(l.year()),
        Field::YearOfWeek => return i64::from(l.iso_week().year()),
        // Offsets are read from the instant ([`field_at`]), not the wall time.
        Field::TimezoneHour | Field::TimezoneMinute => 0,
    };
    i64::from(v)
}

/// An example whose result is not NULL.
macro_rules! ex {
    ($expr:expr, $result:expr $(,)?) => {
        Example {
            expr: $expr,
            result: Some($result),
        }
    };
}

fn def(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [Example],
) -> FunctionDef {
    let udf = udf(name, aliases, kind);
    function_def(
        Family::DateTime,
        name,
        aliases,
        signature,
        summary,
        examples,
        udf,
    )
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    use Field as F;
    use Kind as K;
    vec![
        def(
            "current_date",
            &[],
            K::CurrentDate,
            "current_date -> DATE",
            "Today's date in the session time zone.",
            &[ex!("current_date > date('2024-01-01')", "true")],
        ),
        def(
            "now",
            &[],
            K::Now,
            "now() -> TIMESTAMP",
            "The current instant.",
            &[ex!("now() > from_unixtime(1700000000)", "true")],
        ),
        def(
            "current_timestamp",
            &[],
            K::Now,
            "current_timestamp -> TIMESTAMP",
            "The current instant (same as now()).",
            &[ex!("current_timestamp > from_unixtime(1700000000)", "true")],
        ),
        def(
            "localtimestamp",
            &[],
            K::Now,
            "localtimestamp -> TIMESTAMP",
            "The current instant, shown in the session time zone (same as now()).",
            &[ex!("localtimestamp > from_unixtime(1700000000)", "true")],
        ),
        def(
            "current_timezone",
            &[],
            K::CurrentTimezone,
            "current_timezone() -> VARCHAR",
            "The session time zone: `UTC`, an offset such as `+08:00`, or an IANA name.",
            &[ex!("current_timezone()", "UTC")],
        ),
        def(
            "date",
            &[],
            K::Date,
            "date(x TIMESTAMP | DATE | VARCHAR) -> DATE",
            "The calendar date of `x` in the session time zone; text is read as by CAST(x AS TIMESTAMP). NULL if `x` is NULL.",
            &[
                ex!("date(from_unixtime(1534521600))", "2018-08-17"),
                ex!("date('2023-09-21 10:59:37')", "2023-09-21"),
            ],
        ),
        def(
            "from_unixtime",
            &[],
            K::FromUnixtime,
            "from_unixtime(seconds BIGINT | DOUBLE [, zone VARCHAR]) -> TIMESTAMP; from_unixtime(seconds, hours BIGINT, minutes BIGINT) -> TIMESTAMP",
            "The instant `seconds` after 1970-01-01 00:00:00 UTC. With a zone (or an hours/minutes offset) the result is shifted so that it renders the wall time of that zone. NULL if any argument is NULL.",
            &[
                ex!("from_unixtime(1534521600)", "2018-08-17 16:00:00.000"),
                ex!(
                    "from_unixtime(1534521600, '+01:00')",
                    "2018-08-17 17:00:00.000",
                ),
                ex!("from_unixtime(1695191402.5)", "2023-09-20 06:30:02.500"),
            ],
        ),
        def(
            "to_unixtime",
            &[],
            K::ToUnixtime,
            "to_unixtime(ts TIMESTAMP) -> DOUBLE",
            "Seconds since 1970-01-01 00:00:00 UTC, with the fraction. NULL if `ts` is NULL.",
            &[
                ex!("to_unixtime(from_unixtime(1534521600))", "1534521600.0"),
                ex!(
                    "to_unixtime(date_parse('2023-09-21 10:59:37.055', '%Y-%m-%d %H:%i:%s.%f'))",
                    "1695293977.055",
                ),
            ],
        ),
        def(
            "date_trunc",
            &[],
            K::DateTrunc,
            "date_trunc(unit VARCHAR, ts TIMESTAMP) -> TIMESTAMP; date_trunc(unit VARCHAR, d DATE) -> DATE",
            "Truncates to the start of the unit (millisecond, second, minute, hour, day, week = Monday, month, quarter, year) in the session time zone. NULL if an argument is NULL.",
            &[
                ex!(
                    "date_trunc('minute', from_unixtime(1534521630))",
                    "2018-08-17 16:00:00.000",
                ),
                ex!(
                    "date_trunc('month', from_unixtime(1534521600))",
                    "2018-08-01 00:00:00.000",
                ),
            ],
        ),
        def(
            "date_add",
            &[],
            K::DateAdd,
            "date_add(unit VARCHAR, n BIGINT, ts TIMESTAMP) -> TIMESTAMP; date_add(unit, n, d DATE) -> DATE",
            "Adds `n` units (millisecond … year; negative subtracts); month arithmetic clamps to the end of the month. NULL if an argument is NULL.",
            &[
                ex!(
                    "date_add('minute', 33, from_unixtime(1534521600))",
                    "2018-08-17 16:33:00.000",
                ),
                ex!(
                    "date_add('month', 1, date_parse('2023-01-31', '%Y-%m-%d'))",
                    "2023-02-28 00:00:00.000",
                ),
            ],
        ),
        def(
            "date_diff",
            &[],
            K::DateDiff,
            "date_diff(unit VARCHAR, ts1 TIMESTAMP, ts2 TIMESTAMP) -> BIGINT",
            "The number of whole units from `ts1` to `ts2` (negative when `ts2` is earlier). NULL if an argument is NULL.",
            &[
                ex!(
                    "date_diff('minute', from_unixtime(1534521600), from_unixtime(1534521800))",
                    "3",
                ),
                ex!(
                    "date_diff('day', from_unixtime(1534521600), from_unixtime(1534000000))",
                    "-6",
                ),
            ],
        ),
        def(
            "date_format",
            &[],
            K::DateFormat,
            "date_format(ts TIMESTAMP, format VARCHAR) -> VARCHAR",
            "Formats `ts` in the session time zone with MySQL-style specifiers (`%Y-%m-%d %H:%i:%s`). NULL if an argument is NULL.",
            &[
                ex!(
                    "date_format(from_unixtime(1534521600), '%Y-%m-%d %H:%i:%s')",
                    "2018-08-17 16:00:00",
                ),
                ex!(
                    "date_format(from_unixtime(1534521600), '%b %D, %Y %r')",
                    "Aug 17th, 2018 04:00:00 PM",
                ),
            ],
        ),
        def(
            "date_parse",
            &[],
            K::DateParse,
            "date_parse(s VARCHAR, format VARCHAR) -> TIMESTAMP",
            "Parses `s` with MySQL-style specifiers, as a wall time in the session time zone; text that does not match is an error. NULL if an argument is NULL.",
            &[
                ex!(
                    "date_parse('2022-10-19 15:46:05', '%Y-%m-%d %H:%i:%s')",
                    "2022-10-19 15:46:05.000",
                ),
                ex!(
                    "date_parse('19/Oct/2022:15:46:05', '%d/%b/%Y:%H:%i:%s')",
                    "2022-10-19 15:46:05.000",
                ),
            ],
        ),
        def(
            "parse_datetime",
            &[],
            K::ParseDatetime,
            "parse_datetime(s VARCHAR, format VARCHAR) -> TIMESTAMP",
            "Parses `s` with a Joda pattern (`yyyy-MM-dd HH:mm:ss`), or a MySQL-style format when it contains `%`; a zone in the text wins over the session zone. NULL if an argument is NULL.",
            &[
                ex!(
                    "parse_datetime('2018-08-12 16:13:15', 'yyyy-MM-dd HH:mm:ss')",
                    "2018-08-12 16:13:15.000",
                ),
                ex!(
                    "parse_datetime('2018-08-12 16:13:15', '%Y-%m-%d %H:%i:%s')",
                    "2018-08-12 16:13:15.000",
                ),
                ex!(
                    "parse_datetime('20180812 16:13 +0800', 'yyyyMMdd HH:mm Z')",
                    "2018-08-12 08:13:00.000",
                ),
            ],
        ),
        def(
            "format_datetime",
            &[],
            K::FormatDatetime,
            "format_datetime(ts TIMESTAMP, format VARCHAR) -> VARCHAR",
            "Formats `ts` in the session time zone with a Joda pattern (`yyyyMMdd`). NULL if an argument is NULL.",
            &[
                ex!(
                    "format_datetime(from_unixtime(1534521600), 'yyyyMMdd')",
                    "20180817",
                ),
                ex!(
                    "format_datetime(from_unixtime(1534521600), 'EEE, dd MMM yyyy HH:mm:ss Z')",
                    "Fri, 17 Aug 2018 16:00:00 +0000",
                ),
            ],
        ),
        def(
            "day",
            &["day_of_month"],
            K::Extract(F::Day),
            "day(ts TIMESTAMP | DATE) -> BIGINT",
            "Day of the month (1–31) in the session time zone. NULL if `ts` is NULL.",
            &[ex!("day(from_unixtime(1534521600))", "17")],
        ),
        def(
            "day_of_week",
            &["dow"],
            K::Extract(F::DayOfWeek),
            "day_of_week(ts TIMESTAMP | DATE) -> BIGINT",
            "ISO day of the week, 1 = Monday … 7 = Sunday. NULL if `ts` is NULL.",
            &[ex!("day_of_week(from_unixtime(1534521600))", "5")],
        ),
        def(
            "day_of_year",
            &["doy"],
            K::Extract(F::DayOfYear),
            "day_of_year(ts TIMESTAMP | DATE) -> BIGINT",
            "Day of the year (1–366). NULL if `ts` is NULL.",
            &[ex!("day_of_year(from_unixtime(1534521600))", "229")],
        ),
        def(
            "hour",
            &[],
            K::Extract(F::Hour),
            "hour(ts TIMESTAMP) -> BIGINT",
            "Hour of the day (0–23) in the session time zone. NULL if `ts` is NULL.",
            &[ex!("hour(from_unixtime(1534521600))", "16")],
        ),
        def(
            "millisecond",
            &[],
            K::Extract(F::Millisecond),
            "millisecond(ts TIMESTAMP) -> BIGINT",
            "Millisecond of the second (0–999). NULL if `ts` is NULL.",
            &[ex!("millisecond(from_unixtime(1534521600.123))", "123")],
        ),
        def(
            "minute",
            &[],
            K::Extract(F::Minute),
            "minute(ts TIMESTAMP) -> BIGINT",
            "Minute of the hour (0–59). NULL if `ts` is NULL.",
            &[ex!("minute(from_unixtime(1534522529))", "15")],
        ),
        def(
            "month",
            &[],
            K::Extract(F::Month),
            "month(ts TIMESTAMP | DATE) -> BIGINT",
            "Month of the year (1–12) in the session time zone. NULL if `ts` is NULL.",
            &[ex!("month(from_unixtime(1534521600))", "8")],
        ),
        def(
            "quarter",
            &[],
            K::Extract(F::Quarter),
            "quarter(ts TIMESTAMP | DATE) -> BIGINT",
            "Quarter of the year (1–4). NULL if `ts` is NULL.",
            &[ex!("quarter(from_unixtime(1534521600))", "3")],
        ),
        def(
            "second",
            &[],
            K::Extract(F::Second),
            "second(ts TIMESTAMP) -> BIGINT",
            "Second of the minute (0–59). NULL if `ts` is NULL.",
            &[ex!("second(from_unixtime(1534522529))", "29")],
        ),
        def(
            "week",
            &["week_of_year"],
            K::Extract(F::Week),
            "week(ts TIMESTAMP | DATE) -> BIGINT",
            "ISO week of the year (1–53; weeks start on Monday). NULL if `ts` is NULL.",
            &[ex!("week(from_unixtime(1534521600))", "33")],
        ),
        def(
            "year",
            &[],
            K::Extract(F::Year),
            "year(ts TIMESTAMP | DATE) -> BIGINT",
            "The year in the session time zone. NULL if `ts` is NULL.",
            &[ex!("year(from_unixtime(1534521600))", "2018")],
        ),
        def(
            "year_of_week",
            &["yow"],
            K::Extract(F::YearOfWeek),
            "year_of_week(ts TIMESTAMP | DATE) -> BIGINT",
            "The ISO week-numbering year (2021-01-01 belongs to 2020's week 53). NULL if `ts` is NULL.",
            &[ex!("year_of_week(from_unixtime(1609459200))", "2020")],
        ),
        def(
            "timezone_hour",
            &[],
            K::Extract(F::TimezoneHour),
            "timezone_hour(ts TIMESTAMP | DATE) -> BIGINT",
            "The hours of the session time zone's UTC offset at ts (a TIMESTAMP carries no zone of its own): 8 for Asia/Shanghai, -3 for -03:30. NULL if `ts` is NULL.",
            &[ex!("timezone_hour(from_unixtime(1534521600))", "0")],
        ),
        def(
            "timezone_minute",
            &[],
            K::Extract(F::TimezoneMinute),
            "timezone_minute(ts TIMESTAMP | DATE) -> BIGINT",
            "The minutes of the session time zone's UTC offset at ts beyond its whole hours, signed as the offset: 30 for +05:30, -30 for -03:30. NULL if `ts` is NULL.",
            &[ex!("timezone_minute(from_unixtime(1534521600))", "0")],
        ),
        def(
            "extract",
            &[],
            K::ExtractNamed,
            "extract(field FROM ts TIMESTAMP | DATE) -> BIGINT",
            "The field of ts in the session time zone, as the function of the same name returns it. field is one of year, quarter, month, week, day, day_of_month, day_of_week, dow, day_of_year, doy, year_of_week, yow, hour, minute, second, timezone_hour, timezone_minute; another word is a compile error (E1014). NULL if `ts` is NULL.",
            &[
                ex!("extract(year FROM from_unixtime(1534521600))", "2018"),
                ex!("extract(dow FROM date('2018-08-17'))", "5"),
                ex!("extract(hour FROM from_unixtime(1534522529))", "16"),
            ],
        ),
        def(
            "current_time",
            &[],
            K::CurrentTime,
            "current_time -> VARCHAR",
            "The current time of day in the session time zone with its UTC offset, as text `HH:MM:SS.mmm+hh:mm` (there is no TIME type).",
            &[ex!("length(current_time)", "18")],
        ),
        def(
            "localtime",
            &[],
            K::LocalTime,
            "localtime -> VARCHAR",
            "The current time of day in the session time zone, as text `HH:MM:SS.mmm` (there is no TIME type).",
            &[ex!("length(localtime)", "12")],
        ),
        def(
            "from_iso8601_timestamp",
            &[],
            K::FromIso8601Timestamp,
            "from_iso8601_timestamp(s VARCHAR) -> TIMESTAMP",
            "Parses ISO 8601 text (`2020-05-11T11:15:05.055+09:00`); without a zone it is read in the session zone; invalid text is an error. NULL if `s` is NULL.",
            &[ex!(
                "from_iso8601_timestamp('2020-05-11T11:15:05.055+09:00')",
                "2020-05-11 02:15:05.055",
            )],
        ),
        def(
            "from_iso8601_date",
            &[],
            K::FromIso8601Date,
            "from_iso8601_date(s VARCHAR) -> DATE",
            "Parses an ISO 8601 date (`2020-05-11`); invalid text is an error. NULL if `s` is NULL.",
            &[ex!("from_iso8601_date('2020-05-11')", "2020-05-11")],
        ),
        def(
            "to_iso8601",
            &[],
            K::ToIso8601,
            "to_iso8601(x TIMESTAMP | DATE) -> VARCHAR",
            "ISO 8601 text: `2018-08-17T16:00:00.000Z` (session-zone wall time and offset) for a TIMESTAMP, `2018-08-17` for a DATE. NULL if `x` is NULL.",
            &[ex!(
                "to_iso8601(from_unixtime(1534521600))",
                "2018-08-17T16:00:00.000Z",
            )],
        ),
        def(
            "at_timezone",
            &[],
            K::AtTimezone,
            "at_timezone(ts TIMESTAMP, zone VARCHAR) -> TIMESTAMP",
            "Shifts `ts` so that it renders the wall time of `zone` (TIMESTAMP carries no zone of its own). NULL if an argument is NULL.",
            &[ex!(
                "at_timezone(from_unixtime(1534521600), 'Asia/Shanghai')",
                "2018-08-18 00:00:00.000",
            )],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Date32Array, Int64Array, StringViewArray};
    use arrow::datatypes::Field as ArrowField;
    use datafusion_common::config::ConfigOptions;
    use datafusion_expr::type_coercion::functions::fields_with_udf;

    use super::super::testing::{invoke_with, rows_of};

    fn find(name: &str) -> FunctionDef {
        functions()
            .into_iter()
            .find(|f| f.name == name || f.aliases.contains(&name))
            .unwrap_or_else(|| panic!("no function {name}"))
    }

    /// Calls a function the way the engine does: coerce, cast, invoke.
    fn call_tz(name: &str, args: Vec<ColumnarValue>, tz: Option<&str>) -> Result<ColumnarValue> {
        let def = find(name);
        let types: Vec<DataType> = args.iter().map(|a| a.data_type()).collect();
        let fields: Vec<_> = types
            .iter()
            .map(|t| Arc::new(ArrowField::new("a", t.clone(), true)))
            .collect();
        let coerced: Vec<DataType> = fields_with_udf(&fields, def.udf.as_ref())?
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let args = args
            .iter()
            .zip(&coerced)
            .map(|(a, t)| a.cast_to(t, None))
            .collect::<Result<Vec<_>>>()?;
        let mut options = ConfigOptions::default();
        options.execution.time_zone = tz.map(String::from);
        let rows = rows_of(&args);
        Ok(invoke_with(&def.udf, args, rows, options)?.0)
    }

    /// Renders values as text (spec §18.4) in the zone.
    fn render(v: &ColumnarValue, tz: Option<&str>) -> Vec<Option<String>> {
        let tz = tz.map_or(SessionTz::UTC, |t| SessionTz::parse(t).unwrap());
        let a = v.to_array(1).unwrap();
        (0..a.len())
            .map(|i| {
                if a.is_null(i) {
                    return None;
                }
                Some(match a.data_type() {
                    DataType::Timestamp(_, _) => format_timestamp(
                        a.as_primitive::<arrow::datatypes::TimestampNanosecondType>()
                            .value(i),
                        &tz,
                    ),
                    DataType::Date32 => {
                        date_from_days(a.as_primitive::<arrow::datatypes::Date32Type>().value(i))
                            .to_string()
                    }
                    DataType::Int64 => a
                        .as_primitive::<arrow::datatypes::Int64Type>()
                        .value(i)
                        .to_string(),
                    DataType::Float64 => {
                        let f = a.as_primitive::<arrow::datatypes::Float64Type>().value(i);
                        if f.fract() == 0.0 && f.is_finite() {
                            format!("{f:.1}")
                        } else {
                            format!("{f}")
                        }
                    }
                    DataType::Utf8View => a.as_string_view().value(i).to_string(),
                    DataType::Boolean => a.as_boolean().value(i).to_string(),
                    t => panic!("unexpected {t}"),
                })
            })
            .collect()
    }

    fn one(name: &str, args: Vec<ColumnarValue>, tz: Option<&str>) -> Option<String> {
        let v = call_tz(name, args, tz).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            matches!(v, ColumnarValue::Scalar(_)),
            "scalar in, scalar out"
        );
        render(&v, tz).remove(0)
    }

    fn err(name: &str, args: Vec<ColumnarValue>) -> String {
        call_tz(name, args, None).unwrap_err().to_string()
    }

    fn s(v: &str) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Utf8View(Some(v.to_string())))
    }
    fn i(v: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Int64(Some(v)))
    }
    fn f(v: f64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(v)))
    }
    fn ts(text: &str) -> ColumnarValue {
        let ns = parse_timestamp_text(text, &SessionTz::UTC).unwrap();
        ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(ns), None))
    }
    fn null_ts() -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(None, None))
    }

    /// Evaluates an example expression made of nested calls and literals.
    fn eval_expr(src: &str) -> ColumnarValue {
        fn parse(p: &mut &str) -> ColumnarValue {
            *p = p.trim_start();
            if let Some(rest) = p.strip_prefix('\'') {
                let end = rest.find('\'').unwrap();
                let v = s(&rest[..end]);
                *p = &rest[end + 1..];
                return v;
            }
            let end = p
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
                .unwrap_or(p.len());
            let word = &p[..end];
            *p = &p[end..];
            if word.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                return if word.contains('.') {
                    f(word.parse().unwrap())
                } else {
                    i(word.parse().unwrap())
                };
            }
            let mut args = Vec::new();
            if let Some(rest) = p.strip_prefix('(') {
                *p = rest.trim_start();
                while !p.starts_with(')') {
                    args.push(parse(p));
                    *p = p.trim_start();
                    *p = p.strip_prefix(',').unwrap_or(p);
                }
                *p = &p[1..];
            }
            call_tz(word, args, None).unwrap_or_else(|e| panic!("{word}: {e}"))
        }
        let mut p = src;
        parse(&mut p)
    }

    #[test]
    fn timezone_offsets_and_extract_by_name() {
        let t = || ts("2024-01-15 12:00:00");
        assert_eq!(
            one("timezone_hour", vec![t()], Some("+05:30")).as_deref(),
            Some("5")
        );
        assert_eq!(
            one("timezone_minute", vec![t()], Some("+05:30")).as_deref(),
            Some("30")
        );
        assert_eq!(
            one("timezone_hour", vec![t()], Some("-03:30")).as_deref(),
            Some("-3")
        );
        assert_eq!(
            one("timezone_minute", vec![t()], Some("-03:30")).as_deref(),
            Some("-30")
        );
        assert_eq!(
            one("timezone_hour", vec![t()], Some("Asia/Shanghai")).as_deref(),
            Some("8")
        );
        // A named zone's offset follows daylight saving time at the instant.
        let summer = ts("2024-07-15 12:00:00");
        assert_eq!(
            one("timezone_hour", vec![t()], Some("America/New_York")).as_deref(),
            Some("-5")
        );
        assert_eq!(
            one("timezone_hour", vec![summer], Some("America/New_York")).as_deref(),
            Some("-4")
        );
        assert_eq!(one("timezone_hour", vec![null_ts()], None), None);
        for (field, want) in [
            ("year", "2024"),
            ("QUARTER", "1"),
            ("month", "1"),
            ("week", "3"),
            ("day", "15"),
            ("day_of_month", "15"),
            ("dow", "1"),
            ("day_of_week", "1"),
            ("doy", "15"),
            ("day_of_year", "15"),
            ("yow", "2024"),
            ("year_of_week", "2024"),
            ("hour", "20"),
            ("minute", "0"),
            ("second", "0"),
            ("timezone_hour", "8"),
            ("timezone_minute", "0"),
        ] {
            assert_eq!(
                one("extract", vec![s(field), t()], Some("+08:00")).as_deref(),
                Some(want),
                "{field}"
            );
        }
        assert!(err("extract", vec![s("fortnight"), t()]).contains("'fortnight' is not a field"));
    }

    #[test]
    fn time_of_day_as_text() {
        let text = |name: &str, tz: &str| {
            let ColumnarValue::Scalar(ScalarValue::Utf8View(Some(v))) =
                call_tz(name, vec![], Some(tz)).unwrap()
            else {
                panic!("{name}")
            };
            v
        };
        let local = text("localtime", "+08:00");
        assert_eq!(local.len(), 12, "{local}");
        assert!(
            chrono::NaiveTime::parse_from_str(&local, "%H:%M:%S%.3f").is_ok(),
            "{local}"
        );
        let with_zone = text("current_time", "+08:00");
        assert!(with_zone.ends_with("+08:00"), "{with_zone}");
        assert!(text("current_time", "UTC").ends_with("+00:00"));
    }

    #[test]
    fn examples_hold() {
        let mut checked = 0;
        for def in functions() {
            assert!(!def.examples.is_empty(), "{} has no example", def.name);
            for ex in def.examples {
                if ex.expr.contains('>')
                    || ex.expr.contains(" FROM ")
                    || ex.expr.contains("length(")
                {
                    // Comparisons, `extract` syntax and other families need the engine
                    // (tests/function_examples.rs runs every example through it).
                    continue;
                }
                let got = render(&eval_expr(ex.expr), None).remove(0);
                assert_eq!(got.as_deref(), ex.result, "{}", ex.expr);
                checked += 1;
            }
        }
        assert!(checked > 35, "{checked}");
    }

    #[test]
    fn nullary_functions() {
        let now = call_tz("now", vec![], None).unwrap();
        let ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(ns), None)) = now else {
            panic!("{now:?}")
        };
        assert!(ns > 1_700_000_000 * NANOS_PER_SEC);
        let ColumnarValue::Scalar(ScalarValue::Date32(Some(d))) =
            call_tz("current_date", vec![], None).unwrap()
        else {
            panic!()
        };
        assert!(d > 19_000);
        assert_eq!(
            one("current_timezone", vec![], Some("+08:00")).as_deref(),
            Some("+08:00")
        );
        assert_eq!(
            one("current_timezone", vec![], Some("Asia/Shanghai")).as_deref(),
            Some("Asia/Shanghai")
        );
        assert!(err("now", vec![i(1)]).contains("expected 0 argument(s), got 1"));
    }

    // ---- doc cases (/work/shared/conformance/doc-cases.jsonl) ----

    #[test]
    fn doc_to_unixtime_1() {
        // cast('2023-09-21 10:59:37.055' as TIMESTAMP) then to_unixtime: UTC by default.
        assert_eq!(
            one("to_unixtime", vec![s("2023-09-21 10:59:37.055")], None).as_deref(),
            Some("1695293977.055")
        );
        assert_eq!(
            one(
                "to_unixtime",
                vec![s("2023-09-21 10:59:37.055")],
                Some("+08:00")
            )
            .as_deref(),
            Some("1695265177.055")
        );
        let v = call_tz("to_unixtime", vec![s("2023-09-21 10:59:37.055")], None).unwrap();
        let ColumnarValue::Scalar(ScalarValue::Float64(Some(x))) = v else {
            panic!()
        };
        assert_eq!(x, 1695293977.055);
    }

    #[test]
    fn doc_to_unixtime_2() {
        assert_eq!(
            one("to_unixtime", vec![s("2020-09-17 9:00:00")], None).as_deref(),
            Some("1600333200.0")
        );
    }

    #[test]
    fn doc_from_unixtime_1() {
        assert_eq!(
            one("from_unixtime", vec![f(1695191402.0)], None).as_deref(),
            Some("2023-09-20 06:30:02.000")
        );
    }

    #[test]
    fn doc_date_format_1() {
        assert_eq!(
            one(
                "date_format",
                vec![ts("2023-09-21 10:59:37.055"), s("%H:%i:%s")],
                None
            )
            .as_deref(),
            Some("10:59:37")
        );
    }

    #[test]
    fn doc_extend_time_1() {
        let parse = |tz| {
            let t = call_tz(
                "date_parse",
                vec![s("2023-11-11 01:23:45"), s("%Y-%m-%d %H:%i:%S")],
                tz,
            )
            .unwrap();
            one("to_unixtime", vec![t], tz)
        };
        // UTC (the default) and the doc's UTC+8 reading (`--timezone=+08:00`).
        assert_eq!(parse(None).as_deref(), Some("1699665825.0"));
        assert_eq!(parse(Some("+08:00")).as_deref(), Some("1699637025.0"));
        assert_eq!(
            parse(Some("Asia/Shanghai")).as_deref(),
            Some("1699637025.0")
        );
    }

    #[test]
    fn doc_extend_6() {
        // cast(to_unixtime(cast(time as TIMESTAMP)) as bigint) - 28800 with time '2024-03-13 16:44:58.800'.
        assert_eq!(
            one("to_unixtime", vec![s("2024-03-13 16:44:58.800")], None).as_deref(),
            Some("1710348298.8")
        );
    }

    #[test]
    fn session_zone_drives_extraction_and_formatting() {
        let t = || from_unixtime_scalar(1534521600);
        let tz = Some("+08:00");
        assert_eq!(one("hour", vec![t()], tz).as_deref(), Some("0"));
        assert_eq!(one("day", vec![t()], tz).as_deref(), Some("18"));
        assert_eq!(one("date", vec![t()], tz).as_deref(), Some("2018-08-18"));
        assert_eq!(
            one("date_format", vec![t(), s("%Y-%m-%d %H:%i")], tz).as_deref(),
            Some("2018-08-18 00:00")
        );
        assert_eq!(
            one("format_datetime", vec![t(), s("yyyy-MM-dd HH:mm ZZ")], tz).as_deref(),
            Some("2018-08-18 00:00 +08:00")
        );
        assert_eq!(
            one("to_iso8601", vec![t()], tz).as_deref(),
            Some("2018-08-18T00:00:00.000+08:00")
        );
        assert_eq!(
            one("date_trunc", vec![s("day"), t()], tz).as_deref(),
            Some("2018-08-18 00:00:00.000")
        );
        // from_unixtime with a zone renders that zone's wall time whatever the session zone.
        assert_eq!(
            one("from_unixtime", vec![i(1534521600), s("+01:00")], tz).as_deref(),
            Some("2018-08-17 17:00:00.000")
        );
        assert_eq!(
            one("from_unixtime", vec![i(1534521600), i(-5), i(-30)], None).as_deref(),
            Some("2018-08-17 10:30:00.000")
        );
        assert_eq!(
            one("at_timezone", vec![t(), s("America/New_York")], tz).as_deref(),
            Some("2018-08-17 12:00:00.000")
        );
    }

    fn from_unixtime_scalar(secs: i64) -> ColumnarValue {
        ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(
            Some(secs * NANOS_PER_SEC),
            None,
        ))
    }

    #[test]
    fn extraction_fields() {
        let t = || ts("2021-01-01 23:59:58.789");
        let get = |name: &str| one(name, vec![t()], None).unwrap();
        assert_eq!(get("year"), "2021");
        assert_eq!(get("year_of_week"), "2020");
        assert_eq!(get("yow"), "2020");
        assert_eq!(get("week"), "53");
        assert_eq!(get("week_of_year"), "53");
        assert_eq!(get("month"), "1");
        assert_eq!(get("quarter"), "1");
        assert_eq!(get("day_of_month"), "1");
        assert_eq!(get("dow"), "5");
        assert_eq!(get("doy"), "1");
        assert_eq!(get("hour"), "23");
        assert_eq!(get("minute"), "59");
        assert_eq!(get("second"), "58");
        assert_eq!(get("millisecond"), "789");
        // DATE input.
        let d = ColumnarValue::Scalar(ScalarValue::Date32(Some(18_628))); // 2021-01-01
        assert_eq!(
            one("day_of_year", vec![d.clone()], None).as_deref(),
            Some("1")
        );
        assert_eq!(one("hour", vec![d], None).as_deref(), Some("0"));
        assert_eq!(one("year", vec![null_ts()], None), None);
    }

    #[test]
    fn arrays_and_nulls() {
        let secs: ArrayRef = Arc::new(Int64Array::from(vec![Some(0), None, Some(86_400)]));
        let v = call_tz("from_unixtime", vec![ColumnarValue::Array(secs)], None).unwrap();
        assert_eq!(
            render(&v, None),
            vec![
                Some("1970-01-01 00:00:00.000".into()),
                None,
                Some("1970-01-02 00:00:00.000".into())
            ]
        );
        let text: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("2022-01-02 03:04:05"),
            None,
            Some("2022-12-31 00:00:00"),
        ]));
        let fmts: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("%Y-%m-%d %H:%i:%s"),
            Some("%Y"),
            Some("%Y-%m-%d %H:%i:%s"),
        ]));
        let parsed = call_tz(
            "date_parse",
            vec![ColumnarValue::Array(text), ColumnarValue::Array(fmts)],
            None,
        )
        .unwrap();
        assert_eq!(
            render(&parsed, None),
            vec![
                Some("2022-01-02 03:04:05.000".into()),
                None,
                Some("2022-12-31 00:00:00.000".into())
            ]
        );
        let days = call_tz("day", vec![parsed.clone()], None).unwrap();
        assert_eq!(
            render(&days, None),
            vec![Some("2".into()), None, Some("31".into())]
        );
        let fmt = call_tz("date_format", vec![parsed, s("%d/%b")], None).unwrap();
        assert_eq!(
            render(&fmt, None),
            vec![Some("02/Jan".into()), None, Some("31/Dec".into())]
        );
        // A NULL unit or format gives NULL.
        let null_str = ColumnarValue::Scalar(ScalarValue::Utf8View(None));
        assert_eq!(
            one("date_trunc", vec![null_str.clone(), ts("2022-01-01")], None),
            None
        );
        assert_eq!(
            one(
                "date_format",
                vec![ts("2022-01-01"), null_str.clone()],
                None
            ),
            None
        );
        assert_eq!(one("date_parse", vec![null_str, s("%Y")], None), None);
        assert_eq!(
            one(
                "date_diff",
                vec![s("day"), null_ts(), ts("2022-01-01")],
                None
            ),
            None
        );
        let null_int = ColumnarValue::Scalar(ScalarValue::Int64(None));
        assert_eq!(one("from_unixtime", vec![null_int.clone()], None), None);
        assert_eq!(
            one("date_add", vec![s("day"), null_int, ts("2022-01-01")], None),
            None
        );
        let untyped_null = ColumnarValue::Scalar(ScalarValue::Null);
        assert_eq!(one("to_unixtime", vec![untyped_null], None), None);
    }

    #[test]
    fn from_unixtime_inputs() {
        assert_eq!(
            one("from_unixtime", vec![f(1695191402.123)], None).as_deref(),
            Some("2023-09-20 06:30:02.123")
        );
        assert_eq!(
            one("from_unixtime", vec![f(-0.5)], None).as_deref(),
            Some("1969-12-31 23:59:59.500")
        );
        assert_eq!(
            one("from_unixtime", vec![s("1534521600")], None).as_deref(),
            Some("2018-08-17 16:00:00.000")
        );
        let int32 = ColumnarValue::Scalar(ScalarValue::Int32(Some(86_400)));
        assert_eq!(
            one("from_unixtime", vec![int32], None).as_deref(),
            Some("1970-01-02 00:00:00.000")
        );
        assert!(err("from_unixtime", vec![i(i64::MAX)])
            .contains("out of the supported TIMESTAMP range"));
        assert!(err("from_unixtime", vec![f(f64::NAN)]).contains("out of the supported"));
        assert!(err("from_unixtime", vec![s("abc")]).contains("'abc' is not a number of seconds"));
        assert!(err("from_unixtime", vec![i(0), s("Nowhere/City")]).contains("unknown time zone"));
        assert!(err("from_unixtime", vec![i(0), i(19), i(0)]).contains("invalid zone offset"));
        assert!(err(
            "from_unixtime",
            vec![ColumnarValue::Scalar(ScalarValue::Boolean(Some(true)))]
        )
        .contains("expected BIGINT or DOUBLE argument, got Boolean"));
    }

    #[test]
    fn trunc_add_diff() {
        let t = || ts("2023-05-17 13:45:56.789");
        let trunc = |u: &str| one("date_trunc", vec![s(u), t()], None).unwrap();
        assert_eq!(trunc("millisecond"), "2023-05-17 13:45:56.789");
        assert_eq!(trunc("second"), "2023-05-17 13:45:56.000");
        assert_eq!(trunc("MINUTE"), "2023-05-17 13:45:00.000");
        assert_eq!(trunc("hour"), "2023-05-17 13:00:00.000");
        assert_eq!(trunc("day"), "2023-05-17 00:00:00.000");
        assert_eq!(trunc("week"), "2023-05-15 00:00:00.000");
        assert_eq!(trunc("month"), "2023-05-01 00:00:00.000");
        assert_eq!(trunc("quarter"), "2023-04-01 00:00:00.000");
        assert_eq!(trunc("year"), "2023-01-01 00:00:00.000");
        assert!(err("date_trunc", vec![s("fortnight"), t()]).contains("unknown unit 'fortnight'"));
        // The earliest representable instant cannot be truncated further back: an error, not a panic.
        let min = ColumnarValue::Scalar(ScalarValue::TimestampNanosecond(Some(i64::MIN), None));
        assert!(err("date_trunc", vec![s("hour"), min.clone()]).contains("out of range"));
        assert!(err("date_trunc", vec![s("year"), min]).contains("out of range"));

        let add = |u: &str, n: i64| one("date_add", vec![s(u), i(n), t()], None).unwrap();
        assert_eq!(add("millisecond", 211), "2023-05-17 13:45:57.000");
        assert_eq!(add("second", -56), "2023-05-17 13:45:00.789");
        assert_eq!(add("hour", 11), "2023-05-18 00:45:56.789");
        assert_eq!(add("day", -17), "2023-04-30 13:45:56.789");
        assert_eq!(add("week", 2), "2023-05-31 13:45:56.789");
        assert_eq!(add("quarter", 3), "2024-02-17 13:45:56.789");
        assert_eq!(add("year", -1), "2022-05-17 13:45:56.789");
        assert_eq!(
            one(
                "date_add",
                vec![s("month"), i(1), ts("2024-01-31 10:00:00")],
                None
            )
            .as_deref(),
            Some("2024-02-29 10:00:00.000")
        );
        assert!(err("date_add", vec![s("year"), i(i64::MAX), t()])
            .contains("out of the supported range"));
        assert!(err("date_add", vec![s("second"), i(i64::MAX / 2), t()])
            .contains("out of the supported range"));
        assert!(err("date_add", vec![s("day"), f(1.5), t()]).contains("expected BIGINT argument"));

        let diff =
            |u: &str, a: &str, b: &str| one("date_diff", vec![s(u), ts(a), ts(b)], None).unwrap();
        assert_eq!(
            diff("second", "2023-01-01 00:00:00", "2023-01-01 00:00:59.999"),
            "59"
        );
        assert_eq!(
            diff(
                "millisecond",
                "2023-01-01 00:00:00",
                "2022-12-31 23:59:59.999"
            ),
            "-1"
        );
        assert_eq!(
            diff("hour", "2023-01-01 00:00:00", "2023-01-02 05:00:00"),
            "29"
        );
        assert_eq!(
            diff("day", "2023-01-01 12:00:00", "2023-01-03 11:59:59"),
            "1"
        );
        assert_eq!(diff("week", "2023-01-01", "2023-01-15"), "2");
        // As Joda: Jan 31 + 1 month clamps to Feb 28, so that counts as a whole month.
        assert_eq!(diff("month", "2023-01-31", "2023-02-28"), "1");
        assert_eq!(diff("month", "2023-01-31", "2023-02-27"), "0");
        assert_eq!(diff("month", "2023-01-31", "2023-03-31"), "2");
        assert_eq!(diff("month", "2023-03-31", "2023-02-28"), "-1");
        assert_eq!(diff("quarter", "2023-01-01", "2023-12-31"), "3");
        assert_eq!(diff("year", "2020-02-29", "2021-02-28"), "1");
        assert_eq!(diff("year", "2020-03-01", "2021-02-28"), "0");
        assert_eq!(diff("year", "2020-02-29", "2024-02-29"), "4");
    }

    #[test]
    fn date_inputs_stay_dates() {
        let d = || ColumnarValue::Scalar(ScalarValue::Date32(Some(19_494))); // 2023-05-17
        assert_eq!(
            one("date_trunc", vec![s("month"), d()], None).as_deref(),
            Some("2023-05-01")
        );
        assert_eq!(
            one("date_add", vec![s("day"), i(20), d()], None).as_deref(),
            Some("2023-06-06")
        );
        assert!(
            err("date_trunc", vec![s("hour"), d()]).contains("'hour' is not a valid DATE field")
        );
        assert!(err("date_add", vec![s("hour"), i(1), d()]).contains("not a valid DATE field"));
        assert_eq!(
            one("to_iso8601", vec![d()], None).as_deref(),
            Some("2023-05-17")
        );
        assert_eq!(
            one("to_unixtime", vec![d()], Some("+08:00")).as_deref(),
            Some("1684252800.0")
        );
        assert_eq!(
            one(
                "date_diff",
                vec![s("day"), d(), ts("2023-05-20 10:00:00")],
                None
            )
            .as_deref(),
            Some("3")
        );
        let arr: ArrayRef = Arc::new(Date32Array::from(vec![Some(0), None]));
        let v = call_tz(
            "date_format",
            vec![ColumnarValue::Array(arr), s("%Y/%m/%d")],
            None,
        )
        .unwrap();
        assert_eq!(render(&v, None), vec![Some("1970/01/01".into()), None]);
    }

    #[test]
    fn dst_aware_arithmetic() {
        let ny = Some("America/New_York");
        // 2021-03-13 12:00 EST + 1 day = 2021-03-14 12:00 EDT (23 hours later).
        let start = call_tz(
            "date_parse",
            vec![s("2021-03-13 12:00"), s("%Y-%m-%d %H:%i")],
            ny,
        )
        .unwrap();
        let next = call_tz("date_add", vec![s("day"), i(1), start.clone()], ny).unwrap();
        assert_eq!(
            render(&next, ny),
            vec![Some("2021-03-14 12:00:00.000".into())]
        );
        assert_eq!(
            one(
                "date_diff",
                vec![s("hour"), start.clone(), next.clone()],
                ny
            )
            .as_deref(),
            Some("23")
        );
        assert_eq!(
            one("date_diff", vec![s("day"), start.clone(), next], ny).as_deref(),
            Some("1")
        );
        let plus24h = call_tz("date_add", vec![s("hour"), i(24), start], ny).unwrap();
        assert_eq!(
            render(&plus24h, ny),
            vec![Some("2021-03-14 13:00:00.000".into())]
        );
    }

    #[test]
    fn parse_and_format_functions() {
        assert_eq!(
            one(
                "parse_datetime",
                vec![s("2018-08-12 16:13:15"), s("%Y-%m-%d %H:%i:%s")],
                None
            )
            .as_deref(),
            Some("2018-08-12 16:13:15.000")
        );
        assert_eq!(
            one(
                "parse_datetime",
                vec![s("12/08/2018"), s("dd/MM/yyyy")],
                Some("+08:00")
            )
            .as_deref(),
            Some("2018-08-12 00:00:00.000")
        );
        let e = err("date_parse", vec![s("2022-10-19"), s("%Y-%m-%d %H")]);
        assert!(
            e.contains("date_parse: invalid format: \"2022-10-19\" is malformed at \"\""),
            "{e}"
        );
        let e = err("date_parse", vec![s("2022-02-30"), s("%Y-%m-%d")]);
        assert!(e.contains("not a valid date"), "{e}");
        assert!(err("date_format", vec![ts("2022-01-01"), s("%U")])
            .contains("date_format: format specifier %U is not supported"));
        assert!(err("format_datetime", vec![ts("2022-01-01"), s("yyyy-QQ")])
            .contains("illegal pattern component 'Q'"));
        assert!(err("parse_datetime", vec![s("x"), s("yyyy")])
            .contains("parse_datetime: invalid format"));
        // VARCHAR where a TIMESTAMP is expected is read like CAST; bad text is an error.
        assert_eq!(
            one("date_format", vec![s("2022-01-01 10:00"), s("%H")], None).as_deref(),
            Some("10")
        );
        assert!(err("hour", vec![s("yesterday")])
            .contains("hour: cannot read 'yesterday' as a TIMESTAMP"));
        assert!(err("date_format", vec![i(1), s("%H")])
            .contains("expected TIMESTAMP argument, got Int64"));
    }

    #[test]
    fn iso8601_functions() {
        assert_eq!(
            one(
                "from_iso8601_timestamp",
                vec![s("2020-05-11T11:15:05")],
                Some("+08:00")
            )
            .as_deref(),
            Some("2020-05-11 11:15:05.000")
        );
        assert_eq!(
            one(
                "from_iso8601_timestamp",
                vec![s("2020-05-11T11:15:05Z")],
                Some("+08:00")
            )
            .as_deref(),
            Some("2020-05-11 19:15:05.000")
        );
        assert!(err("from_iso8601_timestamp", vec![s("2020-05-11 11:15")])
            .contains("invalid ISO 8601 timestamp"));
        assert_eq!(
            one("from_iso8601_date", vec![s("2020-05")], None).as_deref(),
            Some("2020-05-01")
        );
        assert!(
            err("from_iso8601_date", vec![s("2020-05-11T10:00")]).contains("invalid ISO 8601 date")
        );
        assert_eq!(
            one(
                "to_iso8601",
                vec![ts("2020-05-11 11:15:05.5")],
                Some("Asia/Kolkata")
            )
            .as_deref(),
            Some("2020-05-11T16:45:05.500+05:30")
        );
    }

    #[test]
    fn bad_session_zone_is_an_error() {
        let e = call_tz("hour", vec![ts("2020-01-01")], Some("Mars/Base"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown time zone 'Mars/Base'"), "{e}");
    }

    fn text_col(values: &[Option<&str>]) -> ColumnarValue {
        ColumnarValue::Array(Arc::new(StringViewArray::from(values.to_vec())))
    }

    #[test]
    fn format_columns_keep_each_flavour_apart() {
        let t = || from_unixtime_scalar(1534521600);
        let formats = [Some("yyyy"), Some("%Y"), None, Some("yyyy"), Some("%d")];
        // date_format reads every format as MySQL: `yyyy` is literal text.
        let out = call_tz("date_format", vec![t(), text_col(&formats)], None).unwrap();
        assert_eq!(
            render(&out, None),
            [Some("yyyy"), Some("2018"), None, Some("yyyy"), Some("17")]
                .map(|v| v.map(String::from))
        );
        // format_datetime reads `yyyy` as Joda (the year) and a format with `%` as MySQL.
        let out = call_tz("format_datetime", vec![t(), text_col(&formats)], None).unwrap();
        assert_eq!(
            render(&out, None),
            [Some("2018"), Some("2018"), None, Some("2018"), Some("17")]
                .map(|v| v.map(String::from))
        );
    }

    #[test]
    fn format_and_zone_caches_stay_bounded() {
        let t = || from_unixtime_scalar(1534521600);
        let formats: Vec<String> = (0..MAX_CACHED_FORMATS + 20)
            .map(|i| format!("%Y-{i}"))
            .collect();
        let column: Vec<Option<&str>> = formats.iter().map(|f| Some(f.as_str())).collect();
        let out = call_tz("date_format", vec![t(), text_col(&column)], None).unwrap();
        let rendered = render(&out, None);
        for (i, v) in rendered.iter().enumerate() {
            assert_eq!(v.as_deref(), Some(format!("2018-{i}").as_str()));
        }
        assert!(format_cache(true).len() <= MAX_CACHED_FORMATS);
        // Every row got its own format, the newest stay cached.
        assert!(format_cache(true)
            .get(&formats[formats.len() - 1])
            .is_some());

        let zones: Vec<String> = (0..MAX_CACHED_ZONES + 10)
            .map(|i| format!("+{:02}:{:02}", i % 14, i % 60))
            .collect();
        let column: Vec<Option<&str>> = zones.iter().map(|z| Some(z.as_str())).collect();
        let out = call_tz("from_unixtime", vec![i(0), text_col(&column)], None).unwrap();
        let rendered = render(&out, None);
        for (i, v) in rendered.iter().enumerate() {
            let want = format!("1970-01-01 {:02}:{:02}:00.000", i % 14, i % 60);
            assert_eq!(v.as_deref(), Some(want.as_str()), "{}", zones[i]);
        }
        assert!(zone_cache().len() <= MAX_CACHED_ZONES);
        // A bad zone in the middle of a column is an error, and is not cached.
        let e = call_tz(
            "from_unixtime",
            vec![i(0), text_col(&[Some("+01:00"), Some("Mars/Base")])],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("Mars/Base"), "{e}");
        assert!(zone_cache().get("Mars/Base").is_none());
    }
}

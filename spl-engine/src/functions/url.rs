//! SLS URL functions (spec §7.8): extracting the parts of a URL, and form-style
//! percent-encoding (`url_encode`, `url_decode`).
//!
//! URLs are split the way Presto does it with `java.net.URI` (RFC 2396): a text that is not a
//! valid URI (a space, `{`, `|`, a bad `%` escape, …) gives NULL from every `url_extract_*`;
//! a part the URI lacks gives `''` (the port gives NULL). Path, query and fragment come back
//! percent-decoded; a host with characters a host name cannot hold (`my_host`) is a "registry"
//! authority and has no host or port, as in Java.
//! `url_extract_parameter` splits the raw query and decodes the value form-style (`+` is a
//! space), as Trino does.
//!
//! The `%XX` mechanics come from the `percent-encoding` crate; SLS adds what the crate leaves to
//! its caller: which characters `url_encode` keeps (letters, digits and `.-*_`, as Guava's form
//! escaper), `+` for a space both ways (form encoding), and an error for a malformed escape in
//! `url_decode` (the crate would keep it as text; Java's `URLDecoder` throws).
use std::borrow::Cow;
use std::net::Ipv6Addr;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, StringViewArray, StringViewBuilder};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::common::{cast_all, coerce_all, ex, invoke_rowwise, is_string_type, op_def, UdfOp};
use super::{memo, Family, FunctionDef};

// ---------------------------------------------------------------------------------------------
// URI splitting (java.net.URI rules)

/// The parts of a URI, raw (still percent-encoded).
#[derive(Debug, Default, PartialEq, Eq)]
struct Uri<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<i64>,
    /// `None` for an opaque URI such as `mailto:a@b.c`.
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// A set of ASCII bytes as a bit mask (bit `c` for byte `c`): a membership test is one shift.
#[derive(Debug, Clone, Copy)]
struct Class(u128);

impl Class {
    const fn of(bytes: &[u8]) -> u128 {
        let mut mask = 0;
        let mut i = 0;
        while i < bytes.len() {
            mask |= 1 << bytes[i];
            i += 1;
        }
        mask
    }

    const fn range(lo: u8, hi: u8) -> u128 {
        let mut mask = 0;
        let mut c = lo;
        while c <= hi {
            mask |= 1 << c;
            c += 1;
        }
        mask
    }

    #[inline(always)]
    fn has(self, c: u8) -> bool {
        c < 128 && (self.0 >> c) & 1 == 1
    }
}

const ALPHANUMERIC: u128 =
    Class::range(b'0', b'9') | Class::range(b'a', b'z') | Class::range(b'A', b'Z');
/// Java's `unreserved`: letters, digits and the marks `-_.!~*'()`.
const UNRESERVED: u128 = ALPHANUMERIC | Class::of(b"-_.!~*'()");
const URIC: Class = Class(UNRESERVED | Class::of(b";/?:@&=+$,[]"));
const PATH_CHAR: Class = Class(UNRESERVED | Class::of(b":@&=+$,;/"));
const USERINFO_CHAR: Class = Class(UNRESERVED | Class::of(b";:&=+$,"));
const REG_NAME_CHAR: Class = Class(UNRESERVED | Class::of(b"$,;:@&=+"));
const SERVER_CHAR: Class = Class(USERINFO_CHAR.0 | Class::of(b"-.:@[]"));

/// How far `s` consists of `class` characters, `%XX` escapes and visible non-ASCII characters.
/// A malformed escape makes the whole URI invalid (`Err`), as in Java.
fn scan(s: &str, class: Class) -> Result<usize, ()> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii() {
            if class.has(c) {
                i += 1;
            } else if c == b'%' {
                if i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit() {
                    i += 3;
                } else {
                    return Err(());
                }
            } else {
                break;
            }
        } else {
            let ch = s[i..].chars().next().ok_or(())?;
            if (ch as u32) <= 128 || ch.is_whitespace() || ch.is_control() {
                break;
            }
            i += ch.len_utf8();
        }
    }
    Ok(i)
}

/// True when all of `s` scans as `class`.
fn all_of(s: &str, class: Class) -> Result<bool, ()> {
    Ok(scan(s, class)? == s.len())
}

/// Splits `s` like `new java.net.URI(s)`; `None` when Java would throw `URISyntaxException`.
fn parse_uri(s: &str) -> Option<Uri<'_>> {
    let mut uri = Uri::default();
    let mut rest = s;
    let scheme_end = s
        .bytes()
        .position(|c| matches!(c, b'/' | b'?' | b'#' | b':'))
        .filter(|&i| s.as_bytes()[i] == b':');
    if let Some(i) = scheme_end {
        let scheme = &s[..i];
        let mut chars = scheme.bytes();
        if !chars.next()?.is_ascii_alphabetic()
            || !chars.all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        {
            return None;
        }
        uri.scheme = Some(scheme);
        rest = &s[i + 1..];
        if !rest.starts_with('/') {
            // Opaque: scheme-specific part then an optional fragment.
            let (ssp, fragment) = split_at_char(rest, '#');
            if ssp.is_empty() || !all_of(ssp, URIC).ok()? {
                return None;
            }
            uri.fragment = check_opt(fragment, URIC)?;
            return Some(uri);
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after
            .bytes()
            .position(|c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        if end == 0 && end == after.len() {
            return None; // "scheme://" with nothing after: expected authority
        }
        if end > 0 {
            let (host, port) = parse_authority(&after[..end])?;
            uri.host = host;
            uri.port = port;
        }
        rest = &after[end..];
    }
    let (before_fragment, fragment) = split_at_char(rest, '#');
    let (path, query) = split_at_char(before_fragment, '?');
    uri.path = Some(check(path, PATH_CHAR)?);
    uri.query = check_opt(query, URIC)?;
    uri.fragment = check_opt(fragment, URIC)?;
    Some(uri)
}

fn split_at_char(s: &str, c: char) -> (&str, Option<&str>) {
    debug_assert!(c.is_ascii());
    match memchr::memchr(c as u8, s.as_bytes()) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn check(s: &str, class: Class) -> Option<&str> {
    all_of(s, class).ok()?.then_some(s)
}

/// `Some(part)` when the optional part is absent or valid, `None` when it is invalid.
fn check_opt(s: Option<&str>, class: Class) -> Option<Option<&str>> {
    match s {
        None => Some(None),
        Some(s) => check(s, class).map(Some),
    }
}

/// Host and port of an authority; `(None, None)` for a registry-based authority.
#[allow(clippy::type_complexity)]
fn parse_authority(auth: &str) -> Option<(Option<&str>, Option<i64>)> {
    let server_chars = all_of(auth, SERVER_CHAR).ok()?;
    let reg_chars = all_of(auth, REG_NAME_CHAR).ok()?;
    if server_chars {
        if let Some((host, port)) = parse_server(auth) {
            return Some((Some(host), port));
        }
    }
    reg_chars.then_some((None, None))
}

/// `[userinfo@]host[:port]` with a host name, IPv4 address or bracketed IPv6 address.
fn parse_server(auth: &str) -> Option<(&str, Option<i64>)> {
    let mut rest = auth;
    if let Some((userinfo, after)) = auth.split_once('@') {
        if !all_of(userinfo, USERINFO_CHAR).ok()? {
            return None;
        }
        rest = after;
    }
    let host_len = if rest.starts_with('[') {
        let close = rest.find(']')?;
        let inner = &rest[1..close];
        let (addr, scope) = split_at_char(inner, '%');
        addr.parse::<Ipv6Addr>().ok()?;
        if scope.is_some_and(|s| s.is_empty() || !s.bytes().all(|c| c.is_ascii_alphanumeric())) {
            return None;
        }
        close + 1
    } else {
        let candidate = &rest[..rest.find(':').unwrap_or(rest.len())];
        if is_ipv4(candidate) {
            candidate.len()
        } else {
            hostname_len(rest)?
        }
    };
    let (host, after) = rest.split_at(host_len);
    let port = match after.strip_prefix(':') {
        None if after.is_empty() => None,
        None => return None,
        Some("") => None,
        Some(digits) if digits.bytes().all(|c| c.is_ascii_digit()) => {
            Some(i64::from(digits.parse::<i32>().ok()?))
        }
        Some(_) => return None,
    };
    Some((host, port))
}

fn is_ipv4(s: &str) -> bool {
    let mut parts = 0;
    for p in s.split('.') {
        parts += 1;
        let ok = parts <= 4
            && (1..=3).contains(&p.len())
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|v| v <= 255);
        if !ok {
            return false;
        }
    }
    parts == 4
}

/// Length of the host name at the start of `s` (labels of letters, digits and inner `-`,
/// separated by `.`; the last label starts with a letter unless it is the only one).
fn hostname_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut p = 0;
    let mut last_label = None;
    while p < b.len() && b[p].is_ascii_alphanumeric() {
        last_label = Some(p);
        while p < b.len() && (b[p].is_ascii_alphanumeric() || b[p] == b'-') {
            p += 1;
        }
        if b[p - 1] == b'-' {
            return None;
        }
        if p < b.len() && b[p] == b'.' {
            p += 1;
        } else {
            break;
        }
    }
    if p < b.len() && b[p] != b':' {
        return None;
    }
    let last = last_label?;
    if last > 0 && !b[last].is_ascii_alphabetic() {
        return None;
    }
    Some(p)
}

/// Decodes the `%XX` escapes of a validated URI part as UTF-8 (invalid sequences become
/// U+FFFD), like `URI.getPath()`. [`parse_uri`] has already rejected malformed escapes.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if memchr::memchr(b'%', s.as_bytes()).is_none() {
        return Cow::Borrowed(s); // nothing to decode; `s` is already UTF-8
    }
    percent_decode_str(s).decode_utf8_lossy()
}

// ---------------------------------------------------------------------------------------------
// Form encoding (Guava's urlFormParameterEscaper / java.net.URLDecoder)

/// The bytes `url_encode` escapes: every ASCII byte but letters, digits and `.-*_` (the crate
/// escapes every non-ASCII byte itself). The space is in the set; [`url_encode`] writes it as `+`.
const FORM_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'*')
    .remove(b'_');

/// Percent-encodes everything but `a-z A-Z 0-9 . - * _` (upper-case hex); a space becomes `+`.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, piece) in s.split(' ').enumerate() {
        if i > 0 {
            out.push('+');
        }
        out.extend(utf8_percent_encode(piece, FORM_ESCAPED));
    }
    out
}

/// Decodes `+` as a space and `%XX` escapes as UTF-8 (invalid UTF-8 becomes U+FFFD), like
/// `URLDecoder.decode(s, UTF_8)`: a `%` not followed by two hex digits is an error, with Java's
/// message.
fn url_decode(s: &str) -> Result<Cow<'_, str>, &'static str> {
    check_escapes(s)?;
    let decoded = if s.contains('+') {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
            .into()
    } else {
        percent_decode_str(s).decode_utf8_lossy()
    };
    Ok(decoded)
}

/// Checks that every `%` of `s` starts a `%XX` escape (the crate keeps malformed ones as text).
fn check_escapes(s: &str) -> Result<(), &'static str> {
    let b = s.as_bytes();
    for i in memchr::memchr_iter(b'%', b) {
        let pair = b
            .get(i + 1..i + 3)
            .ok_or("incomplete trailing escape (%) pattern")?;
        if !pair.iter().all(u8::is_ascii_hexdigit) {
            return Err("illegal hex characters in escape (%) pattern");
        }
    }
    Ok(())
}

/// The form-decoded value of the first `name=value` pair of the raw query (`''` for a bare
/// `name`); `None` when the URI is invalid, has no query or lacks the parameter.
/// The form-decoded value of the first `name=value` pair of a raw query (`''` for a bare
/// `name`); `None` when it lacks the parameter.
fn query_parameter<'a>(query: &'a str, name: &str) -> Result<Option<Cow<'a, str>>, &'static str> {
    for pair in query.split('&') {
        let (key, value) = split_at_char(pair, '=');
        if key == name {
            return value.map_or(Ok(Some(Cow::Borrowed(""))), |v| url_decode(v).map(Some));
        }
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// UDFs

/// Which URL function an [`OpUdf`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    Fragment,
    Host,
    Parameter,
    Path,
    Port,
    Protocol,
    Query,
    Encode,
    Decode,
}

/// Arguments arrive as `Utf8View`.
impl UdfOp for Op {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let n = if self == Op::Parameter { 2 } else { 1 };
        coerce_all(
            name,
            n,
            arg_types,
            |t| t == &DataType::Null || is_string_type(t),
            &DataType::Utf8View,
            "VARCHAR",
        )
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self == Op::Port {
            DataType::Int64
        } else {
            DataType::Utf8View
        })
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_rowwise(&args, |arrays, rows| {
            compute(self, name, &cast_all(arrays, &DataType::Utf8View)?, rows)
        })
    }
}

/// Where the parts of a valid URI lie in its text, for [`memo`]: every URL function of a stage
/// reads the same split of a column.
#[derive(Debug, Clone, Copy)]
struct Parts {
    scheme: Option<(u32, u32)>,
    host: Option<(u32, u32)>,
    port: Option<i64>,
    path: Option<(u32, u32)>,
    query: Option<(u32, u32)>,
    fragment: Option<(u32, u32)>,
}

impl Parts {
    fn of(text: &str) -> Option<Parts> {
        let uri = parse_uri(text)?;
        let at = |part: Option<&str>| {
            part.map(|p| {
                let start = p.as_ptr() as usize - text.as_ptr() as usize;
                (start as u32, (start + p.len()) as u32)
            })
        };
        Some(Parts {
            scheme: at(uri.scheme),
            host: at(uri.host),
            port: uri.port,
            path: at(uri.path),
            query: at(uri.query),
            fragment: at(uri.fragment),
        })
    }
}

/// The part at `range` of `text`.
fn part(text: &str, range: Option<(u32, u32)>) -> Option<&str> {
    range.map(|(start, end)| &text[start as usize..end as usize])
}

/// Each row of `urls` split (`None`: NULL or not a valid URI), shared within a memo scope.
/// Lines longer than `u32::MAX` bytes cannot reach here (inputs cap a line at 1 GiB).
fn split_column(urls: &StringViewArray) -> std::rc::Rc<Vec<Option<Parts>>> {
    memo::memoized("url parts", urls, || {
        urls.iter().map(|v| v.and_then(Parts::of)).collect()
    })
}

fn compute(op: Op, name: &str, cols: &[StringViewArray], rows: usize) -> Result<ArrayRef> {
    let urls = &cols[0];
    if matches!(op, Op::Encode | Op::Decode) {
        let mut out = StringViewBuilder::with_capacity(rows);
        for v in urls.iter().take(rows) {
            let text: Option<Cow<'_, str>> = match v {
                None => None,
                Some(v) if op == Op::Encode => Some(url_encode(v).into()),
                Some(v) => match url_decode(v) {
                    Ok(s) => Some(s),
                    Err(e) => return exec_err!("{name}: {e}"),
                },
            };
            out.append_option(text.as_deref());
        }
        return Ok(Arc::new(out.finish()));
    }
    let split = split_column(urls);
    if op == Op::Port {
        let out: Int64Array = split
            .iter()
            .take(rows)
            .map(|p| p.and_then(|p| p.port))
            .collect();
        return Ok(Arc::new(out));
    }
    let mut out = StringViewBuilder::with_capacity(rows);
    for (i, parts) in split.iter().enumerate().take(rows) {
        if urls.is_null(i) || (op == Op::Parameter && cols[1].is_null(i)) {
            out.append_null();
            continue;
        }
        let url = urls.value(i);
        let text: Option<Cow<'_, str>> = match (op, parts) {
            (Op::Parameter, parts) => {
                let query = parts.and_then(|p| part(url, p.query));
                match query.map(|q| query_parameter(q, cols[1].value(i))) {
                    Some(Ok(value)) => value,
                    Some(Err(e)) => return exec_err!("{name}: {e}"),
                    None => None,
                }
            }
            (_, None) => None,
            (_, Some(p)) => Some(
                match op {
                    Op::Protocol => part(url, p.scheme).map(Cow::Borrowed),
                    Op::Host => part(url, p.host).map(Cow::Borrowed),
                    Op::Path => part(url, p.path).map(percent_decode),
                    Op::Query => part(url, p.query).map(percent_decode),
                    _ => part(url, p.fragment).map(percent_decode),
                }
                .unwrap_or_default(),
            ),
        };
        out.append_option(text.as_deref());
    }
    Ok(Arc::new(out.finish()))
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    vec![
        op_def(
            Family::Url,
            "url_extract_fragment",
            Op::Fragment,
            "url_extract_fragment(url VARCHAR) -> VARCHAR",
            "The percent-decoded fragment (after `#`) of url, '' when it has none. NULL when url is NULL or not a valid URI.",
            &[
                ex!("url_extract_fragment('https://sls.aliyun.com/doc#intro')", Some("intro")),
                ex!("url_extract_fragment('https://sls.aliyun.com/v1/path')", Some("")),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_host",
            Op::Host,
            "url_extract_host(url VARCHAR) -> VARCHAR",
            "The host of url, '' when it has none. NULL when url is NULL or not a valid URI.",
            &[
                ex!("url_extract_host('https://sls.aliyun.com/v1/path')", Some("sls.aliyun.com")),
                ex!("url_extract_host('http://user@10.0.0.1:8080/')", Some("10.0.0.1")),
                ex!("url_extract_host('https://a b.com/')", None),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_parameter",
            Op::Parameter,
            "url_extract_parameter(url VARCHAR, name VARCHAR) -> VARCHAR",
            "The value of the first query parameter called name, form-decoded (`+` is a space); '' for a parameter without `=`. NULL when url is not a valid URI or has no such parameter.",
            &[
                ex!("url_extract_parameter('https://sls.aliyun.com/v1/path?a=b&c=d', 'c')", Some("d")),
                ex!("url_extract_parameter('http://x.com/?q=a%20b+c&q=2', 'q')", Some("a b c")),
                ex!("url_extract_parameter('http://x.com/?a=1', 'b')", None),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_path",
            Op::Path,
            "url_extract_path(url VARCHAR) -> VARCHAR",
            "The percent-decoded path of url, '' when it has none. NULL when url is NULL or not a valid URI.",
            &[
                ex!("url_extract_path('https://sls.aliyun.com/v1/path')", Some("/v1/path")),
                ex!("url_extract_path('http://x.com/a%20b?q=1')", Some("/a b")),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_port",
            Op::Port,
            "url_extract_port(url VARCHAR) -> BIGINT",
            "The port number of url. NULL when url has no port, is NULL or is not a valid URI.",
            &[
                ex!("url_extract_port('http://sls.aliyun.com:8080/v1')", Some("8080")),
                ex!("url_extract_port('https://sls.aliyun.com/v1/path')", None),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_protocol",
            Op::Protocol,
            "url_extract_protocol(url VARCHAR) -> VARCHAR",
            "The scheme of url (such as `https`), '' for a relative URL. NULL when url is NULL or not a valid URI.",
            &[
                ex!("url_extract_protocol('https://sls.aliyun.com/v1/path')", Some("https")),
                ex!("url_extract_protocol('/v1/path')", Some("")),
            ],
        ),
        op_def(
            Family::Url,
            "url_extract_query",
            Op::Query,
            "url_extract_query(url VARCHAR) -> VARCHAR",
            "The percent-decoded query (after `?`) of url, '' when it has none. NULL when url is NULL or not a valid URI.",
            &[
                ex!("url_extract_query('https://sls.aliyun.com/v1/path?a=b&c=d')", Some("a=b&c=d")),
                ex!("url_extract_query('https://sls.aliyun.com/v1/path')", Some("")),
            ],
        ),
        op_def(
            Family::Url,
            "url_encode",
            Op::Encode,
            "url_encode(s VARCHAR) -> VARCHAR",
            "Escapes s for use in a URL query: letters, digits and `.-*_` stay, a space becomes `+`, every other byte of its UTF-8 becomes `%XX`. NULL when s is NULL.",
            &[
                ex!(
                    "url_encode('https://www.aliyun.com/sls?logstore')",
                    Some("https%3A%2F%2Fwww.aliyun.com%2Fsls%3Flogstore"),
                ),
                ex!("url_encode('a b&c=日')", Some("a+b%26c%3D%E6%97%A5")),
            ],
        ),
        op_def(
            Family::Url,
            "url_decode",
            Op::Decode,
            "url_decode(s VARCHAR) -> VARCHAR",
            "Reverses url_encode: `+` becomes a space and `%XX` escapes are decoded as UTF-8. NULL when s is NULL; an error for a malformed escape.",
            &[
                ex!(
                    "url_decode('https%3A%2F%2Fsls.aliyun.com%2Fv1%2Fpath')",
                    Some("https://sls.aliyun.com/v1/path"),
                ),
                ex!("url_decode('a+b%26c%3D%E6%97%A5')", Some("a b&c=日")),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, AsArray, StringViewArray};
    use arrow::datatypes::{DataType, Int64Type};
    use datafusion_common::ScalarValue;

    use datafusion_expr::ScalarUDF;

    use super::super::testing::{call, check_examples, invoke_arrays, run_rendered, udf_of};
    use super::*;

    fn udf(name: &str) -> Arc<ScalarUDF> {
        udf_of(&functions(), name)
    }

    fn run(name: &str, args: &[&str]) -> Result<Option<String>> {
        let args = args
            .iter()
            .map(|s| ScalarValue::Utf8View(Some(s.to_string())))
            .collect();
        run_rendered(&functions(), name, args)
    }

    fn part(name: &str, url: &str) -> Option<String> {
        run(name, &[url]).unwrap()
    }

    #[test]
    fn examples_hold() {
        check_examples(&functions());
    }

    #[test]
    fn splits_like_java_uri() {
        let url = "http://user:pw@example.com:8080/path1/p.php?k1=v1&k2=v2#Ref1";
        assert_eq!(part("url_extract_protocol", url).as_deref(), Some("http"));
        assert_eq!(
            part("url_extract_host", url).as_deref(),
            Some("example.com")
        );
        assert_eq!(part("url_extract_port", url).as_deref(), Some("8080"));
        assert_eq!(
            part("url_extract_path", url).as_deref(),
            Some("/path1/p.php")
        );
        assert_eq!(
            part("url_extract_query", url).as_deref(),
            Some("k1=v1&k2=v2")
        );
        assert_eq!(part("url_extract_fragment", url).as_deref(), Some("Ref1"));

        // Missing parts are '' (the port NULL), as Presto's nullToEmpty.
        let url = "https://username@example.com";
        assert_eq!(
            part("url_extract_host", url).as_deref(),
            Some("example.com")
        );
        assert_eq!(part("url_extract_path", url).as_deref(), Some(""));
        assert_eq!(part("url_extract_query", url).as_deref(), Some(""));
        assert_eq!(part("url_extract_fragment", url).as_deref(), Some(""));
        assert_eq!(part("url_extract_port", url), None);
    }

    #[test]
    fn hosts() {
        let host = |u: &str| part("url_extract_host", u);
        assert_eq!(host("http://[::1]:80/x").as_deref(), Some("[::1]"));
        assert_eq!(
            part("url_extract_port", "http://[::1]:80/x").as_deref(),
            Some("80")
        );
        assert_eq!(host("http://192.168.0.1/").as_deref(), Some("192.168.0.1"));
        assert_eq!(
            host("http://example.com./").as_deref(),
            Some("example.com.")
        );
        assert_eq!(host("http://a-b.example/").as_deref(), Some("a-b.example"));
        // Registry-based authorities have no host (Java quirks).
        assert_eq!(host("http://my_host.com/").as_deref(), Some(""));
        assert_eq!(host("http://www.123/").as_deref(), Some(""));
        assert_eq!(host("http://256.1.1.1/").as_deref(), Some(""));
        assert_eq!(host("http://host:abc/").as_deref(), Some(""));
        assert_eq!(part("url_extract_port", "http://host:99999999999/"), None);
        assert_eq!(host("http://-a.com/").as_deref(), Some(""));
        assert_eq!(host("file:///etc/hosts").as_deref(), Some(""));
        assert_eq!(
            part("url_extract_path", "file:///etc/hosts").as_deref(),
            Some("/etc/hosts")
        );
        assert_eq!(host("mailto:someone@example.com").as_deref(), Some(""));
        assert_eq!(
            part("url_extract_path", "mailto:someone@example.com").as_deref(),
            Some("")
        );
        assert_eq!(
            part("url_extract_protocol", "mailto:someone@example.com").as_deref(),
            Some("mailto")
        );
        assert_eq!(host("http://[zz]/"), None);
    }

    #[test]
    fn malformed_urls_are_null() {
        for url in [
            "https://a b.com/",
            "http://x.com/a b",
            "http://x.com/?q={x}",
            "http://x.com/?q=a|b",
            "http://x.com/%zz",
            "http://x.com/%4",
            "http://x.com/#a#b",
            "http://",
            "http:",
            ":foo",
            "1http://x.com",
            "ht tp://x.com",
            "http://x.com/\"",
            "http://x.com/\t",
        ] {
            for name in [
                "url_extract_protocol",
                "url_extract_host",
                "url_extract_path",
                "url_extract_port",
                "url_extract_query",
                "url_extract_fragment",
            ] {
                assert_eq!(part(name, url), None, "{name}({url:?})");
            }
            assert_eq!(
                run("url_extract_parameter", &[url, "q"]).unwrap(),
                None,
                "{url}"
            );
        }
    }

    #[test]
    fn decoding_of_parts() {
        assert_eq!(
            part("url_extract_path", "http://x.com/%E6%97%A5%zz").as_deref(),
            None,
            "bad escape"
        );
        assert_eq!(
            part("url_extract_path", "http://x.com/%E6%97%A5").as_deref(),
            Some("/日")
        );
        assert_eq!(
            part("url_extract_path", "http://x.com/日本").as_deref(),
            Some("/日本")
        );
        assert_eq!(
            part("url_extract_path", "http://x.com/%FF").as_deref(),
            Some("/\u{FFFD}")
        );
        assert_eq!(
            part("url_extract_query", "http://x.com/?a=%26+b").as_deref(),
            Some("a=&+b")
        );
        assert_eq!(
            part("url_extract_fragment", "http://x.com/#a%20b").as_deref(),
            Some("a b")
        );
        assert_eq!(
            part("url_extract_path", "/relative/p?x=1").as_deref(),
            Some("/relative/p")
        );
        assert_eq!(
            part("url_extract_host", "/relative/p?x=1").as_deref(),
            Some("")
        );
    }

    #[test]
    fn parameters() {
        let p = |u: &str, n: &str| run("url_extract_parameter", &[u, n]).unwrap();
        let url = "http://example.com/path1/p.php?k1=v1&k2=v2&k3&k4#Ref1";
        assert_eq!(p(url, "k1").as_deref(), Some("v1"));
        assert_eq!(p(url, "k3").as_deref(), Some(""));
        assert_eq!(p(url, "k5"), None);
        assert_eq!(p("http://x.com/?a=x%26y&a=2", "a").as_deref(), Some("x&y"));
        assert_eq!(p("http://x.com/?a=b=c", "a").as_deref(), Some("b=c"));
        assert_eq!(p("http://x.com/", "a"), None);
        assert_eq!(p("http://x.com/?=v", "").as_deref(), Some("v"));
        let out = call(
            &udf("url_extract_parameter"),
            vec![
                ScalarValue::Utf8View(Some("http://x.com/?a=1".into())),
                ScalarValue::Null,
            ],
        )
        .unwrap();
        assert!(out.is_null());
    }

    #[test]
    fn encode_and_decode() {
        let enc = |s: &str| run("url_encode", &[s]).unwrap().unwrap();
        let dec = |s: &str| run("url_decode", &[s]);
        assert_eq!(enc(""), "");
        assert_eq!(enc("a.b-c*d_e~f"), "a.b-c*d_e%7Ef");
        assert_eq!(enc("100%"), "100%25");
        assert_eq!(enc("a+b"), "a%2Bb");
        for s in ["", "a b+c", "日本語 & =?/#%", "x\u{1F600}y"] {
            assert_eq!(
                dec(&enc(s)).unwrap().as_deref(),
                Some(s),
                "round trip {s:?}"
            );
        }
        assert_eq!(dec("%e6%97%a5").unwrap().as_deref(), Some("日"));
        assert_eq!(dec("%FF").unwrap().as_deref(), Some("\u{FFFD}"));
        assert_eq!(dec("plain").unwrap().as_deref(), Some("plain"));
        for bad in ["%", "%4", "abc%", "%zz", "%-1", "%4g"] {
            let e = dec(bad).expect_err(bad).to_string();
            assert!(e.contains("url_decode:"), "{bad}: {e}");
        }
        assert!(run("url_extract_parameter", &["http://x.com/?a=%", "a"])
            .unwrap()
            .is_none());
    }

    #[test]
    fn columns_and_nulls() {
        let urls: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("http://a.com:81/"),
            None,
            Some("bad url"),
            Some("http://b.com/"),
        ]));
        let out = invoke_arrays(&udf("url_extract_port"), vec![urls.clone()]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(81), None, None, None]
        );
        let out = invoke_arrays(&udf("url_extract_host"), vec![urls]).unwrap();
        let out = out.as_string_view();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some("a.com"), None, None, Some("b.com")]
        );
        assert!(udf("url_encode").coerce_types(&[DataType::Int64]).is_err());
        assert_eq!(
            udf("url_encode").coerce_types(&[DataType::Utf8]).unwrap(),
            vec![DataType::Utf8View]
        );
        assert_eq!(
            udf("url_extract_port")
                .return_type(&[DataType::Utf8View])
                .unwrap(),
            DataType::Int64
        );
    }
}

//! SLS IP functions that need no database (spec §7.11): IP prefixes and subnets
//! (`ip_prefix`, `ip_subnet_min`, `ip_subnet_max`, `ip_subnet_range`, `is_subnet_of`,
//! `is_prefix_subnet_of`) and `ip_to_domain` (private or public address). The geolocation
//! functions that do need one live in [`super::geoip`].
//!
//! SLS documents these functions on text (`'192.168.1.1'`, `'192.168.1.0/24'`); Presto, whose
//! semantics they follow, types them as IPADDRESS/IPPREFIX. Here addresses and prefixes are
//! VARCHAR, and results are VARCHAR in Presto's canonical text form (IPv6 compressed as
//! RFC 5952: `2001:db8::`). Decisions (docs/decisions.md):
//! - both IPv4 and IPv6 are accepted (SLS documents IPv4; Presto takes both); an IPv4-mapped
//!   IPv6 address (`::ffff:1.2.3.4`) is read as the IPv4 address, as Presto does;
//! - a prefix is `address/bits`; its host bits need not be zero (`'192.168.255.255/9'` is
//!   `192.128.0.0/9`, as `CAST(... AS IPPREFIX)` normalises it). A bare address where a prefix is
//!   expected is the one-address prefix (`/32`, `/128`);
//! - text that is not an address (or prefix) gives NULL, as the other text-parsing functions do
//!   for malformed log data; a `prefix_bits` outside 0–32 (IPv4) or 0–128 (IPv6) is an error,
//!   as in Presto; an address and a prefix of different families are not related (`false`).
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanBuilder, StringViewBuilder};
use datafusion_common::{exec_err, Result};

use super::common::*;
use super::{Family, FunctionDef};

/// An address as a 128-bit number and its family's width (32 or 128 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Addr {
    bits: u128,
    width: u8,
}

impl Addr {
    fn from_ip(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr {
                bits: u128::from(u32::from(v4)),
                width: 32,
            },
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Addr::from_ip(IpAddr::V4(v4)),
                None => Addr {
                    bits: u128::from(v6),
                    width: 128,
                },
            },
        }
    }

    /// The address back as an [`IpAddr`].
    fn ip(self) -> IpAddr {
        if self.width == 32 {
            // Only the low 32 bits are ever set for an IPv4 address.
            IpAddr::V4(Ipv4Addr::from(self.bits as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(self.bits))
        }
    }
}

/// Parses an IPv4 or IPv6 address (surrounding spaces allowed); `None` when `s` is not one.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse::<IpAddr>().ok()
}

fn parse_addr(s: &str) -> Option<Addr> {
    parse_ip(s).map(Addr::from_ip)
}

/// A network: its first address and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prefix {
    base: Addr,
    len: u8,
}

/// The mask of the first `len` bits of a `width`-bit address.
fn mask(width: u8, len: u8) -> u128 {
    let all = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    // `checked_shr`: a shift by the full 128 bits (a /128 prefix) leaves no host bits.
    all & !all.checked_shr(u32::from(len)).unwrap_or(0)
}

impl Prefix {
    /// The network of `addr` with `len` prefix bits (`len` must fit the family).
    fn of(addr: Addr, len: u8) -> Prefix {
        Prefix {
            base: Addr {
                bits: addr.bits & mask(addr.width, len),
                width: addr.width,
            },
            len,
        }
    }

    /// `address/bits`, or a bare address as a one-address prefix.
    fn parse(s: &str) -> Option<Prefix> {
        let s = s.trim();
        match s.split_once('/') {
            None => parse_addr(s).map(|a| Prefix::of(a, a.width)),
            Some((addr, bits)) => {
                if bits.is_empty() || !bits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let ip = addr.parse::<IpAddr>().ok()?;
                let len: u8 = bits.parse().ok()?;
                // The length applies to the address as written: `::ffff:1.2.3.4/120` is an IPv6
                // prefix of 120 bits, the IPv4 prefix /24.
                let (a, len) = match ip {
                    IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => {
                        (Addr::from_ip(ip), len.checked_sub(96)?)
                    }
                    _ => (Addr::from_ip(ip), len),
                };
                (len <= a.width).then(|| Prefix::of(a, len))
            }
        }
    }

    fn min(self) -> Addr {
        self.base
    }

    fn max(self) -> Addr {
        let host = !mask(self.base.width, self.len)
            & if self.base.width == 32 {
                u128::from(u32::MAX)
            } else {
                u128::MAX
            };
        Addr {
            bits: self.base.bits | host,
            width: self.base.width,
        }
    }

    /// Whether `a` is in this network.
    fn contains(self, a: Addr) -> bool {
        a.width == self.base.width && a.bits & mask(a.width, self.len) == self.base.bits
    }

    /// Whether `other` is this network or one of its subnets.
    fn covers(self, other: Prefix) -> bool {
        other.len >= self.len && self.contains(other.base)
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base.ip(), self.len)
    }
}

/// Whether `ip` is a private (intranet) address: RFC 1918, loopback, link-local, CGNAT
/// (100.64/10), unspecified, and for IPv6 unique-local (fc00::/7), link-local (fe80::/10),
/// loopback and unspecified.
pub(crate) fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || (o[0] == 100 && (o[1] & 0xC0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                let s = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (s & 0xFE00) == 0xFC00
                    || (s & 0xFFC0) == 0xFE80
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------------------------

fn eval_ip_prefix(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let ip = str_col("ip_prefix", &arrays[0])?;
    let bits = int_col("ip_prefix", &arrays[1])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        let (Some(s), Some(n)) = (ip.get(i), bits.get(i)) else {
            out.append_null();
            continue;
        };
        let Some(a) = parse_addr(s) else {
            out.append_null();
            continue;
        };
        match u8::try_from(n).ok().filter(|n| *n <= a.width) {
            Some(n) => out.append_value(Prefix::of(a, n).to_string()),
            None => {
                return exec_err!(
                    "ip_prefix: prefix_bits must be between 0 and {} for '{s}', got {n}",
                    a.width
                )
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// A one-prefix-argument function producing an address.
fn eval_bound(name: &str, arrays: &[ArrayRef], rows: usize, max: bool) -> Result<ArrayRef> {
    let p = str_col(name, &arrays[0])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match p.get(i).and_then(Prefix::parse) {
            Some(p) => out.append_value(if max { p.max() } else { p.min() }.ip().to_string()),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_subnet_min(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_bound("ip_subnet_min", arrays, rows, false)
}

fn eval_subnet_max(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_bound("ip_subnet_max", arrays, rows, true)
}

fn eval_subnet_range(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let p = str_col("ip_subnet_range", &arrays[0])?;
    let mut out = varchar_list_builder(rows);
    for i in 0..rows {
        match p.get(i).and_then(Prefix::parse) {
            Some(p) => {
                out.values().append_value(p.min().ip().to_string());
                out.values().append_value(p.max().ip().to_string());
                out.append(true);
            }
            None => out.append(false),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `is_subnet_of(prefix, x)` (x an address or a prefix) and `is_prefix_subnet_of(prefix, x)`.
fn eval_subnet_test(name: &str, arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let p = str_col(name, &arrays[0])?;
    let x = str_col(name, &arrays[1])?;
    let mut out = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        let (Some(p), Some(x)) = (p.get(i).and_then(Prefix::parse), x.get(i)) else {
            out.append_null();
            continue;
        };
        match Prefix::parse(x) {
            Some(x) => out.append_value(p.covers(x)),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn eval_is_subnet_of(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_subnet_test("is_subnet_of", arrays, rows)
}

fn eval_is_prefix_subnet_of(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    eval_subnet_test("is_prefix_subnet_of", arrays, rows)
}

fn eval_ip_to_domain(arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let ip = str_col("ip_to_domain", &arrays[0])?;
    let mut out = StringViewBuilder::with_capacity(rows);
    for i in 0..rows {
        match ip.get(i) {
            None => out.append_null(),
            Some(s) => out.append_value(match parse_ip(s) {
                Some(a) if is_private(a) => "intranet",
                Some(_) => "internet",
                None => "invalid",
            }),
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
    examples: &'static [super::Example],
) -> FunctionDef {
    let name = udf.name;
    udf.into_def(Family::Ip, name, signature, summary, examples)
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    use Arg::*;
    let mut v = vec![
        def(
            SplUdf::new("ip_prefix", &[Str, Int], 2, ret_varchar, eval_ip_prefix),
            "ip_prefix(ip VARCHAR, prefix_bits BIGINT) -> VARCHAR",
            "The network of ip with prefix_bits prefix bits, as `address/bits`. NULL if ip is not an IPv4 or IPv6 address or an argument is NULL; an error if prefix_bits is outside 0–32 (IPv4) or 0–128 (IPv6).",
            &[
                ex!("ip_prefix('192.168.1.17', 24)", Some("192.168.1.0/24")),
                ex!("ip_prefix('2001:0db8:85a3:0001:0001:8a2e:0370:7334', 48)", Some("2001:db8:85a3::/48")),
                ex!("ip_prefix('not an ip', 24)", None),
            ],
        ),
        def(
            SplUdf::new("ip_subnet_min", &[Str], 1, ret_varchar, eval_subnet_min),
            "ip_subnet_min(prefix VARCHAR) -> VARCHAR",
            "The smallest address of the network prefix (`address/bits`; host bits are ignored, a bare address is a one-address network). NULL if prefix is not a valid prefix or is NULL.",
            &[
                ex!("ip_subnet_min('192.168.255.255/9')", Some("192.128.0.0")),
                ex!("ip_subnet_min('2001:0db8:85a3:0001:0001:8a2e:0370:7334/48')", Some("2001:db8:85a3::")),
            ],
        ),
        def(
            SplUdf::new("ip_subnet_max", &[Str], 1, ret_varchar, eval_subnet_max),
            "ip_subnet_max(prefix VARCHAR) -> VARCHAR",
            "The largest address of the network prefix. NULL if prefix is not a valid prefix or is NULL.",
            &[
                ex!("ip_subnet_max('192.64.0.0/9')", Some("192.127.255.255")),
                ex!("ip_subnet_max('2001:db8:85a3::/48')", Some("2001:db8:85a3:ffff:ffff:ffff:ffff:ffff")),
            ],
        ),
        def(
            SplUdf::new("ip_subnet_range", &[Str], 1, ret_varchar_list, eval_subnet_range),
            "ip_subnet_range(prefix VARCHAR) -> ARRAY(VARCHAR)",
            "The smallest and the largest address of the network prefix. NULL if prefix is not a valid prefix or is NULL.",
            &[
                ex!("ip_subnet_range('1.2.3.160/24')", Some(r#"["1.2.3.0","1.2.3.255"]"#)),
                ex!("ip_subnet_range('64:ff9b::52f4/120')", Some(r#"["64:ff9b::5200","64:ff9b::52ff"]"#)),
            ],
        ),
        def(
            SplUdf::new("is_subnet_of", &[Str, Str], 2, ret_boolean, eval_is_subnet_of),
            "is_subnet_of(prefix VARCHAR, ip VARCHAR) -> BOOLEAN",
            "Whether the address ip (or the whole network, when ip is a prefix) is in the network prefix. NULL if an argument is not a valid address or prefix or is NULL.",
            &[
                ex!("is_subnet_of('1.2.3.128/26', '1.2.3.129')", Some("true")),
                ex!("is_subnet_of('64:fa9b::17/64', '64:ffff::17')", Some("false")),
                ex!("is_subnet_of('192.168.0.0/16', '10.0.0.1')", Some("false")),
            ],
        ),
        def(
            SplUdf::new("is_prefix_subnet_of", &[Str, Str], 2, ret_boolean, eval_is_prefix_subnet_of),
            "is_prefix_subnet_of(prefix VARCHAR, subnet VARCHAR) -> BOOLEAN",
            "Whether the network subnet lies within the network prefix. NULL if an argument is not a valid prefix or is NULL.",
            &[
                ex!("is_prefix_subnet_of('192.168.0.1/24', '192.168.0.1/26')", Some("true")),
                ex!("is_prefix_subnet_of('192.168.0.1/26', '192.168.0.1/24')", Some("false")),
                ex!("is_prefix_subnet_of('64:ff9b::17/64', '64:ffff::17/64')", Some("false")),
            ],
        ),
        def(
            SplUdf::new("ip_to_domain", &[Str], 1, ret_varchar, eval_ip_to_domain),
            "ip_to_domain(ip VARCHAR) -> VARCHAR",
            "`intranet` if ip is a private address (RFC 1918, loopback, link-local, 100.64.0.0/10, IPv6 unique-local or link-local), `internet` if it is another address, `invalid` if it is not an address. NULL if ip is NULL. Needs no geolocation database.",
            &[
                ex!("ip_to_domain('192.168.1.1')", Some("intranet")),
                ex!("ip_to_domain('8.8.8.8')", Some("internet")),
                ex!("ip_to_domain('abc')", Some("invalid")),
            ],
        ),
    ];
    v.sort_by_key(|f| f.name);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Prefix {
        Prefix::parse(s).unwrap_or_else(|| panic!("prefix {s}"))
    }

    #[test]
    fn prefixes_normalise_host_bits() {
        assert_eq!(p("192.168.255.255/9").to_string(), "192.128.0.0/9");
        assert_eq!(p("10.1.2.3").to_string(), "10.1.2.3/32");
        assert_eq!(p("0.0.0.0/0").max().ip().to_string(), "255.255.255.255");
        assert_eq!(
            p("::/0").max().ip().to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        );
        assert_eq!(p("1.2.3.4/32").max().ip().to_string(), "1.2.3.4");
        assert_eq!(p("::1/128").min().ip().to_string(), "::1");
    }

    #[test]
    fn malformed_prefixes_are_rejected() {
        for bad in [
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/-1",
            "1.2.3.4/+8",
            "::/129",
            "1.2.3/8",
            "abc/8",
            "",
            "1.2.3.4/8/8",
            "1.2.3.4/999999999999",
        ] {
            assert!(Prefix::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn mapped_ipv4_is_ipv4() {
        assert_eq!(p("::ffff:1.2.3.4/120").to_string(), "1.2.3.0/24");
        assert!(Prefix::parse("::ffff:1.2.3.4/95").is_none());
        assert!(p("1.2.3.0/24").contains(parse_addr("::ffff:1.2.3.9").unwrap()));
    }

    #[test]
    fn containment() {
        assert!(p("10.0.0.0/8").covers(p("10.20.0.0/16")));
        assert!(!p("10.20.0.0/16").covers(p("10.0.0.0/8")));
        assert!(p("10.0.0.0/8").covers(p("10.0.0.0/8")));
        assert!(!p("10.0.0.0/8").covers(p("::a00:0/104")));
        assert!(p("0.0.0.0/0").covers(p("255.1.2.3")));
    }

    #[test]
    fn private_ranges() {
        for ip in [
            "10.1.1.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_private(parse_ip(ip).unwrap()), "{ip}");
        }
        for ip in [
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2001:db8::1",
            "1.1.1.1",
        ] {
            assert!(!is_private(parse_ip(ip).unwrap()), "{ip}");
        }
    }

    #[test]
    fn functions_on_columns() {
        use super::super::string::tests::{call, col, int, lit};
        use arrow::array::AsArray;
        let out = call(
            "ip_prefix",
            vec![
                col(&[Some("1.2.3.4"), None, Some("x"), Some("::1")]),
                int(8),
            ],
        )
        .unwrap();
        let v: Vec<Option<&str>> = out.as_string_view().iter().collect();
        assert_eq!(v, vec![Some("1.0.0.0/8"), None, None, Some("::/8")]);
        let e = call("ip_prefix", vec![lit("1.2.3.4"), int(33)]).unwrap_err();
        assert!(e.to_string().contains("between 0 and 32"), "{e}");
        let e = call("ip_prefix", vec![lit("1.2.3.4"), int(-1)]).unwrap_err();
        assert!(e.to_string().contains("got -1"), "{e}");
        let out = call(
            "is_subnet_of",
            vec![
                lit("10.0.0.0/8"),
                col(&[Some("10.9.9.9"), Some("11.0.0.1"), Some("bad"), None]),
            ],
        )
        .unwrap();
        let v: Vec<Option<bool>> = out.as_boolean().iter().collect();
        assert_eq!(v, vec![Some(true), Some(false), None, None]);
    }
}

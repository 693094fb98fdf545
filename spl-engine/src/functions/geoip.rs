//! SLS IP geolocation functions (`ip_to_country`, `ip_to_province`, `ip_to_city`,
//! `ip_to_city_geo`, `ip_to_geo`, `ip_to_provider`, `ip_to_country_code`), answered from a
//! user-supplied MaxMind DB file (GeoIP2/GeoLite2 City, plus ISP or ASN fields for the provider).
//! SLS answers them from its own IP database; this implementation ships none.
//!
//! The database is opened once by the host ([`GeoIpDb::open`], `spl --geoip FILE`) and shared
//! by every function call of a pipeline: it travels in the session's DataFusion configuration
//! as the [`GeoIpConfig`] extension. A pipeline that calls one of these functions without a
//! database does not compile (E1015, reported by the compiler with the call's span); a direct
//! call without one is a clear error.
//!
//! Mapping of the SLS outputs to MaxMind record fields (docs/decisions.md):
//! - country: `country.names[zh-CN]` (SLS returns Chinese names), else `country.names[en]`;
//!   with `'en'`: `country.iso_code` (SLS returns the code for `ip_to_country(x, 'en')`);
//! - country code: `country.iso_code`;
//! - province: `subdivisions[0].names[zh-CN]`, else `[en]`; with `'en'`: `[en]`;
//! - city: `city.names[zh-CN]`, else `[en]`; with `'en'`: `[en]`;
//! - province and city of an address outside any subdivision/city: the country name, as SLS
//!   documents for addresses abroad;
//! - geo and city geo: `location.latitude,location.longitude` as `lat,lon` text;
//! - provider: `isp` (GeoIP2 ISP), else `autonomous_system_organization` (GeoLite2 ASN), else
//!   `organization`.
//!
//! An address the database does not cover, text that is not an address, and an IPv6 address
//! in an IPv4-only database give NULL; a record the database cannot decode is a row error.
use std::any::Any;
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, StringViewBuilder};
use arrow::datatypes::DataType;
use datafusion_common::config::{ConfigEntry, ConfigExtension, ExtensionOptions};
use datafusion_common::{exec_err, plan_err, DataFusionError, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, Volatility};
use maxminddb::{PathElement, Reader};

use super::common::{coerce_one, ex, function_def, invoke_rowwise, op_udf, str_col, Arg, UdfOp};
use super::ip::parse_ip;
use super::{Family, FunctionDef};

/// An opened MaxMind DB file.
pub struct GeoIpDb {
    reader: Reader<Vec<u8>>,
    name: String,
}

impl fmt::Debug for GeoIpDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeoIpDb")
            .field("name", &self.name)
            .field("type", &self.reader.metadata().database_type)
            .finish()
    }
}

impl GeoIpDb {
    /// Opens and checks the MaxMind DB file at `path`; the error says which file and why.
    pub fn open(path: &Path) -> Result<Arc<GeoIpDb>, String> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the IP geolocation database '{shown}': {e}"))?;
        GeoIpDb::from_bytes(bytes, &shown)
    }

    /// A database from the bytes of a MaxMind DB file; `name` names it in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<Arc<GeoIpDb>, String> {
        let reader = Reader::from_source(bytes).map_err(|e| {
            format!("'{name}' is not a valid MaxMind DB (.mmdb) IP geolocation database: {e}")
        })?;
        Ok(Arc::new(GeoIpDb {
            reader,
            name: name.to_string(),
        }))
    }

    /// The database type its metadata declares (`GeoLite2-City`).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The text at `path` in the record of `ip`; `None` when the database has no record for
    /// `ip` or the record lacks the path.
    fn text(&self, ip: IpAddr, path: &[PathElement<'_>]) -> Result<Option<String>> {
        let Some(found) = self.found(ip)? else {
            return Ok(None);
        };
        found.decode_path::<String>(path).map_err(|e| self.error(e))
    }

    fn number(&self, ip: IpAddr, path: &[PathElement<'_>]) -> Result<Option<f64>> {
        let Some(found) = self.found(ip)? else {
            return Ok(None);
        };
        found.decode_path::<f64>(path).map_err(|e| self.error(e))
    }

    fn found(&self, ip: IpAddr) -> Result<Option<maxminddb::LookupResult<'_, Vec<u8>>>> {
        // An IPv4-mapped IPv6 address is looked up as the IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if ip.is_ipv6() && self.reader.metadata().ip_version == 4 {
            return Ok(None);
        }
        let r = self.reader.lookup(ip).map_err(|e| self.error(e))?;
        Ok(r.has_data().then_some(r))
    }

    fn error(&self, e: maxminddb::MaxMindDbError) -> DataFusionError {
        DataFusionError::Execution(format!("IP geolocation database '{}': {e}", self.name))
    }
}

/// The session's geolocation database, as a DataFusion configuration extension (read only:
/// it is set by the host, never from text).
#[derive(Debug, Clone, Default)]
pub struct GeoIpConfig(pub Option<Arc<GeoIpDb>>);

impl ExtensionOptions for GeoIpConfig {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn cloned(&self) -> Box<dyn ExtensionOptions> {
        Box::new(self.clone())
    }

    fn set(&mut self, key: &str, _value: &str) -> Result<()> {
        Err(DataFusionError::Configuration(format!(
            "{}.{key}: the IP geolocation database is set by the host",
            Self::PREFIX
        )))
    }

    fn entries(&self) -> Vec<ConfigEntry> {
        vec![ConfigEntry {
            key: format!("{}.database", Self::PREFIX),
            value: self.0.as_ref().map(|db| db.name.clone()),
            description: "the MaxMind DB file of the ip_to_* functions",
        }]
    }
}

impl ConfigExtension for GeoIpConfig {
    const PREFIX: &'static str = "spl_geoip";
}

/// What a geolocation function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Geo {
    Country,
    CountryCode,
    Province,
    City,
    Location,
    CityLocation,
    Provider,
}

impl Geo {
    /// Whether the function takes the optional language argument.
    fn has_language(self) -> bool {
        matches!(self, Geo::Country | Geo::Province | Geo::City)
    }

    /// The answer for `ip` in `db`; `lang` is the language argument (`None`: SLS default).
    fn answer(self, db: &GeoIpDb, ip: IpAddr, lang: Option<&str>) -> Result<Option<String>> {
        let english = lang.is_some_and(|l| l.eq_ignore_ascii_case("en"));
        let name = |what: &[PathElement<'_>]| -> Result<Option<String>> {
            let mut path = what.to_vec();
            path.push(PathElement::Key("names"));
            let langs: Vec<&str> = match lang {
                Some(l) if !english => vec![l],
                Some(_) => vec!["en"],
                None => vec!["zh-CN", "en"],
            };
            for l in langs {
                path.push(PathElement::Key(l));
                if let Some(v) = db.text(ip, &path)? {
                    return Ok(Some(v));
                }
                path.pop();
            }
            Ok(None)
        };
        let country = |lang_en: bool| -> Result<Option<String>> {
            if lang_en {
                db.text(
                    ip,
                    &[PathElement::Key("country"), PathElement::Key("iso_code")],
                )
            } else {
                name(&[PathElement::Key("country")])
            }
        };
        Ok(match self {
            Geo::Country => country(english)?,
            Geo::CountryCode => country(true)?,
            Geo::Province => {
                match name(&[PathElement::Key("subdivisions"), PathElement::Index(0)])? {
                    Some(v) => Some(v),
                    None => country(false)?,
                }
            }
            Geo::City => match name(&[PathElement::Key("city")])? {
                Some(v) => Some(v),
                None => country(false)?,
            },
            Geo::Location | Geo::CityLocation => {
                let lat = db.number(
                    ip,
                    &[PathElement::Key("location"), PathElement::Key("latitude")],
                )?;
                let lon = db.number(
                    ip,
                    &[PathElement::Key("location"), PathElement::Key("longitude")],
                )?;
                match (lat, lon) {
                    (Some(lat), Some(lon)) => Some(format!("{lat},{lon}")),
                    _ => None,
                }
            }
            Geo::Provider => {
                let mut found = None;
                for key in ["isp", "autonomous_system_organization", "organization"] {
                    if let Some(v) = db.text(ip, &[PathElement::Key(key)])? {
                        found = Some(v);
                        break;
                    }
                }
                found
            }
        })
    }
}

/// The error of a geolocation function called without a database.
pub fn no_database_message(name: &str) -> String {
    format!(
        "{name} needs an IP geolocation database, and none is configured (give a MaxMind DB file with --geoip FILE)"
    )
}

impl UdfOp for Geo {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let max = if self.has_language() { 2 } else { 1 };
        if arg_types.is_empty() || arg_types.len() > max {
            let want = if max == 2 { "1 or 2" } else { "1" };
            return plan_err!(
                "{name}: expected {want} argument(s), got {}",
                arg_types.len()
            );
        }
        arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| coerce_one(name, i, Arg::Str, t))
            .collect()
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let db = args
            .config_options
            .extensions
            .get::<GeoIpConfig>()
            .and_then(|c| c.0.clone());
        let Some(db) = db else {
            return exec_err!("{}", no_database_message(name));
        };
        invoke_rowwise(&args, |arrays, rows| {
            let ips = str_col(name, &arrays[0])?;
            let langs = arrays.get(1).map(|a| str_col(name, a)).transpose()?;
            let mut out = StringViewBuilder::with_capacity(rows);
            for i in 0..rows {
                let lang = match &langs {
                    Some(l) => match l.get(i) {
                        Some(v) => Some(v),
                        None => {
                            out.append_null();
                            continue;
                        }
                    },
                    None => None,
                };
                let answer = match ips.get(i).and_then(parse_ip) {
                    Some(ip) => self.answer(&db, ip, lang)?,
                    None => None,
                };
                out.append_option(answer);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Names of the functions that need a geolocation database.
pub const NEEDS_DATABASE: &[&str] = &[
    "ip_to_city",
    "ip_to_city_geo",
    "ip_to_country",
    "ip_to_country_code",
    "ip_to_geo",
    "ip_to_province",
    "ip_to_provider",
];

fn def(
    name: &'static str,
    op: Geo,
    signature: &'static str,
    summary: &'static str,
    examples: &'static [super::Example],
) -> FunctionDef {
    // Not immutable: the answer depends on the session's database, so calls on constants are
    // not folded at compile time.
    let udf = op_udf(name, &[], op, Volatility::Stable);
    function_def(Family::Ip, name, &[], signature, summary, examples, udf)
}

/// The functions of this family. Their examples run against the test database of
/// [`mmdb::sample`] (the documentation generator configures it).
pub fn functions() -> Vec<FunctionDef> {
    vec![
        def(
            "ip_to_city",
            Geo::City,
            "ip_to_city(ip VARCHAR[, lang VARCHAR]) -> VARCHAR",
            "The city of ip from the --geoip database: its Chinese name (else English), or with lang 'en' the English name; the country name when the address has no city. NULL if the database has no record for ip or ip is not an address; an error if no database is configured.",
            &[
                ex!("ip_to_city('1.0.1.7')", Some("杭州")),
                ex!("ip_to_city('1.0.1.7', 'en')", Some("Hangzhou")),
                ex!("ip_to_city('10.0.0.1')", None),
            ],
        ),
        def(
            "ip_to_city_geo",
            Geo::CityLocation,
            "ip_to_city_geo(ip VARCHAR) -> VARCHAR",
            "The latitude and longitude of the city of ip as `lat,lon` (MaxMind's location). NULL if unknown; an error if no database is configured.",
            &[ex!("ip_to_city_geo('1.0.1.7')", Some("30.2936,120.1614"))],
        ),
        def(
            "ip_to_country",
            Geo::Country,
            "ip_to_country(ip VARCHAR[, lang VARCHAR]) -> VARCHAR",
            "The country or region of ip: its Chinese name (else English), or with lang 'en' its ISO 3166 code. NULL if unknown; an error if no database is configured.",
            &[
                ex!("ip_to_country('1.0.1.7')", Some("中国")),
                ex!("ip_to_country('1.0.1.7', 'en')", Some("CN")),
                ex!("ip_to_country('8.8.8.8')", Some("美国")),
            ],
        ),
        def(
            "ip_to_country_code",
            Geo::CountryCode,
            "ip_to_country_code(ip VARCHAR) -> VARCHAR",
            "The ISO 3166 code of the country or region of ip. NULL if unknown; an error if no database is configured.",
            &[ex!("ip_to_country_code('8.8.8.8')", Some("US"))],
        ),
        def(
            "ip_to_geo",
            Geo::Location,
            "ip_to_geo(ip VARCHAR) -> VARCHAR",
            "The latitude and longitude of ip as `lat,lon`. NULL if unknown; an error if no database is configured.",
            &[ex!("ip_to_geo('8.8.8.8')", Some("37.751,-97.822"))],
        ),
        def(
            "ip_to_province",
            Geo::Province,
            "ip_to_province(ip VARCHAR[, lang VARCHAR]) -> VARCHAR",
            "The province or state of ip: its Chinese name (else English), or with lang 'en' the English name; the country name when the address has no subdivision. NULL if unknown; an error if no database is configured.",
            &[
                ex!("ip_to_province('1.0.1.7')", Some("浙江省")),
                ex!("ip_to_province('1.0.1.7', 'en')", Some("Zhejiang")),
                ex!("ip_to_province('8.8.8.8')", Some("美国")),
            ],
        ),
        def(
            "ip_to_provider",
            Geo::Provider,
            "ip_to_provider(ip VARCHAR) -> VARCHAR",
            "The network provider (ISP) of ip: the ISP database's `isp`, else the ASN database's organization. NULL if unknown; an error if no database is configured.",
            &[ex!("ip_to_provider('1.0.1.7')", Some("China Telecom"))],
        ),
    ]
}

/// A minimal MaxMind DB writer: enough of the format (binary search tree, data section,
/// metadata) to build small test databases. Test support, public so that the CLI's tests can
/// write a database file; networks must not overlap.
#[doc(hidden)]
pub mod mmdb {
    use std::net::IpAddr;

    /// A value of the MaxMind DB data section.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Str(String),
        Double(f64),
        U16(u16),
        U32(u32),
        U64(u64),
        Map(Vec<(String, Value)>),
        Array(Vec<Value>),
    }

    /// A map value from `(key, value)` pairs.
    pub fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// A string value.
    pub fn s(text: &str) -> Value {
        Value::Str(text.to_string())
    }

    /// `{"en": en, "zh-CN": zh}`.
    pub fn names(en: &str, zh: &str) -> Value {
        map(vec![("en", s(en)), ("zh-CN", s(zh))])
    }

    fn control(out: &mut Vec<u8>, ty: u8, size: usize) {
        let (first, extra): (u8, Vec<u8>) = if size < 29 {
            (size as u8, vec![])
        } else if size < 29 + 256 {
            (29, vec![(size - 29) as u8])
        } else if size < 285 + 65536 {
            let v = size - 285;
            (30, vec![(v >> 8) as u8, v as u8])
        } else {
            let v = size - 65821;
            (31, vec![(v >> 16) as u8, (v >> 8) as u8, v as u8])
        };
        if ty <= 7 {
            out.push((ty << 5) | first);
        } else {
            out.push(first);
            out.push(ty - 7);
        }
        out.extend(extra);
    }

    fn uint(out: &mut Vec<u8>, ty: u8, v: u64) {
        let bytes = v.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        control(out, ty, 8 - skip);
        out.extend(&bytes[skip..]);
    }

    /// Appends the encoding of `v`.
    pub fn encode(out: &mut Vec<u8>, v: &Value) {
        match v {
            Value::Str(t) => {
                control(out, 2, t.len());
                out.extend(t.as_bytes());
            }
            Value::Double(d) => {
                control(out, 3, 8);
                out.extend(d.to_be_bytes());
            }
            Value::U16(n) => uint(out, 5, u64::from(*n)),
            Value::U32(n) => uint(out, 6, u64::from(*n)),
            Value::U64(n) => uint(out, 9, *n),
            Value::Map(entries) => {
                control(out, 7, entries.len());
                for (k, v) in entries {
                    encode(out, &Value::Str(k.clone()));
                    encode(out, v);
                }
            }
            Value::Array(items) => {
                control(out, 11, items.len());
                for v in items {
                    encode(out, v);
                }
            }
        }
    }

    #[derive(Clone, Copy)]
    enum Rec {
        Empty,
        Node(usize),
        Data(usize),
    }

    /// An IPv6 database (IPv4 networks live under `::/96`) with 24-bit records.
    pub struct Writer {
        database_type: String,
        nodes: Vec<[Rec; 2]>,
        data: Vec<u8>,
    }

    impl Writer {
        pub fn new(database_type: &str) -> Writer {
            Writer {
                database_type: database_type.to_string(),
                nodes: vec![[Rec::Empty, Rec::Empty]],
                data: Vec::new(),
            }
        }

        /// Maps every address of `network` (`a.b.c.d/n` or an IPv6 prefix) to `value`.
        pub fn insert(&mut self, network: &str, value: &Value) {
            let (addr, len) = network.split_once('/').expect("network/len");
            let ip: IpAddr = addr.parse().expect("address");
            let len: usize = len.parse().expect("prefix length");
            let (bits, len) = match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)), len + 96),
                IpAddr::V6(v6) => (u128::from(v6), len),
            };
            let offset = self.data.len();
            encode(&mut self.data, value);
            let mut node = 0;
            for depth in 0..len {
                let bit = ((bits >> (127 - depth)) & 1) as usize;
                if depth + 1 == len {
                    self.nodes[node][bit] = Rec::Data(offset);
                    break;
                }
                node = match self.nodes[node][bit] {
                    Rec::Node(n) => n,
                    _ => {
                        self.nodes.push([Rec::Empty, Rec::Empty]);
                        let n = self.nodes.len() - 1;
                        self.nodes[node][bit] = Rec::Node(n);
                        n
                    }
                };
            }
        }

        /// The database file's bytes.
        pub fn build(&self) -> Vec<u8> {
            let count = self.nodes.len();
            let mut out = Vec::new();
            for node in &self.nodes {
                for rec in node {
                    let v = match *rec {
                        Rec::Empty => count,
                        Rec::Node(n) => n,
                        Rec::Data(off) => count + 16 + off,
                    };
                    out.extend(&(v as u32).to_be_bytes()[1..]);
                }
            }
            out.extend([0u8; 16]);
            out.extend(&self.data);
            out.extend(b"\xAB\xCD\xEFMaxMind.com");
            let meta = map(vec![
                ("binary_format_major_version", Value::U16(2)),
                ("binary_format_minor_version", Value::U16(0)),
                ("build_epoch", Value::U64(1_700_000_000)),
                ("database_type", s(&self.database_type)),
                ("description", map(vec![("en", s("spl test database"))])),
                ("ip_version", Value::U16(6)),
                ("languages", Value::Array(vec![s("en"), s("zh-CN")])),
                ("node_count", Value::U32(count as u32)),
                ("record_size", Value::U16(24)),
            ]);
            encode(&mut out, &meta);
            out
        }
    }

    /// A small City+ISP database: `1.0.1.0/24` (Hangzhou, Zhejiang, China, China Telecom),
    /// `8.8.8.0/24` (United States, no city or subdivision, ASN organization Google LLC) and
    /// `2001:db8::/32` (Berlin, Germany).
    pub fn sample() -> Vec<u8> {
        let mut w = Writer::new("GeoIP2-City");
        w.insert(
            "1.0.1.0/24",
            &map(vec![
                ("city", map(vec![("names", names("Hangzhou", "杭州"))])),
                (
                    "country",
                    map(vec![
                        ("iso_code", s("CN")),
                        ("names", names("China", "中国")),
                    ]),
                ),
                (
                    "location",
                    map(vec![
                        ("latitude", Value::Double(30.2936)),
                        ("longitude", Value::Double(120.1614)),
                    ]),
                ),
                (
                    "subdivisions",
                    Value::Array(vec![map(vec![
                        ("iso_code", s("ZJ")),
                        ("names", names("Zhejiang", "浙江省")),
                    ])]),
                ),
                ("isp", s("China Telecom")),
            ]),
        );
        w.insert(
            "8.8.8.0/24",
            &map(vec![
                (
                    "country",
                    map(vec![
                        ("iso_code", s("US")),
                        ("names", names("United States", "美国")),
                    ]),
                ),
                (
                    "location",
                    map(vec![
                        ("latitude", Value::Double(37.751)),
                        ("longitude", Value::Double(-97.822)),
                    ]),
                ),
                ("autonomous_system_organization", s("Google LLC")),
            ]),
        );
        w.insert(
            "2001:db8::/32",
            &map(vec![
                ("city", map(vec![("names", map(vec![("en", s("Berlin"))]))])),
                (
                    "country",
                    map(vec![
                        ("iso_code", s("DE")),
                        ("names", names("Germany", "德国")),
                    ]),
                ),
            ]),
        );
        w.build()
    }

    /// The [`sample`] database, opened.
    pub fn sample_db() -> std::sync::Arc<super::GeoIpDb> {
        super::GeoIpDb::from_bytes(sample(), "sample.mmdb").expect("the sample database is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(op: Geo, ip: &str, lang: Option<&str>) -> Option<String> {
        let db = mmdb::sample_db();
        op.answer(&db, parse_ip(ip).unwrap(), lang).unwrap()
    }

    #[test]
    fn sample_database_answers() {
        assert_eq!(
            ask(Geo::Country, "1.0.1.200", None).as_deref(),
            Some("中国")
        );
        assert_eq!(
            ask(Geo::Country, "1.0.1.200", Some("en")).as_deref(),
            Some("CN")
        );
        assert_eq!(
            ask(Geo::Country, "1.0.1.200", Some("EN")).as_deref(),
            Some("CN")
        );
        assert_eq!(ask(Geo::Country, "1.0.1.200", Some("fr")), None);
        assert_eq!(
            ask(Geo::CountryCode, "8.8.8.8", None).as_deref(),
            Some("US")
        );
        assert_eq!(
            ask(Geo::Province, "1.0.1.1", None).as_deref(),
            Some("浙江省")
        );
        assert_eq!(
            ask(Geo::Province, "8.8.8.8", Some("en")).as_deref(),
            Some("United States")
        );
        assert_eq!(
            ask(Geo::City, "2001:db8::1", None).as_deref(),
            Some("Berlin")
        );
        assert_eq!(
            ask(Geo::City, "2001:db8::1", Some("en")).as_deref(),
            Some("Berlin")
        );
        assert_eq!(
            ask(Geo::Location, "1.0.1.1", None).as_deref(),
            Some("30.2936,120.1614")
        );
        assert_eq!(ask(Geo::Location, "2001:db8::1", None), None);
        assert_eq!(
            ask(Geo::Provider, "1.0.1.1", None).as_deref(),
            Some("China Telecom")
        );
        assert_eq!(
            ask(Geo::Provider, "8.8.8.8", None).as_deref(),
            Some("Google LLC")
        );
        assert_eq!(ask(Geo::Country, "1.0.2.1", None), None);
        assert_eq!(ask(Geo::Country, "::1", None), None);
        // An IPv4-mapped IPv6 address finds the IPv4 record.
        assert_eq!(
            ask(Geo::CountryCode, "::ffff:8.8.8.8", None).as_deref(),
            Some("US")
        );
    }

    #[test]
    fn corrupt_and_missing_files_are_clear_errors() {
        let e = GeoIpDb::from_bytes(b"not a database".to_vec(), "x.mmdb").unwrap_err();
        assert!(e.contains("'x.mmdb' is not a valid MaxMind DB"), "{e}");
        let mut truncated = mmdb::sample();
        truncated.truncate(40);
        assert!(GeoIpDb::from_bytes(truncated, "t.mmdb").is_err());
        let e = GeoIpDb::open(Path::new("/nonexistent/geo.mmdb")).unwrap_err();
        assert!(
            e.contains("cannot read the IP geolocation database '/nonexistent/geo.mmdb'"),
            "{e}"
        );
    }

    #[test]
    fn hostile_bytes_never_panic() {
        let good = mmdb::sample();
        for cut in (0..good.len()).step_by(7) {
            let mut b = good.clone();
            b[cut] ^= 0xA5;
            if let Ok(db) = GeoIpDb::from_bytes(b, "fuzz") {
                for ip in ["1.0.1.1", "8.8.8.8", "2001:db8::1", "9.9.9.9"] {
                    for op in [Geo::Country, Geo::Province, Geo::Location, Geo::Provider] {
                        let _ = op.answer(&db, parse_ip(ip).unwrap(), None);
                    }
                }
            }
        }
    }

    #[test]
    fn without_a_database_the_call_fails_clearly() {
        use super::super::string::tests::{call, lit};
        let e = call("ip_to_country", vec![lit("1.0.1.1")]).unwrap_err();
        assert!(
            e.to_string()
                .contains("ip_to_country needs an IP geolocation database"),
            "{e}"
        );
    }
}

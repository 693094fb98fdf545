//! The SLS SQL function library (spec §7): one file per function family.
//!
//! Every function is described by a [`FunctionDef`]: its name, family, SQL signature, a summary and
//! examples. The examples double as tests, and `docs/functions.md` is generated from this metadata.
//! Implementations are DataFusion [`ScalarUDF`]s: ours where SLS semantics differ from DataFusion's,
//! DataFusion's own where they match.
use std::sync::{Arc, OnceLock};

use datafusion_expr::ScalarUDF;

pub(crate) mod common;
#[cfg(test)]
pub(crate) mod testing;

pub mod aggregates;
pub mod array;
pub mod bitwise;
pub mod datetime;
pub mod datetime_format;
pub mod encoding;
pub mod geoip;
pub mod ip;
pub mod json;
pub mod map;
pub mod math;
pub mod memo;
pub mod portability;
pub mod regexp;
pub mod series;
pub mod string;
pub mod url;

/// The family a function belongs to (one file each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    String,
    Regexp,
    Json,
    DateTime,
    Math,
    Bitwise,
    Encoding,
    Url,
    Array,
    Map,
    Ip,
    Series,
    Other,
}

impl Family {
    /// Human title used in generated docs.
    pub fn title(self) -> &'static str {
        match self {
            Family::String => "String functions",
            Family::Regexp => "Regular-expression functions",
            Family::Json => "JSON functions",
            Family::DateTime => "Date and time functions",
            Family::Math => "Math functions",
            Family::Bitwise => "Bitwise functions",
            Family::Encoding => "Binary, encoding and hash functions",
            Family::Url => "URL functions",
            Family::Array => "Array functions and lambdas",
            Family::Map => "Map functions",
            Family::Ip => "IP functions",
            Family::Series => "Time-series functions",
            Family::Other => "Other functions",
        }
    }
}

/// One worked example: an SPL expression and its result rendered as text (spec §18.4);
/// `None` means the result is NULL.
#[derive(Debug, Clone, Copy)]
pub struct Example {
    pub expr: &'static str,
    pub result: Option<&'static str>,
}

/// Metadata and implementation of one SPL function.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// Lower-case name as written in SPL.
    pub name: &'static str,
    /// Other accepted names (lower case).
    pub aliases: &'static [&'static str],
    pub family: Family,
    /// SQL-style signature(s), e.g. `split_part(s VARCHAR, delim VARCHAR, index BIGINT) -> VARCHAR`.
    pub signature: &'static str,
    /// One or two sentences on what it does, including NULL behaviour.
    pub summary: &'static str,
    pub examples: &'static [Example],
    /// The implementation. Argument coercion is driven by the UDF's `Signature`.
    pub udf: Arc<ScalarUDF>,
}

/// Every function of the library, in family order.
pub fn all() -> &'static [FunctionDef] {
    static ALL: OnceLock<Vec<FunctionDef>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = Vec::new();
        v.extend(string::functions());
        v.extend(regexp::functions());
        v.extend(json::functions());
        v.extend(datetime::functions());
        v.extend(math::functions());
        v.extend(bitwise::functions());
        v.extend(encoding::functions());
        v.extend(url::functions());
        v.extend(array::functions());
        v.extend(map::functions());
        let mut ip_family = ip::functions();
        ip_family.extend(geoip::functions());
        ip_family.sort_by_key(|f| f.name);
        v.extend(ip_family);
        v.extend(series::functions());
        v
    })
}

/// Looks a function up by name or alias, case-insensitively.
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    let lower = name.to_ascii_lowercase();
    all()
        .iter()
        .find(|f| f.name == lower || f.aliases.contains(&lower.as_str()))
}

/// True when every function `e` calls gives the same value for the same arguments (not
/// `now()`, `random()`, …): evaluating it once for equal inputs is the same as evaluating it
/// each time.
pub fn is_deterministic(e: &spl_parser::ast::Expr) -> bool {
    let mut ok = match &e.kind {
        spl_parser::ast::ExprKind::Call { name, .. } => match name.as_str() {
            "coalesce" | "if" | "nullif" | "try" => true,
            // Aggregates and unknown names are not in the library: never deterministic here.
            _ => lookup(name).is_some_and(|d| {
                d.udf.signature().volatility == datafusion_expr::Volatility::Immutable
            }),
        },
        _ => true,
    };
    e.for_each_child(&mut |c, _| ok = ok && is_deterministic(c));
    ok
}

/// True when `name` (lower case) is an aggregate function (`stats` only).
pub fn is_aggregate(name: &str) -> bool {
    aggregates::AGGREGATES.contains(&name)
}

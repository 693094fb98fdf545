//! The aggregate half of the function catalog: the names `stats` accepts. The catalog holds
//! scalar and aggregate names together (see [`super::is_aggregate`]), so lowering can tell an
//! aggregate used outside `stats` without depending on the operators; the accumulators
//! themselves are operator code (`ops::aggregate`).
/// Every aggregate `stats` accepts, in the order of the spec.
pub const AGGREGATES: &[&str] = &[
    "count",
    "count_if",
    "min",
    "max",
    "sum",
    "avg",
    "skewness",
    "kurtosis",
    "approx_percentile",
    "approx_distinct",
    "bool_and",
    "bool_or",
    "every",
    "arbitrary",
    "array_agg",
];

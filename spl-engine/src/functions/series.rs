//! Time-series functions (Time-series SPL), used in `extend` after `make-series`.
//!
//! `make-series` writes one row per group with the time axis `__ts__` (`ARRAY(BIGINT)`, unix
//! nanoseconds) and each series as `ARRAY(DOUBLE)`; these functions analyse such arrays:
//!
//! | function | module | method |
//! |---|---|---|
//! | `second_to_nano` | here | seconds × 10⁹ |
//! | `series_forecast` | [`forecast`] | MSTL decomposition + AutoETS (augurs) |
//! | `series_decompose_anomalies` | [`anomalies`] | robust STL (stlrs) + robust z-score of the residual |
//! | `series_pattern_anomalies` | [`anomalies`] | matrix-profile discords |
//! | `series_describe` | [`describe`] | statistics, ACF period, trend, stability |
//! | `correlation` | [`correlation`] | Pearson / Spearman, vector, vector-group or matrix |
//! | `cluster` | [`cluster`] | k-means (silhouette-chosen k) or DBSCAN (augurs) |
//! | `series_drilldown` | [`drilldown`] | explanatory-power search over dimension combinations |
//!
//! The analyses return a JSON object (the engine's JSON type) with the vendor's field names
//! (`forecast_metric_series`, `anomalies_score_series`, `error_msg`, …): read a field with
//! `ret['field']` or `json_extract(ret, '$.field')`. Arrays in it are aligned with the input
//! series (and `__ts__` when given). NULL input gives NULL; input the analysis cannot use (too
//! few points, an impossible period) gives an object whose `error_msg` says why; invalid
//! arguments (bad options, mismatched lengths, over the size caps) are row errors.
//! docs/decisions.md ("Time-series functions") records where we chose.
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs};

use super::common::{
    cast_all, coerce_all, ex, invoke_rowwise, is_string_type, op_def, row_values, UdfOp,
};
use super::{Family, FunctionDef};

mod anomalies;
mod cluster;
mod correlation;
mod describe;
mod drilldown;
mod forecast;
mod util;

/// Which series function an op computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    SecondToNano,
    Forecast,
    DecomposeAnomalies,
    PatternAnomalies,
    Describe,
    Correlation,
    Cluster,
    Drilldown,
}

impl UdfOp for Op {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match self {
            Op::SecondToNano => coerce_all(
                name,
                1,
                arg_types,
                |t| t == &DataType::Null || t.is_integer() || is_string_type(t),
                &DataType::Int64,
                "BIGINT",
            ),
            Op::Forecast => forecast::coerce(name, arg_types),
            Op::DecomposeAnomalies | Op::PatternAnomalies | Op::Describe => {
                anomalies::coerce(name, arg_types)
            }
            Op::Correlation => correlation::coerce(name, arg_types),
            Op::Cluster => cluster::coerce(name, arg_types),
            Op::Drilldown => drilldown::coerce(name, arg_types),
        }
    }

    fn return_type(self, _name: &str, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self {
            Op::SecondToNano => DataType::Int64,
            Op::Correlation => correlation::return_type(arg_types),
            _ => crate::types::JSON,
        })
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let names: Vec<String> = args
            .arg_fields
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        invoke_rowwise(&args, |arrays, rows| {
            let json = |v: Result<Vec<Option<serde_json::Value>>>| v.map(util::json_column);
            match self {
                Op::SecondToNano => second_to_nano(name, arrays, rows),
                Op::Forecast => json(forecast::invoke(name, arrays, rows)),
                Op::DecomposeAnomalies => json(anomalies::invoke_decompose(name, arrays, rows)),
                Op::PatternAnomalies => json(anomalies::invoke_pattern(name, arrays, rows)),
                Op::Describe => json(describe::invoke(name, arrays, rows)),
                Op::Correlation => correlation::invoke(name, arrays, rows),
                Op::Cluster => json(cluster::invoke(name, arrays, rows)),
                Op::Drilldown => {
                    let dims = drilldown::dim_names(&names[..arrays.len().saturating_sub(4)]);
                    json(drilldown::invoke(name, &dims, arrays, rows))
                }
            }
        })
    }
}

fn second_to_nano(name: &str, arrays: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let cols = cast_all::<Int64Array>(arrays, &DataType::Int64)?;
    let out = (0..rows)
        .map(|i| {
            row_values(&cols, i).map_or(Ok(None), |v| match v[0].checked_mul(1_000_000_000) {
                Some(ns) => Ok(Some(ns)),
                None => exec_err!("{name}: {} seconds overflow BIGINT nanoseconds", v[0]),
            })
        })
        .collect::<Result<Int64Array>>()?;
    Ok(Arc::new(out) as ArrayRef)
}

pub fn functions() -> Vec<FunctionDef> {
    vec![
        op_def(
            Family::Series,
            "second_to_nano",
            Op::SecondToNano,
            "second_to_nano(seconds BIGINT) -> BIGINT",
            "Unix seconds as unix nanoseconds (the unit of `make-series`'s `__ts__`). NULL when the argument is NULL; an error when the result does not fit in BIGINT.",
            &[
                ex!("second_to_nano(1700000000)", Some("1700000000000000000")),
                ex!("second_to_nano(null)", None),
            ],
        ),
        op_def(
            Family::Series,
            "series_forecast",
            Op::Forecast,
            "series_forecast([ts ARRAY(BIGINT),] series ARRAY(DOUBLE), periods BIGINT [, options VARCHAR]) -> JSON",
            "Forecasts the next `periods` points (at most 10000) of a series of at least 31 known points: MSTL decomposition at the detected period plus an automatically chosen exponential-smoothing model (augurs MSTL + AutoETS). Returns {time_series, metric_series, forecast_metric_series, forecast_metric_upper_series, forecast_metric_lower_series, forecast_start_index, forecast_length, period, method, error_msg}; the series arrays hold the n input positions then the forecast, `time_series` (only with `ts`) continues the axis by its step. Options (JSON): `period` (0 = none), `interval_width` (default 0.95). NULL series → NULL; too few points → `error_msg`.",
            &[
                ex!(
                    "transform(slice(cast(series_forecast(transform(sequence(0, 47), x -> 10 + x % 4), 4)['forecast_metric_series'] as array(double)), 49, 4), x -> round(x, 2))",
                    Some("[10.0,11.0,12.0,13.0]")
                ),
                ex!(
                    "series_forecast(array[1, 2, 3], 2)['error_msg']",
                    Some("\"a forecast needs at least 31 known points, the series has 3\"")
                ),
                ex!("series_forecast(null, 2)", None),
            ],
        ),
        op_def(
            Family::Series,
            "series_decompose_anomalies",
            Op::DecomposeAnomalies,
            "series_decompose_anomalies([ts ARRAY(BIGINT),] series ARRAY(DOUBLE) [, options VARCHAR]) -> JSON",
            "Anomalous points of a series: robust STL decomposition at the detected period (a running median without one), then a robust z-score of the residual (|z| > 3.5 by default). Returns {time_series, anomalies_score_series (0 for normal points, in (0, 1) for anomalies), anomalies_type_series (`ExceedUpperBound`, `ExceedLowerBound` or ''), baseline_series, trend_series, seasonal_series, residual_series, lower_bound_series, upper_bound_series, period, error_msg}. Options: `period`, `threshold` (z), `confidence` (a significance level instead). NULL series → NULL; fewer than 8 known points → `error_msg`.",
            &[
                ex!(
                    "array_position(cast(series_decompose_anomalies(transform(sequence(0, 47), x -> if(x = 30, 40, x % 4)))['anomalies_type_series'] as array(varchar)), 'ExceedUpperBound')",
                    Some("31")
                ),
                ex!(
                    "cardinality(filter(cast(series_decompose_anomalies(transform(sequence(0, 47), x -> if(x = 30, 40, x % 4)))['anomalies_score_series'] as array(double)), s -> s > 0))",
                    Some("1")
                ),
                ex!("series_decompose_anomalies(array[1, 2])['error_msg']", Some("\"the analysis needs at least 8 known points, the series has 2\"")),
            ],
        ),
        op_def(
            Family::Series,
            "series_pattern_anomalies",
            Op::PatternAnomalies,
            "series_pattern_anomalies([ts ARRAY(BIGINT),] series ARRAY(DOUBLE) [, options VARCHAR]) -> JSON",
            "Points of unusually shaped stretches of a series: windows (option `window`, default the detected period, else 16) whose distance to the most similar other window is an outlier (matrix-profile discords, robust z > 5) have their points flagged. Returns {time_series, anomalies_score_series, anomalies_type_series (`PatternAnomaly` or ''), window, error_msg}. At most 10000 points; NULL series → NULL; fewer than 16 known points → `error_msg`.",
            &[
                ex!(
                    "array_max(cast(series_pattern_anomalies(transform(sequence(0, 63), x -> if(x between 32 and 35, 0, x % 4)), '{\"window\": 4}')['anomalies_score_series'] as array(double))) > 0",
                    Some("true")
                ),
                ex!("series_pattern_anomalies(null)", None),
            ],
        ),
        op_def(
            Family::Series,
            "series_describe",
            Op::Describe,
            "series_describe([ts ARRAY(BIGINT),] series ARRAY(DOUBLE) [, options VARCHAR]) -> JSON",
            "A profile of a series: {point_count, actual_point_count, missing_point_count, missing_ratio, is_continuous, time_granularity (ns, with `ts`), min, max, mean, sum, std, p5, p25, p50, p75, p95, is_periodic, period, period_strength, has_trend, trend (`increasing`, `decreasing`, `none`), trend_slope (per point), is_stable}. Option `period` skips the detection. NULL series → NULL.",
            &[
                ex!(
                    "series_describe(array[1, 2, null, 4])['missing_point_count']",
                    Some("1")
                ),
                ex!(
                    "series_describe(transform(sequence(0, 95), x -> x % 12))['period']",
                    Some("12")
                ),
            ],
        ),
        op_def(
            Family::Series,
            "correlation",
            Op::Correlation,
            "correlation(a ARRAY(DOUBLE), b ARRAY(DOUBLE) [, method VARCHAR]) -> DOUBLE; correlation(group ARRAY(ARRAY(DOUBLE)), b ARRAY(DOUBLE) [, method]) -> ARRAY(DOUBLE); correlation(g1 ARRAY(ARRAY(DOUBLE)), g2 ARRAY(ARRAY(DOUBLE)) [, method]) -> ARRAY(ARRAY(DOUBLE))",
            "Similarity of two series (Pearson's r, or `'spearman'`), of each series of a group with one series, or of every pair of two groups (a matrix). Positions where either side is missing are skipped; fewer than two common points or a constant side give NULL; series of different lengths are an error.",
            &[
                ex!("correlation(array[1, 2, 3, 4], array[2, 4, 6, 8])", Some("1.0")),
                ex!("correlation(array[1, 2, 3, 4], array[1, 3, 2, 4])", Some("0.8")),
                ex!("correlation(array[array[1, 2, 3], array[3, 2, 1]], array[1, 2, 3])", Some("[1.0,-1.0]")),
                ex!("correlation(array[1, 2, 3, 4], array[1, 8, 27, 64], 'spearman')", Some("1.0")),
                ex!("correlation(array[1, 1, 1], array[1, 2, 3])", None),
            ],
        ),
        op_def(
            Family::Series,
            "cluster",
            Op::Cluster,
            "cluster(series ARRAY(ARRAY(DOUBLE)) [, method VARCHAR [, options VARCHAR]]) -> JSON",
            "Groups series of similar shape (each z-normalised unless `normalize` is false): `'kmeans'` (default; `n_clusters`, else the k in 2..8 with the best silhouette) or `'dbscan'` (`epsilon` 0.5, `min_cluster_size` 2; noise is −1). Returns {n_clusters, assignments (one per series, 0-based), sizes, centers, method, error_msg}. Series must have equal lengths (else `error_msg`); at most 2000 series.",
            &[
                ex!(
                    "cluster(array[array[1, 2, 3, 4], array[10, 20, 30, 40], array[4, 3, 2, 1], array[8, 6, 4, 2]], 'kmeans', '{\"n_clusters\": 2}')['assignments']",
                    Some("[0,0,1,1]")
                ),
                ex!("cluster(array[array[1, 2], array[1]])['error_msg']", Some("\"all series must have the same length\"")),
            ],
        ),
        op_def(
            Family::Series,
            "series_drilldown",
            Op::Drilldown,
            "series_drilldown(dim1 ARRAY(VARCHAR), [dim2 ARRAY(VARCHAR), ...,] ts ARRAY(ARRAY(BIGINT)), series ARRAY(ARRAY(DOUBLE)), begin BIGINT, end BIGINT) -> JSON",
            "Which dimension values explain a change of a metric in the window [begin, end] (ns): one element per series in every array (as gathered by `stats ... array_agg(...)`). Per series, the mean in the window (`real`) is compared with the mean before it (`predict`); the answer is the most specific combination of up to 3 dimensions that explains more than half of the total change. Returns {attrs: [{dimension: value}], statistics: {relative_ratio, relative_unexpected_difference, difference, predict, real, support}, error_msg}; `attrs` keys are the dimension arguments' names.",
            &[
                ex!(
                    "series_drilldown(array['GET', 'GET', 'PUT', 'PUT'], array['a', 'b', 'a', 'b'], array[array[1, 2, 3], array[1, 2, 3], array[1, 2, 3], array[1, 2, 3]], array[array[5, 5, 50], array[5, 5, 5], array[5, 5, 5], array[5, 5, 6]], 3, 3)['statistics']['real']",
                    Some("50.0")
                ),
            ],
        ),
    ]
}

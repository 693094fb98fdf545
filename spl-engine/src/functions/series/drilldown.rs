//! `series_drilldown`: which combination of dimension values explains a change of a metric.
//!
//! Input: one element per series (as collected by `stats … array_agg(…)` after `make-series …
//! by …`): its dimension values (one `ARRAY` per dimension), its time axis, its points, and the
//! anomaly window `[begin, end]` in unix nanoseconds.
//!
//! Method (ours; the vendor does not document its algorithm): per series, `real` is the mean
//! of its points inside the window and `predict` the mean of its points before `begin` (a
//! series without points in a period contributes 0 there). Means of series add up to the mean
//! of their sum, so every combination of dimension values (of 1 to 3 dimensions) gets `real`,
//! `predict` and its share of the total change, `relative_unexpected_difference =
//! (real − predict) / (total real − total predict)`. The root cause is the most specific
//! combination (most dimensions) that explains more than half of the total change; ties go to the
//! larger share, then to the fewer series (`support`), then to the smaller values. This is the
//! "explanatory power" criterion of Adtributor (Bhagwan et al., NSDI 2014) extended to
//! combinations, hand-written because it is a group-by over the input.
//!
//! Keys of `attrs` are the dimension arguments' column names. Bounds: at most [`MAX_SERIES`]
//! series and [`MAX_DIMS`] dimensions.
use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, plan_err, Result};
use serde_json::{json, Map, Value};

use super::util::{self, list_elem};
use crate::functions::common::{int_col, is_string_type, spend};

/// Most series (dimension combinations) one call takes.
pub(crate) const MAX_SERIES: usize = 100_000;
/// Most dimensions.
pub(crate) const MAX_DIMS: usize = 8;
/// Largest combinations considered.
const MAX_COMBINATION: usize = 3;

fn dims_type() -> DataType {
    DataType::new_list(DataType::Utf8, true)
}

fn ts_group_type() -> DataType {
    DataType::new_list(util::ts_type(), true)
}

/// `(dim..., ts_group, metric_group, begin, end)`.
pub(crate) fn coerce(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    if t.len() < 5 {
        return plan_err!(
            "{name}: expected dimension arrays, then the time axes, the series, begin and end (at least 5 arguments), got {}",
            t.len()
        );
    }
    let d = t.len() - 4;
    if d > MAX_DIMS {
        return plan_err!("{name}: at most {MAX_DIMS} dimensions, got {d}");
    }
    let mut out = Vec::new();
    for (i, ty) in t[..d].iter().enumerate() {
        let ok = ty == &DataType::Null
            || list_elem(ty).is_some_and(|e| {
                e == &DataType::Null
                    || is_string_type(e)
                    || e.is_numeric()
                    || e == &DataType::Boolean
            });
        if !ok {
            return plan_err!(
                "{name}: argument {} must be an ARRAY of dimension values, got {ty}",
                i + 1
            );
        }
        out.push(dims_type());
    }
    let ts_ok = t[d] == DataType::Null
        || list_elem(&t[d])
            .is_some_and(|e| e == &DataType::Null || util::coerce_ts(name, d + 1, e).is_ok());
    if !ts_ok {
        return plan_err!(
            "{name}: argument {} must be the time axes ARRAY(ARRAY(BIGINT)), got {}",
            d + 1,
            t[d]
        );
    }
    out.push(ts_group_type());
    out.push(util::coerce_series_group(name, d + 2, &t[d + 1])?);
    out.push(util::coerce_int(name, d + 3, &t[d + 2])?);
    out.push(util::coerce_int(name, d + 4, &t[d + 3])?);
    Ok(out)
}

/// One series: its dimension values, time axis and points.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) dims: Vec<String>,
    pub(crate) ts: Vec<Option<i64>>,
    pub(crate) values: Vec<Option<f64>>,
}

/// Mean of the known points whose time satisfies `keep` (0 when there is none).
fn mean_where(s: &Series, keep: impl Fn(i64) -> bool) -> f64 {
    let v: Vec<f64> =
        s.ts.iter()
            .zip(&s.values)
            .filter_map(|(t, v)| Some((t.filter(|t| keep(*t))?, (*v)?)).map(|p| p.1))
            .collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// The best candidate so far: dimensions, share, support, attributes, aggregate.
type Best = (usize, f64, usize, Vec<(usize, String)>, Agg);

#[derive(Debug, Default, Clone, Copy)]
struct Agg {
    real: f64,
    predict: f64,
    support: usize,
}

fn stats(a: Agg, total: f64) -> Value {
    let change = a.real - a.predict;
    json!({
        "relative_ratio": if a.real != 0.0 { Value::from(change / a.real) } else { Value::Null },
        "relative_unexpected_difference": change / total,
        "difference": a.predict - a.real,
        "predict": a.predict,
        "real": a.real,
        "support": a.support,
    })
}

/// The drill-down of `series` (dimension names `names`) for the window `[begin, end]`.
pub(crate) fn drilldown(
    names: &[String],
    series: &[Series],
    begin: i64,
    end: i64,
) -> Result<Value> {
    let fail = |m: &str| Ok(json!({"attrs": null, "statistics": null, "error_msg": m}));
    if begin > end {
        return fail("begin is after end");
    }
    let per: Vec<Agg> = series
        .iter()
        .map(|s| Agg {
            real: mean_where(s, |t| t >= begin && t <= end),
            predict: mean_where(s, |t| t < begin),
            support: 1,
        })
        .collect();
    let real: f64 = per.iter().map(|a| a.real).sum();
    let predict: f64 = per.iter().map(|a| a.predict).sum();
    let total = real - predict;
    let changed = total.abs() > 1e-9 * real.abs().max(predict.abs()).max(1.0);
    if !changed {
        return fail("the metric does not change between the baseline and the window");
    }
    let d = names.len();
    let mut best: Option<Best> = None;
    for mask in 1u32..(1 << d) {
        let dims: Vec<usize> = (0..d).filter(|i| mask & (1 << i) != 0).collect();
        if dims.len() > MAX_COMBINATION {
            continue;
        }
        spend(series.len(), 0)?;
        let mut groups: HashMap<Vec<&str>, Agg> = HashMap::new();
        for (s, a) in series.iter().zip(&per) {
            let key: Vec<&str> = dims.iter().map(|&i| s.dims[i].as_str()).collect();
            let g = groups.entry(key).or_default();
            g.real += a.real;
            g.predict += a.predict;
            g.support += 1;
        }
        for (key, g) in groups {
            let share = (g.real - g.predict) / total;
            if share <= 0.5 {
                continue;
            }
            let attrs: Vec<(usize, String)> = dims
                .iter()
                .copied()
                .zip(key.iter().map(|k| k.to_string()))
                .collect();
            let better = match &best {
                None => true,
                Some((bd, bs, bsup, battrs, _)) => {
                    (dims.len(), share, std::cmp::Reverse(g.support))
                        .partial_cmp(&(*bd, *bs, std::cmp::Reverse(*bsup)))
                        .is_some_and(|o| o.is_gt())
                        || (dims.len() == *bd
                            && share == *bs
                            && g.support == *bsup
                            && attrs < *battrs)
                }
            };
            if better {
                best = Some((dims.len(), share, g.support, attrs, g));
            }
        }
    }
    let all = Agg {
        real,
        predict,
        support: series.len(),
    };
    Ok(match best {
        Some((_, _, _, attrs, g)) => {
            let mut m = Map::new();
            for (i, v) in attrs {
                m.insert(names[i].clone(), Value::from(v));
            }
            json!({"attrs": [m], "statistics": stats(g, total), "error_msg": null})
        }
        // The change is spread: no combination explains half of it.
        None => json!({"attrs": [], "statistics": stats(all, total), "error_msg": null}),
    })
}

pub(crate) fn invoke(
    name: &str,
    names: &[String],
    a: &[ArrayRef],
    rows: usize,
) -> Result<Vec<Option<Value>>> {
    let d = a.len() - 4;
    let dims: Vec<arrow::array::ListArray> = a[..d]
        .iter()
        .map(|x| Ok(cast(x, &dims_type())?.as_list::<i32>().clone()))
        .collect::<Result<_>>()?;
    let ts = cast(&a[d], &ts_group_type())?.as_list::<i32>().clone();
    let ts_inner = util::TsCol::new(ts.values())?;
    let metrics = util::GroupCol::new(&a[d + 1])?;
    let (begin, end) = (int_col(name, &a[d + 2])?, int_col(name, &a[d + 3])?);
    (0..rows)
        .map(|i| {
            let (Some(b), Some(e)) = (begin.get(i), end.get(i)) else {
                return Ok(None);
            };
            let Some(values) = metrics.get(name, i)? else {
                return Ok(None);
            };
            if ts.is_null(i) || dims.iter().any(|x| x.is_null(i)) {
                return Ok(None);
            }
            let n = values.len();
            if n > MAX_SERIES {
                return exec_err!("{name}: {n} series, more than the {MAX_SERIES} allowed");
            }
            let o = ts.value_offsets();
            let (ts_start, ts_end) = (o[i] as usize, o[i + 1] as usize);
            let dim_values: Vec<Vec<Option<String>>> = dims
                .iter()
                .map(|l| {
                    let v = l.value(i);
                    let s = v.as_string::<i32>();
                    (0..s.len()).map(|j| s.is_valid(j).then(|| s.value(j).to_string())).collect()
                })
                .collect();
            if ts_end - ts_start != n || dim_values.iter().any(|v| v.len() != n) {
                return exec_err!(
                    "{name}: the dimension arrays, time axes and series must have one element per series"
                );
            }
            let mut series = Vec::with_capacity(n);
            for (j, v) in values.into_iter().enumerate() {
                let t = ts_inner.get(ts_start + j).unwrap_or_default();
                let v = v.unwrap_or_default();
                if t.len() != v.len() {
                    return exec_err!(
                        "{name}: series {} has {} points but {} timestamps",
                        j + 1,
                        v.len(),
                        t.len()
                    );
                }
                series.push(Series {
                    dims: dim_values
                        .iter()
                        .map(|d| d[j].clone().unwrap_or_else(|| "null".into()))
                        .collect(),
                    ts: t,
                    values: v,
                });
            }
            drilldown(names, &series, b, e).map(Some)
        })
        .collect()
}

/// Dimension names from the argument fields; repeated names get a `_2`, `_3`… suffix.
pub(crate) fn dim_names(fields: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in fields {
        let mut n = f.clone();
        let mut k = 2;
        while out.contains(&n) {
            n = format!("{f}_{k}");
            k += 1;
        }
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// verb × resource × agent, 10 points at 1/ns before the window, 4 in it; GET on leases
    /// jumps from 5 to 50 for every agent; everything else stays.
    fn data() -> Vec<Series> {
        let mut out = Vec::new();
        for verb in ["GET", "LIST", "WATCH"] {
            for res in ["leases", "pods", "services"] {
                for agent in ["a", "b"] {
                    let base = 5.0;
                    let hit = verb == "GET" && res == "leases";
                    let values = (0..14)
                        .map(|t| Some(if t >= 10 && hit { 50.0 } else { base }))
                        .collect();
                    out.push(Series {
                        dims: vec![verb.into(), res.into(), agent.into()],
                        ts: (0..14).map(Some).collect(),
                        values,
                    });
                }
            }
        }
        out
    }

    #[test]
    fn the_combination_behind_the_change_is_found() {
        let names: Vec<String> = ["verb", "resource", "agent"].map(String::from).to_vec();
        let v = drilldown(&names, &data(), 10, 13).unwrap();
        assert_eq!(v["attrs"], json!([{"verb": "GET", "resource": "leases"}]));
        let s = &v["statistics"];
        assert_eq!(s["real"], 100.0);
        assert_eq!(s["predict"], 10.0);
        assert_eq!(s["difference"], -90.0);
        assert_eq!(s["relative_unexpected_difference"], 1.0);
        assert_eq!(s["relative_ratio"], 0.9);
        assert_eq!(s["support"], 2);
    }

    #[test]
    fn one_agent_causing_most_of_it_is_more_specific() {
        let names: Vec<String> = ["verb", "resource", "agent"].map(String::from).to_vec();
        let mut d = data();
        // Agent b's GET on leases stays flat: agent a explains the whole change.
        for s in &mut d {
            if s.dims == ["GET", "leases", "b"] {
                s.values = vec![Some(5.0); 14];
            }
        }
        let v = drilldown(&names, &d, 10, 13).unwrap();
        assert_eq!(
            v["attrs"],
            json!([{"verb": "GET", "resource": "leases", "agent": "a"}])
        );
    }

    #[test]
    fn no_change_is_reported() {
        let names: Vec<String> = ["verb", "resource", "agent"].map(String::from).to_vec();
        let v = drilldown(&names, &data(), 5, 9).unwrap();
        assert!(v["error_msg"].is_string());
        let v = drilldown(&names, &data(), 13, 10).unwrap();
        assert_eq!(v["error_msg"], "begin is after end");
    }

    #[test]
    fn repeated_names_are_made_unique() {
        let n = dim_names(&["a".into(), "a".into(), "b".into()]);
        assert_eq!(n, vec!["a", "a_2", "b"]);
    }
}

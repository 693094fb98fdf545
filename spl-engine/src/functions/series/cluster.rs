//! `cluster`: groups series of similar shape.
//!
//! Every series is first brought to one scale (z-normalised: mean 0, standard deviation 1,
//! option `normalize`, default true) so that shape, not level, decides; missing points are
//! interpolated. Distances are root-mean-square differences per point.
//!
//! - `'kmeans'` (default): Lloyd's k-means with a deterministic farthest-first start (the
//!   first centre is the series closest to the overall mean, each next one the series farthest
//!   from the chosen centres), so a query always gives the same clusters. `n_clusters` (option)
//!   or, by default, the k in 2..=8 (at most n−1) with the best mean silhouette. Hand-written:
//!   it is a few dozen lines, and the maintained Rust k-means crates (linfa) pull in ndarray
//!   and a BLAS-style stack for it.
//! - `'dbscan'`: density clustering by `augurs-clustering` over the distance matrix; options
//!   `epsilon` (default 0.5) and `min_cluster_size` (default 2); noise gets cluster −1.
//!
//! Bounds: at most [`MAX_SERIES`] series, all of the same length, and at most
//! [`MAX_ELEMENTS`] points in all.
use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use augurs_clustering::DbscanClusterer;
use augurs_core::DistanceMatrix;
use datafusion_common::{exec_err, plan_err, Result};
use serde_json::{json, Map, Value};

use super::util::{
    self, fill_gaps, json_f64s, known_options, mean_std, opt_f64, opt_usize, options, GroupCol,
};
use crate::functions::common::{spend, str_col};

/// Most series one call clusters.
pub(crate) const MAX_SERIES: usize = 2_000;
/// Most points of all series together.
pub(crate) const MAX_ELEMENTS: usize = 2_000_000;
/// Largest k tried when `n_clusters` is not given.
const MAX_AUTO_K: usize = 8;
const MAX_ITER: usize = 100;

pub(crate) fn coerce(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    if !(1..=3).contains(&t.len()) {
        return plan_err!("{name}: expected 1 to 3 arguments, got {}", t.len());
    }
    let mut out = vec![util::coerce_series_group(name, 1, &t[0])?];
    for (i, ty) in t.iter().enumerate().skip(1) {
        out.push(util::coerce_str(name, i + 1, ty)?);
    }
    Ok(out)
}

fn dist(a: &[f64], b: &[f64]) -> f64 {
    let s: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    (s / a.len().max(1) as f64).sqrt()
}

/// The result of a clustering: a cluster per series (−1 for noise) and the cluster centres.
#[derive(Debug, PartialEq)]
pub(crate) struct Clusters {
    pub(crate) assignments: Vec<i64>,
    pub(crate) centers: Vec<Vec<f64>>,
}

/// Lloyd's k-means with a farthest-first start.
pub(crate) fn kmeans(data: &[Vec<f64>], k: usize) -> Result<Clusters> {
    let n = data.len();
    let len = data[0].len();
    let k = k.clamp(1, n);
    let overall: Vec<f64> = (0..len)
        .map(|j| data.iter().map(|s| s[j]).sum::<f64>() / n as f64)
        .collect();
    let first = (0..n)
        .min_by(|&a, &b| dist(&data[a], &overall).total_cmp(&dist(&data[b], &overall)))
        .unwrap_or(0);
    let mut centers = vec![data[first].clone()];
    let mut nearest: Vec<f64> = data.iter().map(|s| dist(s, &centers[0])).collect();
    while centers.len() < k {
        let far = (0..n)
            .max_by(|&a, &b| nearest[a].total_cmp(&nearest[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        centers.push(data[far].clone());
        for (i, s) in data.iter().enumerate() {
            nearest[i] = nearest[i].min(dist(s, &centers[centers.len() - 1]));
        }
    }
    let mut assign = vec![0usize; n];
    for iter in 0..MAX_ITER {
        spend(n * k, 0)?;
        let mut changed = false;
        for (i, s) in data.iter().enumerate() {
            let c = (0..k)
                .min_by(|&a, &b| dist(s, &centers[a]).total_cmp(&dist(s, &centers[b])))
                .unwrap_or(0);
            if c != assign[i] || iter == 0 {
                changed |= c != assign[i];
                assign[i] = c;
            }
        }
        if iter > 0 && !changed {
            break;
        }
        for (c, center) in centers.iter_mut().enumerate() {
            let members: Vec<&Vec<f64>> = (0..n)
                .filter(|&i| assign[i] == c)
                .map(|i| &data[i])
                .collect();
            if members.is_empty() {
                continue;
            }
            for (j, v) in center.iter_mut().enumerate() {
                *v = members.iter().map(|m| m[j]).sum::<f64>() / members.len() as f64;
            }
        }
    }
    Ok(Clusters {
        assignments: assign.into_iter().map(|c| c as i64).collect(),
        centers,
    })
}

/// Mean silhouette of an assignment (0 when every series is alone or in one cluster).
fn silhouette(data: &[Vec<f64>], assign: &[i64], k: usize) -> f64 {
    let n = data.len();
    let mut total = 0.0;
    for i in 0..n {
        let mut sum = vec![0.0; k];
        let mut cnt = vec![0usize; k];
        for j in 0..n {
            if i != j {
                let c = assign[j] as usize;
                sum[c] += dist(&data[i], &data[j]);
                cnt[c] += 1;
            }
        }
        let own = assign[i] as usize;
        if cnt[own] == 0 {
            continue;
        }
        let a = sum[own] / cnt[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && cnt[c] > 0)
            .map(|c| sum[c] / cnt[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() && a.max(b) > 0.0 {
            total += (b - a) / a.max(b);
        }
    }
    total / n as f64
}

/// DBSCAN (augurs-clustering) with centres as member means.
pub(crate) fn dbscan(data: &[Vec<f64>], epsilon: f64, min_size: usize) -> Result<Clusters> {
    let n = data.len();
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        spend(n, 0)?;
        for j in i + 1..n {
            let d = dist(&data[i], &data[j]);
            m[i][j] = d;
            m[j][i] = d;
        }
    }
    let matrix = match DistanceMatrix::try_from_square(m) {
        Ok(m) => m,
        Err(e) => return exec_err!("cluster: {e}"),
    };
    let found = DbscanClusterer::new(epsilon, min_size.max(1)).fit(&matrix);
    let assignments: Vec<i64> = found
        .iter()
        .map(|c| {
            if c.is_noise() {
                -1
            } else {
                i64::from(c.as_i32()) - 1
            }
        })
        .collect();
    let k = assignments
        .iter()
        .copied()
        .max()
        .map_or(0, |m| (m + 1).max(0) as usize);
    let len = data[0].len();
    let centers = (0..k)
        .map(|c| {
            let members: Vec<&Vec<f64>> = (0..n)
                .filter(|&i| assignments[i] == c as i64)
                .map(|i| &data[i])
                .collect();
            (0..len)
                .map(|j| members.iter().map(|s| s[j]).sum::<f64>() / members.len().max(1) as f64)
                .collect()
        })
        .collect();
    Ok(Clusters {
        assignments,
        centers,
    })
}

fn failed(msg: String) -> Value {
    json!({"n_clusters": null, "assignments": null, "sizes": null, "centers": null, "method": null, "error_msg": msg})
}

fn run(
    name: &str,
    group: Vec<Option<Vec<Option<f64>>>>,
    method: &str,
    o: &Map<String, Value>,
) -> Result<Value> {
    known_options(
        name,
        o,
        &["n_clusters", "normalize", "epsilon", "min_cluster_size"],
    )?;
    let n = group.len();
    if n > MAX_SERIES {
        return exec_err!("{name}: {n} series, more than the {MAX_SERIES} allowed");
    }
    if n == 0 {
        return Ok(failed("no series to cluster".into()));
    }
    let len = group.iter().flatten().map(Vec::len).next().unwrap_or(0);
    if group
        .iter()
        .any(|s| s.as_ref().is_some_and(|s| s.len() != len))
    {
        return Ok(failed("all series must have the same length".into()));
    }
    if n.saturating_mul(len) > MAX_ELEMENTS {
        return exec_err!(
            "{name}: {} points in all, more than the {MAX_ELEMENTS} allowed",
            n * len
        );
    }
    let normalize = match o.get("normalize") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
        Some(v) => return exec_err!("{name}: option normalize must be true or false, got {v}"),
    };
    let mut data = Vec::with_capacity(n);
    for (i, s) in group.iter().enumerate() {
        let Some(filled) = s.as_deref().and_then(fill_gaps) else {
            return Ok(failed(format!("series {} has no value", i + 1)));
        };
        data.push(if normalize {
            let (m, sd) = mean_std(&filled);
            filled
                .iter()
                .map(|v| if sd > 0.0 { (v - m) / sd } else { 0.0 })
                .collect()
        } else {
            filled
        });
    }
    let clusters = match method {
        "kmeans" => match opt_usize(name, o, "n_clusters")? {
            Some(0) => return exec_err!("{name}: n_clusters must be at least 1"),
            Some(k) => kmeans(&data, k)?,
            None if n <= 2 => kmeans(&data, 1)?,
            None => {
                let mut best: Option<(f64, Clusters)> = None;
                for k in 2..=MAX_AUTO_K.min(n - 1) {
                    spend(n * n, 0)?;
                    let c = kmeans(&data, k)?;
                    let s = silhouette(&data, &c.assignments, k);
                    if best.as_ref().is_none_or(|b| s > b.0 + 1e-12) {
                        best = Some((s, c));
                    }
                }
                match best {
                    Some((_, c)) => c,
                    None => kmeans(&data, 1)?,
                }
            }
        },
        "dbscan" => {
            let eps = opt_f64(name, o, "epsilon")?.unwrap_or(0.5);
            if !(eps > 0.0 && eps.is_finite()) {
                return exec_err!("{name}: epsilon must be a positive number, got {eps}");
            }
            let min = opt_usize(name, o, "min_cluster_size")?.unwrap_or(2);
            dbscan(&data, eps, min)?
        }
        other => return exec_err!("{name}: unknown method {other:?} (kmeans, dbscan)"),
    };
    let k = clusters.centers.len();
    let sizes: Vec<usize> = (0..k)
        .map(|c| {
            clusters
                .assignments
                .iter()
                .filter(|a| **a == c as i64)
                .count()
        })
        .collect();
    Ok(json!({
        "n_clusters": k,
        "assignments": clusters.assignments,
        "sizes": sizes,
        "centers": clusters.centers.iter().map(|c| json_f64s(c)).collect::<Vec<_>>(),
        "method": method,
        "error_msg": null,
    }))
}

pub(crate) fn invoke(name: &str, a: &[ArrayRef], rows: usize) -> Result<Vec<Option<Value>>> {
    let group = GroupCol::new(&a[0])?;
    let methods = a.get(1).map(|m| str_col(name, m)).transpose()?;
    let opts = a.get(2).map(|m| str_col(name, m)).transpose()?;
    (0..rows)
        .map(|i| {
            let Some(g) = group.get(name, i)? else {
                return Ok(None);
            };
            let method = methods
                .as_ref()
                .map_or(Some("kmeans"), |c| c.get(i))
                .map(|m| m.trim().to_ascii_lowercase());
            let Some(method) = method else {
                return Ok(None);
            };
            let o = options(name, opts.as_ref().and_then(|c| c.get(i)))?;
            run(name, g, &method, &o).map(Some)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn shapes() -> Vec<Option<Vec<Option<f64>>>> {
        // Three sines at different levels and scales, two lines, one lone spike.
        let sine = |a: f64, b: f64| {
            (0..48)
                .map(|t| Some(b + a * (2.0 * PI * t as f64 / 12.0).sin()))
                .collect()
        };
        let line = |s: f64| (0..48).map(|t| Some(s * t as f64)).collect();
        let spike = (0..48)
            .map(|t| Some(if t == 30 { 10.0 } else { 0.0 }))
            .collect();
        vec![
            Some(sine(1.0, 0.0)),
            Some(line(1.0)),
            Some(sine(5.0, 100.0)),
            Some(line(3.0)),
            Some(sine(2.0, -4.0)),
            Some(spike),
        ]
    }

    #[test]
    fn kmeans_groups_by_shape() {
        let v = run("cluster", shapes(), "kmeans", &Map::new()).unwrap();
        let a: Vec<i64> = serde_json::from_value(v["assignments"].clone()).unwrap();
        assert_eq!(a[0], a[2]);
        assert_eq!(a[0], a[4]);
        assert_eq!(a[1], a[3]);
        assert_ne!(a[0], a[1]);
        assert_eq!(v["error_msg"], Value::Null);
    }

    #[test]
    fn kmeans_with_a_given_k() {
        let mut o = Map::new();
        o.insert("n_clusters".into(), json!(2));
        let v = run("cluster", shapes(), "kmeans", &o).unwrap();
        assert_eq!(v["n_clusters"], 2);
        assert_eq!(
            v["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_u64().unwrap())
                .sum::<u64>(),
            6
        );
    }

    #[test]
    fn dbscan_marks_the_odd_one_as_noise() {
        let v = run("cluster", shapes(), "dbscan", &Map::new()).unwrap();
        let a: Vec<i64> = serde_json::from_value(v["assignments"].clone()).unwrap();
        assert_eq!(a[0], a[2]);
        assert_eq!(a[1], a[3]);
        assert_eq!(a[5], -1);
        assert_eq!(v["n_clusters"], 2);
    }

    #[test]
    fn unequal_lengths_and_empty_groups_are_reported() {
        let g = vec![Some(vec![Some(1.0), Some(2.0)]), Some(vec![Some(1.0)])];
        let v = run("cluster", g, "kmeans", &Map::new()).unwrap();
        assert_eq!(v["error_msg"], "all series must have the same length");
        let v = run("cluster", vec![], "kmeans", &Map::new()).unwrap();
        assert_eq!(v["error_msg"], "no series to cluster");
        assert!(run("cluster", shapes(), "nope", &Map::new()).is_err());
    }
}

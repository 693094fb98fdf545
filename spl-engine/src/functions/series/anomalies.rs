//! `series_decompose_anomalies` and `series_pattern_anomalies`: point anomalies of a series.
//!
//! **Decomposition** (`series_decompose_anomalies`): the series is split by robust STL
//! (`stlrs`, seasonal-trend decomposition by LOESS with the bisquare robustness weights, so a
//! spike does not leak into the trend or the seasonal curve) at its detected (or given)
//! period; a series without seasonality gets a running-median trend (window
//! [`TREND_WINDOW`]) instead. The residual is tested point by point with a robust z-score:
//! `z = (r − median(r)) / σ̂`, `σ̂ = max(1.4826·MAD(r), 1% of the series' 5–95% range)`; the
//! floor keeps an almost noise-free series from turning rounding noise into anomalies. A point
//! with `|z|` above the threshold (3.5 by default, or the normal quantile of the `confidence`
//! significance level) is an anomaly: `ExceedUpperBound` or `ExceedLowerBound`, score
//! `(|z| − threshold) / |z|` in (0, 1); every other point scores 0. The robust z-score (the
//! modified z-score of Iglewicz and Hoaglin) is hand-written: `augurs-outlier` detects outlying
//! series in a group, not outlying points in one series.
//!
//! **Pattern** (`series_pattern_anomalies`): the vendor uses a neural network; ours finds
//! unusual shapes with a matrix profile. Every window of `window` points (default: the
//! detected period, else 16; 4 ≤ window ≤ n/4) of the detrended, standardised series gets the
//! Euclidean distance to its nearest non-overlapping window; windows whose distance has a
//! robust z-score above the threshold (5 by default: nearest-neighbour distances have a heavier
//! tail than residuals) are discords, and their points are flagged
//! (`PatternAnomaly`, score as above; the window's points take the highest score of the
//! discords covering them). The profile is the exact O(n²) one computed with the running
//! dot-product update of STOMP (hand-written: no maintained Rust crate computes it), so the
//! series is capped at [`MAX_PATTERN_POINTS`] points.
use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, plan_err, Result};
use serde_json::{json, Map, Value};

use super::util::{
    self, detect_period, fill_gaps, json_f64s, known_options, median, median_mad, opt_f64,
    opt_usize, options, quantile, z_for_alpha, SeriesCol, TsCol,
};
use crate::functions::common::{spend, str_col};

/// Default robust z-score threshold.
pub(crate) const DEFAULT_THRESHOLD: f64 = 3.5;
/// Default robust z-score threshold of the matrix profile: nearest-neighbour distances have a
/// heavier right tail than residuals (on white noise the largest is near z = 4).
pub(crate) const PATTERN_THRESHOLD: f64 = 5.0;
/// Running-median window of the trend of a series without seasonality.
pub(crate) const TREND_WINDOW: usize = 15;
/// Most points `series_pattern_anomalies` takes (its work grows with the square).
pub(crate) const MAX_PATTERN_POINTS: usize = 10_000;
/// Fewest known points an analysis needs.
pub(crate) const MIN_POINTS: usize = 8;

/// Argument types: `([ts,] series [, options])`.
pub(crate) fn coerce(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    let with_ts = match t.len() {
        1 => false,
        2 => util::list_elem(&t[1]).is_some(),
        3 => true,
        n => return plan_err!("{name}: expected 1 to 3 arguments, got {n}"),
    };
    let mut out = Vec::new();
    let mut i = 0;
    if with_ts {
        out.push(util::coerce_ts(name, 1, &t[0])?);
        i = 1;
    }
    out.push(util::coerce_series(name, i + 1, &t[i])?);
    if let Some(o) = t.get(i + 1) {
        out.push(util::coerce_str(name, i + 2, o)?);
    }
    Ok(out)
}

/// The arguments of one row: the points (missing as `None`) and the options.
pub(crate) struct Row {
    pub(crate) values: Vec<Option<f64>>,
    pub(crate) ts: Option<Vec<Option<i64>>>,
    pub(crate) options: Map<String, Value>,
}

/// Reads `([ts,] series [, options])` row by row; `None` rows are NULL results.
pub(crate) fn rows(name: &str, a: &[ArrayRef], rows: usize) -> Result<Vec<Option<Row>>> {
    let with_ts = a.len() == 3 || (a.len() == 2 && util::list_elem(a[1].data_type()).is_some());
    let off = usize::from(with_ts);
    let ts = if with_ts {
        Some(TsCol::new(&a[0])?)
    } else {
        None
    };
    let series = SeriesCol::new(&a[off])?;
    let opts = a.get(off + 1).map(|o| str_col(name, o)).transpose()?;
    (0..rows)
        .map(|i| {
            let Some(values) = series.get(name, i)? else {
                return Ok(None);
            };
            let ts = match util::axis_of(name, ts.as_ref(), i, values.len())? {
                None => return Ok(None),
                Some(axis) => axis,
            };
            let options = options(name, opts.as_ref().and_then(|c| c.get(i)))?;
            Ok(Some(Row {
                values,
                ts,
                options,
            }))
        })
        .collect()
}

/// The threshold from `threshold` or `confidence` (a two-sided significance level), else
/// `default`.
fn threshold(name: &str, o: &Map<String, Value>, default: f64) -> Result<f64> {
    if let Some(t) = opt_f64(name, o, "threshold")? {
        if !(t > 0.0 && t.is_finite()) {
            return exec_err!("{name}: threshold must be a positive number, got {t}");
        }
        return Ok(t);
    }
    match opt_f64(name, o, "confidence")? {
        None => Ok(default),
        Some(a) if a > 0.0 && a < 1.0 => Ok(z_for_alpha(a)),
        Some(a) => exec_err!("{name}: confidence must be between 0 and 1, got {a}"),
    }
}

/// A decomposition with its anomaly test.
#[derive(Debug)]
pub(crate) struct Decomposition {
    pub(crate) period: Option<usize>,
    pub(crate) trend: Vec<f64>,
    pub(crate) seasonal: Vec<f64>,
    pub(crate) residual: Vec<f64>,
    /// Baseline ± threshold·σ̂ around the residual median.
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) scores: Vec<f64>,
    pub(crate) types: Vec<&'static str>,
}

/// Running median of `y` over a centred window of `w` points, shrunk symmetrically at the ends
/// (so that a straight line is its own trend).
fn running_median(y: &[f64], w: usize) -> Vec<f64> {
    let n = y.len();
    (0..n)
        .map(|i| {
            let h = (w / 2).min(i).min(n - 1 - i);
            median(&y[i - h..=i + h])
        })
        .collect()
}

/// Robust z-score scale: 1.4826·MAD, floored at 1% of the 5–95% range of `y`.
fn robust_scale(resid: &[f64], y: &[f64]) -> (f64, f64) {
    let (m, s) = median_mad(resid);
    let range = quantile(y, 0.95) - quantile(y, 0.05);
    let floor = (0.01 * range).max(1e-9 * y.iter().fold(1.0_f64, |a, v| a.max(v.abs())));
    (m, s.max(floor))
}

/// Decomposes `y` (no missing points) and tests its residual.
pub(crate) fn decompose(
    y: &[f64],
    period: Option<usize>,
    threshold: f64,
) -> std::result::Result<Decomposition, String> {
    let n = y.len();
    let period = util::period_of(y, period)?;
    let (trend, seasonal) = match period {
        Some(p) => {
            let fit = stlrs::params()
                .robust(true)
                .fit(y, p)
                .map_err(|e| e.to_string())?;
            (fit.trend().to_vec(), fit.seasonal().to_vec())
        }
        None => (running_median(y, TREND_WINDOW.min(n)), vec![0.0; n]),
    };
    let residual: Vec<f64> = (0..n).map(|i| y[i] - trend[i] - seasonal[i]).collect();
    let (m, scale) = robust_scale(&residual, y);
    let mut d = Decomposition {
        period,
        lower: (0..n)
            .map(|i| trend[i] + seasonal[i] + m - threshold * scale)
            .collect(),
        upper: (0..n)
            .map(|i| trend[i] + seasonal[i] + m + threshold * scale)
            .collect(),
        scores: vec![0.0; n],
        types: vec![""; n],
        trend,
        seasonal,
        residual,
    };
    for i in 0..n {
        let z = (d.residual[i] - m) / scale;
        if z.abs() > threshold {
            d.scores[i] = (z.abs() - threshold) / z.abs();
            d.types[i] = if z > 0.0 {
                "ExceedUpperBound"
            } else {
                "ExceedLowerBound"
            };
        }
    }
    Ok(d)
}

/// Missing points are not judged: score 0, no type, NULL components.
fn mask(values: &[Option<f64>], v: &[f64]) -> Value {
    util::json_nums(values.iter().zip(v).map(|(x, v)| x.map(|_| *v)))
}

fn scores_json(values: &[Option<f64>], scores: &[f64]) -> Value {
    json_f64s(
        &values
            .iter()
            .zip(scores)
            .map(|(x, s)| if x.is_some() { *s } else { 0.0 })
            .collect::<Vec<_>>(),
    )
}

fn types_json(values: &[Option<f64>], types: &[&str]) -> Value {
    Value::Array(
        values
            .iter()
            .zip(types)
            .map(|(x, t)| Value::from(if x.is_some() { *t } else { "" }))
            .collect(),
    )
}

fn ts_json(ts: &Option<Vec<Option<i64>>>) -> Value {
    ts.as_ref().map_or(Value::Null, |t| {
        Value::Array(
            t.iter()
                .map(|v| v.map_or(Value::Null, Value::from))
                .collect(),
        )
    })
}

pub(crate) fn invoke_decompose(
    name: &str,
    a: &[ArrayRef],
    n_rows: usize,
) -> Result<Vec<Option<Value>>> {
    rows(name, a, n_rows)?
        .into_iter()
        .map(|r| {
            let Some(r) = r else { return Ok(None) };
            known_options(name, &r.options, &["period", "threshold", "confidence"])?;
            let period = opt_usize(name, &r.options, "period")?;
            let t = threshold(name, &r.options, DEFAULT_THRESHOLD)?;
            let known = r.values.iter().flatten().count();
            if known < MIN_POINTS {
                return Ok(Some(json!({
                    "error_msg": format!("the analysis needs at least {MIN_POINTS} known points, the series has {known}"),
                    "anomalies_score_series": null, "anomalies_type_series": null,
                })));
            }
            let y = fill_gaps(&r.values).unwrap_or_default();
            let d = match decompose(&y, period, t) {
                Ok(d) => d,
                Err(e) => {
                    return Ok(Some(json!({
                        "error_msg": e, "anomalies_score_series": null, "anomalies_type_series": null,
                    })))
                }
            };
            let baseline: Vec<f64> = (0..y.len()).map(|i| d.trend[i] + d.seasonal[i]).collect();
            Ok(Some(json!({
                "time_series": ts_json(&r.ts),
                "anomalies_score_series": scores_json(&r.values, &d.scores),
                "anomalies_type_series": types_json(&r.values, &d.types),
                "baseline_series": json_f64s(&baseline),
                "trend_series": json_f64s(&d.trend),
                "seasonal_series": json_f64s(&d.seasonal),
                "residual_series": mask(&r.values, &d.residual),
                "lower_bound_series": json_f64s(&d.lower),
                "upper_bound_series": json_f64s(&d.upper),
                "period": d.period,
                "error_msg": null,
            })))
        })
        .collect()
}

/// Nearest-neighbour distance of every window of `w` points of `x` (the matrix profile),
/// excluding windows that overlap it by more than half.
pub(crate) fn matrix_profile(x: &[f64], w: usize) -> Result<Vec<f64>> {
    let m = x.len() + 1 - w;
    let excl = w.div_ceil(2);
    let sq: Vec<f64> = (0..m)
        .map(|i| x[i..i + w].iter().map(|v| v * v).sum())
        .collect();
    let mut profile = vec![f64::INFINITY; m];
    // qt[j] = x[i..i+w] · x[j..j+w], updated from row i-1 in O(1) per cell.
    let mut qt: Vec<f64> = (0..m)
        .map(|j| x[..w].iter().zip(&x[j..j + w]).map(|(a, b)| a * b).sum())
        .collect();
    let first_col = qt.clone();
    for i in 0..m {
        spend(m, 0)?;
        if i > 0 {
            for j in (1..m).rev() {
                qt[j] = qt[j - 1] - x[i - 1] * x[j - 1] + x[i + w - 1] * x[j + w - 1];
            }
            qt[0] = first_col[i];
        }
        for j in 0..m {
            if i.abs_diff(j) < excl {
                continue;
            }
            let d2 = (sq[i] + sq[j] - 2.0 * qt[j]).max(0.0);
            if d2 < profile[i] {
                profile[i] = d2;
            }
        }
    }
    Ok(profile.into_iter().map(f64::sqrt).collect())
}

/// Pattern anomalies of `y` (no missing points) with windows of `w` points.
pub(crate) fn pattern_anomalies(
    y: &[f64],
    w: usize,
    threshold: f64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = y.len();
    let (a, b) = util::linear_fit(y);
    let detrended: Vec<f64> = (0..n).map(|i| y[i] - a - b * i as f64).collect();
    let (_, std) = util::mean_std(&detrended);
    let x: Vec<f64> = if std > 0.0 {
        detrended.iter().map(|v| v / std).collect()
    } else {
        detrended
    };
    let profile = matrix_profile(&x, w)?;
    let finite: Vec<f64> = profile.iter().copied().filter(|d| d.is_finite()).collect();
    let (m, s) = median_mad(&finite);
    // Floor: an RMS difference of 0.05 standard deviations per point is no anomaly.
    let scale = s.max(0.05 * (w as f64).sqrt());
    let mut scores = vec![0.0_f64; n];
    for (i, d) in profile.iter().enumerate() {
        let z = (d - m) / scale;
        if d.is_finite() && z > threshold {
            let s = (z - threshold) / z;
            for p in &mut scores[i..i + w] {
                *p = p.max(s);
            }
        }
    }
    Ok((scores, profile))
}

pub(crate) fn invoke_pattern(
    name: &str,
    a: &[ArrayRef],
    n_rows: usize,
) -> Result<Vec<Option<Value>>> {
    rows(name, a, n_rows)?
        .into_iter()
        .map(|r| {
            let Some(r) = r else { return Ok(None) };
            known_options(name, &r.options, &["window", "threshold", "confidence"])?;
            let t = threshold(name, &r.options, PATTERN_THRESHOLD)?;
            let n = r.values.len();
            let fail = |msg: String| {
                Ok(Some(json!({
                    "error_msg": msg, "anomalies_score_series": null, "anomalies_type_series": null,
                })))
            };
            if n > MAX_PATTERN_POINTS {
                return exec_err!(
                    "{name}: the series has {n} points, more than the {MAX_PATTERN_POINTS} allowed"
                );
            }
            let known = r.values.iter().flatten().count();
            if known < 16 {
                return fail(format!(
                    "the analysis needs at least 16 known points, the series has {known}"
                ));
            }
            let y = fill_gaps(&r.values).unwrap_or_default();
            let w = match opt_usize(name, &r.options, "window")? {
                Some(w) if w >= 4 && w <= n / 4 => w,
                Some(w) => return fail(format!("window {w} needs 4 ≤ window ≤ {}", n / 4)),
                None => detect_period(&y).map_or(16, |p| p.0).clamp(4, n / 4),
            };
            let (scores, _) = pattern_anomalies(&y, w, t)?;
            let types: Vec<&str> = scores
                .iter()
                .map(|s| if *s > 0.0 { "PatternAnomaly" } else { "" })
                .collect();
            Ok(Some(json!({
                "time_series": ts_json(&r.ts),
                "anomalies_score_series": scores_json(&r.values, &scores),
                "anomalies_type_series": types_json(&r.values, &types),
                "window": w,
                "error_msg": null,
            })))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Deterministic noise in [-0.5, 0.5) (a linear congruential generator).
    pub(crate) fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    /// The acceptance series: sine (period 24, amplitude 3) + trend + small noise, with spikes.
    pub(crate) fn spiky() -> (Vec<f64>, Vec<usize>) {
        let noise = noise(240, 7);
        let mut y: Vec<f64> = (0..240)
            .map(|t| {
                10.0 + 0.05 * t as f64 + 3.0 * (2.0 * PI * t as f64 / 24.0).sin() + 0.2 * noise[t]
            })
            .collect();
        let spikes = vec![50, 130, 200];
        y[50] += 8.0;
        y[130] -= 8.0;
        y[200] += 12.0;
        (y, spikes)
    }

    #[test]
    fn the_spikes_of_a_sine_with_trend_are_flagged_and_nothing_else() {
        let (y, spikes) = spiky();
        let d = decompose(&y, None, DEFAULT_THRESHOLD).unwrap();
        assert_eq!(d.period, Some(24));
        let flagged: Vec<usize> = (0..y.len()).filter(|&i| d.scores[i] > 0.0).collect();
        assert_eq!(flagged, spikes);
        assert_eq!(d.types[50], "ExceedUpperBound");
        assert_eq!(d.types[130], "ExceedLowerBound");
        assert!(d.scores.iter().all(|s| (0.0..1.0).contains(s)));
    }

    #[test]
    fn a_noise_free_series_has_no_anomaly() {
        let y: Vec<f64> = (0..120)
            .map(|t| 5.0 + (2.0 * PI * t as f64 / 12.0).sin())
            .collect();
        let d = decompose(&y, None, DEFAULT_THRESHOLD).unwrap();
        assert!(d.scores.iter().all(|s| *s == 0.0));
    }

    #[test]
    fn without_seasonality_the_running_median_trend_is_used() {
        let mut y: Vec<f64> = (0..100).map(|t| t as f64 * 0.1).collect();
        y[40] = 30.0;
        let d = decompose(&y, Some(0), DEFAULT_THRESHOLD).unwrap();
        assert_eq!(d.period, None);
        let flagged: Vec<usize> = (0..y.len()).filter(|&i| d.scores[i] > 0.0).collect();
        assert_eq!(flagged, vec![40]);
    }

    #[test]
    fn the_matrix_profile_matches_the_naive_one() {
        let x = noise(60, 3);
        let w = 6;
        let p = matrix_profile(&x, w).unwrap();
        for (i, got) in p.iter().enumerate() {
            let want = (0..=60 - w)
                .filter(|j| i.abs_diff(*j) >= 3)
                .map(|j| {
                    (0..w)
                        .map(|k| (x[i + k] - x[j + k]).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((got - want).abs() < 1e-9, "{i}: {got} vs {want}");
        }
    }

    #[test]
    fn a_broken_cycle_is_a_pattern_anomaly() {
        let mut y: Vec<f64> = (0..240)
            .map(|t| (2.0 * PI * t as f64 / 24.0).sin())
            .collect();
        // One cycle flattened: the only shape of its kind.
        for v in &mut y[120..132] {
            *v = 0.0;
        }
        let (scores, _) = pattern_anomalies(&y, 24, PATTERN_THRESHOLD).unwrap();
        let flagged: Vec<usize> = (0..240).filter(|&i| scores[i] > 0.0).collect();
        assert!(!flagged.is_empty());
        assert!(
            flagged.iter().all(|&i| (96..156).contains(&i)),
            "{flagged:?}"
        );
        assert!((120..132).all(|i| scores[i] > 0.0));
    }

    #[test]
    fn a_regular_series_has_no_pattern_anomaly() {
        let y: Vec<f64> = (0..200)
            .map(|t| (2.0 * PI * t as f64 / 20.0).sin() + 0.01 * t as f64)
            .collect();
        let (scores, _) = pattern_anomalies(&y, 20, PATTERN_THRESHOLD).unwrap();
        assert!(scores.iter().all(|s| *s == 0.0));
    }
}

//! `series_describe`: a profile of one series — size and missing points, continuity of the
//! time axis, summary statistics, periodicity, trend and stability.
//!
//! - periodicity: the autocorrelation period detection shared by the family
//!   ([`super::util::detect_period`]); `period_strength` is the ACF at that lag.
//! - trend: the least-squares line through the de-seasonalised series (a centred moving average
//!   over one period, or the series itself without period); `has_trend` when that line explains
//!   at least half of its variance (R² ≥ 0.5) and moves by more than 10% of the series' 5–95%
//!   range end to end. `trend` is `increasing`, `decreasing` or `none`.
//! - stability (`is_stable`): no trend, and the two halves of the de-seasonalised series have
//!   means within one (pooled) standard deviation and variances within a factor of 4
//!   (differences below 5% of the series' standard deviation do not count). A formal
//!   unit-root test (ADF, KPSS) needs critical-value tables; this simple two-halves check is
//!   what we document instead.
//! - continuity: with the time axis, `is_continuous` when every step equals the most common
//!   step (`time_granularity`, nanoseconds) and no point is missing.
use arrow::array::ArrayRef;
use datafusion_common::Result;
use serde_json::{json, Value};

use super::anomalies::rows;
use super::util::{
    detect_period, fill_gaps, known_options, linear_fit, mean_std, opt_usize, quantile,
};

/// The trend analysis of `y` with optional period `p`: `(slope per point, r², smoothed)`.
fn trend(y: &[f64], p: Option<usize>) -> (f64, f64, Vec<f64>) {
    let smooth: Vec<f64> = match p {
        Some(p) if p >= 2 && y.len() > p => {
            // Centred moving average over one period (its interior only).
            let h = p / 2;
            (h..y.len() - (p - h))
                .map(|i| y[i - h..i - h + p].iter().sum::<f64>() / p as f64)
                .collect()
        }
        _ => y.to_vec(),
    };
    let (a, b) = linear_fit(&smooth);
    let (_, std) = mean_std(&smooth);
    let ss_tot = std * std * smooth.len() as f64;
    let ss_res: f64 = smooth
        .iter()
        .enumerate()
        .map(|(i, v)| (v - (a + b * i as f64)).powi(2))
        .sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        0.0
    };
    (b, r2, smooth)
}

/// The profile of one series: `values` (missing as `None`), optional time axis.
pub(crate) fn describe(
    values: &[Option<f64>],
    ts: Option<&[Option<i64>]>,
    period: Option<usize>,
) -> Value {
    let n = values.len();
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let missing = n - known.len();
    let (granularity, regular) = match ts {
        Some(t) => {
            let k: Vec<i64> = t.iter().flatten().copied().collect();
            let steps: Vec<i64> = k.windows(2).map(|w| w[1].saturating_sub(w[0])).collect();
            let mut counts = std::collections::BTreeMap::new();
            for s in &steps {
                *counts.entry(*s).or_insert(0usize) += 1;
            }
            let mode = counts
                .iter()
                .max_by_key(|(s, c)| (**c, -**s))
                .map(|(s, _)| *s);
            let regular = k.len() == t.len() && steps.iter().all(|s| Some(*s) == mode);
            (mode, Some(regular))
        }
        None => (None, None),
    };
    let is_continuous = missing == 0 && regular.unwrap_or(true);
    let mut out = json!({
        "point_count": n,
        "actual_point_count": known.len(),
        "missing_point_count": missing,
        "missing_ratio": if n == 0 { Value::Null } else { Value::from(missing as f64 / n as f64) },
        "is_continuous": is_continuous,
        "time_granularity": granularity,
    });
    let o = out.as_object_mut().expect("an object");
    if known.is_empty() {
        for k in [
            "min",
            "max",
            "mean",
            "sum",
            "std",
            "p5",
            "p25",
            "p50",
            "p75",
            "p95",
            "is_periodic",
            "period",
            "period_strength",
            "has_trend",
            "trend",
            "trend_slope",
            "is_stable",
        ] {
            o.insert(k.into(), Value::Null);
        }
        return out;
    }
    let (mean, std) = mean_std(&known);
    let num = |v: f64| {
        if v.is_finite() {
            Value::from(v)
        } else {
            Value::Null
        }
    };
    o.insert(
        "min".into(),
        num(known.iter().copied().fold(f64::INFINITY, f64::min)),
    );
    o.insert(
        "max".into(),
        num(known.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
    );
    o.insert("mean".into(), num(mean));
    o.insert("sum".into(), num(known.iter().sum()));
    o.insert("std".into(), num(std));
    for (k, q) in [
        ("p5", 0.05),
        ("p25", 0.25),
        ("p50", 0.5),
        ("p75", 0.75),
        ("p95", 0.95),
    ] {
        o.insert(k.into(), num(quantile(&known, q)));
    }
    let y = fill_gaps(values).unwrap_or_default();
    let detected = match period {
        Some(0) => None,
        Some(p) if p >= 2 && p * 2 <= n => Some((p, f64::NAN)),
        _ => detect_period(&y),
    };
    o.insert("is_periodic".into(), Value::from(detected.is_some()));
    o.insert(
        "period".into(),
        detected.map_or(Value::Null, |p| Value::from(p.0)),
    );
    o.insert(
        "period_strength".into(),
        detected.map_or(Value::Null, |p| num(p.1)),
    );
    let (slope, r2, smooth) = trend(&y, detected.map(|p| p.0));
    let range = quantile(&known, 0.95) - quantile(&known, 0.05);
    let rise = slope * smooth.len().saturating_sub(1) as f64;
    let has_trend = r2 >= 0.5 && rise.abs() > 0.1 * range && range > 0.0;
    o.insert("has_trend".into(), Value::from(has_trend));
    o.insert(
        "trend".into(),
        Value::from(match (has_trend, slope > 0.0) {
            (false, _) => "none",
            (true, true) => "increasing",
            (true, false) => "decreasing",
        }),
    );
    o.insert("trend_slope".into(), num(slope));
    // Differences smaller than 5% of the series' spread are no instability (a moving average
    // of a pure sine is flat up to rounding).
    let tol = 0.05 * std;
    let half = smooth.len() / 2;
    let stable = if half >= 2 {
        let (m1, s1) = mean_std(&smooth[..half]);
        let (m2, s2) = mean_std(&smooth[half..]);
        let pooled = ((s1 * s1 + s2 * s2) / 2.0).sqrt();
        let var_ok = s1.max(s2) <= tol || {
            let (a, b) = (s1.max(tol), s2.max(tol));
            (0.25..=4.0).contains(&((a * a) / (b * b)))
        };
        !has_trend && (m1 - m2).abs() <= pooled.max(tol) && var_ok
    } else {
        !has_trend
    };
    o.insert("is_stable".into(), Value::from(stable));
    out
}

pub(crate) fn invoke(name: &str, a: &[ArrayRef], n_rows: usize) -> Result<Vec<Option<Value>>> {
    rows(name, a, n_rows)?
        .into_iter()
        .map(|r| {
            let Some(r) = r else { return Ok(None) };
            known_options(name, &r.options, &["period"])?;
            let period = opt_usize(name, &r.options, "period")?;
            Ok(Some(describe(&r.values, r.ts.as_deref(), period)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn some(v: impl IntoIterator<Item = f64>) -> Vec<Option<f64>> {
        v.into_iter().map(Some).collect()
    }

    #[test]
    fn a_sine_with_trend_is_periodic_and_increasing() {
        let y = some((0..240).map(|t| 0.05 * t as f64 + 3.0 * (2.0 * PI * t as f64 / 24.0).sin()));
        let d = describe(&y, None, None);
        assert_eq!(d["period"], 24);
        assert_eq!(d["is_periodic"], true);
        assert_eq!(d["has_trend"], true);
        assert_eq!(d["trend"], "increasing");
        assert_eq!(d["is_stable"], false);
        assert!((d["trend_slope"].as_f64().unwrap() - 0.05).abs() < 0.005);
    }

    #[test]
    fn a_pure_sine_is_periodic_stable_and_without_trend() {
        let y = some((0..240).map(|t| 3.0 * (2.0 * PI * t as f64 / 24.0).sin()));
        let d = describe(&y, None, None);
        assert_eq!(d["period"], 24);
        assert_eq!(d["has_trend"], false);
        assert_eq!(d["trend"], "none");
        assert_eq!(d["is_stable"], true);
    }

    #[test]
    fn missing_points_and_an_irregular_axis_are_reported() {
        let y = vec![Some(1.0), None, Some(3.0), Some(4.0)];
        let ts = vec![Some(0), Some(10), Some(20), Some(40)];
        let d = describe(&y, Some(&ts), None);
        assert_eq!(d["missing_point_count"], 1);
        assert_eq!(d["actual_point_count"], 3);
        assert_eq!(d["time_granularity"], 10);
        assert_eq!(d["is_continuous"], false);
        assert_eq!(d["sum"], 8.0);
        assert_eq!(d["p50"], 3.0);
    }

    #[test]
    fn an_all_missing_series_has_only_counts() {
        let d = describe(&[None, None], None, None);
        assert_eq!(d["missing_point_count"], 2);
        assert_eq!(d["mean"], Value::Null);
        let d = describe(&[], None, None);
        assert_eq!(d["point_count"], 0);
        assert_eq!(d["missing_ratio"], Value::Null);
    }
}

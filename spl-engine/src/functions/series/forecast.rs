//! `series_forecast`: forecasts the next `periods` points of a series.
//!
//! Method: the series' period is detected by autocorrelation (or given as the `period`
//! option); a seasonal series is decomposed by MSTL (`augurs-mstl` over `stlrs`, the
//! seasonal-trend decomposition by LOESS of Bandara et al.), its deseasonalised part (trend +
//! remainder) is forecast by an automatically selected additive-error, non-seasonal
//! exponential-smoothing model (`augurs-ets` `AutoETS`, spec `AZN`: ANN, AAN or AAdN by AICc)
//! and the last seasonal cycle is repeated on top. A series without seasonality is forecast by
//! `AutoETS` alone. This is augurs' "MSTL + ETS" forecaster; prediction intervals are the ETS
//! intervals shifted by the seasonal component.
//!
//! The vendor's service fits a Prophet-like model (its options name daily/weekly/yearly
//! seasonalities); our model differs and ignores those options (docs/decisions.md).
//!
//! Bounds: at least [`MIN_POINTS`] known points (the vendor's minimum), at most
//! [`super::util::MAX_POINTS`] points and [`MAX_HORIZON`] forecast points.
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;
use augurs_core::{Fit, Predict};
use augurs_ets::AutoETS;
use augurs_mstl::MSTLModel;
use datafusion_common::{exec_err, Result};
use serde_json::{json, Map, Value};

use super::util::{
    self, fill_gaps, json_f64s, json_nums, known_options, opt_f64, opt_usize, options, SeriesCol,
    TsCol,
};
use crate::functions::common::{int_col, str_col};

/// Fewest known points a forecast needs.
pub(crate) const MIN_POINTS: usize = 31;
/// Most points one call forecasts.
pub(crate) const MAX_HORIZON: usize = 10_000;
/// Default coverage of the prediction interval.
const DEFAULT_LEVEL: f64 = 0.95;

/// Argument types: `([ts,] series, periods [, options])`.
pub(crate) fn coerce(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    let with_ts = match t.len() {
        2 => false,
        // A field whose type is only known at run time is typed NULL while the pipeline is
        // checked: then a non-VARCHAR third argument means `(ts, series, periods)`.
        3 => {
            util::list_elem(&t[1]).is_some()
                || (t[1] == DataType::Null && !crate::functions::common::is_string_type(&t[2]))
        }
        4 => true,
        n => return datafusion_common::plan_err!("{name}: expected 2 to 4 arguments, got {n}"),
    };
    let mut out = Vec::new();
    let mut i = 0;
    if with_ts {
        out.push(util::coerce_ts(name, 1, &t[0])?);
        i = 1;
    }
    out.push(util::coerce_series(name, i + 1, &t[i])?);
    out.push(util::coerce_int(name, i + 2, &t[i + 1])?);
    if let Some(o) = t.get(i + 2) {
        out.push(util::coerce_str(name, i + 3, o)?);
    }
    Ok(out)
}

/// The result of one forecast.
#[derive(Debug)]
pub(crate) struct Forecast {
    /// In-sample fitted values, then the forecast.
    pub(crate) point: Vec<f64>,
    pub(crate) lower: Vec<f64>,
    pub(crate) upper: Vec<f64>,
    pub(crate) period: Option<usize>,
    pub(crate) method: &'static str,
}

/// Forecasts `horizon` points after `y` (no missing points) with a `level` interval.
/// `period`: `Some(0)` forces no seasonality, `None` detects it.
pub(crate) fn forecast(
    y: &[f64],
    horizon: usize,
    period: Option<usize>,
    level: f64,
) -> std::result::Result<Forecast, String> {
    let n = y.len();
    let period = util::period_of(y, period)?;
    let (_, std) = util::mean_std(y);
    if std <= 1e-12 * y[0].abs().max(1.0) {
        // A constant series: its forecast is the constant, with no uncertainty (ETS would
        // divide by a zero variance).
        let v = y[0];
        let all = vec![v; n + horizon];
        return Ok(Forecast {
            point: all.clone(),
            lower: all.clone(),
            upper: all,
            period,
            method: "constant",
        });
    }
    let ets = || AutoETS::new(1, "AZN").map_err(|e| e.to_string());
    let run = || -> std::result::Result<Forecast, String> {
        let (fitted, future, method) = match period {
            Some(p) => {
                let with_ets = || -> std::result::Result<_, String> {
                    let model = MSTLModel::new(vec![p], ets()?.into_trend_model());
                    let fit = model.fit(y).map_err(|e| e.to_string())?;
                    let fitted = fit.predict_in_sample(level).map_err(|e| e.to_string())?;
                    let future = fit.predict(horizon, level).map_err(|e| e.to_string())?;
                    Ok((fitted, future, "MSTL+ETS"))
                };
                match with_ets() {
                    Ok(r) => r,
                    // ETS rejects a (numerically) constant deseasonalised series: its trend
                    // is then the last value (augurs' naive trend model).
                    Err(_) => {
                        let fit = MSTLModel::naive(vec![p])
                            .fit(y)
                            .map_err(|e| e.to_string())?;
                        let fitted = fit.predict_in_sample(level).map_err(|e| e.to_string())?;
                        let future = fit.predict(horizon, level).map_err(|e| e.to_string())?;
                        (fitted, future, "MSTL+naive")
                    }
                }
            }
            None => {
                let fit = ets()?.fit(y).map_err(|e| e.to_string())?;
                let fitted = fit.predict_in_sample(level).map_err(|e| e.to_string())?;
                let future = fit.predict(horizon, level).map_err(|e| e.to_string())?;
                (fitted, future, "ETS")
            }
        };
        let mut point = fitted.point;
        point.extend(future.point);
        let (mut lower, mut upper) = match fitted.intervals {
            Some(i) => (i.lower, i.upper),
            None => (vec![f64::NAN; n], vec![f64::NAN; n]),
        };
        match future.intervals {
            Some(i) => {
                lower.extend(i.lower);
                upper.extend(i.upper);
            }
            None => {
                lower.extend(std::iter::repeat_n(f64::NAN, horizon));
                upper.extend(std::iter::repeat_n(f64::NAN, horizon));
            }
        }
        if point.len() != n + horizon || lower.len() != n + horizon || upper.len() != n + horizon {
            return Err("the model returned a forecast of the wrong length".into());
        }
        Ok(Forecast {
            point,
            lower,
            upper,
            period,
            method,
        })
    };
    // The numeric crates return errors for what they reject; a panic inside them must still
    // not take the query down.
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| Err("the model failed to fit".into()))
}

/// Options: `period` (0 = none), `interval_width` (also as `uncertainty_config.interval_width`);
/// the vendor's Prophet options are accepted and ignored.
fn parse_options(name: &str, o: &Map<String, Value>) -> Result<(Option<usize>, f64)> {
    known_options(
        name,
        o,
        &[
            "period",
            "interval_width",
            "uncertainty_config",
            "freq",
            "auto_period",
            "auto_period_order",
            "seasonality_config",
        ],
    )?;
    let period = opt_usize(name, o, "period")?;
    let nested = match o.get("uncertainty_config") {
        Some(Value::Object(m)) => opt_f64(name, m, "interval_width")?,
        _ => None,
    };
    let level = opt_f64(name, o, "interval_width")?
        .or(nested)
        .unwrap_or(DEFAULT_LEVEL);
    if !(level > 0.0 && level < 1.0) {
        return exec_err!("{name}: interval_width must be between 0 and 1, got {level}");
    }
    Ok((period, level))
}

/// The time axis extended by `horizon` steps of the median spacing.
fn extend_axis(ts: &[Option<i64>], horizon: usize) -> Value {
    let known: Vec<i64> = ts.iter().flatten().copied().collect();
    let mut steps: Vec<f64> = known.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let step = if steps.is_empty() {
        0
    } else {
        steps.sort_by(f64::total_cmp);
        steps[steps.len() / 2] as i64
    };
    let last = known.last().copied().unwrap_or(0);
    let mut out: Vec<Value> = ts
        .iter()
        .map(|t| t.map_or(Value::Null, Value::from))
        .collect();
    for k in 1..=horizon as i64 {
        out.push(
            step.checked_mul(k)
                .and_then(|d| last.checked_add(d))
                .map_or(Value::Null, Value::from),
        );
    }
    Value::Array(out)
}

/// The whole result object when the forecast could not be made.
fn failed(msg: String) -> Value {
    json!({
        "time_series": null, "metric_series": null, "forecast_metric_series": null,
        "forecast_metric_upper_series": null, "forecast_metric_lower_series": null,
        "forecast_start_index": null, "forecast_length": null, "period": null,
        "method": null, "error_msg": msg,
    })
}

pub(crate) fn invoke(name: &str, a: &[ArrayRef], rows: usize) -> Result<Vec<Option<Value>>> {
    let with_ts = a.len() == 4 || (a.len() == 3 && util::list_elem(a[1].data_type()).is_some());
    let off = usize::from(with_ts);
    let ts = if with_ts {
        Some(TsCol::new(&a[0])?)
    } else {
        None
    };
    let series = SeriesCol::new(&a[off])?;
    let periods = int_col(name, &a[off + 1])?;
    let opts = a.get(off + 2).map(|o| str_col(name, o)).transpose()?;
    (0..rows)
        .map(|i| {
            let Some(values) = series.get(name, i)? else {
                return Ok(None);
            };
            let Some(h) = periods.get(i) else {
                return Ok(None);
            };
            if h < 0 || h as usize > MAX_HORIZON {
                return exec_err!("{name}: periods must be between 0 and {MAX_HORIZON}, got {h}");
            }
            let h = h as usize;
            let o = options(name, opts.as_ref().and_then(|c| c.get(i)))?;
            let (period, level) = parse_options(name, &o)?;
            let axis = match util::axis_of(name, ts.as_ref(), i, values.len())? {
                None => return Ok(None),
                Some(axis) => axis,
            };
            let known = values.iter().flatten().count();
            if known < MIN_POINTS {
                return Ok(Some(failed(format!(
                    "a forecast needs at least {MIN_POINTS} known points, the series has {known}"
                ))));
            }
            let y = fill_gaps(&values).unwrap_or_default();
            let f = match forecast(&y, h, period, level) {
                Ok(f) => f,
                Err(e) => return Ok(Some(failed(e))),
            };
            let n = values.len();
            let metric = values.iter().copied().chain(std::iter::repeat_n(None, h));
            Ok(Some(json!({
                "time_series": axis.map_or(Value::Null, |t| extend_axis(&t, h)),
                "metric_series": json_nums(metric),
                "forecast_metric_series": json_f64s(&f.point),
                "forecast_metric_upper_series": json_f64s(&f.upper),
                "forecast_metric_lower_series": json_f64s(&f.lower),
                "forecast_start_index": n,
                "forecast_length": h,
                "period": f.period,
                "method": f.method,
                "error_msg": null,
            })))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn seasonal(t: usize) -> f64 {
        10.0 + 3.0 * (2.0 * PI * t as f64 / 24.0).sin()
    }

    /// The acceptance case: a pure seasonal series (period 24, amplitude 3) is forecast 48
    /// points ahead within 0.15 (5% of the amplitude) at every point.
    #[test]
    fn a_pure_seasonal_series_is_forecast_within_five_percent_of_its_amplitude() {
        let y: Vec<f64> = (0..240).map(seasonal).collect();
        let f = forecast(&y, 48, None, 0.95).unwrap();
        assert_eq!(f.period, Some(24));
        assert_eq!(f.method, "MSTL+ETS");
        assert_eq!(f.point.len(), 288);
        for h in 0..48 {
            let want = seasonal(240 + h);
            let got = f.point[240 + h];
            assert!((got - want).abs() < 0.15, "h={h}: {got} vs {want}");
            assert!(f.lower[240 + h] <= got && got <= f.upper[240 + h]);
        }
    }

    #[test]
    fn a_seasonal_series_with_trend_keeps_its_trend() {
        let y: Vec<f64> = (0..240).map(|t| seasonal(t) + 0.05 * t as f64).collect();
        let f = forecast(&y, 24, None, 0.95).unwrap();
        assert_eq!(f.period, Some(24));
        for h in 0..24 {
            let want = seasonal(240 + h) + 0.05 * (240 + h) as f64;
            assert!((f.point[240 + h] - want).abs() < 0.5, "h={h}");
        }
    }

    #[test]
    fn a_line_is_extrapolated_without_seasonality() {
        let y: Vec<f64> = (0..60).map(|t| 2.0 * t as f64 + 1.0).collect();
        let f = forecast(&y, 5, None, 0.9).unwrap();
        assert_eq!(f.period, None);
        assert_eq!(f.method, "ETS");
        for h in 0..5 {
            assert!((f.point[60 + h] - (2.0 * (60 + h) as f64 + 1.0)).abs() < 0.5);
        }
    }

    #[test]
    fn a_constant_series_forecasts_the_constant() {
        let f = forecast(&[4.0; 40], 3, None, 0.95).unwrap();
        assert_eq!(&f.point[40..], &[4.0, 4.0, 4.0]);
        assert_eq!(f.method, "constant");
    }

    #[test]
    fn an_impossible_period_is_reported() {
        let y: Vec<f64> = (0..40).map(seasonal).collect();
        assert!(forecast(&y, 3, Some(30), 0.95).is_err());
    }

    #[test]
    fn the_time_axis_is_extended_by_its_step() {
        let v = extend_axis(&[Some(0), Some(10), Some(20)], 2);
        assert_eq!(v, json!([0, 10, 20, 30, 40]));
        let v = extend_axis(&[Some(i64::MAX - 1), Some(i64::MAX)], 2);
        assert_eq!(v, json!([i64::MAX - 1, i64::MAX, null, null]));
    }
}

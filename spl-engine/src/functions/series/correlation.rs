//! `correlation`: the similarity of two series, of each series of a group with one series, or
//! of every pair of two groups (a matrix).
//!
//! The measure is Pearson's correlation coefficient (default, `'pearson'`) or Spearman's rank
//! correlation (`'spearman'`, Pearson's on average ranks), over the positions where both
//! series have a value. Fewer than two such positions, or a constant side, give NULL. These are
//! a few lines of textbook arithmetic, hand-written rather than a statistics dependency.
//! Work is bounded: two series of different lengths are an error, and a matrix has at most
//! [`MAX_CELLS`] cells.
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, ListBuilder};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, plan_err, Result};

use super::util::{self, GroupCol, SeriesCol};
use crate::functions::common::{spend, str_col};

/// Most cells of a correlation matrix.
pub(crate) const MAX_CELLS: usize = 1_000_000;

/// Whether an argument is a group of series (`ARRAY(ARRAY(DOUBLE))`).
fn is_group(t: &DataType) -> bool {
    util::is_series_group(t)
}

pub(crate) fn coerce(name: &str, t: &[DataType]) -> Result<Vec<DataType>> {
    if !(2..=3).contains(&t.len()) {
        return plan_err!("{name}: expected 2 or 3 arguments, got {}", t.len());
    }
    let mut out = Vec::new();
    for (i, ty) in t[..2].iter().enumerate() {
        out.push(if is_group(ty) {
            util::coerce_series_group(name, i + 1, ty)?
        } else {
            util::coerce_series(name, i + 1, ty)?
        });
    }
    if let Some(m) = t.get(2) {
        out.push(util::coerce_str(name, 3, m)?);
    }
    Ok(out)
}

pub(crate) fn return_type(t: &[DataType]) -> DataType {
    let f = DataType::Float64;
    match (
        t.first().is_some_and(is_group),
        t.get(1).is_some_and(is_group),
    ) {
        (false, false) => f,
        (true, true) => util::series_group_type(),
        _ => util::series_type(),
    }
}

/// The correlation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Pearson,
    Spearman,
}

/// Average ranks (ties share the mean of their positions), 1-based.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in &idx[i..=j] {
            r[*k] = avg;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    let d = (sxx * syy).sqrt();
    (d > 0.0).then(|| (sxy / d).clamp(-1.0, 1.0))
}

/// The correlation of `a` and `b` over their common known points.
pub(crate) fn correlate(
    name: &str,
    a: &[Option<f64>],
    b: &[Option<f64>],
    m: Method,
) -> Result<Option<f64>> {
    if a.len() != b.len() {
        return exec_err!(
            "{name}: the series have different lengths ({} and {})",
            a.len(),
            b.len()
        );
    }
    let (x, y): (Vec<f64>, Vec<f64>) = a
        .iter()
        .zip(b)
        .filter_map(|(p, q)| Some(((*p)?, (*q)?)))
        .unzip();
    if x.len() < 2 {
        return Ok(None);
    }
    Ok(match m {
        Method::Pearson => pearson(&x, &y),
        Method::Spearman => pearson(&ranks(&x), &ranks(&y)),
    })
}

enum Side {
    One(SeriesCol),
    Group(GroupCol),
}

type Series = Vec<Option<f64>>;

enum Val {
    One(Series),
    Group(Vec<Option<Series>>),
}

impl Side {
    fn new(a: &ArrayRef) -> Result<Self> {
        Ok(if is_group(a.data_type()) {
            Side::Group(GroupCol::new(a)?)
        } else {
            Side::One(SeriesCol::new(a)?)
        })
    }
    fn get(&self, name: &str, i: usize) -> Result<Option<Val>> {
        Ok(match self {
            Side::One(c) => c.get(name, i)?.map(Val::One),
            Side::Group(c) => c.get(name, i)?.map(Val::Group),
        })
    }
}

fn method(name: &str, m: Option<&str>) -> Result<Method> {
    match m.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("pearson") => Ok(Method::Pearson),
        Some("spearman") => Ok(Method::Spearman),
        Some(other) => exec_err!("{name}: unknown method {other:?} (pearson, spearman)"),
    }
}

pub(crate) fn invoke(name: &str, a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let (l, r) = (Side::new(&a[0])?, Side::new(&a[1])?);
    let methods = a.get(2).map(|m| str_col(name, m)).transpose()?;
    let vec_of = |g: &[Option<Series>], s: &Series, m| -> Result<Vec<Option<f64>>> {
        g.iter()
            .map(|x| match x {
                Some(x) => correlate(name, x, s, m),
                None => Ok(None),
            })
            .collect()
    };
    match (&l, &r) {
        (Side::One(_), Side::One(_)) => {
            let mut b = Float64Builder::with_capacity(rows);
            for i in 0..rows {
                let m = method(name, methods.as_ref().and_then(|c| c.get(i)))?;
                match (l.get(name, i)?, r.get(name, i)?) {
                    (Some(Val::One(x)), Some(Val::One(y))) => {
                        b.append_option(correlate(name, &x, &y, m)?)
                    }
                    _ => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        (Side::Group(_), Side::Group(_)) => {
            let mut b = ListBuilder::new(ListBuilder::new(Float64Builder::new()));
            for i in 0..rows {
                let m = method(name, methods.as_ref().and_then(|c| c.get(i)))?;
                match (l.get(name, i)?, r.get(name, i)?) {
                    (Some(Val::Group(x)), Some(Val::Group(y))) => {
                        if x.len().saturating_mul(y.len()) > MAX_CELLS {
                            return exec_err!(
                                "{name}: a {}×{} matrix exceeds {MAX_CELLS} cells",
                                x.len(),
                                y.len()
                            );
                        }
                        for xi in &x {
                            spend(y.len(), 8 * y.len())?;
                            match xi {
                                Some(xi) => {
                                    for yj in &y {
                                        b.values().values().append_option(match yj {
                                            Some(yj) => correlate(name, xi, yj, m)?,
                                            None => None,
                                        });
                                    }
                                    b.values().append(true);
                                }
                                None => b.values().append(false),
                            }
                        }
                        b.append(true);
                    }
                    _ => b.append(false),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        _ => {
            let mut b = ListBuilder::new(Float64Builder::new());
            for i in 0..rows {
                let m = method(name, methods.as_ref().and_then(|c| c.get(i)))?;
                let v = match (l.get(name, i)?, r.get(name, i)?) {
                    (Some(Val::Group(g)), Some(Val::One(s)))
                    | (Some(Val::One(s)), Some(Val::Group(g))) => Some(vec_of(&g, &s, m)?),
                    _ => None,
                };
                match v {
                    Some(v) => {
                        spend(v.len(), 8 * v.len())?;
                        for x in v {
                            b.values().append_option(x);
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            Ok(Arc::new(b.finish()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[f64]) -> Vec<Option<f64>> {
        v.iter().copied().map(Some).collect()
    }

    #[test]
    fn known_coefficients() {
        let p = |a: &[f64], b: &[f64]| correlate("c", &s(a), &s(b), Method::Pearson).unwrap();
        assert_eq!(p(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]), Some(1.0));
        assert_eq!(p(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        assert_eq!(p(&[1.0, 2.0, 3.0], &[5.0, 5.0, 5.0]), None);
        let r = p(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((r - 0.8).abs() < 1e-12);
        // Spearman sees a monotone but non-linear relation as perfect.
        let sp = correlate(
            "c",
            &s(&[1.0, 2.0, 3.0, 4.0]),
            &s(&[1.0, 8.0, 27.0, 64.0]),
            Method::Spearman,
        );
        assert_eq!(sp.unwrap(), Some(1.0));
    }

    #[test]
    fn missing_points_are_skipped_and_lengths_must_match() {
        let a = vec![Some(1.0), None, Some(2.0), Some(3.0)];
        let b = vec![Some(1.0), Some(100.0), Some(2.0), Some(3.0)];
        assert_eq!(correlate("c", &a, &b, Method::Pearson).unwrap(), Some(1.0));
        assert!(correlate("c", &a, &b[..3], Method::Pearson).is_err());
        assert_eq!(
            correlate("c", &[None, Some(1.0)], &[Some(1.0), None], Method::Pearson).unwrap(),
            None
        );
    }

    #[test]
    fn ties_share_their_rank() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }
}

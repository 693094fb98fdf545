//! SLS coercion rules (spec §18.2), applied by the engine itself because DataFusion's own
//! coercion would compare `'60' >= '500'` as text.
//!
//! - Comparisons between VARCHAR and a number compare numerically; text that is not a number
//!   makes the comparison NULL (so `where` drops the row). Against an integral side the text is
//!   read as BIGINT when it is an integer and as DOUBLE otherwise, per value.
//! - Arithmetic between VARCHAR and an integral or VARCHAR operand is computed per value: in
//!   BIGINT when both values are integers (`"100" - "40"` is `60`; overflow and division by zero
//!   are row errors, as for BIGINT), else in DOUBLE (`"1.5" + 1` is `2.5`); text that is no
//!   number gives NULL. An Arrow column has one type, so such a result is VARCHAR holding the
//!   value as §18.4 renders it (`60`, `2.5`, `3.0`): it compares and computes as a number again
//!   through these same rules (docs/decisions.md, "Arithmetic on text"). With a floating
//!   operand (`"2" * 1.5`) the result is DOUBLE.
//! - Numbers of different widths widen to BIGINT, or to DOUBLE when either side is floating.
//! - JSON (LargeUtf8) compares and concatenates as its text.
use arrow::datatypes::DataType;
use datafusion_expr::{Expr, Operator, TryCast};

use crate::types;

pub use crate::types::{is_integral, is_numeric, is_text, numeric_common};

fn try_cast(e: Expr, t: DataType) -> Expr {
    Expr::TryCast(TryCast::new(Box::new(e), t))
}

fn cast(e: Expr, from: &DataType, to: DataType) -> Expr {
    if *from == to {
        e
    } else {
        Expr::Cast(datafusion_expr::Cast::new(Box::new(e), to))
    }
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(datafusion_expr::BinaryExpr::new(
        Box::new(l),
        op,
        Box::new(r),
    ))
}

/// True for the six comparison operators and IS [NOT] DISTINCT FROM.
pub fn is_comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// Builds `l op r` with SLS coercion, given the operand types. `None` when the types cannot be
/// combined by this operator.
pub fn binary_op(l: Expr, lt: &DataType, op: Operator, r: Expr, rt: &DataType) -> Option<Expr> {
    if lt == &DataType::Null || rt == &DataType::Null {
        return Some(binary(null_as(l, lt, rt), op, null_as(r, rt, lt)));
    }
    match op {
        Operator::And | Operator::Or => {
            let to_bool = |e: Expr, t: &DataType| {
                if *t == DataType::Boolean {
                    e
                } else {
                    try_cast(e, DataType::Boolean)
                }
            };
            Some(binary(to_bool(l, lt), op, to_bool(r, rt)))
        }
        Operator::StringConcat => Some(binary(as_varchar(l, lt), op, as_varchar(r, rt))),
        op if is_comparison(op) => comparison(l, lt, op, r, rt),
        _ => arithmetic(l, lt, op, r, rt),
    }
}

/// A NULL literal takes the other side's type.
fn null_as(e: Expr, t: &DataType, other: &DataType) -> Expr {
    if *t == DataType::Null && *other != DataType::Null {
        cast(e, t, other.clone())
    } else {
        e
    }
}

/// Any value as VARCHAR (for `||`, `LIKE`): text as it is, other values as §18.4 renders them.
pub fn as_varchar(e: Expr, t: &DataType) -> Expr {
    if super::cast::renders_as_text(t) {
        return Expr::ScalarFunction(datafusion_expr::expr::ScalarFunction::new_udf(
            super::cast::render(super::cast::Render::Text),
            vec![e],
        ));
    }
    cast(e, t, types::VARCHAR)
}

fn comparison(l: Expr, lt: &DataType, op: Operator, r: Expr, rt: &DataType) -> Option<Expr> {
    if is_numeric(lt) && is_numeric(rt) {
        let common = numeric_common(lt, rt);
        return Some(binary(cast(l, lt, common.clone()), op, cast(r, rt, common)));
    }
    if is_text(lt) && is_text(rt) {
        return Some(binary(as_varchar(l, lt), op, as_varchar(r, rt)));
    }
    if is_text(lt) && is_numeric(rt) {
        return Some(text_vs_number(l, lt, op, r, rt, false));
    }
    if is_numeric(lt) && is_text(rt) {
        return Some(text_vs_number(r, rt, op, l, lt, true));
    }
    if is_text(lt) {
        return Some(binary(try_cast(as_varchar(l, lt), rt.clone()), op, r));
    }
    if is_text(rt) {
        return Some(binary(l, op, try_cast(as_varchar(r, rt), lt.clone())));
    }
    (lt == rt).then(|| binary(l, op, r))
}

/// Arithmetic with a text operand and an integral or text other side, per value: BIGINT when
/// both values read as integers, else DOUBLE; the result rendered as VARCHAR (§18.2, §18.4).
fn text_arithmetic(l: Expr, lt: &DataType, op: Operator, r: Expr, rt: &DataType) -> Expr {
    let read = |e: &Expr, t: &DataType, to: DataType| {
        if is_text(t) {
            try_cast(as_varchar(e.clone(), t), to)
        } else {
            cast(e.clone(), t, to)
        }
    };
    let (li, ri) = (read(&l, lt, DataType::Int64), read(&r, rt, DataType::Int64));
    let (ld, rd) = (
        read(&l, lt, DataType::Float64),
        read(&r, rt, DataType::Float64),
    );
    let both_integers =
        Expr::IsNotNull(Box::new(li.clone())).and(Expr::IsNotNull(Box::new(ri.clone())));
    let as_text = |e: Expr, t: &DataType| cast(as_varchar(e, t), &types::VARCHAR, types::VARCHAR);
    Expr::Case(datafusion_expr::Case::new(
        None,
        vec![(
            Box::new(both_integers),
            Box::new(as_text(binary(li, op, ri), &DataType::Int64)),
        )],
        Some(Box::new(as_text(binary(ld, op, rd), &DataType::Float64))),
    ))
}

/// Compares text with a number: integral text as BIGINT (exact), other numeric text as DOUBLE.
fn text_vs_number(
    text: Expr,
    tt: &DataType,
    op: Operator,
    num: Expr,
    nt: &DataType,
    flipped: bool,
) -> Expr {
    let text = as_varchar(text, tt);
    let order = |a: Expr, b: Expr| {
        if flipped {
            binary(b, op, a)
        } else {
            binary(a, op, b)
        }
    };
    if is_integral(nt) {
        let as_int = order(
            try_cast(text.clone(), DataType::Int64),
            cast(num.clone(), nt, DataType::Int64),
        );
        let as_double = order(
            try_cast(text, DataType::Float64),
            cast(num, nt, DataType::Float64),
        );
        // coalesce(int comparison, double comparison): the integer reading wins when it exists.
        Expr::Case(datafusion_expr::Case::new(
            None,
            vec![(
                Box::new(Expr::IsNotNull(Box::new(as_int.clone()))),
                Box::new(as_int),
            )],
            Some(Box::new(as_double)),
        ))
    } else {
        order(
            try_cast(text, DataType::Float64),
            cast(num, nt, DataType::Float64),
        )
    }
}

fn arithmetic(l: Expr, lt: &DataType, op: Operator, r: Expr, rt: &DataType) -> Option<Expr> {
    let num = |e: Expr, t: &DataType, target: &DataType| {
        if is_text(t) {
            try_cast(as_varchar(e, t), target.clone())
        } else {
            cast(e, t, target.clone())
        }
    };
    let ok = |t: &DataType| is_numeric(t) || is_text(t);
    if !ok(lt) || !ok(rt) {
        // Date/time arithmetic and other typed operands go to DataFusion as they are.
        return Some(binary(l, op, r));
    }
    let integral_or_text = |t: &DataType| is_integral(t) || is_text(t);
    if (is_text(lt) || is_text(rt)) && integral_or_text(lt) && integral_or_text(rt) {
        return Some(text_arithmetic(l, lt, op, r, rt));
    }
    let target = if is_numeric(lt) && is_numeric(rt) {
        numeric_common(lt, rt)
    } else {
        DataType::Float64
    };
    Some(binary(num(l, lt, &target), op, num(r, rt, &target)))
}

//! A fast path of `where` for the commonest log predicate, `CAST(field AS BIGINT) <op> n` (`op`
//! a comparison, `n` an integer literal; also `n <op> CAST(...)` and TRY_CAST): over a text
//! column whose values are all plain integers or NULL, each value is read and compared in one
//! pass, without building the BIGINT column or running the cast and comparison kernels. Any
//! other value (a sign `+`, spaces, a fraction, not a number, more than 18 digits) leaves the
//! batch to the general path, so what is kept, and every error, is the general path's.
use arrow::array::{Array, AsArray, BooleanArray, BooleanBufferBuilder};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::{BinaryOp, Expr, ExprKind, Literal};

/// `CAST(field AS BIGINT) op value`.
#[derive(Debug)]
pub(super) struct TextIntCompare {
    field: String,
    op: BinaryOp,
    value: i64,
}

impl TextIntCompare {
    /// The comparison `e` is, if it has this form.
    pub fn of(e: &Expr) -> Option<TextIntCompare> {
        let ExprKind::Binary { left, op, right } = &e.kind else {
            return None;
        };
        let flipped = match op {
            BinaryOp::Lt => BinaryOp::Gt,
            BinaryOp::LtEq => BinaryOp::GtEq,
            BinaryOp::Gt => BinaryOp::Lt,
            BinaryOp::GtEq => BinaryOp::LtEq,
            BinaryOp::Eq | BinaryOp::NotEq => *op,
            _ => return None,
        };
        let (field, op, value) = match (cast_field(left), integer(right)) {
            (Some(f), Some(v)) => (f, *op, v),
            _ => (cast_field(right)?, flipped, integer(left)?),
        };
        Some(TextIntCompare {
            field: field.to_string(),
            op,
            value,
        })
    }

    /// Which rows of `batch` the comparison keeps (NULL drops); `None` when the field is not a
    /// text column or holds a value that is not a plain integer.
    pub fn mask(&self, batch: &RecordBatch) -> Option<BooleanArray> {
        let column = batch.column_by_name(&self.field)?;
        if column.data_type() != &DataType::Utf8View {
            return None;
        }
        let text = column.as_string_view();
        let mut keep = BooleanBufferBuilder::new(text.len());
        for i in 0..text.len() {
            if text.is_null(i) {
                keep.append(false);
                continue;
            }
            let v = plain_integer(text.value(i).as_bytes())?;
            keep.append(match self.op {
                BinaryOp::Lt => v < self.value,
                BinaryOp::LtEq => v <= self.value,
                BinaryOp::Gt => v > self.value,
                BinaryOp::GtEq => v >= self.value,
                BinaryOp::Eq => v == self.value,
                _ => v != self.value,
            });
        }
        Some(BooleanArray::new(keep.finish(), None))
    }
}

/// `field` when `e` is `CAST(field AS BIGINT)` or `TRY_CAST(field AS BIGINT)`.
fn cast_field(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Cast { expr, ty, .. } if ty.name == "bigint" && ty.params.is_empty() => {
            match &expr.kind {
                ExprKind::Column(name) => Some(name),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The value of an integer literal that fits BIGINT.
fn integer(e: &Expr) -> Option<i64> {
    match &e.kind {
        ExprKind::Literal(Literal::Number(n)) => n.parse().ok(),
        _ => None,
    }
}

/// `-`? then 1 to 18 ASCII digits (so no overflow) as an integer; `None` for anything else.
fn plain_integer(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_integers_only() {
        assert_eq!(plain_integer(b"500"), Some(500));
        assert_eq!(plain_integer(b"-7"), Some(-7));
        assert_eq!(plain_integer(b"007"), Some(7));
        assert_eq!(
            plain_integer(b"999999999999999999"),
            Some(999_999_999_999_999_999)
        );
        for no in [
            &b""[..],
            b"-",
            b"+5",
            b" 5",
            b"5 ",
            b"1.0",
            b"1e3",
            b"x",
            b"9999999999999999999",
        ] {
            assert_eq!(plain_integer(no), None, "{no:?}");
        }
    }

    #[test]
    fn only_casts_of_a_field_compared_with_an_integer() {
        let pred = |s: &str| {
            let p = spl_parser::parse(&format!("* | where {s}")).unwrap();
            match &p.statements[0].pipeline.stages[0].kind {
                spl_parser::InstructionKind::Where { predicate } => predicate.clone(),
                other => panic!("{other:?}"),
            }
        };
        let f = TextIntCompare::of(&pred("cast(status as bigint) >= 500")).unwrap();
        assert_eq!(
            (f.field.as_str(), f.op, f.value),
            ("status", BinaryOp::GtEq, 500)
        );
        let f = TextIntCompare::of(&pred("500 > try_cast(status as bigint)")).unwrap();
        assert_eq!(
            (f.field.as_str(), f.op, f.value),
            ("status", BinaryOp::Lt, 500)
        );
        for no in [
            "cast(status as double) >= 500",
            "cast(status as bigint) >= 5.5",
            "cast(status as bigint) + 1 >= 500",
            "cast(lower(status) as bigint) >= 500",
            "cast(status as bigint) >= cast(limit as bigint)",
            "status >= 500",
        ] {
            assert!(TextIntCompare::of(&pred(no)).is_none(), "{no}");
        }
    }
}

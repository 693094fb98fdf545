//! SLS bitwise functions (spec §7.6) on BIGINT in two's complement, with Presto/Trino semantics.
//!
//! Shift amounts of 64 or more never panic: left and logical right shifts give 0, arithmetic right
//! shifts give 0 or -1 by the sign. `bitwise_left_shift`, `bitwise_right_shift` and
//! `bitwise_right_shift_arithmetic` take a negative shift modulo 64 as Java does; the
//! `bits`-limited functions and `bitwise_arithmetic_shift_right` reject it.
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs};

use super::common::{
    cast_all, coerce_all, ex, invoke_rowwise, is_string_type, op_def, row_values, UdfOp,
};
use super::{Family, FunctionDef};

/// Which bitwise function an [`OpUdf`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    BitCount,
    And,
    Or,
    Xor,
    Not,
    LeftShift,
    RightShift,
    RightShiftArithmetic,
    ArithmeticShiftRight,
    LogicalShiftRight,
    ShiftLeft,
}

impl Op {
    fn arity(self) -> usize {
        match self {
            Op::Not => 1,
            Op::LogicalShiftRight | Op::ShiftLeft => 3,
            _ => 2,
        }
    }
}

impl UdfOp for Op {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_all(
            name,
            self.arity(),
            arg_types,
            |t| t == &DataType::Null || t.is_integer() || is_string_type(t),
            &DataType::Int64,
            "BIGINT",
        )
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    /// Every argument and the result are BIGINT.
    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_rowwise(&args, |arrays, rows| {
            let cols = cast_all::<Int64Array>(arrays, &DataType::Int64)?;
            let out = (0..rows)
                .map(|i| row_values(&cols, i).map_or(Ok(None), |v| apply(self, name, &v).map(Some)))
                .collect::<Result<Int64Array>>()?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

/// Checks the `bits` argument of the width-limited functions.
fn check_bits(name: &str, bits: i64) -> Result<u32> {
    match u32::try_from(bits) {
        Ok(b) if (2..=64).contains(&b) => Ok(b),
        _ => exec_err!("{name}: bits must be between 2 and 64, got {bits}"),
    }
}

/// The low `bits` bits set (`bits` in 2..=64).
fn mask(bits: u32) -> i64 {
    if bits >= 64 {
        -1
    } else {
        ((1u64 << bits) - 1) as i64
    }
}

fn check_shift(name: &str, shift: i64) -> Result<()> {
    if shift < 0 {
        return exec_err!("{name}: shift must not be negative, got {shift}");
    }
    Ok(())
}

/// Java's `<<`, `>>`, `>>>` use the low six bits of the shift amount.
fn java_shift(shift: i64) -> u32 {
    (shift & 63) as u32
}

fn apply(op: Op, name: &str, v: &[i64]) -> Result<i64> {
    Ok(match op {
        Op::BitCount => {
            let (x, bits) = (v[0], check_bits(name, v[1])?);
            // x must fit in a signed `bits`-bit integer.
            let high = mask(bits - 1);
            if x > high || x < !high {
                return exec_err!(
                    "{name}: number must be representable with the bits specified; {x} can not be represented with {bits} bits"
                );
            }
            i64::from((x & mask(bits)).count_ones())
        }
        Op::And => v[0] & v[1],
        Op::Or => v[0] | v[1],
        Op::Xor => v[0] ^ v[1],
        Op::Not => !v[0],
        Op::LeftShift => {
            if v[1] >= 64 {
                0
            } else {
                v[0] << java_shift(v[1])
            }
        }
        Op::RightShift => {
            if v[1] >= 64 {
                0
            } else {
                ((v[0] as u64) >> java_shift(v[1])) as i64
            }
        }
        Op::RightShiftArithmetic => {
            if v[1] >= 64 {
                if v[0] >= 0 {
                    0
                } else {
                    -1
                }
            } else {
                v[0] >> java_shift(v[1])
            }
        }
        Op::ArithmeticShiftRight => {
            check_shift(name, v[1])?;
            v[0] >> v[1].min(63)
        }
        Op::LogicalShiftRight => {
            let (x, shift, bits) = (v[0], v[1], check_bits(name, v[2])?);
            check_shift(name, shift)?;
            if shift >= 64 {
                0
            } else {
                (((x & mask(bits)) as u64) >> shift) as i64
            }
        }
        Op::ShiftLeft => {
            let (x, shift, bits) = (v[0], v[1], check_bits(name, v[2])?);
            check_shift(name, shift)?;
            if shift >= 64 {
                0
            } else {
                (x << shift) & mask(bits)
            }
        }
    })
}

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    vec![
        op_def(
            Family::Bitwise,
            "bit_count",
            Op::BitCount,
            "bit_count(x BIGINT, bits BIGINT) -> BIGINT",
            "Number of 1 bits in x taken as a bits-bit signed integer in two's complement. NULL when an argument is NULL; an error when bits is outside 2..64 or x does not fit in bits bits.",
            &[
                ex!("bit_count(9, 64)", Some("2")),
                ex!("bit_count(-7, 64)", Some("62")),
                ex!("bit_count(-7, 8)", Some("6")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_and",
            Op::And,
            "bitwise_and(x BIGINT, y BIGINT) -> BIGINT",
            "Bitwise AND of x and y. NULL when an argument is NULL.",
            &[ex!("bitwise_and(1342, 8)", Some("8"))],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_or",
            Op::Or,
            "bitwise_or(x BIGINT, y BIGINT) -> BIGINT",
            "Bitwise OR of x and y. NULL when an argument is NULL.",
            &[ex!("bitwise_or(1342, 1)", Some("1343"))],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_xor",
            Op::Xor,
            "bitwise_xor(x BIGINT, y BIGINT) -> BIGINT",
            "Bitwise exclusive OR of x and y. NULL when an argument is NULL.",
            &[ex!("bitwise_xor(1342, 8)", Some("1334"))],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_not",
            Op::Not,
            "bitwise_not(x BIGINT) -> BIGINT",
            "Bitwise NOT of x (equals -x - 1). NULL when x is NULL.",
            &[ex!("bitwise_not(33)", Some("-34"))],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_left_shift",
            Op::LeftShift,
            "bitwise_left_shift(x BIGINT, shift BIGINT) -> BIGINT",
            "x shifted left by shift bits; 0 when shift >= 64. NULL when an argument is NULL.",
            &[
                ex!("bitwise_left_shift(1342, 8)", Some("343552")),
                ex!("bitwise_left_shift(1, 64)", Some("0")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_right_shift",
            Op::RightShift,
            "bitwise_right_shift(x BIGINT, shift BIGINT) -> BIGINT",
            "x shifted right by shift bits, filling with zeros (logical shift); 0 when shift >= 64. NULL when an argument is NULL.",
            &[
                ex!("bitwise_right_shift(1342, 8)", Some("5")),
                ex!("bitwise_right_shift(-1, 60)", Some("15")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_right_shift_arithmetic",
            Op::RightShiftArithmetic,
            "bitwise_right_shift_arithmetic(x BIGINT, shift BIGINT) -> BIGINT",
            "x shifted right by shift bits, keeping the sign (arithmetic shift); 0 or -1 when shift >= 64. NULL when an argument is NULL.",
            &[
                ex!("bitwise_right_shift_arithmetic(1342, 8)", Some("5")),
                ex!("bitwise_right_shift_arithmetic(-1342, 8)", Some("-6")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_arithmetic_shift_right",
            Op::ArithmeticShiftRight,
            "bitwise_arithmetic_shift_right(x BIGINT, shift BIGINT) -> BIGINT",
            "x shifted right by shift bits, keeping the sign; 0 or -1 when shift >= 64. NULL when an argument is NULL; an error when shift is negative.",
            &[
                ex!("bitwise_arithmetic_shift_right(1342, 8)", Some("5")),
                ex!("bitwise_arithmetic_shift_right(-8, 1)", Some("-4")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_logical_shift_right",
            Op::LogicalShiftRight,
            "bitwise_logical_shift_right(x BIGINT, shift BIGINT, bits BIGINT) -> BIGINT",
            "The low bits bits of x shifted right by shift bits, filling with zeros. NULL when an argument is NULL; an error when bits is outside 2..64 or shift is negative.",
            &[
                ex!("bitwise_logical_shift_right(1342, 9, 8)", Some("0")),
                ex!("bitwise_logical_shift_right(-1, 1, 8)", Some("127")),
            ],
        ),
        op_def(
            Family::Bitwise,
            "bitwise_shift_left",
            Op::ShiftLeft,
            "bitwise_shift_left(x BIGINT, shift BIGINT, bits BIGINT) -> BIGINT",
            "x shifted left by shift bits, keeping only the low bits bits. NULL when an argument is NULL; an error when bits is outside 2..64 or shift is negative.",
            &[
                ex!("bitwise_shift_left(1342, 9, 8)", Some("0")),
                ex!("bitwise_shift_left(3, 3, 4)", Some("8")),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, AsArray, Int64Array};
    use arrow::datatypes::{DataType, Int64Type};
    use datafusion_common::ScalarValue;

    use super::super::testing::{check_examples, invoke_arrays, run_rendered};
    use super::*;

    fn run(name: &str, args: &[Option<i64>]) -> Result<Option<String>> {
        let args = args.iter().map(|v| ScalarValue::Int64(*v)).collect();
        run_rendered(&functions(), name, args)
    }

    fn ok(name: &str, args: &[i64]) -> i64 {
        let args: Vec<_> = args.iter().copied().map(Some).collect();
        run(name, &args).unwrap().unwrap().parse().unwrap()
    }

    fn err(name: &str, args: &[i64]) -> String {
        let args: Vec<_> = args.iter().copied().map(Some).collect();
        run(name, &args).expect_err("expected an error").to_string()
    }

    #[test]
    fn examples_hold() {
        check_examples(&functions());
    }

    #[test]
    fn bit_count_checks_the_width() {
        assert_eq!(ok("bit_count", &[9, 8]), 2);
        assert_eq!(ok("bit_count", &[-1, 64]), 64);
        assert_eq!(ok("bit_count", &[127, 8]), 7);
        assert_eq!(ok("bit_count", &[-128, 8]), 1);
        assert_eq!(ok("bit_count", &[i64::MIN, 64]), 1);
        assert!(err("bit_count", &[128, 8]).contains("can not be represented with 8 bits"));
        assert!(err("bit_count", &[-129, 8]).contains("can not be represented"));
        assert!(err("bit_count", &[1, 1]).contains("bits must be between 2 and 64"));
        assert!(err("bit_count", &[1, 65]).contains("bits must be between 2 and 64"));
    }

    #[test]
    fn shifts_of_64_or_more_do_not_panic() {
        for shift in [64, 65, 1000, i64::MAX] {
            assert_eq!(ok("bitwise_left_shift", &[1, shift]), 0);
            assert_eq!(ok("bitwise_right_shift", &[-1, shift]), 0);
            assert_eq!(ok("bitwise_right_shift_arithmetic", &[-5, shift]), -1);
            assert_eq!(ok("bitwise_right_shift_arithmetic", &[5, shift]), 0);
            assert_eq!(ok("bitwise_arithmetic_shift_right", &[-5, shift]), -1);
            assert_eq!(ok("bitwise_arithmetic_shift_right", &[5, shift]), 0);
            assert_eq!(ok("bitwise_logical_shift_right", &[-1, shift, 64]), 0);
            assert_eq!(ok("bitwise_shift_left", &[1, shift, 64]), 0);
        }
        assert_eq!(ok("bitwise_left_shift", &[1, 63]), i64::MIN);
        assert_eq!(ok("bitwise_right_shift", &[i64::MIN, 63]), 1);
    }

    #[test]
    fn negative_shifts() {
        // Java semantics: the low six bits of the shift amount.
        assert_eq!(ok("bitwise_left_shift", &[1, -1]), i64::MIN);
        assert_eq!(ok("bitwise_right_shift", &[i64::MIN, -1]), 1);
        assert_eq!(ok("bitwise_right_shift_arithmetic", &[i64::MIN, -1]), -1);
        for name in [
            "bitwise_arithmetic_shift_right",
            "bitwise_logical_shift_right",
            "bitwise_shift_left",
        ] {
            let args: &[i64] = if name == "bitwise_arithmetic_shift_right" {
                &[8, -1]
            } else {
                &[8, -1, 8]
            };
            assert!(err(name, args).contains("must not be negative"), "{name}");
        }
    }

    #[test]
    fn bits_limited_shifts() {
        assert_eq!(ok("bitwise_logical_shift_right", &[-1, 1, 2]), 1);
        assert_eq!(ok("bitwise_logical_shift_right", &[-1, 30, 32]), 3);
        assert_eq!(ok("bitwise_logical_shift_right", &[-1, 1, 64]), i64::MAX);
        assert_eq!(ok("bitwise_shift_left", &[1, 7, 8]), 128);
        assert_eq!(ok("bitwise_shift_left", &[1, 8, 8]), 0);
        assert_eq!(ok("bitwise_shift_left", &[-1, 1, 64]), -2);
        assert!(err("bitwise_shift_left", &[1, 1, 1]).contains("bits must be between"));
        assert!(err("bitwise_logical_shift_right", &[1, 1, 0]).contains("bits must be between"));
    }

    #[test]
    fn nulls_and_columns() {
        assert_eq!(run("bitwise_and", &[None, Some(1)]).unwrap(), None);
        assert_eq!(run("bitwise_not", &[None]).unwrap(), None);
        assert_eq!(run("bit_count", &[Some(1), None]).unwrap(), None);
        let x: ArrayRef = Arc::new(Int64Array::from(vec![Some(12), None, Some(-1)]));
        let y: ArrayRef = Arc::new(Int64Array::from(vec![Some(10), Some(3), Some(255)]));
        let def = functions()
            .into_iter()
            .find(|d| d.name == "bitwise_xor")
            .unwrap();
        let out = invoke_arrays(&def.udf, vec![x, y]).unwrap();
        let out = out.as_primitive::<Int64Type>();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(6), None, Some(-256)]
        );
    }

    #[test]
    fn coercion() {
        let def = functions()
            .into_iter()
            .find(|d| d.name == "bitwise_or")
            .unwrap();
        assert_eq!(
            def.udf
                .coerce_types(&[DataType::Int32, DataType::Utf8View])
                .unwrap(),
            vec![DataType::Int64, DataType::Int64]
        );
        assert!(def
            .udf
            .coerce_types(&[DataType::Float64, DataType::Int64])
            .is_err());
        assert!(def.udf.coerce_types(&[DataType::Int64]).is_err());
    }
}

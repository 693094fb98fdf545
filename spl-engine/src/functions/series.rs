//! Time-series functions (Time-series SPL), used in `extend` after `make-series`.
//!
//! Only `second_to_nano` so far: it turns unix seconds into the nanoseconds of the time axis
//! `make-series` writes to `__ts__`. The analysis functions of the public page
//! (`series_forecast`, `series_decompose_anomalies`, …) are not implemented yet.
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs};

use super::common::{
    cast_all, coerce_all, ex, invoke_rowwise, is_string_type, op_def, row_values, UdfOp,
};
use super::{Family, FunctionDef};

/// Which series function an op computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    SecondToNano,
}

impl UdfOp for Op {
    fn coerce(self, name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_all(
            name,
            1,
            arg_types,
            |t| t == &DataType::Null || t.is_integer() || is_string_type(t),
            &DataType::Int64,
            "BIGINT",
        )
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke(self, name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_rowwise(&args, |arrays, rows| {
            let cols = cast_all::<Int64Array>(arrays, &DataType::Int64)?;
            let out = (0..rows)
                .map(|i| {
                    row_values(&cols, i).map_or(Ok(None), |v| {
                        match v[0].checked_mul(1_000_000_000) {
                            Some(ns) => Ok(Some(ns)),
                            None => {
                                exec_err!("{name}: {} seconds overflow BIGINT nanoseconds", v[0])
                            }
                        }
                    })
                })
                .collect::<Result<Int64Array>>()?;
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

pub fn functions() -> Vec<FunctionDef> {
    vec![op_def(
        Family::Series,
        "second_to_nano",
        Op::SecondToNano,
        "second_to_nano(seconds BIGINT) -> BIGINT",
        "Unix seconds as unix nanoseconds (the unit of `make-series`'s `__ts__`). NULL when the argument is NULL; an error when the result does not fit in BIGINT.",
        &[
            ex!("second_to_nano(1700000000)", Some("1700000000000000000")),
            ex!("second_to_nano(null)", None),
        ],
    )]
}

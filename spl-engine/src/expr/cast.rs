//! Casts DataFusion does not do the SLS way. `CAST(text AS TIMESTAMP)` reads the text as a wall
//! time in the session zone (`YYYY-MM-DD HH:MM:SS[.fff]`, single-digit hours, `T`, a trailing zone
//! overriding the session's); unparseable text is a row error for CAST and NULL for TRY_CAST.
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, AsArray, TimestampNanosecondBuilder};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, Volatility};

use crate::functions::common::{invoke_rowwise, op_udf, UdfOp};
use crate::timezone::{parse_timestamp_text, SessionTz};
use crate::types;

/// VARCHAR → TIMESTAMP in the session zone; `strict`: errors instead of NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TextToTimestamp {
    strict: bool,
}

impl UdfOp for TextToTimestamp {
    fn coerce(self, _name: &str, _arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(vec![types::VARCHAR])
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(types::TIMESTAMP)
    }

    fn invoke(self, _name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let tz = SessionTz::from_config(&args.config_options)?;
        invoke_rowwise(&args, |arrays: &[ArrayRef], rows: usize| {
            let text = arrays[0].as_string_view();
            let mut out = TimestampNanosecondBuilder::with_capacity(rows);
            for i in 0..rows {
                if text.is_null(i) {
                    out.append_null();
                    continue;
                }
                match parse_timestamp_text(text.value(i), &tz) {
                    Some(ns) => out.append_value(ns),
                    None if self.strict => {
                        return exec_err!("cannot cast '{}' to TIMESTAMP", text.value(i))
                    }
                    None => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The UDF behind `CAST`/`TRY_CAST` of text to TIMESTAMP.
pub(crate) fn text_to_timestamp(strict: bool) -> Arc<ScalarUDF> {
    static CAST: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    static TRY: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    let (cell, name) = if strict {
        (&CAST, "cast_to_timestamp")
    } else {
        (&TRY, "try_cast_to_timestamp")
    };
    Arc::clone(
        cell.get_or_init(|| op_udf(name, &[], TextToTimestamp { strict }, Volatility::Immutable)),
    )
}

//! Casts DataFusion does not do the SLS way.
//!
//! - `CAST(text AS TIMESTAMP)` reads the text as a wall time in the session zone
//!   (`YYYY-MM-DD HH:MM:SS[.fff]`, single-digit hours, `T`, a trailing zone overriding the
//!   session's); unparseable text is a row error for CAST and NULL for TRY_CAST.
//! - `CAST(x AS VARCHAR)` of a non-text value is its §18.4 rendering (`1.0`, `Infinity`,
//!   `2023-09-20 14:30:02.000` in the session zone, `[1,2]`), the same text the value has when it
//!   leaves SPL; `||` and `LIKE` use it too.
//! - `CAST(x AS JSON)` is the JSON value of x (Presto): text becomes a JSON string (`"abc"`),
//!   numbers and booleans JSON scalars, arrays and maps compact JSON; TIMESTAMP and DATE become
//!   JSON strings of their rendering.
use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, LargeStringBuilder, StringViewBuilder, TimestampNanosecondBuilder,
};
use arrow::datatypes::DataType;
use datafusion_common::{exec_err, Result};
use datafusion_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, Volatility};

use crate::functions::common::{invoke_rowwise, op_udf, UdfOp};
use crate::render::Renderer;
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

/// Renders any value as VARCHAR (§18.4) or as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Render {
    Text,
    Json,
}

impl UdfOp for Render {
    fn coerce(self, _name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        Ok(arg_types.to_vec())
    }

    fn return_type(self, _name: &str, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self {
            Render::Text => types::VARCHAR,
            Render::Json => types::JSON,
        })
    }

    fn invoke(self, _name: &str, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let renderer = Renderer::new(SessionTz::from_config(&args.config_options)?);
        invoke_rowwise(&args, |arrays: &[ArrayRef], rows: usize| {
            let a = arrays[0].as_ref();
            Ok(match self {
                Render::Text => {
                    let mut out = StringViewBuilder::with_capacity(rows);
                    for i in 0..rows {
                        out.append_option(renderer.text(a, i));
                    }
                    Arc::new(out.finish()) as ArrayRef
                }
                Render::Json => {
                    let mut out = LargeStringBuilder::with_capacity(rows, 0);
                    for i in 0..rows {
                        out.append_option(renderer.text(a, i).map(|t| json_text(a.data_type(), t)));
                    }
                    Arc::new(out.finish()) as ArrayRef
                }
            })
        })
    }
}

/// The JSON text of a value whose §18.4 rendering is `text`.
fn json_text(t: &DataType, text: String) -> String {
    let already_json = match t {
        DataType::Boolean
        | DataType::List(_)
        | DataType::LargeList(_)
        | DataType::Map(_, _)
        | DataType::Struct(_) => true,
        DataType::LargeUtf8 => true,
        // Integers are JSON numbers; NaN and the infinities are not, so they become strings.
        t if t.is_numeric() => text.parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    if already_json {
        text
    } else {
        serde_json::Value::String(text).to_string()
    }
}

/// The UDF behind `CAST(x AS VARCHAR)` of non-text values and `CAST(x AS JSON)`.
pub(crate) fn render(to: Render) -> Arc<ScalarUDF> {
    static TEXT: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    static JSON: OnceLock<Arc<ScalarUDF>> = OnceLock::new();
    let (cell, name) = match to {
        Render::Text => (&TEXT, "cast_to_varchar"),
        Render::Json => (&JSON, "cast_to_json"),
    };
    Arc::clone(cell.get_or_init(|| op_udf(name, &[], to, Volatility::Immutable)))
}

/// True when `CAST(x AS VARCHAR)` of type `t` is its §18.4 rendering (not text, not binary:
/// VARBINARY → VARCHAR decodes UTF-8).
pub(crate) fn renders_as_text(t: &DataType) -> bool {
    !matches!(
        t,
        DataType::Null
            | DataType::Utf8
            | DataType::Utf8View
            | DataType::LargeUtf8
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

//! Error rows (spec §18.11): a row that failed keeps its fields and gains `__error__`, a compact
//! JSON object with the error code, where it happened and the message, so the error stream is
//! both readable and machine-parseable.
use std::sync::Arc;

use arrow::array::{ArrayRef, StringViewArray};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use serde_json::{json, Map, Value};

use super::StageError;
use crate::batch::set_column;

/// The field that carries the error of an error row.
pub const ERROR_FIELD: &str = "__error__";

/// The `__error__` value: `{"code":…,"statement":…,"stage":…,"instruction":…,"line":…,"message":…}`
/// (statement/stage 0 and `instruction` `input` for decoding errors; `line` only for those).
pub fn error_value(
    code: &str,
    statement: usize,
    stage: usize,
    instruction: &str,
    line: Option<u64>,
    message: &str,
) -> String {
    let mut m = Map::new();
    m.insert("code".into(), json!(code));
    if stage > 0 {
        m.insert("statement".into(), json!(statement));
        m.insert("stage".into(), json!(stage));
    }
    m.insert("instruction".into(), json!(instruction));
    if let Some(line) = line {
        m.insert("line".into(), json!(line));
    }
    m.insert("message".into(), json!(message));
    Value::Object(m).to_string()
}

/// The failed rows of `e` with the `__error__` field set.
pub fn with_error_column(e: &StageError) -> Result<RecordBatch, ArrowError> {
    let value = error_value(
        e.code,
        e.statement,
        e.stage,
        e.instruction,
        None,
        &e.message,
    );
    let column: ArrayRef = Arc::new(StringViewArray::from_iter_values(std::iter::repeat_n(
        value.as_str(),
        e.rows.num_rows(),
    )));
    set_column(&e.rows, ERROR_FIELD, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_value_shape() {
        let v: Value =
            serde_json::from_str(&error_value("E2001", 1, 2, "extend", None, "bad")).unwrap();
        assert_eq!(v["code"], "E2001");
        assert_eq!(v["stage"], 2);
        assert_eq!(v["instruction"], "extend");
        assert_eq!(v["message"], "bad");
        let v: Value =
            serde_json::from_str(&error_value("E2002", 0, 0, "input", Some(7), "x")).unwrap();
        assert_eq!(v["line"], 7);
        assert!(v.get("stage").is_none());
    }
}

//! `parse-json [-mode=...] [-path='$.a'] [-prefix='p_'] field`: extracts the first level of a
//! JSON object into VARCHAR fields. Strings become their content, numbers and booleans their JSON
//! text, objects and arrays compact JSON text; a JSON `null` sets nothing (NULL is never the text
//! `null`, spec §18.3). Invalid JSON, a missing path or a non-object leaves the row unchanged.
//! Keys named like time fields are ignored. `-mode='preserve'` keeps existing non-NULL values.
use arrow::array::Array;
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use spl_parser::{Diagnostic, Ident, Instruction};

use super::{path_option, varchar_source, BatchError, DynamicFields, Operator, StageOutput};
use crate::expr::Session;
use crate::jsonpath::JsonPath;

#[derive(Debug)]
pub struct ParseJson {
    field: String,
    path: Option<JsonPath>,
    prefix: String,
    preserve: bool,
}

impl ParseJson {
    pub fn new(instr: &Instruction, field: &Ident) -> Result<ParseJson, Box<Diagnostic>> {
        let path = path_option(instr)?;
        Ok(ParseJson {
            field: field.name.clone(),
            path,
            prefix: instr.text("prefix").unwrap_or("").to_string(),
            preserve: instr.text("mode") == Some("preserve"),
        })
    }
}

/// The text a first-level JSON value becomes; `None` for JSON null.
fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(v.to_string()),
    }
}

impl Operator for ParseJson {
    fn name(&self) -> &'static str {
        "parse-json"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        let mut fields = DynamicFields::new(batch.num_rows());
        for row in 0..batch.num_rows() {
            if text.is_null(row) {
                continue;
            }
            let Ok(doc) = serde_json::from_str::<Value>(text.value(row)) else {
                continue;
            };
            let target = match &self.path {
                Some(p) => p.select_one(&doc),
                None => Some(&doc),
            };
            let Some(Value::Object(obj)) = target else {
                continue;
            };
            for (k, v) in obj {
                fields.set(format!("{}{k}", self.prefix), row, value_text(v));
            }
        }
        let out = fields.apply(batch, self.preserve)?;
        Ok(StageOutput::one(out))
    }
}

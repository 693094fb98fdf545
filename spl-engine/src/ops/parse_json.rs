//! `parse-json [-mode=...] [-path='$.a'] [-prefix='p_'] field`: extracts the first level of a
//! JSON object into VARCHAR fields. Strings become their content, numbers and booleans their JSON
//! text, objects and arrays compact JSON text; a JSON `null` sets nothing (NULL is never the text
//! `null`, spec §18.3). Invalid JSON, a missing path or a non-object leaves the row unchanged.
//! Keys named like time fields are ignored. `-mode='preserve'` keeps existing non-NULL values.
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, StringViewBuilder};
use arrow::record_batch::RecordBatch;
use serde_json::Value;
use spl_parser::{codes, Diagnostic, Ident, Instruction};

use super::{BatchError, Operator, StageOutput};
use crate::batch::{is_time_field, set_column};
use crate::expr::Session;
use crate::jsonpath::JsonPath;
use crate::render::Renderer;
use crate::types;

#[derive(Debug)]
pub struct ParseJson {
    field: String,
    path: Option<JsonPath>,
    prefix: String,
    preserve: bool,
}

impl ParseJson {
    pub fn new(instr: &Instruction, field: &Ident) -> Result<ParseJson, Box<Diagnostic>> {
        let path = match instr.text("path") {
            None => None,
            Some(p) => Some(JsonPath::parse(p).map_err(|e| {
                let span = instr.option("path").map(|o| o.span).unwrap_or(instr.span);
                Box::new(Diagnostic::error(
                    codes::INVALID_JSONPATH,
                    e.to_string(),
                    span,
                    "in -path",
                ))
            })?),
        };
        Ok(ParseJson {
            field: field.name.clone(),
            path: path.filter(|p| !p.is_root()),
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
        let Some(source) = batch
            .column_by_name(&self.field)
            .filter(|c| types::is_varchar(c.data_type()))
        else {
            return Ok(StageOutput::one(batch));
        };
        let source =
            arrow::compute::cast(source, &types::VARCHAR).map_err(|e| BatchError(e.to_string()))?;
        let text = source
            .as_any()
            .downcast_ref::<arrow::array::StringViewArray>()
            .expect("cast to Utf8View");
        let rows = batch.num_rows();
        // Output names in first-seen order, and their values per row.
        let mut order: Vec<String> = Vec::new();
        let mut values: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for row in 0..rows {
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
                let name = format!("{}{k}", self.prefix);
                if is_time_field(&name) {
                    continue;
                }
                let column = values.entry(name.clone()).or_insert_with(|| {
                    order.push(name);
                    vec![None; rows]
                });
                column[row] = value_text(v);
            }
        }
        let renderer = Renderer::default();
        let mut out = batch;
        for name in order {
            let new = &values[&name];
            let existing = out.column_by_name(&name).cloned();
            let mut b = StringViewBuilder::with_capacity(rows);
            for (row, v) in new.iter().enumerate() {
                let old = || {
                    existing
                        .as_ref()
                        .and_then(|c| renderer.text(c.as_ref(), row))
                };
                let chosen = match (v, self.preserve) {
                    (Some(_), true) => old().or_else(|| v.clone()),
                    (Some(v), false) => Some(v.clone()),
                    (None, _) => old(),
                };
                b.append_option(chosen);
            }
            out = set_column(&out, &name, Arc::new(b.finish()) as ArrayRef)
                .map_err(|e| BatchError(e.to_string()))?;
        }
        Ok(StageOutput::one(out))
    }
}

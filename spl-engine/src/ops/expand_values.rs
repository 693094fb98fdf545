//! `expand-values [-path='$.a'] [-keep] [-limit=N] [-keys] field [as output]`: expands the first
//! level of a JSON value into rows (spec §18.10). An array gives one row per element; an object
//! one row per key (the value in the output; with the `-keys` extension the key in
//! `<output>_key`). Every other field is copied. An empty array or object, a non-JSON value or a
//! missing path leaves the row unchanged. Values are VARCHAR: strings unquoted, everything else
//! JSON text (numbers as written); a JSON null leaves the output absent. Without `-keep` the
//! source field is removed from expanded rows (when the output has another name). `-limit` caps
//! rows per input row.
//!
//! Budgets: every input row reports its output rows and their estimated bytes (the parsed key
//! and value, copied again into the output column, plus one view or value per copied column)
//! to [`crate::budget`], so one row of a huge array stops at the batch's memory ceiling or
//! deadline instead of building all of its rows first.
use std::sync::Arc;

use arrow::array::{Array, StringViewArray, UInt32Array};
use arrow::record_batch::RecordBatch;
use spl_parser::{codes, Diagnostic, Ident, Instruction};

use super::parse_json::{first_level, FirstLevel};
use super::{path_option, varchar_source, BatchError, Operator, StageOutput};
use crate::batch::{from_columns, is_time_field, set_column};
use crate::budget;
use crate::expr::Session;
use crate::jsonpath::JsonPath;

#[derive(Debug)]
pub struct ExpandValues {
    field: String,
    output: String,
    path: Option<JsonPath>,
    keep: bool,
    keys: bool,
    limit: Option<usize>,
}

impl ExpandValues {
    pub fn new(
        instr: &Instruction,
        field: &Ident,
        output: Option<&Ident>,
    ) -> Result<ExpandValues, Box<Diagnostic>> {
        let path = path_option(instr)?;
        let output = output.unwrap_or(field);
        if is_time_field(&output.name) {
            return Err(Box::new(Diagnostic::error(
                codes::TIME_FIELD,
                "`expand-values` cannot write a time field",
                output.span,
                "time field",
            )));
        }
        Ok(ExpandValues {
            field: field.name.clone(),
            output: output.name.clone(),
            path,
            keep: instr.has("keep"),
            keys: instr.has("keys"),
            limit: instr.int("limit").map(|n| n as usize),
        })
    }
}

impl Operator for ExpandValues {
    fn name(&self) -> &'static str {
        "expand-values"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let Some(text) = varchar_source(&batch, &self.field)? else {
            return Ok(StageOutput::one(batch));
        };
        // For each output row: the input row it comes from, and its (key, value) when expanded.
        let mut take: Vec<u32> = Vec::new();
        let mut expanded: Vec<Option<(Option<String>, Option<String>)>> = Vec::new();
        // Bytes of one output row besides its key and value: the take index, the `expanded`
        // entry, and a view or value (at most 16 bytes) per copied column.
        let row_bytes = std::mem::size_of::<u32>()
            + std::mem::size_of::<Option<(Option<String>, Option<String>)>>()
            + 16 * (batch.num_columns() + 2);
        let over = |e: budget::Exceeded| BatchError::new(e.to_string());
        for row in 0..batch.num_rows() {
            budget::tick(1).map_err(over)?;
            let mut items: Vec<(Option<String>, Option<String>)> = match (!text.is_null(row))
                .then(|| first_level(text.value(row), self.path.as_ref()))
                .flatten()
            {
                Some(FirstLevel::Array(a)) => a.into_iter().map(|v| (None, v)).collect(),
                Some(FirstLevel::Object(o)) => o.into_iter().map(|(k, v)| (Some(k), v)).collect(),
                None => Vec::new(),
            };
            if items.is_empty() {
                take.push(row as u32);
                expanded.push(None);
                continue;
            }
            items.truncate(self.limit.unwrap_or(usize::MAX));
            let text_bytes: usize = items
                .iter()
                .map(|(k, v)| k.as_ref().map_or(0, String::len) + v.as_ref().map_or(0, String::len))
                .sum();
            budget::tick(items.len()).map_err(over)?;
            // The parsed text is copied once more into the output columns.
            budget::charge(items.len() * row_bytes + 2 * text_bytes).map_err(over)?;
            for item in items {
                take.push(row as u32);
                expanded.push(Some(item));
            }
        }
        let indices = UInt32Array::from(take);
        let columns = batch
            .columns()
            .iter()
            .map(|c| arrow::compute::take(c.as_ref(), &indices, None))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BatchError::new(e.to_string()))?;
        let fields = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut out = from_columns(fields, columns, indices.len())
            .map_err(|e| BatchError::new(e.to_string()))?;
        let err = |e: arrow::error::ArrowError| BatchError::new(e.to_string());
        let source_now = varchar_source(&out, &self.field)?.expect("source column is still there");
        // The output: the element value for expanded rows, the old value elsewhere.
        let old_output = varchar_source(&out, &self.output)?;
        let values: StringViewArray = expanded
            .iter()
            .enumerate()
            .map(|(i, e)| match e {
                Some((_, v)) => v.clone(),
                None => old_output
                    .as_ref()
                    .filter(|c| !c.is_null(i))
                    .map(|c| c.value(i).to_string()),
            })
            .collect();
        if !self.keep && self.output != self.field {
            let source: StringViewArray = expanded
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    if e.is_some() || source_now.is_null(i) {
                        None
                    } else {
                        Some(source_now.value(i).to_string())
                    }
                })
                .collect();
            out = set_column(&out, &self.field, Arc::new(source)).map_err(err)?;
        }
        out = set_column(&out, &self.output, Arc::new(values)).map_err(err)?;
        if self.keys {
            let keys: StringViewArray = expanded
                .iter()
                .map(|e| e.as_ref().and_then(|(k, _)| k.clone()))
                .collect();
            out = set_column(&out, &format!("{}_key", self.output), Arc::new(keys)).map_err(err)?;
        }
        Ok(StageOutput::one(out))
    }
}

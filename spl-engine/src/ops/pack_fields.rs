//! `pack-fields [-keep] [-ltrim='p'] [-include='re'] [-exclude='re'] as output`: packs VARCHAR
//! fields into one JSON object text (compact, keys in field order, values as JSON strings).
//! `-include` (default `.*`) and `-exclude` are full matches on the field name; exclude wins.
//! Time fields and typed (non-VARCHAR) fields are not packed. Packed fields are removed unless
//! `-keep`. A row with no value to pack gets `{}`.
use std::sync::Arc;

use arrow::array::{Array, AsArray, StringViewBuilder};
use arrow::record_batch::RecordBatch;
use regex::Regex;
use spl_parser::{Diagnostic, Ident, Instruction};

use super::parse_regexp::compile_regex;
use super::{BatchError, Operator, StageOutput};
use crate::batch::{is_time_field, retain_columns, set_column};
use crate::expr::Session;
use crate::types;

#[derive(Debug)]
pub struct PackFields {
    output: String,
    include: Regex,
    exclude: Option<Regex>,
    ltrim: String,
    keep: bool,
}

/// Compiles an option's regex as a full match on the field name.
fn full_match(instr: &Instruction, option: &str) -> Result<Option<Regex>, Box<Diagnostic>> {
    let Some(pattern) = instr.text(option) else {
        return Ok(None);
    };
    let span = instr.option(option).map(|o| o.span).unwrap_or(instr.span);
    compile_regex(&format!("^(?:{pattern})$"), span).map(Some)
}

impl PackFields {
    pub fn new(instr: &Instruction, output: &Ident) -> Result<PackFields, Box<Diagnostic>> {
        Ok(PackFields {
            output: output.name.clone(),
            include: full_match(instr, "include")?
                .unwrap_or_else(|| Regex::new("^(?:.*)$").expect("valid regex")),
            exclude: full_match(instr, "exclude")?,
            ltrim: instr.text("ltrim").unwrap_or("").to_string(),
            keep: instr.has("keep"),
        })
    }

    fn packs(&self, name: &str) -> bool {
        !is_time_field(name)
            && self.include.is_match(name)
            && !self.exclude.as_ref().is_some_and(|e| e.is_match(name))
    }
}

impl Operator for PackFields {
    fn name(&self) -> &'static str {
        "pack-fields"
    }

    fn process(&self, batch: RecordBatch, _session: &Session) -> Result<StageOutput, BatchError> {
        let schema = batch.schema();
        let packed: Vec<usize> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| types::is_varchar(f.data_type()) && self.packs(f.name()))
            .map(|(i, _)| i)
            .collect();
        let cols: Vec<_> = packed
            .iter()
            .map(|i| {
                arrow::compute::cast(batch.column(*i), &types::VARCHAR)
                    .map(|c| c.as_string_view().clone())
            })
            .collect::<Result<_, _>>()
            .map_err(|e| BatchError::new(e.to_string()))?;
        let keys: Vec<String> = packed
            .iter()
            .map(|i| {
                let name = schema.field(*i).name();
                name.strip_prefix(self.ltrim.as_str())
                    .unwrap_or(name)
                    .to_string()
            })
            .collect();
        let mut out = StringViewBuilder::with_capacity(batch.num_rows());
        for row in 0..batch.num_rows() {
            let mut obj = serde_json::Map::new();
            for (k, col) in keys.iter().zip(&cols) {
                if !col.is_null(row) {
                    obj.insert(
                        k.clone(),
                        serde_json::Value::String(col.value(row).to_string()),
                    );
                }
            }
            out.append_value(serde_json::Value::Object(obj).to_string());
        }
        let remaining = if self.keep {
            batch
        } else {
            retain_columns(&batch, |i, _| !packed.contains(&i))
                .map_err(|e| BatchError::new(e.to_string()))?
        };
        let result = set_column(&remaining, &self.output, Arc::new(out.finish()))
            .map_err(|e| BatchError::new(e.to_string()))?;
        Ok(StageOutput::one(result))
    }
}

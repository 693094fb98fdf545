//! `where <expr>`: keeps the rows whose predicate is TRUE; FALSE and NULL drop the row.
//!
//! The optimizer may merge adjacent `where` stages into one ([`Where::merge`]): the predicates
//! then run in order, each on the rows the previous one kept, exactly as separate stages would.
//! A predicate of the form `CAST(field AS BIGINT) >= 500` is first tried on its own fast path
//! ([`super::text_int_compare`]).
use arrow::array::{Array, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use spl_parser::Expr;

use super::text_int_compare::TextIntCompare;
use super::{evaluate_isolating, BatchError, Operator, StageOutput};
use crate::expr::{CompiledExpr, Session};

#[derive(Debug)]
pub struct Where {
    /// Each predicate with the part (original stage) it came from and its fast path, if any.
    predicates: Vec<(CompiledExpr, usize, Option<TextIntCompare>)>,
}

impl Where {
    pub fn new(predicate: Expr) -> Where {
        let fast = TextIntCompare::of(&predicate);
        Where {
            predicates: vec![(CompiledExpr::new(predicate), 0, fast)],
        }
    }

    /// The same `where` with its parts numbered from `first` (a `where` that is not the first
    /// part of its stage).
    pub fn from_part(mut self, first: usize) -> Where {
        for (_, part, _) in &mut self.predicates {
            *part += first;
        }
        self
    }

    /// Appends the predicates of `next` (the `where` right after this one); its parts are
    /// numbered after `offset`.
    pub fn merge(&mut self, next: Where, offset: usize) {
        self.predicates.extend(
            next.predicates
                .into_iter()
                .map(|(p, part, fast)| (p, part + offset, fast)),
        );
    }

    /// The predicates, in the order they run.
    pub fn predicates(&self) -> impl Iterator<Item = &Expr> {
        self.predicates.iter().map(|(p, _, _)| p.expr())
    }

    /// The rows kept when every predicate evaluates without a row error and to a usable type;
    /// `None` otherwise (the caller then falls back to the isolating path, [`Operator::process`]).
    pub fn try_filter(&self, batch: &RecordBatch, session: &Session) -> Option<RecordBatch> {
        self.try_select(batch, session, false).map(|(kept, _)| kept)
    }

    /// [`Where::try_filter`] that also gives the positions in `batch` of the kept rows, in
    /// order, when `positions` is true (an empty list otherwise).
    pub fn try_select(
        &self,
        batch: &RecordBatch,
        session: &Session,
        positions: bool,
    ) -> Option<(RecordBatch, Vec<u32>)> {
        let mut batch = batch.clone();
        let mut kept: Vec<u32> = if positions {
            (0..batch.num_rows() as u32).collect()
        } else {
            Vec::new()
        };
        for (p, _, fast) in &self.predicates {
            if batch.num_rows() == 0 {
                break;
            }
            let mask = match fast.as_ref().and_then(|f| f.mask(&batch)) {
                Some(m) => m,
                None => mask(&p.evaluate(&batch, session).ok()?).ok()?,
            };
            batch = arrow::compute::filter_record_batch(&batch, &mask).ok()?;
            if positions {
                let mut i = 0;
                kept.retain(|_| {
                    i += 1;
                    mask.value(i - 1) && !mask.is_null(i - 1)
                });
            }
        }
        Some((batch, kept))
    }
}

impl Operator for Where {
    fn name(&self) -> &'static str {
        "where"
    }

    fn process(&self, batch: RecordBatch, session: &Session) -> Result<StageOutput, BatchError> {
        let mut batch = batch;
        let mut errors = Vec::new();
        for (p, part, fast) in &self.predicates {
            // Separate stages never see an empty batch: stop where they would.
            if batch.num_rows() == 0 {
                break;
            }
            let in_part = |mut e: BatchError| {
                e.part = *part;
                e
            };
            if let Some(mask) = fast.as_ref().and_then(|f| f.mask(&batch)) {
                batch = arrow::compute::filter_record_batch(&batch, &mask)
                    .map_err(|e| in_part(BatchError::new(e.to_string())))?;
                continue;
            }
            let out = evaluate_isolating(p, batch, session).map_err(in_part)?;
            errors.extend(out.errors.into_iter().map(|mut e| {
                e.part = *part;
                e
            }));
            let mask = mask(&out.values).map_err(in_part)?;
            batch = arrow::compute::filter_record_batch(&out.batch, &mask)
                .map_err(|e| in_part(BatchError::new(e.to_string())))?;
        }
        Ok(StageOutput {
            batches: vec![batch],
            errors,
        })
    }
}

/// The predicate's values as a keep-mask: booleans as they are, NULL drops, text as
/// [`text_as_boolean`], numbers are true unless 0.
fn mask(values: &arrow::array::ArrayRef) -> Result<BooleanArray, BatchError> {
    Ok(match values.data_type() {
        DataType::Boolean => values.as_boolean().clone(),
        DataType::Null => BooleanArray::from(vec![None; values.len()]),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            text_as_boolean(values.as_ref())
        }
        t if t.is_numeric() => arrow::compute::cast(values, &DataType::Boolean)
            .map_err(|e| BatchError::new(e.to_string()))?
            .as_boolean()
            .clone(),
        other => {
            return Err(BatchError::new(format!(
                "the `where` condition must be a boolean, found {other}"
            )))
        }
    })
}

/// A text condition as a boolean, as `TRY_CAST(x AS BOOLEAN)` reads it: `true`/`false`, `t`/`f`,
/// `1`/`0` (any case, surrounding spaces ignored); any other text is NULL, so the row is dropped.
fn text_as_boolean(values: &dyn arrow::array::Array) -> BooleanArray {
    let renderer = crate::render::Renderer::default();
    let text = |i: usize| renderer.text(values, i);
    (0..values.len())
        .map(|i| {
            let t = text(i)?;
            match t.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Some(true),
                "false" | "f" | "0" => Some(false),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, StringViewArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    fn predicate(text: &str) -> Expr {
        let p = spl_parser::parse(&format!("* | where {text}")).unwrap();
        match &p.statements[0].pipeline.stages[0].kind {
            spl_parser::InstructionKind::Where { predicate } => predicate.clone(),
            other => panic!("{other:?}"),
        }
    }

    /// What a stage keeps and the errors it reports, as text.
    fn outcome(stage: &Where, values: &[Option<&str>]) -> (Vec<Option<String>>, Vec<String>) {
        let column: ArrayRef = Arc::new(StringViewArray::from(values.to_vec()));
        let schema = Schema::new(vec![Field::new("status", DataType::Utf8View, true)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![column]).unwrap();
        let out = stage.process(batch.clone(), &Session::default()).unwrap();
        let kept = out
            .batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_string_view()
                    .iter()
                    .map(|v| v.map(String::from))
                    .collect::<Vec<_>>()
            })
            .collect();
        let errors = out
            .errors
            .iter()
            .map(|e| format!("{} {} {}", e.code, e.message, e.rows.num_rows()))
            .collect();
        assert_eq!(
            stage.try_filter(&batch, &Session::default()).is_some(),
            out.errors.is_empty()
        );
        (kept, errors)
    }

    /// The fast path keeps exactly the rows, and reports exactly the errors, of the general
    /// path: every comparison both ways round, plain integers with NULLs, and batches with
    /// values it leaves to the general path (a sign, spaces, a fraction, a word, 19 digits).
    #[test]
    fn the_integer_fast_path_agrees_with_the_general_path() {
        let batches: [&[Option<&str>]; 4] = [
            &[
                Some("200"),
                Some("500"),
                None,
                Some("503"),
                Some("-1"),
                Some("0499"),
            ],
            &[Some("500"), Some("+501"), Some(" 502")],
            &[Some("404"), Some("abc"), Some("1.5"), None],
            &[Some("1234567890123456789"), Some("600")],
        ];
        let mut fast_used = 0;
        for cast in ["cast", "try_cast"] {
            for op in ["<", "<=", ">", ">=", "=", "!="] {
                for text in [
                    format!("{cast}(status as bigint) {op} 500"),
                    format!("500 {op} {cast}(status as bigint)"),
                ] {
                    let fast = Where::new(predicate(&text));
                    assert!(fast.predicates[0].2.is_some(), "{text}");
                    let mut general = Where::new(predicate(&text));
                    general.predicates[0].2 = None;
                    for values in batches {
                        assert_eq!(
                            outcome(&fast, values),
                            outcome(&general, values),
                            "{text} on {values:?}"
                        );
                        let column: ArrayRef = Arc::new(StringViewArray::from(values.to_vec()));
                        let schema =
                            Schema::new(vec![Field::new("status", DataType::Utf8View, true)]);
                        let batch = RecordBatch::try_new(Arc::new(schema), vec![column]).unwrap();
                        fast_used += usize::from(
                            fast.predicates[0]
                                .2
                                .as_ref()
                                .unwrap()
                                .mask(&batch)
                                .is_some(),
                        );
                    }
                }
            }
        }
        // Only the first batch is all plain integers.
        assert_eq!(fast_used, 24);
    }
}

//! Constant folding: a sub-expression of a `where` or `extend` that reads no field and calls
//! only deterministic functions is evaluated once, at compile time, by the engine's own
//! evaluator on a one-row batch, and replaced by the literal of its value.
//!
//! It folds the SPL expressions the plan's stages hold, because operators keep SPL expressions
//! and lower them per batch schema. An SPL literal has one of five types — BIGINT (`3`, negative as `-3`), DOUBLE
//! (`2.5`), VARCHAR, BOOLEAN and the untyped NULL — so a value folds only when its literal
//! evaluates to exactly the same Arrow array (type and value); anything else (a typed NULL, an
//! INTEGER, a TIMESTAMP, NaN) stays as written. A sub-expression whose evaluation fails
//! (`cast('abc' as bigint)`) stays too, so the row error still happens at run time, row by row.
//! Nothing inside a lambda body is folded on its own (a `try` there has other semantics), and
//! a folding that makes the expression fail to compile (a literal-only check such as a
//! `regexp_*` pattern) is undone.
//!
//! Folding has its own budget (it runs at compile time, where no batch budget applies, and a
//! server compiles every query text it is sent): each evaluation runs in a
//! [`crate::budget`] scope of [`FOLD_TIME`] and [`FOLD_MEMORY`]. An evaluation over it leaves
//! the expression as written, and its parts too (they are as costly or are cheap to leave), so
//! the work happens at run time under the batch's budgets.
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Float64Type, Int64Type, Schema};
use datafusion_common::DFSchema;
use spl_parser::ast::{Expr, ExprKind, Literal, UnaryOp};
use spl_parser::Span;

use crate::budget;
use crate::expr::Session;
use crate::plan::Chain;

/// Time one compile-time evaluation may take.
pub const FOLD_TIME: Duration = Duration::from_millis(50);
/// Bytes one compile-time evaluation may build.
pub const FOLD_MEMORY: usize = 4 * 1024 * 1024;

/// Folds the expressions of every stage; a note per folded sub-expression.
pub fn run(chain: &mut Chain, session: &Session) -> Vec<String> {
    let mut notes = Vec::new();
    for i in 0..chain.stages.len() {
        let label = super::label(chain, &chain.stages[i].parts);
        for e in chain.stages[i].expressions_mut() {
            for (from, to) in fold_expr(e, session) {
                notes.push(format!("{label}: `{from}` folded to `{to}`"));
            }
        }
    }
    notes
}

/// Folds the constant sub-expressions of `e` in place; returns each folded sub-expression and
/// its literal, as SPL text.
pub fn fold_expr(e: &mut Expr, session: &Session) -> Vec<(String, String)> {
    let original = e.clone();
    let mut folded = Vec::new();
    walk(e, session, &mut folded);
    if !folded.is_empty() && crate::expr::lower(e, &DFSchema::empty()).is_err() {
        *e = original;
        folded.clear();
    }
    folded
}

/// Folds the largest constant sub-trees, top down.
fn walk(e: &mut Expr, session: &Session, folded: &mut Vec<(String, String)>) {
    if matches!(
        e.kind,
        ExprKind::Literal(_) | ExprKind::Column(_) | ExprKind::Lambda { .. }
    ) {
        return;
    }
    if is_constant(e) {
        match evaluate_to_literal(e, session) {
            Ok(Some(lit)) => {
                // `-3` is already its own literal.
                if lit != *e {
                    folded.push((e.to_string(), lit.to_string()));
                    *e = lit;
                }
                return;
            }
            Ok(None) => {}
            // Over the folding budget: stays as written, parts included.
            Err(_) => return,
        }
    }
    e.for_each_child_mut(&mut |c, lambda_body| {
        if !lambda_body {
            walk(c, session, folded);
        }
    });
}

/// True when `e` reads no field (lambda parameters are not fields) and every function it calls
/// gives the same value for the same arguments (not `now()`, `random()`, …).
fn is_constant(e: &Expr) -> bool {
    crate::plan::columns(e).next().is_none() && crate::functions::is_deterministic(e)
}

/// The literal whose value is exactly what `e` evaluates to, if there is one; an error when the
/// evaluation went over the folding budget.
fn evaluate_to_literal(e: &Expr, session: &Session) -> Result<Option<Expr>, budget::Exceeded> {
    let Some(batch) = one_row() else {
        return Ok(None);
    };
    let scope = budget::enter(Instant::now().checked_add(FOLD_TIME), Some(FOLD_MEMORY));
    let value = crate::expr::evaluate(e, &batch, session);
    if let Some(hit) = scope.hit() {
        return Err(hit);
    }
    drop(scope);
    let Ok(value) = value else {
        return Ok(None);
    };
    if value.len() != 1 {
        return Ok(None);
    }
    let Some(lit) = literal_for(&value, e.span) else {
        return Ok(None);
    };
    let again = crate::expr::evaluate(&lit, &batch, session).ok();
    Ok(again
        .is_some_and(|a| a.as_ref() == value.as_ref())
        .then_some(lit))
}

/// A batch with one row and no fields.
fn one_row() -> Option<RecordBatch> {
    RecordBatch::try_new_with_options(
        Arc::new(Schema::empty()),
        Vec::new(),
        &RecordBatchOptions::new().with_row_count(Some(1)),
    )
    .ok()
}

/// The SPL literal for the single value of `value`, when its type has one.
fn literal_for(value: &ArrayRef, span: Span) -> Option<Expr> {
    let lit = |l: Literal| Expr::new(ExprKind::Literal(l), span);
    let number = |text: String, negative: bool| {
        let n = lit(Literal::Number(text));
        if negative {
            Expr::new(
                ExprKind::Unary {
                    op: UnaryOp::Neg,
                    expr: Box::new(n),
                },
                span,
            )
        } else {
            n
        }
    };
    if value.is_null(0) {
        // Only an untyped NULL is the literal NULL; `cast(NULL AS BIGINT)` keeps its type.
        return (value.data_type() == &DataType::Null).then(|| lit(Literal::Null));
    }
    Some(match value.data_type() {
        DataType::Boolean => lit(Literal::Bool(value.as_boolean().value(0))),
        DataType::Utf8View => lit(Literal::String(value.as_string_view().value(0).to_string())),
        DataType::Int64 => {
            let v = value.as_primitive::<Int64Type>().value(0);
            number(v.unsigned_abs().to_string(), v < 0)
        }
        DataType::Float64 => {
            let v = value.as_primitive::<Float64Type>().value(0);
            // `{:?}` keeps a `.0` or an exponent, so the text reads back as DOUBLE.
            let text = format!("{:?}", v.abs());
            if !v.is_finite() || text.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            number(text, v.is_sign_negative())
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(text: &str) -> (String, Vec<(String, String)>) {
        let program = spl_parser::parse(&format!("* | extend x = {text}")).unwrap();
        let spl_parser::InstructionKind::Extend { assignments } =
            &program.statements[0].pipeline.stages[0].kind
        else {
            panic!("not an extend")
        };
        let mut e = assignments[0].value.clone();
        let notes = fold_expr(&mut e, &Session::default());
        (e.to_string(), notes)
    }

    #[test]
    fn folds_constants_keeping_their_type() {
        assert_eq!(fold("1 + 2 * 3").0, "7");
        assert_eq!(fold("500 * 1000").0, "500000");
        assert_eq!(fold("cast('500' AS BIGINT)").0, "500");
        assert_eq!(fold("lower('ABC')").0, "'abc'");
        assert_eq!(fold("1.5 * 2").0, "3.0");
        assert_eq!(fold("0 - 7").0, "-7");
        assert_eq!(fold("1 < 2").0, "TRUE");
        assert_eq!(fold("a + (2 * 3)").0, "a + 6");
        assert_eq!(fold("NULL").1, vec![]);
    }

    #[test]
    fn leaves_what_a_literal_cannot_say_or_what_fails() {
        // Typed NULL, INTEGER, TIMESTAMP, NaN: no literal of that type.
        for text in [
            "cast(NULL AS BIGINT)",
            "cast(1 AS INTEGER)",
            "from_unixtime(0)",
            "nan()",
            "cast('abc' AS BIGINT)",
            "9223372036854775807 + 1",
            "now()",
            "random()",
            "a",
        ] {
            let (after, notes) = fold(text);
            assert!(notes.is_empty(), "{text} folded: {after}");
        }
        // The failing part stays, the rest folds.
        assert_eq!(
            fold("cast('abc' AS BIGINT) + (1 + 1)").0,
            "CAST('abc' AS BIGINT) + 2"
        );
    }

    #[test]
    fn folding_over_its_budget_leaves_the_expression_as_written() {
        // 10,000 × 10,000 elements: far over the folding budget.
        let text = "reduce(flatten(transform(sequence(1, 10000), x -> sequence(1, 10000))), 0, (s, x) -> s + x, s -> s)";
        let (after, notes) = fold(text);
        assert!(notes.is_empty(), "{after}");
        assert_eq!(after, fold_free(text));
        // Its parts stay too (each would cost as much again), cheap ones included.
        let (after, notes) = fold(&format!("{text} + (1 + 1)"));
        assert!(notes.is_empty(), "{after}");
        // The budget was this evaluation's only: the next one folds.
        assert_eq!(fold("1 + 1").0, "2");
    }

    /// `text` as the parser prints it, without folding.
    fn fold_free(text: &str) -> String {
        let program = spl_parser::parse(&format!("* | extend x = {text}")).unwrap();
        let spl_parser::InstructionKind::Extend { assignments } =
            &program.statements[0].pipeline.stages[0].kind
        else {
            panic!("not an extend")
        };
        assignments[0].value.to_string()
    }

    #[test]
    fn a_pattern_that_would_fail_as_a_literal_is_not_folded() {
        // As a literal this pattern is a compile-time error; computed it fails per row.
        let (after, notes) = fold("regexp_like(a, '(' || '')");
        assert!(notes.is_empty(), "{after}");
    }
}

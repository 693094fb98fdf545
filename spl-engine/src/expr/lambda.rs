//! Lambdas and higher-order functions (spec §7.9, §7.10): `transform(a, x -> x + 1)`.
//!
//! They use DataFusion's higher-order function support: a call lowers to
//! `Expr::HigherOrderFunction` whose lambda arguments are `Expr::Lambda` with
//! `Expr::LambdaVariable` parameters, and DataFusion plans the lambda body as a physical
//! expression over a batch of the flattened elements (captured outer columns repeated per
//! element). Each lambda body is therefore evaluated vectorised over all elements of all rows
//! at once; the kernels are in [`crate::functions::array`] and [`crate::functions::map`].
//!
//! Lowering types a lambda's parameters from the function's other arguments before lowering
//! its body, so SLS coercion applies inside lambdas as everywhere else. Parameters shadow
//! fields of the same name; internally they get names no field can have (a control character
//! and the nesting depth), because DataFusion rejects a batch field and a parameter that share a
//! name.
//!
//! Layering: the function catalog (`functions/`) sits below expressions. It lists the
//! higher-order functions with a placeholder UDF (`functions::common::lambda_placeholder`) and
//! holds their element kernels; this module, one layer up, owns lambda lowering and the
//! DataFusion higher-order UDFs that call those kernels. So the imports run one way:
//! expr → functions, never back.
//!
//! This file also holds the conversions lowering needs for ARRAY/MAP values: [`fit`] (casts,
//! reading JSON as ARRAY/MAP) and [`json_cast`].
//!
//! A lambda body is an ordinary expression, lowered by the expression lowerer, which calls into
//! this file for higher-order calls. So that imports still run one way (the lowerer imports this
//! file, never the reverse), this file states what it needs from a lowerer as the trait
//! [`LowerBody`], and the lowerer passes itself in as a `&dyn LowerBody`.
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion_common::{exec_err, plan_err, Result, ScalarValue};
use datafusion_expr::expr::{HigherOrderFunction, Lambda, LambdaVariable, ScalarFunction};
use datafusion_expr::{
    ColumnarValue, Expr, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs, HigherOrderSignature,
    HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument, LambdaParametersProgress, ValueOrLambda,
    Volatility,
};
use spl_parser::ast::{self, ExprKind};
use spl_parser::{codes, Diagnostic};

use super::coerce;
use crate::functions::array::{
    self, coerce_list, element_type, json_cast_udf, list_of, param_field, Match,
};
use crate::functions::map::{self, coerce_map, key_value_types, map_type};

type R<T> = std::result::Result<T, Box<Diagnostic>>;

/// What lowering a higher-order call needs from the expression lowerer that called it.
pub(super) trait LowerBody {
    /// Lowers `e` in the current lambda scope; returns its type too.
    fn typed(&self, e: &ast::Expr) -> R<(Expr, DataType)>;
    /// The lambda parameters in scope, innermost last: SPL name and the lambda variable.
    fn scope(&self) -> &[(String, Expr)];
    /// Lowers `e` with `scope` as the lambda parameters in scope; returns its type too.
    fn typed_in(&self, scope: Vec<(String, Expr)>, e: &ast::Expr) -> R<(Expr, DataType)>;
}

/// The higher-order functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Hof {
    Transform,
    Filter,
    Reduce,
    AnyMatch,
    AllMatch,
    NoneMatch,
    ZipWith,
    MapFilter,
    TransformKeys,
    TransformValues,
    MapZipWith,
}

/// One argument position: a value, or a lambda with this many parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Value,
    Lambda(usize),
}

impl Hof {
    const ALL: [Hof; 11] = [
        Hof::Transform,
        Hof::Filter,
        Hof::Reduce,
        Hof::AnyMatch,
        Hof::AllMatch,
        Hof::NoneMatch,
        Hof::ZipWith,
        Hof::MapFilter,
        Hof::TransformKeys,
        Hof::TransformValues,
        Hof::MapZipWith,
    ];

    fn name(self) -> &'static str {
        match self {
            Hof::Transform => "transform",
            Hof::Filter => "filter",
            Hof::Reduce => "reduce",
            Hof::AnyMatch => "any_match",
            Hof::AllMatch => "all_match",
            Hof::NoneMatch => "none_match",
            Hof::ZipWith => "zip_with",
            Hof::MapFilter => "map_filter",
            Hof::TransformKeys => "transform_keys",
            Hof::TransformValues => "transform_values",
            Hof::MapZipWith => "map_zip_with",
        }
    }

    fn from_name(name: &str) -> Option<Hof> {
        Hof::ALL.into_iter().find(|h| h.name() == name)
    }

    fn shape(self) -> &'static [Slot] {
        use Slot::*;
        match self {
            Hof::Transform | Hof::Filter | Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => {
                &[Value, Lambda(1)]
            }
            Hof::Reduce => &[Value, Value, Lambda(2), Lambda(1)],
            Hof::ZipWith => &[Value, Value, Lambda(2)],
            Hof::MapFilter | Hof::TransformKeys | Hof::TransformValues => &[Value, Lambda(2)],
            Hof::MapZipWith => &[Value, Value, Lambda(3)],
        }
    }

    /// True when the (single) lambda is a predicate.
    fn is_predicate(self) -> bool {
        matches!(
            self,
            Hof::Filter | Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch | Hof::MapFilter
        )
    }

    fn on_maps(self) -> bool {
        matches!(
            self,
            Hof::MapFilter | Hof::TransformKeys | Hof::TransformValues | Hof::MapZipWith
        )
    }
}

/// A higher-order function as a DataFusion [`HigherOrderUDFImpl`].
#[derive(Debug, PartialEq, Eq, Hash)]
struct HofUdf {
    op: Hof,
    signature: HigherOrderSignature,
}

fn hof_udf(op: Hof) -> Arc<HigherOrderUDF> {
    Arc::new(HigherOrderUDF::new_from_impl(HofUdf {
        op,
        signature: HigherOrderSignature::user_defined(Volatility::Immutable),
    }))
}

fn values_of<V: Clone, L>(args: &[ValueOrLambda<V, L>]) -> Vec<V> {
    args.iter()
        .filter_map(|a| match a {
            ValueOrLambda::Value(v) => Some(v.clone()),
            ValueOrLambda::Lambda(_) => None,
        })
        .collect()
}

fn lambdas_of<V, L>(args: &[ValueOrLambda<V, L>]) -> Vec<&L> {
    args.iter()
        .filter_map(|a| match a {
            ValueOrLambda::Lambda(l) => Some(l),
            ValueOrLambda::Value(_) => None,
        })
        .collect()
}

impl HofUdf {
    /// The parameter types of each lambda, from the value argument types.
    fn params(&self, values: &[DataType]) -> Result<Vec<Vec<DataType>>> {
        let name = self.op.name();
        let elem = |i: usize| -> Result<DataType> {
            match values.get(i).and_then(element_type) {
                Some(e) => Ok(e.clone()),
                None => plan_err!("{name}: argument {} must be an ARRAY", i + 1),
            }
        };
        let kv = |i: usize| -> Result<(DataType, DataType)> {
            match values.get(i).and_then(key_value_types) {
                Some(kv) => Ok(kv),
                None => plan_err!("{name}: argument {} must be a MAP", i + 1),
            }
        };
        Ok(match self.op {
            Hof::Transform | Hof::Filter | Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => {
                vec![vec![elem(0)?]]
            }
            Hof::Reduce => {
                let acc = values.get(1).cloned().unwrap_or(DataType::Null);
                vec![vec![acc.clone(), elem(0)?], vec![acc]]
            }
            Hof::ZipWith => vec![vec![elem(0)?, elem(1)?]],
            Hof::MapFilter | Hof::TransformKeys | Hof::TransformValues => {
                let (k, v) = kv(0)?;
                vec![vec![k, v]]
            }
            Hof::MapZipWith => {
                let ((k, v1), (_, v2)) = (kv(0)?, kv(1)?);
                vec![vec![k, v1, v2]]
            }
        })
    }
}

impl HigherOrderUDFImpl for HofUdf {
    fn name(&self) -> &str {
        self.op.name()
    }

    fn signature(&self) -> &HigherOrderSignature {
        &self.signature
    }

    fn coerce_value_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.op.name();
        let want = self
            .op
            .shape()
            .iter()
            .filter(|s| **s == Slot::Value)
            .count();
        if t.len() != want {
            return plan_err!("{name}: expected {want} value argument(s), got {}", t.len());
        }
        Ok(match self.op {
            Hof::Reduce => vec![coerce_list(name, 0, &t[0])?, t[1].clone()],
            Hof::ZipWith => vec![coerce_list(name, 0, &t[0])?, coerce_list(name, 1, &t[1])?],
            Hof::MapZipWith => {
                let (a, b) = (coerce_map(name, 0, &t[0])?, coerce_map(name, 1, &t[1])?);
                let (Some((ka, va)), Some((kb, vb))) = (key_value_types(&a), key_value_types(&b))
                else {
                    return plan_err!("{name}: expected two MAPs");
                };
                let Some(k) = array::common_type(&ka, &kb) else {
                    return plan_err!("{name}: the maps' keys have incompatible types");
                };
                vec![map_type(k.clone(), va), map_type(k, vb)]
            }
            op if op.on_maps() => vec![coerce_map(name, 0, &t[0])?],
            _ => vec![coerce_list(name, 0, &t[0])?],
        })
    }

    fn lambda_parameters(
        &self,
        _step: usize,
        fields: &[ValueOrLambda<FieldRef, Option<FieldRef>>],
    ) -> Result<LambdaParametersProgress> {
        let values: Vec<DataType> = values_of(fields)
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        Ok(LambdaParametersProgress::Complete(
            self.params(&values)?
                .iter()
                .map(|ps| ps.iter().map(param_field).collect())
                .collect(),
        ))
    }

    fn return_field_from_args(&self, args: HigherOrderReturnFieldArgs) -> Result<FieldRef> {
        let values: Vec<DataType> = values_of(args.arg_fields)
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let lambdas: Vec<DataType> = lambdas_of(args.arg_fields)
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let (Some(first), Some(body)) = (values.first(), lambdas.last()) else {
            return plan_err!("{}: expected a value and a lambda", self.op.name());
        };
        let t = match self.op {
            Hof::Transform | Hof::ZipWith => list_of(body.clone()),
            Hof::Filter | Hof::MapFilter => first.clone(),
            Hof::AnyMatch | Hof::AllMatch | Hof::NoneMatch => DataType::Boolean,
            Hof::Reduce => body.clone(),
            Hof::TransformKeys => match key_value_types(first) {
                Some((_, v)) => map_type(body.clone(), v),
                None => return plan_err!("transform_keys: expected a MAP"),
            },
            Hof::TransformValues | Hof::MapZipWith => match key_value_types(first) {
                Some((k, _)) => map_type(k, body.clone()),
                None => return plan_err!("{}: expected a MAP", self.op.name()),
            },
        };
        Ok(Arc::new(Field::new(self.op.name(), t, true)))
    }

    fn invoke_with_args(&self, args: HigherOrderFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        // The kernels report their elements to the batch's budget; this catches a hit between
        // calls (e.g. a lambda nested in a lambda).
        array::spend(rows, 0)?;
        let values: Vec<ArrayRef> = values_of(&args.args)
            .into_iter()
            .map(|v| array::materialize(v, rows))
            .collect::<Result<_>>()?;
        let lambdas: Vec<&LambdaArgument> = lambdas_of(&args.args);
        let name = self.op.name();
        let list = |i: usize| array::list_arg(name, &values[i]);
        let map_at = |i: usize| match values[i].as_map_opt() {
            Some(m) => Ok(m),
            None => exec_err!("{name}: expected a MAP"),
        };
        let (Some(first), Some(last)) = (lambdas.first(), lambdas.last()) else {
            return exec_err!("{name}: missing lambda");
        };
        let out = match self.op {
            Hof::Transform => array::transform(list(0)?, first)?,
            Hof::Filter => array::filter(list(0)?, first)?,
            Hof::AnyMatch => array::matches(list(0)?, first, Match::Any)?,
            Hof::AllMatch => array::matches(list(0)?, first, Match::All)?,
            Hof::NoneMatch => array::matches(list(0)?, first, Match::None)?,
            Hof::Reduce => array::reduce(list(0)?, Arc::clone(&values[1]), first, last)?,
            Hof::ZipWith => array::zip_with(list(0)?, list(1)?, first)?,
            Hof::MapFilter => map::map_filter(map_at(0)?, first)?,
            Hof::TransformKeys => map::transform_keys(map_at(0)?, first)?,
            Hof::TransformValues => map::transform_values(map_at(0)?, first)?,
            Hof::MapZipWith => map::map_zip_with(map_at(0)?, map_at(1)?, first)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

// ---------------------------------------------------------------------------------------------
// Lowering
// ---------------------------------------------------------------------------------------------

fn diag(code: codes::Code, msg: impl Into<String>, at: &ast::Expr, label: &str) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(code, msg, at.span, label))
}

/// Converts `x` of type `from` to `to`: text read as JSON when the target is an ARRAY or MAP;
/// text read as a number with TRY_CAST (§18.2: text that is not a number is NULL, never an
/// error); a CAST otherwise.
pub(super) fn fit(x: Expr, from: &DataType, to: &DataType) -> Expr {
    if from == to {
        return x;
    }
    if coerce::is_text(from) && is_structured(to) {
        return json_cast(x, to, true);
    }
    if coerce::is_text(from) && coerce::is_numeric(to) {
        return Expr::TryCast(datafusion_expr::TryCast::new(Box::new(x), to.clone()));
    }
    Expr::Cast(datafusion_expr::Cast::new(Box::new(x), to.clone()))
}

/// True for ARRAY and MAP types.
pub(super) fn is_structured(t: &DataType) -> bool {
    element_type(t).is_some() || key_value_types(t).is_some()
}

/// `CAST(x AS ARRAY(...)/MAP(...))` of JSON or VARCHAR text: parses the text as JSON.
pub(super) fn json_cast(x: Expr, to: &DataType, strict: bool) -> Expr {
    let target = ScalarValue::try_from(to).unwrap_or(ScalarValue::Null);
    Expr::ScalarFunction(ScalarFunction::new_udf(
        json_cast_udf(strict),
        vec![x, Expr::Literal(target, None)],
    ))
}

/// Lowers a call of a higher-order function; `None` when `name` is not one.
pub(super) fn lower_call(
    lw: &dyn LowerBody,
    e: &ast::Expr,
    name: &str,
    args: &[ast::Expr],
) -> R<Option<Expr>> {
    let Some(op) = Hof::from_name(name) else {
        return Ok(None);
    };
    let signature = crate::functions::lookup(name).map_or("", |d| d.signature);
    let bad = |msg: String, at: &ast::Expr| {
        Box::new(
            Diagnostic::error(codes::FUNCTION_ARGUMENTS, msg, at.span, "here")
                .with_note(format!("signature: {signature}")),
        )
    };
    let shape = op.shape();
    if args.len() != shape.len() {
        return Err(bad(
            format!(
                "`{name}` takes {} arguments, got {}",
                shape.len(),
                args.len()
            ),
            e,
        ));
    }
    // Lower and coerce the value arguments.
    let mut values = Vec::new();
    for (a, slot) in args.iter().zip(shape) {
        match (slot, &a.kind) {
            (Slot::Value, ExprKind::Lambda { .. }) => {
                return Err(bad(
                    format!("`{name}` expects a value here, not a lambda"),
                    a,
                ))
            }
            (Slot::Value, _) => values.push(lw.typed(a)?),
            (Slot::Lambda(n), ExprKind::Lambda { params, .. }) if params.len() != *n => {
                return Err(bad(
                    format!(
                        "the lambda of `{name}` takes {n} parameter(s), got {}",
                        params.len()
                    ),
                    a,
                ))
            }
            (Slot::Lambda(_), ExprKind::Lambda { .. }) => {}
            (Slot::Lambda(n), _) => {
                let example = if *n == 1 { "x -> ..." } else { "(x, y) -> ..." };
                return Err(bad(
                    format!("`{name}` expects a lambda here, e.g. `{example}`"),
                    a,
                ));
            }
        }
    }
    let udf = hof_udf(op);
    let types: Vec<DataType> = values.iter().map(|(_, t)| t.clone()).collect();
    let coerced = udf
        .coerce_value_types(&types)
        .map_err(|x| bad(format!("`{name}`: {}", clean(&x.to_string())), e))?;
    let mut values: Vec<(Expr, DataType)> = values
        .into_iter()
        .zip(coerced)
        .map(|((x, from), to)| (fit(x, &from, &to), to))
        .collect();
    let lambda_args: Vec<&ast::Expr> = args
        .iter()
        .filter(|a| matches!(a.kind, ExprKind::Lambda { .. }))
        .collect();
    let params = |values: &[(Expr, DataType)]| {
        HofUdf {
            op,
            signature: HigherOrderSignature::user_defined(Volatility::Immutable),
        }
        .params(&values.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>())
        .map_err(|x| bad(format!("`{name}`: {}", clean(&x.to_string())), e))
    };

    let mut lowered: Vec<Expr> = Vec::new();
    if op == Hof::Reduce {
        // The state type: the initial value's, widened until the merge lambda returns it.
        let (init, init_type) = values[1].clone();
        let mut acc = init_type.clone();
        let mut merge = lambda(lw, lambda_args[0], &params(&values)?[0])?;
        for _ in 0..4 {
            let bt = merge.1.clone();
            let next = match array::common_type(&acc, &bt) {
                Some(n) => n,
                None => {
                    return Err(bad(
                        format!("`reduce`: the lambda returns {bt} but the state is {acc}"),
                        lambda_args[0],
                    ))
                }
            };
            if next == acc {
                break;
            }
            acc = next;
            values[1] = (fit(init.clone(), &init_type, &acc), acc.clone());
            merge = lambda(lw, lambda_args[0], &params(&values)?[0])?;
        }
        let (merge_expr, body_type, lambda_params) = (merge.0, merge.1, merge.2);
        let merge_body = fit(merge_expr, &body_type, &acc);
        let finish = lambda(lw, lambda_args[1], &params(&values)?[1])?;
        lowered.extend(values.into_iter().map(|(x, _)| x));
        lowered.push(Expr::Lambda(Lambda::new(lambda_params, merge_body)));
        lowered.push(Expr::Lambda(Lambda::new(finish.2, finish.0)));
    } else {
        let ps = params(&values)?;
        let (body, body_type, names) = lambda(lw, lambda_args[0], &ps[0])?;
        let body = if op.is_predicate() && body_type != DataType::Boolean {
            Expr::TryCast(datafusion_expr::TryCast::new(
                Box::new(body),
                DataType::Boolean,
            ))
        } else {
            body
        };
        lowered.extend(values.into_iter().map(|(x, _)| x));
        lowered.push(Expr::Lambda(Lambda::new(names, body)));
    }
    Ok(Some(Expr::HigherOrderFunction(HigherOrderFunction::new(
        udf, lowered,
    ))))
}

/// The most lambda parameters in scope at once (16 nested one-parameter lambdas, 8 nested
/// `reduce` merges); see `docs/decisions.md`.
pub(crate) const MAX_LAMBDA_PARAMS: usize = 16;

/// Lowers a lambda whose parameters have types `types`: its body, the body's type and the
/// internal parameter names.
fn lambda(
    lw: &dyn LowerBody,
    at: &ast::Expr,
    types: &[DataType],
) -> R<(Expr, DataType, Vec<String>)> {
    let ExprKind::Lambda { params, body } = &at.kind else {
        return Err(diag(
            codes::FUNCTION_ARGUMENTS,
            "expected a lambda",
            at,
            "here",
        ));
    };
    let depth = lw.scope().len();
    if depth + params.len() > MAX_LAMBDA_PARAMS {
        // Planning a nested lambda costs about twice the lambda inside it (DataFusion derives
        // each level's display name from the whole body more than once), so deep nesting would
        // stall compilation long before any stack limit.
        return Err(diag(
            codes::TOO_DEEP,
            format!(
                "lambdas are nested too deeply: at most {MAX_LAMBDA_PARAMS} lambda parameters \
                 may be in scope at once"
            ),
            at,
            "this lambda",
        ));
    }
    let mut scope = lw.scope().to_vec();
    let mut names = Vec::with_capacity(params.len());
    for (i, (p, t)) in params.iter().zip(types).enumerate() {
        let internal = format!("{p}\u{1}{}", depth + i);
        let field = Arc::new(Field::new(internal.clone(), t.clone(), true));
        scope.push((
            p.clone(),
            Expr::LambdaVariable(LambdaVariable::new(internal.clone(), Some(field))),
        ));
        names.push(internal);
    }
    let (x, t) = lw.typed_in(scope, body)?;
    Ok((x, t, names))
}

fn clean(msg: &str) -> String {
    msg.rsplit("Error during planning: ")
        .next()
        .unwrap_or(msg)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, ListArray, RecordBatch, StringViewArray};
    use arrow::datatypes::{Field, Int64Type, Schema};
    use spl_parser::InstructionKind;

    use crate::expr::{evaluate, Session};
    use crate::render::Renderer;

    fn parse(text: &str) -> spl_parser::Expr {
        let program = spl_parser::parse(&format!("* | extend x = {text}")).unwrap();
        match &program.statements[0].pipeline.stages[0].kind {
            InstructionKind::Extend { assignments } => assignments[0].value.clone(),
            _ => unreachable!(),
        }
    }

    /// Evaluates `text` over `batch` and renders every row.
    fn eval(text: &str, batch: &RecordBatch) -> Vec<Option<String>> {
        let out = evaluate(&parse(text), batch, &Session::default())
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let r = Renderer::default();
        (0..out.len()).map(|i| r.text(out.as_ref(), i)).collect()
    }

    fn one_row() -> RecordBatch {
        batch(vec![("n", Arc::new(Int64Array::from(vec![1])) as ArrayRef)])
    }

    fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let schema = Schema::new(
            cols.iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        );
        RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    /// The error message of evaluating `text` (compile or runtime).
    fn fails(text: &str, batch: &RecordBatch) -> String {
        match evaluate(&parse(text), batch, &Session::default()) {
            Ok(a) => panic!("{text}: expected an error, got {a:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn ints(rows: Vec<Option<Vec<Option<i64>>>>) -> ArrayRef {
        Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(rows))
    }

    /// `arr` = [[1,2,3], [], NULL, [4]], `k` = [10, 20, 30, 40], `x` = a VARCHAR field.
    fn arrays() -> RecordBatch {
        batch(vec![
            (
                "arr",
                ints(vec![
                    Some(vec![Some(1), Some(2), Some(3)]),
                    Some(vec![]),
                    None,
                    Some(vec![Some(4)]),
                ]),
            ),
            ("k", Arc::new(Int64Array::from(vec![10, 20, 30, 40]))),
            (
                "x",
                Arc::new(StringViewArray::from(vec!["a", "b", "c", "d"])),
            ),
        ])
    }

    #[test]
    fn lambdas_capture_outer_fields_per_row() {
        let b = arrays();
        assert_eq!(
            eval("transform(arr, v -> v + k)", &b),
            vec![s("[11,12,13]"), s("[]"), None, s("[44]")]
        );
        assert_eq!(
            eval("filter(arr, v -> v * 10 < k * 2)", &b),
            vec![s("[1]"), s("[]"), None, s("[4]")]
        );
        assert_eq!(
            eval(
                "reduce(arr, k, (acc, v) -> acc + v * k, acc -> acc * 2)",
                &b
            ),
            vec![s("140"), s("40"), None, s("400")]
        );
    }

    #[test]
    fn a_parameter_shadows_a_field_of_the_same_name() {
        let b = arrays();
        assert_eq!(
            eval("transform(arr, x -> x * 2)", &b),
            vec![s("[2,4,6]"), s("[]"), None, s("[8]")]
        );
        // Outside the lambda `x` is the field again.
        assert_eq!(
            eval(
                "concat(x, cast(cardinality(transform(arr, x -> x)) AS varchar))",
                &b
            ),
            vec![s("a3"), s("b0"), None, s("d1")]
        );
    }

    #[test]
    fn nested_lambdas_see_outer_parameters() {
        let b = one_row();
        assert_eq!(
            eval(
                "transform(ARRAY[ARRAY[1, 2], ARRAY[3]], a -> transform(a, x -> x + cardinality(a)))",
                &b
            ),
            vec![s("[[3,4],[4]]")]
        );
        assert_eq!(
            eval(
                "transform(ARRAY[1, 2], x -> transform(ARRAY[10], y -> x + y + n))",
                &b
            ),
            vec![s("[[12],[13]]")]
        );
    }

    #[test]
    fn reduce_widens_its_state_to_the_merge_result() {
        let b = one_row();
        assert_eq!(
            eval("reduce(ARRAY[1.5, 2.5], 0, (s, x) -> s + x, s -> s)", &b),
            vec![s("4.0")]
        );
        assert_eq!(
            eval(
                "reduce(ARRAY['a', 'b'], '', (s, x) -> concat(s, x), s -> upper(s))",
                &b
            ),
            vec![s("AB")]
        );
        assert_eq!(
            eval("reduce(ARRAY[], 7, (s, x) -> s, s -> s)", &b),
            vec![s("7")]
        );
    }

    #[test]
    fn match_functions_follow_presto_null_rules() {
        let b = one_row();
        let cases = [
            ("all_match(ARRAY[1, NULL], x -> x > 0)", None),
            ("all_match(ARRAY[1, NULL, -1], x -> x > 0)", s("false")),
            ("any_match(ARRAY[NULL, 5], x -> x > 3)", s("true")),
            ("any_match(ARRAY[NULL, 1], x -> x > 3)", None),
            ("none_match(ARRAY[1, 2], x -> x > 3)", s("true")),
            ("any_match(ARRAY[], x -> true)", s("false")),
            ("all_match(ARRAY[], x -> false)", s("true")),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, &b), vec![want], "{text}");
        }
        // A predicate that is NULL drops the element.
        assert_eq!(
            eval("filter(ARRAY[1, NULL, 3], x -> x > 1)", &b),
            vec![s("[3]")]
        );
    }

    #[test]
    fn map_lambdas_see_keys_and_values() {
        let b = one_row();
        assert_eq!(
            eval("map_zip_with(map(ARRAY['a', 'b'], ARRAY[1, 2]), map(ARRAY['c', 'a'], ARRAY[3, 4]), (k, v1, v2) -> coalesce(v1, 0) * 10 + coalesce(v2, 0))", &b),
            vec![s("{\"a\":14,\"b\":20,\"c\":3}")]
        );
        assert_eq!(
            eval("transform_values(map(ARRAY['a'], ARRAY[1]), (k, v) -> concat(k, cast(v + n AS varchar)))", &b),
            vec![s("{\"a\":\"a2\"}")]
        );
        let err = fails(
            "transform_keys(map(ARRAY[1, 2], ARRAY[1, 2]), (k, v) -> 0)",
            &b,
        );
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn misuse_of_lambdas_is_a_compile_error() {
        let b = one_row();
        assert!(fails("transform(ARRAY[1], 5)", &b).contains("expects a lambda"));
        assert!(fails("transform(ARRAY[1], (x, y) -> x)", &b).contains("1 parameter"));
        assert!(fails("upper(x -> x)", &b).contains("only allowed as an argument"));
        assert!(fails("transform('abc', x -> x)", &b).contains("must be an ARRAY"));
        assert!(fails("reduce(ARRAY[1], 0, (s, x) -> ARRAY[x], s -> s)", &b).contains("state"));
    }

    #[test]
    fn subscripts_are_one_based_and_null_out_of_range() {
        let b = one_row();
        let cases = [
            ("ARRAY[0, 1, 2][1]", s("0")),
            ("ARRAY[0, 1, 2][-1]", s("2")),
            ("ARRAY[0, 1, 2][4]", None),
            ("split('a,b,c', ',')[2]", s("b")),
            ("map(ARRAY['a'], ARRAY[1])['a']", s("1")),
            ("map(ARRAY['a'], ARRAY[1])['z']", None),
            ("map(ARRAY[1, 2], ARRAY['x', 'y'])[2]", s("y")),
            ("ARRAY[ARRAY[1, 2]][1][2]", s("2")),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, &b), vec![want], "{text}");
        }
        assert!(fails("ARRAY[1][0]", &b).contains("start at 1"));
    }

    #[test]
    fn json_reads_as_array_and_map() {
        let b = one_row();
        let cases = [
            (
                "cast(json_parse('[1, 2, 3]') AS array(bigint))",
                s("[1,2,3]"),
            ),
            ("try_cast('[1, \"x\"]' AS array(bigint))", None),
            (
                "cast(json_parse('{\"a\": 1, \"b\": 2}') AS map(varchar, bigint))",
                s("{\"a\":1,\"b\":2}"),
            ),
            (
                "cast(json_parse('[[1], [2, 3]]') AS array(array(bigint)))",
                s("[[1],[2,3]]"),
            ),
            ("cardinality(json_parse('[1, [2], {\"a\": 3}]'))", s("3")),
            (
                "transform(json_parse('[1, \"a\"]'), x -> json_format(x))",
                s("[\"1\",\"\\\"a\\\"\"]"),
            ),
            ("cast(json_parse('[1, 2]') AS array(bigint))[2]", s("2")),
            ("json_parse('{\"a\": {\"b\": [1]}}')['a']", s("{\"b\":[1]}")),
            ("json_parse('[\"x\", \"y\"]')[2]", s("\"y\"")),
            ("missing_field['a']", None),
            ("missing_field[1]", None),
        ];
        for (text, want) in cases {
            assert_eq!(eval(text, &b), vec![want], "{text}");
        }
        assert!(fails("cast('[1, \"x\"]' AS array(bigint))", &b).contains("cannot cast"));
        assert!(fails("cardinality(json_parse('{\"a\": 1}'))", &b).contains("cannot cast"));
    }

    #[test]
    fn concat_and_reverse_also_take_arrays() {
        let b = one_row();
        assert_eq!(
            eval("concat(ARRAY[1], ARRAY[2, 3], ARRAY[])", &b),
            vec![s("[1,2,3]")]
        );
        assert_eq!(eval("concat(ARRAY[1], NULL)", &b), vec![None]);
        assert_eq!(
            eval("reverse(ARRAY['a', 'b'])", &b),
            vec![s("[\"b\",\"a\"]")]
        );
        assert_eq!(eval("reverse('ab')", &b), vec![s("ba")]);
        assert_eq!(eval("concat('a', 'b')", &b), vec![s("ab")]);
        assert_eq!(eval("ARRAY[1, 2.5, NULL]", &b), vec![s("[1.0,2.5,null]")]);
        assert_eq!(eval("(1, 'a')", &b), vec![s("[1,\"a\"]")]);
        assert!(fails("ARRAY[1, 'a']", &b).contains("incompatible"));
    }

    #[test]
    fn the_loongcollector_corpus_array_statements_evaluate() {
        // Each statement's array expressions from the reference agent's init test list.
        let b = one_row();
        let cases = [
            ("array_average(ARRAY [10, 20, 30])", s("20.0")),
            ("array_distinct(ARRAY [10, 20, 30])", s("[10,20,30]")),
            ("array_join(ARRAY [1, NULL, 2], ',', '0')", s("1,0,2")),
            ("array_normalize(ARRAY [1.2, 3.1, 2.05], 3.1)", None),
            ("array_position(ARRAY [1, 3, 2], 3, 2)", s("0")),
            ("array_sum(ARRAY [10, 20, 30, 30, 40])", s("130")),
            ("width_bucket(3, ARRAY[0, 2, 4])", s("2")),
            ("cardinality(map(ARRAY[1,3], ARRAY[2,4]))", s("2")),
            (
                "map_entries(map(ARRAY[1,3], ARRAY[2,4]))",
                s("[[1,2],[3,4]]"),
            ),
            (
                "map_filter(map(ARRAY[1,3], ARRAY[2,4]), (k, v) -> v IS NOT NULL)",
                s("{\"1\":2,\"3\":4}"),
            ),
            (
                "zip(ARRAY[1, 2], ARRAY['1b', null, '3b'])",
                s("[[1,\"1b\"],[2,null],[null,\"3b\"]]"),
            ),
            ("to_hex(empty_approx_set())", s("020B0000")),
        ];
        for (text, want) in cases {
            if want.is_none() {
                let got = eval(text, &b);
                assert!(got[0].is_some(), "{text}: {got:?}");
                continue;
            }
            assert_eq!(eval(text, &b), vec![want], "{text}");
        }
        // slice(a, 0, 3) as in the corpus is an error (indices start at 1), as in Presto.
        assert!(fails("slice(ARRAY [5, 20, NULL, 50], 0, 3)", &b).contains("start at 1"));
    }

    /// The cases of `testdata/conformance/arrays.jsonl` through the compiled pipeline (input
    /// fields are VARCHAR; output rows compare as rendered text).
    #[test]
    fn conformance_cases_hold() {
        use std::collections::BTreeMap;

        use crate::pipeline::{Options, Pipeline};

        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/conformance/arrays.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut failures = Vec::new();
        let mut count = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            count += 1;
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = case["id"].as_str().unwrap_or("?");
            let rows: Vec<BTreeMap<String, String>> =
                serde_json::from_value(case["input"].clone()).unwrap();
            let want: Vec<BTreeMap<String, String>> =
                serde_json::from_value(case["output"].clone()).unwrap();
            let mut names: Vec<&String> = rows.iter().flat_map(|r| r.keys()).collect();
            names.sort();
            names.dedup();
            let cols: Vec<(&str, ArrayRef)> = names
                .iter()
                .map(|n| {
                    let vals: Vec<Option<&str>> =
                        rows.iter().map(|r| r.get(*n).map(String::as_str)).collect();
                    (
                        n.as_str(),
                        Arc::new(StringViewArray::from(vals)) as ArrayRef,
                    )
                })
                .collect();
            let input = batch(cols);
            let spl = case["spl"].as_str().unwrap();
            let pipeline = match Pipeline::compile(spl, &Options::default()) {
                Ok(p) => p,
                Err(d) => {
                    failures.push(format!("{id}: does not compile: {d:?}"));
                    continue;
                }
            };
            match pipeline.process(input) {
                Ok(out) => {
                    let got: Vec<BTreeMap<String, String>> = out.datasets[0]
                        .iter()
                        .flat_map(|b| Renderer::default().rows(b))
                        .collect();
                    if got != want || !out.errors.is_empty() {
                        failures.push(format!("{id}: got {got:?} errors {:?}", out.errors));
                    }
                }
                Err(e) => failures.push(format!("{id}: {e:?}")),
            }
        }
        assert!(count >= 10);
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Every statement of the reference agent's init corpus that uses ARRAY, MAP or a lambda
    /// compiles and runs on a one-row batch; only `slice(a, 0, 3)` fails at run time (indices
    /// start at 1, as in Presto).
    #[test]
    fn corpus_array_statements_compile_and_run() {
        use crate::pipeline::{Options, Pipeline};

        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../testdata/corpus/loongcollector-init-corpus.txt"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let mut failures = Vec::new();
        let mut checked = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let upper = line.to_ascii_uppercase();
            if !(upper.contains("ARRAY") || upper.contains("MAP(") || line.contains("->")) {
                continue;
            }
            checked += 1;
            let input = batch(vec![(
                "content",
                Arc::new(StringViewArray::from(vec!["x"])) as ArrayRef,
            )]);
            match Pipeline::compile(line, &Options::default()) {
                Err(d) => failures.push(format!("{line}: {d:?}")),
                Ok(p) => match p.process(input) {
                    Ok(out) if out.errors.is_empty() => {}
                    Ok(_) if line.contains("slice(a, 0, 3)") => {}
                    Ok(out) => failures.push(format!("{line}: {:?}", out.errors)),
                    Err(e) => failures.push(format!("{line}: {e:?}")),
                },
            }
        }
        assert!(checked >= 40, "only {checked} statements");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

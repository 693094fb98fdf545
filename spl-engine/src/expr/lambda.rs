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
//! This file also holds the conversions lowering needs for ARRAY/MAP values: [`fit`] (casts,
//! reading JSON as ARRAY/MAP) and [`json_cast`].
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion_common::{exec_err, plan_err, Result, ScalarValue};
use datafusion_expr::expr::{HigherOrderFunction, Lambda, LambdaVariable, ScalarFunction};
use datafusion_expr::{
    ColumnarValue, Expr, HigherOrderFunctionArgs, HigherOrderReturnFieldArgs,
    HigherOrderSignature, HigherOrderUDF, HigherOrderUDFImpl, LambdaArgument,
    LambdaParametersProgress, ScalarFunctionArgs, ScalarUDF, ValueOrLambda, Volatility,
};
use spl_parser::ast::{self, ExprKind};
use spl_parser::{codes, Diagnostic};

use super::coerce;
use super::lower::Lowerer;
use crate::functions::array::{
    self, coerce_list, element_type, json_cast_udf, list_of, param_field, Match,
};
use crate::functions::common::{op_udf, UdfOp};
use crate::functions::map::{self, coerce_map, key_value_types, map_type};

type R<T> = std::result::Result<T, Box<Diagnostic>>;

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

fn lambdas_of<'a, V, L>(args: &'a [ValueOrLambda<V, L>]) -> Vec<&'a L> {
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
        let values: Vec<ArrayRef> = values_of(&args.args)
            .into_iter()
            .map(|v| v.into_array(rows))
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

/// The placeholder scalar UDF of a higher-order function's library entry: calls are lowered
/// here, never through it; used without a lambda it explains what is missing.
pub(crate) fn placeholder(name: &'static str) -> Arc<ScalarUDF> {
    op_udf(name, &[], NeedsLambda, Volatility::Immutable)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct NeedsLambda;

impl UdfOp for NeedsLambda {
    fn coerce(self, name: &str, _: &[DataType]) -> Result<Vec<DataType>> {
        plan_err!("{name} takes a lambda argument")
    }
    fn return_type(self, name: &str, _: &[DataType]) -> Result<DataType> {
        plan_err!("{name} takes a lambda argument")
    }
    fn invoke(self, name: &str, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("{name} takes a lambda argument")
    }
}

// ---------------------------------------------------------------------------------------------
// Lowering
// ---------------------------------------------------------------------------------------------

fn diag(code: codes::Code, msg: impl Into<String>, at: &ast::Expr, label: &str) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(code, msg, at.span, label))
}

/// Converts `x` of type `from` to `to`: text read as JSON when the target is an ARRAY or MAP,
/// a CAST otherwise.
pub(super) fn fit(x: Expr, from: &DataType, to: &DataType) -> Expr {
    if from == to {
        return x;
    }
    if coerce::is_text(from) && is_structured(to) {
        return json_cast(x, to, true);
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
    lw: &Lowerer<'_>,
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
            format!("`{name}` takes {} arguments, got {}", shape.len(), args.len()),
            e,
        ));
    }
    // Lower and coerce the value arguments.
    let mut values = Vec::new();
    for (a, slot) in args.iter().zip(shape) {
        match (slot, &a.kind) {
            (Slot::Value, ExprKind::Lambda { .. }) => {
                return Err(bad(format!("`{name}` expects a value here, not a lambda"), a))
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

/// Lowers a lambda whose parameters have types `types`: its body, the body's type and the
/// internal parameter names.
fn lambda(
    lw: &Lowerer<'_>,
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
    let depth = lw.scope.len();
    let mut scope = lw.scope.clone();
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
    let inner = lw.with_scope(scope);
    let (x, t) = inner.typed(body)?;
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

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringViewArray};
    use arrow::datatypes::{DataType, Field, Schema};
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
        RecordBatch::try_new(Arc::new(schema), cols.into_iter().map(|(_, a)| a).collect())
            .unwrap()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn debug_filter() {
        let b = one_row();
        for t in ["transform(ARRAY['cat', NULL], x -> x IS NULL)", "transform(ARRAY['cat', NULL], x -> coalesce(x, 'z'))", "transform(ARRAY['cat', NULL], x -> x)", "transform(ARRAY[1, NULL], x -> x IS NULL)", "transform(ARRAY[1, NULL], x -> NOT (x IS NULL))", "transform(ARRAY['cat', NULL], x -> x IS NOT NULL)"] {
            println!("{t} => {:?}", eval(t, &b));
        }
        println!("AST {:?}", parse("transform(ARRAY['cat', NULL], x -> x IS NOT NULL)"));
        println!("{:?}", crate::expr::lower(&parse("transform(ARRAY['cat', NULL], x -> x IS NOT NULL)"), &datafusion_common::DFSchema::try_from(b.schema().as_ref().clone()).unwrap()));
        assert_eq!(eval("filter(ARRAY['cat', NULL], x -> x IS NOT NULL)", &b), vec![s("[\"cat\"]")]);
        let _ = (DataType::Null, StringViewArray::from(vec!["a"]));
    }
}

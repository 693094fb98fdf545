//! Lowering: the parser's expression AST → a DataFusion logical `Expr` against one batch schema,
//! with SLS coercion ([`super::coerce`]) applied and functions resolved in the SPL library.
//! A field that the schema lacks is NULL (spec §2.1). Errors are diagnostics with the span of the
//! offending sub-expression.
use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion_common::{Column, DFSchema, ScalarValue};
use datafusion_expr::expr::ScalarFunction;
use datafusion_expr::type_coercion::functions::fields_with_udf;
use datafusion_expr::{Expr, ExprSchemable, Operator};
use spl_parser::ast::{self, BinaryOp, ExprKind, Literal, UnaryOp};
use spl_parser::{codes, Diagnostic};

use super::coerce;
use super::lambda::{self, LowerBody};
use crate::functions;
use crate::types;

type R<T> = Result<T, Box<Diagnostic>>;

/// Lowers `e` for evaluation against batches of `schema`.
pub fn lower(e: &ast::Expr, schema: &DFSchema) -> R<Expr> {
    Lowerer {
        schema,
        scope: Vec::new(),
    }
    .expr(e)
}

/// The stack lowering wants left before it recurses ([`Lowerer::expr`]): several frames.
const RED_ZONE: usize = 1024 * 1024;
/// The size of each stack segment allocated when less than [`RED_ZONE`] is left.
const NEW_SEGMENT: usize = 4 * 1024 * 1024;

struct Lowerer<'a> {
    schema: &'a DFSchema,
    /// Lambda parameters in scope ([`super::lambda`]): SPL name and the lambda variable,
    /// innermost last.
    scope: Vec<(String, Expr)>,
}

fn err(
    code: spl_parser::codes::Code,
    msg: impl Into<String>,
    e: &ast::Expr,
    label: &str,
) -> Box<Diagnostic> {
    Box::new(Diagnostic::error(code, msg, e.span, label))
}

impl Lowerer<'_> {
    fn type_of(&self, e: &Expr, at: &ast::Expr) -> R<DataType> {
        e.get_type(self.schema)
            .map_err(|x| err(codes::TYPE_MISMATCH, x.to_string(), at, "here"))
    }

    /// Lowers and returns the type too.
    fn typed(&self, e: &ast::Expr) -> R<(Expr, DataType)> {
        let x = self.expr(e)?;
        let t = self.type_of(&x, e)?;
        Ok((x, t))
    }

    /// Lowers one node. A debug build gives this function's large `match` a frame of about
    /// 20 KB, so each level of recursion first makes sure enough stack is left, continuing on a
    /// heap-allocated segment when it is not: lowering never exhausts a small thread stack.
    fn expr(&self, e: &ast::Expr) -> R<Expr> {
        stacker::maybe_grow(RED_ZONE, NEW_SEGMENT, || self.node(e))
    }

    fn node(&self, e: &ast::Expr) -> R<Expr> {
        Ok(match &e.kind {
            ExprKind::Column(name) => {
                let col = Column::new_unqualified(name.clone());
                if let Some((_, var)) = self.scope.iter().rev().find(|(p, _)| p == name) {
                    var.clone()
                } else if self.schema.has_column(&col) {
                    Expr::Column(col)
                } else {
                    Expr::Literal(ScalarValue::Null, None)
                }
            }
            ExprKind::Literal(l) => Expr::Literal(literal(l, e)?, None),
            ExprKind::Unary { op, expr } => {
                let (x, t) = self.typed(expr)?;
                match op {
                    UnaryOp::Not => Expr::Not(Box::new(if t == DataType::Boolean {
                        x
                    } else {
                        try_cast(x, DataType::Boolean)
                    })),
                    UnaryOp::Plus => numeric_operand(x, &t),
                    UnaryOp::Neg => Expr::Negative(Box::new(numeric_operand(x, &t))),
                }
            }
            ExprKind::Binary { op, left, right } => {
                let (l, lt) = self.typed(left)?;
                let (r, rt) = self.typed(right)?;
                let dop = operator(*op);
                coerce::binary_op(l, &lt, dop, r, &rt).ok_or_else(|| {
                    err(
                        codes::TYPE_MISMATCH,
                        format!("`{}` cannot combine {lt} and {rt}", op.symbol()),
                        e,
                        "incompatible operands",
                    )
                })?
            }
            ExprKind::IsNull { expr, negated } => {
                let x = Box::new(self.expr(expr)?);
                if *negated {
                    Expr::IsNotNull(x)
                } else {
                    Expr::IsNull(x)
                }
            }
            ExprKind::Like {
                expr,
                pattern,
                escape,
                negated,
            } => {
                let (x, xt) = self.typed(expr)?;
                let (p, pt) = self.typed(pattern)?;
                let escape_char = match escape {
                    None => None,
                    Some(esc) => match &esc.kind {
                        ExprKind::Literal(Literal::String(s)) if s.chars().count() == 1 => {
                            s.chars().next()
                        }
                        _ => {
                            return Err(err(
                                codes::TYPE_MISMATCH,
                                "ESCAPE takes a one-character string literal",
                                esc,
                                "here",
                            ))
                        }
                    },
                };
                // DataFusion escapes with `\` only: rewrite a literal pattern's other escape char.
                let (p, escape_char) = match (escape_char, &pattern.kind) {
                    (Some(c), ExprKind::Literal(Literal::String(text))) if c != '\\' => (
                        Expr::Literal(ScalarValue::Utf8View(Some(rewrite_escape(text, c))), None),
                        Some('\\'),
                    ),
                    (Some(c), _) if c != '\\' => {
                        return Err(err(
                            codes::UNSUPPORTED,
                            "ESCAPE other than '\\' needs a literal pattern",
                            pattern,
                            "not a literal",
                        ))
                    }
                    _ => (p, escape_char),
                };
                Expr::Like(datafusion_expr::Like::new(
                    *negated,
                    Box::new(coerce::as_varchar(x, &xt)),
                    Box::new(coerce::as_varchar(p, &pt)),
                    escape_char,
                    false,
                ))
            }
            ExprKind::InList {
                expr,
                list,
                negated,
            } => {
                let (x, xt) = self.typed(expr)?;
                let mut any: Option<Expr> = None;
                for item in list {
                    let (v, vt) = self.typed(item)?;
                    let eq = coerce::binary_op(x.clone(), &xt, Operator::Eq, v, &vt).ok_or_else(
                        || {
                            err(
                                codes::TYPE_MISMATCH,
                                format!("IN cannot compare {xt} with {vt}"),
                                item,
                                "incompatible",
                            )
                        },
                    )?;
                    any = Some(match any {
                        None => eq,
                        Some(a) => binary(a, Operator::Or, eq),
                    });
                }
                let any = any.unwrap_or(Expr::Literal(ScalarValue::Boolean(Some(false)), None));
                if *negated {
                    Expr::Not(Box::new(any))
                } else {
                    any
                }
            }
            ExprKind::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let (x, xt) = self.typed(expr)?;
                let (lo, lot) = self.typed(low)?;
                let (hi, hit) = self.typed(high)?;
                let mismatch = || {
                    err(
                        codes::TYPE_MISMATCH,
                        "BETWEEN bounds do not match the value's type",
                        e,
                        "here",
                    )
                };
                let ge = coerce::binary_op(x.clone(), &xt, Operator::GtEq, lo, &lot)
                    .ok_or_else(mismatch)?;
                let le =
                    coerce::binary_op(x, &xt, Operator::LtEq, hi, &hit).ok_or_else(mismatch)?;
                let both = binary(ge, Operator::And, le);
                if *negated {
                    Expr::Not(Box::new(both))
                } else {
                    both
                }
            }
            ExprKind::Case {
                operand,
                whens,
                otherwise,
            } => self.case(e, operand.as_deref(), whens, otherwise.as_deref())?,
            ExprKind::Cast {
                expr,
                ty,
                try_cast: is_try,
            } => {
                let (x, xt) = self.typed(expr)?;
                let target = types::from_type_name(ty)
                    .map_err(|m| err(codes::UNKNOWN_TYPE, m, expr, "in this CAST"))?;
                cast_value(x, &xt, target, *is_try)
            }
            ExprKind::Call {
                name,
                args,
                star,
                distinct,
                ..
            } => self.call(e, name, args, *star || *distinct)?,
            ExprKind::Array(items) => {
                let typed = items.iter().map(|i| self.typed(i)).collect::<R<Vec<_>>>()?;
                self.apply_udf(e, "ARRAY", &functions::array::constructor(), "", typed)?
            }
            ExprKind::Row(items) => {
                let typed = items.iter().map(|i| self.typed(i)).collect::<R<Vec<_>>>()?;
                self.apply_udf(e, "ROW", &functions::array::row_constructor(), "", typed)?
            }
            ExprKind::Subscript { expr, index } => {
                let (mut x, mut t) = self.typed(expr)?;
                let (i, it) = self.typed(index)?;
                if types::is_json(&t) && coerce::is_text(&it) {
                    // A JSON object looked up by key reads as MAP(VARCHAR, JSON).
                    let m = functions::map::map_type(types::VARCHAR, types::JSON);
                    x = lambda::json_cast(x, &m, true);
                    t = m;
                }
                let typed = vec![(x, t), (i, it)];
                let sig = "a[i] (ARRAY, 1-based) or m[k] (MAP)";
                self.apply_udf(e, "[]", &functions::array::subscript(), sig, typed)?
            }
            ExprKind::Lambda { .. } => {
                return Err(err(
                    codes::FUNCTION_ARGUMENTS,
                    "a lambda is only allowed as an argument of a higher-order function \
                     (transform, filter, reduce, map_filter, ...)",
                    e,
                    "not allowed here",
                ))
            }
        })
    }

    fn case(
        &self,
        e: &ast::Expr,
        operand: Option<&ast::Expr>,
        whens: &[(ast::Expr, ast::Expr)],
        otherwise: Option<&ast::Expr>,
    ) -> R<Expr> {
        let op = operand.map(|o| self.typed(o)).transpose()?;
        let mut conds = Vec::new();
        let mut thens = Vec::new();
        for (w, t) in whens {
            let (c, ct) = self.typed(w)?;
            let cond = match &op {
                Some((o, ot)) => coerce::binary_op(o.clone(), ot, Operator::Eq, c, &ct)
                    .ok_or_else(|| {
                        err(
                            codes::TYPE_MISMATCH,
                            format!("CASE cannot compare {ot} with {ct}"),
                            w,
                            "incompatible",
                        )
                    })?,
                None if ct == DataType::Boolean => c,
                None => try_cast(c, DataType::Boolean),
            };
            conds.push(cond);
            thens.push(self.typed(t)?);
        }
        let other = otherwise.map(|o| self.typed(o)).transpose()?;
        let result_type = common_type(
            thens
                .iter()
                .map(|(_, t)| t)
                .chain(other.iter().map(|(_, t)| t)),
        )
        .ok_or_else(|| {
            err(
                codes::TYPE_MISMATCH,
                "CASE branches have incompatible types",
                e,
                "in this CASE",
            )
        })?;
        let fit = |(x, t): (Expr, DataType)| {
            if t == result_type {
                x
            } else {
                widen(x, &t, &result_type)
            }
        };
        Ok(Expr::Case(datafusion_expr::Case::new(
            None,
            conds
                .into_iter()
                .zip(thens)
                .map(|(c, t)| (Box::new(c), Box::new(fit(t))))
                .collect(),
            other.map(|o| Box::new(fit(o))),
        )))
    }

    fn call(&self, e: &ast::Expr, name: &str, args: &[ast::Expr], special: bool) -> R<Expr> {
        if let Some(x) = lambda::lower_call(self, e, name, args)? {
            return Ok(x);
        }
        match name {
            "coalesce" | "if" | "nullif" | "try" => return self.conditional(e, name, args),
            _ => {}
        }
        let Some(def) = functions::lookup(name) else {
            if functions::is_aggregate(name) {
                return Err(err(
                    codes::AGGREGATE_OUTSIDE_STATS,
                    format!("`{name}` is an aggregate: it is only allowed in `stats`"),
                    e,
                    "aggregate here",
                ));
            }
            let names = functions::all().iter().map(|f| f.name);
            let help = spl_parser::suggest::did_you_mean(name, names)
                .map(|s| format!("did you mean `{s}`?"));
            return Err(Box::new(
                Diagnostic::error(
                    codes::UNKNOWN_FUNCTION,
                    format!("unknown function `{name}`"),
                    e.span,
                    "no such function",
                )
                .with_help_opt(help),
            ));
        };
        if special {
            return Err(err(
                codes::AGGREGATE_OUTSIDE_STATS,
                format!("`{name}(*)`/DISTINCT is only for aggregates in `stats`"),
                e,
                "here",
            ));
        }
        if name.starts_with("regexp_") {
            // A literal pattern that does not compile is a compile-time error, not a row error.
            if let Some(
                p @ ast::Expr {
                    kind: ExprKind::Literal(Literal::String(pattern)),
                    ..
                },
            ) = args.get(1)
            {
                if let Err(m) = functions::regexp::check_pattern(pattern) {
                    return Err(err(
                        codes::INVALID_REGEX,
                        format!("`{name}`: invalid regular expression: {m}"),
                        p,
                        "this pattern",
                    ));
                }
            }
        }
        if matches!(name, "json_extract" | "json_extract_scalar" | "json_size") {
            // A literal JSONPath that does not parse is a compile-time error, not a row error.
            if let Some(
                p @ ast::Expr {
                    kind: ExprKind::Literal(Literal::String(path)),
                    ..
                },
            ) = args.get(1)
            {
                if let Err(m) = crate::jsonpath::JsonPath::parse(path) {
                    return Err(err(
                        codes::INVALID_JSONPATH,
                        format!("`{name}`: {m}"),
                        p,
                        "this path",
                    ));
                }
            }
        }
        let typed = args.iter().map(|a| self.typed(a)).collect::<R<Vec<_>>>()?;
        let types: Vec<DataType> = typed.iter().map(|(_, t)| t.clone()).collect();
        let udf = functions::array::overload(name, &types).unwrap_or_else(|| Arc::clone(&def.udf));
        self.apply_udf(e, name, &udf, def.signature, typed)
    }

    /// A call of `udf` on lowered arguments, with the casts its coercion asks for.
    fn apply_udf(
        &self,
        e: &ast::Expr,
        name: &str,
        udf: &Arc<datafusion_expr::ScalarUDF>,
        signature: &str,
        typed: Vec<(Expr, DataType)>,
    ) -> R<Expr> {
        let mut lowered = Vec::new();
        let mut fields = Vec::new();
        for (x, t) in typed {
            fields.push(Arc::new(Field::new("arg", t, true)));
            lowered.push(x);
        }
        let coerced = fields_with_udf(&fields, udf.as_ref()).map_err(|x| {
            let d = Diagnostic::error(
                codes::FUNCTION_ARGUMENTS,
                format!("`{name}`: {}", clean_df_error(&x.to_string())),
                e.span,
                "in this call",
            );
            Box::new(if signature.is_empty() {
                d
            } else {
                d.with_note(format!("signature: {signature}"))
            })
        })?;
        let args = lowered
            .into_iter()
            .zip(fields.iter().zip(&coerced))
            .map(|(x, (from, to))| lambda::fit(x, from.data_type(), to.data_type()))
            .collect();
        Ok(Expr::ScalarFunction(ScalarFunction::new_udf(
            Arc::clone(udf),
            args,
        )))
    }

    /// `coalesce`, `if`, `nullif` and `try`, lowered to CASE so that only the chosen branch's
    /// value matters.
    fn conditional(&self, e: &ast::Expr, name: &str, args: &[ast::Expr]) -> R<Expr> {
        let arity = |ok: bool, want: &str| {
            if ok {
                Ok(())
            } else {
                Err(err(
                    codes::FUNCTION_ARGUMENTS,
                    format!("`{name}` takes {want}"),
                    e,
                    "in this call",
                ))
            }
        };
        let typed: Vec<(Expr, DataType)> = args.iter().map(|a| self.typed(a)).collect::<R<_>>()?;
        let common = |items: &[&(Expr, DataType)]| {
            common_type(items.iter().map(|(_, t)| t)).ok_or_else(|| {
                err(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` arguments have incompatible types"),
                    e,
                    "here",
                )
            })
        };
        let fit = |(x, t): &(Expr, DataType), to: &DataType| {
            if t == to {
                x.clone()
            } else {
                widen(x.clone(), t, to)
            }
        };
        let case = |whens: Vec<(Expr, Expr)>, other: Option<Expr>| {
            Expr::Case(datafusion_expr::Case::new(
                None,
                whens
                    .into_iter()
                    .map(|(a, b)| (Box::new(a), Box::new(b)))
                    .collect(),
                other.map(Box::new),
            ))
        };
        Ok(match name {
            "coalesce" => {
                arity(!typed.is_empty(), "at least one argument")?;
                let t = common(&typed.iter().collect::<Vec<_>>())?;
                let whens = typed
                    .iter()
                    .map(|a| (Expr::IsNotNull(Box::new(a.0.clone())), fit(a, &t)))
                    .collect();
                case(whens, None)
            }
            "if" => {
                arity(
                    typed.len() == 2 || typed.len() == 3,
                    "2 or 3 arguments: if(condition, then[, else])",
                )?;
                let branches: Vec<&(Expr, DataType)> = typed[1..].iter().collect();
                let t = common(&branches)?;
                let cond = if typed[0].1 == DataType::Boolean {
                    typed[0].0.clone()
                } else {
                    try_cast(typed[0].0.clone(), DataType::Boolean)
                };
                case(
                    vec![(cond, fit(&typed[1], &t))],
                    typed.get(2).map(|o| fit(o, &t)),
                )
            }
            "nullif" => {
                arity(typed.len() == 2, "2 arguments")?;
                let (a, at) = &typed[0];
                let eq =
                    coerce::binary_op(a.clone(), at, Operator::Eq, typed[1].0.clone(), &typed[1].1)
                        .ok_or_else(|| {
                            err(
                                codes::TYPE_MISMATCH,
                                "`nullif` arguments cannot be compared",
                                e,
                                "here",
                            )
                        })?;
                case(
                    vec![(
                        eq,
                        Expr::Literal(ScalarValue::try_from(at).unwrap_or(ScalarValue::Null), None),
                    )],
                    Some(a.clone()),
                )
            }
            _ => {
                // try(x): row errors inside x become NULL. `eval::evaluate` resolves each `try`
                // outside a lambda before the whole expression; what reaches lowering (a `try`
                // inside a lambda body, or the compile-time check) is just its argument.
                arity(typed.len() == 1, "1 argument")?;
                typed[0].0.clone()
            }
        })
    }
}

/// Lambda bodies ([`super::lambda`]) are lowered by this same lowerer, with the lambda's
/// parameters added to the scope.
impl LowerBody for Lowerer<'_> {
    fn typed(&self, e: &ast::Expr) -> R<(Expr, DataType)> {
        Lowerer::typed(self, e)
    }

    fn scope(&self) -> &[(String, Expr)] {
        &self.scope
    }

    fn typed_in(&self, scope: Vec<(String, Expr)>, e: &ast::Expr) -> R<(Expr, DataType)> {
        Lowerer {
            schema: self.schema,
            scope,
        }
        .typed(e)
    }
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(datafusion_expr::BinaryExpr::new(
        Box::new(l),
        op,
        Box::new(r),
    ))
}

fn cast(e: Expr, t: DataType) -> Expr {
    Expr::Cast(datafusion_expr::Cast::new(Box::new(e), t))
}

/// Converts a branch of CASE/coalesce/if to the common type: to VARCHAR as §18.4 renders
/// values (`1.0`, not `1`), otherwise a CAST.
fn widen(e: Expr, from: &DataType, to: &DataType) -> Expr {
    if *to == types::VARCHAR {
        coerce::as_varchar(e, from)
    } else {
        cast(e, to.clone())
    }
}

fn try_cast(e: Expr, t: DataType) -> Expr {
    Expr::TryCast(datafusion_expr::TryCast::new(Box::new(e), t))
}

/// Unary `+`/`-` on text reads it as DOUBLE.
fn numeric_operand(x: Expr, t: &DataType) -> Expr {
    if coerce::is_text(t) {
        try_cast(coerce::as_varchar(x, t), DataType::Float64)
    } else {
        x
    }
}

/// CAST with SLS semantics: DOUBLE → integer rounds half away from zero (spec §6.4); text →
/// TIMESTAMP reads a wall time in the session zone; JSON → scalar reads the JSON value.
fn cast_value(x: Expr, from: &DataType, to: DataType, is_try: bool) -> Expr {
    let x = if matches!(from, DataType::Float32 | DataType::Float64) && coerce::is_integral(&to) {
        match functions::lookup("round") {
            Some(round) => {
                Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(&round.udf), vec![x]))
            }
            None => x,
        }
    } else {
        x
    };
    if coerce::is_text(from) && lambda::is_structured(&to) {
        return lambda::json_cast(x, &to, !is_try);
    }
    if types::is_json(from)
        && (to == types::VARCHAR || to == DataType::Boolean || coerce::is_numeric(&to))
    {
        // JSON → scalar as Presto: a JSON string gives its value ('"x"' → x, '"12"' → 12),
        // numbers round to integers, JSON null is NULL; a value that does not convert is a row
        // error (NULL for TRY_CAST). Objects and arrays → VARCHAR give compact JSON text.
        return lambda::json_cast(x, &to, !is_try);
    }
    let call = |udf: Arc<datafusion_expr::ScalarUDF>, x: Expr| {
        Expr::ScalarFunction(ScalarFunction::new_udf(udf, vec![x]))
    };
    if to == types::VARCHAR && super::cast::renders_as_text(from) {
        return call(super::cast::render(super::cast::Render::Text), x);
    }
    if to == types::JSON && !types::is_json(from) && *from != DataType::Null {
        return call(super::cast::render(super::cast::Render::Json), x);
    }
    if *from == types::TIMESTAMP && to == DataType::Date32 {
        // The date of an instant is taken in the session zone, as `date(ts)` does.
        if let Some(date) = functions::lookup("date") {
            return call(Arc::clone(&date.udf), x);
        }
    }
    if *from == DataType::Date32 && to == types::TIMESTAMP {
        // A DATE becomes its midnight in the session zone.
        let text = call(super::cast::render(super::cast::Render::Text), x);
        return call(super::cast::text_to_timestamp(!is_try), text);
    }
    if coerce::is_text(from) && to == types::TIMESTAMP {
        let udf = super::cast::text_to_timestamp(!is_try);
        return Expr::ScalarFunction(ScalarFunction::new_udf(
            udf,
            vec![coerce::as_varchar(x, from)],
        ));
    }
    if is_try {
        try_cast(x, to)
    } else {
        cast(x, to)
    }
}

/// The type all branches can take: equal types stay, numbers widen, otherwise VARCHAR if text
/// is involved; NULL-typed branches take the others' type.
fn common_type<'a>(types_: impl Iterator<Item = &'a DataType>) -> Option<DataType> {
    let mut acc: Option<DataType> = None;
    for t in types_ {
        if *t == DataType::Null {
            continue;
        }
        acc = Some(match acc {
            None => t.clone(),
            Some(a) if a == *t => a,
            Some(a) if coerce::is_numeric(&a) && coerce::is_numeric(t) => {
                coerce::numeric_common(&a, t)
            }
            Some(a) if coerce::is_text(&a) || coerce::is_text(t) => types::VARCHAR,
            Some(_) => return None,
        });
    }
    Some(acc.unwrap_or(DataType::Null))
}

fn operator(op: BinaryOp) -> Operator {
    match op {
        BinaryOp::Or => Operator::Or,
        BinaryOp::And => Operator::And,
        BinaryOp::Eq => Operator::Eq,
        BinaryOp::NotEq => Operator::NotEq,
        BinaryOp::Lt => Operator::Lt,
        BinaryOp::LtEq => Operator::LtEq,
        BinaryOp::Gt => Operator::Gt,
        BinaryOp::GtEq => Operator::GtEq,
        BinaryOp::IsDistinctFrom => Operator::IsDistinctFrom,
        BinaryOp::IsNotDistinctFrom => Operator::IsNotDistinctFrom,
        BinaryOp::Concat => Operator::StringConcat,
        BinaryOp::Plus => Operator::Plus,
        BinaryOp::Minus => Operator::Minus,
        BinaryOp::Multiply => Operator::Multiply,
        BinaryOp::Divide => Operator::Divide,
        BinaryOp::Modulo => Operator::Modulo,
    }
}

/// A literal's value: integers as BIGINT (DOUBLE beyond its range), decimals as DOUBLE,
/// strings as VARCHAR.
fn literal(l: &Literal, at: &ast::Expr) -> R<ScalarValue> {
    Ok(match l {
        Literal::String(s) => ScalarValue::Utf8View(Some(s.clone())),
        Literal::Bool(b) => ScalarValue::Boolean(Some(*b)),
        Literal::Null => ScalarValue::Null,
        Literal::Number(text) => {
            let integral = text.bytes().all(|b| b.is_ascii_digit());
            match (integral, text.parse::<i64>(), text.parse::<f64>()) {
                (true, Ok(i), _) => ScalarValue::Int64(Some(i)),
                (_, _, Ok(f)) => ScalarValue::Float64(Some(f)),
                _ => {
                    return Err(err(
                        codes::NUMBER_RANGE,
                        format!("`{text}` is not a number"),
                        at,
                        "here",
                    ))
                }
            }
        }
    })
}

/// Rewrites a LIKE pattern escaped with `esc` into one escaped with a backslash.
fn rewrite_escape(pattern: &str, esc: char) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == esc {
            if let Some(next) = chars.next() {
                out.push('\\');
                out.push(next);
            }
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// DataFusion's planning errors carry prefixes meant for developers; keep the readable part.
fn clean_df_error(msg: &str) -> String {
    let m = msg.rsplit("Error during planning: ").next().unwrap_or(msg);
    m.split("\nNo function matches")
        .next()
        .unwrap_or(m)
        .trim()
        .to_string()
}

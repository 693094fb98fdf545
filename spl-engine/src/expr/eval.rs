//! Vectorised evaluation of an SPL expression over an Arrow batch: lower against the batch's
//! schema, plan a DataFusion physical expression with the session's options (time zone), and
//! evaluate it. Plans are cached in the session per (expression, batch schema), so a stream of
//! batches with the same fields lowers and plans each expression once.
//!
//! Two SLS/Presto rules are applied here rather than in lowering:
//! - integer `+`, `-`, `*` fail on overflow (Presto: "bigint addition overflow") instead of
//!   wrapping around;
//! - `try(x)` turns the row errors of `x` into NULL: each `try` outside a lambda is evaluated
//!   first (row by row when some rows fail) and its result joins the batch as a hidden column.
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use arrow::array::{new_null_array, Array, ArrayRef};
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::config::ConfigOptions;
use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::DFSchema;
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion_expr::ExprSchemable;
use datafusion_physical_expr::expressions::BinaryExpr;
use datafusion_physical_expr::PhysicalExpr;
use spl_parser::{ast, Diagnostic};

use crate::timezone::SessionTz;

/// Per-pipeline evaluation settings: the session time zone, carried to functions through
/// DataFusion's `execution.time_zone` option, and the cache of planned expressions.
#[derive(Clone)]
pub struct Session {
    pub tz: SessionTz,
    props: ExecutionProps,
    plans: Arc<Mutex<PlanCache>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("tz", &self.tz).finish()
    }
}

/// Physical plans by expression hash; each entry keeps the expression and schema it was planned
/// for (compared on lookup, so equal hashes never share a wrong plan).
type PlanCache = HashMap<u64, Vec<(ast::Expr, SchemaRef, Arc<dyn PhysicalExpr>)>>;

/// Plans kept per session before the cache starts over (a stream rarely has more than a few
/// schemas; pathological inputs with a new schema per batch stay bounded).
const MAX_CACHED_PLANS: usize = 1024;

impl Default for Session {
    fn default() -> Self {
        Session::new(SessionTz::default())
    }
}

impl Session {
    pub fn new(tz: SessionTz) -> Session {
        let mut config = ConfigOptions::default();
        config.execution.time_zone = Some(tz.to_string());
        let mut props = ExecutionProps::new();
        props.config_options = Some(Arc::new(config));
        Session {
            tz,
            props,
            plans: Arc::default(),
        }
    }

    /// How many planned expressions the session holds.
    pub fn cached_plans(&self) -> usize {
        self.plans
            .lock()
            .map_or(0, |c| c.values().map(Vec::len).sum())
    }

    /// The cached plan of `expr` for `schema`, planning it on a miss.
    fn plan(
        &self,
        expr: &ast::Expr,
        schema: &SchemaRef,
    ) -> Result<Arc<dyn PhysicalExpr>, EvalError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        expr.hash(&mut h);
        let key = h.finish();
        if let Ok(cache) = self.plans.lock() {
            if let Some(hit) = cache.get(&key).and_then(|v| {
                v.iter()
                    .find(|(e, s, _)| (Arc::ptr_eq(s, schema) || s == schema) && e == expr)
            }) {
                return Ok(Arc::clone(&hit.2));
            }
        }
        let planned = plan_physical(expr, schema, &self.props)?;
        if let Ok(mut cache) = self.plans.lock() {
            if cache.values().map(Vec::len).sum::<usize>() >= MAX_CACHED_PLANS {
                cache.clear();
            }
            cache.entry(key).or_default().push((
                expr.clone(),
                Arc::clone(schema),
                Arc::clone(&planned),
            ));
        }
        Ok(planned)
    }
}

/// Why an evaluation failed.
#[derive(Debug)]
pub enum EvalError {
    /// The expression does not compile against this batch's schema.
    Compile(Box<Diagnostic>),
    /// A value made the evaluation fail (e.g. `cast('abc' as bigint)`).
    Runtime(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::Compile(d) => write!(f, "{}", d.message),
            EvalError::Runtime(m) => f.write_str(m),
        }
    }
}

/// Evaluates `expr` on every row of `batch`.
pub fn evaluate(
    expr: &ast::Expr,
    batch: &RecordBatch,
    session: &Session,
) -> Result<ArrayRef, EvalError> {
    if !has_try(expr, false) {
        return evaluate_plain(expr, batch, session);
    }
    let mut batch = batch.clone();
    let mut hidden = 0;
    let rewritten = hoist_try(expr, &mut batch, session, &mut hidden, false)?;
    evaluate_plain(&rewritten, &batch, session)
}

/// Evaluates an expression whose `try` calls (outside lambdas) are already resolved.
fn evaluate_plain(
    expr: &ast::Expr,
    batch: &RecordBatch,
    session: &Session,
) -> Result<ArrayRef, EvalError> {
    let physical = session.plan(expr, &batch.schema())?;
    let value = physical
        .evaluate(batch)
        .map_err(|e| EvalError::Runtime(clean_runtime(&e.to_string())))?;
    value
        .into_array(batch.num_rows())
        .map_err(|e| EvalError::Runtime(e.to_string()))
}

/// Lowers `expr` against `schema` and plans it as a DataFusion physical expression.
fn plan_physical(
    expr: &ast::Expr,
    schema: &SchemaRef,
    props: &ExecutionProps,
) -> Result<Arc<dyn PhysicalExpr>, EvalError> {
    let schema = DFSchema::try_from(schema.as_ref().clone())
        .map_err(|e| EvalError::Runtime(e.to_string()))?;
    let logical = super::lower(expr, &schema).map_err(EvalError::Compile)?;
    let physical = datafusion_physical_expr::create_physical_expr(
        &logical,
        &schema,
        props,
        &PhysicalPlanningContext::default(),
    )
    .map_err(|e| EvalError::Runtime(e.to_string()))?;
    checked_arithmetic(physical).map_err(|e| EvalError::Runtime(e.to_string()))
}

/// Makes integer `+`, `-`, `*` fail on overflow instead of wrapping (Presto semantics).
fn checked_arithmetic(
    physical: Arc<dyn PhysicalExpr>,
) -> datafusion_common::Result<Arc<dyn PhysicalExpr>> {
    use datafusion_expr::Operator;
    physical
        .transform_up(|e| {
            let Some(b) = e.downcast_ref::<BinaryExpr>() else {
                return Ok(Transformed::no(e));
            };
            if !matches!(
                b.op(),
                Operator::Plus | Operator::Minus | Operator::Multiply
            ) {
                return Ok(Transformed::no(e));
            }
            let checked = BinaryExpr::new(Arc::clone(b.left()), *b.op(), Arc::clone(b.right()))
                .with_fail_on_overflow(true);
            Ok(Transformed::yes(Arc::new(checked) as Arc<dyn PhysicalExpr>))
        })
        .map(|t| t.data)
}

/// True when `e` has a `try(...)` call outside any lambda.
fn has_try(e: &ast::Expr, in_lambda: bool) -> bool {
    let mut found = false;
    e.for_each_child(&mut |c, lambda| found = found || has_try(c, in_lambda || lambda));
    found || (!in_lambda && is_try_call(e))
}

fn is_try_call(e: &ast::Expr) -> bool {
    matches!(&e.kind, ast::ExprKind::Call { name, args, .. } if name == "try" && args.len() == 1)
}

/// Rewrites `e` so that each `try(x)` outside lambdas becomes a hidden column of `batch` holding
/// `x` with failing rows NULL (innermost first).
fn hoist_try(
    e: &ast::Expr,
    batch: &mut RecordBatch,
    session: &Session,
    hidden: &mut usize,
    in_lambda: bool,
) -> Result<ast::Expr, EvalError> {
    if in_lambda || !has_try(e, false) {
        return Ok(e.clone());
    }
    let mut out = e.clone();
    let mut failure = None;
    out.for_each_child_mut(&mut |c, lambda| {
        if failure.is_some() {
            return;
        }
        match hoist_try(c, batch, session, hidden, lambda) {
            Ok(x) => *c = x,
            Err(err) => failure = Some(err),
        }
    });
    if let Some(err) = failure {
        return Err(err);
    }
    if !is_try_call(&out) {
        return Ok(out);
    }
    let ast::ExprKind::Call { args, .. } = &out.kind else {
        return Ok(out);
    };
    let values = evaluate_lenient(&args[0], batch, session)?;
    let name = format!("\u{1}try{}", *hidden);
    *hidden += 1;
    let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
    let mut columns = batch.columns().to_vec();
    fields.push(Arc::new(Field::new(
        &name,
        values.data_type().clone(),
        true,
    )));
    columns.push(values);
    *batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| EvalError::Runtime(e.to_string()))?;
    Ok(ast::Expr::new(ast::ExprKind::Column(name), out.span))
}

/// Evaluates `expr` with the rows that fail set to NULL (row by row only when some row fails).
fn evaluate_lenient(
    expr: &ast::Expr,
    batch: &RecordBatch,
    session: &Session,
) -> Result<ArrayRef, EvalError> {
    match evaluate_plain(expr, batch, session) {
        Ok(v) => return Ok(v),
        Err(EvalError::Compile(d)) => return Err(EvalError::Compile(d)),
        Err(EvalError::Runtime(_)) => {}
    }
    let schema = DFSchema::try_from(batch.schema().as_ref().clone())
        .map_err(|e| EvalError::Runtime(e.to_string()))?;
    let logical = super::lower(expr, &schema).map_err(EvalError::Compile)?;
    let data_type = logical
        .get_type(&schema)
        .map_err(|e| EvalError::Runtime(e.to_string()))?;
    let mut parts: Vec<ArrayRef> = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let v = match evaluate_plain(expr, &batch.slice(i, 1), session) {
            Ok(v) if v.data_type() == &data_type => v,
            Ok(_) | Err(EvalError::Runtime(_)) => new_null_array(&data_type, 1),
            Err(e) => return Err(e),
        };
        parts.push(v);
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|v| v.as_ref()).collect();
    if refs.is_empty() {
        return Ok(new_null_array(&data_type, 0));
    }
    arrow::compute::concat(&refs).map_err(|e| EvalError::Runtime(e.to_string()))
}

fn clean_runtime(msg: &str) -> String {
    msg.trim_start_matches("Execution error: ")
        .trim_start_matches("Arrow error: ")
        .to_string()
}

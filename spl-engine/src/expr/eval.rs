//! Vectorised evaluation of an SPL expression over an Arrow batch: lower against the batch's
//! schema, plan a DataFusion physical expression with the session's options (time zone), and
//! evaluate it. Plans are kept by the [`CompiledExpr`] a stage owns, per batch schema, so a
//! stream of batches with the same fields lowers and plans each expression once, and threads
//! evaluating it share the plan without a global lock.
//!
//! Two SLS/Presto rules are applied here rather than in lowering:
//! - integer `+`, `-`, `*` fail on overflow (Presto: "bigint addition overflow") instead of
//!   wrapping around;
//! - `try(x)` turns the row errors of `x` into NULL: each `try` outside a lambda is evaluated
//!   first (row by row when some rows fail) and its result joins the batch as a hidden column.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{new_null_array, Array, ArrayRef};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion_common::config::ConfigOptions;
use datafusion_common::tree_node::{Transformed, TreeNode};
use datafusion_common::DFSchema;
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion_physical_expr::expressions::BinaryExpr;
use datafusion_physical_expr::PhysicalExpr;
use spl_parser::{ast, Diagnostic};

use crate::cache::BoundedCache;
use crate::functions::geoip::{GeoIpConfig, GeoIpDb};
use crate::timezone::SessionTz;

/// Per-pipeline evaluation settings: the session time zone, carried to functions through
/// DataFusion's `execution.time_zone` option, and the IP geolocation database (a configuration
/// extension, [`GeoIpConfig`]). Planned expressions live in each stage's
/// [`CompiledExpr`], not here.
#[derive(Clone)]
pub struct Session {
    pub tz: SessionTz,
    /// The run's time range in unix seconds `[begin, end)` (`sls_begin_time`/`sls_end_time`
    /// of `make-series`), when the host gave one.
    pub time_range: Option<(i64, i64)>,
    props: ExecutionProps,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("tz", &self.tz).finish()
    }
}

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
            time_range: None,
            props,
        }
    }

    /// The session with `db` as the database of the IP geolocation functions
    /// ([`crate::functions::geoip`]); `None` leaves them without one.
    pub fn with_geoip(mut self, db: Option<Arc<GeoIpDb>>) -> Session {
        let mut config = self
            .props
            .config_options
            .as_deref()
            .cloned()
            .unwrap_or_default();
        config.extensions.insert(GeoIpConfig(db));
        self.props.config_options = Some(Arc::new(config));
        self
    }

    /// The session's IP geolocation database, if any.
    pub fn geoip(&self) -> Option<&Arc<GeoIpDb>> {
        self.props
            .config_options
            .as_deref()?
            .extensions
            .get::<GeoIpConfig>()?
            .0
            .as_ref()
    }

    pub(super) fn props(&self) -> &ExecutionProps {
        &self.props
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

/// Evaluates `expr` on every row of `batch`, planning it for this one call (stages keep a
/// [`CompiledExpr`] instead, which plans once per schema).
pub fn evaluate(
    expr: &ast::Expr,
    batch: &RecordBatch,
    session: &Session,
) -> Result<ArrayRef, EvalError> {
    CompiledExpr::new(expr.clone()).evaluate(batch, session)
}

/// The slot of the whole (try-resolved) expression in a [`CompiledExpr`]'s plan cache; hoisted
/// `try` arguments use their hidden-column number.
const WHOLE: usize = usize::MAX;

/// Planned expressions kept per compiled expression (slots × schemas); a stream rarely has more
/// than a few schemas, and a pathological one with a new schema per batch stays bounded.
pub const MAX_PLANS_PER_EXPR: usize = 16;

/// One cached plan: the slot (whole expression or hoisted `try` argument), the schema it was
/// planned for, and the plan.
type PlanKey = (usize, SchemaRef);

/// An SPL expression owned by a stage, with its physical plans per input schema. Evaluating it
/// on a batch whose schema was seen before only takes a shared read lock (threads with the same
/// schema never wait for each other); a new schema lowers and plans once.
pub struct CompiledExpr {
    expr: ast::Expr,
    has_try: bool,
    plans: BoundedCache<PlanKey, Arc<dyn PhysicalExpr>>,
    planned: AtomicUsize,
}

impl std::fmt::Debug for CompiledExpr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

impl Clone for CompiledExpr {
    /// The same expression with an empty plan cache.
    fn clone(&self) -> Self {
        CompiledExpr::new(self.expr.clone())
    }
}

impl From<ast::Expr> for CompiledExpr {
    fn from(expr: ast::Expr) -> Self {
        CompiledExpr::new(expr)
    }
}

impl CompiledExpr {
    pub fn new(expr: ast::Expr) -> CompiledExpr {
        CompiledExpr {
            has_try: has_try(&expr, false),
            expr,
            plans: BoundedCache::new(MAX_PLANS_PER_EXPR),
            planned: AtomicUsize::new(0),
        }
    }

    /// The expression as written (or as rewritten by the optimizer).
    pub fn expr(&self) -> &ast::Expr {
        &self.expr
    }

    /// The expression, for a rewrite; its plans are dropped.
    pub fn expr_mut(&mut self) -> &mut ast::Expr {
        self.plans.clear();
        // The rewrite may add or remove `try` calls: recheck after it, before any evaluation.
        self.has_try = true;
        &mut self.expr
    }

    /// How many times this expression was lowered and planned (for tests).
    pub fn plans_made(&self) -> usize {
        self.planned.load(Ordering::Relaxed)
    }

    /// How many plans are cached now (at most [`MAX_PLANS_PER_EXPR`]).
    pub fn cached_plans(&self) -> usize {
        self.plans.len()
    }

    /// Evaluates the expression on every row of `batch`.
    pub fn evaluate(&self, batch: &RecordBatch, session: &Session) -> Result<ArrayRef, EvalError> {
        if !self.has_try || !has_try(&self.expr, false) {
            return self.evaluate_slot(WHOLE, &self.expr, batch, session);
        }
        let mut batch = batch.clone();
        let mut hidden = 0;
        let rewritten = self.hoist_try(&self.expr, &mut batch, session, &mut hidden, false)?;
        self.evaluate_slot(WHOLE, &rewritten, &batch, session)
    }

    /// Evaluates the expression on `batch`, setting aside the rows it fails on: returns the
    /// values of the rows that evaluated (in order, as one batch) and each failed row with its
    /// message. A batch without failing rows is evaluated once; otherwise the failing rows are
    /// found by halving the batch, reusing the same plan (nothing is lowered or planned again).
    pub fn evaluate_isolating(
        &self,
        batch: &RecordBatch,
        session: &Session,
    ) -> Result<Isolation, EvalError> {
        let mut out = Isolation::default();
        self.isolate(batch, session, &mut out)?;
        Ok(out)
    }

    fn isolate(
        &self,
        batch: &RecordBatch,
        session: &Session,
        out: &mut Isolation,
    ) -> Result<(), EvalError> {
        match self.evaluate(batch, session) {
            Ok(values) => {
                out.good.push((batch.clone(), values));
                return Ok(());
            }
            Err(EvalError::Compile(d)) => return Err(EvalError::Compile(d)),
            Err(EvalError::Runtime(m)) if batch.num_rows() <= 1 => {
                out.failed.push((batch.clone(), m));
                return Ok(());
            }
            Err(EvalError::Runtime(_)) => {}
        }
        let rows = batch.num_rows();
        if rows <= SMALL_SLICE {
            for i in 0..rows {
                self.isolate(&batch.slice(i, 1), session, out)?;
            }
            return Ok(());
        }
        let half = rows / 2;
        self.isolate(&batch.slice(0, half), session, out)?;
        self.isolate(&batch.slice(half, rows - half), session, out)
    }

    /// The plan of `slot` for `schema`, lowering and planning `expr` on a miss.
    fn plan(
        &self,
        slot: usize,
        expr: &ast::Expr,
        schema: &SchemaRef,
        session: &Session,
    ) -> Result<Arc<dyn PhysicalExpr>, EvalError> {
        self.plans.get_or_try_insert(
            |(s, k)| *s == slot && (Arc::ptr_eq(k, schema) || k == schema),
            || (slot, Arc::clone(schema)),
            || {
                self.planned.fetch_add(1, Ordering::Relaxed);
                plan_physical(expr, schema, session.props())
            },
        )
    }

    /// Evaluates `expr` (the expression of `slot`, its `try` calls resolved) on `batch`.
    fn evaluate_slot(
        &self,
        slot: usize,
        expr: &ast::Expr,
        batch: &RecordBatch,
        session: &Session,
    ) -> Result<ArrayRef, EvalError> {
        let physical = self.plan(slot, expr, &batch.schema(), session)?;
        run(&physical, batch)
    }

    /// Rewrites `e` so that each `try(x)` outside lambdas becomes a hidden column of `batch`
    /// holding `x` with failing rows NULL (innermost first).
    fn hoist_try(
        &self,
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
            match self.hoist_try(c, batch, session, hidden, lambda) {
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
        let values = self.evaluate_lenient(*hidden, &args[0], batch, session)?;
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

    /// Evaluates `expr` (hoisted `try` argument number `slot`) with the rows that fail set to
    /// NULL; failing rows are found by halving, with the one plan.
    fn evaluate_lenient(
        &self,
        slot: usize,
        expr: &ast::Expr,
        batch: &RecordBatch,
        session: &Session,
    ) -> Result<ArrayRef, EvalError> {
        let physical = self.plan(slot, expr, &batch.schema(), session)?;
        let data_type = physical
            .data_type(&batch.schema())
            .map_err(|e| EvalError::Runtime(e.to_string()))?;
        let mut parts = Vec::new();
        lenient_parts(&physical, batch, &data_type, &mut parts);
        if parts.len() == 1 {
            return Ok(parts.remove(0));
        }
        let refs: Vec<&dyn Array> = parts.iter().map(|v| v.as_ref()).collect();
        if refs.is_empty() {
            return Ok(new_null_array(&data_type, 0));
        }
        arrow::compute::concat(&refs).map_err(|e| EvalError::Runtime(e.to_string()))
    }
}

/// Slices of at most this many rows are retried row by row rather than halved further.
const SMALL_SLICE: usize = 8;

/// What [`CompiledExpr::evaluate_isolating`] found: each evaluated slice with its values, and
/// each failed row with its message, both in row order.
#[derive(Debug, Default)]
pub struct Isolation {
    pub good: Vec<(RecordBatch, ArrayRef)>,
    pub failed: Vec<(RecordBatch, String)>,
}

/// Appends the values of `physical` over `batch` to `parts`, NULL for the rows that fail.
fn lenient_parts(
    physical: &Arc<dyn PhysicalExpr>,
    batch: &RecordBatch,
    data_type: &DataType,
    parts: &mut Vec<ArrayRef>,
) {
    let rows = batch.num_rows();
    match run(physical, batch) {
        Ok(v) if v.data_type() == data_type => return parts.push(v),
        Ok(_) if rows <= 1 => return parts.push(new_null_array(data_type, rows)),
        Err(_) if rows <= 1 => return parts.push(new_null_array(data_type, rows)),
        _ => {}
    }
    if rows <= SMALL_SLICE {
        for i in 0..rows {
            lenient_parts(physical, &batch.slice(i, 1), data_type, parts);
        }
        return;
    }
    let half = rows / 2;
    lenient_parts(physical, &batch.slice(0, half), data_type, parts);
    lenient_parts(physical, &batch.slice(half, rows - half), data_type, parts);
}

/// Runs a planned expression over `batch`.
fn run(physical: &Arc<dyn PhysicalExpr>, batch: &RecordBatch) -> Result<ArrayRef, EvalError> {
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

fn clean_runtime(msg: &str) -> String {
    msg.trim_start_matches("Execution error: ")
        .trim_start_matches("Arrow error: ")
        .to_string()
}

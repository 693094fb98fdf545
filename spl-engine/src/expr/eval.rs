//! Vectorised evaluation of an SPL expression over an Arrow batch: lower against the batch's
//! schema, plan a DataFusion physical expression with the session's options (time zone), and
//! evaluate it.
use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::record_batch::RecordBatch;
use datafusion_common::config::ConfigOptions;
use datafusion_common::DFSchema;
use datafusion_expr::execution_props::ExecutionProps;
use datafusion_expr::physical_planning_context::PhysicalPlanningContext;
use spl_parser::{ast, Diagnostic};

use crate::timezone::SessionTz;

/// Per-pipeline evaluation settings: the session time zone, carried to functions through
/// DataFusion's `execution.time_zone` option.
#[derive(Debug, Clone)]
pub struct Session {
    pub tz: SessionTz,
    props: ExecutionProps,
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
        Session { tz, props }
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
    let schema = DFSchema::try_from(batch.schema().as_ref().clone())
        .map_err(|e| EvalError::Runtime(e.to_string()))?;
    let logical = super::lower(expr, &schema).map_err(EvalError::Compile)?;
    let physical = datafusion_physical_expr::create_physical_expr(
        &logical,
        &schema,
        &session.props,
        &PhysicalPlanningContext::default(),
    )
    .map_err(|e| EvalError::Runtime(e.to_string()))?;
    let value = physical
        .evaluate(batch)
        .map_err(|e| EvalError::Runtime(clean_runtime(&e.to_string())))?;
    value
        .into_array(batch.num_rows())
        .map_err(|e| EvalError::Runtime(e.to_string()))
}

fn clean_runtime(msg: &str) -> String {
    msg.trim_start_matches("Execution error: ")
        .trim_start_matches("Arrow error: ")
        .to_string()
}

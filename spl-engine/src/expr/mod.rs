//! SPL SQL expressions in the engine: lowering the parser's expression AST to a DataFusion
//! logical `Expr` with SLS coercion applied ([`lower`]), and vectorised evaluation of it over an
//! Arrow batch ([`eval`]).
mod cast;
pub mod coerce;
pub mod eval;
pub(crate) mod lambda;
pub mod lower;

pub use eval::{evaluate, CompiledExpr, Isolation, Session};
pub use lower::lower;

//! SLS datetime functions (spec §7).
use super::FunctionDef;

/// The functions of this family.
pub fn functions() -> Vec<FunctionDef> {
    Vec::new()
}

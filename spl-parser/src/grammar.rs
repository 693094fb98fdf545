//! The pest parser generated from `grammar/spl.pest`: the grammar's `Rule`s, shared by AST
//! building (`parse.rs`), type names (`types.rs`) and syntax-error translation
//! (`syntax_error.rs`), which all import it from here.
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "../../grammar/spl.pest"]
pub(crate) struct SplGrammar;

//! The SPL engine: lowers a parsed SPL program to a plan of Arrow-columnar operators and runs it.
pub mod batch;
mod bytes;
pub mod codec;
pub mod conformance;
pub mod docs;
pub mod expr;
pub mod functions;
pub mod groups;
pub mod jsonpath;
pub mod ops;
pub mod optimize;
pub mod pipeline;
pub mod plan;
pub mod pushdown;
pub mod regex_seq;
pub mod render;
pub mod timezone;
pub mod types;

//! The `spl._native` Python extension module: compiles SPL with the same path as the `spl` CLI
//! and runs it through the engine's executor over Arrow data handed in and out through the
//! Arrow PyCapsule interface. The Python package `spl` (python/spl) re-exports it and adds the
//! Ray and Spark integrations.
//!
//! - [`diag`]: compile diagnostics as Python values and the `SplError` exception.
//! - [`arrow_io`]: Arrow C Data / C Stream capsules in and out, tables with one schema.
//! - [`columns`]: input columns as the engine's field types.
//! - [`pipeline`]: `Pipeline` (`process`, `explain`) and its `Result`.
//! - [`files`]: `Pipeline.run_files`, the streaming run over files on a background thread.
use pyo3::prelude::*;

mod arrow_io;
mod columns;
mod diag;
mod files;
mod pipeline;

use diag::{Diagnostic, SplError};
use spl_engine::pipeline::{Options, Profile};

/// Parses SPL text and prints it in canonical form (what `spl fmt` prints, without the final
/// newline). A syntax error raises `SplError` with its diagnostics.
#[pyfunction]
#[pyo3(signature = (text))]
fn format(text: &str) -> PyResult<String> {
    match spl_parser::parse(text) {
        Ok(program) => Ok(program.to_string()),
        Err(d) => Err(diag::spl_error(&d, text)),
    }
}

/// Checks SPL text under a profile (what `spl check` checks: syntax, options, datasets,
/// functions, instruction availability and limits) and returns its diagnostics: errors for an
/// invalid program, warnings (possibly none) for a valid one. Never raises for a bad program;
/// a `Diagnostic` has `severity`, `code`, `message`, `line`, `column` and more.
#[pyfunction]
#[pyo3(signature = (text, profile = "cli"))]
fn check(text: &str, profile: &str) -> PyResult<Vec<Diagnostic>> {
    let profile = parse_profile(profile)?;
    let diags = match spl_engine::pipeline::Pipeline::compile(text, &Options::new(profile)) {
        Ok(p) => p.warnings,
        Err(d) => d,
    };
    Ok(diag::diagnostics(&diags, text))
}

/// `profile` by name (`cli`, `logtail` or `agent`, `consumer`, `transform`, `scan`); a `ValueError` names them.
pub(crate) fn parse_profile(name: &str) -> PyResult<Profile> {
    Profile::parse(name).ok_or_else(|| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "unknown profile {name:?} (one of: {})",
            Profile::ALL
                .iter()
                .map(|p| p.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SplError", m.py().get_type::<SplError>())?;
    m.add_class::<Diagnostic>()?;
    m.add_class::<pipeline::Pipeline>()?;
    m.add_class::<pipeline::ProcessResult>()?;
    m.add_class::<files::FileRun>()?;
    m.add_class::<arrow_io::ArrowStream>()?;
    m.add_function(wrap_pyfunction!(pipeline::compile, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(format, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline::rows, m)?)?;
    m.add_function(wrap_pyfunction!(pipeline::json_lines, m)?)?;
    m.add("DEFAULT_CHUNK_SIZE", spl_input::DEFAULT_CHUNK_SIZE)?;
    Ok(())
}

//! Compile diagnostics as Python values ([`Diagnostic`]) and the exception `spl.SplError`,
//! which carries them (`.diagnostics`) and renders like `spl check` (`str(e)`).
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use serde_json::Value;
use spl_parser::diagnostic::Diagnostics;

create_exception!(
    spl,
    SplError,
    PyException,
    "A program that does not compile (`.diagnostics` lists why; `str()` renders them as \
     `spl check` does), or a run that failed (`.code` is the engine's error code)."
);

/// One finding about a program: where (1-based line and column of its primary label) and why.
#[pyclass(frozen, get_all, module = "spl")]
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// `"error"` or `"warning"`.
    pub severity: String,
    /// Stable code, e.g. `"E0001"`.
    pub code: String,
    /// Short name of the code, e.g. `"syntax-error"`.
    pub name: String,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The label under the primary span.
    pub label: String,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!(
            "Diagnostic({} {} at {}:{}: {:?})",
            self.severity, self.code, self.line, self.column, self.message
        )
    }

    fn __str__(&self) -> String {
        format!(
            "{}[{}]: {} (line {}, column {})",
            self.severity, self.code, self.message, self.line, self.column
        )
    }
}

/// Every diagnostic of `diags` with positions in `source`.
pub fn diagnostics(diags: &Diagnostics, source: &str) -> Vec<Diagnostic> {
    let Value::Array(items) = diags.to_json(source) else {
        return Vec::new();
    };
    items.iter().map(one).collect()
}

fn one(d: &Value) -> Diagnostic {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let num = |v: &Value| v.as_u64().unwrap_or(0) as usize;
    let labels = d["labels"].as_array().cloned().unwrap_or_default();
    let primary = labels
        .iter()
        .find(|l| l["primary"].as_bool() == Some(true))
        .or(labels.first())
        .cloned()
        .unwrap_or(Value::Null);
    Diagnostic {
        severity: text(&d["severity"]),
        code: text(&d["code"]),
        name: text(&d["name"]),
        message: text(&d["message"]),
        line: num(&primary["line"]),
        column: num(&primary["column"]),
        end_line: num(&primary["end_line"]),
        end_column: num(&primary["end_column"]),
        label: text(&primary["message"]),
        notes: d["notes"]
            .as_array()
            .map(|n| n.iter().map(text).collect())
            .unwrap_or_default(),
        help: d["help"].as_str().map(str::to_string),
    }
}

/// `SplError` for a program that does not compile: the message is the rendering of `spl check`
/// (no colour), `.diagnostics` the list, `.code` the first error's code.
pub fn spl_error(diags: &Diagnostics, source: &str) -> PyErr {
    let rendered = diags.render("<spl>", source, false);
    let list = diagnostics(diags, source);
    let code = list
        .iter()
        .find(|d| d.severity == "error")
        .map(|d| d.code.clone());
    Python::attach(|py| {
        let err = SplError::new_err(rendered.trim_end().to_string());
        let value = err.value(py);
        let set = || -> PyResult<()> {
            value.setattr("diagnostics", list)?;
            value.setattr("code", code)?;
            Ok(())
        };
        match set() {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// `SplError` for a run that failed (fail policy, budget, unreadable input): `.code` is the
/// engine's error code when there is one, `.diagnostics` is empty.
pub fn run_error(message: String, code: Option<&str>) -> PyErr {
    Python::attach(|py| {
        let err = SplError::new_err(message);
        let value = err.value(py);
        let set = || -> PyResult<()> {
            value.setattr("diagnostics", Vec::<Diagnostic>::new())?;
            value.setattr("code", code)?;
            Ok(())
        };
        match set() {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

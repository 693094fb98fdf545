//! `spl.compile` and the compiled `Pipeline`: the same compile path as the `spl` CLI
//! (`Pipeline::compile` with a profile, time zone and error policy), `process` through the
//! executor's batch entry ([`spl_engine::exec::run_batch`]) with the GIL released, and the
//! `Result` it returns (outputs per dataset, error rows, per-stage stats). Also `spl.rows` and
//! `spl.json_lines`: Arrow data rendered as `spl run` renders it (§18.4).
use std::sync::Arc;

use arrow::array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use spl_engine::codec::{Encoder, LineFormat};
use spl_engine::exec::{self, BatchOutput};
use spl_engine::pipeline::{ErrorPolicy, Options, ProcessError};
use spl_engine::render::Renderer;
use spl_engine::timezone::SessionTz;

use crate::arrow_io::{self, Imported};
use crate::diag::{self, Diagnostic};

/// Compiles SPL text into a `Pipeline`, as `spl run` compiles it.
///
/// `profile`: where the pipeline will run (`cli`, `logtail`/`agent`, `consumer`, `transform`,
/// `scan`), which decides the instructions it may use, its limits and its default error policy.
/// `timezone`: the session time zone (`UTC`, `+08:00`, `Asia/Shanghai`).
/// `error_policy`: `error-stream` (failed rows go to `Result.errors`), `pass-through`, `drop`
/// or `fail` (a failing row raises `SplError`); default: the profile's.
///
/// A program that does not compile raises `spl.SplError`; its `.diagnostics` list the errors
/// (code, message, line, column) and `str(error)` renders them as `spl check` does.
#[pyfunction]
#[pyo3(signature = (text, profile = "cli", timezone = "UTC", error_policy = None))]
pub fn compile(
    text: &str,
    profile: &str,
    timezone: &str,
    error_policy: Option<&str>,
) -> PyResult<Pipeline> {
    let mut options = Options::new(crate::parse_profile(profile)?);
    options.timezone = SessionTz::parse(timezone)
        .map_err(|e| PyValueError::new_err(format!("time zone {timezone:?}: {e}")))?;
    options.error_policy = error_policy.map(parse_policy).transpose()?;
    match spl_engine::pipeline::Pipeline::compile(text, &options) {
        Ok(p) => Ok(Pipeline {
            warnings: diag::diagnostics(&p.warnings, text),
            names: p.unique_output_names(),
            inner: Arc::new(p),
            options,
        }),
        Err(d) => Err(diag::spl_error(&d, text)),
    }
}

fn parse_policy(name: &str) -> PyResult<ErrorPolicy> {
    Ok(match name {
        "error-stream" | "error_stream" => ErrorPolicy::ErrorStream,
        "pass-through" | "pass_through" => ErrorPolicy::PassThrough,
        "drop" => ErrorPolicy::Drop,
        "fail" => ErrorPolicy::Fail,
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown error policy {name:?} (one of: error-stream, pass-through, drop, fail)"
            )))
        }
    })
}

fn policy_name(p: ErrorPolicy) -> &'static str {
    match p {
        ErrorPolicy::ErrorStream => "error-stream",
        ErrorPolicy::PassThrough => "pass-through",
        ErrorPolicy::Drop => "drop",
        ErrorPolicy::Fail => "fail",
    }
}

/// A compiled SPL program. Immutable and safe to share between threads: `process` and
/// `run_files` release the GIL while the engine works, so threads run in parallel.
#[pyclass(frozen, module = "spl")]
pub struct Pipeline {
    pub(crate) inner: Arc<spl_engine::pipeline::Pipeline>,
    pub(crate) options: Options,
    /// Output names, unique.
    pub(crate) names: Vec<String>,
    warnings: Vec<Diagnostic>,
}

#[pymethods]
impl Pipeline {
    /// Runs the pipeline over `data` and returns a `Result`.
    ///
    /// `data` is anything that exports Arrow through the PyCapsule interface
    /// (`__arrow_c_stream__` or `__arrow_c_array__`): a pyarrow Table, RecordBatch or
    /// RecordBatchReader, a Polars DataFrame, a DuckDB relation, a pandas DataFrame (pandas ≥
    /// 2.2). Its batches form one stream (`stats`, `sort` and `limit` see all of them). Text
    /// columns are read in place (no copy); other scalar columns become text (SPL fields are
    /// text); `__time__`/`__time_ns_part__` become BIGINT. Output columns share the input's
    /// buffers wherever the pipeline left them unchanged.
    ///
    /// Under the `fail` error policy a failing row raises `SplError` (with `.code`), as does a
    /// batch over a budget of the profile.
    fn process(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<ProcessResult> {
        let imported = arrow_io::import(data)?;
        let pipeline = self.inner.clone();
        let out = py.detach(move || run(&pipeline, imported))?;
        ProcessResult::new(py, self, out)
    }

    /// Streams files through the executor of `spl run` and yields `(dataset, batch)` pairs:
    /// `dataset` is an output's name (`Pipeline.outputs`) or `"__error__"` for error rows,
    /// `batch` a `pyarrow.RecordBatch`, in input order.
    ///
    /// Files are decompressed when they start with the gzip or zstd magic bytes; `input_format`
    /// is `"json"`, `"raw"` (each line becomes `content`) or `"csv"`, or `None`: CSV for `.csv`
    /// files, JSON when a file's first non-blank line starts with `{`, raw otherwise (per file).
    /// `threads` worker threads decode and process chunks of `chunk_size` bytes; the GIL is
    /// released while they work. A file that cannot be read, or a failure under the `fail`
    /// policy, raises `SplError` from the iteration. `.totals` (a dict) is set at the end.
    #[pyo3(signature = (paths, input_format = None, threads = 1, chunk_size = spl_input::DEFAULT_CHUNK_SIZE))]
    fn run_files(
        &self,
        paths: Vec<std::path::PathBuf>,
        input_format: Option<&str>,
        threads: usize,
        chunk_size: usize,
    ) -> PyResult<crate::files::FileRun> {
        crate::files::FileRun::start(&self.inner, paths, input_format, threads, chunk_size)
    }

    /// The plan that runs (what `spl explain` prints): per statement its stages in run order
    /// with the fields each reads, writes and removes, then the optimizer's rewrites.
    /// `written=True`: the plan as written.
    #[pyo3(signature = (written = false))]
    fn explain(&self, written: bool) -> String {
        if written {
            self.inner.written_plan_text()
        } else {
            self.inner.plan_text()
        }
    }

    /// The names of the emitted datasets, in statement order (`output1`… when unnamed; a
    /// dataset emitted twice gets `-2`, `-3`… as `spl run` names its files).
    #[getter]
    fn outputs(&self) -> Vec<String> {
        self.names.clone()
    }

    /// Warnings from compilation (a list of `Diagnostic`).
    #[getter]
    fn warnings(&self) -> Vec<Diagnostic> {
        self.warnings.clone()
    }

    /// The program text.
    #[getter]
    fn source(&self) -> String {
        self.inner.source.clone()
    }

    #[getter]
    fn profile(&self) -> &'static str {
        self.options.profile.name()
    }

    #[getter]
    fn timezone(&self) -> String {
        self.options.timezone.to_string()
    }

    #[getter]
    fn error_policy(&self) -> &'static str {
        policy_name(self.inner.error_policy())
    }

    fn __repr__(&self) -> String {
        format!(
            "Pipeline({:?}, profile={:?}, outputs={:?})",
            self.inner.source,
            self.options.profile.name(),
            self.outputs()
        )
    }
}

/// Reads `imported` and runs `pipeline` over its batches as one stream; one batch goes through
/// [`exec::run_batch`], several through one run of the pipeline.
fn run(pipeline: &spl_engine::pipeline::Pipeline, imported: Imported) -> PyResult<BatchOutput> {
    let (schema, batches) = imported.batches().map_err(arrow_io::value_error)?;
    let mut batches = batches
        .iter()
        .map(crate::columns::to_engine)
        .collect::<Result<Vec<_>, _>>()
        .map_err(arrow_io::value_error)?;
    let result = if batches.len() <= 1 {
        let batch = match batches.pop() {
            Some(b) => b,
            None => crate::columns::to_engine(&RecordBatch::new_empty(schema))
                .map_err(arrow_io::value_error)?,
        };
        exec::run_batch(pipeline, batch)
    } else {
        stream(pipeline, batches).and_then(exec::batch::from_outputs)
    };
    result.map_err(|e| diag::run_error(e.to_string(), Some(e.code())))
}

/// Several batches through one run of `pipeline` (buffering stages see them all).
fn stream(
    pipeline: &spl_engine::pipeline::Pipeline,
    batches: Vec<RecordBatch>,
) -> Result<spl_engine::pipeline::Outputs, ProcessError> {
    let mut run = pipeline.start();
    let mut all = spl_engine::pipeline::Outputs::default();
    for b in batches {
        all.append(run.push(b)?);
        if run.is_done() {
            break;
        }
    }
    all.append(run.finish()?);
    Ok(all)
}

/// What `Pipeline.process` produced.
#[pyclass(frozen, name = "Result", module = "spl")]
pub struct ProcessResult {
    /// Dataset name → `pyarrow.Table`, in statement order.
    #[pyo3(get)]
    outputs: Py<PyDict>,
    /// Failed rows (error-stream policy) with `__error__` and every input field.
    #[pyo3(get)]
    errors: Py<PyAny>,
    /// Per stage: `chain`, `stage` (1-based), `instruction`, `rows_in`, `rows_out`, `errors`,
    /// `nanos`.
    #[pyo3(get)]
    stats: Py<PyList>,
    /// Rows that failed and were passed through or dropped by the error policy.
    #[pyo3(get)]
    policy_error_rows: u64,
    /// Batches over a budget that the error policy passed through or dropped.
    #[pyo3(get)]
    budget_exceeded: u64,
    /// The first such budget error, as text.
    #[pyo3(get)]
    budget_error: Option<String>,
}

impl ProcessResult {
    fn new(py: Python<'_>, pipeline: &Pipeline, out: BatchOutput) -> PyResult<ProcessResult> {
        let outputs = PyDict::new(py);
        for (name, batches) in pipeline.names.iter().zip(out.datasets) {
            outputs.set_item(name, arrow_io::to_pyarrow_table(py, batches)?)?;
        }
        let errors = arrow_io::to_pyarrow_table(py, out.error_rows)?;
        let stats = PyList::empty(py);
        let names = pipeline.inner.stage_names();
        for (ci, chain) in out.stats.iter().enumerate() {
            for (si, s) in chain.iter().enumerate() {
                let d = PyDict::new(py);
                d.set_item("chain", ci + 1)?;
                d.set_item("stage", si + 1)?;
                let name = names
                    .get(ci)
                    .and_then(|c| c.get(si))
                    .copied()
                    .unwrap_or(s.instruction);
                d.set_item("instruction", name)?;
                d.set_item("rows_in", s.rows_in)?;
                d.set_item("rows_out", s.rows_out)?;
                d.set_item("errors", s.errors)?;
                d.set_item("nanos", s.nanos)?;
                stats.append(d)?;
            }
        }
        Ok(ProcessResult {
            outputs: outputs.unbind(),
            errors: errors.unbind(),
            stats: stats.unbind(),
            policy_error_rows: out.policy_error_rows,
            budget_exceeded: out.budget_exceeded,
            budget_error: out.budget_error.map(|e| format!("{e} [{}]", e.code())),
        })
    }
}

#[pymethods]
impl ProcessResult {
    /// The one output of a single-output program (`ValueError` when there are several).
    #[getter]
    fn output<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let outputs = self.outputs.bind(py);
        if outputs.len() != 1 {
            return Err(PyValueError::new_err(format!(
                "the program has {} outputs; use Result.outputs[name]",
                outputs.len()
            )));
        }
        let (_, table) = outputs
            .iter()
            .next()
            .ok_or_else(|| PyValueError::new_err("no output"))?;
        Ok(table)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut parts = Vec::new();
        for (name, table) in self.outputs.bind(py).iter() {
            parts.push(format!("{}: {} rows", name, table.len()?));
        }
        Ok(format!(
            "Result(outputs={{{}}}, errors: {} rows)",
            parts.join(", "),
            self.errors.bind(py).len()?
        ))
    }
}

/// Every row of `data` (Arrow data, as `Pipeline.process` accepts) as a dict of field → text,
/// rendered as `spl run` renders values (§18.4) in `timezone`; NULL (absent) fields left out.
#[pyfunction]
#[pyo3(signature = (data, timezone = "UTC"))]
pub fn rows(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    timezone: &str,
) -> PyResult<Vec<std::collections::BTreeMap<String, String>>> {
    let renderer = renderer(timezone)?;
    let (_, batches) = arrow_io::import(data)?
        .batches()
        .map_err(arrow_io::value_error)?;
    Ok(py.detach(|| {
        batches
            .into_iter()
            .map(arrow_io::without_line_field)
            .flat_map(|b| renderer.rows(&b))
            .collect()
    }))
}

/// Every row of `data` as the JSON line `spl run -o json` writes for it (without the newline).
#[pyfunction]
#[pyo3(signature = (data, timezone = "UTC"))]
pub fn json_lines(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    timezone: &str,
) -> PyResult<Vec<String>> {
    let encoder = Encoder::new(LineFormat::Json, renderer(timezone)?);
    let (_, batches) = arrow_io::import(data)?
        .batches()
        .map_err(arrow_io::value_error)?;
    let bytes = py
        .detach(|| -> std::io::Result<Vec<u8>> {
            let mut out = Vec::new();
            for b in batches {
                encoder.write_batch(&arrow_io::without_line_field(b), &mut out)?;
            }
            Ok(out)
        })
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.lines().map(str::to_string).collect())
}

fn renderer(timezone: &str) -> PyResult<Renderer> {
    let tz = SessionTz::parse(timezone)
        .map_err(|e| PyValueError::new_err(format!("time zone {timezone:?}: {e}")))?;
    Ok(Renderer::new(tz))
}

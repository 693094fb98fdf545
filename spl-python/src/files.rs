//! `Pipeline.run_files`: the executor of `spl run` ([`spl_engine::exec::run`]) over files opened
//! as the CLI opens them ([`spl_input::source`]: gzip/zstd, format by option, extension or
//! content), on a background thread. Its sink hands each batch to a bounded channel; the Python
//! iterator ([`FileRun`]) waits on it with the GIL released. Dropping the iterator early closes
//! the channel, which stops the run.
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use arrow::array::RecordBatch;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use spl_engine::codec::InputFormat;
use spl_engine::exec::{self, DecodePlan, RunError, RunOptions, Sink, Totals};
use spl_engine::pipeline::ERROR_FIELD;

use crate::arrow_io;
use crate::diag;

/// Batches waiting for Python per run; the executor blocks when they are not taken.
const QUEUE: usize = 8;

enum Msg {
    /// Rows of output `usize`, or error rows for `None`.
    Rows(Option<usize>, RecordBatch),
    Done(Result<Totals, RunError>),
}

/// The run's end of the channel.
struct ChannelSink(SyncSender<Msg>);

impl ChannelSink {
    fn send(&self, msg: Msg) -> std::io::Result<()> {
        self.0
            .send(msg)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl Sink for ChannelSink {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        self.send(Msg::Rows(Some(output), batch.clone()))
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.send(Msg::Rows(None, batch.clone()))
    }
}

/// An iterator over `(dataset, pyarrow.RecordBatch)` pairs of a run over files.
#[pyclass(module = "spl")]
pub struct FileRun {
    receiver: Mutex<Option<Receiver<Msg>>>,
    names: Vec<String>,
    totals: Option<Py<PyDict>>,
}

impl FileRun {
    pub fn start(
        pipeline: &Arc<spl_engine::pipeline::Pipeline>,
        paths: Vec<std::path::PathBuf>,
        input_format: Option<&str>,
        threads: usize,
        chunk_size: usize,
    ) -> PyResult<FileRun> {
        let format = match input_format {
            None | Some("auto") => None,
            Some("json") => Some(InputFormat::Json),
            Some("raw") => Some(InputFormat::Raw),
            Some("csv") => Some(InputFormat::Csv),
            Some(other) => {
                return Err(PyValueError::new_err(format!(
                    "unknown input format {other:?} (one of: json, raw, csv, auto)"
                )))
            }
        };
        if chunk_size == 0 {
            return Err(PyValueError::new_err("chunk_size must be positive"));
        }
        let inner = Arc::clone(pipeline);
        let options = RunOptions {
            threads: threads.max(1),
            chunk_size,
            fail_fast: false,
            decode: DecodePlan::for_pipeline(&inner, false),
        };
        let (sender, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("spl-run-files".into())
            .spawn(move || {
                let mut sources = paths.iter().map(|path| spl_input::source(path, format));
                let mut sink = ChannelSink(sender);
                let result = exec::run(&inner, &mut sources, &options, &mut sink);
                // The receiver is gone when Python stopped iterating early.
                let _ = sink.0.send(Msg::Done(result));
            })
            .map_err(|e| PyValueError::new_err(format!("cannot start the run: {e}")))?;
        Ok(FileRun {
            receiver: Mutex::new(Some(receiver)),
            names: pipeline.outputs().iter().map(|o| o.name.clone()).collect(),
            totals: None,
        })
    }
}

#[pymethods]
impl FileRun {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        // The receiver leaves its slot while Python waits without the GIL; a second thread
        // calling `next` meanwhile sees the run as taken.
        let receiver = self
            .receiver
            .lock()
            .map_err(|_| PyValueError::new_err("run lock poisoned"))?
            .take();
        let Some(receiver) = receiver else {
            return Ok(None);
        };
        let (receiver, msg) = py.detach(move || {
            let msg = receiver.recv().ok();
            (receiver, msg)
        });
        if let Ok(mut slot) = self.receiver.lock() {
            *slot = Some(receiver);
        }
        let msg = match msg {
            Some(m) => m,
            None => {
                self.close();
                return Err(diag::run_error("the run stopped unexpectedly".into(), None));
            }
        };
        match msg {
            Msg::Rows(output, batch) => {
                let name = match output {
                    Some(i) => self.names.get(i).cloned().unwrap_or_default(),
                    None => ERROR_FIELD.to_string(),
                };
                let batch = arrow_io::to_pyarrow_batch(py, arrow_io::without_line_field(batch))?;
                Ok(Some(PyTuple::new(
                    py,
                    [name.into_pyobject(py)?.into_any(), batch],
                )?))
            }
            Msg::Done(result) => {
                self.close();
                match result {
                    Ok(t) => {
                        self.totals = Some(totals(py, &t, &self.names)?.unbind());
                        Ok(None)
                    }
                    Err(e) => Err(diag::run_error(e.to_string(), None)),
                }
            }
        }
    }

    /// Counters of the finished run (`None` until the iteration ended): lines, bytes, rows in,
    /// rows per output, error rows, and per-stage stats.
    #[getter]
    fn totals(&self, py: Python<'_>) -> Option<Py<PyDict>> {
        self.totals.as_ref().map(|t| t.clone_ref(py))
    }
}

impl FileRun {
    fn close(&mut self) {
        if let Ok(mut r) = self.receiver.lock() {
            r.take();
        }
    }
}

fn totals<'py>(py: Python<'py>, t: &Totals, names: &[String]) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("lines", t.lines)?;
    d.set_item("bytes", t.bytes)?;
    d.set_item("rows_in", t.rows_in)?;
    let rows_out = PyDict::new(py);
    for (name, n) in names.iter().zip(&t.rows_out) {
        rows_out.set_item(name, n)?;
    }
    d.set_item("rows_out", rows_out)?;
    d.set_item("error_rows", t.error_rows)?;
    d.set_item("input_errors", t.input_errors)?;
    d.set_item("invalid_utf8_lines", t.invalid_utf8_lines)?;
    d.set_item("policy_error_rows", t.policy_error_rows)?;
    d.set_item("elapsed_seconds", t.elapsed.as_secs_f64())?;
    Ok(d)
}

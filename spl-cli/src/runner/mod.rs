//! The CLI's adapter to the engine's executor ([`spl_engine::exec`]) for `spl run` and
//! `spl explain --analyze`: opens the input files (or stdin) one at a time as the run reaches
//! them, decompressed ([`spl_input`]), picks a file's format from `--input-format` or its
//! extension, and shows a progress bar on stderr for large inputs. Chunking, decoding,
//! ordered parallel delivery and error rows are the executor's.
use std::path::PathBuf;

use arrow::record_batch::RecordBatch;
use spl_engine::codec::{EncodedRows, InputFormat, RowEncoder};
use spl_engine::exec::{self, RunOptions};
use spl_engine::pipeline::Pipeline;

pub use spl_engine::exec::{DecodePlan, RunError, Sink, Totals};

/// What to read and how.
pub struct Input {
    pub files: Vec<PathBuf>,
    /// `None`: CSV for `.csv` files, else JSON when the first non-blank line starts with `{`,
    /// else raw (per file).
    pub format: Option<InputFormat>,
    pub threads: usize,
    pub chunk_size: usize,
    pub fail_fast: bool,
    /// Show a progress bar on stderr for large inputs.
    pub progress: bool,
    /// What the decoder materialises ([`DecodePlan::for_pipeline`]).
    pub decode: DecodePlan,
}

/// Runs `pipeline` over `input` into `sink`.
pub fn run(pipeline: &Pipeline, input: &Input, sink: &mut dyn Sink) -> Result<Totals, RunError> {
    let options = RunOptions {
        threads: input.threads,
        chunk_size: input.chunk_size,
        fail_fast: input.fail_fast,
        decode: input.decode.clone(),
    };
    let mut sources = input
        .files
        .iter()
        .map(|path| spl_input::source(path, input.format));
    let mut sink = WithProgress {
        sink,
        bar: progress_bar(input),
    };
    let result = exec::run(pipeline, &mut sources, &options, &mut sink);
    if let Some(bar) = &sink.bar {
        bar.finish_and_clear();
    }
    result
}

/// A progress bar on stderr for inputs over 8 MB when stderr is a terminal.
fn progress_bar(input: &Input) -> Option<indicatif::ProgressBar> {
    let total: u64 = input
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    if !input.progress || total < 8 << 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Some(bar)
}

/// The caller's sink, with delivered bytes shown on the progress bar.
struct WithProgress<'a> {
    sink: &'a mut dyn Sink,
    bar: Option<indicatif::ProgressBar>,
}

impl Sink for WithProgress<'_> {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        self.sink.rows(output, batch)
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.sink.error_rows(batch)
    }

    fn full(&self) -> bool {
        self.sink.full()
    }

    fn row_encoder(&self, output: usize) -> Option<RowEncoder> {
        self.sink.row_encoder(output)
    }

    fn encoded_rows(&mut self, output: usize, rows: &EncodedRows) -> std::io::Result<()> {
        self.sink.encoded_rows(output, rows)
    }

    fn progress(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
        }
        self.sink.progress(bytes);
    }
}

//! The streaming runner behind `spl run` and `spl explain --analyze`: reads inputs in chunks
//! that end at line ends, decodes and processes a window of chunks in parallel (rayon) and hands
//! results to a [`Sink`] in input order, so memory stays bounded by the window whatever the
//! input size. Pipelines with buffering stages (`stats`, `sort`, `limit`) decode in parallel
//! but go through one sequential run.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::AsArray;
use arrow::array::{ArrayRef, StringViewArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use spl_engine::codec::{
    first_non_blank_line, Decoded, Decoder, EncodedRows, InputError, InputFormat, RowEncoder,
    LINE_FIELD,
};
use spl_engine::pipeline::{
    error_value, with_error_column, Outputs, Pipeline, ProcessError, StageError, StageStats,
    ERROR_FIELD,
};
use spl_engine::plan::FieldSelection;

use crate::input::{Chunk, ChunkReader};

/// Where results go.
pub trait Sink {
    /// Rows of output `output` (index into [`Pipeline::outputs`]), in input order.
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()>;
    /// Failed rows, each with `__error__`.
    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()>;
    /// True when the sink wants no more rows (`--limit` reached).
    fn full(&self) -> bool {
        false
    }
    /// An encoder the worker threads may use for output `output`, so that encoding runs in
    /// parallel; its results arrive through [`Sink::encoded_rows`] instead of [`Sink::rows`].
    fn row_encoder(&self, _output: usize) -> Option<RowEncoder> {
        None
    }
    /// Rows of output `output` encoded by the worker threads, in input order.
    fn encoded_rows(&mut self, _output: usize, _rows: &EncodedRows) -> std::io::Result<()> {
        Ok(())
    }
}

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
    /// What the decoder materialises ([`Input::plan_for`]).
    pub decode: DecodePlan,
}

/// The fields a JSON decoder materialises, from the pipeline's plan.
#[derive(Debug, Clone, Default)]
pub struct DecodePlan {
    /// The fields that may matter (time fields are always decoded).
    pub fields: FieldSelection,
    /// Keep each row's input line (`spl_engine::codec::LINE_FIELD`): for writing unchanged
    /// rows as their line, and for giving error rows all their fields back.
    pub keep_lines: bool,
}

impl DecodePlan {
    /// The plan for `pipeline`: `lines_out` says the output writes rows that carry their input
    /// line as that line (JSON output). A pipeline that never changes a row then needs only the
    /// fields its filters read; one that drops all other fields (`project`, `stats`) needs only
    /// the fields read before that. Rows passed through by the error policy are written whole,
    /// so they need every field unless they are written as their line.
    pub fn for_pipeline(pipeline: &Pipeline, lines_out: bool) -> DecodePlan {
        let whole = DecodePlan::rows_as_lines(pipeline, lines_out);
        let mut fields = spl_engine::plan::input_fields(pipeline.plan(), whole);
        if pipeline.error_policy() == spl_engine::pipeline::ErrorPolicy::PassThrough && !whole {
            fields = FieldSelection::All;
        }
        DecodePlan {
            keep_lines: whole || fields != FieldSelection::All,
            fields,
        }
    }

    /// True when output rows are to be written as their input lines: the pipeline never
    /// changes a row and the output can write lines (JSON). Only then may an encoder use
    /// `LINE_FIELD` for output; otherwise the column only serves error rows.
    pub fn rows_as_lines(pipeline: &Pipeline, lines_out: bool) -> bool {
        lines_out && spl_engine::plan::rows_unchanged(pipeline.plan())
    }

    fn apply(&self, d: Decoder) -> Decoder {
        d.select_fields(self.fields.clone())
            .keep_lines(self.keep_lines)
    }
}

/// Counters of a whole run.
#[derive(Debug, Default)]
pub struct Totals {
    pub lines: u64,
    pub bytes: u64,
    pub rows_in: u64,
    /// Rows per output.
    pub rows_out: Vec<u64>,
    /// Rows that went to the error stream (stage errors and undecodable lines).
    pub error_rows: u64,
    pub input_errors: u64,
    pub invalid_utf8_lines: u64,
    /// Rows passed through or dropped by the profile's error policy.
    pub policy_error_rows: u64,
    pub stats: Vec<Vec<StageStats>>,
    pub elapsed: Duration,
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum RunError {
    /// Reading or writing failed.
    Io(String),
    /// `--fail-fast` met an error row, or a batch failed under the fail policy.
    Failed(String),
    /// The reader of the output went away (a closed pipe).
    OutputClosed,
}

/// One decoded and processed chunk.
struct Done {
    decoded: Decoded,
    first_line: u64,
    result: Result<Outputs, ProcessError>,
    /// Per output, its rows already encoded by the worker (when the sink has a row encoder).
    encoded: Vec<Option<EncodedRows>>,
}

/// Runs `pipeline` over `input` into `sink`.
pub fn run(pipeline: &Pipeline, input: &Input, sink: &mut dyn Sink) -> Result<Totals, RunError> {
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(input.threads)
        .build()
        .map_err(|e| RunError::Io(format!("cannot start worker threads: {e}")))?;
    let mut totals = Totals {
        rows_out: vec![0; pipeline.outputs().len()],
        ..Totals::default()
    };
    let mut sequential = pipeline.is_buffering().then(|| pipeline.start());
    let encoders: Vec<Option<RowEncoder>> = (0..pipeline.outputs().len())
        .map(|i| sink.row_encoder(i))
        .collect();
    let progress = Progress::new(input);
    'files: for path in &input.files {
        let mut reader =
            ChunkReader::open(&path.to_string_lossy(), input.chunk_size).map_err(io_err)?;
        let mut decoder: Option<Decoder> = input
            .format
            .or_else(|| by_extension(path))
            .map(|f| input.decode.apply(Decoder::new(f)));
        let mut window = read_window(&mut reader, input.threads)?;
        while !window.is_empty() {
            let decoder = prepare_decoder(&mut decoder, &mut window, &input.decode)?;
            let buffering = sequential.is_some();
            // The chunks become Arrow buffers without a copy; text columns are views into them.
            let chunks: Vec<(Buffer, u64)> = std::mem::take(&mut window)
                .into_iter()
                .map(|c| (Buffer::from_vec(c.data), c.first_line))
                .collect();
            let work = || {
                pool.install(|| {
                    chunks
                        .par_iter()
                        .map(|(data, first_line)| {
                            let decoded = decoder.decode_buffer(data, *first_line);
                            let result = if buffering {
                                Ok(Outputs::default())
                            } else {
                                pipeline.process(decoded.batch.clone())
                            };
                            let encoded = match &result {
                                Ok(out) => encode(&encoders, out),
                                Err(_) => Vec::new(),
                            };
                            Done {
                                decoded,
                                first_line: *first_line,
                                result,
                                encoded,
                            }
                        })
                        .collect::<Vec<Done>>()
                })
            };
            // With several workers, the next window is read while this one is processed.
            let (done, next) = if input.threads > 1 {
                std::thread::scope(|s| {
                    let worker = s.spawn(work);
                    let next = read_window(&mut reader, input.threads);
                    (worker.join(), next)
                })
            } else {
                (Ok(work()), Ok(Vec::new()))
            };
            let done =
                done.map_err(|_| RunError::Failed("a worker thread stopped unexpectedly".into()))?;
            for mut d in done {
                progress.advance(d.decoded.bytes);
                if let Some(run) = sequential.as_mut() {
                    d.result = run.push(d.decoded.batch.clone());
                }
                deliver(d, input.fail_fast, sink, &mut totals)?;
                if sink.full() || sequential.as_ref().is_some_and(|r| r.is_done()) {
                    break 'files;
                }
            }
            window = if input.threads > 1 {
                next?
            } else {
                read_window(&mut reader, input.threads)?
            };
        }
    }
    if let Some(mut run) = sequential {
        let result = run.finish();
        let empty = Decoded {
            batch: RecordBatch::new_empty(Arc::new(Schema::empty())),
            errors: Vec::new(),
            invalid_utf8_lines: 0,
            lines: 0,
            bytes: 0,
        };
        deliver(
            Done {
                decoded: empty,
                first_line: 0,
                result,
                encoded: Vec::new(),
            },
            input.fail_fast,
            sink,
            &mut totals,
        )?;
    }
    progress.finish();
    totals.elapsed = started.elapsed();
    Ok(totals)
}

/// The next chunks to process together: two per worker thread (fewer at the end of the file).
fn read_window(reader: &mut ChunkReader, threads: usize) -> Result<Vec<Chunk>, RunError> {
    let mut window = Vec::new();
    while window.len() < threads * 2 {
        match reader.next_chunk().map_err(io_err)? {
            Some(chunk) => window.push(chunk),
            None => break,
        }
    }
    Ok(window)
}

/// Auto mode: `.csv` files (also compressed) are CSV; others are detected from their content.
fn by_extension(path: &std::path::Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .unwrap_or(&name);
    name.ends_with(".csv").then_some(InputFormat::Csv)
}

/// The decoder for this file: detects the format from the first non-blank line and, for CSV,
/// takes the header line out of the first chunk.
fn prepare_decoder<'d>(
    decoder: &'d mut Option<Decoder>,
    window: &mut [Chunk],
    plan: &DecodePlan,
) -> Result<&'d Decoder, RunError> {
    let first = window
        .iter()
        .find_map(|c| first_non_blank_line(&c.data).map(|l| l.text));
    let d = decoder.get_or_insert_with(|| {
        plan.apply(Decoder::new(InputFormat::detect(first.unwrap_or_default())))
    });
    if d.needs_header() {
        // The header is the first non-blank line of the file; chunks before it are blank.
        for chunk in window.iter_mut() {
            let Some(line) = first_non_blank_line(&chunk.data) else {
                continue;
            };
            let (end, lines) = (line.end, line.lines);
            d.set_header(line.text).map_err(|e| {
                RunError::Failed(format!(
                    "line {}: bad CSV header: {e}",
                    chunk.first_line + lines - 1
                ))
            })?;
            chunk.data.drain(..end);
            chunk.first_line += lines;
            break;
        }
    }
    Ok(d)
}

/// Hands one processed chunk to the sink and counts it.
fn deliver(
    d: Done,
    fail_fast: bool,
    sink: &mut dyn Sink,
    totals: &mut Totals,
) -> Result<(), RunError> {
    totals.lines += d.decoded.lines;
    totals.bytes += d.decoded.bytes;
    totals.rows_in += d.decoded.batch.num_rows() as u64;
    totals.invalid_utf8_lines += d.decoded.invalid_utf8_lines;
    if !d.decoded.errors.is_empty() {
        totals.input_errors += d.decoded.errors.len() as u64;
        totals.error_rows += d.decoded.errors.len() as u64;
        if fail_fast {
            let e = &d.decoded.errors[0];
            return Err(RunError::Failed(format!("line {}: {}", e.line, e.message)));
        }
        sink.error_rows(&input_error_rows(&d.decoded.errors).map_err(arrow_err)?)
            .map_err(io_err)?;
    }
    let out = d.result.map_err(|e| {
        RunError::Failed(format!(
            "chunk starting at line {}: {e} [{}]",
            d.first_line,
            e.code()
        ))
    })?;
    if let Some(e) = out.errors.first() {
        if fail_fast {
            return Err(RunError::Failed(format!(
                "stage {} (`{}`): {} [{}]",
                e.stage, e.instruction, e.message, e.code
            )));
        }
    }
    for e in &out.errors {
        totals.error_rows += e.rows.num_rows() as u64;
        let rows = with_all_fields(&e.rows);
        let e = StageError {
            rows,
            code: e.code,
            message: e.message.clone(),
            statement: e.statement,
            stage: e.stage,
            instruction: e.instruction,
        };
        sink.error_rows(&with_error_column(&e).map_err(arrow_err)?)
            .map_err(io_err)?;
    }
    totals.policy_error_rows += out.error_rows;
    for (i, batches) in out.datasets.iter().enumerate() {
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            if let Some(n) = totals.rows_out.get_mut(i) {
                *n += b.num_rows() as u64;
            }
        }
        match d.encoded.get(i).and_then(Option::as_ref) {
            Some(encoded) => sink.encoded_rows(i, encoded).map_err(io_err)?,
            None => {
                for b in batches.iter().filter(|b| b.num_rows() > 0) {
                    sink.rows(i, b).map_err(io_err)?;
                }
            }
        }
    }
    spl_engine::pipeline::merge_stage_stats(&mut totals.stats, out.stats);
    Ok(())
}

/// Encodes each output's rows with its row encoder, where the sink gave one.
fn encode(encoders: &[Option<RowEncoder>], out: &Outputs) -> Vec<Option<EncodedRows>> {
    encoders
        .iter()
        .zip(&out.datasets)
        .map(|(encoder, batches)| {
            let encoder = encoder.as_ref()?;
            let mut rows = EncodedRows::default();
            for b in batches {
                // Encoding into memory fails only for a value the renderer cannot write; the
                // sink then encodes that output itself and reports it.
                encoder.encode(b, &mut rows).ok()?;
            }
            Some(rows)
        })
        .collect()
}

/// Rows decoded with only some fields get the others back from their input line
/// ([`LINE_FIELD`]), so the error stream shows whole rows whatever the decode plan: the fields
/// the row had when it failed, then the input's other fields.
fn with_all_fields(rows: &RecordBatch) -> RecordBatch {
    let Some(lines) = rows
        .column_by_name(LINE_FIELD)
        .and_then(|c| c.as_string_view_opt())
    else {
        return rows.clone();
    };
    let text: Vec<&str> = lines.iter().map(|l| l.unwrap_or("{}")).collect();
    let full = Decoder::new(InputFormat::Json).decode(text.join("\n").as_bytes(), 1);
    if full.batch.num_rows() != rows.num_rows() {
        return rows.clone(); // cannot happen: these lines decoded before
    }
    let mut fields: Vec<Arc<Field>> = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    let own = rows.schema();
    for (f, c) in own.fields().iter().zip(rows.columns()) {
        if f.name() != LINE_FIELD {
            fields.push(f.clone());
            columns.push(c.clone());
        }
    }
    let input = full.batch.schema();
    for (f, c) in input.fields().iter().zip(full.batch.columns()) {
        if own.index_of(f.name()).is_err() {
            fields.push(f.clone());
            columns.push(c.clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap_or_else(|_| rows.clone())
}

/// Undecodable lines as error rows: the line text in `content`, the error in `__error__`.
fn input_error_rows(errors: &[InputError]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let content: ArrayRef = Arc::new(StringViewArray::from_iter_values(
        errors.iter().map(|e| e.text.as_str()),
    ));
    let error: ArrayRef = Arc::new(StringViewArray::from_iter_values(errors.iter().map(|e| {
        error_value(
            spl_parser::codes::MALFORMED_INPUT.id,
            0,
            0,
            "input",
            Some(e.line),
            &e.message,
        )
    })));
    RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("content", DataType::Utf8View, true),
            Field::new(ERROR_FIELD, DataType::Utf8View, true),
        ])),
        vec![content, error],
    )
}

fn io_err(e: std::io::Error) -> RunError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        RunError::OutputClosed
    } else {
        RunError::Io(e.to_string())
    }
}

fn arrow_err(e: arrow::error::ArrowError) -> RunError {
    RunError::Io(e.to_string())
}

/// A progress bar on stderr for inputs over 8 MB when stderr is a terminal.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(input: &Input) -> Progress {
        let total: u64 = input
            .files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        if !input.progress || total < 8 << 20 {
            return Progress(None);
        }
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

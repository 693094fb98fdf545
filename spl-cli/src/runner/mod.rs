//! The streaming runner behind `spl run` and `spl explain --analyze`: reads inputs in chunks
//! that end at line ends ([`feed`]), decodes, processes and encodes each chunk on a worker
//! thread (rayon) as soon as it is read, and hands results to a [`Sink`] in input order. At
//! most a few chunks per thread are in flight, so memory stays bounded whatever the input
//! size, and chunk buffers are read into again once delivered. With one thread everything
//! runs on the calling thread. Pipelines with buffering stages (`stats`, `sort`, `limit`)
//! decode in parallel but go through one sequential run.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::AsArray;
use arrow::array::{ArrayRef, StringViewArray};
use arrow::buffer::Buffer;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use spl_engine::codec::{
    Decoded, Decoder, EncodedRows, InputError, InputFormat, RowEncoder, LINE_FIELD,
};
use spl_engine::pipeline::{
    error_value, with_error_column, Outputs, Pipeline, ProcessError, StageError, StageStats,
    ERROR_FIELD,
};
use spl_engine::plan::FieldSelection;

mod feed;

use feed::{Feed, Work};

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

    pub(super) fn apply(&self, d: Decoder) -> Decoder {
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
    /// The chunk's bytes, which the batch's text columns point into; read into again once
    /// nothing else holds them.
    chunk: Buffer,
}

/// Chunks in flight per worker thread: decoded, processed or waiting for their turn to be
/// delivered. Bounds memory (about this many chunks per thread) whatever the input size.
const IN_FLIGHT_PER_THREAD: usize = 3;

/// Runs `pipeline` over `input` into `sink`.
pub fn run(pipeline: &Pipeline, input: &Input, sink: &mut dyn Sink) -> Result<Totals, RunError> {
    let started = Instant::now();
    let threads = input.threads.max(1);
    let encoders: Vec<Option<RowEncoder>> = (0..pipeline.outputs().len())
        .map(|i| sink.row_encoder(i))
        .collect();
    let mut delivery = Delivery {
        totals: Totals {
            rows_out: vec![0; pipeline.outputs().len()],
            ..Totals::default()
        },
        sequential: pipeline.is_buffering().then(|| pipeline.start()),
        progress: Progress::new(input),
        fail_fast: input.fail_fast,
        sink,
    };
    let buffering = delivery.sequential.is_some();
    let work = |w: Work| -> Done {
        // The chunk becomes an Arrow buffer without a copy; text columns are views into it.
        let chunk = Buffer::from_vec(w.data);
        let decoded = w.decoder.decode_buffer(&chunk, w.first_line);
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
            first_line: w.first_line,
            result,
            encoded,
            chunk,
        }
    };
    let mut feed = Feed::new(input);
    if threads == 1 {
        while let Some(w) = feed.next()? {
            if delivery.deliver(work(w), &mut feed)? {
                break;
            }
        }
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| RunError::Io(format!("cannot start worker threads: {e}")))?;
        pool.in_place_scope(|scope| {
            stream(
                scope,
                &work,
                &mut feed,
                threads * IN_FLIGHT_PER_THREAD,
                &mut delivery,
            )
        })?;
    }
    if let Some(mut run) = delivery.sequential.take() {
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
                chunk: Buffer::from_vec(Vec::<u8>::new()),
            },
            input.fail_fast,
            delivery.sink,
            &mut delivery.totals,
        )?;
    }
    delivery.progress.finish();
    let mut totals = delivery.totals;
    totals.elapsed = started.elapsed();
    Ok(totals)
}

/// The parallel run: the calling thread reads chunks and hands each to the pool as soon as
/// fewer than `in_flight` are outstanding, and delivers results in input order as they
/// arrive, so the workers never wait for a window to fill or drain.
fn stream<'s>(
    scope: &rayon::Scope<'s>,
    work: &'s (impl Fn(Work) -> Done + Sync),
    feed: &mut Feed<'_>,
    in_flight: usize,
    delivery: &mut Delivery<'_>,
) -> Result<(), RunError> {
    let (results, arrived) = std::sync::mpsc::channel();
    let mut finished: std::collections::BTreeMap<u64, std::thread::Result<Done>> =
        std::collections::BTreeMap::new();
    let (mut sent, mut delivered) = (0u64, 0u64);
    let mut read_error = None;
    loop {
        while read_error.is_none() && sent - delivered < in_flight as u64 {
            match feed.next() {
                Ok(Some(w)) => {
                    let (results, seq) = (results.clone(), sent);
                    scope.spawn(move |_| {
                        let done =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(w)));
                        // The receiver only goes away when the run stopped early.
                        let _ = results.send((seq, done));
                    });
                    sent += 1;
                }
                Ok(None) => break,
                // Chunks read before the error are still delivered.
                Err(e) => read_error = Some(e),
            }
        }
        if delivered == sent {
            return read_error.map_or(Ok(()), Err);
        }
        let (seq, done) = arrived.recv().map_err(|_| worker_stopped())?;
        finished.insert(seq, done);
        while let Some(done) = finished.remove(&delivered) {
            delivered += 1;
            let done = done.map_err(|_| worker_stopped())?;
            if delivery.deliver(done, feed)? {
                return Ok(());
            }
        }
    }
}

/// A worker's result never came (it panicked; the panic message is on stderr).
fn worker_stopped() -> RunError {
    RunError::Failed("a worker thread stopped unexpectedly".into())
}

/// The sequential end of a run: results in input order go to the sink.
struct Delivery<'s> {
    totals: Totals,
    /// The one run of a pipeline with buffering stages, fed batch by batch.
    sequential: Option<spl_engine::pipeline::Run<'s>>,
    progress: Progress,
    fail_fast: bool,
    sink: &'s mut dyn Sink,
}

impl Delivery<'_> {
    /// Delivers one chunk's results and hands its buffer back to `feed`; true when the run
    /// should stop (the sink is full or the pipeline is done).
    fn deliver(&mut self, mut d: Done, feed: &mut Feed<'_>) -> Result<bool, RunError> {
        self.progress.advance(d.decoded.bytes);
        if let Some(run) = self.sequential.as_mut() {
            d.result = run.push(d.decoded.batch.clone());
        }
        let chunk = std::mem::replace(&mut d.chunk, Buffer::from_vec(Vec::<u8>::new()));
        deliver(d, self.fail_fast, self.sink, &mut self.totals)?;
        // Unless a stage kept some of its rows (e.g. `sort`), nothing points into it now.
        if let Ok(buffer) = chunk.into_vec::<u8>() {
            feed.reuse(buffer);
        }
        Ok(self.sink.full() || self.sequential.as_ref().is_some_and(|r| r.is_done()))
    }
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

pub(super) fn io_err(e: std::io::Error) -> RunError {
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

//! The streaming run ([`run`]): reads the sources in chunks ([`super::feed`]), decodes,
//! processes and encodes each chunk on a worker thread (rayon) as soon as it is read, and hands
//! results to a [`Sink`] in input order. At most [`IN_FLIGHT_PER_THREAD`] chunks per thread are
//! in flight, so memory stays bounded whatever the input size, and chunk buffers are read into
//! again once delivered. With one thread everything runs on the calling thread. Pipelines with
//! buffering stages (`stats`, `sort`, `limit`) decode in parallel but go through one sequential
//! run. A worker that panics ends the run with an error.
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::buffer::Buffer;
use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;

use super::chunks::DEFAULT_CHUNK_SIZE;
use super::decode_plan::DecodePlan;
use super::errors::{input_error_rows, stage_error_rows};
use super::feed::{Feed, Sources, Work};
use super::run_error::{io_err, RunError};
use crate::codec::{Decoded, EncodedRows, RowEncoder};
use crate::pipeline::{Outputs, Pipeline, ProcessError, StageStats};

/// The stack of each worker thread: 4× what the deepest expression the parser accepts needs in
/// a debug build (`spl_parser::MAX_EXPR_DEPTH`, see docs/decisions.md "Expression depth limit"),
/// instead of rayon's platform default; only the pages touched are ever committed.
const WORKER_STACK_BYTES: usize = 8 << 20;

/// Where results go, in input order.
pub trait Sink {
    /// Rows of output `output` (index into [`Pipeline::outputs`]), in input order. When the
    /// decode plan keeps input lines, a batch may carry the hidden [`crate::codec::LINE_FIELD`]
    /// column (each row's input line): a sink writes it as the row (the JSON encoder's
    /// `with_input_lines`) or drops it; it is never a field of the row.
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()>;
    /// Failed rows, each with `__error__` and every input field.
    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()>;
    /// True when the sink wants no more rows (a row limit reached).
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
    /// `bytes` more input bytes have been delivered (for a progress display).
    fn progress(&mut self, _bytes: u64) {}
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads; 1 runs everything on the calling thread.
    pub threads: usize,
    /// Bytes per chunk (a chunk always ends at a line end).
    pub chunk_size: usize,
    /// Stop at the first error row or undecodable line.
    pub fail_fast: bool,
    /// What the decoder materialises ([`DecodePlan::for_pipeline`]).
    pub decode: DecodePlan,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            threads: 1,
            chunk_size: DEFAULT_CHUNK_SIZE,
            fail_fast: false,
            decode: DecodePlan::all(),
        }
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
    /// Batches over a budget that the error policy passed through or dropped, and the first
    /// such budget error (which budget, at which stage).
    pub budget_exceeded: u64,
    pub budget_error: Option<ProcessError>,
    pub stats: Vec<Vec<StageStats>>,
    pub elapsed: Duration,
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
pub const IN_FLIGHT_PER_THREAD: usize = 3;

/// Runs `pipeline` over `sources` (in order) into `sink`.
pub fn run(
    pipeline: &Pipeline,
    sources: Sources<'_>,
    options: &RunOptions,
    sink: &mut dyn Sink,
) -> Result<Totals, RunError> {
    let started = Instant::now();
    // Under a memory ceiling, no more threads than their chunks in flight fit in it.
    let threads = options
        .threads
        .max(1)
        .min(pipeline.max_threads(IN_FLIGHT_PER_THREAD));
    let encoders: Vec<Option<RowEncoder>> = (0..pipeline.outputs().len())
        .map(|i| sink.row_encoder(i))
        .collect();
    let mut delivery = Delivery {
        totals: Totals {
            rows_out: vec![0; pipeline.outputs().len()],
            ..Totals::default()
        },
        sequential: pipeline.is_buffering().then(|| pipeline.start()),
        fail_fast: options.fail_fast,
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
    // Under a memory ceiling the chunks in flight must fit in it, however many threads run.
    let in_flight = if threads == 1 {
        1
    } else {
        threads * IN_FLIGHT_PER_THREAD
    };
    let chunk_size = pipeline.chunk_size(in_flight, options.chunk_size);
    let mut feed = Feed::new(sources, chunk_size, &options.decode);
    if threads == 1 {
        while let Some(w) = feed.next()? {
            if delivery.deliver(work(w), &mut feed)? {
                break;
            }
        }
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .stack_size(WORKER_STACK_BYTES)
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
            delivery.fail_fast,
            delivery.sink,
            &mut delivery.totals,
        )?;
    }
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
    sequential: Option<crate::pipeline::Run<'s>>,
    fail_fast: bool,
    sink: &'s mut dyn Sink,
}

impl Delivery<'_> {
    /// Delivers one chunk's results and hands its buffer back to `feed`; true when the run
    /// should stop (the sink is full or the pipeline is done).
    fn deliver(&mut self, mut d: Done, feed: &mut Feed<'_>) -> Result<bool, RunError> {
        self.sink.progress(d.decoded.bytes);
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
        sink.error_rows(&stage_error_rows(e).map_err(arrow_err)?)
            .map_err(io_err)?;
    }
    totals.policy_error_rows += out.error_rows;
    totals.budget_exceeded += out.budget_exceeded;
    if totals.budget_error.is_none() {
        totals.budget_error = out.budget_error;
    }
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
    crate::pipeline::merge_stage_stats(&mut totals.stats, out.stats);
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

/// A read or write error as a run error; a closed pipe is [`RunError::OutputClosed`].
fn arrow_err(e: arrow::error::ArrowError) -> RunError {
    RunError::Io(e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::exec::feed::Source;

    struct Count(u64);

    impl Sink for Count {
        fn rows(&mut self, _: usize, batch: &RecordBatch) -> std::io::Result<()> {
            self.0 += batch.num_rows() as u64;
            Ok(())
        }
        fn error_rows(&mut self, _: &RecordBatch) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A CSV header the decoder refuses ends the run with one clear message, whatever the error
    /// policy (found by fuzzing: the message said "bad CSV header" twice).
    #[test]
    fn a_bad_csv_header_fails_the_run_with_one_message() {
        use crate::pipeline::ErrorPolicy;
        for policy in [
            ErrorPolicy::ErrorStream,
            ErrorPolicy::PassThrough,
            ErrorPolicy::Drop,
        ] {
            let options = crate::pipeline::Options {
                error_policy: Some(policy),
                ..crate::pipeline::Options::default()
            };
            let pipeline = Pipeline::compile("*", &options).unwrap();
            let mut sources = std::iter::once(Ok(Source {
                name: "t".into(),
                reader: Box::new(Cursor::new(b"\n\"a\"b,c\n1,2\n".to_vec())),
                format: Some(crate::codec::InputFormat::Csv),
            }));
            let mut sink = Count(0);
            let e = run(&pipeline, &mut sources, &RunOptions::default(), &mut sink).unwrap_err();
            let RunError::Failed(message) = e else {
                panic!("{e:?}");
            };
            assert!(message.starts_with("line 2: bad CSV header: "), "{message}");
            assert_eq!(message.matches("bad CSV header").count(), 1, "{message}");
            assert_eq!(sink.0, 0);
        }
    }

    /// A worker that panics ends the parallel run with an error instead of a hang, whichever
    /// chunk it was working on; chunks before it are still delivered.
    #[test]
    fn a_worker_panic_is_an_error_not_a_hang() {
        let pipeline = Pipeline::compile("*", &crate::pipeline::Options::default()).unwrap();
        let text: String = (0..200).map(|i| format!("{{\"i\":{i}}}\n")).collect();
        for panic_at in [1, 40, 150] {
            let mut sources = std::iter::once(Ok(Source {
                name: "t".into(),
                reader: Box::new(Cursor::new(text.clone().into_bytes())),
                format: None,
            }));
            let decode = DecodePlan::all();
            let mut feed = Feed::new(&mut sources, 64, &decode);
            let mut sink = Count(0);
            let mut delivery = Delivery {
                totals: Totals::default(),
                sequential: None,
                fail_fast: false,
                sink: &mut sink,
            };
            let work = |w: Work| -> Done {
                let chunk = Buffer::from_vec(w.data);
                if w.first_line >= panic_at {
                    panic!("test panic in a worker");
                }
                let decoded = w.decoder.decode_buffer(&chunk, w.first_line);
                let result = pipeline.process(decoded.batch.clone());
                Done {
                    decoded,
                    first_line: w.first_line,
                    result,
                    encoded: Vec::new(),
                    chunk,
                }
            };
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let result =
                pool.in_place_scope(|scope| stream(scope, &work, &mut feed, 6, &mut delivery));
            assert_eq!(result.unwrap_err(), worker_stopped());
            // Only whole chunks before the failing one were delivered (a 64-byte chunk holds
            // at most 8 of these lines).
            assert!(
                sink.0 < panic_at + 8,
                "{} rows, panic at line {panic_at}",
                sink.0
            );
        }
    }
}

//! A fixed set of programs, compiled once per error policy under the CLI profile, run over
//! arbitrary bytes through the executor `spl run` uses (`spl_engine::exec::run`: chunking at line
//! ends, the source's decoder for raw lines, JSON lines or CSV with its header, the decode plan of
//! the pipeline, ordered delivery into a sink that encodes rows on the workers, splicing rows
//! from their input lines where the plan allows).
//!
//! Input: byte 0 picks the program, byte 1 the input format (raw, JSON, CSV or detected) and the
//! error policy, byte 2 the output (JSON lines with input lines, or raw), the thread count and
//! the chunk size; the rest is the input. Nothing may panic; every line is counted, and for the
//! programs that keep every row, rows in = rows out + error rows under each policy.
#![no_main]
use std::io::Cursor;
use std::sync::OnceLock;

use arrow::record_batch::RecordBatch;
use libfuzzer_sys::fuzz_target;
use spl_engine::codec::{EncodedRows, Encoder, InputFormat, LineFormat, RowEncoder};
use spl_engine::exec::{self, DecodePlan, RunError, RunOptions, Sink, Source};
use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline, Profile};
use spl_engine::render::Renderer;
use spl_engine::timezone::SessionTz;

/// (program, keeps every row: one output whose rows are the input rows).
const PROGRAMS: &[(&str, bool)] = &[
    (
        "* | where level = 'ERROR' or cast(status as bigint) >= 500",
        false,
    ),
    (
        "* | extend n = try_cast(status as bigint) * 2, u = upper(msg) | project-away content",
        true,
    ),
    ("* | extend n = cast(status as bigint) + 1", true),
    (
        "* | parse-regexp content, '(\\S+)\\s+(\\w+) (\\S+)' as ip, method, uri",
        true,
    ),
    ("* | parse-json content", true),
    ("* | parse-kv content, '&', '='", true),
    ("* | parse-csv content as a, b, c", true),
    ("* | project level, status, content", true),
    (
        "* | extend j = json_extract_scalar(content, '$.a'), l = length(content) | where l > 3",
        false,
    ),
    (
        ".let x = * | extend k = concat(level, '-', status); $x | where k like '%5%'; $x | project k",
        false,
    ),
    ("* | expand-values -path='$.b' content", false),
    ("* | stats c = count(*), m = max(cast(status as bigint)) by level", false),
    (
        "* | extend t = date_parse(ts, '%Y-%m-%d %H:%i:%s'), h = to_unixtime(now()) - __time__",
        true,
    ),
    ("* | sort status desc | limit 5", false),
    ("*", true),
];

const POLICIES: [ErrorPolicy; 4] = [
    ErrorPolicy::ErrorStream,
    ErrorPolicy::PassThrough,
    ErrorPolicy::Drop,
    ErrorPolicy::Fail,
];

const CHUNK_SIZES: [usize; 4] = [64, 256, 4096, exec::DEFAULT_CHUNK_SIZE];

fn pipelines() -> &'static Vec<Vec<Pipeline>> {
    static PIPELINES: OnceLock<Vec<Vec<Pipeline>>> = OnceLock::new();
    PIPELINES.get_or_init(|| {
        PROGRAMS
            .iter()
            .map(|(spl, _)| {
                POLICIES
                    .iter()
                    .map(|&policy| {
                        let options = Options {
                            error_policy: Some(policy),
                            ..Options::new(Profile::Cli)
                        };
                        Pipeline::compile(spl, &options)
                            .unwrap_or_else(|d| panic!("{spl}: {}", d.render("spl", spl, false)))
                    })
                    .collect()
            })
            .collect()
    })
}

/// Counts what reaches it; rows come encoded by the workers when an encoder is given.
struct Counting {
    encoder: RowEncoder,
    rows: Vec<u64>,
    error_rows: u64,
}

impl Sink for Counting {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        // The executor hands unencoded rows when the worker could not encode them: the sink
        // encodes them itself (and reports a value the renderer cannot write).
        let mut encoded = EncodedRows::default();
        self.encoder.encode(batch, &mut encoded)?;
        self.rows[output] += batch.num_rows() as u64;
        Ok(())
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        assert!(
            batch.column_by_name("__error__").is_some(),
            "error rows without __error__"
        );
        self.error_rows += batch.num_rows() as u64;
        Ok(())
    }

    fn row_encoder(&self, _output: usize) -> Option<RowEncoder> {
        Some(self.encoder.clone())
    }

    fn encoded_rows(&mut self, output: usize, rows: &EncodedRows) -> std::io::Result<()> {
        assert!(rows.row_ends.windows(2).all(|w| w[0] <= w[1]));
        assert!(rows.row_ends.last().is_none_or(|&e| e == rows.bytes.len()));
        self.rows[output] += rows.row_ends.len() as u64;
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let [program, mode, run, input @ ..] = data else {
        return;
    };
    let index = *program as usize % PROGRAMS.len();
    let (spl, keeps_rows) = PROGRAMS[index];
    let policy = (*mode as usize / 4) % POLICIES.len();
    let pipeline = &pipelines()[index][policy];
    let format = match mode % 4 {
        0 => Some(InputFormat::Raw),
        1 => Some(InputFormat::Json),
        2 => Some(InputFormat::Csv),
        _ => None,
    };
    let json_out = run & 1 == 0;
    let lines = DecodePlan::rows_as_lines(pipeline, json_out);
    let decode = DecodePlan::for_pipeline(pipeline, json_out);
    let encoder = Encoder::new(
        if json_out {
            LineFormat::Json
        } else {
            LineFormat::Raw
        },
        Renderer::new(SessionTz::UTC),
    )
    .with_input_lines(lines)
    .with_splice(decode.splice.as_ref());
    let options = RunOptions {
        threads: if run & 2 == 0 { 1 } else { 2 },
        chunk_size: CHUNK_SIZES[(*run as usize >> 2) % CHUNK_SIZES.len()],
        fail_fast: false,
        decode,
    };
    let mut sink = Counting {
        encoder: encoder.row_encoder(),
        rows: vec![0; pipeline.outputs().len()],
        error_rows: 0,
    };
    let mut sources = std::iter::once(Ok(Source {
        name: "fuzz".to_string(),
        reader: Box::new(Cursor::new(input.to_vec())),
        format,
    }));
    let totals = match exec::run(pipeline, &mut sources, &options, &mut sink) {
        Ok(totals) => totals,
        // A CSV header the decoder refuses ends the run under every policy (one message).
        Err(RunError::Failed(message))
            if format == Some(InputFormat::Csv) && message.contains("bad CSV header") =>
        {
            assert_eq!(message.matches("bad CSV header").count(), 1, "{message}");
            return;
        }
        Err(RunError::Failed(message)) => {
            assert_eq!(POLICIES[policy], ErrorPolicy::Fail, "{spl}: {message}");
            return;
        }
        // A value the encoder cannot write.
        Err(e) => {
            let message = e.to_string();
            assert!(!message.is_empty());
            return;
        }
    };
    assert_eq!(
        totals.rows_out, sink.rows,
        "{spl}: rows counted vs delivered"
    );
    assert_eq!(totals.error_rows, sink.error_rows, "{spl}: error rows");
    assert!(totals.input_errors <= totals.error_rows);
    assert!(totals.rows_in + totals.input_errors <= totals.lines);
    assert!(totals.bytes <= input.len() as u64);
    if !keeps_rows {
        return;
    }
    let rows_in = totals.rows_in;
    let rows_out = totals.rows_out[0];
    let stage_errors = totals.error_rows - totals.input_errors;
    match POLICIES[policy] {
        ErrorPolicy::ErrorStream => assert_eq!(
            rows_in,
            rows_out + stage_errors + totals.policy_error_rows,
            "rows in = rows out + error rows ({spl})"
        ),
        ErrorPolicy::PassThrough | ErrorPolicy::Fail => {
            assert_eq!(rows_in, rows_out, "{spl}")
        }
        ErrorPolicy::Drop => assert_eq!(rows_in, rows_out + totals.policy_error_rows, "{spl}"),
    }
});

//! `spl trace`: row provenance. Runs a pipeline over a sample with the engine's tracer
//! (`spl_engine::trace`) and prints, for each selected input row (`--row N`, `--where EXPR`,
//! or every row), the row entering and leaving each stage and why a stage dropped, split,
//! aggregated, reordered or failed it; `--summary` prints rows in/out/dropped/failed per stage
//! with the top reasons. Also decodes the sample for `spl play`.
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use arrow::record_batch::RecordBatch;
use spl_engine::codec::{first_non_blank_line, Decoder, InputError, InputFormat};
use spl_engine::pipeline::{Options, Pipeline};
use spl_engine::trace;

use crate::config::TraceConfig;

/// Reads `path` ('-' for stdin; gzip and zstd transparently).
pub(crate) fn read_sample(path: &Path) -> Result<Vec<u8>, String> {
    let (mut reader, _) = spl_input::open(&path.to_string_lossy()).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

/// Decodes a whole sample into one batch: `format`, or JSON when the first non-blank line
/// starts with `{`, else raw. Lines that cannot be decoded come back as errors.
pub(crate) fn decode_sample(
    bytes: &[u8],
    format: Option<InputFormat>,
) -> Result<(RecordBatch, Vec<InputError>), String> {
    let first = first_non_blank_line(bytes);
    let format = format.unwrap_or_else(|| InputFormat::detect(first.map_or(&[][..], |l| l.text)));
    let mut decoder = Decoder::new(format);
    let (body, first_line) = if decoder.needs_header() {
        match first {
            Some(l) => {
                decoder.set_header(l.text)?;
                (&bytes[l.end..], l.lines + 1)
            }
            None => (&bytes[..0], 1),
        }
    } else {
        (bytes, 1)
    };
    let decoded = decoder.decode(body, first_line);
    Ok((decoded.batch, decoded.errors))
}

/// The input rows (0-based) `--where EXPR` selects: those for which `* | where EXPR` keeps the
/// row.
pub(crate) fn select_where(
    input: &RecordBatch,
    expr: &str,
    options: &Options,
) -> Result<Vec<usize>, String> {
    let filter = Pipeline::compile(&format!("* | where {expr}"), options)
        .map_err(|d| d.render("--where", &format!("* | where {expr}"), false))?;
    let mut rows = Vec::new();
    for i in 0..input.num_rows() {
        let out = filter
            .process(input.slice(i, 1))
            .map_err(|e| format!("--where: {e}"))?;
        if out.rows() > 0 {
            rows.push(i);
        }
    }
    Ok(rows)
}

pub fn run(cfg: &TraceConfig) -> ExitCode {
    let pipeline = match super::compile(&cfg.source, &cfg.options) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bytes = match read_sample(&cfg.input) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let (batch, errors) = match decode_sample(&bytes, cfg.format) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {}: {e}", cfg.input.display());
            return ExitCode::from(1);
        }
    };
    for e in &errors {
        eprintln!(
            "warning: {}:{}: line not traced: {}",
            cfg.input.display(),
            e.line,
            e.message
        );
    }
    let t = match trace::trace(&pipeline, &batch) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let rows: Vec<usize> = match (&cfg.row, &cfg.where_) {
        (Some(n), _) => {
            if *n == 0 || *n as usize > batch.num_rows() {
                eprintln!(
                    "error: --row {n}: the input has {} row(s) (rows count from 1)",
                    batch.num_rows()
                );
                return ExitCode::from(super::EXIT_USAGE);
            }
            vec![*n as usize - 1]
        }
        (None, Some(expr)) => match select_where(&batch, expr, &cfg.options) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(super::EXIT_USAGE);
            }
        },
        (None, None) => (0..batch.num_rows()).collect(),
    };
    if cfg.summary {
        if cfg.json {
            outln!("{}", trace::summary_json(&t));
        } else {
            out!("{}", trace::summary_text(&t));
        }
        return ExitCode::SUCCESS;
    }
    if cfg.json {
        out!("{}", trace::trace_json(&t, &rows));
    } else {
        if rows.is_empty() {
            eprintln!("no input row selected");
        }
        out!("{}", trace::trace_text(&t, &rows));
    }
    ExitCode::SUCCESS
}

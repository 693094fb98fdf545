//! `spl explain`: print the plan that runs — the engine's optimized logical plan, per statement
//! its stages in run order (numbered by the stages as written) and per stage the fields it
//! reads, writes and removes — then each rewrite with its reason, the profile and its limits.
//! `--written` prints the plan as written instead; `--analyze FILE` also runs the pipeline over
//! FILE, discarding the rows, and prints rows in/out and time per stage.
use std::path::Path;
use std::process::ExitCode;

use arrow::record_batch::RecordBatch;
use spl_engine::codec::InputFormat;
use spl_engine::pipeline::{Options, Pipeline};

use crate::runner::{self, DecodePlan, Input, RunError, Sink};
use crate::source::SplSource;

pub fn run(
    source: &SplSource,
    options: &Options,
    analyze: Option<&Path>,
    input: Option<InputFormat>,
    written: bool,
) -> ExitCode {
    let pipeline = match super::compile(source, options) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if written {
        out!("{}", pipeline.written_plan_text());
    } else {
        out!("{}", pipeline.plan_text());
    }
    if let Some(line) = decode_line(&pipeline) {
        outln!("{line}");
    }
    outln!("{}", profile_line(&pipeline, options));
    let Some(path) = analyze else {
        return ExitCode::SUCCESS;
    };
    let input = Input {
        files: vec![path.to_path_buf()],
        format: input,
        threads: 1,
        chunk_size: spl_input::DEFAULT_CHUNK_SIZE,
        fail_fast: false,
        progress: false,
        decode: DecodePlan::for_pipeline(&pipeline, false),
    };
    match runner::run(&pipeline, &input, &mut Discard) {
        Ok(totals) => {
            outln!();
            out!("{}", super::run::stats_text(&pipeline, &totals, None));
            ExitCode::SUCCESS
        }
        Err(RunError::OutputClosed) => ExitCode::SUCCESS,
        Err(RunError::Io(e) | RunError::Failed(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn profile_line(p: &Pipeline, o: &Options) -> String {
    let l = o.profile.limits();
    let show = |v: Option<usize>| v.map_or("unlimited".to_string(), |v| v.to_string());
    format!(
        "profile {}: stages/statement {}, script bytes {}, batch memory {}, batch timeout {}, errors: {}, time zone {}",
        o.profile,
        show(l.max_stages),
        show(l.max_script_bytes),
        show(l.max_batch_memory),
        l.batch_timeout
            .map_or("unlimited".to_string(), |d| format!("{d:?}")),
        super::policy_name(p.error_policy()),
        o.timezone
    )
}

/// Counts rows and throws them away.
struct Discard;

impl Sink for Discard {
    fn rows(&mut self, _: usize, _: &RecordBatch) -> std::io::Result<()> {
        Ok(())
    }
    fn error_rows(&mut self, _: &RecordBatch) -> std::io::Result<()> {
        Ok(())
    }
}

/// What `spl run` decodes of JSON input for this pipeline, when not every field.
fn decode_line(pipeline: &Pipeline) -> Option<String> {
    use spl_engine::plan::FieldSelection;
    let json_out = DecodePlan::for_pipeline(pipeline, true);
    let (input, lines) = if spl_engine::plan::rows_unchanged(pipeline.plan()) {
        (
            "JSON input to JSON output",
            "; rows are written as their input lines",
        )
    } else {
        ("JSON input", "")
    };
    let time = "time fields";
    // Rows edited only by removing and adding fields are spliced from their lines.
    let spliced = json_out.splice.as_ref().map(|edit| {
        let decoded = match edit.read.as_deref() {
            None => "every field".to_string(),
            Some([]) => format!("only the {time}"),
            Some(read) => format!("only {} and the {time}", read.join(", ")),
        };
        format!(
            "JSON input to JSON output: rows are spliced from their input lines where they can be; those rows decode {decoded}"
        )
    });
    let fields = match &json_out.fields {
        FieldSelection::All => None,
        FieldSelection::Only(f) if f.is_empty() => {
            Some(format!("{input}: decodes only the {time}{lines}"))
        }
        FieldSelection::Only(f) => Some(format!(
            "{input}: decodes only {} and the {time}{lines}",
            f.join(", ")
        )),
        FieldSelection::AllBut(f) => Some(format!(
            "{input}: does not decode {} (removed before anything reads it)",
            f.join(", ")
        )),
    };
    match (fields, spliced) {
        (Some(f), Some(s)) => Some(format!("{f}\n{s}")),
        (f, s) => f.or(s),
    }
}

//! `spl run`: compile a pipeline, stream the inputs through it, write each output dataset
//! (stdout, or one file per dataset with `--output-dir`), error rows to `--errors FILE` or a
//! summary on stderr, the charts of `render` (`--chart FILE`, `--output-dir`, or text on a
//! terminal), and `--stats` at the end. Exit 0, 1 (runtime failure), 2 (usage/compile).
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use arrow::array::AsArray;
use arrow::record_batch::RecordBatch;
use spl_engine::codec::{EncodedRows, Encoder, LineFormat, RowEncoder};
use spl_engine::pipeline::{ErrorPolicy, Pipeline, ERROR_FIELD};
use spl_engine::render::Renderer;

use crate::chart;
use crate::config::RunConfig;
use crate::present::{OutputFormat, Presenter};
use crate::runner::{self, DecodePlan, Input, RunError, Sink, Totals};

/// Exit code for runtime failures.
const EXIT_RUNTIME: u8 = 1;

pub fn run(cfg: RunConfig) -> ExitCode {
    let pipeline = match super::compile(&cfg.source, &cfg.options) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Every input must be readable before any output is written.
    if let Err(e) = check_inputs(&cfg.files) {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    if cfg.files.iter().all(|f| f.as_os_str() == "-") && std::io::stdin().is_terminal() {
        eprintln!(
            "note: reading events from stdin (end with Ctrl-D); give input files after the SPL"
        );
    }
    let renderer = Renderer::new(cfg.options.timezone);
    let charts = match chart_jobs(&cfg, &pipeline) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut sink = match OutputSink::new(&cfg, &pipeline, renderer.clone(), charts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let input = Input {
        files: cfg.files.clone(),
        format: cfg.input,
        threads: cfg.threads,
        chunk_size: spl_input::DEFAULT_CHUNK_SIZE,
        fail_fast: cfg.fail_fast,
        progress: std::io::stderr().is_terminal(),
        decode: DecodePlan::for_pipeline(&pipeline, cfg.output == OutputFormat::Json),
    };
    let result = runner::run(&pipeline, &input, &mut sink);
    let closed = sink.close();
    let mut totals = match (result, closed) {
        (Ok(t), Ok(())) => t,
        // The reader of stdout went away (`spl run … | head`): stop quietly, like other filters.
        (Err(RunError::OutputClosed), _) | (Ok(_), Err(CloseError::OutputClosed)) => {
            return ExitCode::SUCCESS
        }
        (Err(RunError::Io(e) | RunError::Failed(e)), _) | (Ok(_), Err(CloseError::Io(e))) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    // Count what was written, not what the pipeline produced before `--limit` cut it.
    for (n, o) in totals.rows_out.iter_mut().zip(&sink.outputs) {
        *n = o.written;
    }
    let charted = draw_charts(&sink, &renderer);
    sink.errors.summarize(cfg.errors.as_deref());
    if totals.policy_error_rows > 0 {
        let what = match pipeline.error_policy() {
            ErrorPolicy::Drop => "dropped",
            _ => "passed through unchanged",
        };
        eprintln!(
            "warning: {} {} failed in the pipeline and {} {what} ({} policy of the {} profile)",
            totals.policy_error_rows,
            rows(totals.policy_error_rows),
            if totals.policy_error_rows == 1 {
                "was"
            } else {
                "were"
            },
            super::policy_name(pipeline.error_policy()),
            cfg.options.profile
        );
    }
    if let Some(e) = &totals.budget_error {
        // Which budget, where: the rows above were not failed by a data error.
        eprintln!(
            "warning: {} {} over a budget: {e} [{}]",
            totals.budget_exceeded,
            if totals.budget_exceeded == 1 {
                "batch was"
            } else {
                "batches were"
            },
            e.code()
        );
    }
    if totals.invalid_utf8_lines > 0 {
        let n = totals.invalid_utf8_lines;
        eprintln!(
            "warning: {n} input {} not valid UTF-8; invalid bytes were replaced with U+FFFD",
            if n == 1 { "line was" } else { "lines were" }
        );
    }
    if cfg.stats {
        let limited = cfg
            .limit
            .is_some_and(|l| sink.outputs.iter().any(|o| o.written >= l));
        eprint!(
            "{}",
            stats_text(&pipeline, &totals, limited.then_some(cfg.limit).flatten())
        );
    }
    if !charted {
        return ExitCode::from(EXIT_RUNTIME);
    }
    ExitCode::SUCCESS
}

/// Per output, the chart to draw and where: `--chart FILE` (the first charted output; the
/// others to `FILE-<dataset>`), `<dataset>.svg` in `--output-dir`, and text after the rows with
/// `--chart -` or when stdout is a terminal (and neither flag is given).
fn chart_jobs(cfg: &RunConfig, pipeline: &Pipeline) -> Result<Vec<Option<chart::Job>>, String> {
    let names = pipeline.unique_output_names();
    let charted = (0..names.len())
        .filter(|&i| pipeline.chart(i).is_some())
        .count();
    if charted == 0 {
        if cfg.chart.is_some() {
            return Err("--chart: no output of the program ends with `render <chart>`".into());
        }
        return Ok(names.iter().map(|_| None).collect());
    }
    let terminal = std::io::stdout().is_terminal();
    let mut first = true;
    Ok(names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let spec = pipeline.chart(i)?;
            let mut targets = Vec::new();
            match &cfg.chart {
                Some(t @ chart::Target::Terminal { .. }) => targets.push(t.clone()),
                Some(t) if first => targets.push(t.clone()),
                Some(t) => targets.push(t.for_output(name)),
                None => {}
            }
            first = false;
            if let Some(dir) = &cfg.output_dir {
                targets.push(chart::Target::Svg(dir.join(format!("{name}.svg"))));
            }
            if cfg.chart.is_none() && cfg.output_dir.is_none() && terminal {
                let color = std::env::var_os("NO_COLOR").is_none();
                targets.push(chart::Target::Terminal { color });
            }
            Some(chart::Job::new(spec.clone(), targets))
        })
        .collect())
}

/// Draws every output's chart (text ones after the rows on stdout). False when one could not
/// be drawn (the reason is on stderr).
fn draw_charts(sink: &OutputSink, renderer: &Renderer) -> bool {
    let mut ok = true;
    for (job, o) in sink.charts.iter().zip(&sink.outputs) {
        let Some(job) = job else { continue };
        if job.targets.is_empty() {
            continue;
        }
        match job.finish(renderer) {
            Ok(text) if !text.is_empty() => {
                let mut stdout = std::io::stdout().lock();
                if writeln!(stdout)
                    .and_then(|_| stdout.write_all(text.as_bytes()))
                    .and_then(|_| stdout.flush())
                    .is_err()
                {
                    return ok;
                }
            }
            Ok(_) => {}
            Err(e) => {
                let of = if sink.outputs_named {
                    format!(" of output {}", o.title)
                } else {
                    String::new()
                };
                eprintln!("error: cannot draw the `render` chart{of}: {e}");
                ok = false;
            }
        }
    }
    ok
}

fn rows(n: u64) -> &'static str {
    if n == 1 {
        "row"
    } else {
        "rows"
    }
}

/// Fails with a message naming the file when an input cannot be read.
fn check_inputs(files: &[PathBuf]) -> Result<(), String> {
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        let meta = std::fs::metadata(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        if meta.is_dir() {
            return Err(format!("cannot read {}: it is a directory", f.display()));
        }
        File::open(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
    }
    Ok(())
}

/// Why closing the outputs failed.
enum CloseError {
    /// The reader of stdout went away.
    OutputClosed,
    Io(String),
}

impl CloseError {
    fn of(e: std::io::Error, what: &str) -> CloseError {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CloseError::OutputClosed
        } else {
            CloseError::Io(format!("{what}: {e}"))
        }
    }
}

/// Writes each output with its own presenter: output 1 straight to stdout, later outputs to
/// temporary files appended at the end (statement order, bounded memory) — or every output to
/// its own file in `--output-dir`.
struct OutputSink {
    outputs: Vec<OutputWriter>,
    /// Per output, the rows kept for its `render` chart.
    charts: Vec<Option<chart::Job>>,
    limit: Option<u64>,
    errors: ErrorSink,
    titles: bool,
    /// More than one output: warnings name theirs.
    outputs_named: bool,
}

struct OutputWriter {
    presenter: Presenter,
    out: Box<dyn Write>,
    /// A temporary file to copy to stdout at the end.
    spill: Option<File>,
    title: String,
    written: u64,
}

impl OutputSink {
    fn new(
        cfg: &RunConfig,
        pipeline: &Pipeline,
        renderer: Renderer,
        charts: Vec<Option<chart::Job>>,
    ) -> Result<OutputSink, String> {
        let mut outputs = Vec::new();
        if let Some(dir) = &cfg.output_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let names = pipeline.unique_output_names();
        let lines = DecodePlan::rows_as_lines(pipeline, cfg.output == OutputFormat::Json);
        let splice = DecodePlan::for_pipeline(pipeline, cfg.output == OutputFormat::Json).splice;
        for (i, name) in names.into_iter().enumerate() {
            let (out, spill): (Box<dyn Write>, _) = match &cfg.output_dir {
                Some(dir) => {
                    let path = dir.join(format!("{name}.{}", extension(cfg.output)));
                    let f = File::create(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                    (Box::new(BufWriter::new(f)), None)
                }
                None if i == 0 => (Box::new(BufWriter::new(std::io::stdout())), None),
                None => {
                    // An anonymous temporary file: its name is unpredictable and it is gone
                    // once closed, even if the run is killed.
                    let f = tempfile::tempfile()
                        .map_err(|e| format!("cannot create a temporary file: {e}"))?;
                    let w = f
                        .try_clone()
                        .map_err(|e| format!("cannot use a temporary file: {e}"))?;
                    (Box::new(BufWriter::new(w)), Some(f))
                }
            };
            outputs.push(OutputWriter {
                presenter: Presenter::new(cfg.output, renderer.clone(), lines)
                    .with_splice(splice.as_ref()),
                out,
                spill,
                title: name,
                written: 0,
            });
        }
        if outputs.len() > 1 && cfg.output_dir.is_none() && cfg.output != OutputFormat::Table {
            let names: Vec<&str> = outputs.iter().map(|o| o.title.as_str()).collect();
            eprintln!(
                "note: {} outputs ({}) are written to stdout one after another; use --output-dir DIR for one file each",
                names.len(),
                names.join(", ")
            );
        }
        Ok(OutputSink {
            titles: outputs.len() > 1 && cfg.output == OutputFormat::Table,
            outputs_named: outputs.len() > 1,
            outputs,
            charts,
            limit: cfg.limit,
            errors: ErrorSink::new(cfg.errors.as_deref(), renderer)?,
        })
    }

    /// Flushes every presenter and appends spilled outputs to stdout.
    fn close(&mut self) -> Result<(), CloseError> {
        let (titles, named) = (self.titles, self.outputs_named);
        let mut stdout = std::io::stdout().lock();
        let mut result = Ok(());
        for (i, o) in self.outputs.iter_mut().enumerate() {
            let step = (|| -> Result<(), CloseError> {
                let write_err = |e| CloseError::of(e, "cannot write output");
                if titles && i == 0 {
                    writeln!(stdout, "== {} ==", o.title).map_err(write_err)?;
                }
                o.presenter
                    .finish(&mut o.out)
                    .and_then(|_| o.out.flush())
                    .map_err(write_err)?;
                warn(&o.title, &mut o.presenter, named);
                if let Some(file) = o.spill.as_mut() {
                    if titles {
                        writeln!(stdout, "\n== {} ==", o.title).map_err(write_err)?;
                    }
                    file.rewind()
                        .and_then(|_| std::io::copy(&mut (&*file).take(u64::MAX), &mut stdout))
                        .map_err(write_err)?;
                }
                Ok(())
            })();
            // Spill files go away whatever happened.
            drop(o.spill.take());
            if result.is_ok() {
                result = step;
            }
        }
        result?;
        stdout
            .flush()
            .map_err(|e| CloseError::of(e, "cannot write output"))?;
        self.errors.close().map_err(CloseError::Io)
    }
}

/// Prints the presenter's warnings (CSV fields left out of the header) on stderr.
fn warn(title: &str, presenter: &mut Presenter, name_it: bool) {
    for w in presenter.take_warnings() {
        if name_it {
            eprintln!("warning: output {title}: {w}");
        } else {
            eprintln!("warning: {w}");
        }
    }
}

impl Sink for OutputSink {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        let Some(o) = self.outputs.get_mut(output) else {
            return Ok(());
        };
        let mut batch = batch.clone();
        if let Some(limit) = self.limit {
            let room = limit.saturating_sub(o.written);
            if room == 0 {
                return Ok(());
            }
            if (batch.num_rows() as u64) > room {
                batch = batch.slice(0, room as usize);
            }
        }
        o.written += batch.num_rows() as u64;
        if let Some(Some(job)) = self.charts.get_mut(output) {
            job.push(&batch);
        }
        let written = o.presenter.write_batch(&batch, &mut o.out);
        warn(&o.title, &mut o.presenter, self.outputs_named);
        written
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.errors.write(batch)
    }

    fn row_encoder(&self, output: usize) -> Option<RowEncoder> {
        // A charted output's rows are needed as batches.
        if matches!(self.charts.get(output), Some(Some(_))) {
            return None;
        }
        self.outputs.get(output)?.presenter.row_encoder()
    }

    fn encoded_rows(&mut self, output: usize, rows: &EncodedRows) -> std::io::Result<()> {
        let Some(o) = self.outputs.get_mut(output) else {
            return Ok(());
        };
        let mut n = rows.row_ends.len() as u64;
        if let Some(limit) = self.limit {
            n = n.min(limit.saturating_sub(o.written));
        }
        o.written += n;
        o.out.write_all(rows.first_rows(n as usize))
    }

    fn full(&self) -> bool {
        self.limit
            .is_some_and(|l| self.outputs.iter().all(|o| o.written >= l))
    }
}

fn extension(f: OutputFormat) -> &'static str {
    match f {
        OutputFormat::Json => "jsonl",
        OutputFormat::Csv => "csv",
        OutputFormat::Raw => "log",
        OutputFormat::Table => "txt",
    }
}

/// Error rows: JSON lines into `--errors FILE`, or counted with the first few kept for a
/// summary on stderr.
struct ErrorSink {
    file: Option<(Encoder, BufWriter<File>)>,
    count: u64,
    first: Vec<String>,
}

const SUMMARY_ERRORS: usize = 5;

impl ErrorSink {
    fn new(path: Option<&Path>, renderer: Renderer) -> Result<ErrorSink, String> {
        let file = match path {
            Some(p) => {
                let f =
                    File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
                Some((Encoder::new(LineFormat::Json, renderer), BufWriter::new(f)))
            }
            None => None,
        };
        Ok(ErrorSink {
            file,
            count: 0,
            first: Vec::new(),
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.count += batch.num_rows() as u64;
        if let Some((enc, out)) = self.file.as_mut() {
            return enc.write_batch(batch, out);
        }
        if let Ok(col) = batch.schema().index_of(ERROR_FIELD) {
            let values = batch.column(col);
            if let Some(values) = values.as_string_view_opt() {
                for v in values.iter().flatten() {
                    if self.first.len() < SUMMARY_ERRORS {
                        self.first.push(describe_error(v));
                    }
                }
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        if let Some((_, out)) = self.file.as_mut() {
            out.flush()
                .map_err(|e| format!("cannot write the error file: {e}"))?;
        }
        Ok(())
    }

    fn summarize(&self, path: Option<&Path>) {
        if self.count == 0 {
            return;
        }
        match path {
            Some(p) => eprintln!(
                "{} {} failed; written to {}",
                self.count,
                rows(self.count),
                p.display()
            ),
            None => {
                eprintln!(
                    "{} {} failed (use --errors FILE to keep them, --fail-fast to stop):",
                    self.count,
                    rows(self.count)
                );
                for e in &self.first {
                    eprintln!("  {e}");
                }
            }
        }
    }
}

/// One line for an `__error__` value: `line 3: message [E2002]` or `stage 2 (extend): … [E2001]`.
fn describe_error(value: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(value) else {
        return value.to_string();
    };
    let code = v["code"].as_str().unwrap_or("?");
    let message = v["message"].as_str().unwrap_or("");
    let place = match (v.get("line"), v.get("stage")) {
        (Some(line), _) => format!("line {line}"),
        (_, Some(stage)) => {
            // Statement 1 is implied, as in a one-statement program.
            let statement = match v["statement"].as_u64() {
                Some(n) if n > 1 => format!("statement {n}, "),
                _ => String::new(),
            };
            format!(
                "{statement}stage {stage} (`{}`)",
                v["instruction"].as_str().unwrap_or("?")
            )
        }
        _ => v["instruction"].as_str().unwrap_or("batch").to_string(),
    };
    format!("{place}: {message} [{code}]")
}

/// The `--stats` report; `limit` is the `--limit` that stopped the run early, if one did.
pub fn stats_text(pipeline: &Pipeline, t: &Totals, limit: Option<u64>) -> String {
    let secs = t.elapsed.as_secs_f64().max(1e-9);
    let mb = t.bytes as f64 / 1e6;
    let mut s = String::new();
    let out: u64 = t.rows_out.iter().sum();
    s.push_str(&format!(
        "rows: {} in, {} out, {} errors",
        t.rows_in, out, t.error_rows
    ));
    // Rows filtered out: meaningful for one output whose stages only keep or drop rows.
    let reshapes = pipeline
        .stage_names()
        .iter()
        .flatten()
        .any(|n| matches!(*n, "stats" | "expand-values"));
    let stage_errors = t.error_rows.saturating_sub(t.input_errors);
    if t.rows_out.len() == 1 && !reshapes && limit.is_none() && out + stage_errors <= t.rows_in {
        s.push_str(&format!(", {} dropped", t.rows_in - out - stage_errors));
    }
    if let Some(l) = limit {
        s.push_str(&format!(" (stopped at --limit {l})"));
    }
    if t.policy_error_rows > 0 {
        s.push_str(&format!(
            ", {} failed and settled by the {} policy",
            t.policy_error_rows,
            super::policy_name(pipeline.error_policy())
        ));
    }
    s.push('\n');
    if t.rows_out.len() > 1 {
        for (def, n) in pipeline.outputs().iter().zip(&t.rows_out) {
            s.push_str(&format!("  output {}: {n} rows\n", def.name));
        }
    }
    s.push_str(&format!(
        "input: {} lines, {:.2} MB in {:.3} s ({:.1} MB/s)\n",
        t.lines,
        mb,
        secs,
        mb / secs
    ));
    s.push_str(&super::stage_table(pipeline, &t.stats));
    s
}

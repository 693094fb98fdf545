//! Charts of `render`: the engine hands each output's [`ChartSpec`] over; here the output's rows
//! become [`data::ChartData`] and are drawn as SVG, PNG ([`draw`], with plotters) or text for a
//! terminal ([`terminal`]). Used by `spl run` (files and the terminal) and `spl play` (inline SVG).
pub mod data;
pub mod draw;
pub mod terminal;

use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use spl_engine::ops::ChartSpec;
use spl_engine::render::Renderer;

/// At most this many rows of an output are kept for its chart.
pub const MAX_ROWS: usize = 1_000_000;

/// Where a chart goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Svg(PathBuf),
    Png(PathBuf),
    /// Text after the rows on stdout (ANSI colours when `color`).
    Terminal {
        color: bool,
    },
}

impl Target {
    /// A file target by extension: `.svg` or `.png`.
    pub fn file(path: &Path) -> Result<Target, String> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("svg") => Ok(Target::Svg(path.to_path_buf())),
            Some("png") => Ok(Target::Png(path.to_path_buf())),
            _ => Err(format!(
                "--chart {}: the file name must end in .svg or .png (or give '-' for the terminal)",
                path.display()
            )),
        }
    }

    /// The same kind of file for another output: `chart.svg` → `chart-<name>.svg`.
    pub fn for_output(&self, name: &str) -> Target {
        let rename = |p: &Path| {
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("chart");
            let ext = p.extension().and_then(|s| s.to_str()).unwrap_or("svg");
            p.with_file_name(format!("{stem}-{name}.{ext}"))
        };
        match self {
            Target::Svg(p) => Target::Svg(rename(p)),
            Target::Png(p) => Target::Png(rename(p)),
            t => t.clone(),
        }
    }
}

/// An output's rows kept for its chart, and where the chart goes.
#[derive(Debug)]
pub struct Job {
    pub spec: ChartSpec,
    pub targets: Vec<Target>,
    batches: Vec<RecordBatch>,
    rows: usize,
    dropped: u64,
}

impl Job {
    pub fn new(spec: ChartSpec, targets: Vec<Target>) -> Job {
        Job {
            spec,
            targets,
            batches: Vec::new(),
            rows: 0,
            dropped: 0,
        }
    }

    /// Keeps a batch (up to [`MAX_ROWS`] rows in all).
    pub fn push(&mut self, batch: &RecordBatch) {
        let room = MAX_ROWS - self.rows;
        let take = batch.num_rows().min(room);
        self.dropped += (batch.num_rows() - take) as u64;
        if take > 0 {
            self.batches.push(batch.slice(0, take));
            self.rows += take;
        }
    }

    /// Draws the chart to every target; terminal text is returned for the caller to print.
    pub fn finish(&self, renderer: &Renderer) -> Result<String, String> {
        let mut data = data::build(&self.spec, &self.batches, renderer)?;
        if self.dropped > 0 {
            data.notes.push(format!(
                "{} rows over {MAX_ROWS} are not charted",
                self.dropped
            ));
        }
        let mut text = String::new();
        for t in &self.targets {
            match t {
                Target::Svg(p) => write(p, draw::svg(&data)?.as_bytes())?,
                Target::Png(p) => write(p, &draw::png(&data)?)?,
                Target::Terminal { color } => text.push_str(&terminal::render(&data, *color)),
            }
        }
        Ok(text)
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// An output's chart as SVG text (for `spl play`).
pub fn svg(
    spec: &ChartSpec,
    batches: &[RecordBatch],
    renderer: &Renderer,
) -> Result<String, String> {
    draw::svg(&data::build(spec, batches, renderer)?)
}

//! `render <chart> [with (name = value, ...)]` (Time-series SPL, scan mode): the rows pass
//! through unchanged; the statement's output carries a [`ChartSpec`] that the host draws
//! (`spl run` writes SVG/PNG or a terminal chart, `spl play` shows it). The engine does not
//! draw: it checks the chart kind and properties at compile time and hands the spec over.
//!
//! - Chart kinds: `linechart` (and its alias `timechart`), `areachart`, `barchart` (horizontal
//!   bars), `columnchart` (vertical bars), `scatterchart`, `piechart`.
//! - Properties: `title`, `xtitle`, `ytitle` (text), `xcolumn` (one field), `ycolumns` and
//!   `series` (one or more fields), `legend` (`visible` or `hidden`), `ymin`, `ymax` (numbers).
//! - An unknown kind is E1011, an unknown, repeated or ill-valued property E1012, both with the
//!   span of what was written; `render` anywhere but last in its statement is E1013.
use arrow::record_batch::RecordBatch;
use spl_parser::{codes, Diagnostic, Instruction, InstructionKind, Span};

use super::{BatchError, Operator, StageOutput};
use crate::expr::Session;

/// What kind of chart to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Line,
    Area,
    /// Horizontal bars, one per category.
    Bar,
    /// Vertical bars, one per category.
    Column,
    Scatter,
    Pie,
}

impl ChartKind {
    /// Every chart kind name accepted, with its kind.
    pub const NAMES: &'static [(&'static str, ChartKind)] = &[
        ("linechart", ChartKind::Line),
        ("timechart", ChartKind::Line),
        ("areachart", ChartKind::Area),
        ("barchart", ChartKind::Bar),
        ("columnchart", ChartKind::Column),
        ("scatterchart", ChartKind::Scatter),
        ("piechart", ChartKind::Pie),
    ];

    /// The kind for a name (lower-case).
    pub fn parse(name: &str) -> Option<ChartKind> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kind)| *kind)
    }

    /// The canonical name (`linechart`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ChartKind::Line => "linechart",
            ChartKind::Area => "areachart",
            ChartKind::Bar => "barchart",
            ChartKind::Column => "columnchart",
            ChartKind::Scatter => "scatterchart",
            ChartKind::Pie => "piechart",
        }
    }
}

/// The properties `render ... with (...)` accepts.
pub const PROPERTIES: &[&str] = &[
    "title", "xcolumn", "ycolumns", "series", "xtitle", "ytitle", "legend", "ymin", "ymax",
];

/// A chart as `render` asked for it: what the host draws from the output's rows.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    pub kind: ChartKind,
    pub title: Option<String>,
    /// The x-axis field (default: `__ts__` for series rows, else the first non-numeric field).
    pub xcolumn: Option<String>,
    /// The y fields (default: every numeric or numeric-array field but the x and series ones).
    pub ycolumns: Vec<String>,
    /// Fields whose values name the series a row belongs to.
    pub series: Vec<String>,
    pub xtitle: Option<String>,
    pub ytitle: Option<String>,
    /// Show the legend (default: when there is more than one series).
    pub legend: Option<bool>,
    pub ymin: Option<f64>,
    pub ymax: Option<f64>,
}

impl ChartSpec {
    /// A spec with defaults only.
    pub fn of_kind(kind: ChartKind) -> ChartSpec {
        ChartSpec {
            kind,
            title: None,
            xcolumn: None,
            ycolumns: Vec::new(),
            series: Vec::new(),
            xtitle: None,
            ytitle: None,
            legend: None,
            ymin: None,
            ymax: None,
        }
    }

    /// Checks a `render` instruction and reads its spec.
    pub fn new(instr: &Instruction) -> Result<ChartSpec, Box<Diagnostic>> {
        let InstructionKind::Render { chart, properties } = &instr.kind else {
            return Err(Box::new(Diagnostic::error(
                codes::UNSUPPORTED,
                "internal: not a `render` instruction",
                instr.span,
                "here",
            )));
        };
        let kind = ChartKind::parse(&chart.name).ok_or_else(|| {
            let known: Vec<&str> = ChartKind::NAMES.iter().map(|(n, _)| *n).collect();
            Box::new(
                Diagnostic::error(
                    codes::CHART_KIND,
                    format!("`{}` is not a chart kind `render` can draw", chart.name),
                    chart.span,
                    "unknown chart kind",
                )
                .with_help(format!("use one of {}", known.join(", "))),
            )
        })?;
        let mut spec = ChartSpec::of_kind(kind);
        let mut seen: Vec<&str> = Vec::new();
        for p in properties {
            let name = p.name.name.as_str();
            let bad = |message: String, span: Span, label: &str| {
                Box::new(Diagnostic::error(
                    codes::RENDER_PROPERTY,
                    message,
                    span,
                    label.to_string(),
                ))
            };
            if !PROPERTIES.contains(&name) {
                return Err(Box::new(
                    Diagnostic::error(
                        codes::RENDER_PROPERTY,
                        format!("`{name}` is not a `render` property"),
                        p.name.span,
                        "unknown property",
                    )
                    .with_help(format!("use one of {}", PROPERTIES.join(", "))),
                ));
            }
            if seen.contains(&name) {
                return Err(bad(
                    format!("`{name}` is given twice"),
                    p.name.span,
                    "repeated",
                ));
            }
            seen.push(name);
            let span = p
                .values
                .iter()
                .map(|v| v.span)
                .reduce(Span::join)
                .unwrap_or(p.name.span);
            let texts: Vec<String> = p.values.iter().map(|v| v.text.clone()).collect();
            let one = || -> Result<String, Box<Diagnostic>> {
                match texts.as_slice() {
                    [t] => Ok(t.clone()),
                    _ => Err(bad(
                        format!("`{name}` takes one value"),
                        span,
                        "several values",
                    )),
                }
            };
            let number = || -> Result<f64, Box<Diagnostic>> {
                let t = one()?;
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(
                            format!("`{name}` must be a number, not `{t}`"),
                            span,
                            "not a number",
                        )
                    })
            };
            match name {
                "title" => spec.title = Some(one()?),
                "xtitle" => spec.xtitle = Some(one()?),
                "ytitle" => spec.ytitle = Some(one()?),
                "xcolumn" => spec.xcolumn = Some(one()?),
                "ycolumns" => spec.ycolumns = texts.clone(),
                "series" => spec.series = texts.clone(),
                "legend" => {
                    spec.legend = Some(match one()?.to_ascii_lowercase().as_str() {
                        "visible" => true,
                        "hidden" => false,
                        other => {
                            return Err(bad(
                                format!("`legend` is `visible` or `hidden`, not `{other}`"),
                                span,
                                "not visible or hidden",
                            ))
                        }
                    })
                }
                "ymin" => spec.ymin = Some(number()?),
                "ymax" => spec.ymax = Some(number()?),
                _ => unreachable!("checked against PROPERTIES"),
            }
        }
        if let (Some(lo), Some(hi)) = (spec.ymin, spec.ymax) {
            if lo >= hi {
                let span = properties
                    .iter()
                    .find(|p| p.name.name == "ymax")
                    .map(|p| p.name.span)
                    .unwrap_or(instr.span);
                return Err(Box::new(Diagnostic::error(
                    codes::RENDER_PROPERTY,
                    format!("`ymax` ({hi}) must be greater than `ymin` ({lo})"),
                    span,
                    "empty y range",
                )));
            }
        }
        Ok(spec)
    }
}

/// The `render` stage: rows pass unchanged.
#[derive(Debug)]
pub struct Render {
    spec: ChartSpec,
}

impl Render {
    pub fn new(instr: &Instruction) -> Result<Render, Box<Diagnostic>> {
        Ok(Render {
            spec: ChartSpec::new(instr)?,
        })
    }

    /// The chart this stage asks for.
    pub fn spec(&self) -> &ChartSpec {
        &self.spec
    }
}

impl Operator for Render {
    fn name(&self) -> &'static str {
        "render"
    }

    fn process(&self, batch: RecordBatch, _: &Session) -> Result<StageOutput, BatchError> {
        Ok(StageOutput::one(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(spl: &str) -> Result<ChartSpec, Box<Diagnostic>> {
        let program = spl_parser::parse(spl).expect("parses");
        let instr = program.statements[0]
            .pipeline
            .stages
            .last()
            .expect("a stage")
            .clone();
        ChartSpec::new(&instr)
    }

    #[test]
    fn reads_kind_and_properties() {
        let s = spec(
            "* | render timechart with (title = 'Latency', ycolumns = a, b, legend = hidden, ymin = -1, ymax = 5)",
        )
        .unwrap();
        assert_eq!(s.kind, ChartKind::Line);
        assert_eq!(s.title.as_deref(), Some("Latency"));
        assert_eq!(s.ycolumns, vec!["a", "b"]);
        assert_eq!(s.legend, Some(false));
        assert_eq!((s.ymin, s.ymax), (Some(-1.0), Some(5.0)));
        assert_eq!(spec("* | render PieChart").unwrap().kind, ChartKind::Pie);
    }

    #[test]
    fn unknown_kind_and_bad_properties_are_errors_with_spans() {
        let src = "* | render donut";
        let e = spec(src).unwrap_err();
        assert_eq!(e.code.id, codes::CHART_KIND.id);
        let at = e.labels[0].span;
        assert_eq!(&src[at.start..at.end], "donut");
        let src = "* | render linechart with (colour = 'red')";
        let e = spec(src).unwrap_err();
        assert_eq!(e.code.id, codes::RENDER_PROPERTY.id);
        let at = e.labels[0].span;
        assert_eq!(&src[at.start..at.end], "colour");
        for bad in [
            "* | render linechart with (ymin = low)",
            "* | render linechart with (legend = maybe)",
            "* | render linechart with (title = a, b)",
            "* | render linechart with (title = 'a', title = 'b')",
            "* | render linechart with (ymin = 5, ymax = 1)",
        ] {
            assert_eq!(
                spec(bad).unwrap_err().code.id,
                codes::RENDER_PROPERTY.id,
                "{bad}"
            );
        }
    }
}

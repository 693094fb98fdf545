//! A chart in the terminal, as text: line, area and scatter charts on a braille canvas (each
//! character cell holds 2×4 dots), bar, column and pie charts as rows of block characters.
//! With `color`, each series gets an ANSI colour; without, series are told apart by the
//! legend's markers only (lines are drawn in the same dots).
use std::fmt::Write as _;

use super::data::{time_label, ChartData, XAxis};
use super::draw::{number_label, slices, PALETTE};
use spl_engine::ops::ChartKind;

/// The plot's size in character cells (without axes and labels).
pub const COLUMNS: usize = 64;
pub const ROWS: usize = 16;

const MARKERS: [char; 6] = ['●', '■', '▲', '◆', '▼', '★'];

fn paint(text: &str, series: usize, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let (r, g, b) = PALETTE[series % PALETTE.len()];
    format!("\x1b[38;2;{r};{g};{b}m{text}\x1b[0m")
}

/// The chart as lines of text (ending with a newline).
pub fn render(data: &ChartData, color: bool) -> String {
    let mut out = String::new();
    if let Some(t) = &data.title {
        let _ = writeln!(out, "{t}");
    }
    match data.kind {
        ChartKind::Line | ChartKind::Area | ChartKind::Scatter => canvas(data, color, &mut out),
        ChartKind::Bar | ChartKind::Column => bars(data, color, &mut out),
        ChartKind::Pie => pie(data, color, &mut out),
    }
    for n in &data.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

/// Braille dot bits for (column 0..2, row 0..4) of a cell.
const DOTS: [[u8; 4]; 2] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]];

fn canvas(data: &ChartData, color: bool, out: &mut String) {
    let (w, h) = (COLUMNS * 2, ROWS * 4);
    let ((x0, x1), (mut y0, mut y1)) = data.extent();
    if data.kind == ChartKind::Area {
        y0 = y0.min(0.0);
        y1 = y1.max(0.0);
    }
    y0 = data.ymin.unwrap_or(y0);
    y1 = data.ymax.unwrap_or(y1);
    if y0 >= y1 {
        y0 -= 1.0;
        y1 = y0 + 2.0;
    }
    // Per cell: the dots, and the series that drew last there (for colour).
    let mut cells = vec![(0u8, 0usize); COLUMNS * ROWS];
    let mut dot = |x: i64, y: i64, s: usize| {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            return;
        }
        let (x, y) = (x as usize, (h - 1) - y as usize);
        let cell = &mut cells[(y / 4) * COLUMNS + x / 2];
        cell.0 |= DOTS[x % 2][y % 4];
        cell.1 = s;
    };
    let px = |x: f64| ((x - x0) / (x1 - x0) * (w - 1) as f64).round() as i64;
    let py = |y: f64| ((y - y0) / (y1 - y0) * (h - 1) as f64).round() as i64;
    for (si, s) in data.series.iter().enumerate() {
        let mut prev: Option<(i64, i64)> = None;
        for &(x, y) in &s.points {
            let p = (px(x), py(y.clamp(y0, y1)));
            match (data.kind, prev) {
                // A scatter point is 2×2 dots, to be seen.
                (ChartKind::Scatter, _) => {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        dot(p.0 + dx, p.1 + dy, si);
                    }
                }
                (_, None) => dot(p.0, p.1, si),
                (_, Some(q)) => {
                    // A straight segment, one dot per step along the longer side.
                    let n = (p.0 - q.0).abs().max((p.1 - q.1).abs()).max(1);
                    for k in 0..=n {
                        let x = q.0 + (p.0 - q.0) * k / n;
                        let y = q.1 + (p.1 - q.1) * k / n;
                        dot(x, y, si);
                    }
                }
            }
            if data.kind == ChartKind::Area {
                let base = py(0.0f64.clamp(y0, y1));
                let (lo, hi) = (p.1.min(base), p.1.max(base));
                for y in (lo..=hi).step_by(2) {
                    dot(p.0, y, si);
                }
            }
            prev = Some(p);
        }
    }
    let top = number_label(y1);
    let bottom = number_label(y0);
    let mid = number_label((y0 + y1) / 2.0);
    let margin = top.len().max(bottom.len()).max(mid.len());
    for r in 0..ROWS {
        let label = match r {
            0 => top.as_str(),
            r if r == ROWS / 2 => mid.as_str(),
            r if r == ROWS - 1 => bottom.as_str(),
            _ => "",
        };
        let tick = if label.is_empty() { '│' } else { '┤' };
        let _ = write!(out, "{label:>margin$} {tick}");
        for c in 0..COLUMNS {
            let (bits, s) = cells[r * COLUMNS + c];
            let ch = char::from_u32(0x2800 + bits as u32).unwrap_or(' ');
            if bits == 0 {
                out.push(ch);
            } else {
                out.push_str(&paint(&ch.to_string(), s, color));
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{:>margin$} └{}", "", "─".repeat(COLUMNS));
    let xl = |x: f64| match &data.x {
        XAxis::Time => time_label(x, x1 - x0),
        XAxis::Number => number_label(x),
        XAxis::Category(l) => l
            .get(x.round().max(0.0) as usize)
            .cloned()
            .unwrap_or_default(),
    };
    let (left, right) = (xl(x0), xl(x1));
    let gap = (COLUMNS + 1).saturating_sub(left.chars().count() + right.chars().count());
    let _ = writeln!(out, "{:>margin$}  {left}{}{right}", "", " ".repeat(gap));
    let _ = writeln!(
        out,
        "{:>margin$}  x: {}, y: {}",
        "", data.xtitle, data.ytitle
    );
    legend(data.series.iter().map(|s| s.name.as_str()), color, out);
}

fn legend<'a>(names: impl Iterator<Item = &'a str>, color: bool, out: &mut String) {
    let items: Vec<String> = names
        .enumerate()
        .map(|(i, n)| {
            format!(
                "{} {n}",
                paint(&MARKERS[i % MARKERS.len()].to_string(), i, color)
            )
        })
        .collect();
    if items.len() > 1 {
        let _ = writeln!(out, "{}", items.join("  "));
    }
}

/// The filled part of a bar of `v` in a scale of `max`, in eighths of a cell.
fn bar(v: f64, max: f64) -> String {
    const PARTS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];
    if max <= 0.0 || v <= 0.0 {
        return String::new();
    }
    let eighths = ((v / max) * (COLUMNS * 8) as f64).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        s.push(PARTS[eighths % 8 - 1]);
    }
    s
}

fn bars(data: &ChartData, color: bool, out: &mut String) {
    let labels = match &data.x {
        XAxis::Category(l) => l.clone(),
        _ => Vec::new(),
    };
    let max = data
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    for (ci, label) in labels.iter().enumerate() {
        for (si, s) in data.series.iter().enumerate() {
            let v: f64 = s
                .points
                .iter()
                .filter(|p| p.0 as usize == ci)
                .map(|p| p.1)
                .sum();
            let shown: String = if si == 0 {
                label.chars().take(width).collect()
            } else {
                String::new()
            };
            // With several series, each bar starts with its series' legend marker.
            let marker = if data.series.len() > 1 {
                format!(
                    "{} ",
                    paint(&MARKERS[si % MARKERS.len()].to_string(), si, color)
                )
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{shown:>width$} │{marker}{} {}",
                paint(&bar(v, max), si, color),
                number_label(v)
            );
        }
    }
    legend(data.series.iter().map(|s| s.name.as_str()), color, out);
}

fn pie(data: &ChartData, color: bool, out: &mut String) {
    let parts = slices(data);
    let total: f64 = parts.iter().map(|p| p.1).filter(|v| *v > 0.0).sum();
    let width = parts
        .iter()
        .map(|p| p.0.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    for (i, (name, v)) in parts.iter().enumerate() {
        let share = if total > 0.0 && *v > 0.0 {
            v / total
        } else {
            0.0
        };
        let name: String = name.chars().take(width).collect();
        let _ = writeln!(
            out,
            "{name:>width$} │{} {:.1}% ({})",
            paint(&bar(share, 1.0), i, color),
            share * 100.0,
            number_label(*v)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::data::Series;

    #[test]
    fn bars_are_scaled_in_eighths_of_a_cell() {
        assert_eq!(bar(1.0, 1.0), "█".repeat(COLUMNS));
        assert_eq!(bar(0.0, 1.0), "");
        assert_eq!(bar(-1.0, 1.0), "");
        // 1/128 of 64 cells is half a cell: four eighths.
        assert_eq!(bar(1.0, 128.0), "▌");
    }

    #[test]
    fn a_line_chart_is_a_braille_canvas_with_axes() {
        let data = ChartData {
            kind: ChartKind::Line,
            title: None,
            xtitle: "x".into(),
            ytitle: "y".into(),
            x: XAxis::Number,
            series: vec![Series {
                name: "s".into(),
                points: vec![(0.0, 0.0), (10.0, 10.0)],
            }],
            legend: false,
            ymin: None,
            ymax: None,
            notes: Vec::new(),
        };
        let text = render(&data, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("10 ┤"), "{text}");
        assert!(lines[ROWS - 1].starts_with(" 0 ┤"), "{text}");
        // The diagonal: the top row's last cell and the bottom row's first cell have dots.
        assert_ne!(lines[0].chars().last(), Some('\u{2800}'), "{text}");
        assert_ne!(lines[ROWS - 1].chars().nth(4), Some('\u{2800}'), "{text}");
        assert!(lines[ROWS].contains('└'));
        // With colour, dots are wrapped in ANSI codes.
        assert!(render(&data, true).contains("\x1b[38;2;31;119;180m"));
    }
}

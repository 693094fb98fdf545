//! Draws [`ChartData`] with plotters on any backend: SVG text or an RGB buffer encoded as PNG.
//! Each line series is one `<polyline>`, each area one `<polygon>`, each scatter point one
//! `<circle>`; the legend is drawn with rectangles and text (so it adds no polylines).
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::data::{time_label, ChartData, XAxis};
use spl_engine::ops::ChartKind;

/// The picture size in pixels.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 480;

/// DejaVu Sans (see assets/fonts/LICENSE): text is drawn the same on every machine.
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// A colour-blind-friendly palette (Tableau 10).
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

fn color(i: usize) -> RGBColor {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    RGBColor(r, g, b)
}

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary; it is valid TrueType.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// The chart as SVG text.
pub fn svg(data: &ChartData) -> Result<String, String> {
    fonts();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The chart as a PNG file's bytes.
pub fn png(data: &ChartData) -> Result<Vec<u8>, String> {
    fonts();
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, data)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgb))
        .map_err(|e| format!("cannot encode the PNG: {e}"))?;
    Ok(out)
}

type Area<'a, DB> = DrawingArea<DB, Shift>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw the chart: {e:?}")
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, data: &ChartData) -> Result<(), String> {
    root.fill(&WHITE).map_err(err)?;
    let root = match &data.title {
        Some(t) => root
            .titled(t, (FAMILY, 22).into_font().color(&BLACK))
            .map_err(err)?,
        None => root.clone(),
    };
    let (plot, legend) = if data.legend {
        let (w, _) = root.dim_in_pixel();
        let (p, l) = root.split_horizontally(w.saturating_sub(180));
        (p, Some(l))
    } else {
        (root.clone(), None)
    };
    match data.kind {
        ChartKind::Pie => pie(&plot, data)?,
        ChartKind::Bar => bars(&plot, data, true)?,
        ChartKind::Column => bars(&plot, data, false)?,
        ChartKind::Line | ChartKind::Area | ChartKind::Scatter => xy(&plot, data)?,
    }
    if let Some(l) = legend {
        draw_legend(&l, &legend_names(data))?;
    }
    Ok(())
}

/// The legend's entries: the series, or a pie's slices.
fn legend_names(data: &ChartData) -> Vec<String> {
    match (&data.kind, &data.x) {
        (ChartKind::Pie, XAxis::Category(labels)) if data.series.len() == 1 => labels.clone(),
        _ => data.series.iter().map(|s| s.name.clone()).collect(),
    }
}

fn draw_legend<DB: DrawingBackend>(area: &Area<DB>, names: &[String]) -> Result<(), String> {
    let (_, h) = area.dim_in_pixel();
    let rows = ((h as i32 - 40) / 20).max(1) as usize;
    for (i, name) in names.iter().enumerate().take(rows) {
        let y = 30 + 20 * i as i32;
        let label = if i + 1 == rows && names.len() > rows {
            format!("… {} more", names.len() - i)
        } else {
            shorten(name, 22)
        };
        area.draw(&Rectangle::new([(8, y), (20, y + 12)], color(i).filled()))
            .map_err(err)?;
        area.draw(&Text::new(label, (26, y), (FAMILY, 13).into_font()))
            .map_err(err)?;
    }
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// A compact number label.
pub fn number_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e7).contains(&a) {
        return format!("{v:.2e}");
    }
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// The y range: the data's (with 0 for areas and bars), widened by 5%, or the spec's.
fn y_range(data: &ChartData, with_zero: bool) -> (f64, f64) {
    let (_, (mut lo, mut hi)) = data.extent();
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = (hi - lo) * 0.05;
    let lo = data.ymin.unwrap_or(if with_zero && lo == 0.0 {
        0.0
    } else {
        lo - pad
    });
    let hi = data.ymax.unwrap_or(if with_zero && hi == 0.0 {
        0.0
    } else {
        hi + pad
    });
    if lo < hi {
        (lo, hi)
    } else {
        (lo, lo + 1.0)
    }
}

fn x_labeler(x: &XAxis, span: f64) -> impl Fn(&f64) -> String + '_ {
    move |v: &f64| match x {
        XAxis::Time => time_label(*v, span),
        XAxis::Number => number_label(*v),
        XAxis::Category(labels) => {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 {
                labels
                    .get(i as usize)
                    .map(|l| shorten(l, 16))
                    .unwrap_or_default()
            } else {
                String::new()
            }
        }
    }
}

/// Line, area and scatter charts.
fn xy<DB: DrawingBackend>(area: &Area<DB>, data: &ChartData) -> Result<(), String> {
    let ((mut x0, mut x1), _) = data.extent();
    if let XAxis::Category(_) = data.x {
        x0 -= 0.5;
        x1 += 0.5;
    }
    // A time axis is laid out in seconds, minutes or hours (as its labels show), so that the
    // "nice" tick values plotters picks fall on whole minutes or hours.
    let unit = match data.x {
        XAxis::Time if x1 - x0 >= 2.0 * 86400.0 => 3600.0,
        XAxis::Time if x1 - x0 >= 120.0 => 60.0,
        _ => 1.0,
    };
    let span = x1 - x0;
    let (x0, x1) = (x0 / unit, x1 / unit);
    let (y0, y1) = y_range(data, data.kind == ChartKind::Area);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    let labels = x_labeler(&data.x, span);
    let labeler = |v: &f64| labels(&(v * unit));
    let ylabel = |v: &f64| number_label(*v);
    let categories = match &data.x {
        XAxis::Category(l) => l.len().clamp(1, 12),
        _ => 8,
    };
    chart
        .configure_mesh()
        .x_labels(categories)
        .y_labels(8)
        .x_label_formatter(&labeler)
        .y_label_formatter(&ylabel)
        .x_desc(data.xtitle.as_str())
        .y_desc(data.ytitle.as_str())
        .light_line_style(RGBColor(235, 235, 235))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13))
        .draw()
        .map_err(err)?;
    for (i, s) in data.series.iter().enumerate() {
        let c = color(i);
        let points = s.points.iter().map(|&(x, y)| (x / unit, y));
        match data.kind {
            ChartKind::Area => {
                chart
                    .draw_series(
                        AreaSeries::new(points, y0.max(0.0).min(y1), c.mix(0.25))
                            .border_style(c.stroke_width(2)),
                    )
                    .map_err(err)?;
            }
            ChartKind::Scatter => {
                chart
                    .draw_series(points.map(|p| Circle::new(p, 3, c.filled())))
                    .map_err(err)?;
            }
            _ => {
                chart
                    .draw_series(LineSeries::new(points, c.stroke_width(2)))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

/// Bar (horizontal) and column (vertical) charts: one group of bars per category, one bar
/// per series in it.
fn bars<DB: DrawingBackend>(
    area: &Area<DB>,
    data: &ChartData,
    horizontal: bool,
) -> Result<(), String> {
    let n = match &data.x {
        XAxis::Category(l) => l.len().max(1),
        _ => 1,
    };
    let (v0, v1) = y_range(data, true);
    let (c0, c1) = (-0.5, n as f64 - 0.5);
    let labeler = x_labeler(&data.x, 0.0);
    let vlabel = |v: &f64| number_label(*v);
    let k = data.series.len().max(1) as f64;
    let width = 0.8 / k;
    let bar = |ci: f64, si: usize, v: f64| {
        let lo = ci - 0.4 + si as f64 * width;
        let hi = lo + width * 0.92;
        let base = 0.0f64.clamp(v0, v1);
        let v = v.clamp(v0, v1);
        if horizontal {
            [(base, lo), (v, hi)]
        } else {
            [(lo, base), (hi, v)]
        }
    };
    let (xr, yr) = if horizontal {
        ((v0..v1), (c0..c1))
    } else {
        ((c0..c1), (v0..v1))
    };
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(if horizontal { 110 } else { 64 })
        .build_cartesian_2d(xr, yr)
        .map_err(err)?;
    let labels = n.min(24);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(RGBColor(235, 235, 235))
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 13));
    if horizontal {
        mesh.y_labels(labels)
            .x_labels(8)
            .y_label_formatter(&labeler)
            .x_label_formatter(&vlabel)
            .y_desc(data.xtitle.as_str())
            .x_desc(data.ytitle.as_str());
    } else {
        mesh.x_labels(labels)
            .y_labels(8)
            .x_label_formatter(&labeler)
            .y_label_formatter(&vlabel)
            .x_desc(data.xtitle.as_str())
            .y_desc(data.ytitle.as_str());
    }
    mesh.draw().map_err(err)?;
    for (si, s) in data.series.iter().enumerate() {
        let c = color(si);
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|&(ci, v)| Rectangle::new(bar(ci, si, v), c.filled())),
            )
            .map_err(err)?;
    }
    Ok(())
}

/// A pie: one slice per category of a single series, or per series (its sum) when there are
/// several. Negative and zero values get no slice.
pub fn slices(data: &ChartData) -> Vec<(String, f64)> {
    match (&data.x, data.series.as_slice()) {
        (XAxis::Category(labels), [one]) => {
            let mut sums = vec![0.0; labels.len()];
            for &(x, y) in &one.points {
                if let Some(s) = sums.get_mut(x as usize) {
                    *s += y;
                }
            }
            labels.iter().cloned().zip(sums).collect()
        }
        (_, series) => series
            .iter()
            .map(|s| (s.name.clone(), s.points.iter().map(|p| p.1).sum()))
            .collect(),
    }
}

fn pie<DB: DrawingBackend>(area: &Area<DB>, data: &ChartData) -> Result<(), String> {
    let parts = slices(data);
    let total: f64 = parts.iter().map(|p| p.1).filter(|v| *v > 0.0).sum();
    if total <= 0.0 {
        return Err("a pie chart needs positive values".into());
    }
    let (w, h) = area.dim_in_pixel();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let r = (w.min(h) as f64 / 2.0 - 24.0).max(10.0);
    let mut angle = -std::f64::consts::FRAC_PI_2;
    for (i, (_, v)) in parts.iter().enumerate() {
        if *v <= 0.0 {
            continue;
        }
        let sweep = v / total * std::f64::consts::TAU;
        let steps = ((sweep / 0.02).ceil() as usize).max(2);
        let mut poly = vec![(cx as i32, cy as i32)];
        for k in 0..=steps {
            let a = angle + sweep * k as f64 / steps as f64;
            poly.push(((cx + r * a.cos()) as i32, (cy + r * a.sin()) as i32));
        }
        area.draw(&Polygon::new(poly, color(i).filled()))
            .map_err(err)?;
        let mid = angle + sweep / 2.0;
        if sweep > 0.2 {
            let at = (
                (cx + 0.65 * r * mid.cos()) as i32 - 14,
                (cy + 0.65 * r * mid.sin()) as i32 - 7,
            );
            let pct = format!("{:.0}%", v / total * 100.0);
            area.draw(&Text::new(pct, at, (FAMILY, 13).into_font().color(&WHITE)))
                .map_err(err)?;
        }
        angle += sweep;
    }
    Ok(())
}

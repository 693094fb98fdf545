//! `render` through `spl run`, file-driven: each `testdata/render/NAME.spl` runs on
//! `testdata/logs/access-latency.log` with `--chart NAME.svg`; the SVG must parse as XML and
//! hold the elements its `-- expect: element=N` lines name (one `<polyline>` per line series,
//! one `<polygon>` per area or pie slice, one `<circle>` per scatter point, one `<rect>` per bar
//! plus the background and legend). With `SPL_UPDATE_DOCS=1` the pictures are copied to
//! docs/charts/ (and line.png). Also: PNG, the terminal chart, `--output-dir`, compile errors,
//! profiles and the clear messages for nothing to draw.
use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn log() -> String {
    repo("testdata/logs/access-latency.log")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::cargo_bin("spl")
        .expect("spl binary")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// How many elements the SVG has that match `tag` or `tag[attribute=value]` (it must parse
/// as XML with an `<svg>` root). Series lines are `polyline[stroke-width=2]`: the axes and the
/// grid are polylines of width 1.
fn count(svg: &str, selector: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let (tag, attr) = match selector.split_once('[') {
        Some((t, rest)) => {
            let (k, v) = rest.trim_end_matches(']').split_once('=').expect("[k=v]");
            (t, Some((k, v)))
        }
        None => (selector, None),
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == tag)
        .filter(|n| attr.is_none_or(|(k, v)| n.attribute(k) == Some(v)))
        .count()
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo("testdata/render"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("spl"))
        .collect();
    v.sort();
    v
}

fn expectations(spl: &Path) -> Vec<(String, usize)> {
    std::fs::read_to_string(spl)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("-- expect:"))
        .flat_map(|l| l.split(',').map(str::trim).collect::<Vec<_>>())
        .map(|kv| {
            let (k, v) = kv.rsplit_once('=').expect("element=N");
            (k.to_string(), v.parse().expect("a count"))
        })
        .collect()
}

#[test]
fn each_chart_kind_writes_an_svg_with_its_series() {
    let dir = tempfile::tempdir().unwrap();
    let update = std::env::var_os("SPL_UPDATE_DOCS").is_some();
    let cases = cases();
    assert!(cases.len() >= 6, "{cases:?}");
    for spl in cases {
        let name = spl.file_stem().unwrap().to_str().unwrap().to_string();
        let svg_path = dir.path().join(format!("{name}.svg"));
        let (code, out, err) = run(&[
            "run",
            "-o",
            "json",
            "--chart",
            svg_path.to_str().unwrap(),
            "-q",
            spl.to_str().unwrap(),
            &log(),
        ]);
        assert_eq!(code, 0, "{name}: {err}");
        assert!(!out.is_empty(), "{name}: the rows are still written");
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        let expected = expectations(&spl);
        assert!(!expected.is_empty(), "{name}: no `-- expect:` line");
        for (tag, n) in expected {
            assert_eq!(count(&svg, &tag), n, "{name}: <{tag}> elements");
        }
        if update {
            let docs = repo("docs/charts");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::copy(&svg_path, format!("{docs}/{name}.svg")).unwrap();
        }
    }
}

#[test]
fn a_png_chart_decodes_to_the_chart_size() {
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("line.png");
    let (code, _, err) = run(&[
        "run",
        "-o",
        "json",
        "--chart",
        png_path.to_str().unwrap(),
        "-q",
        &repo("testdata/render/line.spl"),
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&png_path).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("PNG pixels");
    assert_eq!((info.width, info.height), (800, 480));
    // Not a blank picture: the lines and text are drawn in colours other than white.
    let coloured = pixels
        .chunks(3)
        .filter(|p| p.iter().any(|&c| c < 200))
        .count();
    assert!(coloured > 2000, "{coloured} coloured pixels");
    if std::env::var_os("SPL_UPDATE_DOCS").is_some() {
        std::fs::copy(&png_path, repo("docs/charts/line.png")).unwrap();
    }
}

#[test]
fn the_terminal_chart_follows_the_rows() {
    let (code, out, err) = run(&[
        "run",
        "-o",
        "json",
        "--chart",
        "-",
        "-q",
        &repo("testdata/render/line.spl"),
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    // Two JSON rows, a blank line, the title, 16 plot rows, the axis, labels and the legend.
    assert!(
        lines[0].starts_with('{') && lines[1].starts_with('{'),
        "{out}"
    );
    assert_eq!(lines[2], "");
    assert_eq!(lines[3], "Average upstream latency per URI");
    let plot: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains('┤') || l.contains('│'))
        .collect();
    assert_eq!(plot.len(), 16, "{out}");
    assert!(
        plot.iter().all(|l| l
            .chars()
            .filter(|c| ('\u{2800}'..='\u{28ff}').contains(c))
            .count()
            == 64),
        "{out}"
    );
    assert!(out.contains('└'), "{out}");
    assert!(out.contains("22:00") && out.contains("22:05"), "{out}");
    assert!(
        out.contains("/api/v1/orders") && out.contains("/login"),
        "{out}"
    );
    // No colour codes when not asked for a terminal.
    assert!(!out.contains('\x1b'), "{out}");

    let (code, out, err) = run(&[
        "run",
        "-o",
        "json",
        "--chart",
        "-",
        "-q",
        &repo("testdata/render/column.spl"),
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    let bars: Vec<&str> = out.lines().filter(|l| l.contains(" │")).collect();
    assert_eq!(bars.len(), 2, "{out}");
    // /api/v1/orders has 6 requests, /login 4: the longer bar is 64 cells.
    assert!(
        bars[0].contains(&"█".repeat(64)) && bars[0].ends_with(" 6"),
        "{out}"
    );
    assert!(
        bars[1].ends_with(" 4") && !bars[1].contains(&"█".repeat(50)),
        "{out}"
    );
}

#[test]
fn output_dir_gets_the_rows_and_the_svg() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&[
        "run",
        "--output-dir",
        dir.path().to_str().unwrap(),
        "-q",
        &repo("testdata/render/pie.spl"),
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty(), "{out}");
    let rows = std::fs::read_to_string(dir.path().join("output1.jsonl")).unwrap();
    assert_eq!(rows.lines().count(), 2, "{rows}");
    let svg = std::fs::read_to_string(dir.path().join("output1.svg")).unwrap();
    assert_eq!(count(&svg, "polygon"), 2);
}

#[test]
fn nothing_to_draw_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("c.svg");
    let svg = svg.to_str().unwrap();
    // Raw lines have only text fields.
    let (code, _, err) = run(&["run", "--chart", svg, "* | render linechart", &log()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no numeric field to chart") && err.contains("ycolumns"),
        "{err}"
    );
    // No rows at all.
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let (code, _, err) = run(&[
        "run",
        "--chart",
        svg,
        "* | render columnchart",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no rows to chart"), "{err}");
    // A field that is not there.
    let (code, _, err) = run(&[
        "run",
        "--chart",
        svg,
        "* | render linechart with (ycolumns = nope)",
        &log(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`nope` is not a field"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn chart_flag_errors_are_usage_errors() {
    let (code, _, err) = run(&["run", "--chart", "c.txt", "* | render linechart", &log()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(".svg or .png"), "{err}");
    let (code, _, err) = run(&["run", "--chart", "c.svg", "* | where true", &log()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("render"), "{err}");
}

#[test]
fn render_is_checked_at_compile_time() {
    let cases = [
        ("* | render donut", "E1011", "donut"),
        (
            "* | render linechart with (colour = 'red')",
            "E1012",
            "colour",
        ),
        ("* | render linechart with (ymin = low)", "E1012", "low"),
        (
            "* | render linechart | where a = 1",
            "E1013",
            "render linechart",
        ),
    ];
    for (spl, code, at) in cases {
        let (status, _, err) = run(&["check", spl]);
        assert_eq!(status, 2, "{spl}: {err}");
        assert!(err.contains(code), "{spl}: {err}");
        // The caret line points at what was wrong.
        let col = spl.find(at).unwrap();
        assert!(
            err.lines().any(|l| l.contains(&"^".repeat(at.len().min(5)))
                && l.find('^').is_some_and(|c| c >= col)),
            "{spl}: {err}"
        );
    }
    let (status, _, err) = run(&["check", "--profile", "logtail", "* | render linechart"]);
    assert_eq!(status, 2, "{err}");
    assert!(err.contains("E1006") && err.contains("render"), "{err}");
    let (status, _, err) = run(&["check", "--profile", "scan", "* | render linechart"]);
    assert_eq!(status, 0, "{err}");
}

#[test]
fn fmt_prints_render_canonically() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.spl");
    std::fs::write(
        &file,
        "*|render   TimeChart  with(title='a ''b''',ycolumns=x,y,ymin=-1)\n",
    )
    .unwrap();
    let (code, out, err) = run(&["fmt", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let printed = out.trim_end();
    assert_eq!(
        printed,
        "* | render timechart with (title = 'a ''b''', ycolumns = x, y, ymin = -1)"
    );
    std::fs::write(&file, format!("{printed}\n")).unwrap();
    let (_, again, _) = run(&["fmt", file.to_str().unwrap()]);
    assert_eq!(again.trim_end(), printed);
}

#[test]
fn several_charted_outputs_get_one_file_each() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("c.svg");
    let spl = ".let a = * | parse-regexp content, '\\] \"\\S+ ([^ ?\"]+)' as uri \
               | stats n = count(*) by uri | render columnchart; \
               $a; \
               * | parse-regexp content, '\\] \"\\S+ ([^ ?\"]+)' as uri \
               | stats n = count(*) by uri | render piechart";
    let (code, _, err) = run(&[
        "run",
        "-o",
        "json",
        "--chart",
        svg.to_str().unwrap(),
        spl,
        &log(),
    ]);
    assert_eq!(code, 0, "{err}");
    // `$a;` emits the chart of the `.let` that ends with `render`.
    let first = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(count(&first, "rect"), 3, "two columns and the background");
    let second = std::fs::read_to_string(dir.path().join("c-output2.svg")).unwrap();
    assert_eq!(count(&second, "polygon"), 2, "two slices");
}

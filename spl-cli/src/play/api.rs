//! The playground's JSON answers: the SPL vocabulary for the highlighter and completion
//! (instructions and their options from the parser's metadata, functions from the engine's
//! library), and a run: diagnostics with spans, codes and help; each output's rows; error rows
//! with code and stage; per-stage counts with their steps; each input row's trace.
use serde_json::{json, Value};
use spl_engine::pipeline::{Options, Pipeline, Profile};
use spl_engine::trace;

/// Most input rows a run takes from the sample (the rest are ignored, and the answer says so).
pub const MAX_SAMPLE_ROWS: usize = 2000;
/// Most rows listed per output, per stage and for row traces.
const MAX_LISTED: usize = 500;

/// The words the page highlights and completes: instruction names with their options, function
/// names with signatures, keywords of expressions.
pub fn vocabulary() -> Value {
    let instructions: Vec<Value> = spl_parser::instructions::INSTRUCTIONS
        .iter()
        .map(|i| {
            json!({
                "name": i.name,
                "syntax": i.syntax,
                "summary": i.summary,
                "options": i.options.iter().map(|o| o.name).collect::<Vec<_>>(),
            })
        })
        .collect();
    let functions: Vec<Value> = spl_engine::functions::all()
        .iter()
        .map(|f| json!({"name": f.name, "signature": f.signature, "summary": f.summary}))
        .collect();
    json!({
        "instructions": instructions,
        "functions": functions,
        "keywords": grammar_keywords(),
    })
}

/// The case-insensitive words of the pest grammar (`^"and"`, `^"between"` …), read from the
/// grammar file built into the binary, instruction names excepted.
fn grammar_keywords() -> Vec<String> {
    const GRAMMAR: &str = include_str!("../../../grammar/spl.pest");
    let mut words: Vec<String> = GRAMMAR
        .split("^\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|w| w.len() > 1 && w.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .filter(|w| spl_parser::instructions::lookup(w).is_none())
        .map(str::to_ascii_lowercase)
        .collect();
    words.sort();
    words.dedup();
    words
}

/// The `--geoip` database of this playground process, set once before serving.
static GEOIP: std::sync::OnceLock<Option<std::sync::Arc<spl_engine::functions::geoip::GeoIpDb>>> =
    std::sync::OnceLock::new();

/// Sets the database the `ip_to_*` functions answer from in every run of the page.
pub fn set_geoip(db: Option<std::sync::Arc<spl_engine::functions::geoip::GeoIpDb>>) {
    let _ = GEOIP.set(db);
}

/// Runs `spl` over `sample` under `profile` and answers everything the page shows.
pub fn run(spl: &str, sample: &str, profile: &str) -> Value {
    let Some(profile) = Profile::parse(profile) else {
        return json!({"fatal": format!("unknown profile `{profile}`")});
    };
    let mut options = Options::new(profile);
    options.geoip = GEOIP.get().cloned().flatten();
    // A playground run must stay interactive whatever is typed.
    options.batch_timeout = Some(std::time::Duration::from_secs(5));
    let pipeline = match Pipeline::compile(spl, &options) {
        Ok(p) => p,
        Err(d) => return json!({"diagnostics": diagnostics(&d, spl), "ok": false}),
    };
    let diags = diagnostics(&pipeline.warnings, spl);
    let (batch, input_errors) = match crate::commands::trace::decode_sample(sample.as_bytes(), None)
    {
        Ok(d) => d,
        Err(e) => return json!({"diagnostics": diags, "ok": true, "fatal": e}),
    };
    let truncated = batch.num_rows() > MAX_SAMPLE_ROWS;
    let batch = batch.slice(0, batch.num_rows().min(MAX_SAMPLE_ROWS));
    let input_errors: Vec<Value> = input_errors
        .iter()
        .map(|e| json!({"line": e.line, "message": e.message}))
        .collect();
    let t = match trace::trace(&pipeline, &batch) {
        Ok(t) => t,
        Err(e) => return json!({"diagnostics": diags, "ok": true, "fatal": e.to_string()}),
    };
    let run = pipeline.process(batch.clone());
    let (outputs, errors, fatal) = match &run {
        Ok(out) => (
            pipeline
                .outputs()
                .iter()
                .zip(&out.datasets)
                .enumerate()
                .map(|(i, (def, batches))| {
                    let rows: Vec<Value> = t
                        .emitted
                        .iter()
                        .filter(|e| e.output == def.name)
                        .take(MAX_LISTED)
                        .map(|e| {
                            json!({"row": trace::row_object(&e.row), "from": e.origins.iter().map(|o| o + 1).collect::<Vec<_>>()})
                        })
                        .collect();
                    let count: usize = batches.iter().map(|b| b.num_rows()).sum();
                    let mut o = json!({"name": def.name, "count": count, "rows": rows});
                    // `render`: the chart as SVG, drawn here like `spl run --chart x.svg`.
                    if let Some(spec) = pipeline.chart(i) {
                        let renderer = spl_engine::render::Renderer::new(pipeline.session().tz);
                        match crate::chart::svg(spec, batches, &renderer) {
                            Ok(svg) => o["chart"] = json!(svg),
                            Err(e) => o["chart_error"] = json!(e),
                        }
                    }
                    o
                })
                .collect::<Vec<_>>(),
            out.errors
                .iter()
                .flat_map(|e| {
                    let renderer = spl_engine::render::Renderer::new(pipeline.session().tz);
                    renderer.rows(&e.rows).into_iter().map(move |r| {
                        json!({"code": e.code, "message": e.message, "statement": e.statement,
                               "stage": e.stage, "instruction": e.instruction, "row": r})
                    })
                })
                .take(MAX_LISTED)
                .collect::<Vec<_>>(),
            Value::Null,
        ),
        Err(e) => (Vec::new(), Vec::new(), json!(format!("{} {e}", e.code()))),
    };
    let summary = trace::summary_json(&t);
    let mut stages = Vec::new();
    for (i, s) in summary["stages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let (ci, si) = (
            s["statement"].as_u64().unwrap_or(1) as usize - 1,
            s["stage"].as_u64().unwrap_or(1) as usize - 1,
        );
        let steps: Vec<Value> = t
            .steps
            .iter()
            .filter(|st| st.statement == ci && st.stage == si)
            .take(MAX_LISTED)
            .map(|st| {
                let mut v = trace::step_json(&t, st);
                v["rows"] = json!(st.origins.iter().map(|o| o + 1).collect::<Vec<_>>());
                v
            })
            .collect();
        let mut s = s;
        s["index"] = json!(i);
        s["steps"] = json!(steps);
        stages.push(s);
    }
    let traces: Vec<Value> = (0..batch.num_rows().min(MAX_LISTED))
        .filter_map(|r| t.row(r).map(|rt| trace::row_json(&t, &rt)))
        .collect();
    json!({
        "ok": true,
        "diagnostics": diags,
        "input_rows": batch.num_rows(),
        "truncated": truncated,
        "input_errors": input_errors,
        "outputs": outputs,
        "errors": errors,
        "fatal": fatal,
        "policy": t.policy,
        "stages": stages,
        "traces": traces,
    })
}

/// Diagnostics for the editor: severity, code, message, the primary span in characters (the
/// page counts UTF-16 units; see `charOffset` in app.js), labels, notes and help.
fn diagnostics(d: &spl_parser::Diagnostics, text: &str) -> Vec<Value> {
    d.items
        .iter()
        .map(|d| {
            let span = d.span();
            json!({
                "severity": if d.is_error() { "error" } else { "warning" },
                "code": d.code.id,
                "message": d.message,
                "start": utf16(text, span.start),
                "end": utf16(text, span.end.max(span.start)),
                "labels": d.labels.iter().map(|l| json!({
                    "start": utf16(text, l.span.start), "end": utf16(text, l.span.end),
                    "message": l.message, "primary": l.primary})).collect::<Vec<_>>(),
                "notes": d.notes,
                "help": d.help,
            })
        })
        .collect()
}

/// A byte offset of `text` as an offset in UTF-16 units (what JavaScript strings index).
fn utf16(text: &str, byte: usize) -> usize {
    let byte = byte.min(text.len());
    let mut end = byte;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_answers_outputs_stages_and_traces() {
        let v = run(
            "* | where status >= 500 | project uri",
            "{\"status\":\"500\",\"uri\":\"/a\"}\n{\"status\":\"200\",\"uri\":\"/b\"}\n",
            "cli",
        );
        assert_eq!(v["outputs"][0]["count"], 1);
        assert_eq!(v["outputs"][0]["rows"][0]["row"]["uri"], "/a");
        assert_eq!(v["stages"][0]["dropped"], 1);
        let why = v["stages"][0]["steps"][1]["reason"].as_str().unwrap();
        assert!(
            why.contains("status >= 500") && why.contains("\"200\""),
            "{why}"
        );
    }

    #[test]
    fn a_render_output_comes_with_its_svg_chart() {
        let v = run(
            "* | extend n = cast(n as bigint) | render columnchart with (xcolumn = k, ycolumns = n)",
            "{\"k\":\"a\",\"n\":\"3\"}\n{\"k\":\"b\",\"n\":\"5\"}\n",
            "cli",
        );
        let svg = v["outputs"][0]["chart"].as_str().expect("a chart");
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{svg}");
        let v = run("* | render piechart", "{\"k\":\"a\"}\n", "cli");
        assert!(v["outputs"][0]["chart_error"].is_string(), "{v}");
    }

    #[test]
    fn a_compile_error_answers_its_span_and_code() {
        let v = run("* | wher x > 1", "{}", "cli");
        let d = &v["diagnostics"][0];
        assert_eq!(d["severity"], "error");
        assert!(d["code"].as_str().unwrap().starts_with('E'));
        assert!(d["end"].as_u64() >= d["start"].as_u64());
    }

    #[test]
    fn offsets_count_utf16_units() {
        assert_eq!(utf16("é|x", 2), 1);
        assert_eq!(utf16("😀x", 4), 2);
    }

    #[test]
    fn the_vocabulary_comes_from_the_metadata() {
        let v = vocabulary();
        let names: Vec<&str> = v["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"parse-regexp") && names.contains(&"where"));
        assert!(v["functions"].as_array().unwrap().len() > 100);
        let kw: Vec<&str> = v["keywords"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert!(
            kw.contains(&"between") && kw.contains(&"and") && !kw.contains(&"where"),
            "{kw:?}"
        );
    }
}

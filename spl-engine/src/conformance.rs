//! Conformance cases: JSON lines `{id, spl, input, output, outputs?, errors?, compile_error?,
//! options?, notes?}` run through the real path (JSON-lines decoder → compiled pipeline →
//! §18.4 text rendering) and compared as multisets of rows with values as text. Shared by the
//! workspace test over `testdata/conformance/` and by `spl test`.
//!
//! - `output`: every emitted row, all outputs together. `outputs`: one list per emitted dataset,
//!   compared per dataset (use one or the other).
//! - `errors`: rows expected on the error stream; their `__error__` is compared by code only
//!   (`"__error__": "E2001"`). When absent, error rows must not occur.
//! - `compile_error`: the code of a diagnostic the program must fail to compile with.
//! - `options`: `{"timezone": "+08:00", "profile": "scan"}`.
use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::codec::{Decoder, InputFormat};
use crate::pipeline::{with_error_column, Options, Pipeline, Profile, ERROR_FIELD};
use crate::render::Renderer;
use crate::timezone::SessionTz;

/// One row as field → text.
pub type Row = BTreeMap<String, String>;

/// A case as read from a file (the JSON object is kept for `--update`).
#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    /// 1-based line in its file.
    pub line: usize,
    pub json: Map<String, Value>,
}

/// The result of one case.
#[derive(Debug)]
pub struct Outcome {
    pub id: String,
    pub line: usize,
    /// `None` when the case passed; otherwise a readable explanation.
    pub failure: Option<String>,
    /// What the engine produced, in the case's own form (for `--update`).
    pub actual: Map<String, Value>,
}

/// Reads the cases of a JSON-lines file; a malformed line is an error with its number.
pub fn load(path: &Path) -> Result<Vec<Case>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Parses JSON-lines case text (blank lines and lines starting with `#` or `//` are skipped).
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("//") {
            continue;
        }
        let json: Map<String, Value> =
            serde_json::from_str(t).map_err(|e| format!("line {}: {e}", i + 1))?;
        let id = match json.get("id") {
            Some(Value::String(s)) => s.clone(),
            _ => format!("line-{}", i + 1),
        };
        if !matches!(json.get("spl"), Some(Value::String(_))) {
            return Err(format!("line {}: case `{id}` has no \"spl\" string", i + 1));
        }
        cases.push(Case {
            id,
            line: i + 1,
            json,
        });
    }
    Ok(cases)
}

/// Runs one case.
pub fn run(case: &Case) -> Outcome {
    let mut outcome = Outcome {
        id: case.id.clone(),
        line: case.line,
        failure: None,
        actual: Map::new(),
    };
    if let Err(e) = run_inner(case, &mut outcome) {
        outcome.failure = Some(e);
    }
    outcome
}

fn run_inner(case: &Case, outcome: &mut Outcome) -> Result<(), String> {
    let j = &case.json;
    let spl = j["spl"].as_str().unwrap_or_default();
    let options = options(j.get("options"))?;
    let pipeline = match (Pipeline::compile(spl, &options), j.get("compile_error")) {
        (Ok(_), Some(code)) => {
            outcome.actual.insert("compile_error".into(), Value::Null);
            return Err(format!(
                "expected compile error {code}, but the program compiled"
            ));
        }
        (Err(d), Some(code)) => {
            let codes: Vec<&str> = d.errors().map(|d| d.code.id).collect();
            outcome
                .actual
                .insert("compile_error".into(), Value::from(codes.first().copied()));
            return if codes.iter().any(|c| Some(*c) == code.as_str()) {
                Ok(())
            } else {
                Err(format!("expected compile error {code}, got {codes:?}"))
            };
        }
        (Err(d), None) => {
            let msgs: Vec<String> = d
                .errors()
                .map(|d| format!("{}: {}", d.code.id, d.message))
                .collect();
            return Err(format!("does not compile: {}", msgs.join("; ")));
        }
        (Ok(p), None) => p,
    };
    let input = input_lines(j.get("input"))?;
    let Produced { datasets, errors } = produce(&pipeline, &input, &options)?;
    let mut problems = Vec::new();
    if let Some(per) = j.get("outputs") {
        let expected = per
            .as_array()
            .ok_or("\"outputs\" must be a list of row lists")?;
        outcome.actual.insert(
            "outputs".into(),
            Value::Array(datasets.iter().map(|d| rows_json(d)).collect()),
        );
        if expected.len() != datasets.len() {
            problems.push(format!(
                "expected {} outputs, the program has {}",
                expected.len(),
                datasets.len()
            ));
        }
        for (i, (exp, act)) in expected.iter().zip(&datasets).enumerate() {
            compare(&format!("output {}", i + 1), exp, act, &mut problems)?;
        }
    } else {
        let all: Vec<Row> = datasets.into_iter().flatten().collect();
        outcome.actual.insert("output".into(), rows_json(&all));
        let expected = j.get("output").cloned().unwrap_or(Value::Array(Vec::new()));
        compare("output", &expected, &all, &mut problems)?;
    }
    if j.contains_key("errors") || !errors.is_empty() {
        outcome.actual.insert("errors".into(), rows_json(&errors));
        let expected = j.get("errors").cloned().unwrap_or(Value::Array(Vec::new()));
        compare("errors", &expected, &errors, &mut problems)?;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// What one way of running a case produced: the rows of each emitted dataset and the error
/// rows (with `__error__` as the code), values as text (§18.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Produced {
    pub datasets: Vec<Vec<Row>>,
    pub errors: Vec<Row>,
}

/// The options a case asks for (`options`: profile, time zone).
pub fn case_options(case: &Case) -> Result<Options, String> {
    options(case.json.get("options"))
}

/// A case's input rows as JSON lines, one per row.
pub fn case_input(case: &Case) -> Result<String, String> {
    input_lines(case.json.get("input"))
}

/// Runs JSON-lines `input` through `pipeline` with the engine API: every field decoded, one
/// batch, [`Pipeline::process`]. The reference path every host path is compared with.
pub fn produce(pipeline: &Pipeline, input: &str, options: &Options) -> Result<Produced, String> {
    let decoder = Decoder::new(InputFormat::Json);
    let decoded = decoder.decode(input.as_bytes(), 1);
    if let Some(e) = decoded.errors.first() {
        return Err(format!("input row {}: {}", e.line, e.message));
    }
    let out = pipeline
        .process(decoded.batch)
        .map_err(|e| format!("processing failed: {e}"))?;
    let renderer = Renderer::new(options.timezone);
    let datasets: Vec<Vec<Row>> = out
        .datasets
        .iter()
        .map(|bs| bs.iter().flat_map(|b| renderer.rows(b)).collect())
        .collect();
    let mut errors = Vec::new();
    for e in &out.errors {
        let b = with_error_column(e).map_err(|e| e.to_string())?;
        for mut row in renderer.rows(&b) {
            row.insert(ERROR_FIELD.into(), e.code.to_string());
            errors.push(row);
        }
    }
    Ok(Produced { datasets, errors })
}

fn options(v: Option<&Value>) -> Result<Options, String> {
    let mut o = Options::default();
    let Some(v) = v else { return Ok(o) };
    let m = v.as_object().ok_or("\"options\" must be an object")?;
    for (k, v) in m {
        let text = v
            .as_str()
            .ok_or_else(|| format!("option {k} must be a string"))?;
        match k.as_str() {
            "timezone" => o.timezone = SessionTz::parse(text)?,
            "profile" => {
                o.profile = Profile::parse(text).ok_or_else(|| format!("unknown profile {text}"))?
            }
            _ => return Err(format!("unknown case option `{k}`")),
        }
    }
    Ok(o)
}

/// The input rows as JSON lines for the decoder.
fn input_lines(v: Option<&Value>) -> Result<String, String> {
    let rows = match v {
        None => return Ok(String::new()),
        Some(Value::Array(rows)) => rows,
        Some(_) => return Err("\"input\" must be a list of objects".into()),
    };
    let mut s = String::new();
    for r in rows {
        if !r.is_object() {
            return Err(format!("input row {r} is not an object"));
        }
        s.push_str(&r.to_string());
        s.push('\n');
    }
    Ok(s)
}

/// Expected rows as text: strings as they are, numbers and booleans as their JSON text,
/// objects and arrays as compact JSON, null as an absent field.
fn expected_rows(v: &Value) -> Result<Vec<Row>, String> {
    let rows = v.as_array().ok_or("expected rows must be a list")?;
    rows.iter()
        .map(|r| {
            let obj = r
                .as_object()
                .ok_or_else(|| format!("row {r} is not an object"))?;
            Ok(obj
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect())
        })
        .collect()
}

/// Compares as multisets and describes the difference.
fn compare(
    what: &str,
    expected: &Value,
    actual: &[Row],
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let mut exp = expected_rows(expected)?;
    let mut act = actual.to_vec();
    exp.sort();
    act.sort();
    if exp == act {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut rest = act.clone();
    for e in &exp {
        match rest.iter().position(|a| a == e) {
            Some(i) => {
                rest.remove(i);
            }
            None => missing.push(e),
        }
    }
    let mut s = format!("{what}: expected {} rows, got {}", exp.len(), act.len());
    for m in missing {
        s.push_str(&format!("\n  - {}", row_text(m)));
    }
    for r in &rest {
        s.push_str(&format!("\n  + {}", row_text(r)));
    }
    problems.push(s);
    Ok(())
}

fn row_text(r: &Row) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

fn rows_json(rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                Value::Object(
                    r.iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// Applies the actual results of `outcomes` to the case objects (for `--update`): returns the
/// new file text.
pub fn updated_text(original: &str, cases: &[Case], outcomes: &[Outcome]) -> String {
    let mut lines: Vec<String> = original.lines().map(str::to_string).collect();
    for (case, outcome) in cases.iter().zip(outcomes) {
        if outcome.failure.is_none() {
            continue;
        }
        let mut json = case.json.clone();
        for (k, v) in &outcome.actual {
            if k == "compile_error" {
                continue;
            }
            json.insert(k.clone(), v.clone());
        }
        if let Some(line) = lines.get_mut(case.line - 1) {
            *line = Value::Object(json).to_string();
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

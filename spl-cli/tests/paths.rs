//! Identical behaviour in every host, proven: each conformance case (testdata/conformance) runs
//! through
//! (a) the engine API (`spl_engine::conformance::produce`: decode every field, `process`),
//! (b) the executor `spl run` uses (`spl_engine::exec`: chunks, decode-field selection, ordered
//!     parallel delivery, error rows rebuilt with all their fields),
//! (c) the C ABI (`spl_compile`/`spl_process` over the Arrow C Data Interface), and
//! (d) the pushdown path (rows as a protobuf LogGroup on the wire → `spl_loghub::scan::apply`
//!     → wire groups back), for cases that compile under the consumer profile,
//!
//! and the test fails when any two disagree. Paths (a)–(c) run the case's own profile; (d) runs
//! under the consumer profile, compared with (a) under the same options.
use std::collections::BTreeMap;
use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::ptr;

use arrow::array::{Array, StructArray};
use arrow::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow::record_batch::RecordBatch;
use prost::Message;
use spl_capi::*;
use spl_engine::codec::{Decoder, InputFormat};
use spl_engine::conformance::{self, Case, Produced, Row};
use spl_engine::exec;
use spl_engine::pipeline::{Options, Pipeline, Profile};
use spl_engine::pushdown::Pushdown;
use spl_engine::render::Renderer;
use spl_loghub::proto::{decode_group, Log, LogContent, LogGroup};

const TIME: &str = "__time__";
const TIME_NS: &str = "__time_ns_part__";

fn case_files() -> Vec<PathBuf> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/conformance");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// Rows sorted, so results compare as multisets.
fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort();
    rows
}

/// Time fields are compared only when the input rows had them: the C ABI and the wire give
/// every row a time (the batch's or the group's), the engine API leaves it absent.
fn without_time(rows: &[Row], keep_time: bool) -> Vec<Row> {
    sorted(
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                // The wire cannot tell an empty topic or source from none.
                for k in ["__topic__", "__source__"] {
                    if r.get(k).is_some_and(String::is_empty) {
                        r.remove(k);
                    }
                }
                if !keep_time {
                    r.remove(TIME);
                    r.remove(TIME_NS);
                } else if r.get(TIME_NS).is_some_and(|v| v == "0") {
                    r.remove(TIME_NS);
                }
                r
            })
            .collect(),
    )
}

/// Every output row; an empty `__topic__`/`__source__` is dropped (the wire cannot tell an
/// empty topic from none).
fn all_outputs(p: &Produced) -> Vec<Row> {
    p.datasets
        .iter()
        .flatten()
        .map(|r| {
            let mut r = r.clone();
            for k in ["__topic__", "__source__"] {
                if r.get(k).is_some_and(String::is_empty) {
                    r.remove(k);
                }
            }
            r
        })
        .collect()
}

/// Time fields are compared when the input had them and every reference row kept them: a
/// program that clears a row's time leaves it without one in the engine, while the C ABI and
/// the wire give every event a time (the batch's, the group's or the clock's; documented).
fn compare_time(had_time: bool, reference: &Produced) -> bool {
    had_time && all_outputs(reference).iter().all(|r| r.contains_key(TIME))
}

/// Error rows by code only (hosts show the message differently, the code is the contract).
fn error_codes(p: &Produced) -> Vec<String> {
    let mut codes: Vec<String> = p
        .errors
        .iter()
        .map(|r| r.get("__error__").cloned().unwrap_or_default())
        .collect();
    codes.sort();
    codes
}

fn decode_all(input: &str) -> RecordBatch {
    let decoded = Decoder::new(InputFormat::Json).decode(input.as_bytes(), 1);
    assert!(decoded.errors.is_empty(), "{:?}", decoded.errors);
    decoded.batch
}

// ---- (b) the executor of `spl run` ------------------------------------------------------

/// Collects what the executor delivers, rendered as text; `__error__` reduced to its code.
struct Collect {
    renderer: Renderer,
    produced: Produced,
}

impl exec::Sink for Collect {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        let datasets = &mut self.produced.datasets;
        if datasets.len() <= output {
            datasets.resize_with(output + 1, Vec::new);
        }
        // The hidden input-line column is not a field (see `exec::Sink::rows`).
        datasets[output].extend(self.renderer.rows(batch).into_iter().map(|mut r| {
            r.remove(spl_engine::codec::LINE_FIELD);
            r
        }));
        Ok(())
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        for mut r in self.renderer.rows(batch) {
            if let Some(e) = r.get_mut("__error__") {
                let v: serde_json::Value = serde_json::from_str(e).unwrap();
                *e = v["code"].as_str().unwrap().to_string();
            }
            self.produced.errors.push(r);
        }
        Ok(())
    }
}

/// The input as a stream in chunks of `chunk_size` bytes on `threads` threads, with the decode
/// plan `spl run` uses for JSON output (only the fields the pipeline needs, rows kept as their
/// input lines where unchanged).
fn through_executor(
    pipeline: &Pipeline,
    input: &str,
    options: &Options,
    chunk_size: usize,
    threads: usize,
) -> Produced {
    let mut sink = Collect {
        renderer: Renderer::new(options.timezone),
        produced: Produced {
            datasets: vec![Vec::new(); pipeline.outputs().len()],
            errors: Vec::new(),
        },
    };
    let source = exec::Source {
        name: "case".into(),
        reader: Box::new(std::io::Cursor::new(input.as_bytes().to_vec())),
        format: Some(InputFormat::Json),
    };
    let run = exec::RunOptions {
        threads,
        chunk_size,
        decode: exec::DecodePlan::for_pipeline(pipeline, false),
        ..exec::RunOptions::default()
    };
    let mut sources = std::iter::once(Ok(source));
    exec::run(pipeline, &mut sources, &run, &mut sink).unwrap_or_else(|e| panic!("executor: {e}"));
    sink.produced
}

// ---- (c) the C ABI ------------------------------------------------------------------------

struct Compiled(*mut SplPipeline);

impl Drop for Compiled {
    fn drop(&mut self) {
        assert_eq!(spl_pipeline_free(self.0), SplStatus::SPL_OK);
    }
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(spl_last_error()) }
        .to_string_lossy()
        .into_owned()
}

fn abi_compile(spl: &str, profile: &str, timezone: Option<&str>) -> Compiled {
    let spl = CString::new(spl).unwrap();
    let profile = CString::new(profile).unwrap();
    let tz = timezone.map(|t| CString::new(t).unwrap());
    let mut options = unsafe { std::mem::zeroed::<SplOptions>() };
    assert_eq!(
        unsafe { spl_options_default(&mut options) },
        SplStatus::SPL_OK
    );
    options.profile = profile.as_ptr();
    options.timezone = tz.as_ref().map_or(ptr::null(), |t| t.as_ptr());
    let mut p = ptr::null_mut();
    let mut diags: *mut c_char = ptr::null_mut();
    let st = unsafe { spl_compile(spl.as_ptr(), &options, &mut p, &mut diags) };
    if !diags.is_null() {
        assert_eq!(spl_string_free(diags), SplStatus::SPL_OK);
    }
    assert_eq!(st, SplStatus::SPL_OK, "{}", last_error());
    Compiled(p)
}

/// Output rows (tags folded back in as `__tag__:k`) and error rows of one `spl_process` call.
fn through_abi(p: &Compiled, batch: RecordBatch) -> (Vec<Row>, usize) {
    let st = StructArray::from(batch);
    let mut array = FFI_ArrowArray::new(&st.to_data());
    let schema = FFI_ArrowSchema::try_from(st.data_type()).unwrap();
    let mut result = ptr::null_mut();
    let status = unsafe {
        spl_process(
            p.0,
            &mut array as *mut FFI_ArrowArray as *mut ArrowArray,
            &schema as *const FFI_ArrowSchema as *const ArrowSchema,
            ptr::null(),
            &mut result,
        )
    };
    assert_eq!(status, SplStatus::SPL_OK, "{}", last_error());
    let renderer = Renderer::default();
    let mut n = 0usize;
    assert_eq!(
        unsafe { spl_result_group_count(result, &mut n) },
        SplStatus::SPL_OK
    );
    let (mut rows, mut errors) = (Vec::new(), 0);
    for g in 0..n {
        let mut info = unsafe { std::mem::zeroed::<SplGroupInfo>() };
        assert_eq!(
            unsafe { spl_result_group_info(result, g, &mut info) },
            SplStatus::SPL_OK
        );
        let mut tags = Vec::new();
        for t in 0..info.tag_count {
            let mut k = SplStr {
                ptr: ptr::null(),
                len: 0,
            };
            let mut v = k;
            assert_eq!(
                unsafe { spl_result_group_tag(result, g, t, &mut k, &mut v) },
                SplStatus::SPL_OK
            );
            tags.push((text_of(k), text_of(v)));
        }
        let mut out = FFI_ArrowArray::empty();
        let mut out_schema = FFI_ArrowSchema::empty();
        assert_eq!(
            unsafe {
                spl_result_export(
                    result,
                    g,
                    &mut out as *mut FFI_ArrowArray as *mut ArrowArray,
                    &mut out_schema as *mut FFI_ArrowSchema as *mut ArrowSchema,
                )
            },
            SplStatus::SPL_OK
        );
        let data = unsafe { from_ffi(out, &out_schema) }.unwrap();
        let batch = RecordBatch::from(StructArray::from(data));
        if info.is_error != 0 {
            errors += batch.num_rows();
            continue;
        }
        for mut r in renderer.rows(&batch) {
            for (k, v) in &tags {
                r.insert(format!("__tag__:{k}"), v.clone());
            }
            rows.push(r);
        }
    }
    assert_eq!(spl_result_free(result), SplStatus::SPL_OK);
    (rows, errors)
}

fn text_of(s: SplStr) -> String {
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr as *const u8, s.len) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

// ---- (d) the pushdown path, over the wire -------------------------------------------------

/// The case's rows as one wire group: every field a content (values as their text), `__time__`
/// as the log time (a fixed time when the row has none).
fn wire_group(rows: &[Row]) -> Vec<u8> {
    let logs = rows
        .iter()
        .map(|r| Log {
            time: r
                .get(TIME)
                .and_then(|t| t.parse().ok())
                .unwrap_or(1_700_000_000),
            time_ns: r.get(TIME_NS).and_then(|t| t.parse().ok()),
            contents: r
                .iter()
                .filter(|(k, _)| *k != TIME && *k != TIME_NS)
                .map(|(k, v)| LogContent {
                    key: k.as_bytes().to_vec(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
        })
        .collect();
    LogGroup {
        logs,
        ..LogGroup::default()
    }
    .encode_to_vec()
}

/// Output rows of the pushdown: each wire log as fields, group metadata folded back in.
fn through_pushdown(p: &Pushdown, wire: &[u8]) -> Vec<Row> {
    let group = decode_group(wire).unwrap();
    let (out, _) = spl_loghub::scan::apply(p, &group).unwrap();
    let mut rows = Vec::new();
    for g in out {
        let g = decode_group(&g.encode_to_vec()).unwrap();
        for log in &g.logs {
            let mut r: Row = BTreeMap::new();
            r.insert(TIME.into(), log.time.to_string());
            if let Some(ns) = log.time_ns {
                r.insert(TIME_NS.into(), ns.to_string());
            }
            for (k, v) in [("__topic__", &g.topic), ("__source__", &g.source)] {
                if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                    r.insert(k.into(), String::from_utf8_lossy(v).into_owned());
                }
            }
            for t in &g.log_tags {
                r.insert(
                    format!("__tag__:{}", String::from_utf8_lossy(&t.key)),
                    String::from_utf8_lossy(&t.value).into_owned(),
                );
            }
            for c in &log.contents {
                r.insert(
                    String::from_utf8_lossy(&c.key).into_owned(),
                    String::from_utf8_lossy(&c.value).into_owned(),
                );
            }
            rows.push(r);
        }
    }
    rows
}

// ---- the comparison -----------------------------------------------------------------------

/// Runs one case through every path; returns which paths ran, or the disagreement.
fn check(case: &Case) -> Result<Vec<&'static str>, String> {
    let j = &case.json;
    let spl = j["spl"].as_str().unwrap();
    let options = conformance::case_options(case)?;
    let input = conformance::case_input(case)?;
    let Ok(pipeline) = Pipeline::compile(spl, &options) else {
        return Ok(Vec::new());
    };
    let a = conformance::produce(&pipeline, &input, &options)?;
    let mut ran = vec!["engine"];

    // Small chunks on two threads: ordered delivery and per-chunk schemas are exercised.
    let b = through_executor(&pipeline, &input, &options, 64, 2);
    if sorted(all_outputs(&b)) != sorted(all_outputs(&a)) || error_codes(&b) != error_codes(&a) {
        return Err(format!(
            "executor differs from engine API:\n  engine:   {a:?}\n  executor: {b:?}"
        ));
    }
    // The executor rebuilds error rows with all their input fields: compare them whole.
    if sorted(b.errors.clone()) != sorted(a.errors.clone()) {
        return Err(format!(
            "executor error rows differ:\n  engine:   {:?}\n  executor: {:?}",
            a.errors, b.errors
        ));
    }
    ran.push("executor");

    let input_rows: Vec<Row> = Renderer::new(options.timezone).rows(&decode_all(&input));
    let had_time = input_rows.iter().any(|r| r.contains_key(TIME));
    let tz = j
        .get("options")
        .and_then(|o| o.get("timezone"))
        .and_then(|t| t.as_str());
    if options.profile != Profile::Consumer {
        let profile = options.profile.to_string();
        let c = abi_compile(spl, &profile, tz);
        let (rows, errors) = through_abi(&c, decode_all(&input));
        let keep = compare_time(had_time, &a);
        let expected = without_time(&all_outputs(&a), keep);
        if without_time(&rows, keep) != expected || errors != a.errors.len() {
            return Err(format!(
                "C ABI differs from engine API:\n  engine: {expected:?} ({} error rows)\n  C ABI:  {:?} ({errors} error rows)",
                a.errors.len(),
                without_time(&rows, keep)
            ));
        }
        ran.push("C ABI");
    }

    let consumer = Options {
        profile: Profile::Consumer,
        ..options.clone()
    };
    if let Ok(p) = Pushdown::with_options(spl, &consumer) {
        let reference = Pipeline::compile(spl, &consumer).map_err(|d| format!("{d:?}"))?;
        let a = conformance::produce(&reference, &input, &consumer)?;
        let keep = compare_time(had_time, &a);
        let expected = without_time(&all_outputs(&a), keep);
        let got = without_time(&through_pushdown(&p, &wire_group(&input_rows)), keep);
        if got != expected {
            return Err(format!(
                "pushdown differs from engine API (consumer profile):\n  engine:   {expected:?}\n  pushdown: {got:?}"
            ));
        }
        ran.push("pushdown");
    }
    Ok(ran)
}

#[test]
fn every_case_gives_the_same_result_on_every_path() {
    let mut failures = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for file in case_files() {
        for case in conformance::load(&file).unwrap() {
            if case.json.contains_key("compile_error") {
                continue;
            }
            match check(&case) {
                Ok(ran) => {
                    for p in ran {
                        *counts.entry(p).or_default() += 1;
                    }
                }
                Err(e) => failures.push(format!(
                    "{}:{} {}: {e}",
                    file.file_name().unwrap().to_string_lossy(),
                    case.line,
                    case.id
                )),
            }
        }
    }
    eprintln!("cases per path: {counts:?}");
    assert!(
        failures.is_empty(),
        "{} cases disagree:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    for path in ["engine", "executor", "C ABI", "pushdown"] {
        assert!(
            counts.get(path).copied().unwrap_or(0) >= 20,
            "too few cases ran through {path}: {counts:?}"
        );
    }
}

//! The executor as every host calls it (`spl_engine::exec`): decode-field selection keeps
//! outputs and error rows identical to decoding every field under each error policy, error rows
//! carry every input field, ordered delivery over many chunks and threads equals one thread,
//! and the batch entry point reconstructs error rows the same way.
use std::collections::BTreeMap;
use std::io::Cursor;

use arrow::record_batch::RecordBatch;
use serde_json::Value;
use spl_engine::codec::{Decoder, EncodedRows, Encoder, InputFormat, LineFormat, RowEncoder};
use spl_engine::exec::{self, DecodePlan, RunError, RunOptions, Sink, Source, Totals};
use spl_engine::pipeline::{ErrorPolicy, Options, Pipeline};
use spl_engine::plan::FieldSelection;
use spl_engine::render::Renderer;

const POLICIES: [ErrorPolicy; 4] = [
    ErrorPolicy::ErrorStream,
    ErrorPolicy::PassThrough,
    ErrorPolicy::Drop,
    ErrorPolicy::Fail,
];

/// Pipelines with stages that fail on some rows, reshape rows or keep them unchanged.
const PIPELINES: &[&str] = &[
    "* | where cast(status AS BIGINT) >= 300",
    "* | where uri != '/x' | where cast(status AS BIGINT) >= 300",
    "* | extend m = cast(n AS BIGINT) * 2",
    "* | extend m = cast(n AS BIGINT) * 2 | project uri, m",
    "* | where cast(n AS BIGINT) > 0 | project uri, n",
    "* | project uri, status | where cast(status AS BIGINT) > 0",
    "* | where cast(status AS BIGINT) > 100 | project-away content",
    "* | parse-regexp content, '(\\S+) (\\S+) (\\S+) (\\d+)' as ip, method, path, code \
       | where cast(code AS BIGINT) > 300",
    "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where cast(n AS BIGINT) > 0 \
       | project ip",
    "* | extend k = cast(n AS BIGINT) | stats c = count(*), s = sum(k) by flag",
    "* | where cast(n AS BIGINT) > -10 | stats c = count(*) by uri",
    "* | where flag = 'true'",
];

const INPUT: &str = r#"{"status":"500","uri":"/a/b","n":"10","flag":"true","content":"10.0.0.1 GET /a/b 500","extra":"e1"}
{"status":"abc","uri":"/c","n":"x","flag":"false","content":"bad line here","extra":"e2"}
{"status":"200","uri":"/d","n":"3","content":"10.0.0.2 POST /d 200","other":{"k":1}}
{"uri":"/e","n":"-4","content":"no status","extra":"e4"}
not json at all
{"status":"404","uri":"/f","n":"7","flag":"true","content":"10.0.0.3 GET /f 404","extra":"e3"}
{"status":"3x","uri":"/g","n":"9.5","flag":"true","content":"10.0.0.4 PUT /g 301"}
"#;

fn compile(spl: &str, policy: ErrorPolicy) -> Pipeline {
    let options = Options {
        error_policy: Some(policy),
        ..Options::default()
    };
    Pipeline::compile(spl, &options).unwrap_or_else(|d| panic!("{spl}: {d:?}"))
}

/// A JSON value with object keys in one order, so field order does not matter.
fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn parse_lines(text: &[u8]) -> Vec<Value> {
    std::str::from_utf8(text)
        .unwrap()
        .lines()
        .map(|l| canonical(serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))))
        .collect()
}

/// Collects every output as JSON lines, written the way `spl run` writes them.
struct Collect {
    encoders: Vec<Encoder>,
    outputs: Vec<Vec<u8>>,
    errors: Encoder,
    error_text: Vec<u8>,
    /// Hand the executor row encoders (encoding on the worker threads).
    parallel_encoding: bool,
    progress: u64,
}

impl Collect {
    fn new(pipeline: &Pipeline, lines_out: bool, parallel_encoding: bool) -> Collect {
        let lines = DecodePlan::rows_as_lines(pipeline, lines_out);
        let n = pipeline.outputs().len();
        Collect {
            encoders: (0..n)
                .map(|_| {
                    Encoder::new(LineFormat::Json, Renderer::default()).with_input_lines(lines)
                })
                .collect(),
            outputs: vec![Vec::new(); n],
            errors: Encoder::new(LineFormat::Json, Renderer::default()),
            error_text: Vec::new(),
            parallel_encoding,
            progress: 0,
        }
    }

    fn rows(&self) -> Vec<Vec<Value>> {
        self.outputs.iter().map(|o| parse_lines(o)).collect()
    }

    fn error_rows(&self) -> Vec<Value> {
        parse_lines(&self.error_text)
    }
}

impl Sink for Collect {
    fn rows(&mut self, output: usize, batch: &RecordBatch) -> std::io::Result<()> {
        self.encoders[output].write_batch(batch, &mut self.outputs[output])
    }

    fn error_rows(&mut self, batch: &RecordBatch) -> std::io::Result<()> {
        self.errors.write_batch(batch, &mut self.error_text)
    }

    fn row_encoder(&self, output: usize) -> Option<RowEncoder> {
        if self.parallel_encoding {
            Some(self.encoders[output].row_encoder())
        } else {
            None
        }
    }

    fn encoded_rows(&mut self, output: usize, rows: &EncodedRows) -> std::io::Result<()> {
        self.outputs[output].extend_from_slice(rows.first_rows(rows.row_ends.len()));
        Ok(())
    }

    fn progress(&mut self, bytes: u64) {
        self.progress += bytes;
    }
}

fn source(text: &str, format: Option<InputFormat>) -> Source {
    Source {
        name: "test".to_string(),
        reader: Box::new(Cursor::new(text.as_bytes().to_vec())),
        format,
    }
}

/// Runs `pipeline` over `text` with `decode`, collecting what the sink got.
fn run(
    pipeline: &Pipeline,
    text: &str,
    decode: DecodePlan,
    lines_out: bool,
    threads: usize,
    chunk_size: usize,
) -> (Result<Totals, RunError>, Collect) {
    let mut sink = Collect::new(pipeline, lines_out, true);
    let options = RunOptions {
        threads,
        chunk_size,
        fail_fast: false,
        decode,
    };
    let mut sources = std::iter::once(Ok(source(text, None)));
    let result = exec::run(pipeline, &mut sources, &options, &mut sink);
    (result, sink)
}

#[test]
fn decode_selection_gives_the_same_outputs_and_error_rows_as_decoding_every_field() {
    let mut selective = 0;
    for spl in PIPELINES {
        for policy in POLICIES {
            let pipeline = compile(spl, policy);
            for lines_out in [true, false] {
                let plan = DecodePlan::for_pipeline(&pipeline, lines_out);
                if plan.fields != FieldSelection::All {
                    selective += 1;
                }
                let what = format!("{spl} ({policy:?}, lines out: {lines_out}, {plan:?})");
                for (threads, chunk_size) in [(1, 1 << 20), (2, 100)] {
                    let (want, full) = run(
                        &pipeline,
                        INPUT,
                        DecodePlan::all(),
                        lines_out,
                        threads,
                        chunk_size,
                    );
                    let (got, chosen) = run(
                        &pipeline,
                        INPUT,
                        plan.clone(),
                        lines_out,
                        threads,
                        chunk_size,
                    );
                    match (want, got) {
                        (Ok(want), Ok(got)) => {
                            assert_eq!(got.rows_out, want.rows_out, "{what}");
                            assert_eq!(got.error_rows, want.error_rows, "{what}");
                            assert_eq!(got.policy_error_rows, want.policy_error_rows, "{what}");
                        }
                        (Err(want), Err(got)) => assert_eq!(got, want, "{what}"),
                        (want, got) => panic!("{what}: {want:?} vs {got:?}"),
                    }
                    assert_eq!(chosen.rows(), full.rows(), "{what}");
                    assert_eq!(chosen.error_rows(), full.error_rows(), "{what}");
                }
            }
        }
    }
    assert!(
        selective >= PIPELINES.len(),
        "most pipelines decode only some fields ({selective})"
    );
}

#[test]
fn the_policies_differ_where_rows_fail() {
    let spl = "* | where cast(status AS BIGINT) >= 300";
    let out = |policy| {
        let p = compile(spl, policy);
        let plan = DecodePlan::for_pipeline(&p, true);
        run(&p, INPUT, plan, true, 1, 1 << 20)
    };
    let (t, stream) = out(ErrorPolicy::ErrorStream);
    let t = t.unwrap();
    // "abc" and "3x" fail; the line that is not JSON is an input error.
    assert_eq!(t.error_rows, 3);
    assert_eq!(t.input_errors, 1);
    assert_eq!(stream.error_rows().len(), 3);
    let (t, pass) = out(ErrorPolicy::PassThrough);
    assert_eq!(t.unwrap().policy_error_rows, 2);
    assert_eq!(pass.rows()[0].len(), stream.rows()[0].len() + 2);
    let (t, drop) = out(ErrorPolicy::Drop);
    assert_eq!(t.unwrap().policy_error_rows, 2);
    assert_eq!(drop.rows(), stream.rows());
    let (t, _) = out(ErrorPolicy::Fail);
    assert!(matches!(t, Err(RunError::Failed(_))), "{t:?}");
}

#[test]
fn error_rows_carry_every_input_field() {
    for spl in [
        "* | where cast(status AS BIGINT) >= 300",
        "* | extend m = cast(n AS BIGINT) * 2 | project uri, m",
        "* | parse-regexp content, '(\\S+) (\\S+)' as ip, method | where cast(n AS BIGINT) > 0 \
           | project ip",
    ] {
        let pipeline = compile(spl, ErrorPolicy::ErrorStream);
        // JSON output: rows a `where` keeps are written as their lines.
        let plan = DecodePlan::for_pipeline(&pipeline, true);
        assert_ne!(plan.fields, FieldSelection::All, "{spl}");
        assert!(plan.keep_lines, "{spl}");
        let (totals, sink) = run(&pipeline, INPUT, plan, true, 1, 1 << 20);
        totals.unwrap();
        let errors = sink.error_rows();
        let stage_errors: Vec<&Value> = errors
            .iter()
            .filter(|e| !e["__error__"].as_str().unwrap().contains("\"line\""))
            .collect();
        assert!(!stage_errors.is_empty(), "{spl}");
        for e in stage_errors {
            let uri = e["uri"].as_str().unwrap();
            let line = INPUT
                .lines()
                .find(|l| l.contains(&format!("\"uri\":\"{uri}\"")))
                .unwrap();
            let input = canonical(serde_json::from_str(line).unwrap());
            for (k, v) in input.as_object().unwrap() {
                assert_eq!(e.get(k), Some(v), "{spl}: field {k} of {e}");
            }
            assert!(e.get(spl_engine::codec::LINE_FIELD).is_none(), "{e}");
        }
    }
}

/// Many lines of JSON, numbered.
fn many_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            let status = if i % 17 == 0 {
                "bad".to_string()
            } else {
                (i % 600).to_string()
            };
            format!(
                "{{\"i\":\"{i}\",\"status\":\"{status}\",\"uri\":\"/p/{}\",\"pad\":\"{}\"}}\n",
                i % 13,
                "x".repeat(i % 23)
            )
        })
        .collect()
}

#[test]
fn ordered_delivery_over_many_small_chunks_and_threads_equals_one_thread() {
    let text = many_lines(3000);
    for spl in [
        "* | where cast(status AS BIGINT) >= 100",
        "* | extend s = cast(status AS BIGINT) + 1 | project-away pad",
        "* | where uri != '/p/3'",
        "* | where cast(status AS BIGINT) >= 0 | stats c = count(*) by uri",
    ] {
        let pipeline = compile(spl, ErrorPolicy::ErrorStream);
        for lines_out in [true, false] {
            let plan = DecodePlan::for_pipeline(&pipeline, lines_out);
            let (one, single) = run(&pipeline, &text, plan.clone(), lines_out, 1, 1 << 20);
            let one = one.unwrap();
            assert_eq!(single.progress, text.len() as u64);
            for (threads, chunk_size) in [(2, 64), (4, 300), (3, 1)] {
                let (many, parallel) = run(
                    &pipeline,
                    &text,
                    plan.clone(),
                    lines_out,
                    threads,
                    chunk_size,
                );
                let many = many.unwrap();
                assert_eq!(many.lines, 3000);
                assert_eq!(many.rows_out, one.rows_out, "{spl}");
                assert_eq!(many.error_rows, one.error_rows, "{spl}");
                // Byte for byte, in the same order.
                assert_eq!(parallel.outputs, single.outputs, "{spl} x{threads}");
                assert_eq!(parallel.error_text, single.error_text, "{spl} x{threads}");
                assert_eq!(parallel.progress, text.len() as u64);
            }
        }
    }
}

#[test]
fn sources_run_in_turn_each_with_its_own_format() {
    let pipeline = compile(
        "* | where a IS NULL OR a != 'skip'",
        ErrorPolicy::ErrorStream,
    );
    let mut sources = vec![
        Ok(source("a,b\n1,x\nskip,y\n", Some(InputFormat::Csv))),
        Ok(source("{\"a\":\"2\"}\n", None)),
        Ok(source("plain text\n", None)),
    ]
    .into_iter();
    let mut sink = Collect::new(&pipeline, false, false);
    let options = RunOptions {
        threads: 2,
        decode: DecodePlan::for_pipeline(&pipeline, false),
        ..RunOptions::default()
    };
    let totals = exec::run(&pipeline, &mut sources, &options, &mut sink).unwrap();
    assert_eq!(totals.rows_in, 4);
    let rows = sink.rows();
    assert_eq!(rows[0].len(), 3);
    assert_eq!(rows[0][0]["b"], "x");
    assert_eq!(rows[0][1]["a"], "2");
    assert_eq!(rows[0][2]["content"], "plain text");
}

#[test]
fn a_source_that_cannot_be_opened_or_read_is_an_error_after_earlier_chunks() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let pipeline = compile("*", ErrorPolicy::ErrorStream);
    for threads in [1, 2] {
        let mut sources = vec![
            Ok(source("{\"a\":1}\n", None)),
            Ok(Source {
                name: "broken.log".into(),
                reader: Box::new(Broken),
                format: None,
            }),
        ]
        .into_iter();
        let mut sink = Collect::new(&pipeline, true, false);
        let options = RunOptions {
            threads,
            ..RunOptions::default()
        };
        let err = exec::run(&pipeline, &mut sources, &options, &mut sink).unwrap_err();
        assert_eq!(err, RunError::Io("broken.log: disk on fire".into()));
        assert_eq!(sink.rows()[0].len(), 1, "the first source was delivered");
        let mut missing = std::iter::once(Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "x.log: not found",
        )));
        let err = exec::run(&pipeline, &mut missing, &options, &mut sink).unwrap_err();
        assert_eq!(err, RunError::Io("x.log: not found".into()));
    }
}

#[test]
fn the_batch_entry_point_gives_error_rows_with_every_field() {
    let spl = "* | where cast(status AS BIGINT) >= 300 | project uri";
    let pipeline = compile(spl, ErrorPolicy::ErrorStream);
    let plan = DecodePlan::for_pipeline(&pipeline, false);
    let decoder = plan.apply(Decoder::new(InputFormat::Json));
    let decoded = decoder.decode(INPUT.as_bytes(), 1);
    let out = exec::run_batch(&pipeline, decoded.batch).unwrap();
    assert_eq!(out.datasets.len(), 1);
    let enc = Encoder::new(LineFormat::Json, Renderer::default());
    let mut text = Vec::new();
    for b in &out.error_rows {
        enc.write_batch(b, &mut text).unwrap();
    }
    let errors = parse_lines(&text);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["extra"], "e2");
    assert_eq!(errors[0]["content"], "bad line here");
    assert!(errors[0]["__error__"].as_str().unwrap().contains("where"));
    // The same rows as the streaming run over the same input.
    let (_, sink) = run(&pipeline, INPUT, plan, false, 1, 1 << 20);
    let streamed: Vec<Value> = sink
        .error_rows()
        .into_iter()
        .filter(|e| !e["__error__"].as_str().unwrap().contains("\"line\""))
        .collect();
    assert_eq!(streamed, errors);
    // Under the fail policy the call fails.
    let failing = compile(spl, ErrorPolicy::Fail);
    let decoded = Decoder::new(InputFormat::Json).decode(INPUT.as_bytes(), 1);
    assert!(exec::run_batch(&failing, decoded.batch).is_err());
}

/// Lines that splice and lines that must not (numbers, nulls, nesting, escapes, spacing, key
/// order, a repeated removed key, a written key, time fields, invalid JSON, a failing cast);
/// the last lines repeat and swap the same names (the decoder remembers what names allow).
const SPLICE_INPUT: &str = r#"{"a":"1","ua":"x","lat":"0.5"}
{"ua":"x","a":"2","lat":"1"}
{"lat":"2","a":"3"}
{"a": "4","lat":"3"}
{"a":"5","lat":"abc"}
{"a":"6","lat":"1","ms":"old"}
{"a":"7","lat":"1","ua":"y","ua":"z"}
{"a":"8\"q","lat":"1"}
{"a":8,"lat":"1"}
{"a":null,"lat":"1"}
{"__time__":"1700000000","a":"9","lat":"1"}
{"ua":"only"}
{}
not json
{"a":"10","lat":"1","nested":{"x":1}}
{"a":"é漢字","lat":"2","ua":"z"}
{"lat":"4","ua":"x","a":"11"}
{"a":"12","lat":"5"}
{"a":"13","lat":"6"}
{"lat":"7","a":"14"}
{"lat":"8","a":"15"}
{"a":"16","lat":"9"}
"#;

const SPLICE_PIPELINES: &[&str] = &[
    "* | extend ms = cast(lat AS double) * 1000 | project-away ua",
    "* | where a != '3' | project-away ua",
    "* | extend ms = 'x', lat2 = lat | project-away ua, lat",
    "* | project-away ua | extend ua = 'new'",
    "* | extend ms = a | project-away ms",
    "* | project-away __time__",
    "* | extend a = 'over'",
    "* | extend n = cast(lat AS bigint) | where n > 0",
];

#[test]
fn spliced_rows_are_byte_for_byte_the_rows_encoded_from_their_fields() {
    let mut spliced_rows = 0;
    for spl in SPLICE_PIPELINES {
        for policy in POLICIES {
            let pipeline = compile(spl, policy);
            let plan = DecodePlan::for_pipeline(&pipeline, true);
            let edit = plan.splice.clone();
            assert!(edit.is_some(), "{spl}: a splice edit");
            let decoded = plan
                .apply(Decoder::new(InputFormat::Json))
                .decode(SPLICE_INPUT.as_bytes(), 1);
            if let Some(cuts) = decoded.batch.column_by_name(spl_engine::codec::CUT_FIELD) {
                spliced_rows += cuts.len() - cuts.null_count();
            }
            for (threads, chunk_size) in [(1, 1 << 20), (2, 64)] {
                let what = format!("{spl} ({policy:?}, {threads} threads, chunks {chunk_size})");
                let (want, full) = run(
                    &pipeline,
                    SPLICE_INPUT,
                    DecodePlan::all(),
                    true,
                    threads,
                    chunk_size,
                );
                let mut sink = Collect::new(&pipeline, true, threads > 1);
                for e in &mut sink.encoders {
                    *e = e.clone().with_splice(edit.as_ref());
                }
                let options = RunOptions {
                    threads,
                    chunk_size,
                    fail_fast: false,
                    decode: plan.clone(),
                };
                let mut sources = std::iter::once(Ok(source(SPLICE_INPUT, None)));
                let got = exec::run(&pipeline, &mut sources, &options, &mut sink);
                match (want, got) {
                    (Ok(want), Ok(got)) => assert_eq!(got.rows_out, want.rows_out, "{what}"),
                    (Err(want), Err(got)) => assert_eq!(got, want, "{what}"),
                    (want, got) => panic!("{what}: {want:?} vs {got:?}"),
                }
                assert_eq!(
                    String::from_utf8_lossy(&sink.outputs[0]),
                    String::from_utf8_lossy(&full.outputs[0]),
                    "{what}"
                );
                assert_eq!(sink.error_rows(), full.error_rows(), "{what}");
            }
        }
    }
    assert!(spliced_rows > 50, "rows were spliced ({spliced_rows})");
}

/// A spliced row is decoded with only the fields the pipeline reads (it is written from its
/// line); written by an encoder that does not splice it (raw lines, or JSON without the edit),
/// it gets its other fields back from the line, and error rows show them too.
#[test]
fn spliced_rows_keep_every_field_whatever_encodes_them() {
    let spl = "* | extend ms = cast(lat AS double) * 1000 | project-away ua";
    for policy in POLICIES {
        let pipeline = compile(spl, policy);
        let plan = DecodePlan::for_pipeline(&pipeline, true);
        let read = plan.splice.as_ref().and_then(|s| s.read.clone());
        assert_eq!(read, Some(vec!["lat".to_string()]));
        let narrow = plan
            .apply(Decoder::new(InputFormat::Json))
            .decode(SPLICE_INPUT.as_bytes(), 1)
            .batch;
        // The first line splices: its unread `a` is not in the batch, its `lat` is.
        assert!(narrow.column_by_name("a").unwrap().is_null(0));
        assert!(narrow.column_by_name("lat").unwrap().is_valid(0));
        let full = Decoder::new(InputFormat::Json)
            .decode(SPLICE_INPUT.as_bytes(), 1)
            .batch;
        for format in [LineFormat::Json, LineFormat::Raw] {
            let out = |batch: RecordBatch| {
                let (mut rows, mut errors) = (Vec::new(), Vec::new());
                let Ok(done) = exec::run_batch(&pipeline, batch) else {
                    return (Vec::new(), Vec::new()); // the fail policy: a failing row
                };
                let encoder = Encoder::new(format, Renderer::default());
                for b in &done.datasets[0] {
                    encoder.write_batch(b, &mut rows).unwrap();
                }
                for b in &done.error_rows {
                    encoder.write_batch(b, &mut errors).unwrap();
                }
                (parse_lines(&rows), parse_lines(&errors))
            };
            let (want, got) = (out(full.clone()), out(narrow.clone()));
            assert_eq!(got, want, "{policy:?} {format:?}");
            if policy != ErrorPolicy::Fail {
                assert!(got.0.iter().any(|r| r.get("a") == Some(&Value::from("1"))));
            }
            if policy == ErrorPolicy::ErrorStream {
                assert!(got.1.iter().any(|r| r.get("a") == Some(&Value::from("5"))));
            }
        }
    }
}

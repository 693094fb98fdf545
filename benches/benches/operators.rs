//! Per-operator costs: one benchmark per SPL instruction, each timing `Pipeline::process` of a
//! one-stage program (`* | <instruction>`) on a batch decoded beforehand, so that the number is
//! the operator alone, without decoding or encoding. The inputs are 20,000 events of
//! `spl_benches::access_logs`: the JSON events, the raw access-log lines (`content`), and text or
//! metric fields derived from them by an untimed preparation pipeline (JSON lines, CSV lines,
//! key=value lines, JSON arrays, metric rows). Throughput is the size of the input lines the batch
//! is decoded from (for derived inputs: the prepared rows written as raw or JSON lines).
//!
//! Each benchmark checks once, before timing, that its program produced the expected kind of
//! result (rows, columns, no error rows), so a broken case cannot silently measure nothing.
//!
//! A second group, `json-decode`, times the JSON decoder alone on 1 MB of JSON lines, with every
//! field materialised and with only `status` selected (what projection pushdown asks for).
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use spl_engine::codec::{Decoded, Decoder, Encoder, InputFormat, LineFormat};
use spl_engine::pipeline::{Options, Outputs, Pipeline};
use spl_engine::plan::FieldSelection;
use spl_engine::regex_seq::SeqMatcher;
use spl_engine::render::Renderer;

/// Events per operator input.
const EVENTS: usize = 20_000;

/// The anchored sequence pattern that the one-pass matcher (`regex_seq`) takes.
const SEQ_PATTERN: &str = r#"^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)"#;
/// An unanchored pattern with an alternation: left to the `regex` crate.
const REGEX_PATTERN: &str = r#""(GET|POST|PUT|DELETE) (\S+) [^"]*" (\d+)"#;

fn compile(spl: &str) -> Pipeline {
    Pipeline::compile(spl, &Options::default()).unwrap_or_else(|d| panic!("{spl}: {d:?}"))
}

/// Decodes `text` into one batch (`Decoded::bytes` is the text size); every line must decode.
fn decode(format: InputFormat, text: &str) -> Decoded {
    let decoded = Decoder::new(format).decode(text.as_bytes(), 1);
    assert!(decoded.errors.is_empty(), "input lines failed to decode");
    decoded
}

/// Runs the untimed preparation program `spl` on `input`, writes its rows in `format`
/// (raw: the `content` field), and decodes that text again.
fn prepare(input: &Decoded, spl: &str, format: LineFormat) -> Decoded {
    let out = compile(spl).process(input.batch.clone()).expect("prepare");
    assert_eq!(out.error_rows, 0, "{spl}: error rows");
    let mut text = Vec::new();
    let enc = Encoder::new(format, Renderer::default());
    for b in out.datasets.iter().flatten() {
        enc.write_batch(b, &mut text).expect("encode");
    }
    let text = String::from_utf8(text).expect("utf-8");
    let input_format = match format {
        LineFormat::Raw => InputFormat::Raw,
        LineFormat::Json => InputFormat::Json,
    };
    decode(input_format, &text)
}

/// Checks: no error rows, a row count that `rows` accepts, and a first non-empty output batch
/// with each field of `present` and none of `absent`.
fn check(
    name: &str,
    out: &Outputs,
    rows: impl Fn(usize) -> bool,
    present: &[&str],
    absent: &[&str],
) {
    assert!(
        out.errors.is_empty() && out.error_rows == 0,
        "{name}: error rows"
    );
    let n = out.rows();
    assert!(rows(n), "{name}: unexpected row count {n}");
    let batch = out
        .datasets
        .iter()
        .flatten()
        .find(|b| b.num_rows() > 0)
        .unwrap_or_else(|| panic!("{name}: no rows"));
    let schema = batch.schema();
    for f in present {
        assert!(schema.field_with_name(f).is_ok(), "{name}: no field `{f}`");
    }
    for f in absent {
        assert!(
            schema.field_with_name(f).is_err(),
            "{name}: field `{f}` present"
        );
    }
}

/// One operator benchmark: its program, its input, and its result check.
struct Case<'a> {
    name: &'a str,
    spl: String,
    input: &'a Decoded,
    rows: fn(usize) -> bool,
    present: &'a [&'a str],
    absent: &'a [&'a str],
}

fn operators(c: &mut Criterion) {
    let logs = spl_benches::access_logs(EVENTS);
    let json = decode(InputFormat::Json, &logs.jsonl);
    let raw = decode(InputFormat::Raw, &logs.raw);
    // The JSON lines as the `content` of raw events.
    let json_content = decode(InputFormat::Raw, &logs.jsonl);
    let csv = prepare(
        &json,
        "* | extend content = concat_ws(',', ip, method, uri, status, size, latency, request_id, time) | project content",
        LineFormat::Raw,
    );
    let kv = prepare(
        &json,
        "* | extend content = concat('ip=', ip, ' method=', method, ' status=', status, ' size=', size, ' latency=', latency, ' request_id=', request_id) | project content",
        LineFormat::Raw,
    );
    let arrays = prepare(
        &json,
        "* | extend tags = concat('[\"', method, '\",\"', status, '\",\"', ip, '\"]')",
        LineFormat::Json,
    );
    let metrics = prepare(
        &json,
        "* | log-to-metric -names='size, latency' -labels='method, status, uri' -time_field='time' | extend host = 'web-01'",
        LineFormat::Json,
    );

    assert!(
        SeqMatcher::new(SEQ_PATTERN).is_some(),
        "the sequence pattern must take the one-pass matcher"
    );
    assert!(
        SeqMatcher::new(REGEX_PATTERN).is_none(),
        "the alternation pattern must go through the regex crate"
    );

    let all = |n: usize| n == EVENTS;
    let some = |n: usize| n > 0 && n < EVENTS;
    let cases = [
        Case {
            name: "where",
            spl: spl_benches::W1.to_string(),
            input: &json,
            rows: some,
            present: &["status"],
            absent: &[],
        },
        Case {
            name: "extend",
            spl: "* | extend latency_ms = cast(latency as double) * 1000".into(),
            input: &json,
            rows: all,
            present: &["latency_ms", "user_agent"],
            absent: &[],
        },
        Case {
            name: "project",
            spl: "* | project ip, method, uri, status".into(),
            input: &json,
            rows: all,
            present: &["ip", "method", "uri", "status"],
            absent: &["user_agent", "request_id"],
        },
        Case {
            name: "project-away",
            spl: "* | project-away user_agent, referer".into(),
            input: &json,
            rows: all,
            present: &["ip", "request_id"],
            absent: &["user_agent", "referer"],
        },
        Case {
            name: "project-rename",
            spl: "* | project-rename client = ip, verb = method".into(),
            input: &json,
            rows: all,
            present: &["client", "verb", "status"],
            absent: &["ip", "method"],
        },
        Case {
            name: "parse-regexp-seq",
            spl: format!(
                "* | parse-regexp content, '{SEQ_PATTERN}' as ip, time, method, uri, status, size"
            ),
            input: &raw,
            rows: all,
            present: &["content", "ip", "time", "method", "uri", "status", "size"],
            absent: &[],
        },
        Case {
            name: "parse-regexp-regex",
            spl: format!("* | parse-regexp content, '{REGEX_PATTERN}' as method, uri, status"),
            input: &raw,
            rows: all,
            present: &["content", "method", "uri", "status"],
            absent: &[],
        },
        Case {
            name: "parse-json",
            spl: "* | parse-json content".into(),
            input: &json_content,
            rows: all,
            present: &["content", "ip", "user_agent", "request_id"],
            absent: &[],
        },
        Case {
            name: "parse-csv",
            spl: "* | parse-csv content as ip, method, uri, status, size, latency, request_id, time"
                .into(),
            input: &csv,
            rows: all,
            present: &["content", "ip", "uri", "request_id", "time"],
            absent: &[],
        },
        Case {
            name: "parse-kv",
            spl: "* | parse-kv content, ' ', '='".into(),
            input: &kv,
            rows: all,
            present: &["content", "ip", "method", "status", "request_id"],
            absent: &[],
        },
        Case {
            name: "expand-values",
            spl: "* | expand-values tags as tag".into(),
            input: &arrays,
            rows: |n| n == 3 * EVENTS,
            // Without -keep the source becomes NULL in expanded rows; its column stays.
            present: &["tag", "ip"],
            absent: &[],
        },
        Case {
            name: "pack-fields",
            spl: "* | pack-fields -exclude='request_id' as packed".into(),
            input: &json,
            rows: all,
            present: &["packed", "request_id"],
            absent: &["ip", "user_agent"],
        },
        Case {
            name: "stats",
            spl: "* | stats n = count(*), bytes = sum(cast(size as bigint)), latency = avg(cast(latency as double)) by method, status"
                .into(),
            input: &json,
            rows: |n| n > 1 && n < 100,
            present: &["method", "status", "n", "bytes", "latency"],
            absent: &["ip"],
        },
        Case {
            name: "sort",
            spl: "* | sort cast(size as bigint) desc".into(),
            input: &json,
            rows: all,
            present: &["size", "ip"],
            absent: &[],
        },
        Case {
            name: "limit",
            spl: "* | limit 1000, 5000".into(),
            input: &json,
            rows: |n| n == 5000,
            present: &["ip"],
            absent: &[],
        },
        Case {
            name: "log-to-metric",
            spl: "* | log-to-metric -names='size, latency' -labels='method, status, uri' -time_field='time'"
                .into(),
            input: &json,
            rows: |n| n == 2 * EVENTS,
            present: &["__name__", "__labels__", "__time_nano__", "__value__"],
            absent: &["ip"],
        },
        Case {
            name: "metric-to-metric",
            spl: "* | metric-to-metric -add_labels='host' -del_labels='uri' -rename_label='method=verb'"
                .into(),
            input: &metrics,
            rows: |n| n == 2 * EVENTS,
            present: &["__name__", "__labels__", "__time_nano__", "__value__"],
            absent: &[],
        },
    ];

    let mut g = c.benchmark_group("operator");
    g.sample_size(20);
    for case in &cases {
        let p = compile(&case.spl);
        let out = p.process(case.input.batch.clone()).expect("pipeline runs");
        check(case.name, &out, case.rows, case.present, case.absent);
        g.throughput(Throughput::Bytes(case.input.bytes));
        g.bench_function(case.name, |b| {
            b.iter_batched(
                || case.input.batch.clone(),
                |batch| p.process(batch).expect("pipeline runs"),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// The first `bytes` of `text`, cut at a line end.
fn prefix(text: &str, bytes: usize) -> &str {
    let end = text[..bytes.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    &text[..end]
}

fn json_decode(c: &mut Criterion) {
    let logs = spl_benches::access_logs(EVENTS);
    let chunk = prefix(&logs.jsonl, 1 << 20).as_bytes();
    let all = Decoder::new(InputFormat::Json);
    let one =
        Decoder::new(InputFormat::Json).select_fields(FieldSelection::Only(vec!["status".into()]));
    let (a, o) = (all.decode(chunk, 1).batch, one.decode(chunk, 1).batch);
    assert!(a.num_rows() > 0 && a.num_rows() == o.num_rows());
    assert!(a.schema().field_with_name("user_agent").is_ok());
    assert!(o.schema().field_with_name("status").is_ok());
    assert!(o.schema().field_with_name("user_agent").is_err());

    let mut g = c.benchmark_group("json-decode");
    g.sample_size(20);
    g.throughput(Throughput::Bytes(chunk.len() as u64));
    g.bench_function("all-fields", |b| b.iter(|| all.decode(chunk, 1)));
    g.bench_function("only-status", |b| b.iter(|| one.decode(chunk, 1)));
    g.finish();
}

criterion_group!(benches, operators, json_decode);
criterion_main!(benches);

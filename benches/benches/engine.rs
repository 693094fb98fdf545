//! Engine throughput on the benchmark workloads W1–W3 (decode → pipeline → encode, one thread,
//! the same steps `spl run` takes per chunk), a five-stage pipeline on agent-sized (512 KB) and
//! large (4 MB) batches, and the fixed cost of a one-row batch.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use spl_engine::codec::{Decoder, Encoder, InputFormat, LineFormat};
use spl_engine::pipeline::{Options, Pipeline};
use spl_engine::render::Renderer;

/// Decodes, processes and encodes one chunk; returns the encoded size.
fn run_chunk(p: &Pipeline, decoder: &Decoder, chunk: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    let decoded = decoder.decode(chunk, 1);
    let result = p.process(decoded.batch).expect("pipeline runs");
    let enc = Encoder::new(LineFormat::Json, Renderer::default());
    for b in result.datasets.iter().flatten() {
        enc.write_batch(b, out).expect("encode");
    }
    out.len()
}

/// The first `bytes` of `text`, cut at a line end.
fn prefix(text: &str, bytes: usize) -> &[u8] {
    let end = text[..bytes.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    &text.as_bytes()[..end]
}

fn workloads(c: &mut Criterion) {
    let logs = spl_benches::access_logs(20_000);
    let mut out = Vec::new();
    let mut g = c.benchmark_group("workload");
    g.sample_size(20);
    for (name, spl, format, data) in [
        (
            "W1-json-filter",
            spl_benches::W1,
            InputFormat::Json,
            &logs.jsonl,
        ),
        (
            "W2-regex-parse",
            spl_benches::W2,
            InputFormat::Raw,
            &logs.raw,
        ),
        (
            "W3-json-extend",
            spl_benches::W3,
            InputFormat::Json,
            &logs.jsonl,
        ),
    ] {
        let p = Pipeline::compile(spl, &Options::default()).unwrap();
        let d = Decoder::new(format);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| run_chunk(&p, &d, data.as_bytes(), &mut out))
        });
    }
    g.finish();
}

fn batch_sizes(c: &mut Criterion) {
    let logs = spl_benches::access_logs(30_000);
    let p = Pipeline::compile(spl_benches::PIPELINE, &Options::default()).unwrap();
    let d = Decoder::new(InputFormat::Raw);
    let mut out = Vec::new();
    let mut g = c.benchmark_group("five-stage");
    g.sample_size(20);
    for (name, size) in [("512KB", 512 << 10), ("4MB", 4 << 20)] {
        let chunk = prefix(&logs.raw, size);
        g.throughput(Throughput::Bytes(chunk.len() as u64));
        g.bench_function(name, |b| b.iter(|| run_chunk(&p, &d, chunk, &mut out)));
    }
    let one = &logs.raw.as_bytes()[..=logs.raw.find('\n').unwrap()];
    g.throughput(Throughput::Elements(1));
    g.bench_function("one-row", |b| b.iter(|| run_chunk(&p, &d, one, &mut out)));
    g.finish();
}

criterion_group!(benches, workloads, batch_sizes);
criterion_main!(benches);

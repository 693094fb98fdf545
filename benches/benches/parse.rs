//! Parser throughput: a typical pipeline, a 64 KiB program, and canonical printing.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(spl_benches::PIPELINE.len() as u64));
    g.bench_function("pipeline", |b| {
        b.iter(|| spl_parser::parse(spl_benches::PIPELINE).unwrap())
    });
    let large = spl_benches::large_program();
    g.throughput(Throughput::Bytes(large.len() as u64));
    g.bench_function("64KiB", |b| b.iter(|| spl_parser::parse(&large).unwrap()));
    g.finish();
    let program = spl_parser::parse(spl_benches::PIPELINE).unwrap();
    c.bench_function("fmt/pipeline", |b| b.iter(|| program.to_string()));
}

criterion_group!(benches, parse);
criterion_main!(benches);

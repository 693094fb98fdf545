"""Benchmark of the Python paths (a script, not a test; numbers go to docs/performance.md):

1. `Pipeline.process` per 512 KB batch against `spl run --threads 1` over the same JSON lines:
   the CLI's time per 512 KB chunk (decode, process, encode), `process` on batches decoded
   beforehand (import, type conversion, run, export to pyarrow), its fixed cost on a one-row
   batch, and `run_files(threads=1)` (decode and process, batches to Python, no encoding).
2. Ray Data: `spl.ray.apply` over the same events with 1 and 2 worker processes (actors) on a
   local Ray with 2 CPUs, after the Dataset was read and materialized.

    python spl-python/bench.py [--mb 64] [--spl PATH] [--ray]

Use a release build of the extension (`pip install ./spl-python`) and of `spl`.
"""

import argparse
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import pyarrow as pa

import spl

PROGRAM = (
    "* | parse-regexp msg, 'user (\\d+) from (\\S+)' as user, ip "
    "| where level <> 'DEBUG' "
    "| extend slow = cast(latency as bigint) > 500 "
    "| project-away msg"
)
BATCH = 512 << 10


def generate(path: pathlib.Path, mb: int) -> None:
    rng = random.Random(7)
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    with path.open("w") as f:
        written = 0
        i = 0
        while written < mb << 20:
            line = json.dumps(
                {
                    "ts": f"2024-05-01T00:{i % 60:02d}:{i % 59:02d}Z",
                    "level": levels[i % 4],
                    "service": f"svc-{rng.randint(1, 20)}",
                    "latency": str(rng.randint(1, 1000)),
                    "msg": f"user {rng.randint(1, 99999)} from 10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)} did something",
                }
            )
            f.write(line + "\n")
            written += len(line) + 1
            i += 1


def best(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=64)
    ap.add_argument("--spl", default=str(pathlib.Path(__file__).resolve().parents[1] / "target" / "release" / "spl"))
    ap.add_argument("--ray", action="store_true", help="also run the Ray scaling benchmark")
    args = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="spl-bench-"))
    data = tmp / "events.jsonl"
    generate(data, args.mb)
    size = data.stat().st_size
    mb = size / 1e6
    chunks = size / BATCH
    print(f"data: {mb:.1f} MB of JSON lines, {chunks:.0f} chunks of 512 KB; program: {PROGRAM}")

    cli = best(lambda: subprocess.run(
        [args.spl, "run", "--threads", "1", "-o", "json", PROGRAM, str(data)],
        check=True, stdout=subprocess.DEVNULL))
    print(f"spl run --threads 1          : {cli:6.2f} s  {mb / cli:7.1f} MB/s  {cli / chunks * 1e3:6.2f} ms per 512 KB")

    p = spl.compile(PROGRAM)
    decoded = [b for _, b in spl.compile("*").run_files([data], chunk_size=BATCH)]
    rows = sum(b.num_rows for b in decoded)

    def process_all():
        for b in decoded:
            p.process(b)

    proc = best(process_all)
    print(f"process() on decoded batches : {proc:6.2f} s  {mb / proc:7.1f} MB/s  {proc / len(decoded) * 1e3:6.2f} ms per 512 KB batch ({rows} rows)")

    one = pa.table({"level": ["INFO"], "msg": ["user 1 from 10.0.0.1 x"], "latency": ["3"]})
    n = 2000
    fixed = best(lambda: [p.process(one) for _ in range(n)]) / n
    print(f"process() on a 1-row batch   : {fixed * 1e6:6.1f} us per call (fixed cost)")

    def files():
        for _ in p.run_files([data], threads=1):
            pass

    rf = best(files)
    print(f"run_files(threads=1)         : {rf:6.2f} s  {mb / rf:7.1f} MB/s  {rf / chunks * 1e3:6.2f} ms per 512 KB")
    print(f"ratio process-path / CLI per 512 KB: {proc / cli:.2f}; run_files / CLI: {rf / cli:.2f}")

    if args.ray:
        import ray

        from spl import ray as spl_ray

        import logging

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        parts = tmp / "parts"
        parts.mkdir()
        lines = data.read_text().splitlines(keepends=True)
        per = (len(lines) + 15) // 16
        for i in range(16):
            (parts / f"part-{i:02d}.jsonl").write_text("".join(lines[i * per:(i + 1) * per]))
        ds = spl_ray.read_logs(parts).materialize()
        # Throughput of the workers themselves: warm actors holding a compiled pipeline (what
        # `spl.ray.apply` starts) get the materialized blocks from the object store.
        @ray.remote
        class Worker:
            def __init__(self, text):
                self.pipeline = spl.compile(text)

            def run(self, table):
                return self.pipeline.process(table).output.num_rows

        # 16 blocks, so that two workers have work to share.
        refs = ds.repartition(16).materialize().to_arrow_refs()
        print(f"Ray blocks: {len(refs)}")
        results = {}
        for workers in (1, 2, 1, 2):
            actors = [Worker.remote(PROGRAM) for _ in range(workers)]
            ray.get([a.run.remote(refs[0]) for a in actors])
            t = time.perf_counter()
            out_rows = sum(ray.get([actors[i % workers].run.remote(r) for i, r in enumerate(refs)]))
            elapsed = time.perf_counter() - t
            results[workers] = min(results.get(workers, elapsed), elapsed)
            for a in actors:
                ray.kill(a)
        for workers, elapsed in sorted(results.items()):
            print(f"Ray, {workers} worker process(es)  : {elapsed:6.2f} s  {mb / elapsed:7.1f} MB/s ({out_rows} rows out)")
        print(f"Ray speed-up 2 vs 1 workers: {results[1] / results[2]:.2f}x; Ray 1 worker / CLI: {results[1] / cli:.2f}")
        # End to end, actor start-up included.
        for workers in (1, 2):
            t = time.perf_counter()
            n = spl_ray.apply(ds, PROGRAM, workers=workers).materialize().count()
            print(f"spl.ray.apply end to end, {workers} worker(s): {time.perf_counter() - t:6.2f} s ({n} rows; includes actor start-up)")
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())

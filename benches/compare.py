#!/usr/bin/env python3
"""Helper of benches/compare.sh: DuckDB runner, output normalisation/hashing, result table.

    compare.py duckdb WORKLOAD INPUT OUTPUT THREADS TIMING_FILE   (run with the venv's python)
    compare.py sql WORKLOAD INPUT OUTPUT THREADS                  (print the DuckDB statement)
    compare.py check STATE_DIR WORKLOAD REF_LABEL LABEL=FILE...   (normalise, hash, compare)
    compare.py report STATE_DIR [--write-doc DOC]                 (print the table; update the doc)

Only the standard library is used, except `duckdb` (imported by the duckdb subcommand only).

Normalisation (the `check` subcommand): every output line is parsed as a JSON object; every value
becomes a string: strings stay as they are, JSON numbers are rounded to 6 significant digits and
printed as an integer when the rounded value is integral (111, 111.0 and 111.00000000000001 all
become "111"; 27.5 becomes "27.5"), true/false/null become "true"/"false"/"null", arrays and
objects are dumped as compact JSON with sorted keys. The row is then dumped with sorted keys and
no spaces; the rows are sorted and hashed with SHA-256 (one row per line). Two outputs agree when
their row counts and hashes are equal, so key order, row order, number formatting and
number-vs-string typing of the same value are ignored, and nothing else is.
"""
import collections
import hashlib
import json
import os
import re
import statistics
import sys
import time

RX = r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)'

# DuckDB statements. {inp}/{out} are SQL string literals. The JSON reader infers the column types
# (every value of the generated data is a JSON string, so every column is VARCHAR, as for spl);
# access.log is read as one VARCHAR column per line (no delimiter, no quoting).
DUCKDB_SQL = {
    "W1": "COPY (SELECT * FROM read_json_auto({inp}, format='newline_delimited') "
          "WHERE CAST(status AS BIGINT) >= 500) TO {out} (FORMAT JSON)",
    "W2": "COPY (SELECT p.ip, p.method, p.uri, p.status FROM ("
          "SELECT regexp_extract(content, $${rx}$$, ['ip', 'time', 'method', 'uri', 'status', 'size']) AS p "
          "FROM read_csv({inp}, columns={{'content': 'VARCHAR'}}, header=false, auto_detect=false, "
          "delim='\\x01', quote='', escape='')) "
          "WHERE TRY_CAST(p.status AS BIGINT) >= 500) TO {out} (FORMAT JSON)",
    "W3": "COPY (SELECT * EXCLUDE (user_agent), CAST(latency AS DOUBLE) * 1000 AS latency_ms "
          "FROM read_json_auto({inp}, format='newline_delimited')) TO {out} (FORMAT JSON)",
    "W4": "COPY (SELECT method, status, count(*) AS c, avg(CAST(latency AS DOUBLE)) AS avg_lat, "
          "approx_quantile(CAST(latency AS DOUBLE), 0.99) AS p99, approx_count_distinct(ip) AS users "
          "FROM read_json_auto({inp}, format='newline_delimited') WHERE CAST(status AS BIGINT) < 500 "
          "GROUP BY method, status ORDER BY c DESC, method, status LIMIT 20) TO {out} (FORMAT JSON)",
    # DuckDB has no URL functions in its default build: host, path and parameter by regexp
    "W5": "COPY (SELECT request_id, regexp_extract(url, '^[a-z]+://([^/:?#]+)', 1) AS host, "
          "regexp_extract(url, '^[a-z]+://[^/?#]*([^?#]*)', 1) AS path, "
          "NULLIF(regexp_extract(url, '[?&]id=([^&#]*)', 1), '') AS pid, "
          "strftime(make_timestamp(CAST(time AS BIGINT) * 1000000), '%Y-%m-%d %H:%M') AS minute, "
          "NULLIF(regexp_extract(user_agent, '(Chrome|AppleWebKit|curl|python-requests|Go-http-client)/[0-9.]+'), '') AS agent, "
          "split_part(regexp_extract(url, '^[a-z]+://[^/?#]*([^?#]*)', 1), '/', 2) AS section, "
          "lower(method) AS verb, md5(request_id) AS digest, "
          "json_extract_string(ctx, '$.user.tier') AS tier "
          "FROM read_json_auto({inp}, format='newline_delimited')) TO {out} (FORMAT JSON)",
    "W6": "COPY (SELECT m['ts'] AS ts, m['level'] AS level, m['svc'] AS svc, m['path'] AS path, "
          "m['status'] AS status, m['dur_ms'] AS dur_ms, m['user'] AS \"user\" FROM ("
          "SELECT map_from_entries(list_transform(string_split(line, ' '), lambda x: "
          "{{'k': split_part(x, '=', 1), 'v': x[strpos(x, '=') + 1:]}})) AS m "
          "FROM read_csv({inp}, columns={{'line': 'VARCHAR'}}, header=false, auto_detect=false, "
          "delim='\\x01', quote='', escape='')) "
          "WHERE CAST(m['status'] AS BIGINT) >= 400) TO {out} (FORMAT JSON)",
    "W7": "COPY (SELECT request_id, json_extract_string(payload, '$.order_id') AS order_id, "
          "it->>'sku' AS sku, CAST(it->>'qty' AS BIGINT) AS qty, it->>'price' AS price FROM ("
          "SELECT request_id, payload, unnest(CAST(json_extract(payload, '$.items') AS JSON[])) AS it "
          "FROM read_json_auto({inp}, format='newline_delimited')) "
          "WHERE CAST(it->>'qty' AS BIGINT) >= 3) TO {out} (FORMAT JSON)",
}

# Fields of approximate aggregates: compared per group with a relative tolerance instead of the
# hash (HyperLogLog and t-digest style estimates differ between engines; jq computes them exactly).
APPROX = {"W4": {"keys": ("method", "status"), "tol": {"p99": 0.10, "users": 0.08, "avg_lat": 1e-6}}}


def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


def duckdb_sql(workload, inp, out):
    return DUCKDB_SQL[workload].format(inp=sql_literal(inp), out=sql_literal(out), rx=RX)


def cmd_sql(args):
    workload, inp, out, threads = args
    print(f"SET threads={int(threads)}; " + duckdb_sql(workload, inp, out) + ";")


def cmd_duckdb(args):
    workload, inp, out, threads, timing = args
    import duckdb  # noqa: only this subcommand needs it

    con = duckdb.connect()
    con.execute(f"SET threads={int(threads)}")
    sql = duckdb_sql(workload, inp, out)
    w0, c0 = time.perf_counter(), time.process_time()
    con.execute(sql)
    w1, c1 = time.perf_counter(), time.process_time()
    con.close()
    with open(timing, "w") as f:
        f.write(f"{w1 - w0:.6f}\t{c1 - c0:.6f}\n")


# ---------------------------------------------------------------------------------------------
# normalisation and comparison


def norm_number(x):
    r = float(f"{x:.6g}")
    if r.is_integer() and abs(r) < 2**53:
        return str(int(r))
    return repr(r)


def norm_value(v):
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return norm_number(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def norm_row(obj):
    # a null field is an absent field (spl's extend removes a field whose value is NULL); the
    # agent's __time__ column is not part of the compared output
    return {k: norm_value(v) for k, v in obj.items() if v is not None and k != "__time__"}


def dump(row):
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load(path):
    """Normalised rows (as canonical JSON strings) in file order; raises on a non-object line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{lineno}: not JSON ({e}): {line[:200]}")
            # a JSON array is several events (Vector emits one event per element of a root array)
            objs = obj if isinstance(obj, list) else [obj]
            for o in objs:
                if not isinstance(o, dict):
                    raise SystemExit(f"{path}:{lineno}: not a JSON object: {line[:200]}")
                rows.append(dump(norm_row(o)))
    return rows


def digest(sorted_rows):
    h = hashlib.sha256()
    for r in sorted_rows:
        h.update(r.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def field_diff(a, b):
    a, b = json.loads(a), json.loads(b)
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append(f"{k}: {a.get(k, '<missing>')!r} vs {b.get(k, '<missing>')!r}")
    return "; ".join(out)


def explain_mismatch(ref_label, ref_rows, label, rows, limit=5):
    """Human-readable description of how two normalised outputs differ."""
    lines = [f"rows: {ref_label} {len(ref_rows)}, {label} {len(rows)}"]
    a, b = collections.Counter(ref_rows), collections.Counter(rows)
    only_a = sorted((a - b).elements())
    only_b = sorted((b - a).elements())
    lines.append(f"rows only in {ref_label}: {len(only_a)}; rows only in {label}: {len(only_b)}")
    # pair rows by request_id when both sides have it, else by sorted position
    def key(r):
        return json.loads(r).get("request_id")

    pairs = []
    if only_a and only_b and all(key(r) is not None for r in only_a[:1000] + only_b[:1000]):
        by_id = {key(r): r for r in only_b}
        pairs = [(r, by_id[key(r)]) for r in only_a if key(r) in by_id]
    elif only_a and only_b:
        pairs = list(zip(only_a, only_b))
    if pairs:
        kinds = collections.Counter(
            tuple(sorted(k for k in set(json.loads(x)) | set(json.loads(y))
                         if json.loads(x).get(k) != json.loads(y).get(k)))
            for x, y in pairs[:10000])
        lines.append(f"differing fields in paired rows (fields: pairs, of the first {min(len(pairs), 10000):,} pairs): "
                     + ", ".join(f"{'+'.join(k) or '<none>'}: {n}" for k, n in kinds.most_common(10)))
        for x, y in pairs[:limit]:
            lines.append(f"  {field_diff(x, y)}")
            lines.append(f"    {ref_label}: {x[:300]}")
            lines.append(f"    {label}: {y[:300]}")
    paired_a = {x for x, _ in pairs}
    paired_b = {y for _, y in pairs}
    rest_a = [r for r in only_a if r not in paired_a]
    rest_b = [r for r in only_b if r not in paired_b]
    for name, rest in ((ref_label, rest_a), (label, rest_b)):
        if rest:
            lines.append(f"unpaired rows only in {name}: {len(rest)}, e.g.")
            lines.extend(f"    {r[:300]}" for r in rest[:limit])
    return lines


def approx_agree(spec, ref_path, path):
    """Same groups, same exact fields, approximate fields within their relative tolerance."""
    def rows_by_key(p):
        out = {}
        for r in load(p):
            obj = json.loads(r)
            out[tuple(obj.get(k) for k in spec["keys"])] = obj
        return out
    a, b = rows_by_key(ref_path), rows_by_key(path)
    if a.keys() != b.keys():
        return False
    for k, ra in a.items():
        rb = b[k]
        if ra.keys() != rb.keys():
            return False
        for f, va in ra.items():
            tol = spec["tol"].get(f)
            if tol is None:
                if va != rb[f]:
                    return False
                continue
            x, y = float(va), float(rb[f])
            if abs(x - y) > tol * max(abs(x), abs(y), 1e-12):
                print(f"approx {f} {k}: {x} vs {y} beyond {tol:g}", file=sys.stderr)
                return False
    return True


def summarize(path):
    """(row count, sha256 of the sorted normalised rows) of one output file, or None if absent."""
    if not os.path.exists(path):
        return None
    rows = load(path)
    rows.sort()
    return len(rows), digest(rows)


def cmd_check(args):
    state, workload, ref_label = args[:3]
    outputs = [a.split("=", 1) for a in args[3:]]
    paths = dict(outputs)
    workers = max(1, min(len(outputs), len(os.sched_getaffinity(0))))
    if workers > 1:
        import multiprocessing

        with multiprocessing.Pool(workers) as pool:
            sums = pool.map(summarize, [p for _, p in outputs])
    else:
        sums = [summarize(p) for _, p in outputs]
    sums = dict(zip([label for label, _ in outputs], sums))
    ref = sums.get(ref_label)
    ref_rows = None
    results = []
    status = 0
    for label, path in outputs:
        s = sums[label]
        if s is None:
            print(f"MISMATCH {workload}: {label}: no output file {path}", file=sys.stderr)
            results.append((label, "", "", "missing"))
            status = 1
            continue
        n, h = s
        if label == ref_label:
            agrees = "ref"
        elif ref is None:
            agrees = "no-ref"
            status = 1
        elif (n, h) == ref:
            agrees = "yes"
        elif workload in APPROX and approx_agree(APPROX[workload], paths[ref_label], path):
            agrees = "yes"
        else:
            agrees = "NO"
            status = 1
            if ref_rows is None:
                ref_rows = sorted(load(paths[ref_label]))
            report = explain_mismatch(ref_label, ref_rows, label, sorted(load(path)))
            diff_path = os.path.join(state, f"mismatch-{workload}-{label}.txt")
            with open(diff_path, "w") as f:
                f.write("\n".join(report) + "\n")
            bar = "!" * 78
            print(bar, file=sys.stderr)
            print(f"MISMATCH {workload}: {label} disagrees with {ref_label} "
                  f"(details also in {diff_path})", file=sys.stderr)
            for line in report[:40]:
                print("  " + line, file=sys.stderr)
            print(bar, file=sys.stderr)
        print(f"check {workload}: {label}: {n} rows sha256 {h[:16]} agrees={agrees}",
              file=sys.stderr)
        results.append((label, str(n), h, agrees))
    with open(os.path.join(state, "checks.tsv"), "a") as f:
        for label, n, h, agrees in results:
            f.write(f"{workload}\t{label}\t{n}\t{h}\t{agrees}\n")
    return status


# ---------------------------------------------------------------------------------------------
# report

# spl vs VRL, single thread, throughput ratio (issue targets)
TARGETS = {"W1": 6.0, "W2": 5.0, "W3": 5.0, "W5": 3.0, "W6": 4.0, "W7": 3.0}
# spl vs a peer at a thread count: (workload, peer label, spl label, factor)
PEER_TARGETS = [("W4", "duckdb", "spl", 1.5), ("W4", "duckdb-t2", "spl-t2", 1.5),
                ("W4", "jq", "spl", 10.0), ("W5", "duckdb", "spl", 1.5)]
# input file of each workload (a key of meta.tsv)
INPUT_OF = {"W1": "bytes_jsonl", "W2": "bytes_log", "W3": "bytes_jsonl", "W4": "bytes_jsonl",
            "W5": "bytes_events", "W6": "bytes_logfmt", "W7": "bytes_events",
            "W8a": "bytes_log", "W8b": "bytes_logfmt"}
MARK_START = "<!-- compare.sh results start -->"
MARK_END = "<!-- compare.sh results end -->"


def read_tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def fmt_s(x):
    return f"{x:.3f}" if x < 10 else f"{x:.2f}"


def build_report(state):
    meta = dict((r[0], r[1] if len(r) > 1 else "") for r in read_tsv(os.path.join(state, "meta.tsv")))
    runs = read_tsv(os.path.join(state, "runs.tsv"))
    checks = {(r[0], r[1]): r for r in read_tsv(os.path.join(state, "checks.tsv"))}
    cmds = read_tsv(os.path.join(state, "commands.tsv"))
    sizes = {w: int(meta.get(k, 0) or 0) for w, k in INPUT_OF.items()}

    # runs.tsv: workload label tool threads rep seconds process_wall rss_kb cpu_s ok
    groups = collections.OrderedDict()
    for w, label, tool, threads, _rep, secs, pwall, rss, cpu, ok in runs:
        g = groups.setdefault((w, label), {"tool": tool, "threads": int(threads), "secs": [],
                                           "pwall": [], "rss": [], "cpu": [], "failed": 0})
        if ok != "ok":
            g["failed"] += 1
            continue
        g["secs"].append(float(secs))
        g["pwall"].append(float(pwall))
        if rss:
            g["rss"].append(int(rss))
        if cpu:
            g["cpu"].append(float(cpu))

    med = {k: statistics.median(g["secs"]) for k, g in groups.items() if g["secs"]}
    lines = []
    lines.append(f"- date: {meta.get('date', '?')}")
    lines.append(f"- machine: {meta.get('nproc', '?')} cores available (nproc), "
                 f"CPU `{meta.get('cpu', '?')}`, {meta.get('mem', '?')} memory, "
                 f"kernel {meta.get('kernel', '?')}")
    try:
        busy = float(meta.get("load_start", "")) >= 0.7
    except ValueError:
        busy = False
    busy = " — **the machine was busy with other work before the run: the numbers are noisy**" \
        if busy else ""
    lines.append(f"- 1-minute load average: {meta.get('load_start', '?')} before the run, "
                 f"{meta.get('load_end', '?')} after it (the benchmark itself adds ~1){busy}")
    lines.append(f"- data: N={int(meta.get('n', 0)):,} events; access.jsonl "
                 f"{sizes['W1'] / 1e6:.1f} MB, access.log {sizes['W2'] / 1e6:.1f} MB "
                 f"(`gen_logs.py`, seed 42); events.jsonl {sizes['W5'] / 1e6:.1f} MB, "
                 f"app.logfmt {sizes['W6'] / 1e6:.1f} MB (`benches/gen_more.py`, seed 7)")
    lines.append(f"- runs: {meta.get('repeat', '?')} interleaved repetitions per tool; "
                 f"**seconds = median** (best in parentheses)")
    lines.append(f"- versions: {meta.get('versions', '?')}")
    lines.append("")
    lines.append("| workload | tool | threads | seconds | MB/s per core | peak RSS MB | CPU s "
                 "| rows out | agrees | spl/peer |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|---:|")
    notes = []
    for (w, label), g in groups.items():
        k = (w, label)
        chk = checks.get(k)
        rows = f"{int(chk[2]):,}" if chk and chk[2] else "?"
        agrees = {"ref": "ref", "yes": "yes", "NO": "**NO**"}.get(chk[4], chk[4]) if chk else "?"
        if k not in med:
            lines.append(f"| {w} | {label} | {g['threads']} | failed | | | | {rows} | {agrees} | |")
            continue
        s = med[k]
        best = min(g["secs"])
        mbps = sizes[w] / 1e6 / s / g["threads"]
        rss = f"{max(g['rss']) / 1024:.0f}" if g["rss"] else "?"
        cpu = f"{statistics.median(g['cpu']):.2f}" if g["cpu"] else "?"
        ratio = ""
        if g["tool"] == "spl":
            if g["threads"] > 1 and (w, "spl") in med:
                ratio = f"{med[(w, 'spl')] / s:.2f}× vs spl t1"
        else:
            ref = "spl" if g["threads"] == 1 else f"spl-t{g['threads']}"
            if (w, ref) in med:
                ratio = f"{s / med[(w, ref)]:.2f}"
        if g["failed"]:
            notes.append(f"{w} {label}: {g['failed']} of the runs failed")
        lines.append(f"| {w} | {label} | {g['threads']} | {fmt_s(s)} ({fmt_s(best)}) | {mbps:.1f} "
                     f"| {rss} | {cpu} | {rows} | {agrees} | {ratio} |")
    lines.append("")
    lines.append("`spl/peer` is the throughput ratio (peer seconds / spl seconds at the same thread "
                 "count; >1 means spl is faster). MB/s per core = input bytes / seconds / threads. "
                 "Seconds are the wall time of the whole process, except DuckDB: the time of the "
                 "`COPY … TO` statement measured inside Python (its process wall time, with the "
                 "interpreter start and `import duckdb`, is in `runs.tsv`); its peak RSS is the "
                 "Python process's. CPU s = user + system time. `agrees` compares the normalised, "
                 "sorted rows with spl's single-thread output (`ref`).")
    lines.append("")
    # targets
    lines.append("Targets (from the issue; informational, the script does not fail on them):")
    lines.append("")
    def verdict(ok, w, *labels):
        bad = [lb for lb in labels if (checks.get((w, lb)) or [""] * 5)[4] not in ("ref", "yes")]
        if bad:
            return f"not valid: {', '.join(bad)} output does not agree with spl's"
        return "met" if ok else "NOT met"

    for w, t in TARGETS.items():
        if (w, "spl") in med and (w, "vrl") in med:
            r = med[(w, "vrl")] / med[(w, "spl")]
            lines.append(f"- {w} spl ≥{t:g}× VRL single thread: {r:.2f}× — "
                         f"{verdict(r >= t, w, 'spl', 'vrl')}")
    for w, peer, mine, t in PEER_TARGETS:
        if (w, mine) in med and (w, peer) in med:
            r = med[(w, peer)] / med[(w, mine)]
            lines.append(f"- {w} {mine} ≥{t:g}× {peer}: {r:.2f}× — {verdict(r >= t, w, mine, peer)}")
    for w in ("W8a", "W8b"):
        if (w, "spl") in med and (w, "capi") in med:
            r = med[(w, "spl")] / med[(w, "capi")]
            lines.append(f"- {w} C ABI ≥90% of spl --threads 1 throughput: {r * 100:.0f}% — "
                         f"{verdict(r >= 0.9, w, 'spl', 'capi')}")
    if ("W8a", "capi") in med:
        mbps = sizes["W8a"] / 1e6 / med[("W8a", "capi")]
        lines.append(f"- W8a C ABI ≥340 MB/s per core on W2: {mbps:.0f} MB/s — "
                     f"{verdict(mbps >= 340, 'W8a', 'capi')}")
    for w in ("W1", "W2", "W3"):
        if (w, "spl-t2") in med and (w, "duckdb-t2") in med:
            r = med[(w, "duckdb-t2")] / med[(w, "spl-t2")]
            lines.append(f"- {w} spl --threads 2 ≥ DuckDB 2 threads: {r:.2f}× — "
                         f"{verdict(r >= 1, w, 'spl-t2', 'duckdb-t2')}")
        if (w, "spl-t2") in med and (w, "spl") in med:
            r = med[(w, "spl")] / med[(w, "spl-t2")]
            lines.append(f"- {w} spl --threads 2 ≥1.7× single thread: {r:.2f}× — "
                         f"{verdict(r >= 1.7, w, 'spl', 'spl-t2')}")
    size_note = "" if int(meta.get("n", 0)) == 1_000_000 else \
        f" (N={int(meta.get('n', 0)):,}: the target is for N=1,000,000)"
    for (w, label), g in groups.items():
        if g["tool"] in ("spl", "capi") and g["rss"]:
            rss = max(g["rss"]) / 1024
            lines.append(f"- {w} {label} peak RSS ≤300 MB on the {sizes[w] / 1e6:.0f} MB input: "
                         f"{rss:.0f} MB — {'met' if rss <= 300 else 'NOT met'}{size_note}")
    for n in notes:
        lines.append(f"- **{n}**")
    mismatches = [k for k, c in checks.items() if c[4] not in ("ref", "yes")]
    if mismatches:
        lines.append("")
        lines.append("**Outputs that do not agree with spl:** "
                     + ", ".join(f"{w} {label}" for w, label in mismatches)
                     + " (see `target/bench/results/mismatch-*.txt`).")
    if cmds:
        lines.append("")
        lines.append("<details><summary>Commands (run in the data directory "
                     f"<code>target/bench/data/n{meta.get('n', 'N')}</code>; the <code>.vrl</code> programs "
                     "are in the shared bench kit; <code>vrl-peer</code> is "
                     "<code>target/bench/vrl-peer/target/release/vrl-peer</code>)</summary>")
        lines.append("")
        lines.append("```text")
        for w, label, cmd in cmds:
            lines.append(f"# {w} {label}")
            lines.append(cmd)
        lines.append("```")
        lines.append("")
        lines.append("</details>")
    return "\n".join(lines) + "\n"


def write_doc(doc, body):
    text = open(doc).read() if os.path.exists(doc) else "# Performance\n"
    block = f"{MARK_START}\n{body}{MARK_END}"
    pat = re.compile(re.escape(MARK_START) + r".*?" + re.escape(MARK_END), re.S)
    if pat.search(text):
        text = pat.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + block + "\n"
    tmp = doc + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, doc)


def cmd_report(args):
    state = args[0]
    body = build_report(state)
    with open(os.path.join(state, "results.md"), "w") as f:
        f.write(body)
    print(body)
    if len(args) >= 3 and args[1] == "--write-doc":
        write_doc(args[2], body)
        print(f"updated the results section of {args[2]}", file=sys.stderr)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "duckdb":
        return cmd_duckdb(args)
    if cmd == "sql":
        return cmd_sql(args)
    if cmd == "check":
        return cmd_check(args)
    if cmd == "report":
        return cmd_report(args)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)

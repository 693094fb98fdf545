#!/usr/bin/env bash
# Builds the seed corpora of every fuzz target under fuzz/corpus/<target>/ from the repository's
# test data (nothing here is committed: fuzz/corpus is ignored). Safe to run again: files are
# named by content hash.
#   spl_text, pull_query: SPL texts of testdata/corpus, testdata/pipelines, testdata/parser,
#                         testdata/diagnostics and every conformance case (pull_query also
#                         with group-describing bytes after a NUL)
#   run_input:            program, format/policy and run bytes, then lines of testdata/logs
#   loggroup:             LogGroups built from testdata/logs/app.jsonl, raw and compressed
#                         (lz4 literal block, zstd raw block, deflate), with their raw size
#   capi_import:          a few byte strings (the target builds its batch from any bytes)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
exec python3 - "$repo" "$here/corpus" <<'PY'
import glob, hashlib, json, os, struct, sys, zlib

repo, out = sys.argv[1], sys.argv[2]

def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

texts = []
for path in glob.glob(os.path.join(repo, "testdata/corpus/*.txt")):
    texts += [l.strip() for l in open(path, encoding="utf-8") if l.strip() and not l.startswith("#")]
for path in glob.glob(os.path.join(repo, "testdata/pipelines/*.spl")):
    texts.append(open(path, encoding="utf-8").read())
for path in glob.glob(os.path.join(repo, "testdata/parser/*.spl")) + glob.glob(os.path.join(repo, "testdata/diagnostics/*.spl")):
    block = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("### "):
            if block:
                texts.append("".join(block))
            block = []
        else:
            block.append(line)
    if block:
        texts.append("".join(block))
for path in glob.glob(os.path.join(repo, "testdata/conformance/*.jsonl")):
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("{"):
            spl = json.loads(line).get("spl")
            if isinstance(spl, str):
                texts.append(spl)
for t in texts:
    put("spl_text", t)
    put("pull_query", t)
# pull_query: the query, a NUL, then bytes that describe the groups to scan.
for i, t in enumerate(texts[:200]):
    put("pull_query", t.encode() + b"\0" + hashlib.sha256(t.encode()).digest() * (1 + i % 4))

logs = {
    0: open(os.path.join(repo, "testdata/logs/access.log"), "rb").read(),
    1: open(os.path.join(repo, "testdata/logs/app.jsonl"), "rb").read(),
    2: open(os.path.join(repo, "testdata/logs/orders.csv"), "rb").read(),
}
logs[3] = logs[1]
def head(data, lines):
    return b"".join(data.splitlines(keepends=True)[:lines])
# Byte 0: program (15 of them), byte 1: format (low 2 bits) and policy, byte 2: output, threads,
# chunk size; then the input.
for program in range(15):
    for mode in range(16):
        run = (program + mode) % 16
        put("run_input", bytes([program, mode, run]) + head(logs[mode % 4], 12))

def varint(n):
    b = bytearray()
    while True:
        x = n & 0x7F
        n >>= 7
        if n:
            b.append(x | 0x80)
        else:
            b.append(x)
            return bytes(b)
def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def log(time, pairs, ns=None):
    b = varint(1 << 3) + varint(time)
    for k, v in pairs:
        b += field(2, field(1, k.encode()) + field(2, v.encode()))
    if ns is not None:
        b += varint(4 << 3 | 5) + struct.pack("<I", ns)
    return b
def lz4_literals(raw):
    n = len(raw)
    if n < 15:
        return bytes([n << 4]) + raw
    b, rest = bytearray([0xF0]), n - 15
    while rest >= 255:
        b.append(255); rest -= 255
    b.append(rest)
    return bytes(b) + raw
def zstd_raw(raw):
    # Frame: magic, descriptor (single segment, 4-byte content size), one last raw block.
    frame = struct.pack("<I", 0xFD2FB528) + bytes([0xA0]) + struct.pack("<I", len(raw))
    header = (len(raw) << 3) | 1  # last block, raw
    return frame + struct.pack("<I", header)[:3] + raw
rows = [json.loads(l) for l in logs[1].decode().splitlines()[:6] if l.strip()]
for count in (1, 3, 6):
    group = b""
    for i, r in enumerate(rows[:count]):
        pairs = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in r.items() if k != "__time__"]
        group += field(1, log(int(r.get("__time__", 1700000000)), pairs, ns=i if i % 2 else None))
    group += field(3, b"topic") + field(4, b"10.0.0.1") + field(6, field(1, b"host") + field(2, b"h1"))
    n = struct.pack("<I", len(group))
    put("loggroup", bytes([0]) + group)
    put("loggroup", bytes([4]) + n + group)
    put("loggroup", bytes([5]) + n + lz4_literals(group))
    put("loggroup", bytes([6]) + n + zstd_raw(group))
    put("loggroup", bytes([7]) + n + zlib.compress(group))

for seed in (b"", b"\x01\x00", b"\x02" + bytes(range(64)), bytes(range(256)), b"\xff" * 128):
    put("capi_import", seed)
for target in os.listdir(out):
    print(f"{target}: {len(os.listdir(os.path.join(out, target)))} seeds")
PY

"""Shared fixtures: the repository root, the `spl` binary built by cargo, and a generated log
archive (raw and JSON files, some gzip) with the multi-stage program the cluster tests replay
and its result from `spl run`."""

import gzip
import hashlib
import json
import os
import pathlib
import random
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Raw lines are parsed into fields; JSON lines arrive with them. Both then go through the same
# filter, computed fields and a second parse.
REPLAY_SPL = (
    "* | parse-regexp content, '^(\\S+) (\\S+) (\\S+) latency=(\\d+) (.*)$' "
    "as ts, level, service, latency, msg "
    "| where level <> 'INFO' "
    "| extend ms = cast(latency as bigint), slow = cast(latency as bigint) > 500 "
    "| parse-regexp msg, 'user (\\d+)' as user "
    "| project-away content, latency"
)


def spl_binary() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("SPL_BIN", ROOT / "target" / "debug" / "spl"))
    if not path.exists():
        raise RuntimeError(f"{path} does not exist; build it with `cargo build -p spl-cli`")
    return path


def spl_run_rows(spl: str, files, *extra):
    """Rows of `spl run -o json` over `files`, each as field -> text (numbers as their JSON
    text), the way `spl.rows` renders Arrow values."""
    out = subprocess.run(
        [str(spl_binary()), "run", "-o", "json", *extra, spl, *map(str, files)],
        check=True,
        capture_output=True,
    ).stdout.decode()
    rows = []
    for line in out.splitlines():
        obj = json.loads(line, parse_int=str, parse_float=str)
        rows.append({k: _text(v) for k, v in obj.items() if v is not None})
    return rows


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def rows_hash(rows) -> str:
    """A hash of the rows as a multiset (order does not matter)."""
    lines = sorted(json.dumps(r, sort_keys=True) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


LEVELS = ["INFO", "INFO", "WARN", "ERROR", "DEBUG"]
SERVICES = ["api", "db", "auth", "cache"]


def _event(rng: random.Random, i: int):
    return {
        "ts": f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
        "level": rng.choice(LEVELS),
        "service": rng.choice(SERVICES),
        "latency": str(rng.randint(1, 1000)),
        "msg": rng.choice(["user %d logged in" % rng.randint(1, 99), "cache miss", "timeout talking to db"]),
    }


@pytest.fixture(scope="session")
def log_archive(tmp_path_factory):
    """24 files of 400 events each: 12 raw, 12 JSON lines; every third one gzip-compressed."""
    d = tmp_path_factory.mktemp("archive")
    rng = random.Random(16)
    files = []
    for n in range(24):
        events = [_event(rng, n * 1000 + i) for i in range(400)]
        if n % 2 == 0:
            lines = [f"{e['ts']} {e['level']} {e['service']} latency={e['latency']} {e['msg']}" for e in events]
            name = f"app-{n:02d}.log"
        else:
            # JSON rows carry the fields parse-regexp would extract, and a raw line as content.
            lines = [
                json.dumps(
                    {"content": f"{e['ts']} {e['level']} {e['service']} latency={e['latency']} {e['msg']}", "host": f"h{n}"}
                )
                for e in events
            ]
            name = f"app-{n:02d}.jsonl"
        data = ("\n".join(lines) + "\n").encode()
        if n % 3 == 0:
            path = d / (name + ".gz")
            path.write_bytes(gzip.compress(data))
        else:
            path = d / name
            path.write_bytes(data)
        files.append(path)
    return files


@pytest.fixture(scope="session")
def replay_expected(log_archive):
    """`spl run --threads 1` over the archive: (rows, hash)."""
    rows = spl_run_rows(REPLAY_SPL, log_archive, "--threads", "1")
    assert len(rows) > 1000, "the program must keep a good share of the rows"
    return rows, rows_hash(rows)

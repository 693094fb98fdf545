#!/usr/bin/env bash
# Pushdown scan benchmark: builds `spl` (release), starts `spl serve` on a free port with a fresh
# data directory (fsync never), and runs spl-loghub/tests/sdk/bench_pull.py against it with the
# stock Python SDK (virtualenv under target/, as spl-loghub/tests/sdk/run.sh makes it).
#
#   benches/pushdown.sh [GROUPS] [LOGS_PER_GROUP] [REPEAT]     (default 400 1000 3)
#   SPL_BIN=path/to/spl benches/pushdown.sh                     (an already built binary)
#
# Prints a Markdown table: MB scanned per second of server time, with and without a query, and
# the bytes on the wire. docs/performance.md ("Pushdown scan") has the figures and how to read them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV="$TARGET/loghub-sdk-venv"
if [ -z "${SPL_BIN:-}" ]; then
    (cd "$ROOT" && cargo build --quiet --release -p spl-cli)
    SPL_BIN="$TARGET/release/spl"
fi
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import aliyun.log, lz4" 2>/dev/null ||
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aliyun-log-python-sdk==0.9.52"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/spl-pushdown-bench.XXXXXX")
"$SPL_BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA/data" --fsync never >"$DATA/out" 2>"$DATA/err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
    ADDR=$(grep -o '127\.0\.0\.1:[0-9]*' "$DATA/out" | head -1 || true)
    [ -n "$ADDR" ] && break
    sleep 0.1
done
[ -n "$ADDR" ] || { echo "spl serve did not start:" >&2; cat "$DATA/err" >&2; exit 1; }
"$VENV/bin/python" "$ROOT/spl-loghub/tests/sdk/bench_pull.py" "$ADDR" "${1:-400}" "${2:-1000}" "${3:-3}"

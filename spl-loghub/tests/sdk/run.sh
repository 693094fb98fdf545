#!/usr/bin/env bash
# End-to-end test of spl-loghub with the stock aliyun-log-python-sdk from PyPI.
#
#   spl-loghub/tests/sdk/run.sh
#
# Creates a virtualenv under the cargo target directory (reused on later runs), installs the SDK
# (version SDK_VERSION, default 0.9.52), builds and starts spl-loghub-server on a free port with a
# fresh data directory, and runs test_sdk.py against it; then test_consumer.py, which starts (and
# restarts) its own server, runs the SDK's ConsumerWorker in a consumer group (about 20 s). Exits 0 with a "SKIP:" line only when
# python3 or its venv module is unavailable; every other problem is a failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV="$TARGET/loghub-sdk-venv"
SDK_VERSION=${SDK_VERSION:-0.9.52}

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed; the LogHub Python SDK test did not run"
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        echo "SKIP: python3 cannot create a virtualenv (install python3-venv); the LogHub Python SDK test did not run"
        exit 0
    fi
fi
if ! "$VENV/bin/python" -c "import aliyun.log, sys; from importlib.metadata import version; sys.exit(version('aliyun-log-python-sdk') != '$SDK_VERSION')" 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "aliyun-log-python-sdk==$SDK_VERSION"
fi

# The workspace's test build makes the server binary too (a `-p spl-loghub` build would resolve
# features for that crate alone and rebuild the engine and DataFusion).
(cd "$ROOT" && cargo test --workspace --no-run --quiet)
BIN="$TARGET/debug/spl-loghub-server"

DATA=$(mktemp -d "${TMPDIR:-/tmp}/spl-loghub-sdk.XXXXXX")
"$BIN" --listen 127.0.0.1:0 --data-dir "$DATA/data" --shards 2 >"$DATA/server.out" 2>"$DATA/server.err" &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT

ADDR=""
for _ in $(seq 1 100); do
    ADDR=$(sed -n 's/^listening on //p' "$DATA/server.out")
    [ -n "$ADDR" ] && break
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "spl-loghub-server exited early:" >&2
        cat "$DATA/server.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$ADDR" ]; then
    echo "spl-loghub-server did not start within 10 s" >&2
    exit 1
fi

"$VENV/bin/python" "$HERE/test_sdk.py" "$ADDR"
"$VENV/bin/python" "$HERE/test_consumer.py" "$BIN" "$DATA/consumer-data"

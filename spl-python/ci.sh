#!/usr/bin/env bash
# Tests the Python package (spl-python) as a user gets it:
#
#   spl-python/ci.sh [pytest args…]
#
# Creates a virtualenv under the cargo target directory (reused on later runs) and installs
# pyarrow, Polars, DuckDB, pandas, Ray Data, PySpark, pytest and maturin from PyPI; takes the
# `spl` binary of the workspace's test build (the tests compare with `spl run`); builds the
# extension module into the venv with `maturin develop` (dev profile, in the workspace's target
# directory so crates compiled with the same features are shared); then runs the pytest suite:
# the conformance cases through `process`, zero-copy buffers, the API, a two-node Ray cluster
# and PySpark local[2] (Java 17 on PATH). Exits 0 with a "SKIP:"
# line only when python3 or its venv module is unavailable; every other problem is a failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
VENV="$CARGO_TARGET_DIR/spl-python-venv"
PACKAGES=(pyarrow polars duckdb pandas "ray[data]" pyspark pytest "maturin>=1.5,<2")

if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is not installed; the Python package tests did not run"
    exit 0
fi
if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        echo "SKIP: python3 cannot create a virtualenv (install python3-venv); the Python package tests did not run"
        exit 0
    fi
fi
STAMP="$VENV/.spl-python-packages"
if [ "$(cat "$STAMP" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"
    echo "${PACKAGES[*]}" >"$STAMP"
fi

# The `spl` binary of the workspace's test build (`cargo test --workspace` ran just before in
# .ci/run, so this only checks it is fresh; building it alone would unify features differently
# and recompile dependencies). SPL_BIN names another binary instead.
if [ -z "${SPL_BIN:-}" ]; then
    (cd "$ROOT" && cargo test --quiet --workspace --no-run >/dev/null 2>&1 || cargo test --workspace --no-run)
    export SPL_BIN="$CARGO_TARGET_DIR/debug/spl"
fi
# maturin installs into the virtualenv named by VIRTUAL_ENV.
(cd "$HERE" && VIRTUAL_ENV="$VENV" "$VENV/bin/maturin" develop --quiet)

cd "$HERE"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning -W ignore::FutureWarning tests "$@"

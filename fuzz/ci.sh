#!/usr/bin/env bash
# The CI form of fuzzing: installs cargo-fuzz when missing, seeds the corpora from testdata and
# runs every target for 60 s (FUZZ_SECONDS to change it); fails on any crash and prints the
# executions per target.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
"$here/seed.sh"
started=$(date +%s)
"$here/run.sh" "${FUZZ_SECONDS:-60}"
echo "fuzzing took $(( $(date +%s) - started ))s"

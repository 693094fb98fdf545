#!/usr/bin/env bash
# The CI form of fuzzing: installs cargo-fuzz when missing, seeds the corpora from testdata and
# runs every target for 45 s (FUZZ_SECONDS to change it) with AddressSanitizer; fails on any
# crash, timeout or OOM and prints the executions per target. Needs no terminal or stdin; the
# toolchain is nightly when installed, else stable with RUSTC_BOOTSTRAP=1 (see run.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_INCREMENTAL=0
if ! cargo fuzz --version > /dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
"$here/seed.sh"
"$here/run.sh" "${FUZZ_SECONDS:-45}" < /dev/null

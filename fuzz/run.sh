#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) on its corpus (fuzz/corpus/<target>,
# seeded by seed.sh when missing), after replaying the saved crash reproducers of
# fuzz/regressions/<target>/. Exits non-zero on the first crash, leak, timeout or OOM; prints
# executions and executions/s per target.
#   FUZZ_TARGETS="spl_text loggroup"  only these targets
#   FUZZ_SANITIZER=none               build without AddressSanitizer (default: address)
#   FUZZ_JOBS=N                       N parallel fuzzing processes per target (default 1)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
jobs="${FUZZ_JOBS:-1}"
targets="${FUZZ_TARGETS:-spl_text run_input loggroup pull_query capi_import}"
# cargo-fuzz passes nightly-only flags (-Zsanitizer, sancov passes); the stable toolchain
# accepts them with RUSTC_BOOTSTRAP=1.
export RUSTC_BOOTSTRAP=1
fuzz=(cargo fuzz)
[ -d corpus ] || ./seed.sh
"${fuzz[@]}" build --sanitizer "$sanitizer" $targets
summary=()
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    if compgen -G "regressions/$t/*" > /dev/null; then
        echo "== $t: replaying regressions/$t"
        "${fuzz[@]}" run --sanitizer "$sanitizer" "$t" regressions/$t/* -- -runs=1
    fi
    echo "== $t: fuzzing for ${seconds}s"
    log="artifacts/$t/run.log"
    status=0
    "${fuzz[@]}" run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2560 -max_len=8192 \
        -print_final_stats=1 -jobs="$jobs" -workers="$jobs" 2>&1 | tee "$log" | grep -E "^(#[0-9]+ +(INITED|DONE)|==|SUMMARY|stat::)" || true
    status=${PIPESTATUS[0]}
    execs=$(grep -h "stat::number_of_executed_units" "$log" fuzz-*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
    rate=$(grep -h "stat::average_exec_per_sec" "$log" fuzz-*.log 2>/dev/null | awk '{s+=$2} END {print s+0}')
    rm -f fuzz-*.log
    summary+=("$(printf '%-12s %12s executions %8s exec/s' "$t" "$execs" "$rate")")
    if [ "$status" -ne 0 ]; then
        echo "!! $t failed (status $status); reproducer in fuzz/artifacts/$t/, log in $log" >&2
        printf '%s\n' "${summary[@]}"
        exit 1
    fi
done
printf '%s\n' "${summary[@]}"

#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other, on its corpus
# (fuzz/corpus/<target>, seeded by seed.sh when missing), after replaying the saved reproducers
# of fuzz/regressions/<target>/. Exits non-zero on the first crash, leak, timeout or OOM; prints
# executions, executions/s and corpus size per target (from libFuzzer's final stats).
#   FUZZ_TARGETS="spl_text loggroup"   only these targets
#   FUZZ_PARALLEL=1                    run the targets at the same time instead (the long run)
#   FUZZ_NICE=19                       run the fuzzers under `nice -n 19` (idle CPU only)
#   FUZZ_KEEP_GOING=1                  libFuzzer's fork mode: a crash, timeout or OOM is saved
#                                      under artifacts/<target>/ and fuzzing goes on (the long
#                                      run); the script still fails when any was found
#   FUZZ_SANITIZER=none                build without AddressSanitizer (default: address)
#   FUZZ_TOOLCHAIN=stable|nightly      force a toolchain (default: nightly when installed)
#   FUZZ_RSS_MB=2048                   libFuzzer's RSS limit per process
# Build flags: CARGO_INCREMENTAL=0; the build directory is fuzz/target (git-ignored).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
targets="${FUZZ_TARGETS:-spl_text run_input loggroup pull_query capi_import}"
rss="${FUZZ_RSS_MB:-2048}"
export CARGO_INCREMENTAL=0
export CARGO_TERM_COLOR=never

# cargo-fuzz passes nightly-only flags (-Zsanitizer, the sancov passes). Use the nightly
# toolchain when it is installed; otherwise stable, which accepts them with RUSTC_BOOTSTRAP=1.
toolchain="${FUZZ_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
    if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
        toolchain=nightly
    else
        toolchain=stable
    fi
fi
if [ "$toolchain" = nightly ]; then
    fuzz=(cargo +nightly fuzz)
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
if [ "$toolchain" = nightly ]; then rustc +nightly --version; else rustc --version; fi
echo "== fuzz: toolchain $toolchain, $("${fuzz[@]}" --version), sanitizer $sanitizer"

[ -d corpus ] || ./seed.sh
started=$(date +%s)
# One build of every target; `cargo fuzz run` below finds them up to date.
"${fuzz[@]}" build --sanitizer "$sanitizer"
echo "== fuzz: build took $(( $(date +%s) - started ))s"

for t in $targets; do
    if compgen -G "regressions/$t/*" > /dev/null; then
        echo "== $t: replaying regressions/$t"
        "${fuzz[@]}" run --sanitizer "$sanitizer" "$t" regressions/$t/* -- -runs=1 \
            -rss_limit_mb="$rss"
    fi
done

# Fuzzes one target for `seconds`; the log goes to artifacts/<t>/run.log.
fuzz_one() {
    local t="$1" log="artifacts/$1/run.log" status
    mkdir -p "corpus/$t" "artifacts/$t"
    local nice=()
    [ -n "${FUZZ_NICE:-}" ] && nice=(nice -n "$FUZZ_NICE")
    # Artifacts left by earlier runs do not count; new ones (fork mode goes on after them) do.
    local before
    before=$(find "artifacts/$t" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)
    local mode=()
    [ -n "${FUZZ_KEEP_GOING:-}" ] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    set +e
    "${nice[@]}" "${fuzz[@]}" run --sanitizer "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb="$rss" -max_len=8192 \
        -print_final_stats=1 "${mode[@]}" > "$log" 2>&1 < /dev/null
    status=$?
    set -e
    if [ "$(find "artifacts/$t" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' | wc -l)" -ne "$before" ]; then
        status=1
    fi
    return "$status"
}

summary() {
    local t="$1" log="artifacts/$1/run.log"
    local execs rate
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
    if [ -z "$execs" ]; then
        # Fork mode: the parent's last status line, `#N: cov: … exec/s: R …`.
        execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
        rate=$(grep -oE 'exec/s: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    fi
    printf '%-12s %12s executions %8s exec/s %6s corpus files\n' "$t" "${execs:-?}" \
        "${rate:-?}" "$(find "corpus/$t" -type f | wc -l)"
}

failed=()
ran=()
if [ -n "${FUZZ_PARALLEL:-}" ]; then
    pids=()
    for t in $targets; do
        echo "== $t: fuzzing for ${seconds}s (in parallel)"
        fuzz_one "$t" &
        pids+=("$!")
        ran+=("$t")
    done
    i=0
    for t in $targets; do
        wait "${pids[$i]}" || failed+=("$t")
        i=$((i + 1))
    done
else
    for t in $targets; do
        echo "== $t: fuzzing for ${seconds}s"
        ran+=("$t")
        fuzz_one "$t" || failed+=("$t")
        grep -E "^(==[0-9]+==|SUMMARY|thread .* panicked|Done [0-9]+ runs)" "artifacts/$t/run.log" | head -20 || true
        [ ${#failed[@]} -eq 0 ] || break
    done
fi
echo "== fuzz: summary (total $(( $(date +%s) - started ))s)"
for t in "${ran[@]}"; do
    summary "$t"
done
if [ ${#failed[@]} -ne 0 ]; then
    for t in "${failed[@]}"; do
        echo "!! $t failed; reproducer in fuzz/artifacts/$t/, log fuzz/artifacts/$t/run.log:" >&2
        grep -E -A30 "^(==[0-9]+==ERROR|thread .* panicked)" "artifacts/$t/run.log" | head -60 >&2 || true
    done
    exit 1
fi

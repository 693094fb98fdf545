#!/bin/sh
# Runs the C example under AddressSanitizer (+LeakSanitizer) and, when installed, valgrind,
# over a few MB of access log through a 3-stage pipeline plus a pass-through budget hit and a
# compile error. Exits non-zero on any invalid access or leak.
#
#   spl-capi/asan.sh            # from the workspace root
#
# Needs: cc with -fsanitize=address (gcc or clang), cargo; valgrind optional
# (`apt-get install valgrind`). The Rust code itself is not instrumented by ASan (that needs a
# nightly -Zsanitizer build); ASan checks the C side and every malloc/free crossing the ABI
# (the library is built here without its `mimalloc` feature, so it allocates through the
# system allocator and ASan sees every heap buffer on both sides), LeakSanitizer and valgrind see leaks
# on both sides.
set -eu
cd "$(dirname "$0")/.."
TARGET="${CARGO_TARGET_DIR:-target}"
# The static library comes from `cargo build --workspace --lib`, which resolves the same
# features as the test build (the workspace manifest names the features dev-dependencies add),
# so it reuses what `cargo test --workspace` built; `cargo build -p spl-capi` would resolve
# features for spl-capi alone and rebuild the engine and DataFusion (minutes in CI).
cargo build --workspace --lib --quiet
# Then spl-capi alone without `mimalloc` (its dependencies keep the features just built, so
# only spl-capi is compiled again): the system allocator, which ASan and valgrind watch.
cargo build -p spl-capi --lib --no-default-features --features count-alloc --quiet
LIB="$TARGET/debug/libspl_capi.a"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for i in $(seq 1 40); do cat testdata/logs/access.log; done > "$WORK/access.log"
SPL='* | parse-regexp content, '"'"'^(\S+) \S+ \S+ \[([^\]]*)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)'"'"' as ip, ts, method, path, status, bytes | where cast(status as bigint) >= 300 | extend "__tag__:method" = method, kb = cast(bytes as double) / 1024'

run_all() {
    "$@" "$SPL" "$WORK/access.log" > "$WORK/out.jsonl"
    SPL_AGENT_MAX_MEMORY=1024 "$@" "$SPL" "$WORK/access.log" > /dev/null
    "$@" '* | where' "$WORK/access.log" > /dev/null 2>&1 && exit 1 || true
    echo "ok: $(wc -l < "$WORK/out.jsonl") rows"
}

echo "== AddressSanitizer"
cc -std=c99 -g -O1 -fsanitize=address -fno-omit-frame-pointer -I spl-capi/include \
    spl-capi/examples/agent.c "$LIB" -lpthread -ldl -lm -o "$WORK/agent-asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 run_all "$WORK/agent-asan"

if command -v valgrind > /dev/null; then
    echo "== valgrind"
    cc -std=c99 -g -O1 -I spl-capi/include spl-capi/examples/agent.c "$LIB" \
        -lpthread -ldl -lm -o "$WORK/agent"
    run_all valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$WORK/agent"
else
    echo "== valgrind not installed (apt-get install valgrind); skipped"
fi

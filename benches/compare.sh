#!/usr/bin/env bash
# Side-by-side benchmark of `spl` against peer tools (Vector VRL, jq, Miller, DuckDB) on the
# workloads W1-W3 of the shared bench kit (WORKLOADS.md) and W4-W8 of this repository
# (benches/gen_more.py, benches/peers/). See docs/performance.md.
#
#   benches/compare.sh [--n N] [--repeat R] [--peers LIST] [--workloads LIST]
#                      [--no-build] [--keep-outputs] [--write-doc]
#
# Everything it makes goes under <repo>/target/bench/: data/n<N>/ (generated logs, reused while
# N and gen_logs.py are unchanged), vrl-peer/ (a copy of the read-only peer harness and its
# cargo build), venv/ (DuckDB from PyPI when the duckdb CLI is not installed), bin/ (the spl
# binary that was measured), out/ (tool outputs), results/ (runs.tsv, checks.tsv, results.md,
# mismatch-*.txt). The shared kit is $SPL_BENCH_SHARED, default <repo>/../shared/bench.
#
# Exit status: 0 when every run succeeded and every output agreed with spl's; 1 otherwise (the
# table is printed either way); 2 on a usage error. Progress goes to stderr, the table to stdout.
set -euo pipefail
export LC_ALL=C

usage() {
    cat <<'EOF'
usage: benches/compare.sh [options]

  --n N              events to generate (default 1000000: 248 MB JSONL, 174 MB raw)
  --repeat R         interleaved repetitions per tool and workload (default 3; the table shows
                     the median, the best in parentheses)
  --peers LIST       comma-separated peers to run if available (default vrl,jq,mlr,duckdb)
  --workloads LIST   comma-separated workloads (default W1,W2,W3,W4,W5,W6,W7,W8); W8 is the
                     C ABI agent path, run as W8a (W2's program) and W8b (W6's program)
  --no-build         do not run cargo: use the existing target/release/spl and vrl-peer build
  --keep-outputs     keep the tools' outputs in target/bench/out/ (deleted after checking)
  --write-doc        write the results into docs/performance.md (between the result markers)
  -h, --help         this help

environment: SPL_BENCH_SHARED (shared bench kit, default <repo>/../shared/bench),
             SPL_BENCH_DUCKDB_VERSION (DuckDB from PyPI when no duckdb CLI, default 2.0.0),
             CARGO_TARGET_DIR (where cargo puts target/release/spl)
EOF
}

N=1000000
REPEAT=3
PEERS=vrl,jq,mlr,duckdb
WORKLOADS=W1,W2,W3,W4,W5,W6,W7,W8
BUILD=1
KEEP=0
WRITE_DOC=0
while [ $# -gt 0 ]; do
    case "$1" in
        --n) N=${2:?--n needs a value}; shift 2 ;;
        --n=*) N=${1#--n=}; shift ;;
        --repeat) REPEAT=${2:?--repeat needs a value}; shift 2 ;;
        --repeat=*) REPEAT=${1#--repeat=}; shift ;;
        --peers) PEERS=${2?--peers needs a value}; shift 2 ;;
        --peers=*) PEERS=${1#--peers=}; shift ;;
        --workloads) WORKLOADS=${2:?--workloads needs a value}; shift 2 ;;
        --workloads=*) WORKLOADS=${1#--workloads=}; shift ;;
        --no-build) BUILD=0; shift ;;
        --keep-outputs) KEEP=1; shift ;;
        --write-doc) WRITE_DOC=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
N=${N//,/}
N=${N//_/}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then echo "compare.sh: --n must be a positive integer" >&2; exit 2; fi
if ! [[ $REPEAT =~ ^[1-9][0-9]*$ ]]; then echo "compare.sh: --repeat must be a positive integer" >&2; exit 2; fi
WORKLOADS=${WORKLOADS//W8a/W8}
WORKLOADS=${WORKLOADS//W8b/W8}
for w in ${WORKLOADS//,/ }; do
    case "$w" in W1|W2|W3|W4|W5|W6|W7|W8) ;; *) echo "compare.sh: unknown workload $w" >&2; exit 2 ;; esac
done
WORKLOADS=${WORKLOADS//W8/W8a,W8b}
for p in ${PEERS//,/ }; do
    case "$p" in vrl|jq|mlr|duckdb) ;; *) echo "compare.sh: unknown peer $p" >&2; exit 2 ;; esac
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CARGO_TARGET=$(cd "$ROOT" && mkdir -p "${CARGO_TARGET_DIR:-target}" && cd "${CARGO_TARGET_DIR:-target}" && pwd)
BENCH=$ROOT/target/bench
SHARED=${SPL_BENCH_SHARED:-$ROOT/../shared/bench}
DATA=$BENCH/data/n$N
OUT=$BENCH/out
STATE=$BENCH/results
VENV=$BENCH/venv
DUCKDB_VERSION=${SPL_BENCH_DUCKDB_VERSION:-2.0.0}
HELPER=$HERE/compare.py
DOC=$ROOT/docs/performance.md

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$*" >&2; exit 1; }
has_peer() { [[ ",$PEERS," == *",$1,"* ]]; }

command -v python3 >/dev/null 2>&1 || die "python3 is required"
[ -d "$SHARED" ] || die "shared bench kit not found at $SHARED (set SPL_BENCH_SHARED)"
SHARED=$(cd "$SHARED" && pwd)
for f in gen_logs.py w1.vrl w2.vrl w3.vrl vrl-peer/Cargo.toml vrl-peer/src/main.rs; do
    [ -f "$SHARED/$f" ] || die "missing $SHARED/$f"
done
mkdir -p "$BENCH" "$OUT" "$STATE"
rm -f "$STATE"/runs.tsv "$STATE"/checks.tsv "$STATE"/meta.tsv "$STATE"/commands.tsv \
    "$STATE"/mismatch-*.txt "$STATE"/stderr-*.txt "$STATE"/results.md

# ---------------------------------------------------------------------------------------------
# data: $DATA/access.{jsonl,log} for N events, with a stamp (N, generator hash, file sizes)

gen_sha=$(sha256sum "$SHARED/gen_logs.py" | cut -c1-16)
stamp_of() {
    printf 'n=%s gen=%s jsonl=%s log=%s\n' "$N" "$gen_sha" \
        "$(stat -c %s "$1/access.jsonl")" "$(stat -c %s "$1/access.log")"
}
more_sha=$(sha256sum "$HERE/gen_more.py" | cut -c1-16)
more_stamp_of() {
    printf 'n=%s gen=%s events=%s logfmt=%s\n' "$N" "$more_sha" \
        "$(stat -c %s "$1/events.jsonl")" "$(stat -c %s "$1/app.logfmt")"
}
data_ok() {
    [ -f "$DATA/STAMP" ] && [ -f "$DATA/access.jsonl" ] && [ -f "$DATA/access.log" ] &&
        [ "$(cat "$DATA/STAMP")" = "$(stamp_of "$DATA")" ]
}
# Data generated earlier straight into target/bench/data/ (without a stamp) is adopted when it has
# N lines and starts with the same 1000 events as a fresh run of the (prefix-stable) generator.
adopt_legacy() {
    local old=$BENCH/data probe
    if ! [ -f "$old/access.jsonl" ] || ! [ -f "$old/access.log" ] ||
        [ "$(wc -l <"$old/access.jsonl")" -ne "$N" ] || [ "$(wc -l <"$old/access.log")" -ne "$N" ]; then
        return 1
    fi
    probe=$(mktemp -d "$BENCH/probe.XXXXXX")
    python3 "$SHARED/gen_logs.py" 1000 "$probe"
    if cmp -s "$probe/access.jsonl" <(head -n 1000 "$old/access.jsonl") &&
        cmp -s "$probe/access.log" <(head -n 1000 "$old/access.log"); then
        rm -rf "$probe"
        log "adopting the existing $N-event data in $old"
        cp "$old/access.jsonl" "$old/access.log" "$DATA/"
        return 0
    fi
    rm -rf "$probe"
    return 1
}
mkdir -p "$DATA"
if data_ok; then
    log "reusing data in $DATA ($(cat "$DATA/STAMP"))"
else
    rm -f "$DATA/STAMP"
    if ! adopt_legacy; then
        log "generating $N events into $DATA (python3 gen_logs.py; ~10 s per million)"
        python3 "$SHARED/gen_logs.py" "$N" "$DATA"
    fi
    stamp_of "$DATA" >"$DATA/STAMP"
fi
if [ -f "$DATA/STAMP-more" ] && [ -f "$DATA/events.jsonl" ] && [ -f "$DATA/app.logfmt" ] &&
    [ "$(cat "$DATA/STAMP-more")" = "$(more_stamp_of "$DATA")" ]; then
    log "reusing W5-W7 data in $DATA"
else
    rm -f "$DATA/STAMP-more"
    log "generating $N W5-W7 events into $DATA (python3 benches/gen_more.py; ~15 s per million)"
    python3 "$HERE/gen_more.py" "$N" "$DATA"
    more_stamp_of "$DATA" >"$DATA/STAMP-more"
fi
JSONL=$DATA/access.jsonl
RAWLOG=$DATA/access.log
EVENTS=$DATA/events.jsonl
LOGFMT=$DATA/app.logfmt
PEERS_DIR=$HERE/peers

# ---------------------------------------------------------------------------------------------
# spl (copied to target/bench/bin so a rebuild during the run does not change what is measured)

if [ "$BUILD" = 1 ]; then
    log "building spl and the C library (cargo build --release -p spl-cli -p spl-capi)"
    (cd "$ROOT" && cargo build --release -p spl-cli -p spl-capi) >&2
fi
[ -x "$CARGO_TARGET/release/spl" ] || die "no spl binary at $CARGO_TARGET/release/spl"
mkdir -p "$BENCH/bin"
cp "$CARGO_TARGET/release/spl" "$BENCH/bin/spl.tmp"
mv -f "$BENCH/bin/spl.tmp" "$BENCH/bin/spl"
SPL=$BENCH/bin/spl

# the C agent (spl-capi/examples/agent.c: 512 KB chunks, Arrow in and out) for W8
AGENT=""
if [[ ",$WORKLOADS," == *",W8a,"* ]]; then
    command -v cc >/dev/null 2>&1 || die "W8 needs a C compiler (cc)"
    [ -f "$CARGO_TARGET/release/libspl_capi.a" ] || die "no $CARGO_TARGET/release/libspl_capi.a (cargo build --release -p spl-capi)"
    cc -O2 -I "$ROOT/spl-capi/include" "$ROOT/spl-capi/examples/agent.c" \
        "$CARGO_TARGET/release/libspl_capi.a" -lpthread -ldl -lm -o "$BENCH/bin/agent"
    AGENT=$BENCH/bin/agent
fi

# ---------------------------------------------------------------------------------------------
# peers

VRL=""
if has_peer vrl; then
    mkdir -p "$BENCH/vrl-peer/src"
    # copy only what changed, so cargo's fingerprints stay valid and the build is a no-op
    for f in Cargo.toml src/main.rs; do
        cmp -s "$SHARED/vrl-peer/$f" "$BENCH/vrl-peer/$f" || cp "$SHARED/vrl-peer/$f" "$BENCH/vrl-peer/$f"
    done
    if [ "$BUILD" = 1 ] || [ ! -x "$BENCH/vrl-peer/target/release/vrl-peer" ]; then
        log "building vrl-peer (cargo build --release in $BENCH/vrl-peer; ~10 min the first time)"
        (cd "$BENCH/vrl-peer" && env -u CARGO_TARGET_DIR cargo build --release) >&2
    fi
    VRL=$BENCH/vrl-peer/target/release/vrl-peer
    [ -x "$VRL" ] || die "vrl-peer did not build"
fi

JQ=""
if has_peer jq; then
    if command -v jq >/dev/null 2>&1; then JQ=$(command -v jq); else log "jq is not installed: skipped"; fi
fi
MLR=""
if has_peer mlr; then
    if command -v mlr >/dev/null 2>&1; then MLR=$(command -v mlr); else log "Miller (mlr) is not installed: skipped"; fi
fi
DUCKDB_CLI=""
DUCKDB_PY=""
if has_peer duckdb; then
    if command -v duckdb >/dev/null 2>&1; then
        DUCKDB_CLI=$(command -v duckdb)
    else
        if [ ! -x "$VENV/bin/python" ]; then
            log "creating $VENV for DuckDB"
            python3 -m venv "$VENV" >&2 || { rm -rf "$VENV"; die "python3 cannot create a venv (install python3-venv) or use --peers without duckdb"; }
        fi
        if ! "$VENV/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
            log "installing duckdb==$DUCKDB_VERSION from PyPI into $VENV"
            "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" >&2
        fi
        DUCKDB_PY=$VENV/bin/python
    fi
fi

GNU_TIME=""
if [ -x /usr/bin/time ] && /usr/bin/time -f '%M' -o /dev/null true 2>/dev/null; then
    GNU_TIME=/usr/bin/time
else
    log "GNU time (/usr/bin/time) not found: peak RSS and CPU time are not recorded"
fi

# ---------------------------------------------------------------------------------------------
# machine and versions

# first word(s) of a tool's version output, '?' when it has none
version_of() {
    local v
    v=$("$@" 2>/dev/null) || v='?'
    v=${v%%$'\n'*}
    printf '%s' "${v:-?}"
}
versions="spl $(version_of "$SPL" --version | awk '{print $2}')"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    versions+=" (git $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'))"
fi
versions+=", $(rustc --version 2>/dev/null | awk '{print $1" "$2}')"
if [ -n "$VRL" ]; then
    vrl_version=$(awk '/^name = "vrl"$/ {getline; gsub(/"/, "", $3); print $3; exit}' "$BENCH/vrl-peer/Cargo.lock" 2>/dev/null || true)
    versions+=", VRL ${vrl_version:-?} (vrl-peer)"
fi
[ -n "$JQ" ] && versions+=", $(version_of "$JQ" --version)"
[ -n "$MLR" ] && versions+=", $(version_of "$MLR" --version)"
[ -n "$DUCKDB_CLI" ] && versions+=", DuckDB CLI $(version_of "$DUCKDB_CLI" --version | awk '{print $1}')"
[ -n "$DUCKDB_PY" ] && versions+=", DuckDB $(version_of "$DUCKDB_PY" -c 'import duckdb; print(duckdb.__version__)') (Python $(version_of "$DUCKDB_PY" -c 'import platform; print(platform.python_version())'))"
NPROC=$(nproc)
{
    printf 'date\t%s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
    printf 'nproc\t%s\n' "$NPROC"
    printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo '?')"
    printf 'mem\t%s\n' "$(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo 2>/dev/null || echo '?')"
    printf 'kernel\t%s\n' "$(uname -sr)"
    printf 'n\t%s\n' "$N"
    printf 'repeat\t%s\n' "$REPEAT"
    printf 'bytes_jsonl\t%s\n' "$(stat -c %s "$JSONL")"
    printf 'bytes_log\t%s\n' "$(stat -c %s "$RAWLOG")"
    printf 'bytes_events\t%s\n' "$(stat -c %s "$EVENTS")"
    printf 'bytes_logfmt\t%s\n' "$(stat -c %s "$LOGFMT")"
    printf 'versions\t%s\n' "$versions"
    printf 'load_start\t%s\n' "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')"
} >"$STATE/meta.tsv"
log "machine: $NPROC cores, $(awk -F'\t' '$1=="cpu"{print $2}' "$STATE/meta.tsv"); $versions"
[ "$NPROC" -ge 2 ] || log "WARNING: fewer than 2 cores; the 2-thread runs are not meaningful"

# ---------------------------------------------------------------------------------------------
# the workloads

SPL_W1="* | where cast(status as bigint) >= 500"
SPL_W2=$(cat <<'EOF'
* | parse-regexp content, '^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+)' as ip, time, method, uri, status, size | where cast(status as bigint) >= 500 | project ip, method, uri, status
EOF
)
SPL_W3="* | extend latency_ms = cast(latency as double) * 1000 | project-away user_agent"
SPL_W4="* | where cast(status as bigint) < 500 | stats c = count(1), avg_lat = avg(cast(latency as double)), p99 = approx_percentile(cast(latency as double), 0.99), users = approx_distinct(ip) by method, status | sort c desc, method, status | limit 20"
SPL_W5=$(cat <<'EOF'
* | extend host = url_extract_host(url), path = url_extract_path(url), pid = url_extract_parameter(url, 'id'), minute = date_format(from_unixtime(cast(time as bigint)), '%Y-%m-%d %H:%i'), agent = regexp_extract(user_agent, '(Chrome|AppleWebKit|curl|python-requests|Go-http-client)/[0-9.]+'), section = split_part(url_extract_path(url), '/', 2), verb = lower(method), digest = lower(to_hex(md5(to_utf8(request_id)))), tier = json_extract_scalar(ctx, '$.user.tier') | project request_id, host, path, pid, minute, agent, section, verb, digest, tier
EOF
)
SPL_W6="* | parse-kv content, ' ', '=' | where cast(status as bigint) >= 400 | project ts, level, svc, path, status, dur_ms, user"
SPL_W7="* | parse-json payload | expand-values items as item | parse-json item | where cast(qty as bigint) >= 3 | project request_id, order_id, sku, qty, price"

JQ_W1='select((.status|tonumber) >= 500)'
JQ_W2=$(cat <<'EOF'
capture("^(?<ip>\\S+) \\S+ \\S+ \\[(?<time>[^\\]]+)\\] \"(?<method>\\S+) (?<uri>\\S+) [^\"]*\" (?<status>\\d+) (?<size>\\d+)") | select((.status|tonumber) >= 500) | {ip, method, uri, status}
EOF
)
JQ_W3='.latency_ms = ((.latency|tonumber)*1000) | del(.user_agent)'

# Miller programs: $name is a Miller field, not a shell expansion
# shellcheck disable=SC2016
MLR_W1=(filter 'int($status) >= 500')
MLR_W2_EXPR=$(cat <<'EOF'
if ($1 =~ "^(\S+) \S+ \S+ \[([^\]]+)\] \"(\S+) (\S+) [^\"]*\" (\d+) (\d+)") { if (int("\5") >= 500) { emit1 {"ip": "\1", "method": "\3", "uri": "\4", "status": "\5"} } }
EOF
)
MLR_W2=(put -q "$MLR_W2_EXPR")
# shellcheck disable=SC2016
MLR_W3=(put '$latency_ms = float($latency) * 1000' then cut -x -f user_agent)

# quote a command line for display: tools by name, inputs and programs without their directory
show() {
    local out="" a q="'" esc="'\\''"
    for a in "$@"; do
        if [ -n "$a" ]; then
            case "$a" in
                "$SPL") a=spl ;;
                "$VRL") a=vrl-peer ;;
                "$JQ") a=jq ;;
                "$MLR") a=mlr ;;
                "$DUCKDB_CLI") a=duckdb ;;
                "$AGENT") a=agent ;;
            esac
        fi
        a=${a//"$DATA/"/}
        a=${a//"$OUT/"/}
        a=${a//"$SHARED/"/}
        a=${a//"$PEERS_DIR/"/}
        if [[ $a =~ ^[A-Za-z0-9_./=,:+-]+$ ]]; then out+="$a "; else out+="$q${a//"$q"/"$esc"}$q "; fi
    done
    printf '%s' "${out% }"
}

FAILED=0
MISMATCH=0

# run_timed W LABEL TOOL THREADS REP STDIN STDOUT CMD...: runs CMD once, appends to runs.tsv
run_timed() {
    local w=$1 label=$2 tool=$3 threads=$4 rep=$5 in=$6 out=$7
    shift 7
    local tf=$STATE/time.txt err=$STATE/stderr-$w-$label.txt t0 t1 rc=0 secs pwall rss="" cpu="" u s
    rm -f "$tf"
    t0=$(date +%s%N)
    if [ -n "$GNU_TIME" ]; then
        "$GNU_TIME" -f '%M %U %S' -o "$tf" "$@" <"$in" >"$out" 2>"$err" || rc=$?
    else
        "$@" <"$in" >"$out" 2>"$err" || rc=$?
    fi
    t1=$(date +%s%N)
    pwall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", (b - a) / 1e9}')
    secs=$pwall
    if [ -n "$GNU_TIME" ] && [ -s "$tf" ]; then
        read -r rss u s < <(tail -n 1 "$tf")
        cpu=$(awk -v u="$u" -v s="$s" 'BEGIN {printf "%.2f", u + s}')
    fi
    if [ "$tool" = duckdb ] && [ -n "$DUCKDB_PY" ] && [ -s "$STATE/duckdb-time.txt" ]; then
        # DuckDB through Python: the statement's time measured inside Python (no interpreter start)
        read -r secs cpu <"$STATE/duckdb-time.txt"
        rm -f "$STATE/duckdb-time.txt"
    fi
    local ok=ok
    if [ "$rc" != 0 ]; then
        ok=fail
        FAILED=1
        log "FAILED: $w $label (exit $rc):"
        tail -n 20 "$err" >&2
        # a failed run has no output to compare (the check reports it as missing)
        rm -f "$OUT/$w-$label.jsonl"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$label" "$tool" "$threads" "$rep" \
        "$secs" "$pwall" "$rss" "$cpu" "$ok" >>"$STATE/runs.tsv"
    log "$w $label rep $rep: $(printf '%.3f' "$secs") s${rss:+, max RSS $((rss / 1024)) MB}"
}

input_of() {
    case "$1" in
        W2|W8a) echo "$RAWLOG" ;;
        W6|W8b) echo "$LOGFMT" ;;
        W5|W7) echo "$EVENTS" ;;
        *) echo "$JSONL" ;;
    esac
}

# set_cmd W LABEL: sets tool, threads, stdin and the cmd array of one run
set_cmd() {
    local w=$1 label=$2 input spl_sql spl_fmt=() vrl_prog="" vrl_mode="" jq_opts=(-c) jq_prog mlr_io=(--ijsonl --ojsonl) mlr_args
    case "$w" in
        W1) input=$JSONL; spl_sql=$SPL_W1; vrl_prog=w1.vrl; vrl_mode=json; jq_prog=$JQ_W1
            mlr_args=("${MLR_W1[@]}") ;;
        W2) input=$RAWLOG; spl_sql=$SPL_W2; spl_fmt=(-i raw); vrl_prog=w2.vrl; vrl_mode=raw
            jq_opts=(-R -c); jq_prog=$JQ_W2; mlr_io=(--inidx --ifs tab --ojsonl); mlr_args=("${MLR_W2[@]}") ;;
        W3) input=$JSONL; spl_sql=$SPL_W3; vrl_prog=w3.vrl; vrl_mode=json; jq_prog=$JQ_W3
            mlr_args=("${MLR_W3[@]}") ;;
        W4) input=$JSONL; spl_sql=$SPL_W4; jq_opts=(-n -c -f); jq_prog=$PEERS_DIR/w4.jq ;;
        W5) input=$EVENTS; spl_sql=$SPL_W5; vrl_prog=$PEERS_DIR/w5.vrl; vrl_mode=json ;;
        W6) input=$LOGFMT; spl_sql=$SPL_W6; spl_fmt=(-i raw); vrl_prog=$PEERS_DIR/w6.vrl; vrl_mode=raw
            jq_opts=(-R -c -f); jq_prog=$PEERS_DIR/w6.jq ;;
        W7) input=$EVENTS; spl_sql=$SPL_W7; vrl_prog=$PEERS_DIR/w7.vrl; vrl_mode=json
            jq_opts=(-c -f); jq_prog=$PEERS_DIR/w7.jq ;;
        W8a) input=$RAWLOG; spl_sql=$SPL_W2; spl_fmt=(-i raw) ;;
        W8b) input=$LOGFMT; spl_sql=$SPL_W6; spl_fmt=(-i raw) ;;
    esac
    case "$vrl_prog" in ""|/*) ;; *) vrl_prog=$SHARED/$vrl_prog ;; esac
    stdin=$input
    threads=1
    case "$label" in
        spl|spl-t2)
            tool=spl; stdin=/dev/null
            if [ "$label" = spl-t2 ]; then threads=2; fi
            cmd=("$SPL" run --threads "$threads" -o json "${spl_fmt[@]}" "$spl_sql" "$input") ;;
        vrl) tool=vrl; cmd=("$VRL" "$vrl_prog" "$vrl_mode") ;;
        capi) tool=capi; stdin=/dev/null; cmd=(env SPL_AGENT_TIME=1700000000 "$AGENT" "$spl_sql" "$input") ;;
        jq) tool=jq; cmd=("$JQ" "${jq_opts[@]}" "$jq_prog") ;;
        mlr) tool=mlr; cmd=(env GOMAXPROCS=1 "$MLR" "${mlr_io[@]}" "${mlr_args[@]}") ;;
        duckdb|duckdb-t2)
            tool=duckdb; stdin=/dev/null
            if [ "$label" = duckdb-t2 ]; then threads=2; fi
            if [ -n "$DUCKDB_CLI" ]; then
                cmd=("$DUCKDB_CLI" -c "$(python3 "$HELPER" sql "$w" "$input" "$OUT/$w-$label.jsonl" "$threads")")
            else
                cmd=("$DUCKDB_PY" "$HELPER" duckdb "$w" "$input" "$OUT/$w-$label.jsonl" "$threads" "$STATE/duckdb-time.txt")
            fi ;;
    esac
}

# labels_of W: the runs of one workload. Peers that cannot express a workload are left out:
# VRL has no aggregation (W4); jq has no hash or URL functions (W5); Miller programs exist for
# W1-W3 only; W8 compares the C agent with spl run on one thread.
labels_of() {
    labels=()
    case "$1" in
        W8a|W8b) labels=(spl capi); return ;;
    esac
    labels=(spl spl-t2)
    if [ -n "$VRL" ] && [ "$1" != W4 ]; then labels+=(vrl); fi
    if [ -n "$JQ" ] && [ "$1" != W5 ]; then labels+=(jq); fi
    case "$1" in W1|W2|W3) if [ -n "$MLR" ]; then labels+=(mlr); fi ;; esac
    if [ -n "$DUCKDB_CLI$DUCKDB_PY" ]; then labels+=(duckdb duckdb-t2); fi
}

for w in ${WORKLOADS//,/ }; do
    labels_of "$w"
    for label in "${labels[@]}"; do
        set_cmd "$w" "$label"
        if [ "$tool" = duckdb ]; then
            # the SQL as it is, not shell-quoted
            disp=$(python3 "$HELPER" sql "$w" "$(input_of "$w")" "$OUT/$w-$label.jsonl" "$threads")
            disp=${disp//"$DATA/"/}
            disp=${disp//"$OUT/"/}
            if [ -n "$DUCKDB_CLI" ]; then disp="duckdb -c: $disp"; else disp="duckdb (Python): $disp"; fi
        else
            disp=$(show "${cmd[@]}")
            [ "$stdin" = /dev/null ] || disp+=" < $(show "$stdin")"
            [ "$tool" = duckdb ] || disp+=" > $w-$label.jsonl"
        fi
        printf '%s\t%s\t%s\n' "$w" "$label" "$disp" >>"$STATE/commands.tsv"
    done

    set_cmd "$w" spl
    log "$w: warming the page cache with $(basename "${cmd[-1]}")"
    cat "${cmd[-1]}" >/dev/null
    for rep in $(seq 1 "$REPEAT"); do
        for label in "${labels[@]}"; do
            set_cmd "$w" "$label"
            out=$OUT/$w-$label.jsonl
            rm -f "$out"
            if [ "$tool" = duckdb ]; then
                # DuckDB writes the output file itself
                run_timed "$w" "$label" "$tool" "$threads" "$rep" "$stdin" /dev/null "${cmd[@]}"
            else
                run_timed "$w" "$label" "$tool" "$threads" "$rep" "$stdin" "$out" "${cmd[@]}"
            fi
        done
    done

    log "$w: checking that the outputs agree"
    check_args=()
    for label in "${labels[@]}"; do check_args+=("$label=$OUT/$w-$label.jsonl"); done
    python3 "$HELPER" check "$STATE" "$w" spl "${check_args[@]}" || MISMATCH=1
    if [ "$KEEP" = 0 ]; then
        for label in "${labels[@]}"; do rm -f "$OUT/$w-$label.jsonl"; done
    fi
done
rm -f "$STATE/time.txt"
find "$STATE" -name 'stderr-*.txt' -empty -delete

printf 'load_end\t%s\n' "$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo '?')" >>"$STATE/meta.tsv"

# ---------------------------------------------------------------------------------------------
# the table

if [ "$WRITE_DOC" = 1 ]; then
    python3 "$HELPER" report "$STATE" --write-doc "$DOC"
else
    python3 "$HELPER" report "$STATE"
fi
log "results: $STATE/results.md (raw runs in runs.tsv, checks in checks.tsv)"
if [ "$MISMATCH" != 0 ]; then
    log "ERROR: some outputs do not agree with spl's (see the MISMATCH lines above and $STATE/mismatch-*.txt)"
fi
if [ "$FAILED" != 0 ]; then
    log "ERROR: some runs failed (see $STATE/stderr-*.txt)"
fi
if [ "$MISMATCH" != 0 ] || [ "$FAILED" != 0 ]; then
    exit 1
fi

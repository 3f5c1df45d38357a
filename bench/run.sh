#!/usr/bin/env bash
# bench/run.sh — gort's benchmark suite (`make bench` runs exactly `bash bench/run.sh`).
#
# Owns: installing the benchmark's tools when missing, building the programs compared
# (gort examples, their Go twins in bench/go/NAME/, the asm floor bench/floor.S, the timing
# harness bench/startup.c) into target/bench/, running the benchmarks, printing the results
# and writing them to bench/RESULTS.md.
#
# Usage:  bash bench/run.sh [BENCHMARK ...]      (default: all of BENCHMARKS below)
# Knobs (environment):
#   BENCH_ROUNDS=2000 BENCH_WARMUP=50   timed / discarded rounds of the start-up benchmark
#   BENCH_GORT_HELLO=PATH               use PATH instead of building gort's hello; ONLY for
#                                       testing this script (RESULTS.md then says STAND-IN)
#
# Benchmarks measure, they never judge: a slow number is reported, not a failure. The
# script fails only if something cannot be built or a program misbehaves (wrong output,
# non-zero exit, crash), because then there is nothing meaningful to report.
#
# Adding a benchmark NAME (e.g. goroutine spawn, yield, mutex, channels):
#   1. the gort program examples/NAME.rs and its Go twin bench/go/NAME/main.go;
#   2. a function bench_NAME below that builds both (build_gort_example NAME, build_go NAME),
#      measures them and appends a markdown section to "$SECTIONS" (see bench_hello; the
#      helpers measure_startup / record_size / emit_table / out do the common work);
#   3. NAME added to BENCHMARKS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OUT=$ROOT/target/bench           # every build product of the suite lives here
RESULTS=$ROOT/bench/RESULTS.md   # the report, rewritten on every full run
SECTIONS=$OUT/sections.md        # benchmark sections, collected before RESULTS.md is written
ROUNDS=${BENCH_ROUNDS:-2000}
WARMUP=${BENCH_WARMUP:-50}

# The benchmarks, in report order; each NAME has a function bench_NAME.
BENCHMARKS=(hello)

log() { echo "bench: $*" >&2; }
die() { echo "bench: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------

# apt-get install, as root (or via sudo); waits for another apt/dpkg run to finish, and
# refreshes the package lists once if the first attempt fails (fresh machines have none).
apt_install() {
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $*"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
    local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=900)
    log "installing $* (apt-get)"
    if ! "${apt[@]}" install -y "$@" >&2; then
        "${apt[@]}" update >&2 || die "apt-get update failed"
        "${apt[@]}" install -y "$@" >&2 || die "apt-get install -y $* failed"
    fi
}

ensure_tools() {
    if ! command -v gcc >/dev/null; then
        apt_install gcc libc6-dev
        command -v gcc >/dev/null || die "gcc still missing after installing it"
    fi
    if ! command -v go >/dev/null; then
        apt_install golang-go
        hash -r
        command -v go >/dev/null || die "go still missing after installing golang-go"
    fi
    command -v cargo >/dev/null \
        || die "cargo not found: install Rust (https://rustup.rs), then re-run"

    # Go builds self-contained, reproducible and independent of $HOME (CI runs as root):
    # static (no cgo), trimmed paths, caches under target/bench/go, no toolchain download.
    export CGO_ENABLED=0 GOFLAGS=-trimpath GO111MODULE=on GOTOOLCHAIN=local GOPROXY=off
    export GOCACHE=$OUT/go/cache GOPATH=$OUT/go/path
}

# ---------------------------------------------------------------------------------------
# Builds (all outputs under $OUT)
# ---------------------------------------------------------------------------------------

build_harness() {
    log "building the timing harness (bench/startup.c)"
    gcc -O2 -Wall -Wextra -o "$OUT/startup" bench/startup.c || die "bench/startup.c failed to build"
}

build_floor() {
    log "building the floor (bench/floor.S)"
    gcc -nostdlib -static -o "$OUT/floor" bench/floor.S || die "bench/floor.S failed to build"
}

# build_go NAME: bench/go/NAME -> $OUT/NAME-go (stripped, like gort's release profile).
build_go() {
    log "building Go twin bench/go/$1"
    (cd bench/go && go build -ldflags='-s -w' -o "$OUT/$1-go" "./$1") \
        || die "Go program bench/go/$1 failed to build"
}

# build_gort_example NAME: `cargo build --release --example NAME`; sets GORT_EXE to the
# executable's path as cargo reports it (the directory depends on .cargo/config.toml's
# build target: target/[TRIPLE/]release/examples/NAME).
build_gort_example() {
    local json
    log "building gort example $1 (cargo build --release --example $1)"
    cargo build --release --example "$1" >&2 || die "gort example $1 failed to build"
    # A second, no-op invocation only to learn the path (cargo prints it as JSON).
    json=$(cargo build --release --example "$1" --message-format=json 2>/dev/null) \
        || die "gort example $1 failed to build"
    GORT_EXE=$(sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' <<<"$json" | tail -n1)
    [[ -n $GORT_EXE && -x $GORT_EXE ]] || die "cannot find gort example $1's executable after build"
}

# check_output PATH EXPECTED: PATH runs, exits 0 and prints exactly EXPECTED and a newline.
check_output() {
    local got=$OUT/check-output.txt
    "$1" >"$got" || die "$1 exited with status $? (expected 0)"
    printf '%s\n' "$2" | cmp -s - "$got" \
        || die "$1 printed [$(od -An -c "$got" | tr -s ' ' | head -c 200) ] (od -c), expected '$2\n'"
}

# ---------------------------------------------------------------------------------------
# Measurements: results land in associative arrays keyed by "BENCH/LABEL"
# ---------------------------------------------------------------------------------------
declare -A MEDIAN MEAN P10 P90 SIZE

# measure_startup BENCH ROUNDS WARMUP LABEL=PATH...: interleaved start-up timing.
measure_startup() {
    local bench=$1 rounds=$2 warmup=$3 stats label _runs med mean p10 p90 _min _max
    shift 3
    log "$bench: timing $* — $rounds rounds (+$warmup warm-up), interleaved"
    stats=$("$OUT/startup" "$rounds" "$warmup" "$@") || die "$bench: start-up benchmark aborted"
    # shellcheck disable=SC2034  # the arrays are read through namerefs in emit_table
    while read -r label _runs med mean p10 p90 _min _max; do
        MEDIAN[$bench/$label]=$med MEAN[$bench/$label]=$mean
        P10[$bench/$label]=$p10 P90[$bench/$label]=$p90
    done <<<"$stats"
}

# record_size BENCH LABEL PATH: file size in bytes.
record_size() { SIZE[$1/$2]=$(stat -c %s "$3"); }

# ---------------------------------------------------------------------------------------
# Report helpers
# ---------------------------------------------------------------------------------------

# out TEXT...: append a line to the benchmark sections.
out() { printf '%s\n' "$*" >>"$SECTIONS"; }

# ratio A B: A/B as "1.23×" (or "—" when B is zero or missing).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "—"; else printf "%.2f×\n", a / b }'; }

# emit_table BENCH LABEL... -- ROW...: markdown table, one column per LABEL, then the ratio
# of the first LABEL (gort) to each other one. A ROW is "TITLE|ARRAY" (a measurement array
# above) or "TITLE|ARRAY|kib" (bytes shown in KiB).
emit_table() {
    local bench=$1 labels=() rows=() l r title arr unit v line sep
    shift
    while [[ $1 != -- ]]; do labels+=("$1"); shift; done
    shift
    rows=("$@")
    line="| benchmark |" sep="|---|"
    for l in "${labels[@]}"; do line+=" $l |" sep+="---:|"; done
    for l in "${labels[@]:1}"; do line+=" ${labels[0]}/$l |" sep+="---:|"; done
    out "$line"
    out "$sep"
    for r in "${rows[@]}"; do
        IFS='|' read -r title arr unit <<<"$r"
        local -n a=$arr
        local raw=()
        for l in "${labels[@]}"; do raw+=("${a[$bench/$l]:-}"); done
        line="| $title |"
        for v in "${raw[@]}"; do
            [[ $unit == kib && -n $v ]] && v=$(awk -v b="$v" 'BEGIN { printf "%.1f", b / 1024 }')
            line+=" ${v:-—} |"
        done
        # Ratios from the raw values, not the rounded display.
        for v in "${raw[@]:1}"; do line+=" $(ratio "${raw[0]}" "$v") |"; done
        out "$line"
        unset -n a
    done
}

# ---------------------------------------------------------------------------------------
# Benchmarks: each bench_NAME builds what it needs and appends one section to $SECTIONS
# ---------------------------------------------------------------------------------------

# hello: start-up time and binary size of "hello, world" in gort, Go and the asm floor.
bench_hello() {
    local gort
    if [[ -n ${BENCH_GORT_HELLO:-} ]]; then
        gort=$(realpath "$BENCH_GORT_HELLO")
        log "hello: using STAND-IN $gort for gort's hello (BENCH_GORT_HELLO)"
    else
        build_gort_example hello
        gort=$GORT_EXE
    fi
    build_go hello
    build_floor
    local go=$OUT/hello-go floor=$OUT/floor p
    for p in "$gort" "$go" "$floor"; do check_output "$p" "hello, world"; done

    measure_startup hello "$ROUNDS" "$WARMUP" gort="$gort" Go="$go" floor="$floor"
    record_size hello gort "$gort"
    record_size hello Go "$go"
    record_size hello floor "$floor"

    out "## hello: start-up and size"
    out ""
    [[ -n ${BENCH_GORT_HELLO:-} ]] && out "**STAND-IN: the gort column is \`$BENCH_GORT_HELLO\`, not gort's hello.**" && out ""
    out "\"hello, world\" three ways: gort's \`examples/hello\` (\`cargo build --release\`, \`${gort#"$ROOT"/}\`)," \
        "Go's \`fmt.Println\` (\`bench/go/hello\`, \`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'\`)" \
        "and the floor (\`bench/floor.S\`: \`_start\`, \`write\`, \`exit_group\`, nothing else)." \
        "Start-up is the wall time of posix_spawn → waitpid (stdout on /dev/null), $ROUNDS rounds" \
        "after $WARMUP warm-up rounds, the three run interleaved round-robin so noise hits all alike."
    out ""
    emit_table hello gort Go floor -- \
        "startup median (µs)|MEDIAN" "startup mean (µs)|MEAN" \
        "startup p10 (µs)|P10" "startup p90 (µs)|P90" \
        "binary size (bytes)|SIZE" "binary size (KiB)|SIZE|kib"
    out ""
    # The aims, checked for information only: benchmarks never fail.
    local kib r met
    kib=$(awk -v b="${SIZE[hello/gort]}" 'BEGIN { printf "%.1f", b / 1024 }')
    met=$(awk -v b="${SIZE[hello/gort]}" 'BEGIN { print (b <= 65536 ? "met" : "NOT met") }')
    out "- aim hello ≤ 64 KiB: **$met** ($kib KiB)"
    r=$(ratio "${MEDIAN[hello/gort]}" "${MEDIAN[hello/floor]}")
    met=$(awk -v a="${MEDIAN[hello/gort]}" -v b="${MEDIAN[hello/floor]}" \
        'BEGIN { print (a <= 1.5 * b ? "met" : "NOT met") }')
    out "- aim start-up within 1.5× of the floor (median): **$met** ($r)"
    out ""
}

# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------

header() {
    local cpu commit
    cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo "none yet")
    if [[ -n $(git status --porcelain 2>/dev/null || true) ]]; then commit+=" (+ uncommitted changes)"; fi
    cat <<EOF
# gort benchmark results

Written by \`bash bench/run.sh\` (\`make bench\`); do not edit by hand.

**Aims:** gort's hello is ≤ 64 KiB, and its start-up is within 1.5× of the floor (a bare \`_start\` → \`write\` → \`exit_group\` program).

| | |
|---|---|
| date (UTC) | $(date -u '+%Y-%m-%d %H:%M:%S') |
| machine | $(uname -srm), $(nproc) CPUs, ${cpu:-unknown CPU} |
| gort commit | $commit |
| rustc | $(rustc --version) |
| Go | $(go version) |
| gcc | $(gcc --version | head -n1) |

EOF
}

main() {
    local names=("$@") n
    [[ ${#names[@]} -gt 0 ]] || names=("${BENCHMARKS[@]}")
    for n in "${names[@]}"; do
        declare -F "bench_$n" >/dev/null || die "unknown benchmark '$n' (have: ${BENCHMARKS[*]})"
    done
    mkdir -p "$OUT"
    ensure_tools
    build_harness
    : >"$SECTIONS"
    for n in "${names[@]}"; do bench_"$n"; done
    { header; cat "$SECTIONS"; } >"$OUT/RESULTS.md.tmp"
    mv "$OUT/RESULTS.md.tmp" "$RESULTS"
    echo
    cat "$RESULTS"
    log "results written to ${RESULTS#"$ROOT"/}"
}

main "$@"

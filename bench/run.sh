#!/usr/bin/env bash
# bench/run.sh — gort's benchmark suite (`make bench` runs exactly `bash bench/run.sh`).
#
# Owns: installing the benchmark's tools when missing, building the programs compared
# (gort examples, their Go twins in bench/go/NAME/, the asm floor bench/floor.S, the timing
# harness bench/startup.c) into target/bench/, running the benchmarks, printing the results
# and writing them to bench/RESULTS.md.
#
# Usage:  bash bench/run.sh [BENCHMARK ...]      (default: all of BENCHMARKS below; a run of
#                                                only some writes target/bench/RESULTS.md
#                                                and leaves bench/RESULTS.md alone)
# Knobs (environment):
#   BENCH_ROUNDS=2000 BENCH_WARMUP=50   timed / discarded rounds of the start-up benchmark
#   BENCH_RUNS=5                        runs per side of the scheduler benchmarks (spawn,
#                                       yield, mutex, parked at 100,000), gort and Go
#                                       alternating; the median and the minimum are reported
#   BENCH_RUNS_BIG=3                    runs per side of parked at 1,000,000 (~5-15 s each)
#   BENCH_TIMEOUT=300                   seconds one benchmark program may run before it
#                                       counts as hung (and the suite fails)
#   BENCH_GORT_HELLO=PATH               use PATH instead of building gort's hello; ONLY for
#                                       testing this script (RESULTS.md then says STAND-IN)
#
# Benchmarks measure, they never judge: a slow number is reported, not a failure. The
# script fails only if something cannot be built or a program misbehaves (wrong output,
# non-zero exit, crash), because then there is nothing meaningful to report.
#
# Adding a benchmark NAME (e.g. channels):
#   1. the gort program bench/NAME.rs (it may `mod common;` for bench/common.rs: clock,
#      arguments, RSS), registered at the end of Cargo.toml as [[example]] bench_NAME with
#      path bench/NAME.rs, and its Go twin bench/go/NAME/main.go. Both print the same one
#      line KEY=NUMBER (e.g. ns_per_op=12.3) and exit 0; on a wrong result they exit non-zero;
#   2. a function bench_NAME below that builds both (build_gort_example bench_NAME,
#      build_go NAME), measures them and appends a markdown section to "$SECTIONS" (see
#      bench_hello and bench_spawn; the helpers measure_startup / measure_runs /
#      record_size / emit_table / aim_line / out do the common work) and its aim to AIMS;
#   3. NAME added to BENCHMARKS.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

OUT=$ROOT/target/bench           # every build product of the suite lives here
RESULTS=$ROOT/bench/RESULTS.md   # the report, rewritten on every full run
SECTIONS=$OUT/sections.md        # benchmark sections, collected before RESULTS.md is written
ROUNDS=${BENCH_ROUNDS:-2000}
WARMUP=${BENCH_WARMUP:-50}
RUNS=${BENCH_RUNS:-5}
RUNS_BIG=${BENCH_RUNS_BIG:-3}
TIMEOUT=${BENCH_TIMEOUT:-300}

# The benchmarks, in report order; each NAME has a function bench_NAME.
BENCHMARKS=(hello spawn yield mutex parked pingpong chanbuf select timers)

# The aims of the benchmarks that ran, one markdown line each, for the report's header.
AIMS=()

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

# The environment the benchmark programs run in: the runtimes' defaults, whatever the
# caller's shell has set (GOMAXPROCS is read by gort and Go alike).
RUN_ENV=(env -u GOMAXPROCS -u GODEBUG -u GOGC -u GOMEMLIMIT -u GORT_STACKSIZE)

# run_value KEY PATH ARG...: run PATH ARG... (at most $TIMEOUT s), which must exit 0 and
# print exactly one line KEY=NUMBER on stdout; prints NUMBER. Anything else is fatal.
# KEY may be a comma-separated list KEY1,KEY2,...: then PATH must print exactly one line
# KEYi=NUMBER per key, in that order, and the NUMBERs are printed separated by spaces.
run_value() {
    local key=$1 status=0 line keys=() want='' k vals=()
    shift
    local cmd="$*"
    IFS=, read -ra keys <<<"$key"
    timeout --kill-after=10 "$TIMEOUT" "${RUN_ENV[@]}" "$@" >"$OUT/run.out" 2>"$OUT/run.err" || status=$?
    if [[ $status -ne 0 ]]; then
        [[ -s $OUT/run.err ]] && sed 's/^/    stderr: /' "$OUT/run.err" | tail -n 20 >&2
        [[ $status -eq 124 ]] && die "'$cmd' did not finish within ${TIMEOUT}s (hung?)"
        [[ $status -eq 137 ]] && die "'$cmd' was killed (SIGKILL: out of memory, or still running" \
            "${TIMEOUT}s + 10s after timeout's SIGTERM)"
        [[ $status -gt 128 ]] && die "'$cmd' was killed by signal $((status - 128))"
        die "'$cmd' exited with status $status (expected 0)"
    fi
    for k in "${keys[@]}"; do want+="${want:+$'\n'}$k=[0-9]+(\.[0-9]+)?"; done
    line=$(cat "$OUT/run.out")
    [[ $line =~ ^$want$ ]] \
        || die "'$cmd' printed [$(head -c 200 "$OUT/run.out")], expected $(printf "'%s=NUMBER' " "${keys[@]}")(one line each)"
    # "K1=V1\nK2=V2" -> "V1 V2"
    while IFS= read -r k; do vals+=("${k#*=}"); done <<<"$line"
    printf '%s\n' "${vals[*]}"
}

# measure_runs ROW KEY RUNS LABEL=PATH... -- ARG...: RUNS rounds, each running every
# PATH ARG... once in turn (gort, Go, gort, Go, ...), so that drift and noise hit both
# alike. Records the median, minimum and maximum of each LABEL's KEY in
# MEDIAN/MIN/MAX[ROW/LABEL] and all its values, in run order, in VALUES[ROW/LABEL]. With
# several keys (KEY1,KEY2,...; see run_value) each key's values go to row ROW.KEYi
# instead (MEDIAN[ROW.KEYi/LABEL], …).
# shellcheck disable=SC2034  # MIN and MAX are read through a nameref in emit_table
declare -A MIN MAX VALUES
measure_runs() {
    local row=$1 key=$2 runs=$3 progs=() p label path i v k j keys=() vals=() rows=() r
    shift 3
    while [[ $1 != -- ]]; do progs+=("$1"); shift; done
    shift
    IFS=, read -ra keys <<<"$key"
    if [[ ${#keys[@]} -eq 1 ]]; then rows=("$row"); else for k in "${keys[@]}"; do rows+=("$row.$k"); done; fi
    log "$row: $runs runs each of ${progs[*]} (args: ${*:-none}), interleaved"
    for p in "${progs[@]}"; do for r in "${rows[@]}"; do VALUES[$r/${p%%=*}]=""; done; done
    for ((i = 1; i <= runs; i++)); do
        for p in "${progs[@]}"; do
            label=${p%%=*} path=${p#*=}
            v=$(run_value "$key" "$path" "$@") || exit 1
            read -ra vals <<<"$v"
            for j in "${!keys[@]}"; do
                log "$row: run $i/$runs $label: ${keys[j]}=${vals[j]}"
                VALUES[${rows[j]}/$label]+="${VALUES[${rows[j]}/$label]:+ }${vals[j]}"
            done
        done
    done
    for r in "${rows[@]}"; do
        for p in "${progs[@]}"; do
            label=${p%%=*}
            # shellcheck disable=SC2086  # the values are a space-separated list of numbers
            read -r "MEDIAN[$r/$label]" "MIN[$r/$label]" "MAX[$r/$label]" < <(printf '%s\n' ${VALUES[$r/$label]} | sort -g | awk '
                { v[NR] = $1 }
                END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }')
        done
    done
}

# ---------------------------------------------------------------------------------------
# Report helpers
# ---------------------------------------------------------------------------------------

# out TEXT...: append a line to the benchmark sections.
out() { printf '%s\n' "$*" >>"$SECTIONS"; }

# ratio A B: A/B as "1.23×" (or "—" when B is zero or missing).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "—"; else printf "%.2f×\n", a / b }'; }

# emit_table BENCH LABEL... -- ROW...: markdown table, one column per LABEL, then the ratio
# of the first LABEL (gort) to each other one. A ROW is "TITLE|ARRAY" (a measurement array
# above), "TITLE|ARRAY|kib" (bytes shown in KiB) or "TITLE|ARRAY|UNIT|KEY" (values read
# from ARRAY[KEY/LABEL] instead of ARRAY[BENCH/LABEL]; UNIT may be empty).
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
        local key=
        IFS='|' read -r title arr unit key <<<"$r"
        local -n a=$arr
        local raw=()
        for l in "${labels[@]}"; do raw+=("${a[${key:-$bench}/$l]:-}"); done
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

# aim_line TEXT MET RATIO_OR_VALUE: one "- aim TEXT: **met** (VALUE)" line of a section;
# MET is an awk condition on the variables a and b, given with "-v a=… -v b=…" after it.
# Usage: aim_line "spawn ≤ ½ of Go's time (median)" 'a <= 0.5 * b' "$(ratio A B)" A B
aim_line() {
    local text=$1 cond=$2 shown=$3 a=$4 b=${5:-0} met
    met=$(awk -v a="$a" -v b="$b" "BEGIN { if (a == \"\" || b == \"\") print \"not measured\"; else print (($cond) ? \"met\" : \"NOT met\") }")
    out "- aim $text: **$met** ($shown)"
}

# runs_line ROW WHAT LABEL...: the individual values behind ROW, in run order, as
# "- all runs WHAT, in order: …" (WHAT may be empty).
runs_line() {
    local row=$1 l line="all runs${2:+ $2}, in order:"
    shift 2
    for l in "$@"; do line+=" $l ${VALUES[$row/$l]// /, };"; done
    out "- ${line%;}"
}

# ---------------------------------------------------------------------------------------
# Benchmarks: each bench_NAME builds what it needs and appends one section to $SECTIONS
# ---------------------------------------------------------------------------------------

# hello: start-up time and binary size of "hello, world" in gort, Go and the asm floor.
bench_hello() {
    AIMS+=("hello: gort's hello is ≤ 64 KiB, and its start-up is within 1.5× of the floor (a bare \`_start\` → \`write\` → \`exit_group\` program).")
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

# build_pair NAME: build gort's bench/NAME.rs (example bench_NAME) and its Go twin
# bench/go/NAME; sets GORT_EXE and GO_EXE.
build_pair() {
    build_gort_example "bench_$1"
    build_go "$1"
    GO_EXE=$OUT/$1-go
}

# how_run RUNS: the sentence on how the scheduler benchmarks run, shared by their sections.
how_run() {
    echo "$1 runs per side, gort and Go alternating (gort, Go, gort, Go, …); median and minimum per side," \
        "ratios gort/Go; default settings (GOMAXPROCS, GODEBUG, GOGC, GOMEMLIMIT, GORT_STACKSIZE unset)."
}

# thousands N: N with thousands separators (1000000 -> 1,000,000).
thousands() { sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta' <<<"$1"; }

# spawn: create and finish 1,000,000 goroutines, joined by a WaitGroup.
bench_spawn() {
    local n=1000000
    AIMS+=("spawn: creating and finishing a goroutine takes at most half of Go's time.")
    build_pair spawn
    measure_runs spawn ns_per_goroutine "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$n"

    out "## spawn: goroutine creation and exit"
    out ""
    out "Main starts $(thousands $n) goroutines, calling \`wg.add(1)\` before each spawn; each goroutine" \
        "only calls \`wg.done()\`; main then waits on the WaitGroup (a static \`gort::sync::WaitGroup\`" \
        "in gort's \`bench/spawn.rs\`, a package-level \`sync.WaitGroup\` in \`bench/go/spawn\`)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the first spawn until" \
        "\`wait\` returns, divided by $(thousands $n), in ns per goroutine. $(how_run "$RUNS")"
    out ""
    emit_table spawn gort Go -- "median (ns/goroutine)|MEDIAN" "min (ns/goroutine)|MIN"
    out ""
    runs_line spawn "" gort Go
    aim_line "spawn ≤ ½ of Go's time (median)" 'a <= 0.5 * b' \
        "$(ratio "${MEDIAN[spawn/gort]}" "${MEDIAN[spawn/Go]}")" "${MEDIAN[spawn/gort]}" "${MEDIAN[spawn/Go]}"
    out ""
}

# yield: two goroutines ping-pong through gosched on one P.
bench_yield() {
    local k=1000000
    AIMS+=("yield: a goroutine switch (gosched) takes at most half of Go's time.")
    build_pair yield
    measure_runs yield ns_per_switch "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$k"

    out "## yield: goroutine switch"
    out ""
    out "The program sets GOMAXPROCS to 1 (\`gort::gomaxprocs(1)\` / \`runtime.GOMAXPROCS(1)\`)," \
        "then two goroutines each call \`gort::gosched()\` / \`runtime.Gosched()\` $(thousands $k) times," \
        "so every call switches to the other; main waits for both on a WaitGroup" \
        "(\`bench/yield.rs\`, \`bench/go/yield\`)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the first spawn until" \
        "both are done, divided by the $(thousands $((2 * k))) gosched calls, in ns per switch. $(how_run "$RUNS")"
    out ""
    emit_table yield gort Go -- "median (ns/switch)|MEDIAN" "min (ns/switch)|MIN"
    out ""
    runs_line yield "" gort Go
    aim_line "yield ≤ ½ of Go's time (median)" 'a <= 0.5 * b' \
        "$(ratio "${MEDIAN[yield/gort]}" "${MEDIAN[yield/Go]}")" "${MEDIAN[yield/gort]}" "${MEDIAN[yield/Go]}"
    out ""
}

# mutex: 8 goroutines contending on one mutex.
bench_mutex() {
    local g=8 m=1000000
    AIMS+=("mutex: a contended lock/unlock is faster than Go's sync.Mutex.")
    build_pair mutex
    measure_runs mutex ns_per_op "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$g" "$m"

    out "## mutex: contended lock"
    out ""
    out "$g goroutines each do $(thousands $m) lock / increment / unlock on one mutex (a static" \
        "\`gort::sync::Mutex<u64>\` in \`bench/mutex.rs\`; a \`sync.Mutex\` and a \`uint64\` in" \
        "\`bench/go/mutex\`), at the default GOMAXPROCS ($(nproc) here). Both check the final" \
        "count is exactly $(thousands $((g * m))) and exit 1 otherwise (the suite then fails)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the first spawn until" \
        "all $g are done, divided by $(thousands $((g * m))), in ns per lock/unlock. $(how_run "$RUNS")"
    out ""
    emit_table mutex gort Go -- "median (ns/op)|MEDIAN" "min (ns/op)|MIN"
    out ""
    runs_line mutex "" gort Go
    aim_line "mutex faster than Go (median)" 'a < b' \
        "$(ratio "${MEDIAN[mutex/gort]}" "${MEDIAN[mutex/Go]}")" "${MEDIAN[mutex/gort]}" "${MEDIAN[mutex/Go]}"
    out ""
}

# parked: resident memory per parked goroutine, at 100,000 and 1,000,000.
bench_parked() {
    local aim=$((4096 + 350)) n row
    AIMS+=("parked: a parked goroutine costs at most one page (4096 B) of stack plus the G (~350 B) of resident memory, ≤ $aim B.")
    build_pair parked
    measure_runs parked-100k bytes_per_goroutine "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- 100000
    measure_runs parked-1M bytes_per_goroutine "$RUNS_BIG" gort="$GORT_EXE" Go="$GO_EXE" -- 1000000

    out "## parked: memory per parked goroutine"
    out ""
    out "Main spawns N goroutines; each calls \`started.done()\` and parks in \`gate.wait()\`" \
        "(static \`gort::sync::WaitGroup\`s in \`bench/parked.rs\`, package-level \`sync.WaitGroup\`s" \
        "in \`bench/go/parked\`). Once \`started.wait()\` returns, all N are parked; then the gate" \
        "opens and main waits for all N to finish (the program fails if they do not)."
    out ""
    out "**How it was measured:** resident set size from \`/proc/self/statm\` (field 2, pages ×" \
        "4096), read the same way in both, once before the first spawn and once with all N" \
        "parked; the value is the difference divided by N, in bytes per goroutine. Nothing is" \
        "freed in the window: gort has no GC, and the Go twin calls neither \`runtime.GC()\` nor" \
        "\`debug.FreeOSMemory()\` (Go's own GC may run as usual). $(how_run "$RUNS")" \
        "At N = 1,000,000: $RUNS_BIG runs per side (each takes seconds and GBs)."
    out ""
    emit_table parked gort Go -- \
        "N = 100,000: median (B/goroutine)|MEDIAN||parked-100k" "N = 100,000: min (B/goroutine)|MIN||parked-100k" \
        "N = 1,000,000: median (B/goroutine)|MEDIAN||parked-1M" "N = 1,000,000: min (B/goroutine)|MIN||parked-1M"
    out ""
    runs_line parked-100k "at N = 100,000" gort Go
    runs_line parked-1M "at N = 1,000,000" gort Go
    for row in parked-100k parked-1M; do
        n=${row#parked-}
        aim_line "parked at N = $n ≤ $aim B/goroutine (median)" 'a <= b' \
            "${MEDIAN[$row/gort]} B" "${MEDIAN[$row/gort]}" "$aim"
    done
    out ""
}

# pingpong: an unbuffered round trip between two goroutines.
bench_pingpong() {
    local n=1000000
    AIMS+=("pingpong: an unbuffered channel round trip between two goroutines takes at most half of Go's time.")
    build_pair pingpong
    measure_runs pingpong ns_per_roundtrip "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$n"

    out "## pingpong: unbuffered round trip"
    out ""
    out "Main sends i on the unbuffered channel a; an echo goroutine (\`for v in &a { b.send(v + 1) }\` /" \
        "\`for v := range a { b <- v + 1 }\`) sends i + 1 back on the unbuffered channel b; main" \
        "receives it and checks it is i + 1 (the program exits 1 otherwise). $(thousands $n) round" \
        "trips at the default GOMAXPROCS ($(nproc) here) (\`bench/pingpong.rs\`, \`bench/go/pingpong\`)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the echo goroutine is" \
        "spawned until the last reply is received, divided by $(thousands $n), in ns per round trip" \
        "(two channel handoffs). $(how_run "$RUNS")"
    out ""
    emit_table pingpong gort Go -- "median (ns/round trip)|MEDIAN" "min (ns/round trip)|MIN"
    out ""
    runs_line pingpong "" gort Go
    aim_line "pingpong ≤ ½ of Go's time (median)" 'a <= 0.5 * b' \
        "$(ratio "${MEDIAN[pingpong/gort]}" "${MEDIAN[pingpong/Go]}")" "${MEDIAN[pingpong/gort]}" "${MEDIAN[pingpong/Go]}"
    out ""
}

# chanbuf: one producer, one consumer over a channel of capacity 128.
bench_chanbuf() {
    local n=10000000
    AIMS+=("chanbuf: an item through a buffered channel (capacity 128, one producer, one consumer) takes at most half of Go's time.")
    build_pair chanbuf
    measure_runs chanbuf ns_per_item "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$n"

    out "## chanbuf: buffered channel throughput"
    out ""
    out "A producer goroutine sends 0, 1, …, $(thousands $((n - 1))) on a channel of capacity 128" \
        "and closes it; main receives until it is closed and drained (\`for v in &c\` /" \
        "\`for v := range c\`), summing, and checks the count is $(thousands $n) and the sum" \
        "exactly $(thousands $((n * (n - 1) / 2))) (the program exits 1 otherwise). Default GOMAXPROCS" \
        "($(nproc) here) (\`bench/chanbuf.rs\`, \`bench/go/chanbuf\`)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the producer is spawned" \
        "until the channel is drained, divided by $(thousands $n), in ns per item. $(how_run "$RUNS")"
    out ""
    emit_table chanbuf gort Go -- "median (ns/item)|MEDIAN" "min (ns/item)|MIN"
    out ""
    runs_line chanbuf "" gort Go
    aim_line "chanbuf ≤ ½ of Go's time (median)" 'a <= 0.5 * b' \
        "$(ratio "${MEDIAN[chanbuf/gort]}" "${MEDIAN[chanbuf/Go]}")" "${MEDIAN[chanbuf/gort]}" "${MEDIAN[chanbuf/Go]}"
    out ""
}

# select: main selects over two unbuffered channels fed by one producer each.
bench_select() {
    local n=1000000
    AIMS+=("select: a two-case select loop — reported, no stated aim.")
    build_pair select
    measure_runs select ns_per_select "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$n"

    out "## select: two-case select loop"
    out ""
    out "Two producer goroutines each send 1, 2, …, $(thousands $((n / 2))) on their own" \
        "**unbuffered** channel, a and b; main runs a two-case select" \
        "(\`gort::select! { recv(a) -> v => …, recv(b) -> v => … }\` / \`select { case v, ok = <-a: … case v, ok = <-b: … }\`)" \
        "$(thousands $n) times, counting and summing per channel, and checks each channel gave exactly" \
        "$(thousands $((n / 2))) values with the exact sum (the program exits 1 otherwise). Default" \
        "GOMAXPROCS ($(nproc) here) (\`bench/select.rs\`, \`bench/go/select\`)."
    out ""
    out "**How it was measured:** wall time (CLOCK_MONOTONIC) from before the first producer is" \
        "spawned until the last select returns, divided by $(thousands $n), in ns per select. $(how_run "$RUNS")"
    out ""
    emit_table select gort Go -- "median (ns/select)|MEDIAN" "min (ns/select)|MIN"
    out ""
    runs_line select "" gort Go
    out "- no stated aim: reported only ($(ratio "${MEDIAN[select/gort]}" "${MEDIAN[select/Go]}") of Go's time, median)"
    out ""
}

# timers: 10,000 goroutines sleeping 1 ms, 100 times each.
bench_timers() {
    local n=10000 ms=1 rounds=100
    AIMS+=("timers: many sleeping goroutines — reported, no stated aim (more wake-ups per second and less CPU per wall second are better).")
    build_pair timers
    measure_runs timers wakeups_per_sec,cpu_per_wall "$RUNS" gort="$GORT_EXE" Go="$GO_EXE" -- "$n" "$ms" "$rounds"

    out "## timers: many sleeping goroutines"
    out ""
    out "$(thousands $n) goroutines each sleep $ms ms (\`gort::time::sleep\` / \`time.Sleep\`)" \
        "$rounds times, counting their wake-ups in an atomic; main waits on a WaitGroup and checks" \
        "the count is exactly $(thousands $((n * rounds))) (the program exits 1 otherwise). Default" \
        "GOMAXPROCS ($(nproc) here) (\`bench/timers.rs\`, \`bench/go/timers\`)."
    out ""
    out "**How it was measured:** over the window from before the first spawn until \`wait\`" \
        "returns: wake-ups per second = $(thousands $((n * rounds))) / wall time (CLOCK_MONOTONIC)," \
        "**higher is better** (the ideal, every sleep exactly $ms ms, is about" \
        "$(thousands $((n * 1000 / ms))) per second); CPU / wall = process CPU time of all threads" \
        "(clock_gettime(CLOCK_PROCESS_CPUTIME_ID) by system call in both) / wall time, **lower is" \
        "better** (1.00 = one CPU busy the whole time). Both numbers come from the same run." \
        "$(how_run "$RUNS")"
    out ""
    emit_table timers gort Go -- \
        "median wake-ups/s (higher is better)|MEDIAN||timers.wakeups_per_sec" \
        "best (max) wake-ups/s|MAX||timers.wakeups_per_sec" \
        "median CPU / wall (lower is better)|MEDIAN||timers.cpu_per_wall" \
        "best (min) CPU / wall|MIN||timers.cpu_per_wall"
    out ""
    runs_line timers.wakeups_per_sec "of wake-ups/s" gort Go
    runs_line timers.cpu_per_wall "of CPU / wall" gort Go
    out "- no stated aim: reported only (gort/Go median: wake-ups/s" \
        "$(ratio "${MEDIAN[timers.wakeups_per_sec/gort]}" "${MEDIAN[timers.wakeups_per_sec/Go]}"), CPU / wall" \
        "$(ratio "${MEDIAN[timers.cpu_per_wall/gort]}" "${MEDIAN[timers.cpu_per_wall/Go]}"))"
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

**Aims** (from the issues; each section says whether it is met — a benchmark reports, it never fails on a number):

$(printf -- '- %s\n' "${AIMS[@]}")

| | |
|---|---|
| date (UTC) | $(date -u '+%Y-%m-%d %H:%M:%S') |
| machine | $(uname -srm), $(nproc) CPUs, ${cpu:-unknown CPU} |
| gort commit | $commit |
| rustc | $(rustc --version) |
| Go | $(go version) |
| gcc | $(gcc --version | head -n1) |
| builds | gort: \`cargo build --release\`; Go: \`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'\` |

EOF
}

main() {
    local names=("$@") n
    [[ ${#names[@]} -gt 0 ]] || names=("${BENCHMARKS[@]}")
    for n in "${names[@]}"; do
        declare -F "bench_$n" >/dev/null || die "unknown benchmark '$n' (have: ${BENCHMARKS[*]})"
    done
    local knob
    for knob in BENCH_ROUNDS=$ROUNDS BENCH_WARMUP=$WARMUP BENCH_RUNS=$RUNS BENCH_RUNS_BIG=$RUNS_BIG BENCH_TIMEOUT=$TIMEOUT; do
        [[ ${knob#*=} =~ ^[0-9]+$ && ${knob#*=} -gt 0 ]] || [[ $knob == BENCH_WARMUP=0 ]] \
            || die "$knob: expected a positive integer"
    done
    mkdir -p "$OUT"
    ensure_tools
    build_harness
    : >"$SECTIONS"
    for n in "${names[@]}"; do bench_"$n"; done
    # A partial run must not replace the full report with a part of it.
    [[ $# -eq 0 ]] || RESULTS=$OUT/RESULTS.md
    { header; cat "$SECTIONS"; } >"$OUT/RESULTS.md.tmp"
    mv "$OUT/RESULTS.md.tmp" "$RESULTS"
    echo
    cat "$RESULTS"
    log "results written to ${RESULTS#"$ROOT"/}"
}

main "$@"

#!/usr/bin/env bash
# tools/fuzz.sh - build the libFuzzer targets of fuzz/ (clang, -fsanitize=fuzzer,address,undefined)
# and run each, one after another, for RUNS executions; report executions, time, rate, coverage
# and crashes. A benchmark-like run for a person, not CI (CI replays fuzz/corpus/ with gcc: the
# fuzz_* CTest tests). Debian 12: apt-get install clang libclang-rt-14-dev.
#
#   tools/fuzz.sh [TARGET...]      targets: csv ini mtl model forest policy debts obs (default: all)
#
# Environment: RUNS (executions per target, default 1000000), MAX_TIME (seconds per target, 0:
# no limit; a target stops at whichever comes first), BUILD_DIR (default build-fuzz), JOBS
# (build jobs, default 2), MERGE=1 (afterwards, merge each target's grown corpus into
# BUILD_DIR/fuzz-merged/<target>: the candidates for fuzz/corpus/). Exit 0 when no target
# crashed, leaked or broke a sanitizer's rule; 1 otherwise (the input is kept as
# BUILD_DIR/fuzz-artifacts/<target>-crash-*, leak-*, timeout-* or oom-*). Run one at a time:
# each target takes one core (no -fork, no -jobs).
#
# Figures (docs/fuzzing.md has them all): 1,000,000 executions per target; on the project's
# 2-core machine at 2026-12-04 (clang 14, ASan+UBSan, one core each, otherwise lightly loaded): model
# 3,349/s (299 s), policy 21,645/s, debts 13,245/s, ini 13,569/s; csv 1,090/s, mtl 1,738/s,
# forest 1,840/s (measured under a load of 20-30 in the previous session).
# Found so far: 2 crashes, both in the model target, both fixed (a 2^54-byte UBJSON count; a
# tree parent index past the nodes that crashed XGBoost's tree loader); each input is in
# fuzz/corpus/model/ and has a regression test in tests/test_classify.c.
set -euo pipefail
if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    exit 0
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
build_dir=${BUILD_DIR:-build-fuzz}
runs=${RUNS:-1000000}
max_time=${MAX_TIME:-0}
jobs=${JOBS:-2}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(csv ini mtl model forest policy debts obs); fi

cc=$(command -v clang || command -v clang-14 || true)
if [ -z "$cc" ]; then
    echo "fuzz: no clang (Debian 12: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    CC=$cc cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPARUS_FUZZ=ON \
        -DPARUS_BUILD_TESTS=OFF -DPARUS_OPENMP=OFF -DPARUS_SANITIZE=address,undefined >&2
fi
cmake --build "$build_dir" -j"$jobs" --target "${targets[@]/#/fuzz_}" >&2

work="$build_dir/fuzz-work"
arts="$build_dir/fuzz-artifacts"
mkdir -p "$work" "$arts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/.ci/lsan.supp}
failed=0
printf '%-7s %12s %9s %9s %7s %7s %7s  %s\n' target executions seconds exec/s cov ft corpus \
    result >"$work/summary.txt"
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    log="$work/$t.log"
    start=$(date +%s.%N)
    set +e
    "$build_dir/fuzz/fuzz_$t" -runs="$runs" -max_total_time="$max_time" -timeout=20 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$arts/$t-" \
        "$work/$t" "fuzz/corpus/$t" >"$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s.%N)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    rate=$(awk -v n="${execs:-0}" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$log" || echo see "$log")"
        failed=1
    fi
    printf '%-7s %12s %9s %9s %7s %7s %7s  %s\n' "$t" "${execs:-?}" "$secs" "$rate" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$result" >>"$work/summary.txt"
    tail -1 "$work/summary.txt" >&2
    if [ "${MERGE:-0}" = 1 ] && [ $rc -eq 0 ]; then
        rm -rf "$build_dir/fuzz-merged/$t"
        mkdir -p "$build_dir/fuzz-merged/$t"
        "$build_dir/fuzz/fuzz_$t" -merge=1 "$build_dir/fuzz-merged/$t" "fuzz/corpus/$t" \
            "$work/$t" >"$work/$t.merge.log" 2>&1 || true
    fi
done
cat "$work/summary.txt"
exit $failed

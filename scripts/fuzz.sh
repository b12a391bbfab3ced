#!/usr/bin/env bash
# Runs the libFuzzer targets under Fuzz/ (one per parser) for a bounded time each (issue: Robustness).
#
#   scripts/fuzz.sh                          # every target, 60 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh FuzzIMAPCommand FuzzMIMEMessage
#
# Builds with SKJOLD_FUZZ=1 (Package.swift declares the fuzz targets only then, so `swift build` and
# `swift test` never see them) into .build-fuzz, in release mode with -sanitize=fuzzer,address. Each
# target starts from a copy of its seed corpus (Fuzz/Corpus/<target>) in a temporary directory, so the
# repository's corpus never grows; with libFuzzer's -timeout, -rss_limit_mb and leak detection on.
# A crash, failed invariant, leak, timeout or out-of-memory makes the run fail; the input that caused it
# is kept in .build-fuzz/artifacts/<target>/ and its path printed. Reproduce one input with
#   .build-fuzz/release/<target> <crash-file>
# Output ends with a summary table per target: executions/s, total executions and coverage (libFuzzer's
# count of covered edges). The exit status is non-zero when any target failed or did not build.
# Needs no TTY; safe to re-run.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
SCRATCH="$ROOT/.build-fuzz"
ALL_TARGETS=(FuzzSMTPCommand FuzzIMAPCommand FuzzPOP3Command FuzzMIMEMessage FuzzConfig)
if [[ -d "$ROOT/Fuzz/FuzzDNSMessage" ]]; then ALL_TARGETS+=(FuzzDNSMessage); fi
if (($# > 0)); then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi

if ! [[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] || ((FUZZ_SECONDS < 1)); then
    echo "fuzz.sh: FUZZ_SECONDS must be a positive whole number of seconds (got '$FUZZ_SECONDS')" >&2
    exit 2
fi

# Every crash must reach libFuzzer at once (the Swift backtracer would hold it up), and ASan must report
# leaks and stop at the first error.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1:symbolize=1}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/skjold-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# lld (shipped with the Swift toolchain) links these; ld.gold stops with an internal error in its DWARF
# reader on some sanitizer-instrumented objects.
BUILD_FLAGS=(-c release --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
BIN_DIR=""

declare -A STATUS RUNS RATE SECS COV ARTIFACT
failed=0

for target in "${TARGETS[@]}"; do
    if [[ " ${ALL_TARGETS[*]} " != *" $target "* ]]; then
        echo "fuzz.sh: unknown target $target (have: ${ALL_TARGETS[*]})" >&2
        STATUS[$target]="unknown"; failed=1; continue
    fi
    echo "==> building $target"
    if ! SKJOLD_FUZZ=1 swift build "${BUILD_FLAGS[@]}" --product "$target" >"$WORK/$target.build.log" 2>&1; then
        tail -n 40 "$WORK/$target.build.log"
        STATUS[$target]="build failed"; failed=1; continue
    fi
    [[ -n "$BIN_DIR" ]] || BIN_DIR="$(SKJOLD_FUZZ=1 swift build "${BUILD_FLAGS[@]}" --show-bin-path)"
done

for target in "${TARGETS[@]}"; do
    [[ -z "${STATUS[$target]:-}" ]] || continue
    corpus="$WORK/corpus-$target"
    artifacts="$SCRATCH/artifacts/$target"
    mkdir -p "$corpus" "$artifacts"
    if [[ -d "$ROOT/Fuzz/Corpus/$target" ]]; then cp -R "$ROOT/Fuzz/Corpus/$target/." "$corpus/"; fi
    dict=()
    if [[ -f "$ROOT/Fuzz/Dictionaries/$target.dict" ]]; then dict=(-dict="$ROOT/Fuzz/Dictionaries/$target.dict"); fi
    log="$WORK/$target.log"
    echo "==> fuzzing $target for ${FUZZ_SECONDS}s"
    set +e
    # A hang inside the target is libFuzzer's -timeout; the outer timeout only guards against the driver
    # itself never returning.
    timeout --kill-after=30 $((FUZZ_SECONDS + 120)) "$BIN_DIR/$target" \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -detect_leaks=1 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" "$corpus" </dev/null >"$log" 2>&1
    rc=$?
    set -e
    RUNS[$target]="$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    RATE[$target]="$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    done_line="$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)"
    if [[ -n "$done_line" ]]; then
        read -r _ runs _ _ secs _ <<<"$done_line"
        RUNS[$target]="${RUNS[$target]:-$runs}"
        SECS[$target]="$secs"
        if [[ -z "${RATE[$target]}" && "$secs" -gt 0 ]]; then RATE[$target]=$((runs / secs)); fi
    fi
    COV[$target]="$(sed -n 's/^#[0-9]*[[:space:]]*DONE[[:space:]]*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)"
    ARTIFACT[$target]="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    if ((rc == 0)) && [[ -n "$done_line" ]]; then
        STATUS[$target]="ok"
    else
        failed=1
        if grep -q 'ERROR: LeakSanitizer' "$log"; then STATUS[$target]="LEAK"
        elif grep -qE 'ALARM: working on the last Unit|ERROR: libFuzzer: timeout' "$log"; then STATUS[$target]="TIMEOUT"
        elif grep -q 'out-of-memory' "$log"; then STATUS[$target]="OOM"
        elif ((rc == 124 || rc == 137)); then STATUS[$target]="HUNG"
        else STATUS[$target]="CRASH"
        fi
        echo "---- $target: ${STATUS[$target]} (exit $rc); end of its log:"
        grep -E 'Fatal error|fuzz invariant|ERROR:|SUMMARY:|Test unit written' "$log" | head -n 20 || true
        tail -n 60 "$log"
        echo "---- input: ${ARTIFACT[$target]:-(none written)}"
    fi
done

echo
printf '%-18s %-12s %10s %12s %8s %9s  %s\n' target result "exec/s" executions seconds coverage artifact
for target in "${TARGETS[@]}"; do
    printf '%-18s %-12s %10s %12s %8s %9s  %s\n' "$target" "${STATUS[$target]:-?}" "${RATE[$target]:--}" \
        "${RUNS[$target]:--}" "${SECS[$target]:--}" "${COV[$target]:--}" "${ARTIFACT[$target]:-}"
done
exit "$failed"

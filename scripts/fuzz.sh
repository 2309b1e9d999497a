#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser with libFuzzer (clang, ASan + UBSan), as many targets
# at a time as there are cores.
#   scripts/fuzz.sh [seconds-per-target]     default 120; CI runs 20 (.ci/run)
# A longer run finds more: before a release, or after changing a parser, run its target for an
# hour (build/fuzz/tests/fuzz/fuzz_NAME -max_total_time=3600 build/fuzz/corpus/NAME
# tests/fuzz/corpus/NAME). Crashes are written to build/fuzz/crashes/<target>/, new inputs grow
# build/fuzz/corpus/<target>/, and each run's output is build/fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
seconds="${1:-120}"

scripts/bootstrap.sh
step configure-fuzz "configure (fuzz)" cmake --preset fuzz
step build-fuzz "build (fuzz targets)" cmake --build --preset fuzz

# One line per target: its run count, or the crash and its log.
fuzz_target() {
    local target=$1 seconds=$2
    local work="build/fuzz/corpus/$target" crashes="build/fuzz/crashes/$target"
    local log="build/fuzz/logs/$target.log" status=0
    mkdir -p "$work" "$crashes" build/fuzz/logs
    "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then
        printf 'fuzz_%s: FAILED (exit status %s), inputs in %s; its log, less progress lines:\n' \
            "$target" "$status" "$crashes"
        grep -vE '^#[0-9]+' "$log" || true
        return 1
    fi
    printf 'fuzz_%s: %s\n' "$target" "$(grep -m1 '^Done ' "$log" || echo 'done')"
}
export -f fuzz_target

targets=()
for source in tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$source" .cpp)"
    targets+=("${name#fuzz_}")
done
echo "fuzzing ${#targets[@]} targets for ${seconds} s each, $(nproc) at a time"
started=$SECONDS
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'fuzz_target "$1" "$2"' _ {} "$seconds"
echo "fuzzing (${#targets[@]} targets) ... ok ($((SECONDS - started)) s)"

#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser with libFuzzer (clang, ASan + UBSan).
#   scripts/fuzz.sh [seconds-per-target]     default 60
# Crashes are written to build/fuzz/crashes/<target>/; new inputs grow build/fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

scripts/bootstrap.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

for source in tests/fuzz/fuzz_*.cpp; do
    name="$(basename "$source" .cpp)"
    target="${name#fuzz_}"
    work="build/fuzz/corpus/$target"
    crashes="build/fuzz/crashes/$target"
    mkdir -p "$work" "$crashes"
    echo "== $name for ${seconds}s"
    "build/fuzz/tests/fuzz/$name" -max_total_time="$seconds" -artifact_prefix="$crashes/" \
        -print_final_stats=1 "$work" "tests/fuzz/corpus/$target" 2>&1 |
        { grep -vE '^#[0-9]+' || true; } # progress lines; crashes and final stats remain
done

#!/usr/bin/env bash
# Sets up everything, builds Vigil and runs its tests.
#   scripts/test.sh          every test, dev preset (debug build)
#   scripts/test.sh asan     unit tests under AddressSanitizer + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"

scripts/bootstrap.sh
cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset" --output-on-failure

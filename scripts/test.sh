#!/usr/bin/env bash
# Sets up everything, builds Vigil and its packages, and runs every test.
#   scripts/test.sh          every test in a debug build under AddressSanitizer + UBSan (asan)
#   scripts/test.sh dev      every test in a plain debug build (faster to build, for gdb)
# The installer tests check the packages (scripts/package.sh), built from the release build.
# Set-up and build print one line each; their logs are in build/logs/ (printed on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
source scripts/lib/packages.sh
preset="${1:-asan}"

scripts/bootstrap.sh
step "configure-$preset" "configure ($preset)" cmake --preset "$preset"
step "build-$preset" "build ($preset)" cmake --build --preset "$preset"
build_packages
ctest --preset "$preset"

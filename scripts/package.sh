#!/usr/bin/env bash
# Builds the packages vigil, vigil-tray and vigil-verifier as .deb and .rpm (installer/) from
# the `package` preset, into build/package/packages/, and prints their names. Each step prints
# one line; its log is in build/logs/ (printed on failure). SOURCE_DATE_EPOCH, when set, is the
# time written in the packages (default: the last commit's).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
source scripts/lib/packages.sh

scripts/bootstrap.sh
build_packages
ls -1 "$packages"/*.deb "$packages"/*.rpm

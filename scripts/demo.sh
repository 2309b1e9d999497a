#!/usr/bin/env bash
# Sets up everything, builds Vigil and shows this machine's security posture.
# Extra arguments go to `vigilctl posture` (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vigilctl
echo
build/release/app/vigilctl posture "$@"

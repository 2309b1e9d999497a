#!/usr/bin/env bash
# lintian on every .deb: no error and no warning.
source "$(dirname "$0")/lib.sh"

debs=()
for name in vigil vigil-tray vigil-verifier; do
    deb=$(deb_of "$name")
    debs+=("$deb")
done
if ! lintian --fail-on error,warning --display-info "${debs[@]}"; then
    fail "lintian reports an error or a warning (above)"
fi
finish

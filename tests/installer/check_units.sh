#!/usr/bin/env bash
# vigild.service and vigil-verifier.service as the .debs install them: `systemd-analyze verify`
# passes (in a root holding the packages' files, so ExecStart's programs exist), and
# `systemd-analyze security --offline=true` rates each 3.0 or better.
source "$(dirname "$0")/lib.sh"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
max_exposure=3.0

vigil_deb=$(deb_of vigil)
verifier_deb=$(deb_of vigil-verifier)
dpkg-deb -x "$vigil_deb" "$root"
dpkg-deb -x "$verifier_deb" "$root"
# The targets the units name (multi-user.target, network-online.target, ...), from this system.
cp /usr/lib/systemd/system/*.target "$root/lib/systemd/system/"

for unit in vigild.service vigil-verifier.service; do
    if ! output=$(systemd-analyze verify --man=no --root="$root" "/lib/systemd/system/$unit" 2>&1) ||
        [ -n "$output" ]; then
        fail "systemd-analyze verify $unit: $output"
    fi
    report=$(systemd-analyze security --offline=true --no-pager "$root/lib/systemd/system/$unit" 2>&1) ||
        true
    exposure=$(sed -n "s/^→ Overall exposure level for $unit: \([0-9.]*\) .*/\1/p" <<<"$report")
    if [ -z "$exposure" ]; then
        fail "no exposure level for $unit in: $report"
    elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e > m) }'; then
        fail "$unit: exposure $exposure is above $max_exposure"
    else
        echo "$unit: exposure $exposure (at most $max_exposure)"
    fi
done
finish

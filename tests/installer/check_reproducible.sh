#!/usr/bin/env bash
# Two cpack runs on the same package build give the same bytes (SOURCE_DATE_EPOCH, gzip -n,
# rpm's reproducible-build switches). Takes the package build directory (build/package).
build_dir=${1:?usage: $0 PACKAGE_BUILD_DIR}
source "$(dirname "$0")/lib.sh" "$build_dir/packages"
[ -f "$build_dir/CPackConfig.cmake" ] ||
    { echo "FAIL: no package build in $build_dir: run scripts/package.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for run in first second; do
    cpack --config "$build_dir/CPackConfig.cmake" -G "DEB;RPM" -B "$work/$run" >"$work/$run.log" 2>&1 ||
        { cat "$work/$run.log" >&2; fail "cpack failed"; finish; }
done
for name in vigil vigil-tray vigil-verifier; do
    for file in "${name}_${package_version}_amd64.deb" "$name-$package_version.x86_64.rpm"; do
        if [ ! -f "$work/first/$file" ]; then
            fail "cpack made no $file"
        elif ! cmp "$work/first/$file" "$work/second/$file"; then
            fail "$file differs between two cpack runs"
        fi
    done
done
finish

#!/usr/bin/env bash
# Two cpack runs on the same package build give the same bytes (SOURCE_DATE_EPOCH, gzip -n,
# rpm's reproducible-build switches), although the second runs later, in another time zone and
# with newer generated files (the man pages'). Takes the package build directory (build/package).
build_dir=${1:?usage: $0 PACKAGE_BUILD_DIR}
source "$(dirname "$0")/lib.sh" "$build_dir/packages"
[ -f "$build_dir/CPackConfig.cmake" ] ||
    { echo "FAIL: no package build in $build_dir: run scripts/package.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

package() {
    cpack --config "$build_dir/CPackConfig.cmake" -G "DEB;RPM" -B "$work/$1" >"$work/$1.log" 2>&1 ||
        { cat "$work/$1.log" >&2; fail "cpack failed"; finish; }
}
package first
touch "$build_dir"/installer/compressed/*.gz
TZ=Pacific/Auckland package second
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

#!/usr/bin/env bash
# Builds the packages vigil, vigil-tray and vigil-verifier as .deb and .rpm (installer/) from
# the `package` preset, into build/package/packages/, and prints their names. Each step prints
# one line; its log is in build/logs/ (printed on failure).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
packages=build/package/packages
# The one time written in the packages and in the tray's Qt resources (rcc stamps each file
# with it): the last commit's unless given. The same commit then gives the same bytes.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
# The modes of the files cpack writes (the .deb's ar members, staged directories) follow the
# umask: fixed, as dpkg-buildpackage fixes it.
umask 0022

scripts/bootstrap.sh
step configure-package "configure (package)" cmake --preset package
step build-package "build (package)" cmake --build --preset package
rm -rf "$packages"
step cpack "packages (deb, rpm)" cpack --config build/package/CPackConfig.cmake -G "DEB;RPM"
# cpack leaves its staging trees beside the packages.
rm -rf "$packages/_CPack_Packages"
ls -1 "$packages"/*.deb "$packages"/*.rpm

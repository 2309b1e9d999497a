# Sourced by the installer tests. Each takes the directory scripts/package.sh fills
# (build/package/packages) and fails, saying how to make them, when a package is missing.
set -euo pipefail

packages_dir=${1:?usage: $0 PACKAGE_DIR}
version=${VIGIL_VERSION:?set VIGIL_VERSION to the project version}
package_version=$version-1
failures=0

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# deb_of NAME / rpm_of NAME: the package's file, or the test fails here.
deb_of() {
    local file="$packages_dir/${1}_${package_version}_amd64.deb"
    [ -f "$file" ] || { echo "FAIL: $file is missing: run scripts/package.sh" >&2; exit 1; }
    echo "$file"
}
rpm_of() {
    local file="$packages_dir/$1-$package_version.x86_64.rpm"
    [ -f "$file" ] || { echo "FAIL: $file is missing: run scripts/package.sh" >&2; exit 1; }
    echo "$file"
}

# The regular files and links of each package, format by format.
files_vigil_common="/usr/bin/vigilctl
/usr/lib/sysusers.d/vigil.conf
/usr/sbin/vigild
/usr/share/doc/vigil/copyright
/usr/share/man/man1/vigilctl.1.gz
/usr/share/man/man8/vigild.8.gz
/usr/share/vigil/vigild.json"
files_vigil_deb="$files_vigil_common
/lib/systemd/system/vigild.service
/usr/share/doc/vigil/changelog.Debian.gz
/usr/share/lintian/overrides/vigil"
files_vigil_rpm="$files_vigil_common
/usr/lib/systemd/system/vigild.service"
files_tray_common="/etc/xdg/autostart/vigil-tray.desktop
/usr/bin/vigil-tray
/usr/share/doc/vigil-tray/copyright
/usr/share/icons/hicolor/scalable/apps/vigil-tray.svg
/usr/share/man/man1/vigil-tray.1.gz"
files_tray_deb="$files_tray_common
/usr/share/doc/vigil-tray/changelog.Debian.gz
/usr/share/lintian/overrides/vigil-tray"
files_tray_rpm=$files_tray_common
files_verifier_common="/usr/bin/vigil-verifier
/usr/lib/sysusers.d/vigil-verifier.conf
/usr/share/doc/vigil-verifier/copyright
/usr/share/man/man8/vigil-verifier.8.gz"
files_verifier_deb="$files_verifier_common
/etc/default/vigil-verifier
/lib/systemd/system/vigil-verifier.service
/usr/share/doc/vigil-verifier/changelog.Debian.gz
/usr/share/lintian/overrides/vigil-verifier"
files_verifier_rpm="$files_verifier_common
/etc/sysconfig/vigil-verifier
/usr/lib/systemd/system/vigil-verifier.service"

# Libraries that only a desktop has: never in vigil's dependencies.
gui_libraries='libqt6gui|libqt6widgets|libqt6svg|libx11|libxcb|libgl|libegl|libqrencode|libfontconfig|libfreetype|Qt6Gui|Qt6Widgets|Qt6Svg|libX11|libxcb|libGL|libEGL|libqrencode'

# same_lines WHAT EXPECTED ACTUAL: the two sorted line sets are equal.
same_lines() {
    local what=$1 expected actual
    expected=$(sort <<<"$2")
    actual=$(sort <<<"$3")
    if [ "$expected" != "$actual" ]; then
        fail "$what differ (< expected, > actual):"
        diff <(echo "$expected") <(echo "$actual") >&2 || true
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures failure(s)" >&2
        exit 1
    fi
    echo "all checks passed"
}

#!/usr/bin/env bash
# The .rpms' files, owners, modes, requirements, %config files and scriptlets.
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for package in vigil:vigil vigil-tray:tray vigil-verifier:verifier; do
    name=${package%%:*}
    key=${package#*:}
    rpm=$(rpm_of "$name")
    rpm -qpl "$rpm" >/dev/null || fail "$name: rpm -qpl fails"
    listing=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$rpm")

    if owners=$(awk '$2 != "root:root"' <<<"$listing") && [ -n "$owners" ]; then
        fail "$name: files not owned by root:root: $owners"
    fi
    expected_name=files_${key}_rpm
    same_lines "$name's files" "${!expected_name}" "$(awk '$1 !~ /^d/ { print $3 }' <<<"$listing")"
    # Directories rpm owns: the package's own, never one the filesystem or systemd owns.
    same_lines "$name's directories" "$(case $key in
        vigil) printf '%s\n' /usr/share/doc/vigil /usr/share/vigil ;;
        tray) echo /usr/share/doc/vigil-tray ;;
        verifier) echo /usr/share/doc/vigil-verifier ;;
        esac)" "$(awk '$1 ~ /^d/ { print $3 }' <<<"$listing")"
    wrong_modes=$(awk '$1 ~ /^d/ && $1 != "drwxr-xr-x" ||
        $1 ~ /^-/ && $3 ~ /^\/usr\/s?bin\// && $1 != "-rwxr-xr-x" ||
        $1 ~ /^-/ && $3 !~ /^\/usr\/s?bin\// && $1 != "-rw-r--r--"' <<<"$listing")
    [ -z "$wrong_modes" ] || fail "$name: unexpected modes: $wrong_modes"
    [ "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$rpm")" = "$package_version" ] ||
        fail "$name: version is not $package_version"
    rpm -qp --scripts "$rpm" >"$work/$name.scripts"
done

requires=$(rpm -qpR "$(rpm_of vigil)")
if grep -qE "$gui_libraries" <<<"$requires"; then
    fail "vigil requires a GUI library: $requires"
fi
grep -q 'libQt6Core.so.6' <<<"$requires" || fail "vigil's Requires lack its libraries: $requires"
tray_requires=$(rpm -qpR "$(rpm_of vigil-tray)")
grep -qxF "vigil = $package_version" <<<"$tray_requires" ||
    fail "vigil-tray does not require vigil = $package_version: $tray_requires"
grep -q 'libQt6Widgets.so.6' <<<"$tray_requires" || fail "vigil-tray's Requires lack Qt Widgets"

same_lines "vigil-tray's %config files" /etc/xdg/autostart/vigil-tray.desktop \
    "$(rpm -qp --configfiles "$(rpm_of vigil-tray)")"
same_lines "vigil-verifier's %config files" /etc/sysconfig/vigil-verifier \
    "$(rpm -qp --configfiles "$(rpm_of vigil-verifier)")"
[ -z "$(rpm -qp --configfiles "$(rpm_of vigil)")" ] || fail "vigil has %config files"

# Scriptlets: install, removal and upgrade told apart by $1; systemd acted on only where it runs.
for name in vigil vigil-verifier; do
    scripts=$work/$name.scripts
    for phase in 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet'; do
        grep -q "^$phase" "$scripts" || fail "$name has no $phase"
    done
    for tag in POSTIN PREUN POSTUN; do
        rpm -qp --qf "%{$tag}" "$(rpm_of "$name")" | sh -n || fail "$name's $tag is not valid sh"
    done
    grep -q '"$1" -eq 1' "$scripts" || fail "$name's %post does not tell install from upgrade"
    grep -q '"$1" -eq 0' "$scripts" || fail "$name's %preun does not tell removal from upgrade"
    unguarded=$(awk -f "$here/guards.awk" "$scripts")
    [ -z "$unguarded" ] || fail "$name: systemd used without [ -d /run/systemd/system ]: $unguarded"
done
[ -z "$(rpm -qp --scripts "$(rpm_of vigil-tray)")" ] || fail "vigil-tray has scriptlets"
grep -q 'systemd-sysusers vigil.conf' "$work/vigil.scripts" || fail "vigil's %post makes no group"
grep -q 'enable vigild.service' "$work/vigil.scripts" || fail "vigil's %post does not enable vigild"
grep -q '/usr/share/vigil/site/vigild.json' "$work/vigil.scripts" ||
    fail "vigil's %post ignores a site package's configuration"
finish

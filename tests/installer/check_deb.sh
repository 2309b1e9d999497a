#!/usr/bin/env bash
# The .debs' files, owners, modes, control fields, conffiles and maintainer scripts.
source "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for package in vigil:vigil vigil-tray:tray vigil-verifier:verifier; do
    name=${package%%:*}
    key=${package#*:}
    deb=$(deb_of "$name")
    listing=$(dpkg-deb -c "$deb")

    if owners=$(awk '$2 != "root/root"' <<<"$listing") && [ -n "$owners" ]; then
        fail "$name: entries not owned by root/root: $owners"
    fi
    expected_name=files_${key}_deb
    same_lines "$name's files" "${!expected_name}" \
        "$(awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' <<<"$listing")"
    # Programs 0755, every other file 0644, directories 0755.
    wrong_modes=$(awk '{ path = $6; sub(/^\./, "", path) }
        $1 ~ /^d/ && $1 != "drwxr-xr-x" ||
        $1 ~ /^-/ && path ~ /^\/usr\/s?bin\// && $1 != "-rwxr-xr-x" ||
        $1 ~ /^-/ && path !~ /^\/usr\/s?bin\// && $1 != "-rw-r--r--"' <<<"$listing")
    [ -z "$wrong_modes" ] || fail "$name: unexpected modes: $wrong_modes"

    [ "$(dpkg-deb -f "$deb" Version)" = "$package_version" ] ||
        fail "$name: Version is $(dpkg-deb -f "$deb" Version), not $package_version"
    [ "$(dpkg-deb -f "$deb" Architecture)" = amd64 ] || fail "$name: Architecture is not amd64"
    for field in Maintainer Section Priority Description; do
        [ -n "$(dpkg-deb -f "$deb" "$field")" ] || fail "$name: no $field"
    done

    mkdir "$work/$name"
    dpkg-deb -e "$deb" "$work/$name"
    for script in postinst prerm postrm; do
        file=$work/$name/$script
        [ -f "$file" ] || continue
        [ "$(stat -c %a "$file")" = 755 ] || fail "$name: $script is not mode 0755"
        sh -n "$file" || fail "$name: $script is not valid sh"
    done
    unguarded=$(awk -f "$here/guards.awk" "$work/$name"/p* 2>/dev/null || true)
    [ -z "$unguarded" ] || fail "$name: systemd used without [ -d /run/systemd/system ]: $unguarded"
done

depends=$(dpkg-deb -f "$(deb_of vigil)" Depends)
if grep -qiE "$gui_libraries" <<<"$depends"; then
    fail "vigil depends on a GUI library: $depends"
fi
grep -q 'libqt6core6' <<<"$depends" || fail "vigil's Depends lack its libraries (shlibdeps): $depends"
tray_depends=$(dpkg-deb -f "$(deb_of vigil-tray)" Depends)
grep -qF "vigil (= $package_version)" <<<"$tray_depends" ||
    fail "vigil-tray does not depend on vigil (= $package_version): $tray_depends"
grep -q 'libqt6widgets6' <<<"$tray_depends" || fail "vigil-tray's Depends lack Qt Widgets"

# Maintainer scripts: vigil's and vigil-verifier's, none for the tray.
for script in postinst prerm postrm; do
    [ -f "$work/vigil/$script" ] || fail "vigil has no $script"
    [ -f "$work/vigil-verifier/$script" ] || fail "vigil-verifier has no $script"
    [ ! -f "$work/vigil-tray/$script" ] || fail "vigil-tray has a $script"
done
grep -q 'systemd-sysusers vigil.conf' "$work/vigil/postinst" || fail "vigil's postinst makes no group"
grep -q 'deb-systemd-helper enable .vigild.service' "$work/vigil/postinst" ||
    fail "vigil's postinst does not enable vigild.service"
grep -q '/usr/share/vigil/site/vigild.json' "$work/vigil/postinst" ||
    fail "vigil's postinst ignores a site package's configuration"
grep -q 'rm -rf /var/lib/vigil$' "$work/vigil/postrm" || fail "vigil's postrm never removes the state"
grep -q 'systemd-sysusers vigil-verifier.conf' "$work/vigil-verifier/postinst" ||
    fail "vigil-verifier's postinst makes no user"

# Conffiles: the autostart entry and the verifier's settings; never /etc/vigil/vigild.json.
same_lines "vigil-tray's conffiles" /etc/xdg/autostart/vigil-tray.desktop \
    "$(cat "$work/vigil-tray/conffiles" 2>/dev/null)"
same_lines "vigil-verifier's conffiles" /etc/default/vigil-verifier \
    "$(cat "$work/vigil-verifier/conffiles" 2>/dev/null)"
[ ! -e "$work/vigil/conffiles" ] || fail "vigil has conffiles: $(cat "$work/vigil/conffiles")"
finish

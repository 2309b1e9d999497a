#!/usr/bin/env bash
# installer.lifecycle: Vigil's .debs in a fresh Debian 12 root, as an administrator uses them.
#   lifecycle.sh PACKAGE_DIR VIGIL_VERIFIER
# 1. A site package made by `vigil-verifier deploy` installed beside `vigil` (postinst without
#    systemd), then `vigild` started by hand: it enrolls with a verifier on loopback and deletes
#    the token.
# 2. An upgrade keeps a locally changed /etc/vigil/vigild.json and the device's state; remove
#    keeps both; purge deletes both.
# 3. Files an administrator dropped before installing are kept, with no conffile prompt (apt -y
#    and Ansible have no one to answer it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/debianroot.sh"

packages=$(cd "$1" && pwd)
verifier=$2
root_require

work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-lifecycle.XXXXXX")
pids=()
token_id=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    root_unmount "$work/root"
    root_unmount "$work/preseeded"
    root_remove "$work/root" && root_remove "$work/preseeded" && rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
pass() { echo "ok: $*"; }

# expect_file ROOT PATH MODE OWNER:GROUP
expect_file() {
    local actual
    actual=$(stat -c '%a %U:%G' "$1$2" 2>/dev/null) || fail "$2 is missing"
    [ "$actual" = "$3 $4" ] || fail "$2 is $actual, expected $3 $4"
}
expect_absent() { [ ! -e "$1$2" ] || fail "$2 is still there"; }

one() {
    local found=("$packages"/$1)
    [ -f "${found[0]}" ] || fail "no $1 in $packages: run scripts/package.sh"
    echo "${found[0]}"
}
vigil_deb=$(one 'vigil_*_amd64.deb')
version=$(dpkg-deb -f "$vigil_deb" Version)

# An upgrade needs a newer version of the same package: the one built, renumbered.
dpkg-deb -R "$vigil_deb" "$work/upgrade"
sed -i "s/^Version: .*/Version: $version+upgrade1/" "$work/upgrade/DEBIAN/control"
dpkg-deb --root-owner-group -b "$work/upgrade" "$work/vigil-upgrade.deb" >/dev/null

# The verifier, on loopback; the root shares this machine's network. The chroot has no TPM, so
# vigild enrolls with a software key, which this policy accepts.
"$verifier" init --data "$work/verifier" --name 127.0.0.1 >"$work/init.out"
cat >"$work/verifier/policy.json" <<'EOF'
{"version": 1, "accepted_assurance": ["tpm", "software"], "os": {"other_distributions": "allow"},
 "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                 "allow_reboot_required": true},
 "disk_encryption": {"required": false}, "firewall": {"required": false},
 "screen_lock": {"required": false}, "secure_boot": {"required": false}}
EOF
"$verifier" serve --data "$work/verifier" --listen 127.0.0.1:0 >"$work/verifier.out" \
    2>"$work/verifier.log" &
pids+=($!)
for _ in $(seq 100); do
    grep -q '^vigil-verifier: serving ' "$work/verifier.out" && break
    sleep 0.1
done
url=$(sed -n 's/^vigil-verifier: serving \(https:[^ ]*\) on .*/\1/p' "$work/verifier.out")
[ -n "$url" ] || fail "vigil-verifier did not start: $(cat "$work/verifier.log")"

# Two versions of the site package, each with a token of its own: a rollout re-issued.
for v in 1 2; do
    "$verifier" deploy --data "$work/verifier" --site acme --server-url "$url" --uses 5 \
        --ttl 1h --format deb --package-version "$v" --out "$work/site$v" >"$work/deploy.out" ||
        fail "vigil-verifier deploy: $(cat "$work/deploy.out")"
    token_id[$v]=$(grep -o 'enrollment token et_[0-9a-f]*' "$work/deploy.out" | cut -d' ' -f3)
done
site_deb=$work/site1/vigil-site-acme_1_all.deb
site2_deb=$work/site2/vigil-site-acme_2_all.deb

# 1. Install vigil and the site package together, as `apt install ./vigil_*.deb
#    ./vigil-site-acme_*.deb` does, in a root where systemd does not run.
root=$work/root
root_create "$root" "$vigil_deb"
cp "$vigil_deb" "$site_deb" "$site2_deb" "$work/vigil-upgrade.deb" "$root/tmp/"
in_root "$root" dpkg -i "/tmp/$(basename "$vigil_deb")" "/tmp/$(basename "$site_deb")" \
    </dev/null >"$work/install.log" 2>&1 || fail "dpkg -i failed: $(cat "$work/install.log")"
pass "vigil and vigil-site-acme install without systemd"

expect_file "$root" /usr/sbin/vigild 755 root:root
expect_file "$root" /usr/bin/vigilctl 755 root:root
expect_file "$root" /lib/systemd/system/vigild.service 644 root:root
expect_file "$root" /usr/lib/sysusers.d/vigil.conf 644 root:root
expect_file "$root" /etc/vigil/vigild.json 644 root:root
expect_file "$root" /etc/vigil/enroll.token 600 root:root
expect_file "$root" /usr/share/vigil/site/enroll.token 600 root:root
gid=$(in_root "$root" getent group vigil | cut -d: -f3) || fail "no group vigil"
[ "$gid" -lt 1000 ] || fail "group vigil is not a system group (gid $gid)"
cmp -s "$root/etc/vigil/vigild.json" "$root/usr/share/vigil/site/vigild.json" ||
    fail "/etc/vigil/vigild.json is not the site's: $(cat "$root/etc/vigil/vigild.json")"
[ -L "$root/etc/systemd/system/multi-user.target.wants/vigild.service" ] ||
    fail "vigild.service is not enabled"
pass "files, modes, the group, the site's configuration and token, the unit enabled"

# The site package re-issued before this machine enrolled: its token replaces the first one's,
# which nobody changed (it may have expired).
in_root "$root" dpkg -i /tmp/vigil-site-acme_2_all.deb </dev/null >"$work/site2.log" 2>&1 ||
    fail "the second site package failed: $(cat "$work/site2.log")"
cmp -s "$root/etc/vigil/enroll.token" "$work/site2/enroll.token" ||
    fail "the second site package did not replace the first one's unused token"
expect_file "$root" /etc/vigil/enroll.token 600 root:root
cmp -s "$root/etc/vigil/vigild.json" "$root/usr/share/vigil/site/vigild.json" ||
    fail "/etc/vigil/vigild.json is not the second site package's"
pass "a re-issued site package replaces the first one's token and configuration"

# vigild started by hand, as on a machine whose init is not systemd.
root_mount "$root"
mkdir -p "$root/run/vigil"
# Not through in_root: $! must be vigild itself for the kill below to reach it.
env -i PATH=/usr/sbin:/usr/bin LANG=C.UTF-8 chroot "$root" /usr/sbin/vigild \
    >"$work/vigild.log" 2>&1 &
pids+=($!)
for _ in $(seq 300); do
    [ -e "$root/etc/vigil/enroll.token" ] || break
    kill -0 "${pids[-1]}" 2>/dev/null || fail "vigild exited: $(cat "$work/vigild.log")"
    sleep 0.1
done
expect_absent "$root" /etc/vigil/enroll.token
expect_file "$root" /var/lib/vigil/enrollment.json 600 root:root
# Then its first report: `vigilctl status` exits 0 once the verifier found it compliant.
for _ in $(seq 300); do
    in_root "$root" vigilctl status --json >"$work/status.json" && break
    sleep 0.2
done
in_root "$root" vigilctl status --json >"$work/status.json" ||
    fail "not compliant after its first report: $(cat "$work/status.json")"
grep -q "\"server_url\": *\"$url\"" "$root/var/lib/vigil/enrollment.json" ||
    fail "enrolled with another verifier: $(cat "$root/var/lib/vigil/enrollment.json")"
device_id=$(grep -o '"device_id": *"[^"]*"' "$root/var/lib/vigil/enrollment.json" | cut -d'"' -f4)
[ -n "$device_id" ] || fail "no device_id in $(cat "$root/var/lib/vigil/enrollment.json")"
"$verifier" devices list --data "$work/verifier" | grep -q "^$device_id " ||
    fail "the verifier does not list the device $device_id"
"$verifier" token list --data "$work/verifier" >"$work/tokens"
grep -Eq "^${token_id[2]} +[a-z]+ +1/5 " "$work/tokens" &&
    grep -Eq "^${token_id[1]} +[a-z]+ +0/5 " "$work/tokens" ||
    fail "not the second site package's token was used: $(cat "$work/tokens")"
kill -TERM "${pids[-1]}"
wait "${pids[-1]}" || fail "vigild did not stop cleanly: $(cat "$work/vigild.log")"
unset 'pids[-1]'
root_unmount "$root"
pass "vigild enrolled with the site's verifier, deleted the token and reported"

# On an enrolled machine the site package leaves no token behind.
in_root "$root" dpkg -i /tmp/vigil-site-acme_2_all.deb </dev/null >"$work/site2-again.log" 2>&1 ||
    fail "reinstalling the site package failed: $(cat "$work/site2-again.log")"
expect_absent "$root" /etc/vigil/enroll.token
grep -q 'enrolled already' "$work/site2-again.log" ||
    fail "the site package did not say why it left the token out: $(cat "$work/site2-again.log")"
pass "the site package puts no token on an enrolled machine"

# 2. Upgrade with a local change, then remove, then purge.
sed -i 's/"log_level": *"info"/"log_level": "debug"/' "$root/etc/vigil/vigild.json"
grep -q '"debug"' "$root/etc/vigil/vigild.json" || fail "could not make the local change"
config_sum=$(sha256sum <"$root/etc/vigil/vigild.json")
state_sum=$(sha256sum <"$root/var/lib/vigil/enrollment.json")
in_root "$root" dpkg -i /tmp/vigil-upgrade.deb </dev/null >"$work/upgrade.log" 2>&1 ||
    fail "upgrade failed: $(cat "$work/upgrade.log")"
[ "$(in_root "$root" dpkg-query -W -f '${Version}' vigil)" = "$version+upgrade1" ] ||
    fail "the upgrade did not happen"
[ "$(sha256sum <"$root/etc/vigil/vigild.json")" = "$config_sum" ] ||
    fail "the upgrade changed the locally changed /etc/vigil/vigild.json"
[ "$(sha256sum <"$root/var/lib/vigil/enrollment.json")" = "$state_sum" ] ||
    fail "the upgrade changed the device's state"
pass "an upgrade keeps the local configuration change and the device identity"

in_root "$root" dpkg -r vigil-site-acme vigil </dev/null >"$work/remove.log" 2>&1 ||
    fail "dpkg -r failed: $(cat "$work/remove.log")"
expect_absent "$root" /usr/sbin/vigild
expect_absent "$root" /lib/systemd/system/vigild.service
expect_file "$root" /var/lib/vigil/enrollment.json 600 root:root
[ "$(sha256sum <"$root/etc/vigil/vigild.json")" = "$config_sum" ] ||
    fail "remove changed /etc/vigil/vigild.json"
pass "remove keeps the configuration and the device identity"

in_root "$root" dpkg -P vigil </dev/null >"$work/purge.log" 2>&1 ||
    fail "dpkg -P failed: $(cat "$work/purge.log")"
expect_absent "$root" /var/lib/vigil
expect_absent "$root" /etc/vigil/vigild.json
expect_absent "$root" /etc/systemd/system/multi-user.target.wants/vigild.service
pass "purge deletes the configuration and the device identity"

# Installed again, one at a time: vigil's default configuration first, which the site package
# then replaces; a token left waiting goes with a purge, since without vigil it is only a secret.
in_root "$root" dpkg -i "/tmp/$(basename "$vigil_deb")" </dev/null >"$work/again.log" 2>&1 ||
    fail "installing vigil again failed: $(cat "$work/again.log")"
cmp -s "$root/etc/vigil/vigild.json" "$root/usr/share/vigil/vigild.json" ||
    fail "vigil alone did not install its default configuration"
in_root "$root" dpkg -i /tmp/vigil-site-acme_2_all.deb </dev/null >>"$work/again.log" 2>&1 ||
    fail "the site package over vigil's default failed: $(cat "$work/again.log")"
cmp -s "$root/etc/vigil/vigild.json" "$root/usr/share/vigil/site/vigild.json" ||
    fail "the site package did not replace vigil's untouched default configuration"
expect_file "$root" /etc/vigil/enroll.token 600 root:root
in_root "$root" dpkg -P vigil-site-acme vigil </dev/null >>"$work/again.log" 2>&1 ||
    fail "dpkg -P failed: $(cat "$work/again.log")"
expect_absent "$root" /etc/vigil/enroll.token
expect_absent "$root" /var/lib/vigil-site
pass "the site package replaces vigil's default; purge takes a waiting token"

# 3. Pre-seeded before installing: the administrator's files stay as they are.
pre=$work/preseeded
root_create "$pre" "$vigil_deb"
cp "$vigil_deb" "$site_deb" "$pre/tmp/"
mkdir -p "$pre/etc/vigil"
printf '{"server_url": "https://verifier.example.com", "log_level": "warning"}\n' \
    >"$pre/etc/vigil/vigild.json"
printf 'vet1.admin-token\n' >"$pre/etc/vigil/enroll.token"
chmod 600 "$pre/etc/vigil/enroll.token"
config_sum=$(sha256sum <"$pre/etc/vigil/vigild.json")
in_root "$pre" dpkg -i "/tmp/$(basename "$vigil_deb")" </dev/null >"$work/preseed.log" 2>&1 ||
    fail "dpkg -i over pre-seeded files failed: $(cat "$work/preseed.log")"
in_root "$pre" dpkg -i "/tmp/$(basename "$site_deb")" </dev/null >>"$work/preseed.log" 2>&1 ||
    fail "the site package over pre-seeded files failed: $(cat "$work/preseed.log")"
[ "$(sha256sum <"$pre/etc/vigil/vigild.json")" = "$config_sum" ] ||
    fail "installing replaced the administrator's /etc/vigil/vigild.json"
[ "$(cat "$pre/etc/vigil/enroll.token")" = "vet1.admin-token" ] ||
    fail "installing replaced the administrator's enrollment token"
grep -q '/etc/vigil/vigild.json' "$work/preseed.log" ||
    fail "the site package did not say it kept the administrator's file: $(cat "$work/preseed.log")"
pass "files dropped before installing are kept, with no prompt"

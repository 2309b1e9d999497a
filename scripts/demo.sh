#!/usr/bin/env bash
# Sets up everything, builds Vigil and shows its main job as it runs on a workstation, in a
# temporary directory that it removes at the end:
#   1. a software TPM (swtpm) with an EK certificate from a local CA, and a vigil-verifier on
#      loopback that trusts that CA, under a lenient demo policy;
#   2. vigild started as a service would be, with an enrollment token file left as an installer
#      would: it enrolls by itself (EK certificate, AK, certified device key, credential
#      activation), deletes the token file, reports (posture, TPM quote, signed EAT) and fetches
#      an access token; `vigilctl status` and `vigilctl posture` show what it holds;
#   3. a protected call: an access token and a DPoP proof from vigild, sent with curl to the
#      verifier's demo resource;
#   4. the tray, vigil-tray, on a desktop of its own (Xvfb, the trayer panel, the dunst
#      notification daemon: what the UI tests use), with screenshots of its icon, menu and
#      details window saved in build/demo-screenshots/;
#   5. the policy tightens: vigild's next report is non-compliant, the status says what to fix,
#      the token is withheld with the reason, and the tray turns red and says what to fix.
# Everything it starts is stopped at the end, on an error and on Ctrl-C; vigild needs no root,
# since its state directory and socket are in the temporary directory too. The machine's own
# TPM, if any, is not touched. Extra arguments go to `vigilctl posture` (e.g. --json).
# Set-up and build print one line each (logs in build/logs/); the rest is the demo itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh
source scripts/lib/stack.sh

scripts/bootstrap.sh
step configure-release "configure (release)" cmake --preset release
step build-release "build (vigild, vigilctl, vigil-verifier, vigil-tray)" \
    cmake --build --preset release --target vigild vigilctl vigil-verifier vigil-tray tray_demo
vigild=$PWD/build/release/app/vigild
vigilctl=$PWD/build/release/app/vigilctl
verifier=$PWD/build/release/server/vigil-verifier
vigil_tray=$PWD/build/release/ui/vigil-tray
tray_demo=$PWD/build/release/tests/tray_demo
screenshots=$PWD/build/demo-screenshots

stack_init
cd "$work"

# `vigilctl ARGS`, printed as typed, and what its exit status means.
ctl() {
    local status=0
    echo
    echo "\$ vigilctl $*"
    "$vigilctl" "$@" 2>&1 || status=$?
    case $status in
    0) ;;
    3) echo "(exit status 3: non-compliant)" ;;
    *) echo "(exit status $status)" ;;
    esac
    return 0
}

echo
echo "== A verifier and a software TPM =="
stack_start_swtpm
echo "swtpm: a freshly manufactured software TPM on $tcti, its EK certificate from a local CA"
echo "(it stands in for this machine's TPM, whose keys the demo leaves alone)"
stack_start_verifier
echo "vigil-verifier: serving $url, trusting that CA as a TPM manufacturer's"
echo "  (log: $work/verifier.log; policy: the lenient demo policy, the OS rule only)"

echo
echo "== vigild enrolls by itself =="
stack_start_vigild
echo "vigild.json ($work/etc/vigild.json):"
sed 's/^/  /' "$work/etc/vigild.json"
echo "Enrollment token left in $work/etc/enroll.token (mode $(stat -c %a "$work/etc/enroll.token"), as an installer would)"
echo "vigild started (pid $vigild_pid; its log: $work/vigild.log); waiting until it is compliant ..."
stack_wait_state compliant 60
if [ -e "$work/etc/enroll.token" ]; then
    echo "the enrollment token file is still there" >&2
    exit 1
fi
echo "Enrolled; vigild deleted the token file, which is of no use to anyone now."
ctl status
echo
echo "(The posture is this machine's own: its TPM check looks for a TPM here, not for the swtpm.)"
ctl posture "$@"

echo
echo "== A protected call: an access token and a DPoP proof from vigild =="
# Files of mode 600 carry the token: on a command line every user's process list shows it.
umask 077
echo
echo "\$ vigilctl token >access-token"
"$vigilctl" token >access-token
echo "(an RFC 9068 JWT of $(wc -c <access-token | tr -d ' ') characters, bound to the device key)"
echo
echo "\$ vigilctl dpop --method GET --url $url/v1/whoami --access-token-file access-token"
"$vigilctl" dpop --method GET --url "$url/v1/whoami" --access-token-file access-token >dpop-proof
echo "$(head -c 40 dpop-proof)… (a proof for this one request, signed by the device key in the TPM)"
printf 'Authorization: DPoP %s\nDPoP: %s\n' "$(cat access-token)" "$(cat dpop-proof)" >headers
echo
echo "\$ curl --cacert ca.pem -H 'Authorization: DPoP <token>' -H 'DPoP: <proof>' $url/v1/whoami"
curl -sS --fail-with-body --cacert "$data/ca.pem" -H @headers "$url/v1/whoami" | python3 -m json.tool

echo
echo "== The tray: what the person at the desk sees =="
rm -rf "$screenshots"
"$tray_demo" "$vigil_tray" "$socket" "$screenshots" >"$work/tray-demo.out" 2>"$work/tray-demo.err" &
tray_demo_pid=$!
stack_pids+=("$tray_demo_pid")
# tray_screenshots WHEN WHAT: waits (bounded) until tray_demo printed its WHEN line, and lists
# its screenshots; if it ends first, says that WHAT did not happen, with tray_demo's reasons.
tray_screenshots() {
    for _ in $(seq 600); do
        grep -q "^$1:" "$work/tray-demo.out" && break
        kill -0 "$tray_demo_pid" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q "^$1:" "$work/tray-demo.out"; then
        echo "$2:" >&2
        cat "$work/tray-demo.err" "$screenshots/vigil-tray.log" >&2 2>/dev/null || true
        exit 1
    fi
    for file in $(sed -n "s/^$1: *//p" "$work/tray-demo.out"); do echo "  $file"; done
}
echo "vigil-tray runs on a private desktop (Xvfb, trayer, dunst) and shows a green shield; its"
echo "menu and details window were opened as a person would. Screenshots:"
tray_screenshots before "The tray's desktop did not come up"

echo
echo "== The policy tightens: the device is no longer compliant =="
# The organisation now requires the next release of this machine's distribution (or, on a
# distribution the policy does not know, denies it).
python3 - "$data/policy.json" >stricter-policy.json <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    policy = json.load(f)
release = {}
with open("/etc/os-release") as f:
    for line in f:
        key, _, value = line.strip().partition("=")
        release[key] = value.strip('"')
known = {"debian", "ubuntu", "fedora", "rhel"}
distro, version = release.get("ID", ""), release.get("VERSION_ID", "")
if distro in known and version.split(".")[0].isdigit():
    policy["os"]["min_version"] = {distro: str(int(version.split(".")[0]) + 1)}
else:
    policy["os"]["other_distributions"] = "deny"
json.dump(policy, sys.stdout, indent=2)
EOF
echo "The verifier's policy now says:"
python3 -c 'import json, sys; print("  \"os\": " + json.dumps(json.load(open(sys.argv[1]))["os"]))' stricter-policy.json
stack_set_policy stricter-policy.json
echo "(vigil-verifier reloaded it; vigild reports on its schedule and on events, or now:)"
ctl report
ctl token
echo
echo "The tray turned red and lists what to fix; screenshots:"
tray_screenshots after "The tray did not show the change"

echo
echo "== Done =="
echo "Stopping vigild, vigil-verifier and swtpm, and removing $work."

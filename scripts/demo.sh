#!/usr/bin/env bash
# Sets up everything, builds Vigil and shows what it proves about this machine:
#   1. its security posture (extra arguments go to `vigilctl posture`, e.g. --json);
#   2. TPM attestation: the TPM, a quote over the boot PCRs answering a fresh nonce, checked
#      by tpm2-tools' independent tpm2_checkquote. Without a TPM here the demo manufactures a
#      software TPM (swtpm) for the purpose and says so;
#   3. Vigil's main job end to end against the real vigil-verifier on loopback: enrollment
#      (EK certificate, AK, certified device key, credential activation), a signed posture report
#      with a TPM quote appraised under the default policy and then a lenient one, a DPoP-bound
#      access token and the verifier's whoami resource.
# Nothing is written outside a temporary directory (the device's real keys are not touched).
# Set-up and build print one line each (logs in build/logs/); the rest is the demo itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh

scripts/bootstrap.sh
step configure-release "configure (release)" cmake --preset release
step build-release "build (vigilctl, vigil-verifier)" \
    cmake --build --preset release --target vigilctl vigil-verifier
vigilctl=$PWD/build/release/app/vigilctl
verifier=$PWD/build/release/server/vigil-verifier
echo
"$vigilctl" posture "$@"

work=$(mktemp -d)
swtpm_pid=
verifier_pid=
cleanup() {
    # Stopped and waited for before its data directory goes.
    [ -n "$verifier_pid" ] && { kill "$verifier_pid" 2>/dev/null; wait "$verifier_pid" 2>/dev/null; } || true
    [ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo
echo "== TPM attestation =="
if [ -e /dev/tpmrm0 ]; then
    tcti=auto
else
    echo "(no /dev/tpmrm0 on this machine: using a freshly manufactured software TPM, swtpm,"
    echo " with an EK certificate from a throw-away local CA)"
    mkdir -p "$work/swtpm" "$work/ca"
    printf 'statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\ncertserial = %s/certserial\n' \
        "$work/ca" "$work/ca" "$work/ca" "$work/ca" >"$work/localca.conf"
    printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n' \
        "$work/localca.conf" >"$work/setup.conf"
    swtpm_setup --tpm2 --tpmstate "$work/swtpm" --create-ek-cert --create-platform-cert \
        --config "$work/setup.conf" --overwrite >"$work/setup.log" 2>&1 ||
        { cat "$work/setup.log" >&2; exit 1; }
    port=$(( 20000 + RANDOM % 20000 ))
    swtpm socket --tpm2 --tpmstate dir="$work/swtpm" --flags not-need-init,startup-clear \
        --server type=tcp,bindaddr=127.0.0.1,port=$port \
        --ctrl type=tcp,bindaddr=127.0.0.1,port=$((port + 1)) &
    swtpm_pid=$!
    tcti="swtpm:host=127.0.0.1,port=$port"
    for _ in $(seq 50); do
        (exec 3<>/dev/tcp/127.0.0.1/$((port + 1))) 2>/dev/null && break
        sleep 0.1
    done
fi

"$vigilctl" tpm info --tcti "$tcti"
nonce=$(openssl rand -hex 32)
echo
echo "Quote over PCRs 0,1,2,3,4,5,6,7 for nonce $nonce:"
"$vigilctl" tpm quote --tcti "$tcti" --state-dir "$work/state" --nonce "$nonce" \
    --pcrs 0-7 --out "$work/quote"
cd "$work/quote"
if TPM2TOOLS_TCTI=none tpm2_checkquote -u ak.pub -m quote.msg -s quote.sig -f quote.pcrs \
    -g sha256 -q "$nonce" >/dev/null; then
    echo "tpm2_checkquote (tpm2-tools, an independent implementation): quote verified"
else
    echo "tpm2_checkquote rejected the quote" >&2
    exit 1
fi

echo
echo "== Verifier: enrollment, appraisal, access tokens =="
cd "$work"
data=$work/verifier
device=$work/device
"$verifier" init --data "$data" --name 127.0.0.1 | tee "$work/init.out"
fingerprint=$(sed -n 's/^CA fingerprint (agents pin this): //p' "$work/init.out")

if [ "$tcti" = auto ]; then
    # This throw-away verifier trusts no TPM manufacturer: it cannot check this TPM's EK
    # certificate. The device enrolls with a software key instead, which the policy must allow.
    device_tcti=none
    echo "(this machine's TPM comes from a manufacturer whose CA this throw-away verifier does not"
    echo " know, so the device enrolls with a software key, under a policy that accepts software"
    echo " keys; a real deployment puts the vendor's CA in ek-cas/)"
    python3 - "$data/policy.json" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    policy = json.load(f)
policy['accepted_assurance'] = ['tpm', 'software']
with open(sys.argv[1], 'w') as f:
    json.dump(policy, f, indent=2)
EOF
else
    device_tcti=$tcti
    cp "$work/ca/issuercert.pem" "$work/ca/swtpm-localca-rootca-cert.pem" "$data/ek-cas/"
    echo "Trusting the throw-away swtpm's EK CA: copied its certificates into $data/ek-cas/"
fi

"$verifier" serve --data "$data" --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.log" &
verifier_pid=$!
for _ in $(seq 100); do
    grep -q '^vigil-verifier: serving ' "$work/serve.out" && break
    sleep 0.1
done
url=$(sed -n 's/^vigil-verifier: serving \(https:[^ ]*\) on .*/\1/p' "$work/serve.out")
[ -n "$url" ] || { echo "vigil-verifier did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "vigil-verifier serving $url (log: $work/serve.log)"

# The token goes through a file of mode 600, as a fleet installer would seed it, not the
# command line, where every user's process list shows it.
(umask 077 && "$verifier" token create --data "$data" --label demo | head -n 1 >"$work/token")
echo
echo "\$ vigilctl enroll --server $url --ca-file $data/ca.pem --ca-fingerprint $fingerprint --token-file $work/token --tcti $device_tcti"
"$vigilctl" enroll --server "$url" --ca-file "$data/ca.pem" --ca-fingerprint "$fingerprint" \
    --token-file "$work/token" --tcti "$device_tcti" --state-dir "$device"

report() {
    local status=0
    "$vigilctl" report --tcti "$device_tcti" --state-dir "$device" || status=$?
    case $status in
    0) echo "(exit status 0: compliant)" ;;
    3) echo "(exit status 3: non-compliant)" ;;
    *) exit "$status" ;;
    esac
}

echo
echo "\$ vigilctl report        # under the verifier's default policy"
report
echo "A machine that fails checks above is not a broken demo: that is Vigil doing its job. The"
echo "verifier applies the organisation's thresholds to the evidence and says what to fix;"
echo "until then it issues no access token:"
echo "\$ vigilctl token"
"$vigilctl" token --tcti "$device_tcti" --state-dir "$device" || true

echo
echo "A lenient demo policy (the OS rule only; every other rule off):"
cat >"$work/demo-policy.json" <<'EOF'
{
  "version": 1,
  "accepted_assurance": ["tpm", "software"],
  "os": {"other_distributions": "allow"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false},
  "firewall": {"required": false},
  "screen_lock": {"required": false},
  "secure_boot": {"required": false}
}
EOF
cat "$work/demo-policy.json"
"$verifier" policy check "$work/demo-policy.json"
# Replaced atomically (a rename in the same directory): the verifier's inotify watch reloads it
# at once and logs "policy reloaded"; waiting for that line lets the next report meet the new
# policy without a guessed sleep.
reloads=$(grep -c 'policy reloaded' "$work/serve.log" || true)
cp "$work/demo-policy.json" "$data/policy.json.new"
mv "$data/policy.json.new" "$data/policy.json"
for _ in $(seq 50); do
    [ "$(grep -c 'policy reloaded' "$work/serve.log" || true)" -gt "$reloads" ] && break
    sleep 0.1
done
[ "$(grep -c 'policy reloaded' "$work/serve.log" || true)" -gt "$reloads" ] ||
    { echo "the verifier did not reload its policy:" >&2; cat "$work/serve.log" >&2; exit 1; }

echo
echo "\$ vigilctl report        # under the lenient demo policy"
report

echo
echo "\$ vigilctl token"
access_token=$("$vigilctl" token --tcti "$device_tcti" --state-dir "$device")
echo "${access_token:0:20}… (${#access_token} characters: an RFC 9068 JWT bound to the device key)"
printf '%s' "$access_token" | python3 -c '
import base64, json, sys
header, claims, _ = sys.stdin.read().split(".")
decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
print("header:", json.dumps(decode(header)))
print("claims:", json.dumps(decode(claims), indent=2))'

echo
echo "\$ vigilctl whoami        # the token and a DPoP proof at the verifier's demo resource"
"$vigilctl" whoami --tcti "$device_tcti" --state-dir "$device"

echo
echo "\$ vigil-verifier devices list"
"$verifier" devices list --data "$data"

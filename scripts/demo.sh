#!/usr/bin/env bash
# Sets up everything, builds Vigil and shows what it proves about this machine:
#   1. its security posture (extra arguments go to `vigilctl posture`, e.g. --json);
#   2. TPM attestation: the TPM, a quote over the boot PCRs answering a fresh nonce, checked
#      by tpm2-tools' independent tpm2_checkquote. Without a TPM here the demo manufactures a
#      software TPM (swtpm) for the purpose and says so.
# Nothing is written outside a temporary directory (the device's real keys are not touched).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vigilctl
vigilctl=$PWD/build/release/app/vigilctl
echo
"$vigilctl" posture "$@"

work=$(mktemp -d)
swtpm_pid=
cleanup() {
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

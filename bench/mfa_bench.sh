#!/usr/bin/env bash
# PIN to user token on a swtpm (docs/mfa.md), as a person's sign-in costs it: vigild on swtpm,
# the verifier on loopback, one Vigil user enrolled with a TPM key. Each sample is a `sign_in`
# with the PIN over vigild's socket (user key signs the user proof in a salted session, the
# verifier checks it and the device's DPoP proof, makes a session and a user token), then a
# `user_token` (vigild hands over the token it holds). Figures: docs/performance.md, "Sign-in".
#
#   cmake --preset release && cmake --build --preset release --target vigild vigilctl vigil-verifier
#   bench/mfa_bench.sh [samples]                     # default 30
#
# BUILD=DIR picks another build directory (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/stack.sh

samples=${1:-30}
build=$(realpath "${BUILD:-build/release}")
vigild=$build/app/vigild
vigilctl=$build/app/vigilctl
verifier=$build/server/vigil-verifier
for b in "$vigild" "$vigilctl" "$verifier"; do
    [ -x "$b" ] || { echo "no $b: build vigild, vigilctl and vigil-verifier first" >&2; exit 1; }
done

stack_init
stack_start_swtpm
# Sign-ins are rate limited per device like everything else; the bench asks back to back.
stack_start_verifier --device-rate 100000 --device-burst 100000
stack_start_vigild
stack_wait_state compliant 120
"$verifier" users add --data "$data" bench >/dev/null
invite=$("$verifier" users invite --data "$data" --json bench |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)"
echo "openssl speed -seconds 1 ecdsap256: $(openssl speed -seconds 1 ecdsap256 2>/dev/null |
    awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1) " sign/s, " $NF " verify/s"}')"

python3 - "$socket" "$samples" "$invite" <<'EOF'
import json, socket, statistics, sys, time

sock, samples, invite = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pin = "271828"

def ipc(method, params=None):
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(json.dumps({"v": 1, "id": 1, "method": method,
                              "params": params or {}}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("vigild closed the connection")
            data += chunk
    answer = json.loads(data)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]

start = time.perf_counter()
ipc("mfa_enroll", {"invite_code": invite, "pin": pin})
print(f"enrollment (TPM key, AK certify, verifier): {1000 * (time.perf_counter() - start):.0f} ms")

sign_in, token = [], []
for _ in range(samples):
    ipc("sign_out")
    start = time.perf_counter()
    ipc("sign_in", {"pin": pin})
    middle = time.perf_counter()
    ipc("user_token")
    end = time.perf_counter()
    sign_in.append(1000 * (middle - start))
    token.append(1000 * (end - middle))

for name, values in (("PIN -> signed in (sign_in)", sign_in),
                     ("then user_token", token),
                     ("PIN -> user token", [a + b for a, b in zip(sign_in, token)])):
    print(f"{name}: median {statistics.median(values):.1f} ms, "
          f"p10 {percentile(values, 10):.1f}, p90 {percentile(values, 90):.1f} ({samples} samples)")
EOF

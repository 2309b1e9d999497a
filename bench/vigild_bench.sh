#!/usr/bin/env bash
# vigild on a swtpm, as scripts/demo.sh runs it (scripts/lib/stack.sh): the report cycle's
# latency, resident memory idle and across many report cycles, and wake-ups while idle.
# Figures and targets: docs/performance.md, section "vigild".
#
#   cmake --preset release && cmake --build --preset release --target vigild vigilctl vigil-verifier
#   bench/vigild_bench.sh [samples] [cycles] [idle-seconds]     # defaults 30 2000 60
#
#   samples       timed `vigilctl report` calls (trigger to verdict: nonce, posture, quote,
#                 signed EAT, verdict, over IPC and HTTPS)
#   cycles        back-to-back report cycles over the socket for the memory-growth run, the
#                 resident memory sampled every 100
#   idle-seconds  the idle window: context switches of each of vigild's threads across it, and
#                 the memory at its end
#
# The verifier's per-device rate limit is raised so that back-to-back reports are answered.
# BUILD=DIR picks another build directory (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/stack.sh

samples=${1:-30}
cycles=${2:-2000}
idle=${3:-60}
build=$(realpath "${BUILD:-build/release}")
vigild=$build/app/vigild
vigilctl=$build/app/vigilctl
verifier=$build/server/vigil-verifier
for b in "$vigild" "$vigilctl" "$verifier"; do
    [ -x "$b" ] || { echo "no $b: build vigild, vigilctl and vigil-verifier first" >&2; exit 1; }
done

stack_init
stack_start_swtpm
stack_start_verifier --device-rate 100000 --device-burst 100000
stack_start_vigild
stack_wait_state compliant 120
echo "vigild pid $vigild_pid, enrolled and compliant; swtpm and vigil-verifier on this machine too"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
echo "openssl speed -seconds 1 ecdsap256: $(openssl speed -seconds 1 ecdsap256 2>/dev/null |
    awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1) " sign/s, " $NF " verify/s"}')"

python3 - "$vigild_pid" "$vigilctl" "$socket" "$samples" "$cycles" "$idle" <<'EOF'
import json, os, socket, statistics, subprocess, sys, time

pid, vigilctl, sock, samples, cycles, idle = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]

def ipc(method):
    """One request on a new connection, as vigilctl makes it; the answer's result."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(sock)
        s.sendall(json.dumps({"v": 1, "id": 1, "method": method, "params": {}}).encode() + b"\n")
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

def memory():
    """KiB: VmRSS, Pss (smaps_rollup), and VmRSS's anonymous part (the heap: what grows)."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key == "Pss":
                    values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values.get("VmRSS"), values.get("Pss"), values.get("RssAnon")

def switches():
    """Context switches per thread: {tid: (name, voluntary, nonvoluntary)}."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            v = n = 0
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        v = int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        n = int(line.split()[1])
            threads[tid] = (name, v, n)
        except OSError:
            pass
    return threads

def shown(rss, pss, anon):
    return f"VmRSS {mib(rss)}, Pss {mib(pss)}, anonymous {mib(anon)}"

def mib(kib):
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"

# Warm-up, not counted: the first collections fill the posture caches (apt-get's pending updates
# are computed in the background once, then cached until the package database changes).
for _ in range(3):
    subprocess.run([vigilctl, "report"], stdout=subprocess.DEVNULL, check=True)

# a. Trigger to verdict, as an administrator or a script sees it (vigilctl's start included),
# and the same over the socket alone.
wall, raw = [], []
for _ in range(samples):
    start = time.perf_counter()
    subprocess.run([vigilctl, "report"], stdout=subprocess.DEVNULL, check=True)
    wall.append((time.perf_counter() - start) * 1000)
for _ in range(samples):
    start = time.perf_counter()
    status = ipc("report")
    raw.append((time.perf_counter() - start) * 1000)
    assert status["state"] == "compliant", status

# b and c. Idle: nothing is asked of vigild for the whole window.
time.sleep(2)
before, t0 = switches(), time.monotonic()
time.sleep(idle)
after, elapsed = switches(), time.monotonic() - t0
idle_rss, idle_pss, idle_anon = memory()
wakeups = []
for tid, (name, v, n) in sorted(after.items(), key=lambda kv: int(kv[0])):
    bv, bn = before.get(tid, (name, 0, 0))[1:]
    wakeups.append((tid, name, v - bv, n - bn))
status = ipc("status")

# b. Many report cycles back to back, each on its own connection, memory every 100.
growth = [(0, *memory())]
t0 = time.monotonic()
for i in range(1, cycles + 1):
    ipc("report")
    if i % 100 == 0:
        growth.append((i, *memory()))
cycle_seconds = time.monotonic() - t0
time.sleep(idle)
end_rss, end_pss, end_anon = memory()

print()
print(f"a. report cycle, trigger to verdict ({samples} samples each, after 3 warm-up reports)")
print(f"   {'':34} {'median':>9} {'p95':>9} {'min':>9} {'max':>9}")
for label, values in ((f"vigilctl report (process + IPC)", wall), ("IPC report alone (one connection)", raw)):
    print(f"   {label:34} {statistics.median(values):7.1f}ms {percentile(values, 95):7.1f}ms"
          f" {min(values):7.1f}ms {max(values):7.1f}ms")
print()
print(f"b. resident memory of vigild")
print(f"   after {idle} s idle:             {shown(idle_rss, idle_pss, idle_anon)}")
print(f"   over {cycles} report cycles ({cycle_seconds:.0f} s, {cycle_seconds / cycles * 1000:.1f} ms a cycle):")
step = max(1, len(growth) // 10)
for i, *kib in growth[::step] + ([growth[-1]] if (len(growth) - 1) % step else []):
    print(f"     after {i:6d}: {shown(*kib)}")
print(f"   {idle} s after the last cycle:    {shown(end_rss, end_pss, end_anon)}")
first = growth[len(growth) // 10]  # past the first tenth: caches and pools are filled by then
print(f"   growth from cycle {first[0]} to {growth[-1][0]}: VmRSS {growth[-1][1] - first[1]:+d} KiB,"
      f" Pss {(growth[-1][2] or 0) - (first[2] or 0):+d} KiB, anonymous {growth[-1][3] - first[3]:+d} KiB")
print()
print(f"c. wake-ups across {elapsed:.0f} s idle (context switches, voluntary + nonvoluntary)")
print(f"   token expires {status['token']['expires_at']}, next report {status['next_report_at']}")
for tid, name, v, n in wakeups:
    print(f"   {tid:>8} {name:16} {v:5d} + {n:d}")
total = sum(v + n for _, _, v, n in wakeups)
print(f"   all {len(wakeups)} threads: {total} ({total / elapsed:.2f}/s)")
EOF

# Sourced by scripts/demo.sh and bench/vigild_bench.sh: a whole Vigil installation in one
# temporary directory, as on a workstation, with nothing outside it and no root needed:
#
#   stack_init                  $work, a temporary directory; stack_stop (trapped on EXIT, INT
#                               and TERM) stops every process started here and removes it
#   stack_start_swtpm           a freshly manufactured swtpm with an EK certificate from a local
#                               CA of its own; sets $tcti
#   stack_start_verifier [ARGS] vigil-verifier init, trusting that EK CA, under the lenient
#                               policy below, then serve ARGS on loopback; sets $data, $url,
#                               $fingerprint
#   stack_set_policy FILE       replaces the verifier's policy atomically and waits until the
#                               verifier has reloaded it
#   stack_start_vigild          an enrollment token file (mode 600), vigild.json and vigild in
#                               the background, its log in $work/vigild.log; sets $socket,
#                               $vigild_pid and exports VIGIL_SOCKET
#   stack_wait_state STATE SECS waits, bounded, until `vigilctl status` shows STATE
#
# The caller sets $vigild, $vigilctl and $verifier (the binaries) first.

stack_pids=()
work=

stack_init() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-demo.XXXXXX")
    trap stack_stop EXIT
    # An interrupted script exits through stack_stop too. Processes started with & ignore
    # SIGINT in a script, so Ctrl-C alone would leave them running.
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Stops what was started, newest first, each with SIGTERM, and waits for it before its files go.
stack_stop() {
    local status=$? pid i
    trap '' INT TERM
    for ((i = ${#stack_pids[@]} - 1; i >= 0; i--)); do
        pid=${stack_pids[i]}
        kill -TERM "$pid" 2>/dev/null || continue
        # Bounded: whatever ignores SIGTERM for 10 s gets SIGKILL.
        for _ in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    stack_pids=()
    [ -n "$work" ] && rm -rf "$work"
    return "$status"
}

stack_start_swtpm() {
    mkdir -p "$work/swtpm" "$work/ca"
    printf 'statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\ncertserial = %s/certserial\n' \
        "$work/ca" "$work/ca" "$work/ca" "$work/ca" >"$work/localca.conf"
    printf 'create_certs_tool = /usr/bin/swtpm_localca\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = /etc/swtpm-localca.options\nactive_pcr_banks = sha256\n' \
        "$work/localca.conf" >"$work/swtpm-setup.conf"
    swtpm_setup --tpm2 --tpmstate "$work/swtpm" --create-ek-cert --create-platform-cert \
        --config "$work/swtpm-setup.conf" --overwrite >"$work/swtpm-setup.log" 2>&1 ||
        { cat "$work/swtpm-setup.log" >&2; return 1; }
    local port _
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        swtpm socket --tpm2 --tpmstate dir="$work/swtpm" --flags not-need-init,startup-clear \
            --server type=tcp,bindaddr=127.0.0.1,port=$port \
            --ctrl type=tcp,bindaddr=127.0.0.1,port=$((port + 1)) >>"$work/swtpm.log" 2>&1 &
        stack_pids+=($!)
        for _ in $(seq 50); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then
                tcti="swtpm:host=127.0.0.1,port=$port"
                return 0
            fi
            kill -0 "${stack_pids[-1]}" 2>/dev/null || break # the port was taken: another one
            sleep 0.1
        done
    done
    echo "swtpm did not start:" >&2
    cat "$work/swtpm.log" >&2
    return 1
}

# Lenient: only the OS rule, every other rule off; TPM devices only.
stack_lenient_policy() {
    cat <<'EOF'
{
  "version": 1,
  "accepted_assurance": ["tpm"],
  "os": {"other_distributions": "allow"},
  "patch_level": {"max_security_updates": null, "max_days_since_update": null,
                  "allow_reboot_required": true},
  "disk_encryption": {"required": false},
  "firewall": {"required": false},
  "screen_lock": {"required": false},
  "secure_boot": {"required": false}
}
EOF
}

stack_start_verifier() {
    data=$work/verifier
    "$verifier" init --data "$data" --name 127.0.0.1 >"$work/verifier-init.out"
    fingerprint=$(sed -n 's/^CA fingerprint (agents pin this): //p' "$work/verifier-init.out")
    # The swtpm's EK certificate chains to its local CA: the verifier trusts it as it would a
    # TPM manufacturer's.
    cp "$work/ca/issuercert.pem" "$work/ca/swtpm-localca-rootca-cert.pem" "$data/ek-cas/"
    stack_lenient_policy >"$data/policy.json"
    "$verifier" serve --data "$data" --listen 127.0.0.1:0 "$@" \
        >"$work/verifier.out" 2>"$work/verifier.log" &
    stack_pids+=($!)
    for _ in $(seq 100); do
        grep -q '^vigil-verifier: serving ' "$work/verifier.out" && break
        sleep 0.1
    done
    url=$(sed -n 's/^vigil-verifier: serving \(https:[^ ]*\) on .*/\1/p' "$work/verifier.out")
    [ -n "$url" ] || { echo "vigil-verifier did not start:" >&2; cat "$work/verifier.log" >&2; return 1; }
}

stack_set_policy() {
    local reloads
    "$verifier" policy check "$1" >/dev/null
    reloads=$(grep -c 'policy reloaded' "$work/verifier.log" || true)
    # A rename in the same directory: the verifier's inotify watch sees one complete file and
    # logs "policy reloaded", so no guessed sleep.
    cp "$1" "$data/policy.json.new"
    mv "$data/policy.json.new" "$data/policy.json"
    for _ in $(seq 100); do
        [ "$(grep -c 'policy reloaded' "$work/verifier.log" || true)" -gt "$reloads" ] && return 0
        sleep 0.1
    done
    echo "the verifier did not reload its policy:" >&2
    cat "$work/verifier.log" >&2
    return 1
}

stack_start_vigild() {
    mkdir -p "$work/etc" "$work/run"
    # The token as a fleet installer seeds it: a file only its owner reads, never the command
    # line, where every user's process list shows it. vigild deletes it once enrolled.
    (umask 077 && "$verifier" token create --data "$data" --label demo | head -n 1 >"$work/etc/enroll.token")
    socket=$work/run/vigild.sock
    cat >"$work/etc/vigild.json" <<EOF
{
  "server_url": "$url",
  "ca_file": "$data/ca.pem",
  "ca_fingerprint": "$fingerprint",
  "tcti": "$tcti",
  "state_directory": "$work/state",
  "socket_path": "$socket",
  "privileged_group": "$(id -gn)",
  "log_level": "${VIGILD_LOG_LEVEL:-info}"
}
EOF
    export VIGIL_SOCKET=$socket
    "$vigild" --config "$work/etc/vigild.json" --enrollment-token-file "$work/etc/enroll.token" \
        >"$work/vigild.log" 2>&1 &
    vigild_pid=$!
    stack_pids+=("$vigild_pid")
}

stack_wait_state() {
    local want=$1 seconds=$2 start=$SECONDS state=
    while ((SECONDS - start < seconds)); do
        kill -0 "$vigild_pid" 2>/dev/null ||
            { echo "vigild stopped; its log:" >&2; cat "$work/vigild.log" >&2; return 1; }
        state=$("$vigilctl" status --json 2>/dev/null |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' 2>/dev/null) || true
        [ "$state" = "$want" ] && return 0
        sleep 0.2
    done
    echo "vigild is still ${state:-unreachable} after $seconds s, not $want; its log:" >&2
    cat "$work/vigild.log" >&2
    return 1
}

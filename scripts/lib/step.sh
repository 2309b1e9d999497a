# Sourced by the scripts. `step NAME LABEL COMMAND...` runs one set-up step with its output in
# build/logs/NAME.log and prints one line for it, since a newcomer reads pages of apt-get or
# compiler output as failure. The log is printed only when the step fails.

step_logs="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/logs"

step() {
    local log="$step_logs/$1.log" label=$2
    shift 2
    local start=$SECONDS status=0
    mkdir -p "$step_logs"
    printf '%s ... ' "$label"
    "$@" >"$log" 2>&1 </dev/null || status=$?
    if [ "$status" -ne 0 ]; then
        echo "failed (exit status $status); its log, $log, less build progress lines:"
        grep -vE '^\[[0-9]+/[0-9]+\] ' "$log" || true
        return "$status"
    fi
    echo "ok ($((SECONDS - start)) s)"
}

#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running Vigil's demo need.
# Idempotent and non-interactive: packages already present are left alone. Prints one line;
# apt-get's own output goes to build/logs/ and is shown only if the installation fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/step.sh

packages=(
    build-essential cmake ninja-build pkg-config git mold
    qt6-base-dev qt6-base-dev-tools qt6-svg-dev qt6-tools-dev qt6-l10n-tools
    nlohmann-json3-dev libssl-dev
    clang-format clang libclang-rt-14-dev
    libtss2-dev swtpm swtpm-tools tpm2-tools
    python3-jwcrypto
    libboost-dev libsqlite3-dev libcurl4-openssl-dev libjemalloc-dev libsystemd-dev curl
    dbus-daemon iproute2
    xvfb dunst trayer xfce4-panel xfconf libxcb1-dev libxcb-xtest0-dev
    libqrencode-dev zbar-tools oathtool
    lintian rpm systemd mmdebstrap
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: all ${#packages[@]} Debian packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null; then
    sudo=(sudo)
else
    echo "bootstrap: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi

install() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}
step apt "bootstrap: installing ${#missing[@]} Debian packages" install

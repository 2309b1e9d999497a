# Sourced by the installer tests: a fresh Debian 12 root, made by mmdebstrap from Debian's
# packages, to install Vigil's packages into as an administrator would.
#
#   root_require                 fails unless run as root (exit 77, ctest's skip, outside CI)
#   root_create DIR DEB...       DIR becomes a fresh bookworm root holding apt and the runtime
#                                dependencies of the given packages (not the packages)
#   root_mount DIR / root_unmount DIR
#                                /proc and /sys for programs run inside (vigild reads both);
#                                root_unmount is safe to call twice
#   root_remove DIR              deletes DIR, never through a mount
#   in_root DIR COMMAND...       runs COMMAND inside DIR with a clean environment
#
# mmdebstrap takes a minute or two and a few hundred megabytes from the mirror, so the base is
# cached as a tarball in ${VIGIL_ROOT_CACHE:-~/.cache/vigil/debian-roots}, keyed by the
# dependencies' names, and unpacked in seconds by later runs. A root never has systemd
# running in it, which is one of the cases the maintainer scripts must handle.

root_cache=${VIGIL_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil/debian-roots}
root_mirror=${VIGIL_DEBIAN_MIRROR:-http://deb.debian.org/debian}

root_require() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "needs root: it builds a Debian root with mmdebstrap and installs packages into it"
        # CI runs as root, so there a skip would hide a test that never ran.
        [ -n "${CI:-}" ] && exit 1
        exit 77
    fi
    command -v mmdebstrap >/dev/null ||
        { echo "mmdebstrap is missing: run scripts/bootstrap.sh"; exit 1; }
}

# The names of the packages the given .debs depend on (first alternative, no versions).
root_dependencies() {
    local deb
    for deb in "$@"; do
        dpkg-deb -f "$deb" Depends
    done | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' |
        grep -vE '^(vigil|vigil-tray|vigil-verifier)$' | grep -v '^$' | sort -u
}

root_create() {
    local dir=$1
    shift
    local deps key tarball
    deps=$(root_dependencies "$@" | paste -sd, -)
    key=$(printf 'bookworm apt %s\n' "$deps" | sha256sum | cut -c1-16)
    tarball=$root_cache/bookworm-$key.tar
    if [ ! -s "$tarball" ]; then
        mkdir -p "$root_cache"
        # The partial file is renamed into place only once complete, so an interrupted run
        # never leaves a broken cache behind. mmdebstrap picks the format from the suffix.
        mmdebstrap --quiet --variant=apt --include="$deps" bookworm "$tarball.part.tar" \
            "$root_mirror" || { rm -rf "$tarball.part.tar"; return 1; }
        mv "$tarball.part.tar" "$tarball"
    fi
    mkdir -p "$dir"
    tar -C "$dir" -xf "$tarball"
}

root_mount() {
    mount -t proc proc "$1/proc"
    mount -t sysfs sysfs "$1/sys"
}

root_unmount() {
    umount "$1/sys" 2>/dev/null || true
    umount "$1/proc" 2>/dev/null || true
}

# Removes a root made here, refusing while anything is still mounted inside it: rm -rf through
# a mounted /proc or /sys would reach the running system.
root_remove() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if grep -q " $dir/" /proc/self/mounts; then
        echo "not removing $dir: still mounted inside it" >&2
        return 1
    fi
    rm -rf --one-file-system "$dir"
}

in_root() {
    local dir=$1
    shift
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        chroot "$dir" "$@"
}

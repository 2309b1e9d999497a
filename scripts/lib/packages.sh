# Sourced by scripts/package.sh and scripts/test.sh (whose installer tests check the packages):
# `build_packages` builds vigil, vigil-tray and vigil-verifier as .deb and .rpm (installer/) from
# the `package` preset into build/package/packages/, one line per step (scripts/lib/step.sh).
packages=build/package/packages

build_packages() (
    # The one time written in the packages and in the tray's Qt resources (rcc stamps each file
    # with it): the last commit's unless given. The same commit then gives the same bytes.
    export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
    # The modes of the files cpack writes (the .deb's ar members, staged directories) follow
    # the umask: fixed, as dpkg-buildpackage fixes it.
    umask 0022
    step configure-package "configure (package)" cmake --preset package
    step build-package "build (package)" cmake --build --preset package
    rm -rf "$packages"
    step cpack "packages (deb, rpm)" cpack --config build/package/CPackConfig.cmake -G "DEB;RPM"
    # cpack leaves its staging trees beside the packages.
    rm -rf "$packages/_CPack_Packages"
)

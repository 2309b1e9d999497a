#pragma once

#include <string_view>

namespace vigil::posture {

// rpmvercmp (rpm ≥ 4.15) ordering: alternating numeric and alphabetic segments, numbers
// greater than letters, '~' before anything (pre-releases), '^' after the base version but
// before any further segment. The same order sorts kernel release names of every
// distribution we look at ("6.1.0-27-amd64", "6.11.4-301.fc41.x86_64", "6.11.6-arch1-1").
// Returns <0, 0 or >0. Total over arbitrary bytes.
int compareVersions(std::string_view a, std::string_view b);

// The part of a kernel release that names a build flavour rather than a version:
// "6.1.0-27-cloud-amd64" -> "cloud-amd64", "6.8.0-48-generic" -> "generic",
// "6.6.58-1-lts" -> "lts", "6.11.4-301.fc41.x86_64+debug" -> "+debug", "6.11.6-arch1-1" -> "".
// Kernels of different flavours are installed side by side and are not upgrades of each other.
std::string_view kernelFlavour(std::string_view release);

} // namespace vigil::posture

#pragma once

// Whether the identity in vigild's state directory was made on this machine (machinebinding.h):
// a state directory copied with a disk image must not make two machines one device. Runs on the
// device thread, which owns the TPM.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace vigil::agent {

// Checks the enrollment in stateDirectory against this machine (its TPM by tcti, machine-id,
// DMI product UUID). The reason it belongs to another machine, starting with
// app::foreignIdentityPrefix, or none: not enrolled, the same machine, or nothing to compare.
// An enrollment that recorded no machine (made before vigild recorded one) gets this one's,
// once its TPM keys are known to load here. loadKeys opens the identity's keys (DeviceWork's
// session), after the TPM connection made here is closed: a simulator serves one at a time.
// Failures that say nothing about the machine are left to the first report, which names them.
std::optional<std::string> foreignIdentity(const std::filesystem::path &stateDirectory,
                                           const std::string &tcti,
                                           const std::function<void()> &loadKeys);

// reason (foreignIdentity's) with what vigild does about it and the fix: the status's reason.
std::string withCloneFix(const std::string &reason, const std::filesystem::path &tokenFile,
                         const std::filesystem::path &stateDirectory);

} // namespace vigil::agent

#pragma once

// The machine a device identity was made on, recorded at enrollment in enrollment.json as
//
//   "machine": {"tpm_endorsement_key": "sha256:<hex>",   // TPM identities only
//               "machine_id": "<32 hex>",                // whenever readable
//               "product_uuid": "sha256:<hex>"}          // whenever readable (root only)
//
// so that a state directory copied to another machine (a golden image made after enrollment, a
// cloned disk) is recognised there instead of two machines silently sharing one device. Every
// member is optional: what could not be read at enrollment is not recorded, and a recorded value
// that cannot be read now is not compared (vigilctl without root cannot read product_uuid).
//
// - tpm_endorsement_key: SHA-256 of the TPM's EK public area (marshalled TPM2B_PUBLIC, as
//   enrollment sends it), which no other TPM has.
// - machine_id: machine-id(5) in posture's app-specific form (device_identity's machine_id):
//   the raw id must not leave the machine, and this file may be copied with the identity.
// - product_uuid: SHA-256 of the lower-case DMI product UUID (/sys/class/dmi/id/product_uuid),
//   which a cloned virtual machine gets new and firmware keeps across reinstalls. Placeholders
//   (all zeros, all ones) are not recorded.

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::attestation {
class Tpm;
}

namespace vigil::posture {
class FileSystem;
}

namespace vigil::app {

struct MachineBinding
{
    std::optional<std::string> tpmEndorsementKey;
    std::optional<std::string> machineId;
    std::optional<std::string> productUuid;

    nlohmann::json toJson() const;
    // Strict: an object with only the members above, each in its form; errors throw
    // protocol::MessageError naming the member below pointer ("/machine/machine_id").
    static MachineBinding fromJson(const nlohmann::json &json, const std::string &pointer);

    bool operator==(const MachineBinding &) const = default;
};

// This machine's values: its files below files' root (a fixture tree in tests) and, for a TPM
// identity, tpm's endorsement key (none when tpm is null or its EK cannot be read).
MachineBinding readMachineBinding(const posture::FileSystem &files, attestation::Tpm *tpm);

// The recorded values that are readable now and differ, in words ("the TPM (its endorsement
// key)", "the machine-id", "the DMI product UUID"); empty when the machine is the same.
std::vector<std::string> machineDifferences(const MachineBinding &recorded,
                                            const MachineBinding &now);

// The prefix of every refusal of a foreign identity: status reasons and logs start with it.
inline constexpr std::string_view foreignIdentityPrefix =
    "this machine's state directory holds another machine's identity (a cloned disk image?)";

// foreignIdentityPrefix and what differs (machineDifferences, not empty) from the machine where
// the identity enrolled as deviceId: the start of every refusal's reason.
std::string foreignIdentityReason(const std::vector<std::string> &differences,
                                  const std::string &deviceId);

// Moves the identity in stateDirectory (every entry but the lock file keep, which its holder
// keeps open, and identities moved aside before) into a new
// <stateDirectory>/cloned-identity-<UTC time>/ (0700), deleting nothing, and returns that
// directory. Throws std::system_error naming what could not be moved.
std::filesystem::path moveIdentityAside(const std::filesystem::path &stateDirectory,
                                        std::string_view keep,
                                        std::chrono::system_clock::time_point now);

} // namespace vigil::app

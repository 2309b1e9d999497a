#pragma once

#include "protocol/jose/devicekey.h"

#include <filesystem>
#include <memory>
#include <string>

namespace vigil::attestation {

class TpmIdentity;

struct LoadedDeviceKey
{
    std::unique_ptr<protocol::DeviceKey> key;
    std::shared_ptr<TpmIdentity> identity; // null for the software key
    std::string fallbackReason;            // why the software key is used; empty with a TPM
};

// The device key for this machine: the TPM's (keys under <stateDirectory>/tpm) when there is a
// TPM, otherwise the software key <stateDirectory>/software/devicekey.pem, with the reason.
// Only "no TPM" falls back: a TPM that is present but refuses (permission, lockout, failure,
// key files that do not load) throws its TpmError, because switching keys would quietly give
// the device another identity and a lower assurance.
LoadedDeviceKey loadDeviceKey(const std::string &tcti, const std::filesystem::path &stateDirectory);

} // namespace vigil::attestation

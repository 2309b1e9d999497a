#pragma once

#include "devicekey.h"
#include "tpmidentity.h"

#include <memory>

namespace vigil::attestation {

// The device key held by the TPM: its private part never leaves the chip.
class TpmDeviceKey : public DeviceKey
{
public:
    explicit TpmDeviceKey(std::shared_ptr<TpmIdentity> identity);

    Assurance assurance() const override { return Assurance::Tpm; }
    EcPublicKey publicKey() const override { return m_publicKey; }
    Bytes sign(std::span<const std::uint8_t> digest) override;

private:
    std::shared_ptr<TpmIdentity> m_identity;
    EcPublicKey m_publicKey;
};

} // namespace vigil::attestation

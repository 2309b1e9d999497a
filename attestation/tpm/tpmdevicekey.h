#pragma once

#include "attestation/tpm/tpmidentity.h"
#include "protocol/jose/devicekey.h"

#include <memory>

namespace vigil::attestation {

// The device key held by the TPM: its private part never leaves the chip.
class TpmDeviceKey : public protocol::DeviceKey
{
public:
    explicit TpmDeviceKey(std::shared_ptr<TpmIdentity> identity);

    protocol::Assurance assurance() const override { return protocol::Assurance::Tpm; }
    protocol::EcPublicKey publicKey() const override { return m_publicKey; }
    Bytes sign(std::span<const std::uint8_t> digest) override;

private:
    std::shared_ptr<TpmIdentity> m_identity;
    protocol::EcPublicKey m_publicKey;
};

} // namespace vigil::attestation

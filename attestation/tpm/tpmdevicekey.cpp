#include "attestation/tpm/tpmdevicekey.h"

#include "attestation/tpm/tpmerror.h"

namespace vigil::attestation {

TpmDeviceKey::TpmDeviceKey(std::shared_ptr<TpmIdentity> identity) : m_identity(std::move(identity))
{
    const TPM2B_PUBLIC publicArea = unmarshalPublic(m_identity->deviceKeyPublic());
    if (publicArea.publicArea.type != TPM2_ALG_ECC ||
        publicArea.publicArea.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
        throw TpmError(TpmError::Kind::BadState, "device key is not an ECC P-256 key");
    const auto &point = publicArea.publicArea.unique.ecc;
    m_publicKey =
        protocol::EcPublicKey{p256Coordinate(point.x, "device key x", TpmError::Kind::BadState),
                              p256Coordinate(point.y, "device key y", TpmError::Kind::BadState)};
}

Bytes TpmDeviceKey::sign(std::span<const std::uint8_t> digest)
{
    return m_identity->signWithDeviceKey(digest);
}

} // namespace vigil::attestation

#include "tpmdevicekey.h"

#include "tpmerror.h"

namespace vigil::attestation {

namespace {

Bytes coordinate(const TPM2B_ECC_PARAMETER &value)
{
    if (value.size > 32)
        throw TpmError(TpmError::Kind::BadState, "device key is not a P-256 key");
    Bytes padded(32 - value.size, 0);
    padded.insert(padded.end(), value.buffer, value.buffer + value.size);
    return padded;
}

} // namespace

TpmDeviceKey::TpmDeviceKey(std::shared_ptr<TpmIdentity> identity) : m_identity(std::move(identity))
{
    const TPM2B_PUBLIC publicArea = unmarshalPublic(m_identity->deviceKeyPublic());
    if (publicArea.publicArea.type != TPM2_ALG_ECC ||
        publicArea.publicArea.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
        throw TpmError(TpmError::Kind::BadState, "device key is not an ECC P-256 key");
    m_publicKey = EcPublicKey{coordinate(publicArea.publicArea.unique.ecc.x),
                              coordinate(publicArea.publicArea.unique.ecc.y)};
}

Bytes TpmDeviceKey::sign(std::span<const std::uint8_t> digest)
{
    return m_identity->signWithDeviceKey(digest);
}

} // namespace vigil::attestation

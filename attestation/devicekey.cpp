#include "devicekey.h"

#include "jwk.h"

namespace vigil::attestation {

std::string_view assuranceName(Assurance assurance)
{
    switch (assurance) {
    case Assurance::Tpm:
        return "tpm";
    case Assurance::Software:
        return "software";
    }
    return "unknown";
}

nlohmann::json DeviceKey::publicJwk() const
{
    return ecPublicJwk(publicKey());
}

std::string DeviceKey::thumbprint() const
{
    return jwkThumbprint(publicKey());
}

} // namespace vigil::attestation

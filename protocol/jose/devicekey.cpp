#include "protocol/jose/devicekey.h"

#include "protocol/jose/jwk.h"

namespace vigil::protocol {

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

} // namespace vigil::protocol

#include "protocol/jose/jwk.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

// DPoP keys reach the verifier as JWKs in attacker-controlled headers.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil;
    using namespace vigil::protocol;
    EcPublicKey key;
    try {
        key = parseEcPublicJwk(std::string_view(reinterpret_cast<const char *>(data), size));
    } catch (const JwkError &) {
        return 0;
    }
    // Whatever parses must be a usable key that survives its own JWK form unchanged.
    const EcPublicKey again = parseEcPublicJwk(ecPublicJwk(key));
    if (again.x != key.x || again.y != key.y || jwkThumbprint(again) != jwkThumbprint(key))
        std::abort();
    toEvpPkey(key);
    return 0;
}

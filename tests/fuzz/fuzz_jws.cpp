#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

// Every JWS the verifier sees (posture reports, access tokens, DPoP proofs) is attacker input
// until its signature checks out, and the claim set is parsed before the caller looks at it.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::protocol;
    using namespace std::chrono_literals;
    // The RFC 7515 appendix A.3 key: any valid point will do, verification must just not throw.
    static const vigil::protocol::EcPublicKey key{
        *vigil::base64UrlDecode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
        *vigil::base64UrlDecode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")};
    static const JwtExpectations expectations{
        "at+jwt", "https://verifier.example", "vigil", 30s, true, 600s};
    static const JwtExpectations permissive{"", {}, {}, 300s, false, {}};
    const std::chrono::system_clock::time_point now{std::chrono::seconds(1795000000)};

    const std::string_view input(reinterpret_cast<const char *>(data), size);
    Jws jws;
    try {
        jws = parseJws(input);
    } catch (const JoseError &) {
        return 0;
    }
    // What parses is what the contract promises: ES256, no crit, 64-byte signature, and a
    // signing input that is exactly the first two parts of the input.
    const auto alg = jws.header.find("alg");
    if (!jws.header.is_object() || alg == jws.header.end() || *alg != "ES256" ||
        jws.header.contains("crit") || jws.signature.size() != 64 ||
        !input.starts_with(jws.signingInput) || input.size() <= jws.signingInput.size() ||
        input[jws.signingInput.size()] != '.' ||
        input.substr(jws.signingInput.size() + 1).find('.') != std::string_view::npos)
        std::abort();
    verifyJws(jws, key);
    // Once as an access token, once with nothing expected so any claim set is read through.
    for (const JwtExpectations *expect : {&expectations, &permissive}) {
        try {
            validateJwt(jws, *expect, now);
        } catch (const JwtError &) {
        }
    }
    return 0;
}

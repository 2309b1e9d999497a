#include "protocol/jose/jws.h"
#include "protocol/posturereport.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

// The EAT claim set comes from a device; the verifier reads it after the signature checks, but
// a device holding its own key can sign anything.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::protocol;
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    nlohmann::json claims;
    try {
        // As validateJwt reads a payload.
        claims = parseJsonObject(text, "JWT claims");
    } catch (const JoseError &) {
        return 0;
    }
    PostureReport report;
    try {
        report = PostureReport::fromClaims(claims);
    } catch (const MessageError &) {
        return 0;
    }
    // Whatever parses is written back as claims that parse to the same report.
    const nlohmann::json again = report.toClaims();
    if (PostureReport::fromClaims(again).toClaims() != again)
        std::abort();
    return 0;
}

#include "protocol/jose/dpop.h"
#include "protocol/jose/jwk.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

// A DPoP proof is an HTTP header any client can send, and its htu a URI of the client's
// choosing; both reach the verifier before anything is authenticated.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil::protocol;
    using namespace std::chrono_literals;
    const std::string_view input(reinterpret_cast<const char *>(data), size);

    // As a URI: the normalised form is accepted again and is a fixed point.
    try {
        const std::string once = normaliseHtu(input);
        if (normaliseHtu(once) != once)
            std::abort();
    } catch (const JoseError &) {
    }

    // As a proof (the seeds carry this htu, ath, nonce and iat): a proof that passes once is a
    // replay the second time.
    const std::chrono::system_clock::time_point now{std::chrono::seconds(1795000000)};
    const std::optional<std::string> accessToken("fuzz-access-token");
    const std::optional<std::string> nonce("fuzz-nonce");
    DpopValidator validator({60s, 4});
    for (int attempt = 0; attempt < 2; ++attempt) {
        try {
            const ValidatedDpop result = validator.validate(
                input, "POST", "https://verifier.example/v1/tokens", now, accessToken, nonce);
            if (attempt == 1 || result.jti.empty() || result.jti.size() > maxDpopJtiLength ||
                result.jkt != vigil::protocol::jwkThumbprint(result.key))
                std::abort();
        } catch (const DpopError &) {
            if (attempt == 0)
                break;
        }
    }
    return 0;
}

#include "protocol/jose/userproof.h"
#include "protocol/usermessages.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace vigil::protocol;

// Whatever parses must write itself back in a form that parses to the same JSON.
template <typename T> void parseAndRoundTrip(const nlohmann::json &body)
{
    T message;
    try {
        message = T::fromJson(body);
    } catch (const MessageError &) {
        return;
    }
    const nlohmann::json json = message.toJson();
    if (T::fromJson(json).toJson() != json)
        std::abort();
}

// The point of the RFC 7515 appendix A.3 example key: any valid point will do, since no
// fuzzed signature can be valid; what is fuzzed is the parsing before the signature check.
const EcPublicKey &userKey()
{
    static const EcPublicKey key{
        *vigil::base64UrlDecode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
        *vigil::base64UrlDecode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")};
    return key;
}

} // namespace

// The user and MFA bodies reach the verifier from any enrolled device (and the device reads
// the verifier's answers with the same parsers); user proofs travel inside them.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);

    // As a user proof: parsing may refuse it, but only with UserProofError, and a fuzzed
    // proof never passes (it cannot carry a signature by the key).
    try {
        userProofKeyId(text);
    } catch (const UserProofError &) {
    }
    UserProofValidator validator(std::chrono::seconds(60), 4);
    try {
        validator.validate(text, userKey(),
                           {"0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10", "POST",
                            "https://verifier.example/v1/users/"
                            "0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10/sessions",
                            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"},
                           std::chrono::system_clock::time_point(std::chrono::seconds(1795000000)));
        std::abort();
    } catch (const UserProofError &) {
    }

    const auto recovery = canonicalRecoveryCode(text);
    if (recovery && canonicalRecoveryCode(*recovery) != recovery)
        std::abort();

    nlohmann::json body;
    try {
        body = parseJsonBody(text);
    } catch (const MessageError &) {
        return 0;
    }
    parseAndRoundTrip<UserEnrollmentRequest>(body);
    parseAndRoundTrip<UserEnrollmentResponse>(body);
    parseAndRoundTrip<UserProofBody>(body);
    parseAndRoundTrip<TotpEnrollment>(body);
    parseAndRoundTrip<TotpActivationRequest>(body);
    parseAndRoundTrip<RecoveryCodes>(body);
    parseAndRoundTrip<SignInRequest>(body);
    parseAndRoundTrip<UserSession>(body);
    parseAndRoundTrip<SessionRequest>(body);
    return 0;
}

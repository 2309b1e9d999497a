#include "protocol/messages.h"
#include "protocol/problem.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace vigil::protocol;

// Whatever parses must write itself back in a form that parses to the same JSON: toJson and
// fromJson agree on every member, so the verifier never emits what its peers must refuse.
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

} // namespace

// API bodies reach the verifier from any client on the network, and the client reads the
// verifier's answers (and problems) through the same parsers.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    // parseBody<T> is parseJsonBody then T::fromJson: the text is parsed once for all types.
    nlohmann::json body;
    try {
        body = parseJsonBody(text);
    } catch (const MessageError &) {
        return 0;
    }
    parseAndRoundTrip<EnrollmentRequest>(body);
    parseAndRoundTrip<EnrollmentChallenge>(body);
    parseAndRoundTrip<ActivationRequest>(body);
    parseAndRoundTrip<EnrollmentComplete>(body);
    parseAndRoundTrip<NonceRequest>(body);
    parseAndRoundTrip<NonceResponse>(body);
    parseAndRoundTrip<ReportRequest>(body);
    parseAndRoundTrip<Appraisal>(body);
    parseAndRoundTrip<TokenRequest>(body);
    parseAndRoundTrip<TokenResponse>(body);
    parseAndRoundTrip<WhoAmI>(body);
    parseAndRoundTrip<Jwks>(body);
    parseAndRoundTrip<Health>(body);
    parseAndRoundTrip<Problem>(body);
    return 0;
}

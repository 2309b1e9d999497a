#include "app/client/enrollmentstate.h"
#include "protocol/messages.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

// The device's own state file (enrollment.json) and the CA files and fingerprints an
// administrator hands to `vigilctl enroll`: each input goes through all three parsers.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace vigil;
    const std::string_view text(reinterpret_cast<const char *>(data), size);

    try {
        const auto state = app::EnrollmentState::fromJson(protocol::parseJsonBody(text));
        // Whatever loads is saved in a form that loads to the same state.
        if (app::EnrollmentState::fromJson(state.toJson()).toJson() != state.toJson())
            std::abort();
    } catch (const protocol::MessageError &) {
    }

    // A normalised fingerprint is a fixed point.
    if (const auto fingerprint = app::normaliseFingerprint(text))
        if (app::normaliseFingerprint(*fingerprint) != fingerprint || fingerprint->size() != 71)
            std::abort();

    try {
        const std::string fingerprint = app::certificateFingerprint(text);
        if (app::normaliseFingerprint(fingerprint) != fingerprint)
            std::abort();
    } catch (const app::EnrollmentStateError &) {
    }
    return 0;
}

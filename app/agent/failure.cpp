#include "app/agent/failure.h"

#include "app/client/httpstransport.h"
#include "app/client/verifierclient.h"
#include "core/clock.h"

#include <algorithm>

namespace vigil::agent {

Failure classifyFailure(const std::exception_ptr &error)
{
    try {
        std::rethrow_exception(error);
    } catch (const app::TransportError &e) {
        return {Failure::Kind::Unreachable, e.what(), {}, {}};
    } catch (const app::VerifierError &e) {
        const bool revoked = e.code() == "device_revoked" || e.code() == "unknown_device";
        std::optional<std::chrono::seconds> retryAfter;
        if (e.retryAfterSeconds())
            retryAfter = std::chrono::seconds(*e.retryAfterSeconds());
        return {revoked ? Failure::Kind::Revoked : Failure::Kind::Refused, e.what(), retryAfter,
                e.code()};
    } catch (const app::InvalidResponseError &e) {
        return {Failure::Kind::Refused, e.what(), {}, {}};
    } catch (const std::exception &e) {
        return {Failure::Kind::Local, e.what(), {}, {}};
    } catch (...) {
        return {Failure::Kind::Local, "unknown failure", {}, {}};
    }
}

std::string oneLine(std::string text)
{
    constexpr std::size_t maxLength = 1024;
    std::replace_if(
        text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    if (text.size() > maxLength) {
        std::size_t cut = maxLength - 3;
        // Not inside a UTF-8 sequence: continuation bytes are 10xxxxxx.
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        text = text.substr(0, cut) + "...";
    }
    return text;
}

std::string failingChecksReason(const std::vector<protocol::AppraisalCheck> &failing)
{
    std::string ids;
    for (const auto &check : failing)
        ids += (ids.empty() ? "" : ", ") + check.id;
    return std::to_string(failing.size()) +
           (failing.size() == 1 ? " check fails: " : " checks fail: ") + ids;
}

std::string timeOfDay(std::chrono::system_clock::time_point time)
{
    return toIso8601(time).substr(11, 8) + " UTC";
}

} // namespace vigil::agent

#pragma once

// The access token vigild holds for the device (docs/ipc.md, "token"). It is fetched while the
// device is compliant, refreshed before it expires, and dropped at once when the verdict turns,
// the device is revoked or a report is missed: a token must never outlive the verifier's
// agreement. The broker keeps the rules; the agent does the fetching.

#include "core/clock.h"
#include "protocol/messages.h"

#include <chrono>
#include <optional>
#include <string>

namespace vigil::agent {

class TokenBroker
{
public:
    using TimePoint = std::chrono::system_clock::time_point;

    struct Held
    {
        std::string accessToken; // a secret: never logged
        TimePoint obtainedAt;
        TimePoint expiresAt;
    };

    explicit TokenBroker(const Clock &clock) : m_clock(clock) {}

    // A token the verifier just issued.
    void store(const protocol::TokenResponse &token);
    // Forget the token, with the reason a caller asking for one is told.
    void drop(std::string reason);

    // The token, unless none is held or it has expired.
    std::optional<Held> current() const;
    // Why current() is empty ("" while a token is held).
    std::string whyNone() const;
    // When to fetch the next one: once three quarters of its lifetime have passed, so a slow or
    // failed refresh still has time before it expires. nullopt while none is held.
    std::optional<TimePoint> refreshDue() const;

private:
    const Clock &m_clock;
    std::optional<Held> m_held;
    std::string m_whyNone = "no token has been fetched yet";
};

} // namespace vigil::agent

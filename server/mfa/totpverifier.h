#pragma once

// Which TOTP codes the verifier accepts (docs/mfa.md, "TOTP verification"): the current time
// step or one either side, each step at most once per user; after freeFailures consecutive
// failures each attempt waits 2^(failures - freeFailures) seconds; at lockFailures the user's
// TOTP locks until an administrator unlocks it. A good code resets the count. Secrets are made
// here (160 bits, SHA-1, 6 digits, 30 s) and kept sealed by a SecretBox.

#include "core/clock.h"
#include "server/mfa/secretbox.h"
#include "server/storage/storage.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::server {

struct TotpCheck
{
    enum class Result
    {
        Accepted,
        InvalidCode, // wrong, malformed or already used; counted as a failure
        RateLimited, // too soon after the last failure: retryAfter; nothing counted
        Locked,      // too many failures: an administrator must unlock it
        NoTotp,      // verify: no active TOTP; activate: no live pending one
    };
    Result result = Result::InvalidCode;
    std::chrono::seconds retryAfter{0}; // with RateLimited
    std::uint64_t step = 0;             // with Accepted: the time step the code was for
};

// What beginEnrollment made: for the authenticator app, once.
struct TotpEnrollment
{
    std::string otpauthUri;
    TimePoint expiresAt;
};

class TotpVerifier
{
public:
    static constexpr int window = 1;        // steps either side of the current one
    static constexpr int freeFailures = 3;  // failures before attempts must wait
    static constexpr int lockFailures = 10; // failures that lock
    static constexpr std::chrono::minutes pendingLifetime{15};
    static constexpr std::size_t secretSize = 20; // 160 bits (RFC 4226 section 4 recommends it)

    TotpVerifier(Storage &storage, const SecretBox &box, const Clock &clock);

    // A new pending secret for user (replacing a pending one), as an otpauth:// URI with issuer;
    // nullopt when the user's TOTP is active already.
    std::optional<TotpEnrollment> beginEnrollment(const User &user, std::string_view issuer);
    // The user's pending TOTP becomes active if code is right for it.
    TotpCheck activate(const std::string &userId, std::string_view code);
    // Sign-in: code against the user's active TOTP.
    TotpCheck verify(const std::string &userId, std::string_view code);

    // How long an attempt after `failures` consecutive failures must wait after the last one.
    static std::chrono::seconds delayAfter(int failures);

private:
    TotpCheck check(const std::string &userId, std::string_view code, TotpState wanted);

    Storage &m_storage;
    const SecretBox &m_box;
    const Clock &m_clock;
};

} // namespace vigil::server

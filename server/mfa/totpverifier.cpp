#include "server/mfa/totpverifier.h"

#include "server/mfa/totp.h"
#include "server/randomid.h"

#include <QLoggingCategory>
#include <openssl/crypto.h>

namespace vigil::server {

Q_LOGGING_CATEGORY(lcMfa, "vigil.verifier.mfa")

namespace {

constexpr std::size_t codeDigits = 6;

bool wellFormed(std::string_view code)
{
    if (code.size() != codeDigits)
        return false;
    for (const char c : code)
        if (c < '0' || c > '9')
            return false;
    return true;
}

// Wipes a secret when it goes out of scope, whichever way.
struct Wiped
{
    Bytes bytes;
    ~Wiped() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

} // namespace

TotpVerifier::TotpVerifier(Storage &storage, const SecretBox &box, const Clock &clock)
    : m_storage(storage), m_box(box), m_clock(clock)
{
}

std::chrono::seconds TotpVerifier::delayAfter(int failures)
{
    if (failures < freeFailures)
        return std::chrono::seconds(0);
    // Below lockFailures the exponent stays small; the cap only guards the shift.
    const int exponent = std::min(failures - freeFailures, 30);
    return std::chrono::seconds(std::int64_t{1} << exponent);
}

std::optional<TotpEnrollment> TotpVerifier::beginEnrollment(const User &user,
                                                            std::string_view issuer)
{
    Wiped secret{randomBytes(secretSize)};
    const TimePoint expiresAt = m_clock.now() + pendingLifetime;
    if (!m_storage.putPendingTotp(user.id, m_box.seal(secret.bytes, user.id), expiresAt))
        return std::nullopt;
    return TotpEnrollment{otpauthUri(issuer, user.name, secret.bytes), expiresAt};
}

TotpCheck TotpVerifier::activate(const std::string &userId, std::string_view code)
{
    return check(userId, code, TotpState::Pending);
}

TotpCheck TotpVerifier::verify(const std::string &userId, std::string_view code)
{
    return check(userId, code, TotpState::Active);
}

TotpCheck TotpVerifier::check(const std::string &userId, std::string_view code, TotpState wanted)
{
    using Result = TotpCheck::Result;
    const TimePoint now = m_clock.now();
    const auto totp = m_storage.userTotp(userId);
    if (!totp || totp->state != wanted ||
        (wanted == TotpState::Pending && totp->pendingExpiresAt <= now))
        return {Result::NoTotp};
    if (totp->locked)
        return {Result::Locked};
    if (totp->lastFailureAt) {
        const TimePoint allowed = *totp->lastFailureAt + delayAfter(totp->consecutiveFailures);
        if (now < allowed)
            return {Result::RateLimited, std::chrono::ceil<std::chrono::seconds>(allowed - now)};
    }

    std::optional<std::uint64_t> matched;
    const auto current = totpTimeStep(now, TotpParameters{}.period);
    if (current && wellFormed(code)) {
        const Wiped secret{m_box.open(totp->sealedSecret, userId)};
        // Every candidate is computed and compared in full, so the time taken does not say
        // which step (if any) matched.
        for (int offset = -window; offset <= window; ++offset) {
            if (offset < 0 && *current < std::uint64_t(-offset))
                continue;
            const std::uint64_t step = *current + std::uint64_t(std::int64_t{offset});
            std::string expected = hotp(secret.bytes, step);
            const bool equal = CRYPTO_memcmp(expected.data(), code.data(), codeDigits) == 0;
            OPENSSL_cleanse(expected.data(), expected.size());
            // The latest matching step not yet used, should two steps share a code.
            if (equal && (!totp->lastAcceptedStep || step > *totp->lastAcceptedStep))
                matched = step;
        }
    }

    if (matched) {
        const bool accepted = wanted == TotpState::Pending
                                  ? m_storage.activateTotp(userId, *matched, now)
                                  : m_storage.acceptTotpStep(userId, *matched, now);
        // Refused only when a racing request took the step (or locked or activated it) first:
        // then this code is spent, and counts as a failure like any used code.
        if (accepted)
            return {Result::Accepted, std::chrono::seconds(0), *matched};
    }

    const auto after = m_storage.recordTotpFailure(userId, now, lockFailures);
    if (!after)
        return {Result::NoTotp};
    if (after->locked) {
        // The audit line: who and why, never the code.
        const auto user = m_storage.user(userId);
        const std::string name = user ? user->name : userId;
        qCWarning(lcMfa).noquote() << QString::fromStdString(
            "user " + name + " (" + userId + "): TOTP locked after " +
            std::to_string(after->consecutiveFailures) +
            " consecutive failures; `vigil-verifier users unlock " + name + "` unlocks it");
        return {Result::Locked};
    }
    return {Result::InvalidCode};
}

} // namespace vigil::server

#include "app/agent/mfa/userkey.h"

#include "protocol/jose/jwk.h"

namespace vigil::agent {

namespace {

// Length of the UTF-8 sequence that starts at text[i] if it is well formed (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), else 0.
std::size_t utf8SequenceLength(std::span<const std::uint8_t> text, std::size_t i)
{
    const std::uint8_t lead = text[i];
    std::size_t length = 0;
    std::uint8_t low = 0x80;
    std::uint8_t high = 0xbf;
    if (lead < 0x80)
        return 1;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0)
            low = 0xa0; // overlong
        if (lead == 0xed)
            high = 0x9f; // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0)
            low = 0x90; // overlong
        if (lead == 0xf4)
            high = 0x8f; // above U+10FFFF
    } else {
        return 0;
    }
    if (i + length > text.size())
        return 0;
    for (std::size_t k = 1; k < length; ++k) {
        const std::uint8_t c = text[i + k];
        const std::uint8_t min = k == 1 ? low : 0x80;
        const std::uint8_t max = k == 1 ? high : 0xbf;
        if (c < min || c > max)
            return 0;
    }
    return length;
}

} // namespace

UserKeyError::UserKeyError(Kind kind, std::string message, PinAttempts attempts)
    : KeyError(std::move(message)), m_kind(kind), m_attempts(attempts)
{
}

std::string_view userKeyErrorKindName(UserKeyError::Kind kind)
{
    switch (kind) {
    case UserKeyError::Kind::BadPin:
        return "bad_pin";
    case UserKeyError::Kind::WrongPin:
        return "wrong_pin";
    case UserKeyError::Kind::LockedOut:
        return "locked_out";
    case UserKeyError::Kind::Locked:
        return "locked";
    case UserKeyError::Kind::Corrupt:
        return "corrupt";
    case UserKeyError::Kind::Unavailable:
        break;
    }
    return "unavailable";
}

void checkPinFormat(const SecretBytes &pin)
{
    if (pin.size() < minPinBytes || pin.size() > maxPinBytes)
        throw UserKeyError(UserKeyError::Kind::BadPin, "a PIN is " + std::to_string(minPinBytes) +
                                                           " to " + std::to_string(maxPinBytes) +
                                                           " bytes of UTF-8");
    const auto text = pin.span();
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] < 0x20 || text[i] == 0x7f)
            throw UserKeyError(UserKeyError::Kind::BadPin,
                               "a PIN may not contain control characters");
        const std::size_t length = utf8SequenceLength(text, i);
        if (length == 0)
            throw UserKeyError(UserKeyError::Kind::BadPin, "a PIN must be valid UTF-8");
        i += length;
    }
}

nlohmann::json UserKey::publicJwk() const
{
    return protocol::ecPublicJwk(publicKey());
}

std::string UserKey::thumbprint() const
{
    return protocol::jwkThumbprint(publicKey());
}

std::string wrongPinMessage(const PinAttempts &attempts, std::string_view locksWhat)
{
    std::string message = "wrong PIN";
    if (attempts.locked)
        return message + ": the key is now locked; a recovery code or a new invite replaces it";
    if (attempts.attemptsLeft && *attempts.attemptsLeft == 0)
        message += ": no attempt left";
    else if (attempts.attemptsLeft)
        message += ": " + std::to_string(*attempts.attemptsLeft) +
                   (*attempts.attemptsLeft == 1 ? " attempt" : " attempts") + " left before " +
                   std::string(locksWhat);
    if (attempts.lockedOutFor.count() > 0)
        message += "; next attempt within " + std::to_string(attempts.lockedOutFor.count()) + " s";
    return message;
}

} // namespace vigil::agent

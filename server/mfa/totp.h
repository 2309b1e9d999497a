#pragma once

// One-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238) codes, and the otpauth:// URI that
// authenticator apps read (Google Authenticator's Key Uri Format: what every app implements).
// The verifier makes and checks the codes; which codes it accepts and how often (one time step
// either side, each step at most once) is the caller's.

#include "core/bytes.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vigil::server {

enum class TotpAlgorithm
{
    Sha1, // what authenticator apps assume when the URI does not say
    Sha256,
    Sha512,
};
std::string_view totpAlgorithmName(TotpAlgorithm algorithm); // "SHA1", as otpauth:// writes it

struct TotpParameters
{
    TotpAlgorithm algorithm = TotpAlgorithm::Sha1;
    int digits = 6;                  // 6 to 8 (RFC 4226 section 5.3)
    std::chrono::seconds period{30}; // X of RFC 6238 section 4.1
};

// RFC 6238 section 4.2: the number of whole periods since the Unix epoch (T0 = 0); nullopt
// before the epoch.
std::optional<std::uint64_t> totpTimeStep(std::chrono::system_clock::time_point at,
                                          std::chrono::seconds period);

// RFC 4226 section 5.3: HMAC of the big-endian counter, dynamic truncation, the low `digits`
// decimal digits with leading zeros. Throws std::invalid_argument for digits outside 6–8 or an
// empty key.
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                 const TotpParameters &parameters = {});

// RFC 6238: hotp() of the time step containing at.
std::string totp(std::span<const std::uint8_t> key, std::chrono::system_clock::time_point at,
                 const TotpParameters &parameters = {});

// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
// with the label and the issuer percent-encoded (RFC 3986 unreserved characters kept). Throws
// std::invalid_argument for an empty issuer or account, or a ':' in either (the label's
// separator).
std::string otpauthUri(std::string_view issuer, std::string_view account,
                       std::span<const std::uint8_t> key, const TotpParameters &parameters = {});

} // namespace vigil::server

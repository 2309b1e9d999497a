#pragma once

// JWT claim validation (RFC 7519 section 4.1, RFC 8725): the claim set of a parsed and
// signature-checked JWS is checked against what the caller expects at a given time.

#include "protocol/jose/jose.h"
#include "protocol/jose/jws.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

// A JWT that fails validation. claim() names the claim or header member at fault ("exp",
// "aud", "typ"…), or is empty when the claim set as a whole is malformed.
class JwtError : public JoseError
{
public:
    JwtError(std::string claim, const std::string &message)
        : JoseError(message), m_claim(std::move(claim))
    {
    }

    const std::string &claim() const { return m_claim; }

private:
    std::string m_claim;
};

inline constexpr std::chrono::seconds maxJwtLeeway{300};

struct JwtExpectations
{
    // The required header typ (e.g. "at+jwt"); empty: typ is not checked. Compared as RFC 7515
    // section 4.1.9 says: case-insensitively, a value without '/' meaning "application/<value>".
    std::string typ;
    std::optional<std::string> issuer;   // iss must be present and equal
    std::optional<std::string> audience; // aud (string or array of strings) must contain it;
                                         // when unset, a token with "aud" is refused
                                         // (RFC 7519 section 4.1.3)
    std::chrono::seconds leeway{30};     // clock skew allowance, clamped to [0, 300] s
    bool requireExp = true;
    std::optional<std::chrono::seconds> maxAge; // iat required, not before now-maxAge-leeway
};

// The claim set of jws (a JSON object, parsed with parseJsonObject) after checking the header
// typ, exp (now < exp + leeway), nbf (now >= nbf - leeway), iat (numeric, not after
// now + leeway, and not before now - maxAge - leeway), iss and aud. Does NOT verify the
// signature: call verifyJws first. Throws JwtError.
nlohmann::json validateJwt(const Jws &jws, const JwtExpectations &expectations,
                           std::chrono::system_clock::time_point now);

// Whether the header typ value matches expected by RFC 7515 section 4.1.9: ASCII
// case-insensitive, with "application/" assumed for a value without '/'.
bool typMatches(std::string_view typ, std::string_view expected);

// A NumericDate (RFC 7519 section 2) in seconds since the epoch: a JSON number, integer or not,
// finite, 0 <= value <= 2^53. Throws JwtError(claim, …) for anything else.
double numericDate(const nlohmann::json &value, const std::string &claim);

// now in (fractional) seconds since the epoch, the scale numericDate works in.
double epochSeconds(std::chrono::system_clock::time_point now);

} // namespace vigil::protocol

#include "protocol/jose/jwt.h"

#include "core/text.h"

#include <algorithm>
#include <cmath>

namespace vigil::protocol {

namespace {

std::string mediaType(std::string_view typ)
{
    std::string lowered = asciiLower(typ);
    if (lowered.find('/') == std::string::npos)
        lowered.insert(0, "application/");
    return lowered;
}

std::optional<double> optionalDate(const nlohmann::json &claims, const std::string &claim)
{
    const auto it = claims.find(claim);
    if (it == claims.end())
        return std::nullopt;
    return numericDate(*it, claim);
}

const std::string *optionalString(const nlohmann::json &claims, const std::string &claim)
{
    const auto it = claims.find(claim);
    if (it == claims.end())
        return nullptr;
    if (!it->is_string())
        throw JwtError(claim, "JWT \"" + claim + "\" is not a string");
    return &it->get_ref<const std::string &>();
}

void checkAudience(const nlohmann::json &claims, const std::optional<std::string> &expected)
{
    const auto aud = claims.find("aud");
    if (aud == claims.end()) {
        if (expected)
            throw JwtError("aud", "JWT has no \"aud\" claim");
        return;
    }
    const bool wellFormed =
        aud->is_string() ||
        (aud->is_array() &&
         std::all_of(aud->begin(), aud->end(), [](const auto &v) { return v.is_string(); }));
    if (!wellFormed)
        throw JwtError("aud", "JWT \"aud\" is not a string or an array of strings");
    // RFC 7519 section 4.1.3: a recipient that does not identify itself with a value in a
    // present "aud" must reject the token, so a token meant for someone is never accepted by a
    // caller that forgot to say who it is.
    if (!expected)
        throw JwtError("aud", "JWT has an \"aud\" claim but no audience is expected here");
    const bool found =
        aud->is_string()
            ? *aud == *expected
            : std::any_of(aud->begin(), aud->end(), [&](const auto &v) { return v == *expected; });
    if (!found)
        throw JwtError("aud", "JWT audience (\"aud\") does not include the expected one");
}

} // namespace

bool typMatches(std::string_view typ, std::string_view expected)
{
    return mediaType(typ) == mediaType(expected);
}

double epochSeconds(std::chrono::system_clock::time_point now)
{
    return std::chrono::duration<double>(now.time_since_epoch()).count();
}

double numericDate(const nlohmann::json &value, const std::string &claim)
{
    constexpr double maxNumericDate = 9007199254740992.0; // 2^53: exact in a double
    double seconds = -1;
    if (value.is_number_unsigned()) {
        const auto v = value.get<std::uint64_t>();
        seconds = v > std::uint64_t(1) << 53 ? -1 : static_cast<double>(v);
    } else if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        seconds = v < 0 || v > std::int64_t(1) << 53 ? -1 : static_cast<double>(v);
    } else if (value.is_number_float()) {
        seconds = value.get<double>();
    }
    // The negated comparison also refuses NaN.
    if (!(seconds >= 0 && seconds <= maxNumericDate))
        throw JwtError(claim, "JWT \"" + claim +
                                  "\" is not a NumericDate (a number of seconds from 0 to 2^53)");
    return seconds;
}

nlohmann::json validateJwt(const Jws &jws, const JwtExpectations &expectations,
                           std::chrono::system_clock::time_point now)
{
    if (!expectations.typ.empty()) {
        const auto typ = jws.header.find("typ");
        if (typ == jws.header.end())
            throw JwtError("typ",
                           "JWT header has no \"typ\"; expected \"" + expectations.typ + "\"");
        if (!typ->is_string() || !typMatches(typ->get_ref<const std::string &>(), expectations.typ))
            throw JwtError("typ", "JWT header \"typ\" is not \"" + expectations.typ + "\"");
    }

    nlohmann::json claims;
    try {
        claims = parseJsonObject(jws.payload, "JWT claim set");
    } catch (const JwtError &) {
        throw;
    } catch (const JoseError &e) {
        throw JwtError("", e.what());
    }

    const double nowSeconds = epochSeconds(now);
    const double leeway = static_cast<double>(
        std::clamp(expectations.leeway, std::chrono::seconds(0), maxJwtLeeway).count());

    const auto exp = optionalDate(claims, "exp");
    const auto nbf = optionalDate(claims, "nbf");
    const auto iat = optionalDate(claims, "iat");
    if (!exp && expectations.requireExp)
        throw JwtError("exp", "JWT has no \"exp\" claim");
    if (exp && !(nowSeconds < *exp + leeway))
        throw JwtError("exp", "JWT has expired (\"exp\")");
    if (nbf && nowSeconds < *nbf - leeway)
        throw JwtError("nbf", "JWT is not valid yet (\"nbf\")");
    if (iat && *iat > nowSeconds + leeway)
        throw JwtError("iat", "JWT \"iat\" is in the future");
    if (expectations.maxAge) {
        if (!iat)
            throw JwtError("iat", "JWT has no \"iat\" claim");
        if (*iat < nowSeconds - static_cast<double>(expectations.maxAge->count()) - leeway)
            throw JwtError("iat", "JWT is older than its maximum age (\"iat\")");
    }

    const std::string *iss = optionalString(claims, "iss");
    optionalString(claims, "sub");
    optionalString(claims, "jti");
    if (expectations.issuer) {
        if (!iss)
            throw JwtError("iss", "JWT has no \"iss\" claim");
        if (*iss != *expectations.issuer)
            throw JwtError("iss", "JWT issuer (\"iss\") is not the expected one");
    }
    checkAudience(claims, expectations.audience);
    return claims;
}

} // namespace vigil::protocol

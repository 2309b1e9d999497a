#include "protocol/jose/userproof.h"

#include "core/opensslptr.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"

#include <algorithm>
#include <array>
#include <openssl/rand.h>

namespace vigil::protocol {

namespace {

// signJws signs through a DeviceKey; the user key is only a public point and a callback.
class CallbackKey final : public DeviceKey
{
public:
    CallbackKey(const EcPublicKey &key, const DigestSigner &sign) : m_key(key), m_sign(sign) {}

    Assurance assurance() const override { return Assurance::Software; }
    EcPublicKey publicKey() const override { return m_key; }
    Bytes sign(std::span<const std::uint8_t> digest) override { return m_sign(digest); }

private:
    const EcPublicKey &m_key;
    const DigestSigner &m_sign;
};

UserProofError invalid(const std::string &message)
{
    return UserProofError("user proof: " + message);
}

std::string randomJti()
{
    std::array<std::uint8_t, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw KeyError("RAND_bytes failed: " + openSslError());
    return base64UrlEncode(bytes);
}

const std::string &requiredString(const nlohmann::json &claims, const char *name)
{
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_string())
        throw invalid(std::string("no \"") + name + "\" string claim");
    return it->get_ref<const std::string &>();
}

Jws parsed(std::string_view proof)
{
    Jws jws;
    try {
        jws = parseJws(proof, maxUserProofLength);
    } catch (const JoseError &e) {
        throw invalid(e.what());
    }
    const auto typ = jws.header.find("typ");
    if (typ == jws.header.end())
        throw invalid("header has no \"typ\"");
    if (!typMatches(typ->get_ref<const std::string &>(), userProofType))
        throw invalid("header \"typ\" is not \"vigil-user-proof+jwt\"");
    if (!jws.header.contains("kid"))
        throw invalid("header has no \"kid\"");
    // A key in the header would invite a verifier to trust it; the verifier knows the key.
    if (jws.header.contains("jwk") || jws.header.contains("jku") || jws.header.contains("x5c"))
        throw invalid("header carries a key; user proofs name theirs by \"kid\" only");
    return jws;
}

} // namespace

std::string createUserProof(const EcPublicKey &userKey, const DigestSigner &sign,
                            const UserProofRequest &request)
{
    if (request.userId.empty() || request.htm.empty() || request.jkt.empty())
        throw JoseError("user proof needs user_id, htm and jkt");
    if (request.jti.size() > maxUserProofJtiLength)
        throw JoseError("user proof \"jti\" must be 1 to 256 bytes");
    const nlohmann::json claims{
        {"user_id", request.userId},
        {"htm", request.htm},
        {"htu", normaliseHtu(request.htu)},
        {"iat", std::chrono::floor<std::chrono::seconds>(request.iat.time_since_epoch()).count()},
        {"jti", request.jti.empty() ? randomJti() : request.jti},
        {"jkt", request.jkt},
    };
    const nlohmann::json header{{"typ", userProofType}, {"kid", jwkThumbprint(userKey)}};
    CallbackKey key(userKey, sign);
    return signJws(header, claims.dump(), key);
}

std::string userProofKeyId(std::string_view proof)
{
    return parsed(proof).header["kid"].get<std::string>();
}

UserProofValidator::UserProofValidator(std::chrono::seconds iatWindow, std::size_t maxJtis)
    : m_iatWindow(std::max(iatWindow, std::chrono::seconds(0))), m_seen(maxJtis)
{
}

ValidatedUserProof UserProofValidator::check(std::string_view proof, const EcPublicKey &userKey,
                                             const UserProofExpectations &expect,
                                             std::chrono::system_clock::time_point now) const
{
    std::string expectedHtu;
    try {
        expectedHtu = normaliseHtu(expect.htu);
    } catch (const JoseError &e) {
        throw invalid(std::string("request URI: ") + e.what());
    }
    const Jws jws = parsed(proof);
    ValidatedUserProof result;
    result.kid = jws.header["kid"].get<std::string>();
    if (result.kid != jwkThumbprint(userKey))
        throw invalid("\"kid\" is not the user key enrolled for this user on this device");
    if (!verifyJws(jws, userKey))
        throw invalid("signature does not verify with the user's key");

    nlohmann::json claims;
    try {
        claims = parseJsonObject(jws.payload, "user proof claim set");
    } catch (const JoseError &e) {
        throw UserProofError(e.what());
    }
    result.jti = requiredString(claims, "jti");
    const auto jtiBytes = base64UrlDecode(result.jti);
    if (result.jti.size() > maxUserProofJtiLength || !jtiBytes ||
        jtiBytes->size() < minUserProofJtiBytes)
        throw invalid("\"jti\" must be base64url of at least 16 bytes, at most 256 characters");
    if (requiredString(claims, "user_id") != expect.userId)
        throw invalid("\"user_id\" is not the user of the request");
    if (requiredString(claims, "htm") != expect.htm)
        throw invalid("\"htm\" does not match the request method");
    std::string proofHtu;
    try {
        proofHtu = normaliseHtu(requiredString(claims, "htu"));
    } catch (const UserProofError &) {
        throw;
    } catch (const JoseError &e) {
        throw invalid(std::string("\"htu\": ") + e.what());
    }
    if (proofHtu != expectedHtu)
        throw invalid("\"htu\" does not match the request URI");
    if (requiredString(claims, "jkt") != expect.jkt)
        throw invalid("\"jkt\" is not the key of the device that signed the request");
    const auto iatClaim = claims.find("iat");
    if (iatClaim == claims.end())
        throw invalid("no \"iat\" claim");
    try {
        result.iat = numericDate(*iatClaim, "iat");
    } catch (const JwtError &) {
        throw invalid("\"iat\" is not a NumericDate");
    }
    const double nowSeconds = epochSeconds(now);
    const auto window = static_cast<double>(m_iatWindow.count());
    if (result.iat < nowSeconds - window)
        throw invalid("\"iat\" is too old");
    if (result.iat > nowSeconds + window)
        throw invalid("\"iat\" is too far in the future");
    if (m_seen.contains(result.kid, result.jti))
        throw invalid("\"jti\" has already been used (replay)");
    return result;
}

void UserProofValidator::recordUse(const ValidatedUserProof &proof,
                                   std::chrono::system_clock::time_point now)
{
    const auto window = static_cast<double>(m_iatWindow.count());
    switch (m_seen.record(proof.kid, proof.jti, proof.iat + window, epochSeconds(now))) {
    case ReplayCache::Outcome::Recorded:
        return;
    case ReplayCache::Outcome::Replayed:
        throw invalid("\"jti\" has already been used (replay)");
    case ReplayCache::Outcome::Full:
        throw invalid("replay cache is full of live proofs; proof refused");
    }
}

ValidatedUserProof UserProofValidator::validate(std::string_view proof, const EcPublicKey &userKey,
                                                const UserProofExpectations &expect,
                                                std::chrono::system_clock::time_point now)
{
    ValidatedUserProof result = check(proof, userKey, expect, now);
    recordUse(result, now);
    return result;
}

} // namespace vigil::protocol

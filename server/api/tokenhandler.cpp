#include "server/api/tokenhandler.h"

#include "core/text.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"
#include "protocol/messages.h"
#include "server/api/servicecontext.h"
#include "server/policy/policy.h"
#include "server/randomid.h"

#include <algorithm>
#include <chrono>

namespace vigil::server {

namespace {

long long epochSeconds(TimePoint time)
{
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}
} // namespace

TokenHandler::TokenHandler(ServiceContext &context)
    : m_context(context), m_verifyKey(protocol::toEvpPkey(context.tokenKey.publicKey()))
{
}

HttpResponse TokenHandler::token(const HttpRequest &request)
{
    protocol::parseBody<protocol::TokenRequest>(request.body);
    const Device device = m_context.requireDevice(request);
    const auto policy = m_context.policy();
    const TimePoint now = m_context.now();

    m_context.requireTokenEligible(device, *policy);

    const TimePoint expiresAt = now + policy->tokenTtl;
    const nlohmann::json claims = {
        {"iss", m_context.options.publicUrl},
        {"sub", device.id},
        {"aud", audience},
        {"client_id", device.id},
        {"iat", epochSeconds(now)},
        {"exp", epochSeconds(expiresAt)},
        {"jti", base64UrlEncode(randomBytes(16))},
        {"cnf", {{"jkt", device.jkt}}},
        {"assurance", device.assurance},
        {"appraisal_id", device.lastAppraisalId},
    };
    protocol::TokenResponse response;
    response.accessToken = m_context.signAccessToken(claims);
    response.expiresIn = policy->tokenTtl;
    auto out = jsonResponse(200, response.toJson());
    // RFC 6749 section 5.1: token responses are not cached.
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpResponse TokenHandler::whoami(const HttpRequest &request)
{
    if (request.headers.contains("authorization:repeated"))
        throw ApiError("invalid_token", "the request carries more than one Authorization header");
    if (!request.headers.contains("authorization")) {
        // RFC 6750 section 3.1, which RFC 9449 section 7.1 follows: a request that brought no
        // credentials gets the challenge without an error code.
        HttpResponse response = problemResponse(
            ApiError("invalid_token", "this resource needs 'Authorization: DPoP <access "
                                      "token>' and a DPoP proof"));
        for (auto &[name, value] : response.headers)
            if (name == "WWW-Authenticate")
                value = "DPoP algs=\"ES256\"";
        return response;
    }
    // credentials = auth-scheme 1*SP token68 (RFC 9110 section 11.4); the scheme is
    // case-insensitive.
    const std::string authorization = request.header("authorization");
    const std::size_t schemeEnd = std::min(authorization.find(' '), authorization.size());
    const std::size_t tokenStart =
        std::min(authorization.find_first_not_of(' ', schemeEnd), authorization.size());
    if (!equalsIgnoringAsciiCase(std::string_view(authorization).substr(0, schemeEnd), "DPoP") ||
        tokenStart == authorization.size())
        throw ApiError("invalid_token",
                       "this resource needs 'Authorization: DPoP <access token>' and a DPoP "
                       "proof");
    const std::string accessToken = authorization.substr(tokenStart);

    nlohmann::json claims;
    try {
        const auto jws = protocol::parseJws(accessToken, protocol::limits::maxAccessToken);
        if (!protocol::verifyJws(jws, m_verifyKey.get()))
            throw ApiError("invalid_token", "the access token's signature does not verify");
        protocol::JwtExpectations expect;
        expect.typ = "at+jwt";
        expect.issuer = m_context.options.publicUrl;
        expect.audience = audience;
        expect.leeway = m_context.options.clockLeeway;
        claims = protocol::validateJwt(jws, expect, m_context.now());
    } catch (const protocol::JoseError &e) {
        throw ApiError("invalid_token", std::string("access token: ") + e.what());
    }
    const auto cnf = claims.find("cnf");
    if (cnf == claims.end() || !cnf->is_object() || !cnf->contains("jkt") ||
        !(*cnf)["jkt"].is_string() || !claims.contains("sub") || !claims["sub"].is_string())
        throw ApiError("invalid_token", "the access token is not bound to a key (cnf.jkt)");

    // The proof is recorded only once it is the bound key's and its device stands, so that
    // proofs by other keys cannot fill the replay cache.
    const TimePoint at = m_context.now();
    const auto proof = m_context.checkDpop(request, at, accessToken);
    if (proof.jkt != (*cnf)["jkt"].get<std::string>())
        throw ApiError("invalid_token",
                       "the DPoP proof is signed by another key than the token is bound to");
    const auto device = m_context.storage.device(claims["sub"].get<std::string>());
    if (!device || device->revokedAt)
        throw ApiError("invalid_token", "the token's device is revoked or unknown");
    // Only this verifier signs tokens, so sub and cnf.jkt agree unless its key leaked; the
    // check costs nothing and keeps a leaked key from binding one device's id to another key.
    if (device->jkt != proof.jkt)
        throw ApiError("invalid_token",
                       "the token's key binding is not the key device " + device->id + " enrolled");
    m_context.recordDpop(proof, at);

    protocol::WhoAmI response;
    response.deviceId = device->id;
    response.assurance = *protocol::assuranceFromName(device->assurance);
    response.jkt = device->jkt;
    response.tokenExpiresAt = TimePoint(std::chrono::seconds(claims["exp"].get<long long>()));
    return jsonResponse(200, response.toJson());
}

HttpResponse TokenHandler::jwks() const
{
    protocol::Jwks keys;
    keys.keys.push_back({m_context.tokenKey.publicKey(), m_context.tokenKeyId});
    auto out = jsonResponse(200, keys.toJson());
    out.contentType = "application/jwk-set+json";
    return out;
}

} // namespace vigil::server

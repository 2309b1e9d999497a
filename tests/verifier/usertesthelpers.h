#pragma once

// Shared by the verifier's user and MFA suites: users and invites made in the verifier's
// storage, requests with the device's DPoP proof, user proofs signed through a digest signer,
// TOTP codes from the independent oathtool, and problem checks.

#include "core/bytes.h"
#include "httpsclient.h"
#include "oathtool.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/userproof.h"
#include "server/mfa/invitecodes.h"
#include "server/randomid.h"
#include "server/storage/sqlitestorage.h"
#include "testverifier.h"

#include <QByteArray>
#include <QProcess>
#include <QStringList>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vigil::test::users {

using nlohmann::json;

inline QByteArray q(const std::string &text)
{
    return QByteArray::fromStdString(text);
}

inline json body(const HttpResponse &response)
{
    return json::parse(response.body);
}

// "" when response is the RFC 9457 problem with this status and code whose detail has phrase
// (and, when given, whose evidence_error is evidenceError), else what differs.
inline QByteArray problemMismatch(const HttpResponse &response, long status,
                                  const std::string &code, const std::string &phrase,
                                  const std::string &evidenceError = {})
{
    const QByteArray text = q(response.body);
    if (response.status != status)
        return "status " + QByteArray::number(qlonglong(response.status)) + ": " + text;
    if (response.contentType != "application/problem+json")
        return "content type " + q(response.contentType) + ": " + text;
    const json problem = json::parse(response.body, nullptr, false);
    if (!problem.is_object() || problem.value("code", std::string()) != code)
        return "code is not " + q(code) + ": " + text;
    if (problem.value("detail", std::string()).find(phrase) == std::string::npos)
        return "detail lacks '" + q(phrase) + "': " + text;
    if (!evidenceError.empty() && problem.value("evidence_error", std::string()) != evidenceError)
        return "evidence_error is not " + q(evidenceError) + ": " + text;
    return {};
}

#define VERIFY_PROBLEM(response, ...)                                                              \
    do {                                                                                           \
        const QByteArray mismatch_ = vigil::test::users::problemMismatch(response, __VA_ARGS__);   \
        QVERIFY2(mismatch_.isEmpty(), mismatch_.constData());                                      \
    } while (false)

// A user added straight into the verifier's storage (what `vigil-verifier users add` does).
inline std::string addUser(TestVerifier &verifier, const std::string &name)
{
    server::User user;
    user.id = server::randomUuid();
    user.name = name;
    user.createdAt = verifier.clock().now();
    if (!verifier.storage().addUser(user))
        throw std::runtime_error("user name taken: " + name);
    return user.id;
}

// An invite code for the user, valid for ttl from the verifier's clock.
inline std::string invite(TestVerifier &verifier, const std::string &userId,
                          std::chrono::seconds ttl = std::chrono::hours(24))
{
    auto made = server::makeUserInvite(userId, verifier.clock().now(), ttl);
    verifier.storage().addUserInvite(made.invite);
    return made.code;
}

// POSTs body to path with a DPoP proof by key.
inline HttpResponse post(HttpsClient &client, TestVerifier &verifier, protocol::DeviceKey &key,
                         const std::string &path, const json &body)
{
    const std::string url = verifier.url(path);
    protocol::DpopProofRequest proof;
    proof.htm = "POST";
    proof.htu = url;
    proof.iat = verifier.clock().now();
    return client.postJson(url, body.dump(), {"DPoP: " + protocol::createDpopProof(key, proof)});
}

// A user proof for POST path by userKey (signing through sign), for the device deviceKey.
inline std::string userProof(TestVerifier &verifier, const protocol::EcPublicKey &userKey,
                             const protocol::DigestSigner &sign, const std::string &userId,
                             const std::string &path, const std::string &deviceJkt,
                             const std::string &jti = {})
{
    protocol::UserProofRequest request;
    request.userId = userId;
    request.htm = "POST";
    request.htu = verifier.url(path);
    request.iat = verifier.clock().now();
    request.jti = jti;
    request.jkt = deviceJkt;
    return protocol::createUserProof(userKey, sign, request);
}

// The signer of a DeviceKey (a software user key in tests).
inline protocol::DigestSigner signerOf(protocol::DeviceKey &key)
{
    return [&key](std::span<const std::uint8_t> digest) { return key.sign(digest); };
}

using test::oathtool;

// The secret parameter of an otpauth:// URI.
inline std::string otpauthSecret(const std::string &uri)
{
    const auto start = uri.find("secret=");
    if (start == std::string::npos)
        throw std::runtime_error("no secret in " + uri);
    const auto end = uri.find('&', start);
    return uri.substr(start + 7, end == std::string::npos ? end : end - start - 7);
}

// The claims of a compact JWS, unchecked.
inline json claimsOf(const std::string &token)
{
    return json::parse(protocol::parseJws(token).payload);
}

inline long long epochSeconds(std::chrono::system_clock::time_point time)
{
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

} // namespace vigil::test::users

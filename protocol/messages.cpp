#include "protocol/messages.h"

#include "core/text.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/json/objectreader.h"
#include "protocol/messagefields.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <vector>

namespace vigil::protocol {
using detail::childPointer;
using detail::ObjectReader;

namespace {

std::string encode(const Bytes &bytes)
{
    return base64UrlEncode(bytes);
}

// Server nonces travel as base64url text and come back verbatim as eat_nonce.
std::string nonceAt(const ObjectReader &reader, std::string_view name)
{
    reader.bytes(name, limits::maxNonce, limits::minNonce);
    return reader.value(name).get<std::string>();
}

std::vector<unsigned> pcrsAt(const ObjectReader &reader, std::string_view name)
{
    const auto &array = reader.array(name, limits::maxPcrIndex + 1);
    std::vector<unsigned> pcrs;
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string pointer = childPointer(reader.pointerTo(name), i);
        const auto pcr =
            static_cast<unsigned>(detail::integerAt(array[i], pointer, 0, limits::maxPcrIndex));
        if (std::find(pcrs.begin(), pcrs.end(), pcr) != pcrs.end())
            detail::fail(pointer, "repeats PCR " + std::to_string(pcr));
        pcrs.push_back(pcr);
    }
    return pcrs;
}

// Added to the members rather than the members copied into a new object: JSON objects keep
// their members sorted by name, so the text is the same either way.
nlohmann::json versioned(nlohmann::json members)
{
    members["version"] = protocolVersion;
    return members;
}

ObjectReader versionedReader(const nlohmann::json &json)
{
    ObjectReader reader(json, "");
    reader.requireVersion();
    return reader;
}

bool isCheckId(std::string_view id)
{
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

} // namespace

nlohmann::json parseJsonBody(std::string_view text, std::size_t maxBytes)
{
    if (text.size() > maxBytes)
        throw MessageError("", "body is larger than " + std::to_string(maxBytes) + " bytes",
                           MessageError::Kind::TooLarge);
    try {
        return parseJsonObject(text, "body");
    } catch (const JoseError &e) {
        throw MessageError("", e.what());
    }
}

std::optional<Assurance> assuranceFromName(std::string_view name)
{
    if (name == "tpm")
        return Assurance::Tpm;
    if (name == "software")
        return Assurance::Software;
    return std::nullopt;
}

// --- enrollment ---------------------------------------------------------------------------

nlohmann::json TpmEnrollment::toJson() const
{
    nlohmann::json json = {
        {"ek_public", encode(ekPublic)},
        {"ak_public", encode(akPublic)},
        {"device_key_public", encode(deviceKeyPublic)},
        {"device_key_certify",
         {{"attest", encode(deviceKeyCertify.attest)},
          {"signature", encode(deviceKeyCertify.signature)}}},
    };
    if (ekCertificate)
        json["ek_certificate"] = encode(*ekCertificate);
    if (!ekIntermediates.empty()) {
        nlohmann::json intermediates = nlohmann::json::array();
        for (const auto &der : ekIntermediates)
            intermediates.push_back(encode(der));
        json["ek_intermediates"] = std::move(intermediates);
    }
    return json;
}

TpmEnrollment TpmEnrollment::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    TpmEnrollment tpm;
    tpm.ekPublic = reader.bytes("ek_public", limits::maxTpmPublic);
    if (reader.has("ek_certificate"))
        tpm.ekCertificate = reader.bytes("ek_certificate", limits::maxCertificate);
    if (reader.has("ek_intermediates")) {
        if (!tpm.ekCertificate)
            reader.fail("ek_intermediates", "given without ek_certificate");
        const auto &array = reader.array("ek_intermediates", limits::maxIntermediates);
        for (std::size_t i = 0; i < array.size(); ++i)
            tpm.ekIntermediates.push_back(
                detail::bytesAt(array[i], childPointer(reader.pointerTo("ek_intermediates"), i),
                                limits::maxCertificate));
    }
    tpm.akPublic = reader.bytes("ak_public", limits::maxTpmPublic);
    tpm.deviceKeyPublic = reader.bytes("device_key_public", limits::maxTpmPublic);
    const ObjectReader certify = reader.object("device_key_certify");
    tpm.deviceKeyCertify.attest = certify.bytes("attest", limits::maxAttest);
    tpm.deviceKeyCertify.signature = certify.bytes("signature", limits::maxTpmSignature);
    return tpm;
}

nlohmann::json EnrollmentRequest::toJson() const
{
    nlohmann::json json = versioned({
        {"enrollment_token", enrollmentToken},
        {"assurance", assuranceName(assurance)},
        {"hostname", hostname},
        {"device_key", deviceKey},
    });
    if (tpm)
        json["tpm"] = tpm->toJson();
    return json;
}

EnrollmentRequest EnrollmentRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    EnrollmentRequest request;
    request.enrollmentToken = reader.string("enrollment_token");
    request.assurance = assuranceAt(reader, "assurance");
    request.hostname = reader.string("hostname", limits::maxHostname);
    for (const unsigned char c : request.hostname)
        if (c < 0x20 || c == 0x7f)
            reader.fail("hostname", "contains a control character");
    const auto &jwk = reader.value("device_key");
    reader.object("device_key");
    try {
        // Normalised to the RFC 7638 members, so nothing else the client sent is kept.
        request.deviceKey = ecPublicJwk(parseEcPublicJwk(jwk));
    } catch (const JwkError &e) {
        reader.fail("device_key", e.what());
    }
    if (request.assurance == Assurance::Tpm)
        request.tpm = TpmEnrollment::fromJson(reader.value("tpm"), reader.pointerTo("tpm"));
    else if (reader.has("tpm"))
        reader.fail("tpm", "must be absent for assurance \"software\"");
    return request;
}

nlohmann::json EnrollmentChallenge::toJson() const
{
    return versioned({
        {"enrollment_id", enrollmentId},
        {"expires_at", formatRfc3339(expiresAt)},
        {"credential",
         {{"credential_blob", encode(credential.credentialBlob)},
          {"encrypted_secret", encode(credential.encryptedSecret)}}},
    });
}

EnrollmentChallenge EnrollmentChallenge::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    EnrollmentChallenge challenge;
    challenge.enrollmentId = uuidAt(reader, "enrollment_id");
    challenge.expiresAt = reader.time("expires_at");
    const ObjectReader credential = reader.object("credential");
    challenge.credential.credentialBlob =
        credential.bytes("credential_blob", limits::maxCredentialBlob);
    challenge.credential.encryptedSecret =
        credential.bytes("encrypted_secret", limits::maxEncryptedSecret);
    return challenge;
}

nlohmann::json ActivationRequest::toJson() const
{
    return versioned({{"secret", encode(secret)}});
}

ActivationRequest ActivationRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    ActivationRequest request;
    request.secret = reader.bytes("secret", limits::maxActivationSecret);
    return request;
}

nlohmann::json EnrollmentComplete::toJson() const
{
    return versioned({
        {"device_id", deviceId},
        {"assurance", assuranceName(assurance)},
        {"nonce", nonce},
        {"nonce_expires_at", formatRfc3339(nonceExpiresAt)},
        {"report_interval_seconds", reportInterval.count()},
        {"pcrs", pcrs},
    });
}

EnrollmentComplete EnrollmentComplete::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    EnrollmentComplete complete;
    complete.deviceId = uuidAt(reader, "device_id");
    complete.assurance = assuranceAt(reader, "assurance");
    complete.nonce = nonceAt(reader, "nonce");
    complete.nonceExpiresAt = reader.time("nonce_expires_at");
    complete.reportInterval = std::chrono::seconds(
        reader.integer("report_interval_seconds", 1, limits::maxReportIntervalSeconds));
    complete.pcrs = pcrsAt(reader, "pcrs");
    return complete;
}

// --- nonces and reports -------------------------------------------------------------------

nlohmann::json NonceRequest::toJson() const
{
    return versioned(nlohmann::json::object());
}

NonceRequest NonceRequest::fromJson(const nlohmann::json &json)
{
    versionedReader(json);
    return {};
}

nlohmann::json NonceResponse::toJson() const
{
    return versioned({
        {"nonce", nonce},
        {"nonce_expires_at", formatRfc3339(nonceExpiresAt)},
        {"pcrs", pcrs},
    });
}

NonceResponse NonceResponse::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    NonceResponse response;
    response.nonce = nonceAt(reader, "nonce");
    response.nonceExpiresAt = reader.time("nonce_expires_at");
    response.pcrs = pcrsAt(reader, "pcrs");
    return response;
}

nlohmann::json ReportRequest::toJson() const
{
    return versioned({{"report", report}});
}

ReportRequest ReportRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    ReportRequest request;
    // The JWS itself is parsed by parseJws, which checks its form.
    request.report = reader.string("report", limits::maxReport);
    return request;
}

std::string_view verdictName(Verdict verdict)
{
    return verdict == Verdict::Compliant ? "compliant" : "non_compliant";
}

std::optional<Verdict> verdictFromName(std::string_view name)
{
    if (name == "compliant")
        return Verdict::Compliant;
    if (name == "non_compliant")
        return Verdict::NonCompliant;
    return std::nullopt;
}

std::string_view checkOutcomeName(CheckOutcome outcome)
{
    return outcome == CheckOutcome::Pass ? "pass" : "fail";
}

std::optional<CheckOutcome> checkOutcomeFromName(std::string_view name)
{
    if (name == "pass")
        return CheckOutcome::Pass;
    if (name == "fail")
        return CheckOutcome::Fail;
    return std::nullopt;
}

nlohmann::json AppraisalCheck::toJson() const
{
    nlohmann::json json = {
        {"id", id},
        {"status", checkOutcomeName(status)},
        {"summary", summary},
    };
    if (!remediation.empty())
        json["remediation"] = remediation;
    return json;
}

AppraisalCheck AppraisalCheck::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    AppraisalCheck check;
    check.id = reader.string("id", limits::maxCheckId);
    if (!isCheckId(check.id))
        reader.fail("id", "must be lower-case letters, digits and underscores");
    const auto status = checkOutcomeFromName(reader.string("status", 16));
    if (!status)
        reader.fail("status", "must be \"pass\" or \"fail\"");
    check.status = *status;
    check.summary = reader.string("summary", limits::maxString, 0);
    if (reader.has("remediation"))
        check.remediation = reader.string("remediation", limits::maxString, 0);
    return check;
}

nlohmann::json Appraisal::toJson() const
{
    nlohmann::json checksJson = nlohmann::json::array();
    for (const auto &check : checks)
        checksJson.push_back(check.toJson());
    return versioned({
        {"appraisal_id", appraisalId},
        {"verdict", verdictName(verdict)},
        {"appraised_at", formatRfc3339(appraisedAt)},
        {"checks", std::move(checksJson)},
        {"next_nonce", nextNonce},
        {"next_nonce_expires_at", formatRfc3339(nextNonceExpiresAt)},
        {"next_report_at", formatRfc3339(nextReportAt)},
        {"pcrs", pcrs},
    });
}

Appraisal Appraisal::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    Appraisal appraisal;
    appraisal.appraisalId = uuidAt(reader, "appraisal_id");
    const auto verdict = verdictFromName(reader.string("verdict", 16));
    if (!verdict)
        reader.fail("verdict", "must be \"compliant\" or \"non_compliant\"");
    appraisal.verdict = *verdict;
    appraisal.appraisedAt = reader.time("appraised_at");
    const auto &checks = reader.array("checks", limits::maxChecks);
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const std::string pointer = childPointer(reader.pointerTo("checks"), i);
        AppraisalCheck check = AppraisalCheck::fromJson(checks[i], pointer);
        for (const auto &earlier : appraisal.checks)
            if (earlier.id == check.id)
                detail::fail(pointer + "/id", "repeats check \"" + check.id + "\"");
        appraisal.checks.push_back(std::move(check));
    }
    appraisal.nextNonce = nonceAt(reader, "next_nonce");
    appraisal.nextNonceExpiresAt = reader.time("next_nonce_expires_at");
    appraisal.nextReportAt = reader.time("next_report_at");
    appraisal.pcrs = pcrsAt(reader, "pcrs");
    return appraisal;
}

// --- tokens -------------------------------------------------------------------------------

nlohmann::json TokenRequest::toJson() const
{
    return versioned(nlohmann::json::object());
}

TokenRequest TokenRequest::fromJson(const nlohmann::json &json)
{
    versionedReader(json);
    return {};
}

nlohmann::json TokenResponse::toJson() const
{
    return versioned({
        {"access_token", accessToken},
        {"token_type", "DPoP"},
        {"expires_in", expiresIn.count()},
    });
}

TokenResponse TokenResponse::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    TokenResponse response;
    response.accessToken = reader.string("access_token", limits::maxAccessToken);
    // It goes into an Authorization header: only the compact JWS alphabet may reach it.
    const bool compact =
        std::all_of(response.accessToken.begin(), response.accessToken.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
        });
    if (!compact || std::count(response.accessToken.begin(), response.accessToken.end(), '.') != 2)
        reader.fail("access_token", "must be a compact JWS");
    // RFC 6749 section 5.1: the token type is case-insensitive.
    if (!equalsIgnoringAsciiCase(reader.string("token_type", 16), "DPoP"))
        reader.fail("token_type", "must be \"DPoP\"");
    response.expiresIn =
        std::chrono::seconds(reader.integer("expires_in", 1, limits::maxTokenLifetimeSeconds));
    return response;
}

nlohmann::json WhoAmI::toJson() const
{
    return versioned({
        {"device_id", deviceId},
        {"assurance", assuranceName(assurance)},
        {"jkt", jkt},
        {"token_expires_at", formatRfc3339(tokenExpiresAt)},
    });
}

WhoAmI WhoAmI::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    WhoAmI whoAmI;
    whoAmI.deviceId = uuidAt(reader, "device_id");
    whoAmI.assurance = assuranceAt(reader, "assurance");
    reader.bytes("jkt", 32, 32); // a SHA-256 thumbprint
    whoAmI.jkt = reader.value("jkt").get<std::string>();
    whoAmI.tokenExpiresAt = reader.time("token_expires_at");
    return whoAmI;
}

// --- keys and health ----------------------------------------------------------------------

nlohmann::json Jwk::toJson() const
{
    nlohmann::json json = ecPublicJwk(key);
    json["kid"] = kid;
    json["alg"] = "ES256";
    json["use"] = "sig";
    return json;
}

Jwk Jwk::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    Jwk jwk;
    try {
        jwk.key = parseEcPublicJwk(json);
    } catch (const JwkError &e) {
        detail::fail(pointer, e.what());
    }
    jwk.kid = reader.string("kid", 128);
    if (reader.has("alg") && reader.string("alg", 16) != "ES256")
        reader.fail("alg", "must be \"ES256\"");
    if (reader.has("use") && reader.string("use", 16) != "sig")
        reader.fail("use", "must be \"sig\"");
    return jwk;
}

nlohmann::json Jwks::toJson() const
{
    nlohmann::json keysJson = nlohmann::json::array();
    for (const auto &jwk : keys)
        keysJson.push_back(jwk.toJson());
    return {{"keys", std::move(keysJson)}};
}

Jwks Jwks::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader(json, "");
    const auto &keys = reader.array("keys", limits::maxJwksKeys);
    Jwks jwks;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto &key = keys[i];
        const auto differs = [&key](const char *name, const char *expected) {
            const auto it = key.is_object() ? key.find(name) : key.end();
            return key.is_object() && it != key.end() && it->is_string() && *it != expected;
        };
        // Another kind of key (RSA, another curve, an encryption key) is not for us to use.
        if (differs("kty", "EC") || differs("crv", "P-256") || differs("alg", "ES256") ||
            differs("use", "sig"))
            continue;
        jwks.keys.push_back(Jwk::fromJson(key, childPointer(reader.pointerTo("keys"), i)));
    }
    return jwks;
}

nlohmann::json Health::toJson() const
{
    return versioned({{"status", status}});
}

Health Health::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    Health health;
    health.status = reader.string("status", 16);
    if (health.status != "ok")
        reader.fail("status", "must be \"ok\"");
    return health;
}

} // namespace vigil::protocol

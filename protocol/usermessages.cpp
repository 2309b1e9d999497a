#include "protocol/usermessages.h"

#include "core/text.h"
#include "protocol/jose/jwk.h"
#include "protocol/json/objectreader.h"
#include "protocol/messagefields.h"
#include "protocol/rfc3339.h"

#include <algorithm>

namespace vigil::protocol {
using detail::childPointer;
using detail::ObjectReader;

namespace {

constexpr std::string_view base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

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

// Printable ASCII without space or control characters: what goes into a log line or a header.
bool isPrintableToken(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string userProofAt(const ObjectReader &reader)
{
    std::string proof = reader.string("user_proof", limits::maxUserProof);
    if (!isPrintableToken(proof) || std::count(proof.begin(), proof.end(), '.') != 2)
        reader.fail("user_proof", "must be a compact JWS");
    return proof;
}

std::string otpAt(const ObjectReader &reader, std::string_view name)
{
    std::string code = reader.string(name, 6);
    if (!isTotpCode(code))
        reader.fail(name, "must be 6 digits");
    return code;
}

std::string sessionAt(const ObjectReader &reader)
{
    reader.bytes("session", limits::sessionHandleBytes, limits::sessionHandleBytes);
    return reader.value("session").get<std::string>();
}

std::string compactJwsAt(const ObjectReader &reader, std::string_view name)
{
    std::string token = reader.string(name, limits::maxAccessToken);
    const bool compact = std::all_of(token.begin(), token.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
    if (!compact || std::count(token.begin(), token.end(), '.') != 2)
        reader.fail(name, "must be a compact JWS");
    return token;
}

// An array of unique strings, each one of allowed.
std::vector<std::string> namesAt(const ObjectReader &reader, std::string_view name,
                                 std::initializer_list<std::string_view> allowed,
                                 std::size_t maxItems, bool allowEmpty)
{
    const auto &array = reader.array(name, maxItems);
    if (array.empty() && !allowEmpty)
        reader.fail(name, "must not be empty");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string pointer = childPointer(reader.pointerTo(name), i);
        const std::string value = detail::stringAt(array[i], pointer, 32);
        if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
            std::string list;
            for (const auto a : allowed)
                list += std::string(list.empty() ? "" : ", ") + std::string(a);
            detail::fail(pointer, "must be one of: " + list);
        }
        if (std::find(names.begin(), names.end(), value) != names.end())
            detail::fail(pointer, "repeats \"" + value + "\"");
        names.push_back(value);
    }
    return names;
}

} // namespace

std::optional<std::string> canonicalRecoveryCode(std::string_view typed)
{
    std::string letters;
    for (const char c : typed) {
        if (c == ' ' || c == '-')
            continue;
        const char upper = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        if (base32Alphabet.find(upper) == std::string_view::npos || letters.size() == 12)
            return std::nullopt;
        letters.push_back(upper);
    }
    if (letters.size() != 12)
        return std::nullopt;
    return letters.substr(0, 4) + '-' + letters.substr(4, 4) + '-' + letters.substr(8, 4);
}

bool isTotpCode(std::string_view text)
{
    return text.size() == 6 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view totpStateName(TotpState state)
{
    switch (state) {
    case TotpState::None:
        return "none";
    case TotpState::Pending:
        return "pending";
    case TotpState::Active:
        return "active";
    }
    return "none";
}

std::optional<TotpState> totpStateFromName(std::string_view name)
{
    for (const auto state : {TotpState::None, TotpState::Pending, TotpState::Active})
        if (totpStateName(state) == name)
            return state;
    return std::nullopt;
}

// --- enrollment ---------------------------------------------------------------------------

EcPublicKey UserKey::publicKey() const
{
    return parseEcPublicJwk(jwk);
}

nlohmann::json UserKey::toJson() const
{
    nlohmann::json json = {{"assurance", assuranceName(assurance)}, {"jwk", jwk}};
    if (tpm)
        json["tpm"] = {{"public", base64UrlEncode(tpm->publicArea)},
                       {"certify",
                        {{"attest", base64UrlEncode(tpm->certify.attest)},
                         {"signature", base64UrlEncode(tpm->certify.signature)}}}};
    return json;
}

UserKey UserKey::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    UserKey key;
    key.assurance = assuranceAt(reader, "assurance");
    reader.object("jwk");
    try {
        key.jwk = ecPublicJwk(parseEcPublicJwk(reader.value("jwk")));
    } catch (const JwkError &e) {
        reader.fail("jwk", e.what());
    }
    if (key.assurance == Assurance::Tpm) {
        const ObjectReader tpm = reader.object("tpm");
        UserKeyTpm part;
        part.publicArea = tpm.bytes("public", limits::maxTpmPublic);
        const ObjectReader certify = tpm.object("certify");
        part.certify.attest = certify.bytes("attest", limits::maxAttest);
        part.certify.signature = certify.bytes("signature", limits::maxTpmSignature);
        key.tpm = std::move(part);
    } else if (reader.has("tpm")) {
        reader.fail("tpm", "must be absent for assurance \"software\"");
    }
    return key;
}

nlohmann::json UserEnrollmentRequest::toJson() const
{
    nlohmann::json json =
        versioned({{"local_account", localAccount}, {"user_key", userKey.toJson()}});
    if (inviteCode)
        json["invite_code"] = *inviteCode;
    if (userId)
        json["user_id"] = *userId;
    if (recoveryCode)
        json["recovery_code"] = *recoveryCode;
    return json;
}

UserEnrollmentRequest UserEnrollmentRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    UserEnrollmentRequest request;
    if (reader.has("invite_code")) {
        if (reader.has("recovery_code") || reader.has("user_id"))
            reader.fail("invite_code", "given with recovery_code or user_id; send one or the "
                                       "other");
        request.inviteCode = reader.string("invite_code", limits::maxInviteCode);
        if (!isPrintableToken(*request.inviteCode))
            reader.fail("invite_code", "has a space, control or non-ASCII character");
    } else {
        if (!reader.has("recovery_code") && !reader.has("user_id"))
            reader.fail("invite_code", "missing (or user_id and recovery_code)");
        request.userId = uuidAt(reader, "user_id");
        // Kept as sent: the TPM's certify covers the code in that form.
        request.recoveryCode = reader.string("recovery_code", 64);
        if (!canonicalRecoveryCode(*request.recoveryCode))
            reader.fail("recovery_code", "must be 12 base32 characters like ABCD-EFGH-IJKL");
    }
    request.localAccount = reader.string("local_account", limits::maxLocalAccount);
    // A login name: it lands in log lines and in the device's users directory.
    if (!isPrintableToken(request.localAccount) ||
        request.localAccount.find_first_of("/:") != std::string::npos ||
        request.localAccount.front() == '-' || request.localAccount.front() == '.')
        reader.fail("local_account", "is not a login name");
    request.userKey = UserKey::fromJson(reader.value("user_key"), reader.pointerTo("user_key"));
    return request;
}

nlohmann::json UserEnrollmentResponse::toJson() const
{
    return versioned({
        {"user_id", userId},
        {"name", name},
        {"device_id", deviceId},
        {"key_assurance", assuranceName(keyAssurance)},
        {"totp", totpStateName(totp)},
    });
}

UserEnrollmentResponse UserEnrollmentResponse::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    UserEnrollmentResponse response;
    response.userId = uuidAt(reader, "user_id");
    response.name = reader.string("name", limits::maxUserName);
    response.deviceId = uuidAt(reader, "device_id");
    response.keyAssurance = assuranceAt(reader, "key_assurance");
    const auto totp = totpStateFromName(reader.string("totp", 16));
    if (!totp)
        reader.fail("totp", "must be \"none\", \"pending\" or \"active\"");
    response.totp = *totp;
    return response;
}

// --- TOTP and recovery codes --------------------------------------------------------------

nlohmann::json UserProofBody::toJson() const
{
    return versioned({{"user_proof", userProof}});
}

UserProofBody UserProofBody::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    return UserProofBody{userProofAt(reader)};
}

nlohmann::json TotpEnrollment::toJson() const
{
    return versioned({{"otpauth_uri", otpauthUri}, {"expires_at", formatRfc3339(expiresAt)}});
}

TotpEnrollment TotpEnrollment::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    TotpEnrollment enrollment;
    enrollment.otpauthUri = reader.string("otpauth_uri", limits::maxOtpauthUri);
    if (!enrollment.otpauthUri.starts_with("otpauth://totp/") ||
        !isPrintableToken(enrollment.otpauthUri))
        reader.fail("otpauth_uri", "must be an otpauth://totp/ URI");
    enrollment.expiresAt = reader.time("expires_at");
    return enrollment;
}

nlohmann::json TotpActivationRequest::toJson() const
{
    return versioned({{"user_proof", userProof}, {"code", code}});
}

TotpActivationRequest TotpActivationRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    TotpActivationRequest request;
    request.userProof = userProofAt(reader);
    request.code = otpAt(reader, "code");
    return request;
}

nlohmann::json RecoveryCodes::toJson() const
{
    return versioned({{"recovery_codes", codes}});
}

RecoveryCodes RecoveryCodes::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    const auto &array = reader.array("recovery_codes", limits::maxRecoveryCodes);
    if (array.empty())
        reader.fail("recovery_codes", "must not be empty");
    RecoveryCodes codes;
    for (std::size_t i = 0; i < array.size(); ++i) {
        const std::string pointer = childPointer(reader.pointerTo("recovery_codes"), i);
        const std::string code = detail::stringAt(array[i], pointer, 14);
        if (canonicalRecoveryCode(code) != code)
            detail::fail(pointer, "must be 12 base32 characters like ABCD-EFGH-IJKL");
        if (std::find(codes.codes.begin(), codes.codes.end(), code) != codes.codes.end())
            detail::fail(pointer, "repeats an earlier code");
        codes.codes.push_back(code);
    }
    return codes;
}

// --- sessions and tokens ------------------------------------------------------------------

nlohmann::json SignInRequest::toJson() const
{
    nlohmann::json json = versioned(nlohmann::json::object());
    if (userProof)
        json["user_proof"] = *userProof;
    if (otp)
        json["otp"] = *otp;
    return json;
}

SignInRequest SignInRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    SignInRequest request;
    if (reader.has("user_proof"))
        request.userProof = userProofAt(reader);
    if (reader.has("otp"))
        request.otp = otpAt(reader, "otp");
    if (!request.userProof && !request.otp)
        reader.fail("user_proof", "missing, and so is otp: a sign-in needs at least one factor");
    return request;
}

nlohmann::json UserSession::toJson() const
{
    return versioned({
        {"session", session},
        {"auth_time", formatRfc3339(authTime)},
        {"expires_at", formatRfc3339(expiresAt)},
        {"amr", amr},
        {"acr", acr},
        {"reauthenticate_on", reauthenticateOn},
        {"warn_before_seconds", warnBefore.count()},
        {"access_token", accessToken},
        {"expires_in", expiresIn.count()},
    });
}

UserSession UserSession::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    UserSession session;
    session.session = sessionAt(reader);
    session.authTime = reader.time("auth_time");
    session.expiresAt = reader.time("expires_at");
    if (session.expiresAt < session.authTime)
        reader.fail("expires_at", "is before auth_time");
    session.amr =
        namesAt(reader, "amr", {"hwk", "swk", "pin", "otp", "mfa"}, limits::maxAmr, false);
    session.acr = reader.string("acr", limits::maxAcr);
    if (!session.acr.starts_with("urn:") || !isPrintableToken(session.acr))
        reader.fail("acr", "must be a URN");
    session.reauthenticateOn = namesAt(reader, "reauthenticate_on", {"unlock", "resume"}, 2, true);
    session.warnBefore = std::chrono::seconds(
        reader.integer("warn_before_seconds", 0, limits::maxWarnBeforeSeconds));
    session.accessToken = compactJwsAt(reader, "access_token");
    session.expiresIn =
        std::chrono::seconds(reader.integer("expires_in", 1, limits::maxTokenLifetimeSeconds));
    return session;
}

nlohmann::json SessionRequest::toJson() const
{
    return versioned({{"session", session}});
}

SessionRequest SessionRequest::fromJson(const nlohmann::json &json)
{
    const ObjectReader reader = versionedReader(json);
    return SessionRequest{sessionAt(reader)};
}

} // namespace vigil::protocol

#include "server/api/userhandler.h"

#include "attestation/attestverifier.h"
#include "attestation/evidenceerror.h"
#include "attestation/tpmpublic.h"
#include "attestation/userkeypublic.h"
#include "core/sha256.h"
#include "protocol/jose/jwk.h"
#include "server/api/usercontext.h"
#include "server/mfa/invitecodes.h"
#include "server/policy/policy.h"

namespace vigil::server {
using attestation::EvidenceError;
using attestation::EvidenceException;

namespace {

// The user key signs JWS inputs with the PIN as its authValue: it must live and stay in the TPM
// (fixedTPM, fixedParent, sensitiveDataOrigin), need its authValue for signing (userWithAuth),
// be counted by the dictionary-attack lockout (noDA clear: that is what stops PIN guessing),
// and sign arbitrary digests (sign set, restricted and decrypt clear).
void checkUserKeyAttributes(const attestation::TpmPublic &key)
{
    const TPMT_PUBLIC &area = key.area();
    if (area.type != TPM2_ALG_ECC || area.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
        throw EvidenceException(EvidenceError::UnsupportedAlgorithm,
                                "the user key is not an ECC NIST P-256 key");
    const TPMA_OBJECT attributes = area.objectAttributes;
    std::string wrong;
    const auto note = [&](bool bad, const char *what) {
        if (bad)
            wrong += std::string(wrong.empty() ? "" : ", ") + what;
    };
    note(!(attributes & TPMA_OBJECT_FIXEDTPM), "fixedTPM clear");
    note(!(attributes & TPMA_OBJECT_FIXEDPARENT), "fixedParent clear");
    note(!(attributes & TPMA_OBJECT_SENSITIVEDATAORIGIN), "sensitiveDataOrigin clear");
    note(!(attributes & TPMA_OBJECT_USERWITHAUTH), "userWithAuth clear");
    note(!(attributes & TPMA_OBJECT_SIGN_ENCRYPT), "sign clear");
    note(attributes & TPMA_OBJECT_RESTRICTED, "restricted set");
    note(attributes & TPMA_OBJECT_DECRYPT, "decrypt set");
    note(attributes & TPMA_OBJECT_NODA, "noDA set (the PIN would not be guarded against guessing)");
    if (!wrong.empty())
        throw EvidenceException(EvidenceError::KeyAttributes, "the user key has " + wrong);
    // The rest of what vigild's own check asks (name algorithm, adminWithPolicy, no
    // authPolicy, ECDSA with SHA-256): one rule for both sides.
    if (const std::string problem = attestation::userKeyPublicProblem(area); !problem.empty())
        throw EvidenceException(EvidenceError::KeyAttributes, "the user key: " + problem);
}

std::string mode(const protocol::UserEnrollmentRequest &enrollment)
{
    return enrollment.inviteCode ? "an invite" : "a recovery code";
}

} // namespace

void checkTpmUserKey(const protocol::UserKey &key, const Bytes &akPublic,
                     const Bytes &qualifyingData)
{
    std::string field = "/user_key/tpm/public";
    try {
        const auto tpmPublic = attestation::TpmPublic::parse(key.tpm->publicArea);
        checkUserKeyAttributes(tpmPublic);
        const auto pkey = tpmPublic.publicKey();
        const auto point = protocol::fromEvpPkey(pkey.get());
        const auto jwk = key.publicKey();
        if (point.x != jwk.x || point.y != jwk.y)
            throw ApiError("evidence_rejected",
                           "/user_key/jwk: the JWK is not the key in /user_key/tpm/public",
                           "/user_key/jwk", "key_mismatch");
        field = "/user_key/tpm/certify";
        attestation::verifyCertify(key.tpm->certify, akPublic, key.tpm->publicArea, qualifyingData);
    } catch (const EvidenceException &e) {
        throw ApiError("evidence_rejected", field + ": " + e.what(), field,
                       std::string(attestation::evidenceErrorName(e.error())));
    }
}

UserHandler::UserHandler(UserContext &context) : m_context(context) {}

HttpResponse UserHandler::enroll(const HttpRequest &request)
{
    const auto enrollment = protocol::parseBody<protocol::UserEnrollmentRequest>(request.body);
    ServiceContext &service = m_context.service;
    const Device device = service.requireDevice(request);
    const auto policy = service.policy();
    const protocol::UserKey &key = enrollment.userKey;
    const std::string assurance(protocol::assuranceName(key.assurance));

    if (key.assurance == protocol::Assurance::Tpm && device.akPublic.empty())
        throw ApiError("invalid_request",
                       "device " + device.id +
                           " has no TPM attestation key: it enrolls software user keys only",
                       "/user_key/assurance");
    if (!policy->users.acceptsKeyAssurance(assurance))
        throw ApiError("assurance_not_allowed",
                       "the policy does not accept user keys with assurance '" + assurance + "'",
                       "/user_key/assurance");
    // Evidence before the code: bad evidence does not spend an invite or a recovery code.
    const std::string &code =
        enrollment.inviteCode ? *enrollment.inviteCode : *enrollment.recoveryCode;
    if (key.tpm)
        checkTpmUserKey(key, device.akPublic, sha256(code));

    const User user = admit(enrollment, device);
    UserDevice stored;
    stored.userId = user.id;
    stored.deviceId = device.id;
    stored.localAccount = enrollment.localAccount;
    stored.keyAssurance = assurance;
    stored.keyJwk = key.jwk.dump();
    stored.keyJkt = protocol::jwkThumbprint(key.publicKey());
    stored.enrolledAt = service.now();
    service.storage.putUserDevice(stored);
    // A replaced key ends the sessions the old one started on this device: a PIN reset is
    // often because the old PIN is no longer secret.
    for (const UserSession &session :
         service.storage.activeUserSessions(user.id, stored.enrolledAt))
        if (session.deviceId == device.id)
            service.storage.revokeUserSession(session.handleHash, stored.enrolledAt);
    qCInfo(lcUsers).noquote() << QString::fromStdString(
        "user " + user.name + " (" + user.id + ") enrolled a " + assurance + " key on device " +
        device.id + " for local account " + enrollment.localAccount + " with " + mode(enrollment));

    protocol::UserEnrollmentResponse response;
    response.userId = user.id;
    response.name = user.name;
    response.deviceId = device.id;
    response.keyAssurance = key.assurance;
    response.totp = *protocol::totpStateFromName(m_context.totpState(user.id));
    return jsonResponse(201, response.toJson());
}

User UserHandler::admit(const protocol::UserEnrollmentRequest &enrollment, const Device &device)
{
    ServiceContext &service = m_context.service;
    const TimePoint now = service.now();
    if (enrollment.inviteCode) {
        const auto invite = service.storage.redeemUserInvite(inviteCodeHash(*enrollment.inviteCode),
                                                             now, device.id);
        // One answer for unknown, used and expired: the code is all a guesser has.
        if (!invite)
            throw ApiError("invalid_invite",
                           "the invite is unknown, used or expired; ask for a "
                           "new one",
                           "/invite_code");
        auto user = service.storage.user(invite->userId);
        if (!user)
            throw StorageError("invite " + invite->id + " names no user");
        if (user->disabledAt)
            throw ApiError("user_disabled", "user " + user->name + " is disabled");
        return std::move(*user);
    }
    const auto refused = [] {
        return ApiError("invalid_recovery_code",
                        "the recovery code is not an unused code of this user on this device",
                        "/recovery_code");
    };
    auto user = service.storage.user(*enrollment.userId);
    if (!user)
        throw refused();
    if (user->disabledAt)
        throw ApiError("user_disabled", "user " + user->name + " is disabled");
    // A recovery code replaces the key of a forgotten PIN; a new device needs an invite.
    if (!service.storage.userDevice(user->id, device.id))
        throw refused();
    if (!m_context.recovery.use(user->id, *enrollment.recoveryCode, now))
        throw refused();
    return std::move(*user);
}

HttpResponse UserHandler::beginTotp(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::UserProofBody>(request.body);
    const auto who = m_context.requireUserProof(request, userId, body.userProof);
    const auto enrollment =
        m_context.totp.beginEnrollment(who.user, m_context.service.options.totpIssuer);
    if (!enrollment)
        throw ApiError("totp_active", "user " + who.user.name +
                                          " has an active TOTP already; an administrator "
                                          "resets it (vigil-verifier users totp-reset)");
    protocol::TotpEnrollment response{enrollment->otpauthUri, enrollment->expiresAt};
    auto out = jsonResponse(201, response.toJson());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpResponse UserHandler::activateTotp(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::TotpActivationRequest>(request.body);
    const auto who = m_context.requireUserProof(request, userId, body.userProof);
    const TotpCheck check = m_context.totp.activate(who.user.id, body.code);
    if (check.result != TotpCheck::Result::Accepted)
        throw UserContext::totpRefused(check);
    qCInfo(lcUsers).noquote() << QString::fromStdString("user " + who.user.name + " (" +
                                                        who.user.id + ") activated TOTP");
    protocol::RecoveryCodes response{
        m_context.recovery.regenerate(who.user.id, m_context.service.now())};
    auto out = jsonResponse(200, response.toJson());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

HttpResponse UserHandler::recoveryCodes(const HttpRequest &request, const std::string &userId)
{
    const auto body = protocol::parseBody<protocol::UserProofBody>(request.body);
    const auto who = m_context.requireUserProof(request, userId, body.userProof);
    protocol::RecoveryCodes response{
        m_context.recovery.regenerate(who.user.id, m_context.service.now())};
    qCInfo(lcUsers).noquote() << QString::fromStdString(
        "user " + who.user.name + " (" + who.user.id + ") made new recovery codes on device " +
        who.device.id);
    auto out = jsonResponse(200, response.toJson());
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
}

} // namespace vigil::server

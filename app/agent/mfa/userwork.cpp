#include "app/agent/mfa/userwork.h"

#include "app/agent/mfa/tpmuserkey.h"
#include "app/client/httpstransport.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/privatefile.h"
#include "core/secretbytes.h"
#include "core/sha256.h"
#include "protocol/jose/userproof.h"
#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"

namespace vigil::agent {

namespace ipc = protocol::ipc;

namespace {

[[noreturn]] void refuse(ipc::ErrorCode code, std::string message)
{
    throw UserWorkError(ipc::Error{code, std::move(message), {}});
}

SecretBytes bytesOf(const ipc::SecretText &secret)
{
    return SecretBytes(secret.reveal());
}

ipc::Error keyError(const UserKeyError &e, protocol::Assurance assurance)
{
    const char *locks =
        assurance == protocol::Assurance::Tpm ? "the TPM locks the key" : "the key is locked";
    switch (e.kind()) {
    case UserKeyError::Kind::WrongPin:
        return {ipc::ErrorCode::WrongPin, wrongPinMessage(e.attempts(), locks), {}};
    case UserKeyError::Kind::LockedOut:
        return {ipc::ErrorCode::PinLocked,
                "too many wrong PINs: the key takes no PIN for " +
                    std::to_string(e.attempts().lockedOutFor.count()) + " s",
                {}};
    case UserKeyError::Kind::Locked:
        return {ipc::ErrorCode::PinLocked,
                "the key is locked after too many wrong PINs: `vigilctl mfa pin reset` with a "
                "recovery code replaces it",
                {}};
    case UserKeyError::Kind::BadPin:
        return {ipc::ErrorCode::InvalidParams, e.what(), {}};
    case UserKeyError::Kind::Corrupt:
        return {ipc::ErrorCode::Internal, std::string("the user key: ") + e.what(), {}};
    case UserKeyError::Kind::Unavailable:
        break;
    }
    return {ipc::ErrorCode::Unavailable, std::string("the user key: ") + e.what(), {}};
}

ipc::Error verifierError(const app::VerifierError &e)
{
    const std::string &code = e.problem().code;
    if (code == "invalid_code" || code == "invalid_recovery_code")
        return {ipc::ErrorCode::InvalidCode, e.what(), {}};
    if (code == "authentication_required")
        return {ipc::ErrorCode::AuthenticationRequired, e.what(), {}};
    return {ipc::ErrorCode::Refused, e.what(), {}};
}

} // namespace

UserWork::UserWork(app::VerifierClient &client, UserKeyStore &keys,
                   attestation::TpmIdentity *identity, const Clock &clock)
    : m_client(client), m_keys(keys), m_identity(identity), m_clock(clock)
{
}

template <typename F> auto UserWork::guarded(F &&call)
{
    try {
        return call();
    } catch (const UserWorkError &) {
        throw;
    } catch (const UserKeyError &e) {
        throw UserWorkError(
            keyError(e, m_identity ? protocol::Assurance::Tpm : protocol::Assurance::Software));
    } catch (const app::VerifierError &e) {
        throw UserWorkError(verifierError(e));
    } catch (const app::TransportError &e) {
        refuse(ipc::ErrorCode::Unavailable,
               std::string("the verifier cannot be reached: ") + e.what());
    } catch (const app::InvalidResponseError &e) {
        refuse(ipc::ErrorCode::Unavailable, e.what());
    }
}

std::optional<UserWork::Record> UserWork::readRecord(uid_t uid) const
{
    const auto path = m_keys.directoryOf(uid) / userFileName;
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        return std::nullopt;
    const Bytes bytes = readPrivateFile(path, 64 * 1024, "user file");
    nlohmann::json json;
    const std::string failure = protocol::parseStrictJson(
        std::string_view(reinterpret_cast<const char *>(bytes.data()), bytes.size()), json);
    if (!failure.empty())
        refuse(ipc::ErrorCode::Internal, path.string() + " is not JSON: " + failure);
    try {
        const protocol::detail::ObjectReader reader(json, "");
        Record record;
        record.userId = reader.string("user_id", 36);
        record.name = reader.string("name", protocol::limits::maxUserName);
        const auto assurance = protocol::assuranceFromName(reader.string("key_assurance", 16));
        const auto totp = protocol::totpStateFromName(reader.string("totp", 16));
        if (!assurance || !totp)
            reader.fail("key_assurance", "or totp is not one of its values");
        record.keyAssurance = *assurance;
        record.totp = *totp;
        return record;
    } catch (const protocol::MessageError &e) {
        refuse(ipc::ErrorCode::Internal, path.string() + ": " + e.what());
    }
}

void UserWork::writeRecord(uid_t uid, const Record &record) const
{
    const std::string text =
        nlohmann::json{{"user_id", record.userId},
                       {"name", record.name},
                       {"key_assurance", protocol::assuranceName(record.keyAssurance)},
                       {"totp", protocol::totpStateName(record.totp)},
                       {"verifier", m_client.baseUrl()}}
            .dump(2) +
        "\n";
    writePrivateFile(m_keys.directoryOf(uid) / userFileName,
                     std::span(reinterpret_cast<const std::uint8_t *>(text.data()), text.size()),
                     Replace::Allowed, "user file");
}

UserWork::Record UserWork::recordOrRefuse(uid_t uid) const
{
    auto record = readRecord(uid);
    if (!record || !m_keys.hasKey(uid))
        refuse(ipc::ErrorCode::NotEnrolledUser,
               "uid " + std::to_string(uid) +
                   " has no Vigil user on this device: `vigilctl mfa enroll` with an invite");
    return *record;
}

attestation::TpmSlotLease UserWork::userKeySlot()
{
    // Without a resource manager the TPM may hold three objects: the device key steps out
    // while a user key and its SRK are in (tpmidentity.h). Only for the key work itself: the
    // device key signs the DPoP proof of the request that follows.
    return m_identity ? m_identity->leaseDeviceKeySlot() : attestation::TpmSlotLease();
}

std::optional<ipc::MfaUserInfo> UserWork::find(uid_t uid)
{
    return guarded([&]() -> std::optional<ipc::MfaUserInfo> {
        const auto record = readRecord(uid);
        if (!record || !m_keys.hasKey(uid))
            return std::nullopt;
        ipc::MfaUserInfo user;
        user.userId = record->userId;
        user.name = record->name;
        user.keyAssurance = record->keyAssurance;
        user.totp = *ipc::totpStateFromName(protocol::totpStateName(record->totp));
        const PinAttempts attempts = m_keys.open(uid)->attempts();
        if (attempts.attemptsLeft)
            user.pinAttemptsLeft = *attempts.attemptsLeft;
        if (attempts.lockedOutFor.count() > 0)
            user.pinLockedOutSeconds = attempts.lockedOutFor.count();
        return user;
    });
}

ipc::MfaUserInfo UserWork::enrollKey(uid_t uid, const std::string &localAccount,
                                     protocol::UserEnrollmentRequest request,
                                     const std::string &qualifier, const ipc::SecretText &pin)
{
    const SecretBytes pinBytes = bytesOf(pin);
    // The key in use stays usable until the verifier has the new one: an invite that turns out
    // expired or a mistyped recovery code must not cost the user their working key.
    const UserKeyStore::Snapshot previous = m_keys.snapshot(uid);
    protocol::UserEnrollmentResponse enrolled;
    try {
        newKey(uid, request, qualifier, pinBytes);
        request.localAccount = localAccount;
        enrolled = m_client.enrollUser(request);
    } catch (...) {
        m_keys.restore(uid, previous);
        throw;
    }
    Record record{enrolled.userId, enrolled.name, enrolled.keyAssurance, enrolled.totp};
    writeRecord(uid, record);
    auto user = find(uid);
    if (!user)
        refuse(ipc::ErrorCode::Internal, "the new user key is not where it was written");
    return *user;
}

void UserWork::newKey(uid_t uid, protocol::UserEnrollmentRequest &request,
                      const std::string &qualifier, const SecretBytes &pinBytes)
{
    // Wrong PINs count toward the TPM's lockout, which covers the whole chip: keys without noDA
    // would then be refused too. The AK and device key have it since PIN keys exist; an
    // identity made before must not be put at risk by one.
    if (m_identity)
        for (const Bytes *area :
             {&m_identity->attestationKeyPublic(), &m_identity->deviceKeyPublic()})
            if (!(attestation::unmarshalPublic(*area).publicArea.objectAttributes &
                  TPMA_OBJECT_NODA))
                refuse(ipc::ErrorCode::Unavailable,
                       "this device's TPM keys predate PIN-protected user keys (they lack "
                       "noDA, so wrong PINs could lock attestation out): enroll the device "
                       "again, then set up sign-in");
    const auto slot = userKeySlot();
    const std::unique_ptr<UserKey> key = m_keys.create(uid, pinBytes);
    request.userKey.assurance = key->assurance();
    request.userKey.jwk = key->publicJwk();
    if (key->assurance() != protocol::Assurance::Tpm)
        return;
    if (!m_identity)
        refuse(ipc::ErrorCode::Internal, "a TPM user key on a device without its TPM identity");
    auto &tpmKey = static_cast<TpmUserKey &>(*key);
    // Binds the certify to this enrollment's invite or recovery code (contract 5.9).
    protocol::UserKeyTpm tpm;
    tpm.publicArea = tpmKey.tpmPublic();
    tpm.certify = tpmKey.certify(m_identity->attestationKey(), sha256(qualifier), pinBytes);
    request.userKey.tpm = std::move(tpm);
}

ipc::MfaUserInfo UserWork::enroll(uid_t uid, const std::string &localAccount,
                                  const ipc::SecretText &inviteCode, const ipc::SecretText &pin)
{
    return guarded([&] {
        // The certify's qualifier is a copy: request is moved into the call.
        const std::string qualifier(inviteCode.reveal());
        protocol::UserEnrollmentRequest request;
        request.inviteCode = qualifier;
        return enrollKey(uid, localAccount, std::move(request), qualifier, pin);
    });
}

ipc::MfaUserInfo UserWork::resetPin(uid_t uid, const std::string &localAccount,
                                    const ipc::SecretText &recoveryCode,
                                    const ipc::SecretText &newPin)
{
    return guarded([&] {
        const Record record = recordOrRefuse(uid);
        protocol::UserEnrollmentRequest request;
        request.userId = record.userId;
        const std::string qualifier(recoveryCode.reveal());
        request.recoveryCode = qualifier;
        return enrollKey(uid, localAccount, std::move(request), qualifier, newPin);
    });
}

void UserWork::changePin(uid_t uid, const ipc::SecretText &pin, const ipc::SecretText &newPin)
{
    guarded([&] {
        (void)recordOrRefuse(uid);
        const auto slot = userKeySlot();
        m_keys.open(uid)->changePin(bytesOf(pin), bytesOf(newPin));
        return 0;
    });
}

std::string UserWork::proof(uid_t uid, const Record &record, const std::string &rest,
                            const ipc::SecretText &pin)
{
    const std::unique_ptr<UserKey> key = m_keys.open(uid);
    const SecretBytes pinBytes = bytesOf(pin);
    protocol::UserProofRequest request;
    request.userId = record.userId;
    request.htm = "POST";
    request.htu = m_client.userUrl(app::VerifierClient::userPath(record.userId, rest));
    request.iat = m_clock.now();
    request.jkt = m_client.deviceKeyThumbprint();
    const auto slot = userKeySlot();
    return protocol::createUserProof(
        key->publicKey(),
        [&](std::span<const std::uint8_t> digest) { return key->sign(digest, pinBytes); }, request);
}

protocol::TotpEnrollment UserWork::beginTotp(uid_t uid, const ipc::SecretText &pin)
{
    return guarded([&] {
        Record record = recordOrRefuse(uid);
        auto totp = m_client.beginTotp(record.userId, proof(uid, record, "/totp", pin));
        record.totp = protocol::TotpState::Pending;
        writeRecord(uid, record);
        return totp;
    });
}

protocol::RecoveryCodes UserWork::activateTotp(uid_t uid, const ipc::SecretText &pin,
                                               const ipc::SecretText &code)
{
    return guarded([&] {
        Record record = recordOrRefuse(uid);
        protocol::TotpActivationRequest request;
        request.userProof = proof(uid, record, "/totp/activation", pin);
        request.code = std::string(code.reveal());
        auto codes = m_client.activateTotp(record.userId, request);
        record.totp = protocol::TotpState::Active;
        writeRecord(uid, record);
        return codes;
    });
}

protocol::RecoveryCodes UserWork::newRecoveryCodes(uid_t uid, const ipc::SecretText &pin)
{
    return guarded([&] {
        const Record record = recordOrRefuse(uid);
        return m_client.newRecoveryCodes(record.userId, proof(uid, record, "/recovery-codes", pin));
    });
}

protocol::UserSession UserWork::signIn(uid_t uid, const std::optional<ipc::SecretText> &pin,
                                       const std::optional<ipc::SecretText> &otp)
{
    return guarded([&] {
        const Record record = recordOrRefuse(uid);
        protocol::SignInRequest request;
        if (pin)
            request.userProof = proof(uid, record, "/sessions", *pin);
        if (otp)
            request.otp = std::string(otp->reveal());
        return m_client.signInUser(record.userId, request);
    });
}

protocol::TokenResponse UserWork::token(uid_t uid, const std::string &session)
{
    return guarded([&] { return m_client.userToken(recordOrRefuse(uid).userId, session); });
}

void UserWork::revoke(uid_t uid, const std::string &session)
{
    guarded([&] {
        m_client.revokeUserSession(recordOrRefuse(uid).userId, session);
        return 0;
    });
}

} // namespace vigil::agent

#pragma once

// The users' work that needs the user key or the verifier (docs/mfa.md, contract 5.9 to 5.15),
// for vigild's device thread: every call is synchronous and may take seconds (the TPM, scrypt,
// HTTPS). Each uid's Vigil user is its user key (UserKeyStore) and user.json beside it (user
// id, name, key assurance, TOTP state). Failures come out as the IPC error the caller answers
// with (UserWorkError): wrong_pin and pin_locked from the key, invalid_code, authentication_
// required and refused from the verifier's problems, unavailable when it cannot be reached.

#include "app/agent/mfa/userkeystore.h"
#include "app/client/verifierclient.h"
#include "attestation/tpm/tpm.h"
#include "protocol/ipc/envelope.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/secrettext.h"
#include "protocol/usermessages.h"

#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace vigil::attestation {
class TpmIdentity;
}

namespace vigil::agent {

class UserWorkError : public std::runtime_error
{
public:
    explicit UserWorkError(protocol::ipc::Error error)
        : std::runtime_error(error.message), m_error(std::move(error))
    {
    }
    const protocol::ipc::Error &error() const { return m_error; }

private:
    protocol::ipc::Error m_error;
};

class UserWork
{
public:
    static constexpr const char *userFileName = "user.json";

    // identity: the device's TPM identity (its AK certifies TPM user keys); null without a TPM.
    UserWork(app::VerifierClient &client, UserKeyStore &keys, attestation::TpmIdentity *identity,
             const Clock &clock);

    // uid's user (no session), or nullopt when uid has none here.
    std::optional<protocol::ipc::MfaUserInfo> find(uid_t uid);
    // A new user key under pin, enrolled with the invite; replaces uid's key and user.
    protocol::ipc::MfaUserInfo enroll(uid_t uid, const std::string &localAccount,
                                      const protocol::ipc::SecretText &inviteCode,
                                      const protocol::ipc::SecretText &pin);
    // A new user key under newPin, enrolled with a recovery code in place of an invite.
    protocol::ipc::MfaUserInfo resetPin(uid_t uid, const std::string &localAccount,
                                        const protocol::ipc::SecretText &recoveryCode,
                                        const protocol::ipc::SecretText &newPin);
    void changePin(uid_t uid, const protocol::ipc::SecretText &pin,
                   const protocol::ipc::SecretText &newPin);
    protocol::TotpEnrollment beginTotp(uid_t uid, const protocol::ipc::SecretText &pin);
    protocol::RecoveryCodes activateTotp(uid_t uid, const protocol::ipc::SecretText &pin,
                                         const protocol::ipc::SecretText &code);
    protocol::RecoveryCodes newRecoveryCodes(uid_t uid, const protocol::ipc::SecretText &pin);
    protocol::UserSession signIn(uid_t uid, const std::optional<protocol::ipc::SecretText> &pin,
                                 const std::optional<protocol::ipc::SecretText> &otp);
    protocol::TokenResponse token(uid_t uid, const std::string &session);
    void revoke(uid_t uid, const std::string &session);

private:
    struct Record
    {
        std::string userId;
        std::string name;
        protocol::Assurance keyAssurance = protocol::Assurance::Tpm;
        protocol::TotpState totp = protocol::TotpState::None;
    };
    std::optional<Record> readRecord(uid_t uid) const;
    void writeRecord(uid_t uid, const Record &record) const;
    Record recordOrRefuse(uid_t uid) const;
    // Room in the TPM for a user key while it works (see userwork.cpp).
    attestation::TpmSlotLease userKeySlot();
    // The user proof for POST to the user's path rest, signed after pin.
    std::string proof(uid_t uid, const Record &record, const std::string &rest,
                      const protocol::ipc::SecretText &pin);
    // A new key for uid under pin, its public part (and certify, in a TPM) into request.
    void newKey(uid_t uid, protocol::UserEnrollmentRequest &request, const std::string &qualifier,
                const SecretBytes &pinBytes);
    protocol::ipc::MfaUserInfo enrollKey(uid_t uid, const std::string &localAccount,
                                         protocol::UserEnrollmentRequest request,
                                         const std::string &qualifier,
                                         const protocol::ipc::SecretText &pin);
    // Runs call, turning what it throws into UserWorkError.
    template <typename F> auto guarded(F &&call);

    app::VerifierClient &m_client;
    UserKeyStore &m_keys;
    attestation::TpmIdentity *m_identity;
    const Clock &m_clock;
};

} // namespace vigil::agent

#pragma once

// What the user and MFA endpoints (docs/protocol.md 5.9-5.15) share: the SecretBox that seals
// TOTP secrets, the TOTP verifier, recovery codes, the user proof replay cache, and the checks
// every /v1/users/{id}/... request starts with.

#include "protocol/jose/userproof.h"
#include "server/api/servicecontext.h"
#include "server/mfa/recoverycodes.h"
#include "server/mfa/secretbox.h"
#include "server/mfa/totpverifier.h"
#include "server/storage/storage.h"

#include <QLoggingCategory>
#include <string>

// The audit lines of users: enrollment, sign-in, sign-out (never a code or a secret).
Q_DECLARE_LOGGING_CATEGORY(lcUsers)

namespace vigil::server {

struct UserContext
{
    explicit UserContext(ServiceContext &context);

    ServiceContext &service;
    SecretBox box;
    TotpVerifier totp;
    RecoveryCodes recovery;
    protocol::UserProofValidator proofs;

    // The user with this id. Throws ApiError unknown_user, or user_disabled when disabled.
    User requireUser(const std::string &userId) const;
    // The user's key on this device. Throws ApiError user_not_enrolled.
    UserDevice requireUserKey(const User &user, const Device &device) const;
    // The user proof, checked against the user's key on the device, the request and the key
    // that signed its DPoP proof; not yet recorded (recordUserProof). Throws ApiError
    // invalid_user_proof.
    protocol::ValidatedUserProof checkUserProof(const HttpRequest &request,
                                                const std::string &proof, const UserDevice &key,
                                                const Device &device) const;
    void recordUserProof(const protocol::ValidatedUserProof &proof);
    // requireUser, requireUserKey, checkUserProof and recordUserProof: the user-proof endpoints.
    struct Authenticated
    {
        Device device;
        User user;
        UserDevice key;
    };
    Authenticated requireUserProof(const HttpRequest &request, const std::string &userId,
                                   const std::string &proof);

    // The ApiError for a TOTP check that did not accept the code.
    static ApiError totpRefused(const TotpCheck &check);
    // "none", "pending" (live) or "active" for the user's TOTP at now.
    std::string totpState(const std::string &userId) const;
};

} // namespace vigil::server

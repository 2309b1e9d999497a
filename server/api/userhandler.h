#pragma once

// Users on a device (docs/protocol.md 5.9-5.12): enrolling a user key with an invite or a
// recovery code (checking the AK's TPM2_Certify of a TPM key), and setting up TOTP and recovery
// codes with a user proof.

#include "protocol/usermessages.h"
#include "server/http/httpmessage.h"
#include "server/storage/storage.h"

#include <string>

namespace vigil::server {

struct UserContext;

class UserHandler
{
public:
    explicit UserHandler(UserContext &context);

    // POST /v1/users/enrollments
    HttpResponse enroll(const HttpRequest &request);
    // POST /v1/users/{id}/totp
    HttpResponse beginTotp(const HttpRequest &request, const std::string &userId);
    // POST /v1/users/{id}/totp/activation
    HttpResponse activateTotp(const HttpRequest &request, const std::string &userId);
    // POST /v1/users/{id}/recovery-codes
    HttpResponse recoveryCodes(const HttpRequest &request, const std::string &userId);

private:
    // The user a redeemed invite or a used recovery code names. Throws ApiError.
    User admit(const protocol::UserEnrollmentRequest &enrollment, const Device &device);

    UserContext &m_context;
};

// The checks of a TPM user key (contract 5.9): the AK's certification of it with
// SHA-256(code) as qualifying data, and a public area that makes it a TPM-bound P-256 signing
// key whose use needs its authValue (the PIN) under dictionary-attack protection, equal to the
// JWK. Throws ApiError evidence_rejected naming the member and the evidence error.
void checkTpmUserKey(const protocol::UserKey &key, const Bytes &akPublic,
                     const Bytes &qualifyingData);

} // namespace vigil::server

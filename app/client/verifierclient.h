#pragma once

// The device side of docs/protocol.md: enrollment (TPM or software), nonces, signed posture
// reports, DPoP-bound access tokens and the whoami resource, over one kept-alive HTTPS
// connection to the verifier. vigilctl uses it in-process now; vigild will use it the same way.
//
// Errors: TransportError (httpstransport.h) when there is no answer; VerifierError when the
// verifier answers with an RFC 9457 problem; InvalidResponseError when the answer breaks the
// contract; KeyError / TpmError when the device key or the TPM fails. No message
// contains a token, a proof or key material.

#include "app/client/httpstransport.h"
#include "protocol/jose/devicekey.h"
#include "protocol/messages.h"
#include "protocol/problem.h"
#include "protocol/usermessages.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::attestation {
class TpmIdentity;
}

namespace vigil::app {

// The verifier refused a request: its problem document. what() is "<code>: <detail>", plus the
// field and evidence error when the problem names them.
class VerifierError : public std::runtime_error
{
public:
    VerifierError(protocol::Problem problem, std::optional<int> retryAfterSeconds = {});

    const protocol::Problem &problem() const { return m_problem; }
    const std::string &code() const { return m_problem.code; }
    // From Retry-After (rate_limited), when the verifier sent one in whole seconds.
    std::optional<int> retryAfterSeconds() const { return m_retryAfter; }

private:
    protocol::Problem m_problem;
    std::optional<int> m_retryAfter;
};

// An answer that is not what the contract promises (wrong status, not JSON, a member missing or
// malformed): what() names the request and what is wrong, as a JSON pointer where there is one.
class InvalidResponseError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class VerifierClient
{
public:
    using Now = std::function<std::chrono::system_clock::time_point()>;

    // baseUrl: "https://host[:port][/prefix]" (a trailing "/" is dropped). caFile: the pinned
    // verifier CA. key signs proofs and reports; identity is the TPM holding it (null for a
    // software key) and quotes and activates credentials. Both must outlive the client. now
    // (default: the system clock) dates proofs and reports. Throws std::invalid_argument for a
    // base URL that is not https, TransportError for an unusable CA file.
    VerifierClient(std::string baseUrl, std::filesystem::path caFile, protocol::DeviceKey &key,
                   attestation::TpmIdentity *identity, HttpsTransportOptions transport = {},
                   Now now = {});
    ~VerifierClient();

    const std::string &baseUrl() const { return m_baseUrl; }
    // The enrolled device id: set by enroll(), or by the caller from saved enrollment state.
    // report() needs it (the EAT's kid).
    const std::string &deviceId() const { return m_deviceId; }
    void setDeviceId(std::string deviceId) { m_deviceId = std::move(deviceId); }

    // POST /v1/enrollments with a DPoP proof by the device key. With a TPM: the EK (public and
    // certificate), the AK, the device key certified by the AK over SHA-256(token); then
    // ActivateCredential on the verifier's challenge and POST .../activation. Without: the
    // software key alone (assurance "software"). Sets deviceId().
    protocol::EnrollmentComplete enroll(const std::string &enrollmentToken,
                                        const std::string &hostname);

    // POST /v1/nonces (DPoP): a fresh nonce and the PCRs to quote.
    protocol::NonceResponse nonce();

    // Signs the posture report EAT answering nonce — posture is PostureSnapshot::toJson(); with a
    // TPM, a quote over pcrs with the nonce as qualifying data — and POSTs it to /v1/reports.
    // The verdict either way: non_compliant is an Appraisal, not an error.
    protocol::Appraisal report(const nlohmann::json &posture, const std::string &nonce,
                               const std::vector<unsigned> &pcrs);

    // POST /v1/tokens (DPoP): an access token bound to the device key. VerifierError
    // not_compliant / report_stale when the latest appraisal does not allow one.
    protocol::TokenResponse token();

    // GET /v1/whoami with "Authorization: DPoP <token>" and a proof bound to it.
    protocol::WhoAmI whoami(const std::string &accessToken);

    // GET /v1/health.
    protocol::Health health();

    // The user endpoints (docs/protocol.md 5.9 to 5.15), each with the device's DPoP proof.
    // A user proof names its request's URL: userUrl gives it. VerifierError for a problem.
    std::string userUrl(const std::string &path) const { return m_baseUrl + path; }
    // RFC 7638 thumbprint of the device key: a user proof's jkt.
    std::string deviceKeyThumbprint() const { return m_key.thumbprint(); }
    // POST /v1/users/enrollments -> 201.
    protocol::UserEnrollmentResponse enrollUser(const protocol::UserEnrollmentRequest &request);
    // POST /v1/users/{id}/totp -> 201: a new pending TOTP secret.
    protocol::TotpEnrollment beginTotp(const std::string &userId, const std::string &userProof);
    // POST /v1/users/{id}/totp/activation -> 200.
    protocol::RecoveryCodes activateTotp(const std::string &userId,
                                         const protocol::TotpActivationRequest &request);
    // POST /v1/users/{id}/recovery-codes -> 200.
    protocol::RecoveryCodes newRecoveryCodes(const std::string &userId,
                                             const std::string &userProof);
    // POST /v1/users/{id}/sessions -> 201 (sign in).
    protocol::UserSession signInUser(const std::string &userId,
                                     const protocol::SignInRequest &request);
    // POST /v1/users/{id}/tokens -> 200.
    protocol::TokenResponse userToken(const std::string &userId, const std::string &session);
    // POST /v1/users/{id}/sessions/revocation -> 204; idempotent.
    void revokeUserSession(const std::string &userId, const std::string &session);
    // The paths of those (for userUrl).
    static std::string userPath(const std::string &userId, const std::string &rest);

    // TCP connections opened so far (keep-alive reuses one).
    long connectionsOpened() const;

private:
    nlohmann::json exchange(const std::string &method, const std::string &path,
                            const std::optional<nlohmann::json> &body, bool proof,
                            const std::optional<std::string> &accessToken, long expectedStatus);
    std::string dpopProof(const std::string &method, const std::string &url,
                          const std::optional<std::string> &accessToken);

    std::string m_baseUrl;
    protocol::DeviceKey &m_key;
    attestation::TpmIdentity *m_identity;
    Now m_now;
    std::unique_ptr<HttpsTransport> m_transport;
    std::string m_deviceId;
};

} // namespace vigil::app

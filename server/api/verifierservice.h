#pragma once

// The verifier's API, independent of sockets: one HttpRequest in, one HttpResponse out. It
// routes, enforces the per-client rate limits, and turns every failure into an RFC 9457
// problem. The steps of the protocol live in the handlers (enrollment, reports, tokens).

#include "server/http/httpmessage.h"

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

namespace vigil {
class Clock;
}
namespace vigil::protocol {
class DeviceKey;
}

namespace vigil::server {

class Storage;
class PolicyStore;
struct ServiceContext;
class EnrollmentHandler;
class ReportHandler;
class TokenHandler;
struct UserContext;
class UserHandler;
class UserSessionHandler;

struct VerifierOptions
{
    // How devices reach the verifier, e.g. "https://verifier.example.com:8443": the access
    // tokens' issuer and the base of every DPoP htu.
    std::string publicUrl;
    // Trusted TPM manufacturer CAs; read at each TPM enrollment, so adding one needs no restart.
    std::string ekCaDirectory;
    std::chrono::seconds enrollmentTtl{300}; // MakeCredential challenge to activation
    std::chrono::seconds clockLeeway{30};    // JWT and DPoP time checks
    std::chrono::seconds reportMaxAge{600};  // a report's iat may be this old
    std::chrono::seconds dpopWindow{60};     // DPoP iat window around now
    std::size_t dpopReplayCache = 100000;    // live DPoP proofs remembered; full refuses
    double deviceRequestsPerSecond = 1.0;    // sustained, per device
    double deviceBurst = 20;
    double peerRequestsPerSecond = 2.0; // per peer address, before a device is known
    double peerBurst = 20;
    // Users and MFA (docs/mfa.md): the issuer authenticator apps show next to the user's name,
    // and the key file that seals TOTP secrets at rest (SecretBox; made when missing). An empty
    // path seals with a key that lives as long as the process: for tests and benchmarks only.
    std::string totpIssuer = "Vigil";
    std::filesystem::path secretBoxKey;
};

class VerifierService
{
public:
    // tokenKey signs access tokens. Everything given by reference must outlive the service.
    VerifierService(Storage &storage, PolicyStore &policies, protocol::DeviceKey &tokenKey,
                    const Clock &clock, VerifierOptions options);
    ~VerifierService();

    // Thread-safe.
    HttpResponse handle(const HttpRequest &request);

private:
    HttpResponse route(const HttpRequest &request);
    HttpResponse health();

    std::unique_ptr<ServiceContext> m_context;
    std::unique_ptr<EnrollmentHandler> m_enrollment;
    std::unique_ptr<ReportHandler> m_reports;
    std::unique_ptr<TokenHandler> m_tokens;
    std::unique_ptr<UserContext> m_userContext;
    std::unique_ptr<UserHandler> m_users;
    std::unique_ptr<UserSessionHandler> m_userSessions;
};

} // namespace vigil::server

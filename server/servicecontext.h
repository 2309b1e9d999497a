#pragma once

// What every handler of the verifier shares: storage, policy, clock, the DPoP replay cache, the
// rate limiters, and the small steps several endpoints take (DPoP proof, device lookup, nonce
// issue, JSON responses).

#include "apierror.h"
#include "devicekeycache.h"
#include "dpop.h"
#include "httpmessage.h"
#include "problem.h"
#include "ratelimiter.h"
#include "storage.h"
#include "verifierservice.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vigil::server {

struct Policy;

struct ServiceContext
{
    ServiceContext(Storage &storage, PolicyStore &policies, attestation::DeviceKey &tokenKey,
                   const posture::Clock &clock, VerifierOptions options);

    Storage &storage;
    PolicyStore &policies;
    attestation::DeviceKey &tokenKey;
    const posture::Clock &clock;
    const VerifierOptions options;
    protocol::DpopValidator dpop;
    RateLimiter deviceLimiter;
    RateLimiter peerLimiter;
    DeviceKeyCache deviceKeys;

    TimePoint now() const;
    std::shared_ptr<const Policy> policy() const;
    // publicUrl + path: the htu a proof for this request must carry.
    std::string urlFor(const std::string &path) const;

    // The request's single DPoP proof for this method and path (and access token, when given).
    // Throws ApiError invalid_dpop_proof.
    protocol::ValidatedDpop requireDpop(const HttpRequest &request,
                                        const std::optional<std::string> &accessToken = {});
    // The enrolled, unrevoked device holding the key with this thumbprint, after its rate
    // limit. Throws ApiError unknown_device, device_revoked, rate_limited.
    Device requireDevice(const std::string &jkt);
    void limitDevice(const std::string &deviceId);
    void limitPeer(const std::string &peerAddress);

    // A fresh single-use nonce for the device; returns its text and expiry.
    std::pair<std::string, TimePoint> issueNonce(const std::string &deviceId, const Policy &policy);
    // The same, not yet stored: a report stores its next nonce with its appraisal.
    std::pair<std::string, TimePoint> newNonce(const Policy &policy) const;
};

HttpResponse jsonResponse(int status, const nlohmann::json &body);
// The RFC 9457 problem for error, with Retry-After for rate limits and, on a 401 from the DPoP
// family, the WWW-Authenticate challenge of RFC 9449 section 7.1.
HttpResponse problemResponse(const ApiError &error);
HttpResponse problemResponse(const protocol::Problem &problem);

} // namespace vigil::server

#pragma once

// What every handler of the verifier shares: storage, policy, clock, the DPoP replay cache, the
// rate limiters, and the small steps several endpoints take (DPoP proof, device lookup, nonce
// issue, JSON responses).

#include "protocol/jose/dpop.h"
#include "protocol/problem.h"
#include "server/api/apierror.h"
#include "server/api/devicekeycache.h"
#include "server/api/ratelimiter.h"
#include "server/api/verifierservice.h"
#include "server/http/httpmessage.h"
#include "server/storage/storage.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::server {

struct Policy;

struct ServiceContext
{
    ServiceContext(Storage &storage, PolicyStore &policies, protocol::DeviceKey &tokenKey,
                   const Clock &clock, VerifierOptions options);

    Storage &storage;
    PolicyStore &policies;
    protocol::DeviceKey &tokenKey;
    const Clock &clock;
    const VerifierOptions options;
    protocol::DpopValidator dpop;
    RateLimiter deviceLimiter;
    RateLimiter peerLimiter;
    DeviceKeyCache deviceKeys;
    const std::string tokenKeyId; // RFC 7638 thumbprint of tokenKey

    TimePoint now() const;
    std::shared_ptr<const Policy> policy() const;
    // publicUrl + path: the htu a proof for this request must carry.
    std::string urlFor(const std::string &path) const;

    // The request's single DPoP proof for this method and path (and access token, when given),
    // recorded as used. Throws ApiError invalid_dpop_proof.
    protocol::ValidatedDpop requireDpop(const HttpRequest &request,
                                        const std::optional<std::string> &accessToken = {});
    // requireDpop in two steps, for a caller that first checks whose key signed the proof:
    // checkDpop refuses a bad or replayed proof, recordDpop makes it used.
    protocol::ValidatedDpop checkDpop(const HttpRequest &request, TimePoint at,
                                      const std::optional<std::string> &accessToken = {}) const;
    void recordDpop(const protocol::ValidatedDpop &proof, TimePoint at);
    // The enrolled, unrevoked device whose key signed the request's DPoP proof (checked as
    // requireDpop checks it), after the device's rate limit. The proof counts as used only
    // then, so that keys nobody enrolled cannot fill the replay cache and lock enrolled devices
    // out; their requests count against the sender's address instead. Throws ApiError
    // invalid_dpop_proof, unknown_device, device_revoked, rate_limited.
    Device requireDevice(const HttpRequest &request);
    void limitDevice(const std::string &deviceId);
    // requests names what is limited in the rate_limited problem ("enrollment requests").
    void limitPeer(const std::string &peerAddress, std::string_view requests);

    // Access tokens, device and user alike, are issued only to a device whose latest appraisal
    // is compliant and fresh, with an assurance the policy accepts. Throws ApiError
    // not_compliant or report_stale.
    void requireTokenEligible(const Device &device, const Policy &policy) const;
    // The compact at+jwt (RFC 9068) of claims, signed by the token key.
    std::string signAccessToken(const nlohmann::json &claims) const;

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

#include "server/api/servicecontext.h"

#include "core/bytes.h"
#include "core/clock.h"
#include "protocol/jose/jws.h"
#include "server/policy/policy.h"
#include "server/policy/policystore.h"
#include "server/randomid.h"

namespace vigil::server {

namespace {

// 32 bytes, the floor the protocol sets for nonces.
constexpr std::size_t nonceBytes = 32;

} // namespace

ServiceContext::ServiceContext(Storage &storage_, PolicyStore &policies_,
                               protocol::DeviceKey &tokenKey_, const Clock &clock_,
                               VerifierOptions options_)
    : storage(storage_), policies(policies_), tokenKey(tokenKey_), clock(clock_),
      options(std::move(options_)),
      dpop(protocol::DpopValidatorOptions{options.dpopWindow, options.dpopReplayCache}),
      deviceLimiter(options.deviceRequestsPerSecond, options.deviceBurst),
      peerLimiter(options.peerRequestsPerSecond, options.peerBurst),
      tokenKeyId(tokenKey_.thumbprint())
{
}

TimePoint ServiceContext::now() const
{
    return clock.now();
}

std::shared_ptr<const Policy> ServiceContext::policy() const
{
    return policies.current();
}

std::string ServiceContext::urlFor(const std::string &path) const
{
    return options.publicUrl + path;
}

namespace {

std::string dpopProof(const HttpRequest &request)
{
    if (request.headers.contains("dpop:repeated"))
        throw ApiError("invalid_dpop_proof", "the request carries more than one DPoP header");
    std::string proof = request.header("dpop");
    if (proof.empty())
        throw ApiError("invalid_dpop_proof",
                       "this endpoint needs a DPoP proof signed by the device key (header DPoP)");
    return proof;
}

ApiError dpopRefused(const protocol::DpopError &e)
{
    return ApiError(std::string(e.code()), e.what());
}

} // namespace

protocol::ValidatedDpop ServiceContext::requireDpop(const HttpRequest &request,
                                                    const std::optional<std::string> &accessToken)
{
    const TimePoint at = now();
    protocol::ValidatedDpop proof = checkDpop(request, at, accessToken);
    recordDpop(proof, at);
    return proof;
}

protocol::ValidatedDpop
ServiceContext::checkDpop(const HttpRequest &request, TimePoint at,
                          const std::optional<std::string> &accessToken) const
{
    try {
        return dpop.check(dpopProof(request), request.method, urlFor(request.path), at,
                          accessToken);
    } catch (const protocol::DpopError &e) {
        throw dpopRefused(e);
    }
}

void ServiceContext::recordDpop(const protocol::ValidatedDpop &proof, TimePoint at)
{
    try {
        dpop.recordUse(proof, at);
    } catch (const protocol::DpopError &e) {
        throw dpopRefused(e);
    }
}

Device ServiceContext::requireDevice(const HttpRequest &request)
{
    const TimePoint at = now();
    const protocol::ValidatedDpop proof = checkDpop(request, at);
    auto device = storage.deviceByJkt(proof.jkt);
    if (!device) {
        limitPeer(request.peerAddress, "requests signed by keys no enrolled device holds");
        throw ApiError("unknown_device", "no enrolled device holds the key that signed this "
                                         "request: enroll the device first");
    }
    limitDevice(device->id);
    if (device->revokedAt)
        throw ApiError(
            "device_revoked",
            "device " + device->id + " was revoked" +
                (device->revokeReason.empty() ? std::string() : " (" + device->revokeReason + ")"));
    recordDpop(proof, at);
    return std::move(*device);
}

void ServiceContext::limitDevice(const std::string &deviceId)
{
    const auto wait = deviceLimiter.acquire("device:" + deviceId, std::chrono::steady_clock::now());
    if (wait.count() > 0) {
        ApiError error("rate_limited", "device " + deviceId + " sends requests faster than " +
                                           "this verifier allows; retry later");
        error.retryAfterSeconds = static_cast<int>((wait.count() + 999) / 1000);
        throw error;
    }
}

void ServiceContext::limitPeer(const std::string &peerAddress, std::string_view requests)
{
    const auto wait = peerLimiter.acquire("peer:" + peerAddress, std::chrono::steady_clock::now());
    if (wait.count() > 0) {
        ApiError error("rate_limited",
                       "too many " + std::string(requests) + " from this address; retry later");
        error.retryAfterSeconds = static_cast<int>((wait.count() + 999) / 1000);
        throw error;
    }
}

void ServiceContext::requireTokenEligible(const Device &device, const Policy &policy) const
{
    if (!policy.acceptsAssurance(device.assurance))
        throw ApiError("not_compliant", "the policy no longer accepts devices with assurance '" +
                                            device.assurance + "'");
    if (!device.lastAppraisedAt)
        throw ApiError("not_compliant",
                       "device " + device.id + " has not sent a posture report yet");
    if (device.lastVerdict == "rejected")
        throw ApiError("not_compliant", "the latest report of device " + device.id + " (" +
                                            device.lastAppraisalId +
                                            ") carried TPM evidence that failed its checks; "
                                            "report again with evidence that passes");
    if (device.lastVerdict != "compliant")
        throw ApiError("not_compliant", "the latest appraisal of device " + device.id + " (" +
                                            device.lastAppraisalId +
                                            ") found it non-compliant; fix the failing checks "
                                            "and report again");
    const TimePoint freshUntil =
        *device.lastAppraisedAt + policy.reportInterval + policy.gracePeriod;
    if (now() > freshUntil)
        throw ApiError("report_stale", "device " + device.id +
                                           " missed its posture report: the latest appraisal "
                                           "is older than the report interval and grace period");
}

std::string ServiceContext::signAccessToken(const nlohmann::json &claims) const
{
    return protocol::signJws({{"typ", "at+jwt"}, {"kid", tokenKeyId}}, claims.dump(), tokenKey);
}

std::pair<std::string, TimePoint> ServiceContext::issueNonce(const std::string &deviceId,
                                                             const Policy &policy)
{
    auto issued = newNonce(policy);
    storage.addNonce(deviceId, issued.first, issued.second);
    return issued;
}

std::pair<std::string, TimePoint> ServiceContext::newNonce(const Policy &policy) const
{
    return {base64UrlEncode(randomBytes(nonceBytes)), now() + policy.nonceTtl};
}

HttpResponse problemResponse(const protocol::Problem &problem)
{
    HttpResponse response;
    response.status = problem.status;
    response.contentType = std::string(protocol::problemContentType);
    response.body = problem.toJson().dump();
    // RFC 9449 section 7.1: a resource server's 401 names the scheme and the algorithms.
    if (problem.status == 401 &&
        (problem.code == "invalid_token" || problem.code == "invalid_dpop_proof" ||
         problem.code == "use_dpop_nonce"))
        response.headers.emplace_back("WWW-Authenticate",
                                      "DPoP error=\"" + problem.code + "\", algs=\"ES256\"");
    return response;
}

HttpResponse problemResponse(const ApiError &error)
{
    protocol::Problem problem = protocol::makeProblem(error.code(), error.what(), error.field());
    problem.evidenceError = error.evidenceError();
    HttpResponse response = problemResponse(problem);
    if (error.retryAfterSeconds > 0)
        response.headers.emplace_back("Retry-After", std::to_string(error.retryAfterSeconds));
    return response;
}

HttpResponse jsonResponse(int status, const nlohmann::json &body)
{
    HttpResponse response;
    response.status = status;
    response.body = body.dump();
    return response;
}

} // namespace vigil::server

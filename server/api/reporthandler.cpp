#include "server/api/reporthandler.h"

#include "attestation/attestverifier.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"
#include "protocol/messages.h"
#include "protocol/posturereport.h"
#include "server/api/servicecontext.h"
#include "server/policy/appraisal.h"
#include "server/policy/policy.h"
#include "server/randomid.h"

namespace vigil::server {

namespace {

std::string pcrList(const std::vector<unsigned> &pcrs)
{
    std::string text;
    for (unsigned pcr : pcrs)
        text += (text.empty() ? "" : ",") + std::to_string(pcr);
    return text;
}

// The quote must cover exactly what the policy asks devices to quote.
void requireQuotedSelection(const protocol::PcrValues &quoted, const Policy &policy)
{
    std::vector<unsigned> indexes;
    for (const auto &entry : quoted)
        indexes.push_back(entry.first);
    if (indexes != policy.quotePcrs)
        throw ApiError("evidence_rejected",
                       "/submods/tpm/pcrs: the quote covers PCRs " + pcrList(indexes) +
                           " but the policy asks for " + pcrList(policy.quotePcrs),
                       "/submods/tpm/pcrs", "pcr_selection_mismatch");
}

// Reports that are not an enrolled device's own word are charged to the sender's address.
void limitSender(ServiceContext &context, const HttpRequest &request)
{
    context.limitPeer(request.peerAddress,
                      "reports this verifier cannot attribute to an enrolled device");
}

// A time claim that is present and a NumericDate but out of range for now is staleness; one
// that is missing or mistyped is a malformed report.
bool stale(const protocol::JwtError &error, const protocol::Jws &jws)
{
    const auto &claim = error.claim();
    if (claim != "exp" && claim != "iat" && claim != "nbf")
        return false;
    try {
        const auto claims = protocol::parseJsonObject(jws.payload, "JWT claim set");
        const auto value = claims.find(claim);
        if (value == claims.end())
            return false;
        protocol::numericDate(*value, claim);
        return true;
    } catch (const protocol::JoseError &) {
        return false;
    }
}

// Why a report's nonce cannot be answered (Unknown or Expired).
ApiError unusableNonce(NonceUse fate)
{
    const std::string why = fate == NonceUse::Expired
                                ? "expired before the report arrived"
                                : "was not issued to this device or was already used";
    return ApiError("invalid_nonce", "eat_nonce " + why + ": ask for a new nonce (POST /v1/nonces)",
                    "/eat_nonce");
}

// Claims are named by their pointer in the claim set, as the claim errors of
// PostureReport::fromClaims are; a header problem (typ) or an unparsable claim set concerns the
// report as a whole.
std::string jwtErrorField(const protocol::JwtError &error)
{
    if (error.claim().empty() || error.claim() == "typ")
        return "/report";
    return "/" + error.claim();
}

// The report's compact JWS, parsed; its signature is checked once the device is known.
protocol::Jws parseReport(const std::string &compact)
{
    try {
        return protocol::parseJws(compact, protocol::limits::maxReport);
    } catch (const protocol::JoseError &e) {
        throw ApiError("invalid_report", e.what(), "/report");
    }
}

// The device the JWS header's kid names.
std::string reportingDevice(const protocol::Jws &jws)
{
    const auto kid = jws.header.find("kid");
    if (kid == jws.header.end() || !kid->is_string())
        throw ApiError("invalid_report", "the report's JWS header has no kid naming the device",
                       "/report");
    return kid->get<std::string>();
}

std::shared_ptr<const DeviceKeys> enrolledKeys(ServiceContext &context, const HttpRequest &request,
                                               const std::string &deviceId)
{
    // A device's keys never change, so a device seen before is not read here: its row (revoked?
    // counters?) is read once, in the transaction that records the report.
    if (auto keys = context.deviceKeys.find(deviceId))
        return keys;
    const auto device = context.storage.device(deviceId);
    if (!device) {
        // Nobody's report: charged to the sender's address, as enrollment requests are.
        limitSender(context, request);
        throw ApiError("unknown_device", "no device " + deviceId + " is enrolled");
    }
    return context.deviceKeys.keysFor(*device);
}

// The claim set of a report whose signature verified: a posture report EAT, fresh now.
protocol::PostureReport readClaims(const protocol::Jws &jws, const VerifierOptions &options,
                                   TimePoint now)
{
    nlohmann::json claims;
    try {
        protocol::JwtExpectations expect;
        expect.typ = "eat+jwt";
        expect.leeway = options.clockLeeway;
        expect.maxAge = options.reportMaxAge;
        claims = protocol::validateJwt(jws, expect, now);
    } catch (const protocol::JwtError &e) {
        throw ApiError(stale(e, jws) ? "report_stale" : "invalid_report", e.what(),
                       jwtErrorField(e));
    }
    try {
        return protocol::PostureReport::fromClaims(std::move(claims));
    } catch (const protocol::MessageError &e) {
        throw ApiError("invalid_report", e.what(), e.field());
    }
}

posture::PostureSnapshot readSnapshot(const nlohmann::json &posture)
{
    try {
        return posture::PostureSnapshot::fromJson(posture);
    } catch (const std::exception &e) {
        throw ApiError("invalid_report", std::string("/posture: ") + e.what(), "/posture");
    }
}

// A TPM device's quote: signed by its enrolled AK over the report's nonce, covering the PCRs
// the policy names. Returns the quoted PCR values and puts the TPM's counters in record;
// nullptr for a software device, whose report must carry no quote.
const protocol::PcrValues *checkQuote(const protocol::PostureReport &report,
                                         const DeviceKeys &keys, const Policy &policy,
                                         ReportRecord &record)
{
    if (keys.assurance != "tpm") {
        if (report.tpm)
            throw ApiError("invalid_report",
                           "/submods/tpm: this device enrolled without a TPM, so it has no "
                           "attestation key to check a quote with",
                           "/submods/tpm");
        return nullptr;
    }
    if (!report.tpm)
        throw ApiError("invalid_report", "/submods/tpm: a TPM device's report must carry its quote",
                       "/submods/tpm");
    const auto nonceBytes = base64UrlDecode(report.nonce);
    if (!nonceBytes) // then no nonce of this verifier's
        throw unusableNonce(NonceUse::Unknown);
    attestation::VerifiedAttest verified;
    try {
        verified = attestation::verifyQuote(report.tpm->quote, keys.ak.value(), *nonceBytes);
    } catch (const attestation::EvidenceException &e) {
        throw ApiError("evidence_rejected", std::string("/submods/tpm: ") + e.what(),
                       "/submods/tpm", std::string(attestation::evidenceErrorName(e.error())));
    }
    requireQuotedSelection(report.tpm->quote.pcrs, policy);
    record.counters = TpmCounters{verified.clockInfo.clock, verified.clockInfo.resetCount,
                                  verified.clockInfo.restartCount};
    return &report.tpm->quote.pcrs;
}

// What the device is told: the verdict, and when and with which nonce to report next.
protocol::Appraisal answerFor(const PolicyVerdict &verdict, const ReportRecord &record,
                              const Policy &policy, TimePoint now)
{
    protocol::Appraisal response;
    response.appraisalId = record.appraisal.id;
    response.verdict =
        verdict.compliant ? protocol::Verdict::Compliant : protocol::Verdict::NonCompliant;
    response.appraisedAt = now;
    for (const auto &check : verdict.checks)
        response.checks.push_back(
            {check.id, check.pass ? protocol::CheckOutcome::Pass : protocol::CheckOutcome::Fail,
             check.summary, check.remediation});
    response.nextNonce = record.nextNonce;
    response.nextNonceExpiresAt = record.nextNonceExpiresAt;
    response.nextReportAt = now + policy.reportInterval;
    response.pcrs = policy.quotePcrs;
    return response;
}

// The device as stored when the report is recorded: not revoked, the nonce issued to it and
// unused, the TPM's counters not gone back since its last accepted report.
void checkStoredState(const Device &device, NonceUse nonce, const ReportRecord &record)
{
    if (device.revokedAt)
        throw ApiError(
            "device_revoked",
            "device " + device.id + " was revoked" +
                (device.revokeReason.empty() ? std::string() : " (" + device.revokeReason + ")"));
    if (nonce != NonceUse::Consumed)
        throw unusableNonce(nonce);
    if (record.counters && device.counters) {
        if (const auto rollback = counterRollback(*device.counters, *record.counters);
            !rollback.empty())
            throw ApiError("evidence_rejected",
                           "/submods/tpm/quote: " + rollback +
                               " since this device's last accepted report",
                           "/submods/tpm/quote", "counter_rollback");
    }
}

} // namespace

std::string counterRollback(const TpmCounters &previous, const TpmCounters &current)
{
    // Differences mod 2^32 below 2^31 count as forward.
    const auto forward = [](std::uint32_t from, std::uint32_t to) {
        return static_cast<std::uint32_t>(to - from) < 0x80000000u;
    };
    if (current.resetCount != previous.resetCount) {
        if (!forward(previous.resetCount, current.resetCount))
            return "resetCount went back";
        return {};
    }
    if (current.restartCount != previous.restartCount &&
        !forward(previous.restartCount, current.restartCount))
        return "restartCount went back";
    if (current.clock < previous.clock)
        return "the TPM clock went back from " + std::to_string(previous.clock) + " to " +
               std::to_string(current.clock) + " ms without a reset";
    return {};
}

ReportHandler::ReportHandler(ServiceContext &context) : m_context(context) {}

HttpResponse ReportHandler::nonce(const HttpRequest &request)
{
    protocol::parseBody<protocol::NonceRequest>(request.body);
    const Device device = m_context.requireDevice(request);
    const auto policy = m_context.policy();
    protocol::NonceResponse response;
    std::tie(response.nonce, response.nonceExpiresAt) = m_context.issueNonce(device.id, *policy);
    response.pcrs = policy->quotePcrs;
    return jsonResponse(200, response.toJson());
}

HttpResponse ReportHandler::report(const HttpRequest &request)
{
    const auto body = protocol::parseBody<protocol::ReportRequest>(request.body);
    const protocol::Jws jws = parseReport(body.report);
    const std::string deviceId = reportingDevice(jws);
    const auto keys = enrolledKeys(m_context, request, deviceId);

    // Every report naming an enrolled device is audited, rejected ones included: a report
    // forged in a device's name, or a revoked device that still reports, is what an
    // administrator looks for.
    const TimePoint now = m_context.now();
    const auto policy = m_context.policy();
    ReportRecord record;
    Appraisal &audit = record.appraisal;
    audit.id = randomUuid();
    audit.deviceId = deviceId;
    audit.appraisedAt = now;
    const auto rejected = [&](const ApiError &error) {
        audit.verdict = "rejected";
        audit.error = error.code();
        audit.checksJson = "[]";
        // Only thrown once the report's signature verified as the device's. A quote over other
        // PCRs than the policy names is a policy change racing the report, not failed evidence.
        record.evidenceFailed = error.code() == "evidence_rejected" &&
                                error.evidenceError() != "pcr_selection_mismatch";
        m_context.storage.recordReport(record, {});
    };

    if (!protocol::verifyJws(jws, keys->deviceKey.get())) {
        // Not the device's word, so not charged to the device (a forger who knows a device id
        // must not use up its rate) but to the sender's address, which also bounds how many
        // such audit rows one sender adds.
        limitSender(m_context, request);
        const ApiError error("invalid_report",
                             "the report's signature does not verify with the key device " +
                                 deviceId + " enrolled",
                             "/report");
        rejected(error);
        throw error;
    }
    m_context.limitDevice(deviceId);

    try {
        const protocol::PostureReport report = readClaims(jws, m_context.options, now);
        audit.reportJti = report.jti;
        // From here on the nonce is used up, whatever the verdict.
        record.nonce = report.nonce;
        if (report.ueid != keys->ueid)
            throw ApiError("invalid_report", "/ueid: not the UEID of the enrolled device key",
                           "/ueid");
        const posture::PostureSnapshot snapshot = readSnapshot(report.posture);
        const protocol::PcrValues *pcrs = checkQuote(report, *keys, *policy, record);

        const PolicyVerdict verdict = appraise(*policy, snapshot, pcrs, keys->assurance, now);
        std::tie(record.nextNonce, record.nextNonceExpiresAt) = m_context.newNonce(*policy);
        const protocol::Appraisal response = answerFor(verdict, record, *policy, now);
        audit.verdict = std::string(protocol::verdictName(response.verdict));
        // The audit keeps the checks exactly as the device is told them.
        const nlohmann::json answer = response.toJson();
        audit.checksJson = answer.at("checks").dump();

        // What only the stored device and nonce can tell, decided where they are read, so that
        // two reports of one device cannot both pass on the same state.
        m_context.storage.recordReport(record, [&](const Device &device, NonceUse nonce) {
            checkStoredState(device, nonce, record);
        });
        return jsonResponse(200, answer);
    } catch (const ApiError &e) {
        rejected(e);
        throw;
    }
}

} // namespace vigil::server

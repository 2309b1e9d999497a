#pragma once

// The API bodies of docs/protocol.md as typed structs. Every fromJson is strict: "version"
// must be 1, every member the contract requires must be there with its type, enumerations take
// only their listed values and every value has a size cap; the MessageError names the member as
// a JSON pointer. Members the contract does not define are ignored, so that a newer peer can add
// optional members without breaking an older one (forward compatibility). toJson writes only
// members the contract defines, in the form fromJson accepts.

#include "core/bytes.h"
#include "protocol/evidence.h"
#include "protocol/jose/devicekey.h"
#include "protocol/problem.h"

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::protocol {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr int protocolVersion = 1;

// Size caps. Each is well above what a real TPM or verifier produces and small enough that a
// hostile body cannot make the verifier allocate or hash much.
namespace limits {
inline constexpr std::size_t maxBodySize = 1024 * 1024; // request bodies (413 above)
inline constexpr std::size_t maxString = 4096;          // any string not capped below
inline constexpr std::size_t maxHostname = 255;
inline constexpr std::size_t maxTpmPublic = 1024;   // TPM2B_PUBLIC (RSA 4096 EK: ~600)
inline constexpr std::size_t maxCertificate = 8192; // one DER certificate
inline constexpr std::size_t maxIntermediates = 16;
inline constexpr std::size_t maxAttest = 1024;          // TPMS_ATTEST
inline constexpr std::size_t maxTpmSignature = 1024;    // TPMT_SIGNATURE (RSA 4096: 518)
inline constexpr std::size_t maxCredentialBlob = 1024;  // TPM2B_ID_OBJECT
inline constexpr std::size_t maxEncryptedSecret = 1024; // TPM2B_ENCRYPTED_SECRET
inline constexpr std::size_t maxActivationSecret = 64;  // TPM2B_DIGEST
inline constexpr std::size_t minNonce = 32;             // server nonces, decoded
inline constexpr std::size_t maxNonce = 55;             // so the text fits eat_nonce (74)
inline constexpr std::size_t maxReport = 768 * 1024;    // the compact EAT JWS
inline constexpr std::size_t maxEventLog = 384 * 1024;  // the EAT's binary TCG event log
inline constexpr std::size_t maxAccessToken = 8192;     // the compact access token JWS
inline constexpr std::size_t maxChecks = 64;            // appraisal checks
inline constexpr std::size_t maxCheckId = 64;
inline constexpr std::size_t maxJwksKeys = 16;
inline constexpr unsigned maxPcrIndex = 23;
inline constexpr long long maxReportIntervalSeconds = 7 * 24 * 3600;
inline constexpr long long maxTokenLifetimeSeconds = 600;
} // namespace limits

// Parses a body as one JSON object: at most maxBytes bytes (MessageError kind TooLarge), then
// jws.h's parseJsonObject rules (UTF-8 without BOM, no member name twice in one object, nested
// at most maxJsonDepth levels, an object at the top), as a MessageError naming the body.
nlohmann::json parseJsonBody(std::string_view text, std::size_t maxBytes = limits::maxBodySize);

// parseJsonBody then T::fromJson.
template <typename T> T parseBody(std::string_view text, std::size_t maxBytes = limits::maxBodySize)
{
    return T::fromJson(parseJsonBody(text, maxBytes));
}

// "tpm" | "software".
std::optional<Assurance> assuranceFromName(std::string_view name);

// POST /v1/enrollments, the TPM part.
struct TpmEnrollment
{
    Bytes ekPublic;                     // TPM2B_PUBLIC
    std::optional<Bytes> ekCertificate; // DER
    std::vector<Bytes> ekIntermediates; // DER, only with ekCertificate
    Bytes akPublic;                     // TPM2B_PUBLIC
    Bytes deviceKeyPublic;              // TPM2B_PUBLIC
    CertifyEvidence deviceKeyCertify;   // by the AK, qualifying data
                                                     // SHA-256(enrollment token)

    nlohmann::json toJson() const;
    static TpmEnrollment fromJson(const nlohmann::json &json, const std::string &pointer = "/tpm");
};

// POST /v1/enrollments. tpm is present exactly when assurance is Tpm.
struct EnrollmentRequest
{
    std::string enrollmentToken;
    Assurance assurance = Assurance::Tpm;
    std::string hostname;
    nlohmann::json deviceKey; // public EC P-256 JWK, checked with parseEcPublicJwk
    std::optional<TpmEnrollment> tpm;

    nlohmann::json toJson() const;
    static EnrollmentRequest fromJson(const nlohmann::json &json);
};

// 201 to a TPM enrollment: the MakeCredential challenge.
struct EnrollmentChallenge
{
    std::string enrollmentId; // lower-case UUID; the client puts it in the activation path
    TimePoint expiresAt;
    CredentialChallenge credential;

    nlohmann::json toJson() const;
    static EnrollmentChallenge fromJson(const nlohmann::json &json);
};

// POST /v1/enrollments/{enrollment_id}/activation
struct ActivationRequest
{
    Bytes secret; // what ActivateCredential returned

    nlohmann::json toJson() const;
    static ActivationRequest fromJson(const nlohmann::json &json);
};

// 201 to a software enrollment, 200 to an activation.
struct EnrollmentComplete
{
    std::string deviceId; // lower-case UUID
    Assurance assurance = Assurance::Tpm;
    std::string nonce; // base64url text of 32..55 bytes, echoed as eat_nonce
    TimePoint nonceExpiresAt;
    std::chrono::seconds reportInterval{0}; // 1 s .. 7 days
    std::vector<unsigned> pcrs;             // SHA-256 PCRs to quote, unique, 0..23

    nlohmann::json toJson() const;
    static EnrollmentComplete fromJson(const nlohmann::json &json);
};

// POST /v1/nonces: {"version":1}
struct NonceRequest
{
    nlohmann::json toJson() const;
    static NonceRequest fromJson(const nlohmann::json &json);
};

struct NonceResponse
{
    std::string nonce;
    TimePoint nonceExpiresAt;
    std::vector<unsigned> pcrs;

    nlohmann::json toJson() const;
    static NonceResponse fromJson(const nlohmann::json &json);
};

// POST /v1/reports
struct ReportRequest
{
    std::string report; // compact JWS of the posture report EAT (posturereport.h)

    nlohmann::json toJson() const;
    static ReportRequest fromJson(const nlohmann::json &json);
};

enum class Verdict
{
    Compliant,
    NonCompliant
};
std::string_view verdictName(Verdict verdict); // "compliant" | "non_compliant"
std::optional<Verdict> verdictFromName(std::string_view name);

enum class CheckOutcome
{
    Pass,
    Fail
};
std::string_view checkOutcomeName(CheckOutcome outcome); // "pass" | "fail"
std::optional<CheckOutcome> checkOutcomeFromName(std::string_view name);

struct AppraisalCheck
{
    std::string id; // [a-z0-9_], 1..64
    CheckOutcome status = CheckOutcome::Fail;
    std::string summary;
    std::string remediation; // "" -> member omitted

    nlohmann::json toJson() const;
    static AppraisalCheck fromJson(const nlohmann::json &json, const std::string &pointer);
};

// 200 to a report: the verdict, every policy check, and the next nonce.
struct Appraisal
{
    std::string appraisalId; // lower-case UUID
    Verdict verdict = Verdict::NonCompliant;
    TimePoint appraisedAt;
    std::vector<AppraisalCheck> checks; // ids unique
    std::string nextNonce;
    TimePoint nextNonceExpiresAt;
    TimePoint nextReportAt;
    std::vector<unsigned> pcrs;

    nlohmann::json toJson() const;
    static Appraisal fromJson(const nlohmann::json &json);
};

// POST /v1/tokens: {"version":1}
struct TokenRequest
{
    nlohmann::json toJson() const;
    static TokenRequest fromJson(const nlohmann::json &json);
};

// token_type is always "DPoP".
struct TokenResponse
{
    std::string accessToken;
    std::chrono::seconds expiresIn{0}; // 1 .. 600 s

    nlohmann::json toJson() const;
    static TokenResponse fromJson(const nlohmann::json &json);
};

// GET /v1/whoami
struct WhoAmI
{
    std::string deviceId;
    Assurance assurance = Assurance::Tpm;
    std::string jkt; // RFC 7638 thumbprint of the device key (43 characters)
    TimePoint tokenExpiresAt;

    nlohmann::json toJson() const;
    static WhoAmI fromJson(const nlohmann::json &json);
};

// One key of GET /.well-known/jwks.json: the public JWK plus "kid", "alg":"ES256", "use":"sig".
struct Jwk
{
    EcPublicKey key;
    std::string kid; // the key's RFC 7638 thumbprint on this verifier

    nlohmann::json toJson() const;
    static Jwk fromJson(const nlohmann::json &json, const std::string &pointer);
};

// {"keys":[…]} (RFC 7517 section 5; no "version": it is a standard document). fromJson skips
// keys that are not EC P-256 for ES256 signatures, as RFC 7517 section 5 asks, but rejects a
// malformed key of that kind.
struct Jwks
{
    std::vector<Jwk> keys;

    nlohmann::json toJson() const;
    static Jwks fromJson(const nlohmann::json &json);
};

// GET /v1/health
struct Health
{
    std::string status = "ok"; // only "ok"

    nlohmann::json toJson() const;
    static Health fromJson(const nlohmann::json &json);
};

} // namespace vigil::protocol

#include "protocol/problem.h"

#include "protocol/json/objectreader.h"

#include <algorithm>

namespace vigil::protocol {

namespace {

constexpr std::size_t maxCodeLength = 64;

bool isCode(std::string_view code)
{
    return !code.empty() && code.size() <= maxCodeLength &&
           std::all_of(code.begin(), code.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

} // namespace

const std::vector<ProblemType> &problemTypes()
{
    // Statuses follow HTTP semantics: 400 the body is wrong, 401 the DPoP proof or access token
    // does not authenticate the caller (sent with WWW-Authenticate: DPoP), 403 the caller is
    // known but refused, 404/405 routing, 409 a state conflict, 413 size, 429 rate, 500 our fault,
    // 503 the verifier is not set up for the request.
    static const std::vector<ProblemType> types = {
        {"malformed_request", 400, "Malformed request"},
        {"unsupported_version", 400, "Unsupported protocol version"},
        {"payload_too_large", 413, "Request body too large"},
        {"unsupported_media_type", 415, "Unsupported media type"},
        {"header_fields_too_large", 431, "Request header fields too large"},
        {"invalid_enrollment_token", 403, "Invalid enrollment token"},
        {"evidence_rejected", 403, "TPM evidence rejected"},
        {"assurance_not_allowed", 403, "Assurance level not allowed"},
        {"unknown_enrollment", 404, "Unknown enrollment"},
        {"activation_failed", 403, "Credential activation failed"},
        {"already_enrolled", 409, "Device key already enrolled"},
        {"ek_trust_unconfigured", 503, "TPM enrollment not configured"},
        {"invalid_dpop_proof", 401, "Invalid DPoP proof"},
        {"use_dpop_nonce", 401, "DPoP nonce required"},
        {"unknown_device", 403, "Unknown device"},
        {"device_revoked", 403, "Device revoked"},
        {"invalid_nonce", 400, "Invalid nonce"},
        {"invalid_report", 400, "Invalid posture report"},
        {"not_compliant", 403, "Device not compliant"},
        {"report_stale", 403, "Posture report stale"},
        {"invalid_token", 401, "Invalid access token"},
        {"rate_limited", 429, "Too many requests"},
        // Users and MFA (docs/mfa.md).
        {"invalid_request", 400, "Invalid request"},
        {"invalid_invite", 403, "Invalid invite"},
        {"invalid_recovery_code", 403, "Invalid recovery code"},
        {"unknown_user", 404, "Unknown user"},
        {"user_not_enrolled", 403, "User not enrolled on this device"},
        {"user_disabled", 403, "User disabled"},
        {"invalid_user_proof", 401, "Invalid user proof"},
        {"invalid_code", 403, "Invalid code"},
        {"user_locked", 403, "User locked"},
        {"factor_not_accepted", 403, "Factor not accepted"},
        {"totp_active", 409, "TOTP already active"},
        {"totp_not_pending", 409, "No pending TOTP secret"},
        {"authentication_required", 401, "Authentication required"},
        {"not_found", 404, "Not found"},
        {"method_not_allowed", 405, "Method not allowed"},
        {"internal_error", 500, "Internal error"},
        {"storage_unavailable", 503, "Storage unavailable"},
    };
    return types;
}

Problem makeProblem(std::string_view code, std::string detail, std::string field)
{
    for (const auto &type : problemTypes()) {
        if (type.code == code) {
            Problem problem;
            problem.status = type.status;
            problem.code = std::string(code);
            problem.title = std::string(type.title);
            problem.detail = std::move(detail);
            problem.field = std::move(field);
            return problem;
        }
    }
    throw std::invalid_argument("unknown problem code " + std::string(code));
}

nlohmann::json Problem::toJson() const
{
    nlohmann::json json = {
        {"type", std::string(problemTypePrefix) + code},
        {"title", title},
        {"status", status},
        {"detail", detail},
        {"code", code},
    };
    if (!field.empty())
        json["field"] = field;
    if (!evidenceError.empty())
        json["evidence_error"] = evidenceError;
    return json;
}

Problem Problem::fromJson(const nlohmann::json &json)
{
    const detail::ObjectReader reader(json, "");
    Problem problem;
    problem.code = reader.string("code", maxCodeLength);
    if (!isCode(problem.code))
        reader.fail("code", "must be lower-case letters and underscores");
    if (reader.string("type") != std::string(problemTypePrefix) + problem.code)
        reader.fail("type", "must be " + std::string(problemTypePrefix) + problem.code);
    problem.status = static_cast<int>(reader.integer("status", 400, 599));
    problem.title = reader.string("title");
    if (reader.has("detail"))
        problem.detail = reader.string("detail", detail::defaultMaxString, 0);
    if (reader.has("field"))
        problem.field = reader.string("field");
    if (reader.has("field") && problem.field.front() != '/')
        reader.fail("field", "must be a JSON pointer");
    if (reader.has("evidence_error"))
        problem.evidenceError = reader.string("evidence_error", maxCodeLength);
    return problem;
}

MessageError::MessageError(std::string field, const std::string &reason, Kind kind)
    : std::runtime_error(field.empty() ? reason : field + ": " + reason), m_field(std::move(field)),
      m_reason(reason), m_kind(kind)
{
}

Problem problemFor(const MessageError &error)
{
    switch (error.kind()) {
    case MessageError::Kind::UnsupportedVersion:
        return makeProblem("unsupported_version", error.what(), error.field());
    case MessageError::Kind::TooLarge:
        return makeProblem("payload_too_large", error.what(), error.field());
    case MessageError::Kind::Malformed:
        break;
    }
    return makeProblem("malformed_request", error.what(), error.field());
}

} // namespace vigil::protocol

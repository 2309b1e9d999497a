#include "protocol/ipc/status.h"

#include "protocol/json/objectreader.h"
#include "protocol/rfc3339.h"

#include <array>
#include <utility>

namespace vigil::protocol::ipc {

namespace {

using detail::ObjectReader;

constexpr std::array<std::pair<AgentState, std::string_view>, 8> stateNames = {{
    {AgentState::Starting, "starting"},
    {AgentState::NotEnrolled, "not_enrolled"},
    {AgentState::Enrolling, "enrolling"},
    {AgentState::Compliant, "compliant"},
    {AgentState::NonCompliant, "non_compliant"},
    {AgentState::Offline, "offline"},
    {AgentState::Revoked, "revoked"},
    {AgentState::Error, "error"},
}};

// Members that may have no value yet are always written, as null: a script reading the status
// finds every member, and a reader can tell "none" from a member a writer forgot.
nlohmann::json nullableTime(const std::optional<TimePoint> &time)
{
    return time ? nlohmann::json(formatRfc3339(*time)) : nlohmann::json(nullptr);
}

std::optional<TimePoint> nullableTimeAt(const ObjectReader &reader, std::string_view name)
{
    if (reader.value(name).is_null())
        return std::nullopt;
    return reader.time(name);
}

bool booleanAt(const ObjectReader &reader, std::string_view name)
{
    const auto &value = reader.value(name);
    if (!value.is_boolean())
        reader.fail(name, "must be true or false");
    return value.get<bool>();
}

nlohmann::json enrollmentJson(const EnrollmentInfo &enrollment)
{
    return {{"device_id", enrollment.deviceId},
            {"assurance", assuranceName(enrollment.assurance)},
            {"server_url", enrollment.serverUrl}};
}

EnrollmentInfo enrollmentFrom(const ObjectReader &reader)
{
    reader.rejectUnknown({"assurance", "device_id", "server_url"});
    EnrollmentInfo enrollment;
    enrollment.deviceId = reader.string("device_id", 64);
    const auto assurance = assuranceFromName(reader.string("assurance", 16));
    if (!assurance)
        reader.fail("assurance", "must be \"tpm\" or \"software\"");
    enrollment.assurance = *assurance;
    enrollment.serverUrl = reader.string("server_url", limits::maxString);
    return enrollment;
}

nlohmann::json checksJson(const std::vector<AppraisalCheck> &checks)
{
    nlohmann::json array = nlohmann::json::array();
    for (const auto &check : checks)
        array.push_back(check.toJson());
    return array;
}

nlohmann::json verdictJson(const LastVerdict &verdict)
{
    return {{"verdict", verdictName(verdict.verdict)},
            {"appraised_at", formatRfc3339(verdict.appraisedAt)},
            {"failing_checks", checksJson(verdict.failingChecks)},
            {"passing_checks", checksJson(verdict.passingChecks)}};
}

// Reads failing_checks or passing_checks: every entry with status `outcome`, no id twice in
// the verdict (`earlier` holds the ids read so far).
std::vector<AppraisalCheck> checksFrom(const ObjectReader &reader, const char *name,
                                       CheckOutcome outcome, std::vector<std::string> &earlier)
{
    std::vector<AppraisalCheck> result;
    const auto &checks = reader.array(name, limits::maxChecks);
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const std::string pointer = detail::childPointer(reader.pointerTo(name), i);
        // The verifier's own check type, read strictly: here both ends are ours.
        ObjectReader(checks[i], pointer).rejectUnknown({"id", "remediation", "status", "summary"});
        AppraisalCheck check = AppraisalCheck::fromJson(checks[i], pointer);
        if (check.status != outcome)
            detail::fail(pointer + "/status",
                         outcome == CheckOutcome::Fail
                             ? "must be \"fail\": only failing checks are listed"
                             : "must be \"pass\": only passing checks are listed");
        for (const auto &id : earlier)
            if (id == check.id)
                detail::fail(pointer + "/id", "repeats check \"" + check.id + "\"");
        earlier.push_back(check.id);
        result.push_back(std::move(check));
    }
    return result;
}

LastVerdict verdictFrom(const ObjectReader &reader)
{
    reader.rejectUnknown({"appraised_at", "failing_checks", "passing_checks", "verdict"});
    LastVerdict verdict;
    const auto name = verdictFromName(reader.string("verdict", 16));
    if (!name)
        reader.fail("verdict", "must be \"compliant\" or \"non_compliant\"");
    verdict.verdict = *name;
    verdict.appraisedAt = reader.time("appraised_at");
    std::vector<std::string> ids;
    verdict.failingChecks = checksFrom(reader, "failing_checks", CheckOutcome::Fail, ids);
    verdict.passingChecks = checksFrom(reader, "passing_checks", CheckOutcome::Pass, ids);
    return verdict;
}

} // namespace

std::string_view agentStateName(AgentState state)
{
    for (const auto &[known, name] : stateNames)
        if (known == state)
            return name;
    return "error";
}

std::optional<AgentState> agentStateFromName(std::string_view name)
{
    for (const auto &[state, known] : stateNames)
        if (known == name)
            return state;
    return std::nullopt;
}

nlohmann::json Status::toJson() const
{
    return {
        {"state", agentStateName(state)},
        {"reason", reason},
        {"enrollment", enrollment ? enrollmentJson(*enrollment) : nlohmann::json(nullptr)},
        {"last_verdict", lastVerdict ? verdictJson(*lastVerdict) : nlohmann::json(nullptr)},
        {"last_report_at", nullableTime(lastReportAt)},
        {"next_report_at", nullableTime(nextReportAt)},
        {"token",
         {{"present", tokenExpiresAt.has_value()}, {"expires_at", nullableTime(tokenExpiresAt)}}},
        {"verifier",
         {{"reachable", verifierReachable},
          {"last_error", verifierLastError.empty() ? nlohmann::json(nullptr)
                                                   : nlohmann::json(verifierLastError)}}},
    };
}

Status Status::fromJson(const nlohmann::json &json, const std::string &pointer)
{
    const ObjectReader reader(json, pointer);
    reader.rejectUnknown({"enrollment", "last_report_at", "last_verdict", "next_report_at",
                          "reason", "state", "token", "verifier"});
    Status status;
    const auto state = agentStateFromName(reader.string("state", 32));
    if (!state)
        reader.fail("state", "is not an agent state of docs/ipc.md");
    status.state = *state;
    status.reason = reader.string("reason", limits::maxString, 0);
    if (!reader.value("enrollment").is_null())
        status.enrollment = enrollmentFrom(reader.object("enrollment"));
    if (!reader.value("last_verdict").is_null())
        status.lastVerdict = verdictFrom(reader.object("last_verdict"));
    status.lastReportAt = nullableTimeAt(reader, "last_report_at");
    status.nextReportAt = nullableTimeAt(reader, "next_report_at");

    const ObjectReader token = reader.object("token");
    token.rejectUnknown({"expires_at", "present"});
    const bool present = booleanAt(token, "present");
    status.tokenExpiresAt = nullableTimeAt(token, "expires_at");
    if (present != status.tokenExpiresAt.has_value())
        token.fail("expires_at", present ? "must be a time when a token is present"
                                         : "must be null when no token is present");

    const ObjectReader verifier = reader.object("verifier");
    verifier.rejectUnknown({"last_error", "reachable"});
    status.verifierReachable = booleanAt(verifier, "reachable");
    if (!verifier.value("last_error").is_null())
        status.verifierLastError = verifier.string("last_error", limits::maxString);
    return status;
}

} // namespace vigil::protocol::ipc

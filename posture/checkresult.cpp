#include "posture/checkresult.h"

#include <stdexcept>

namespace vigil::posture {

std::string_view statusName(CheckStatus status)
{
    switch (status) {
    case CheckStatus::Pass:
        return "pass";
    case CheckStatus::Fail:
        return "fail";
    case CheckStatus::Unknown:
        return "unknown";
    }
    return "unknown";
}

std::optional<CheckStatus> checkStatusFromString(std::string_view text)
{
    if (text == "pass")
        return CheckStatus::Pass;
    if (text == "fail")
        return CheckStatus::Fail;
    if (text == "unknown")
        return CheckStatus::Unknown;
    return std::nullopt;
}

CheckResult CheckResult::pass(std::string id, std::string summary, nlohmann::json details)
{
    CheckResult r;
    r.id = std::move(id);
    r.status = CheckStatus::Pass;
    r.summary = std::move(summary);
    r.details = std::move(details);
    return r;
}

CheckResult CheckResult::fail(std::string id, std::string summary, std::string remediation,
                              nlohmann::json details)
{
    CheckResult r;
    r.id = std::move(id);
    r.status = CheckStatus::Fail;
    r.summary = std::move(summary);
    r.remediation = std::move(remediation);
    r.details = std::move(details);
    return r;
}

CheckResult CheckResult::unknown(std::string id, std::string reason, nlohmann::json details)
{
    CheckResult r;
    r.id = std::move(id);
    r.status = CheckStatus::Unknown;
    r.summary = "Could not be determined: " + reason;
    r.reason = std::move(reason);
    r.details = std::move(details);
    return r;
}

nlohmann::json CheckResult::toJson() const
{
    nlohmann::json j = {
        {"status", statusName(status)},
        {"summary", summary},
        {"details", details},
        {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(duration).count()},
    };
    if (status == CheckStatus::Fail)
        j["remediation"] = remediation;
    if (status == CheckStatus::Unknown)
        j["reason"] = reason;
    return j;
}

namespace {

const nlohmann::json &field(const nlohmann::json &json, const char *name)
{
    auto it = json.find(name);
    if (it == json.end())
        throw std::invalid_argument(std::string("missing field '") + name + "'");
    return *it;
}

std::string stringField(const nlohmann::json &json, const char *name)
{
    const auto &value = field(json, name);
    if (!value.is_string())
        throw std::invalid_argument(std::string("field '") + name + "' must be a string");
    return value.get<std::string>();
}

} // namespace

CheckResult CheckResult::fromJson(const nlohmann::json &json)
{
    if (!json.is_object())
        throw std::invalid_argument("check result must be an object");
    CheckResult r;
    const auto status = checkStatusFromString(stringField(json, "status"));
    if (!status)
        throw std::invalid_argument("field 'status' must be pass, fail or unknown");
    r.status = *status;
    r.summary = stringField(json, "summary");
    r.details = field(json, "details");
    if (!r.details.is_object())
        throw std::invalid_argument("field 'details' must be an object");
    const auto &duration = field(json, "duration_ms");
    // A check never runs for a day; the bound also keeps the conversion to microseconds
    // from overflowing on hostile input.
    constexpr long long maxDurationMs = 24LL * 3600 * 1000;
    if (!duration.is_number_integer() || duration.get<long long>() < 0 ||
        duration.get<long long>() > maxDurationMs)
        throw std::invalid_argument("field 'duration_ms' must be an integer from 0 to 86400000");
    r.duration = std::chrono::milliseconds(duration.get<long long>());
    if (r.status == CheckStatus::Fail)
        r.remediation = stringField(json, "remediation");
    if (r.status == CheckStatus::Unknown)
        r.reason = stringField(json, "reason");
    return r;
}

} // namespace vigil::posture

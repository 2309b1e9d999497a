#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::posture {

// Tri-state by design: a check that could not be determined is Unknown with a reason,
// never silently Pass.
enum class CheckStatus
{
    Pass,
    Fail,
    Unknown
};

std::string_view statusName(CheckStatus status);
std::optional<CheckStatus> checkStatusFromString(std::string_view text);

struct CheckResult
{
    std::string id;
    CheckStatus status = CheckStatus::Unknown;
    std::string summary;
    nlohmann::json details = nlohmann::json::object();
    std::string remediation;               // set for Fail
    std::string reason;                    // set for Unknown
    std::chrono::microseconds duration{0}; // the wire form rounds to whole milliseconds

    static CheckResult pass(std::string id, std::string summary,
                            nlohmann::json details = nlohmann::json::object());
    static CheckResult fail(std::string id, std::string summary, std::string remediation,
                            nlohmann::json details = nlohmann::json::object());
    static CheckResult unknown(std::string id, std::string reason,
                               nlohmann::json details = nlohmann::json::object());

    nlohmann::json toJson() const;
    // Strict: every field checked for presence and type. Throws std::invalid_argument naming
    // the offending field.
    static CheckResult fromJson(const nlohmann::json &json);
};

} // namespace vigil::posture

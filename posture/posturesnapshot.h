#pragma once

#include "posture/checkresult.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <vector>

namespace vigil::posture {

// Every check's result at one moment, in the wire form reports carry.
struct PostureSnapshot
{
    static constexpr int schemaVersion = 1;

    std::chrono::system_clock::time_point collectedAt;
    std::chrono::milliseconds duration{0};
    std::vector<CheckResult> checks;

    const CheckResult *find(std::string_view id) const;

    // {"schema_version":1,"collected_at":"…Z","duration_ms":…,"checks":{"os":{…},…}}
    nlohmann::json toJson() const;
    // Strict: rejects other schema versions, missing or mistyped fields, naming the field.
    // Throws std::invalid_argument.
    static PostureSnapshot fromJson(const nlohmann::json &json);
};

} // namespace vigil::posture

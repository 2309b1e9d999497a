#include "posture/posturesnapshot.h"

#include "core/clock.h"

#include <ctime>
#include <stdexcept>

namespace vigil::posture {

const CheckResult *PostureSnapshot::find(std::string_view id) const
{
    for (const auto &check : checks)
        if (check.id == id)
            return &check;
    return nullptr;
}

nlohmann::json PostureSnapshot::toJson() const
{
    nlohmann::json checksJson = nlohmann::json::object();
    for (const auto &check : checks)
        checksJson[check.id] = check.toJson();
    return {
        {"schema_version", schemaVersion},
        {"collected_at", toIso8601(collectedAt)},
        {"duration_ms", duration.count()},
        {"checks", std::move(checksJson)},
    };
}

namespace {

std::chrono::system_clock::time_point parseIso8601(const std::string &text)
{
    std::tm utc{};
    const char *end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &utc);
    if (!end || *end != '\0')
        throw std::invalid_argument("field 'collected_at' must be an RFC 3339 UTC time");
    // system_clock counts nanoseconds in 64 bits: years before 1677 or after 2262 would
    // overflow it (undefined behaviour), and no snapshot comes from before 1970.
    const std::time_t seconds = ::timegm(&utc);
    const auto latest = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::time_point::max().time_since_epoch());
    if (seconds < 0 || seconds > latest.count())
        throw std::invalid_argument("field 'collected_at' is outside 1970-2262");
    return std::chrono::system_clock::from_time_t(seconds);
}

} // namespace

PostureSnapshot PostureSnapshot::fromJson(const nlohmann::json &json)
{
    if (!json.is_object())
        throw std::invalid_argument("snapshot must be an object");
    const auto version = json.find("schema_version");
    if (version == json.end() || !version->is_number_integer())
        throw std::invalid_argument("field 'schema_version' must be an integer");
    if (version->get<long long>() != schemaVersion)
        throw std::invalid_argument("field 'schema_version': unsupported version " +
                                    version->dump());
    PostureSnapshot snapshot;
    const auto collected = json.find("collected_at");
    if (collected == json.end() || !collected->is_string())
        throw std::invalid_argument("field 'collected_at' must be a string");
    snapshot.collectedAt = parseIso8601(collected->get<std::string>());
    const auto duration = json.find("duration_ms");
    if (duration == json.end() || !duration->is_number_integer() ||
        duration->get<long long>() < 0 || duration->get<long long>() > 24LL * 3600 * 1000)
        throw std::invalid_argument("field 'duration_ms' must be an integer from 0 to 86400000");
    snapshot.duration = std::chrono::milliseconds(duration->get<long long>());
    const auto checks = json.find("checks");
    if (checks == json.end() || !checks->is_object())
        throw std::invalid_argument("field 'checks' must be an object");
    for (const auto &[id, value] : checks->items()) {
        try {
            auto check = CheckResult::fromJson(value);
            check.id = id;
            snapshot.checks.push_back(std::move(check));
        } catch (const std::invalid_argument &e) {
            throw std::invalid_argument("checks." + id + ": " + e.what());
        }
    }
    return snapshot;
}

} // namespace vigil::posture

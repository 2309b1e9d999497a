#include "server/policy/policy.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

namespace vigil::server {

namespace {

using nlohmann::json;

constexpr std::size_t maxPolicySize = 1024 * 1024;
constexpr std::size_t maxDepth = 16;
constexpr unsigned pcrCount = 24;
constexpr std::size_t maxReferenceValues = 256;
constexpr std::size_t maxVersionLength = 64;

std::string escapeToken(std::string_view token)
{
    std::string out;
    for (const char c : token) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

std::string child(const std::string &pointer, std::string_view token)
{
    return pointer + "/" + escapeToken(token);
}

// The offending value as it appears in JSON, cut short so a huge value cannot flood a log.
std::string shown(const json &value)
{
    auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    constexpr std::size_t limit = 60;
    if (text.size() > limit) {
        // Never cut inside a UTF-8 sequence.
        std::size_t cut = limit;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
            --cut;
        text = text.substr(0, cut) + "…";
    }
    return text;
}

[[noreturn]] void fail(const std::string &pointer, const std::string &problem)
{
    throw PolicyError(pointer, problem);
}

std::string range(long long low, long long high)
{
    return std::to_string(low) + ".." + std::to_string(high);
}

void requireObject(const json &value, const std::string &pointer,
                   std::initializer_list<std::string_view> members)
{
    if (!value.is_object())
        fail(pointer, "expected an object, got " + shown(value));
    for (const auto &[key, member] : value.items()) {
        if (std::find(members.begin(), members.end(), key) != members.end())
            continue;
        std::string known;
        for (const auto name : members)
            known += (known.empty() ? "" : ", ") + std::string(name);
        fail(child(pointer, key), "unknown member (expected one of: " + known + ")");
    }
}

const json *member(const json &object, std::string_view name)
{
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

std::optional<long long> integerValue(const json &value, long long low, long long high)
{
    if (value.is_number_unsigned()) {
        const auto n = value.get<std::uint64_t>();
        if (n > static_cast<std::uint64_t>(high) || static_cast<long long>(n) < low)
            return std::nullopt;
        return static_cast<long long>(n);
    }
    if (!value.is_number_integer())
        return std::nullopt;
    const auto n = value.get<std::int64_t>();
    if (n < low || n > high)
        return std::nullopt;
    return n;
}

long long integer(const json &value, const std::string &pointer, long long low, long long high)
{
    const auto n = integerValue(value, low, high);
    if (!n)
        fail(pointer, "expected an integer " + range(low, high) + ", got " + shown(value));
    return *n;
}

std::optional<long long> integerOrNull(const json &value, const std::string &pointer, long long low,
                                       long long high)
{
    if (value.is_null())
        return std::nullopt;
    const auto n = integerValue(value, low, high);
    if (!n)
        fail(pointer, "expected null or an integer " + range(low, high) + ", got " + shown(value));
    return n;
}

bool boolean(const json &value, const std::string &pointer)
{
    if (!value.is_boolean())
        fail(pointer, "expected true or false, got " + shown(value));
    return value.get<bool>();
}

void readSeconds(const json &root, std::string_view name, std::chrono::seconds &target,
                 long long low, long long high)
{
    if (const auto *value = member(root, name))
        target = std::chrono::seconds(integer(*value, child("", name), low, high));
}

// os-release(5): ID is "0–9, a–z, '.', '_' and '-'"; VERSION_ID also allows upper case in
// practice (and '~', '^', '+' appear in version strings compareVersions orders).
bool isOsReleaseId(std::string_view text)
{
    return !text.empty() && text.size() <= maxVersionLength &&
           std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      c == '-';
           });
}

bool isVersion(std::string_view text)
{
    return !text.empty() && text.size() <= maxVersionLength &&
           std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-' || c == '~' || c == '^' || c == '+';
           });
}

void readAssurance(const json &value, Policy &policy)
{
    const std::string pointer = "/accepted_assurance";
    if (!value.is_array() || value.empty())
        fail(pointer,
             "expected a non-empty array of \"tpm\" and \"software\", got " + shown(value));
    std::vector<std::string> levels;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto &entry = value[i];
        const auto entryPointer = child(pointer, std::to_string(i));
        if (!entry.is_string() || (entry != "tpm" && entry != "software"))
            fail(entryPointer, "expected \"tpm\" or \"software\", got " + shown(entry));
        const auto level = entry.get<std::string>();
        if (std::find(levels.begin(), levels.end(), level) != levels.end())
            fail(entryPointer, "\"" + level + "\" is listed twice");
        levels.push_back(level);
    }
    std::sort(levels.begin(), levels.end());
    policy.acceptedAssurance = std::move(levels);
}

void readOs(const json &value, Policy &policy)
{
    const std::string pointer = "/os";
    requireObject(value, pointer, {"min_version", "other_distributions"});
    if (const auto *versions = member(value, "min_version")) {
        const auto versionsPointer = child(pointer, "min_version");
        if (!versions->is_object())
            fail(versionsPointer,
                 "expected an object mapping os-release IDs to versions, got " + shown(*versions));
        policy.minOsVersion.clear();
        for (const auto &[id, version] : versions->items()) {
            const auto entryPointer = child(versionsPointer, id);
            if (!isOsReleaseId(id))
                fail(entryPointer, "not an os-release ID (1..64 of a-z, 0-9, '.', '_', '-')");
            if (!version.is_string() || !isVersion(version.get<std::string>()))
                fail(entryPointer,
                     "expected a version string (1..64 of A-Z, a-z, 0-9, '.', '_', '-', '~', "
                     "'^', '+'), got " +
                         shown(version));
            policy.minOsVersion[id] = version.get<std::string>();
        }
    }
    if (const auto *others = member(value, "other_distributions")) {
        if (*others != "allow" && *others != "deny")
            fail(child(pointer, "other_distributions"),
                 "expected \"allow\" or \"deny\", got " + shown(*others));
        policy.allowOtherDistributions = *others == "allow";
    }
}

void readPatchLevel(const json &value, Policy &policy)
{
    const std::string pointer = "/patch_level";
    requireObject(value, pointer,
                  {"max_security_updates", "max_days_since_update", "allow_reboot_required"});
    if (const auto *max = member(value, "max_security_updates"))
        policy.maxSecurityUpdates =
            integerOrNull(*max, child(pointer, "max_security_updates"), 0, 100000);
    if (const auto *max = member(value, "max_days_since_update"))
        policy.maxDaysSinceUpdate =
            integerOrNull(*max, child(pointer, "max_days_since_update"), 0, 3650);
    if (const auto *allow = member(value, "allow_reboot_required"))
        policy.allowRebootRequired = boolean(*allow, child(pointer, "allow_reboot_required"));
}

void readRequired(const json &root, std::string_view name, bool &required)
{
    const auto *value = member(root, name);
    if (!value)
        return;
    const auto pointer = child("", name);
    requireObject(*value, pointer, {"required"});
    if (const auto *flag = member(*value, "required"))
        required = boolean(*flag, child(pointer, "required"));
}

void readScreenLock(const json &value, Policy &policy)
{
    const std::string pointer = "/screen_lock";
    requireObject(value, pointer, {"required", "max_idle_seconds"});
    if (const auto *flag = member(value, "required"))
        policy.requireScreenLock = boolean(*flag, child(pointer, "required"));
    if (const auto *max = member(value, "max_idle_seconds"))
        policy.maxScreenLockIdleSeconds =
            integerOrNull(*max, child(pointer, "max_idle_seconds"), 1, 86400);
}

std::optional<unsigned> pcrIndex(std::string_view key)
{
    if (key.empty() || key.size() > 2 || (key.size() == 2 && key[0] == '0'))
        return std::nullopt;
    unsigned index = 0;
    for (const char c : key) {
        if (c < '0' || c > '9')
            return std::nullopt;
        index = index * 10 + unsigned(c - '0');
    }
    return index < pcrCount ? std::optional(index) : std::nullopt;
}

void readQuotePcrs(const json &value, Policy &policy)
{
    const std::string pointer = "/quote_pcrs";
    if (!value.is_array() || value.empty() || value.size() > pcrCount)
        fail(pointer, "expected a non-empty array of PCR indexes 0..23, got " + shown(value));
    std::vector<unsigned> pcrs;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto entryPointer = child(pointer, std::to_string(i));
        const auto index = static_cast<unsigned>(integer(value[i], entryPointer, 0, pcrCount - 1));
        if (std::find(pcrs.begin(), pcrs.end(), index) != pcrs.end())
            fail(entryPointer, "PCR " + std::to_string(index) + " is listed twice");
        pcrs.push_back(index);
    }
    std::sort(pcrs.begin(), pcrs.end());
    policy.quotePcrs = std::move(pcrs);
}

void readReferenceValues(const json &value, Policy &policy)
{
    const std::string pointer = "/pcr_reference_values";
    if (!value.is_object())
        fail(pointer, "expected an object mapping PCR indexes \"0\"..\"23\" to lists of SHA-256 "
                      "values, got " +
                          shown(value));
    for (const auto &[key, values] : value.items()) {
        const auto indexPointer = child(pointer, key);
        const auto index = pcrIndex(key);
        if (!index)
            fail(indexPointer, "expected a PCR index \"0\"..\"23\"");
        if (!values.is_array() || values.empty() || values.size() > maxReferenceValues)
            fail(indexPointer, "expected a non-empty array of at most " +
                                   std::to_string(maxReferenceValues) +
                                   " SHA-256 values (64 hex digits), got " + shown(values));
        auto &accepted = policy.pcrReferenceValues[*index];
        for (std::size_t i = 0; i < values.size(); ++i) {
            const auto &entry = values[i];
            std::optional<Bytes> bytes;
            if (entry.is_string() && entry.get_ref<const std::string &>().size() == 64)
                bytes = fromHex(entry.get<std::string>());
            if (!bytes)
                fail(child(indexPointer, std::to_string(i)),
                     "expected a SHA-256 value (64 hex digits), got " + shown(entry));
            accepted.push_back(std::move(*bytes));
        }
    }
}

// Parses with a callback that rejects duplicate object members (nlohmann keeps the last one,
// which would let a second "screen_lock" silently override the first) and deep nesting.
json parseStrictJson(std::string_view text)
{
    struct Frame
    {
        bool object = false;
        std::set<std::string> keys;
        std::string key;
        std::size_t index = 0;
    };
    std::vector<Frame> frames;
    auto pointerOf = [&frames](std::size_t depth) {
        std::string pointer;
        for (std::size_t i = 0; i < depth; ++i)
            pointer += "/" + (frames[i].object ? escapeToken(frames[i].key)
                                               : std::to_string(frames[i].index));
        return pointer;
    };
    auto elementDone = [&frames] {
        if (!frames.empty() && !frames.back().object)
            ++frames.back().index;
    };
    const json::parser_callback_t callback = [&](int /*depth*/, json::parse_event_t event,
                                                 json &parsed) {
        switch (event) {
        case json::parse_event_t::object_start:
        case json::parse_event_t::array_start:
            if (frames.size() >= maxDepth)
                fail(pointerOf(frames.size()),
                     "nested deeper than " + std::to_string(maxDepth) + " levels");
            frames.push_back({event == json::parse_event_t::object_start, {}, {}, 0});
            break;
        case json::parse_event_t::key: {
            auto &frame = frames.back();
            frame.key = parsed.get<std::string>();
            if (!frame.keys.insert(frame.key).second)
                fail(pointerOf(frames.size()), "duplicate member");
            break;
        }
        case json::parse_event_t::object_end:
        case json::parse_event_t::array_end:
            frames.pop_back();
            elementDone();
            break;
        case json::parse_event_t::value:
            elementDone();
            break;
        }
        return true;
    };
    try {
        return json::parse(text.begin(), text.end(), callback);
    } catch (const json::exception &e) {
        // parse_error, or out_of_range for a number beyond double ("1e400"). Drop nlohmann's
        // "[json.exception.parse_error.101] " prefix.
        std::string message = e.what();
        if (const auto bracket = message.find("] "); bracket != std::string::npos)
            message.erase(0, bracket + 2);
        // nlohmann quotes the bytes it last read, which may be invalid UTF-8 or control
        // characters: escaped, so the message is safe for any log.
        std::string safe;
        for (const char c : message) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte < 0x20 || byte >= 0x7f) {
                static constexpr char digits[] = "0123456789abcdef";
                safe += "\\x";
                safe += digits[byte >> 4];
                safe += digits[byte & 0xf];
            } else {
                safe += c;
            }
        }
        fail("", "not valid JSON: " + safe);
    }
}

} // namespace

PolicyError::PolicyError(std::string pointer, const std::string &problem, const std::string &file)
    : std::runtime_error((file.empty() ? std::string() : file + ": ") +
                         (pointer.empty() ? problem : pointer + ": " + problem)),
      m_pointer(std::move(pointer)), m_problem(problem)
{
}

bool Policy::acceptsAssurance(std::string_view assurance) const
{
    return std::find(acceptedAssurance.begin(), acceptedAssurance.end(), assurance) !=
           acceptedAssurance.end();
}

Policy parsePolicy(std::string_view jsonText)
{
    if (jsonText.size() > maxPolicySize)
        fail("", "larger than " + std::to_string(maxPolicySize) + " bytes");
    const json root = parseStrictJson(jsonText);
    if (!root.is_object())
        fail("", "expected a JSON object, got " + shown(root));

    const auto *version = member(root, "version");
    if (!version)
        fail("/version", "required member is missing");
    if (!version->is_number_integer())
        fail("/version", "expected the integer 1, got " + shown(*version));
    if (*version != Policy::formatVersion)
        fail("/version",
             "unsupported version " + shown(*version) + " (this verifier reads version 1)");

    requireObject(root, "",
                  {"version", "accepted_assurance", "report_interval_seconds",
                   "grace_period_seconds", "token_ttl_seconds", "nonce_ttl_seconds", "os",
                   "patch_level", "disk_encryption", "firewall", "screen_lock", "secure_boot",
                   "quote_pcrs", "pcr_reference_values"});

    Policy policy;
    if (const auto *value = member(root, "accepted_assurance"))
        readAssurance(*value, policy);
    readSeconds(root, "report_interval_seconds", policy.reportInterval, 60, 86400);
    readSeconds(root, "grace_period_seconds", policy.gracePeriod, 0, 86400);
    readSeconds(root, "token_ttl_seconds", policy.tokenTtl, 30, 600);
    readSeconds(root, "nonce_ttl_seconds", policy.nonceTtl, 10, 3600);
    if (const auto *value = member(root, "os"))
        readOs(*value, policy);
    if (const auto *value = member(root, "patch_level"))
        readPatchLevel(*value, policy);
    readRequired(root, "disk_encryption", policy.requireDiskEncryption);
    readRequired(root, "firewall", policy.requireFirewall);
    if (const auto *value = member(root, "screen_lock"))
        readScreenLock(*value, policy);
    readRequired(root, "secure_boot", policy.requireSecureBoot);
    if (const auto *value = member(root, "quote_pcrs"))
        readQuotePcrs(*value, policy);
    if (const auto *value = member(root, "pcr_reference_values"))
        readReferenceValues(*value, policy);

    // A reference value for a PCR devices do not quote could never be checked: the rule would
    // be silently off.
    for (const auto &[index, values] : policy.pcrReferenceValues)
        if (!std::binary_search(policy.quotePcrs.begin(), policy.quotePcrs.end(), index))
            fail("/pcr_reference_values/" + std::to_string(index),
                 "PCR " + std::to_string(index) +
                     " has reference values but is not in /quote_pcrs");
    return policy;
}

Policy loadPolicy(const std::filesystem::path &file)
{
    const auto name = file.string();
    // Checked before opening: opening a FIFO would block, and a directory opens but reads as
    // an error.
    std::error_code error;
    const auto status = std::filesystem::status(file, error);
    if (error)
        throw PolicyError("", "cannot open: " + error.message(), name);
    if (!std::filesystem::is_regular_file(status))
        throw PolicyError("", "not a regular file", name);
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw PolicyError("", std::string("cannot open: ") + std::strerror(errno), name);
    std::string text;
    char buffer[64 * 1024];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (text.size() > maxPolicySize)
            throw PolicyError("", "larger than " + std::to_string(maxPolicySize) + " bytes", name);
    }
    if (in.bad())
        throw PolicyError("", "read error", name);
    try {
        return parsePolicy(text);
    } catch (const PolicyError &e) {
        throw PolicyError(e.pointer(), e.problem(), name);
    }
}

std::string defaultPolicyText()
{
    return R"({
  "version": 1,
  "accepted_assurance": ["tpm"],
  "report_interval_seconds": 900,
  "grace_period_seconds": 300,
  "token_ttl_seconds": 300,
  "nonce_ttl_seconds": 120,
  "os": {
    "min_version": {
      "debian": "12",
      "fedora": "41",
      "rhel": "9",
      "ubuntu": "22.04"
    },
    "other_distributions": "allow"
  },
  "patch_level": {
    "max_security_updates": 0,
    "max_days_since_update": 30,
    "allow_reboot_required": false
  },
  "disk_encryption": {"required": true},
  "firewall": {"required": true},
  "screen_lock": {"required": true, "max_idle_seconds": 900},
  "secure_boot": {"required": true},
  "quote_pcrs": [0, 1, 2, 3, 4, 5, 6, 7],
  "pcr_reference_values": {}
}
)";
}

} // namespace vigil::server

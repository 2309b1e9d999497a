#include "server/policy/policy.h"

#include "protocol/json/objectreader.h"
#include "protocol/json/strictjson.h"
#include "protocol/posturereport.h"
#include "protocol/problem.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>

namespace vigil::server {

namespace {

using nlohmann::json;
using protocol::detail::childPointer;
using protocol::detail::ObjectReader;

constexpr std::size_t maxPolicySize = 1024 * 1024;
constexpr int maxDepth = 16;
constexpr unsigned pcrCount = 24;
constexpr std::size_t maxReferenceValues = 256;
constexpr std::size_t maxVersionLength = 64;

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

// Every problem is a protocol::MessageError naming its entry as protocol's readers name one
// (the readers below throw them too); parsePolicy turns it into a PolicyError.
[[noreturn]] void fail(const std::string &pointer, const std::string &problem)
{
    protocol::detail::fail(pointer, problem);
}

std::string range(long long low, long long high)
{
    return std::to_string(low) + ".." + std::to_string(high);
}

// The object at pointer, refusing any member but the known ones.
ObjectReader objectAt(const json &value, std::string pointer,
                      std::initializer_list<std::string_view> members)
{
    if (!value.is_object())
        fail(pointer, "expected an object, got " + shown(value));
    ObjectReader object(value, std::move(pointer));
    object.rejectUnknown(members);
    return object;
}

long long integer(const json &value, const std::string &pointer, long long low, long long high)
{
    const auto n = protocol::detail::integerIn(value, low, high);
    if (!n)
        fail(pointer, "expected an integer " + range(low, high) + ", got " + shown(value));
    return *n;
}

std::optional<long long> integerOrNull(const json &value, const std::string &pointer, long long low,
                                       long long high)
{
    if (value.is_null())
        return std::nullopt;
    const auto n = protocol::detail::integerIn(value, low, high);
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

void readSeconds(const ObjectReader &root, std::string_view name, std::chrono::seconds &target,
                 long long low, long long high)
{
    if (const auto *value = root.find(name))
        target = std::chrono::seconds(integer(*value, root.pointerTo(name), low, high));
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
        const auto entryPointer = childPointer(pointer, i);
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
    const auto os = objectAt(value, "/os", {"min_version", "other_distributions"});
    if (const auto *versions = os.find("min_version")) {
        if (!versions->is_object())
            os.fail("min_version", "expected an object mapping os-release IDs to versions, got " +
                                       shown(*versions));
        const ObjectReader minimums(*versions, os.pointerTo("min_version"));
        policy.minOsVersion.clear();
        for (const auto &[id, version] : versions->items()) {
            if (!isOsReleaseId(id))
                minimums.fail(id, "not an os-release ID (1..64 of a-z, 0-9, '.', '_', '-')");
            if (!version.is_string() || !isVersion(version.get<std::string>()))
                minimums.fail(id,
                              "expected a version string (1..64 of A-Z, a-z, 0-9, '.', '_', '-', "
                              "'~', '^', '+'), got " +
                                  shown(version));
            policy.minOsVersion[id] = version.get<std::string>();
        }
    }
    if (const auto *others = os.find("other_distributions")) {
        if (*others != "allow" && *others != "deny")
            os.fail("other_distributions", "expected \"allow\" or \"deny\", got " + shown(*others));
        policy.allowOtherDistributions = *others == "allow";
    }
}

void readPatchLevel(const json &value, Policy &policy)
{
    const auto patchLevel =
        objectAt(value, "/patch_level",
                 {"max_security_updates", "max_days_since_update", "allow_reboot_required"});
    if (const auto *max = patchLevel.find("max_security_updates"))
        policy.maxSecurityUpdates =
            integerOrNull(*max, patchLevel.pointerTo("max_security_updates"), 0, 100000);
    if (const auto *max = patchLevel.find("max_days_since_update"))
        policy.maxDaysSinceUpdate =
            integerOrNull(*max, patchLevel.pointerTo("max_days_since_update"), 0, 3650);
    if (const auto *allow = patchLevel.find("allow_reboot_required"))
        policy.allowRebootRequired = boolean(*allow, patchLevel.pointerTo("allow_reboot_required"));
}

void readRequired(const ObjectReader &root, std::string_view name, bool &required)
{
    const auto *value = root.find(name);
    if (!value)
        return;
    const auto rule = objectAt(*value, root.pointerTo(name), {"required"});
    if (const auto *flag = rule.find("required"))
        required = boolean(*flag, rule.pointerTo("required"));
}

void readScreenLock(const json &value, Policy &policy)
{
    const auto screenLock = objectAt(value, "/screen_lock", {"required", "max_idle_seconds"});
    if (const auto *flag = screenLock.find("required"))
        policy.requireScreenLock = boolean(*flag, screenLock.pointerTo("required"));
    if (const auto *max = screenLock.find("max_idle_seconds"))
        policy.maxScreenLockIdleSeconds =
            integerOrNull(*max, screenLock.pointerTo("max_idle_seconds"), 1, 86400);
}

void readQuotePcrs(const json &value, Policy &policy)
{
    const std::string pointer = "/quote_pcrs";
    if (!value.is_array() || value.empty() || value.size() > pcrCount)
        fail(pointer, "expected a non-empty array of PCR indexes 0..23, got " + shown(value));
    std::vector<unsigned> pcrs;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto entryPointer = childPointer(pointer, i);
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
    const ObjectReader indexes(value, pointer);
    for (const auto &[key, values] : value.items()) {
        const auto indexPointer = indexes.pointerTo(key);
        const auto index = protocol::pcrIndex(key);
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
                fail(childPointer(indexPointer, i),
                     "expected a SHA-256 value (64 hex digits), got " + shown(entry));
            accepted.push_back(std::move(*bytes));
        }
    }
}

// A set of names from allowed, kept in allowed's order whatever order the file lists them in.
std::vector<std::string> nameSet(const json &value, const std::string &pointer,
                                 const std::vector<std::string> &allowed, bool allowEmpty)
{
    std::string choices;
    for (const auto &name : allowed)
        choices += (choices.empty() ? "\"" : ", \"") + name + "\"";
    if (!value.is_array() || (value.empty() && !allowEmpty))
        fail(pointer, std::string(allowEmpty ? "expected an array of "
                                             : "expected a non-empty "
                                               "array of ") +
                          choices + ", got " + shown(value));
    std::vector<std::string> names;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const auto &entry = value[i];
        const auto entryPointer = childPointer(pointer, i);
        if (!entry.is_string() ||
            std::find(allowed.begin(), allowed.end(), entry.get<std::string>()) == allowed.end())
            fail(entryPointer, "expected one of " + choices + ", got " + shown(entry));
        const auto name = entry.get<std::string>();
        if (std::find(names.begin(), names.end(), name) != names.end())
            fail(entryPointer, "\"" + name + "\" is listed twice");
        names.push_back(name);
    }
    std::vector<std::string> ordered;
    for (const auto &name : allowed)
        if (std::find(names.begin(), names.end(), name) != names.end())
            ordered.push_back(name);
    return ordered;
}

void readUsers(const json &value, Policy &policy)
{
    const auto users =
        objectAt(value, "/users",
                 {"accepted_factors", "accepted_key_assurance", "max_authentication_age_seconds",
                  "reauthenticate_on", "warn_before_seconds"});
    UserPolicy &rules = policy.users;
    if (const auto *factors = users.find("accepted_factors"))
        rules.acceptedFactors =
            nameSet(*factors, users.pointerTo("accepted_factors"), {"pin", "otp"}, false);
    if (const auto *levels = users.find("accepted_key_assurance"))
        rules.acceptedKeyAssurance =
            nameSet(*levels, users.pointerTo("accepted_key_assurance"), {"tpm", "software"}, false);
    readSeconds(users, "max_authentication_age_seconds", rules.maxAuthenticationAge, 300, 604800);
    if (const auto *events = users.find("reauthenticate_on"))
        rules.reauthenticateOn =
            nameSet(*events, users.pointerTo("reauthenticate_on"), {"unlock", "resume"}, true);
    readSeconds(users, "warn_before_seconds", rules.warnBefore, 0, 3600);
}

// protocol's strict reader refuses a member named twice: nlohmann keeps the last one, which
// would let a second "screen_lock" silently override the first.
json parseDocument(std::string_view text)
{
    // nlohmann's parser, used here before, skipped a byte order mark too.
    text = protocol::withoutByteOrderMark(text);
    json document;
    const auto fault = protocol::parseStrictJson(text, document, maxDepth);
    if (!fault)
        return document;
    using Kind = protocol::JsonFault::Kind;
    if (fault->kind == Kind::DuplicateName)
        fail(fault->pointer, "duplicate member");
    if (fault->kind == Kind::TooDeep)
        fail(fault->pointer, "nested deeper than " + std::to_string(maxDepth) + " levels");
    fail("", "not valid UTF-8 JSON at " + protocol::textPosition(text, fault->offset));
}

Policy readPolicy(std::string_view jsonText)
{
    if (jsonText.size() > maxPolicySize)
        fail("", "larger than " + std::to_string(maxPolicySize) + " bytes");
    const json document = parseDocument(jsonText);
    if (!document.is_object())
        fail("", "expected a JSON object, got " + shown(document));
    const ObjectReader root(document, "");

    const auto *version = root.find("version");
    if (!version)
        root.fail("version", "required member is missing");
    if (!version->is_number_integer())
        root.fail("version", "expected the integer 1, got " + shown(*version));
    if (*version != Policy::formatVersion)
        root.fail("version",
                  "unsupported version " + shown(*version) + " (this verifier reads version 1)");

    root.rejectUnknown({"version", "accepted_assurance", "report_interval_seconds",
                        "grace_period_seconds", "token_ttl_seconds", "nonce_ttl_seconds", "os",
                        "patch_level", "disk_encryption", "firewall", "screen_lock", "secure_boot",
                        "quote_pcrs", "pcr_reference_values", "users"});

    Policy policy;
    if (const auto *value = root.find("accepted_assurance"))
        readAssurance(*value, policy);
    readSeconds(root, "report_interval_seconds", policy.reportInterval, 60, 86400);
    readSeconds(root, "grace_period_seconds", policy.gracePeriod, 0, 86400);
    readSeconds(root, "token_ttl_seconds", policy.tokenTtl, 30, 600);
    readSeconds(root, "nonce_ttl_seconds", policy.nonceTtl, 10, 3600);
    if (const auto *value = root.find("os"))
        readOs(*value, policy);
    if (const auto *value = root.find("patch_level"))
        readPatchLevel(*value, policy);
    readRequired(root, "disk_encryption", policy.requireDiskEncryption);
    readRequired(root, "firewall", policy.requireFirewall);
    if (const auto *value = root.find("screen_lock"))
        readScreenLock(*value, policy);
    readRequired(root, "secure_boot", policy.requireSecureBoot);
    if (const auto *value = root.find("quote_pcrs"))
        readQuotePcrs(*value, policy);
    if (const auto *value = root.find("pcr_reference_values"))
        readReferenceValues(*value, policy);
    if (const auto *value = root.find("users"))
        readUsers(*value, policy);

    // A reference value for a PCR devices do not quote could never be checked: the rule would
    // be silently off.
    for (const auto &[index, values] : policy.pcrReferenceValues)
        if (!std::binary_search(policy.quotePcrs.begin(), policy.quotePcrs.end(), index))
            fail("/pcr_reference_values/" + std::to_string(index),
                 "PCR " + std::to_string(index) +
                     " has reference values but is not in /quote_pcrs");
    return policy;
}

} // namespace

PolicyError::PolicyError(std::string pointer, const std::string &problem, const std::string &file)
    : std::runtime_error((file.empty() ? std::string() : file + ": ") +
                         (pointer.empty() ? problem : pointer + ": " + problem)),
      m_pointer(std::move(pointer)), m_problem(problem)
{
}

bool UserPolicy::acceptsFactor(std::string_view factor) const
{
    return std::find(acceptedFactors.begin(), acceptedFactors.end(), factor) !=
           acceptedFactors.end();
}

bool UserPolicy::acceptsKeyAssurance(std::string_view assurance) const
{
    return std::find(acceptedKeyAssurance.begin(), acceptedKeyAssurance.end(), assurance) !=
           acceptedKeyAssurance.end();
}

bool Policy::acceptsAssurance(std::string_view assurance) const
{
    return std::find(acceptedAssurance.begin(), acceptedAssurance.end(), assurance) !=
           acceptedAssurance.end();
}

Policy parsePolicy(std::string_view jsonText)
{
    try {
        return readPolicy(jsonText);
    } catch (const protocol::MessageError &e) {
        throw PolicyError(e.field(), e.reason());
    }
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
  "pcr_reference_values": {},
  "users": {
    "accepted_factors": ["pin", "otp"],
    "accepted_key_assurance": ["tpm"],
    "max_authentication_age_seconds": 28800,
    "reauthenticate_on": ["unlock", "resume"],
    "warn_before_seconds": 300
  }
}
)";
}

} // namespace vigil::server

#pragma once

// The strict field readers behind every fromJson/fromClaims, so that each rejection names its
// member as a JSON pointer in the same words; the verifier's policy file is read with them too.

#include "core/bytes.h"

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol::detail {

inline constexpr std::size_t defaultMaxString = 4096;

// RFC 6901: parent + "/" + token with "~" and "/" escaped.
std::string childPointer(std::string_view parent, std::string_view token);
std::string childPointer(std::string_view parent, std::size_t index);

[[noreturn]] void fail(const std::string &pointer, const std::string &reason);

// Readers of one value; pointer names it in errors.
std::string stringAt(const nlohmann::json &value, const std::string &pointer,
                     std::size_t maxLength = defaultMaxString, std::size_t minLength = 1);
// Strict base64url (no padding); the length cap is checked before decoding.
Bytes bytesAt(const nlohmann::json &value, const std::string &pointer,
                           std::size_t maxBytes, std::size_t minBytes = 1);
long long integerAt(const nlohmann::json &value, const std::string &pointer, long long min,
                    long long max);
// The integer min..max that value holds, or nullopt: for a caller with its own wording.
std::optional<long long> integerIn(const nlohmann::json &value, long long min, long long max);
std::chrono::system_clock::time_point timeAt(const nlohmann::json &value,
                                             const std::string &pointer);

// A JSON object being read member by member. Members it is not asked about are ignored: that
// is what lets an older peer read a newer peer's bodies (forward compatibility).
class ObjectReader
{
public:
    // Throws MessageError(pointer, "must be a JSON object") unless json is an object.
    ObjectReader(const nlohmann::json &json, std::string pointer);

    const std::string &pointer() const { return m_pointer; }
    std::string pointerTo(std::string_view name) const { return childPointer(m_pointer, name); }
    [[noreturn]] void fail(std::string_view name, const std::string &reason) const;

    // Present with any value, null included (null is never "absent").
    bool has(std::string_view name) const;
    const nlohmann::json &value(std::string_view name) const; // MessageError "missing"
    const nlohmann::json *find(std::string_view name) const;  // nullptr when absent

    std::string string(std::string_view name, std::size_t maxLength = defaultMaxString,
                       std::size_t minLength = 1) const;
    Bytes bytes(std::string_view name, std::size_t maxBytes,
                             std::size_t minBytes = 1) const;
    long long integer(std::string_view name, long long min, long long max) const;
    std::chrono::system_clock::time_point time(std::string_view name) const;
    ObjectReader object(std::string_view name) const;
    const nlohmann::json &array(std::string_view name, std::size_t maxItems) const;

    // "version" must be the integer 1; MessageError kind UnsupportedVersion otherwise.
    void requireVersion() const;

    // For a document people write, where a misspelt member must not pass for an absent one:
    // MessageError "unknown member (expected one of: a, b)" naming the first member (in name
    // order) that is not in known.
    void rejectUnknown(std::initializer_list<std::string_view> known) const;

private:
    const nlohmann::json &m_json;
    std::string m_pointer;
};

} // namespace vigil::protocol::detail

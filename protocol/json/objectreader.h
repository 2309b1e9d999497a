#pragma once

// Internal to vigil_protocol: the strict field readers behind every fromJson/fromClaims, so that
// each rejection names its member as a JSON pointer in the same words.

#include "core/bytes.h"

#include <chrono>
#include <cstddef>
#include <nlohmann/json.hpp>
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

private:
    const nlohmann::json &m_json;
    std::string m_pointer;
};

} // namespace vigil::protocol::detail

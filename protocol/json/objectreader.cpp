#include "protocol/json/objectreader.h"

#include "protocol/problem.h"
#include "protocol/rfc3339.h"

#include <algorithm>

namespace vigil::protocol::detail {

namespace {

std::string number(std::size_t n)
{
    return std::to_string(n);
}

} // namespace

std::string childPointer(std::string_view parent, std::string_view token)
{
    std::string pointer(parent);
    pointer += '/';
    for (const char c : token) {
        if (c == '~')
            pointer += "~0";
        else if (c == '/')
            pointer += "~1";
        else
            pointer += c;
    }
    return pointer;
}

std::string childPointer(std::string_view parent, std::size_t index)
{
    return std::string(parent) + '/' + number(index);
}

void fail(const std::string &pointer, const std::string &reason)
{
    throw MessageError(pointer, reason);
}

std::string stringAt(const nlohmann::json &value, const std::string &pointer, std::size_t maxLength,
                     std::size_t minLength)
{
    if (!value.is_string())
        fail(pointer, "must be a string");
    const auto &text = value.get_ref<const std::string &>();
    if (text.size() > maxLength)
        fail(pointer, "longer than " + number(maxLength) + " bytes");
    if (text.size() < minLength)
        fail(pointer, minLength == 1 ? std::string("must not be empty")
                                     : "shorter than " + number(minLength) + " bytes");
    return text;
}

Bytes bytesAt(const nlohmann::json &value, const std::string &pointer,
                           std::size_t maxBytes, std::size_t minBytes)
{
    if (!value.is_string())
        fail(pointer, "must be a base64url string");
    const auto &text = value.get_ref<const std::string &>();
    const auto exactly = [&] { return "must decode to exactly " + number(maxBytes) + " bytes"; };
    // The unpadded base64url length of maxBytes bytes, checked first so that a huge string is
    // never decoded.
    if (text.size() > (maxBytes * 4 + 2) / 3)
        fail(pointer, minBytes == maxBytes ? exactly()
                                           : "decodes to more than " + number(maxBytes) + " bytes");
    auto bytes = base64UrlDecode(text);
    if (!bytes)
        fail(pointer, "not base64url without padding");
    if (bytes->size() < minBytes || bytes->size() > maxBytes) {
        if (minBytes == maxBytes)
            fail(pointer, exactly());
        if (bytes->empty())
            fail(pointer, "must not be empty");
        fail(pointer, bytes->size() < minBytes
                          ? "decodes to fewer than " + number(minBytes) + " bytes"
                          : "decodes to more than " + number(maxBytes) + " bytes");
    }
    return std::move(*bytes);
}

std::optional<long long> integerIn(const nlohmann::json &value, long long min, long long max)
{
    if (!value.is_number_integer())
        return std::nullopt;
    if (value.is_number_unsigned()) {
        const auto n = value.get<std::uint64_t>();
        if (max < 0 || n > static_cast<std::uint64_t>(max) ||
            (min > 0 && n < static_cast<std::uint64_t>(min)))
            return std::nullopt;
        return static_cast<long long>(n);
    }
    const auto n = value.get<std::int64_t>();
    if (n < min || n > max)
        return std::nullopt;
    return n;
}

long long integerAt(const nlohmann::json &value, const std::string &pointer, long long min,
                    long long max)
{
    const auto n = integerIn(value, min, max);
    if (!n)
        fail(pointer,
             "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    return *n;
}

std::chrono::system_clock::time_point timeAt(const nlohmann::json &value,
                                             const std::string &pointer)
{
    const char *reason = "must be an RFC 3339 UTC time like 2026-11-24T16:05:00Z";
    if (!value.is_string())
        fail(pointer, reason);
    const auto time = parseRfc3339(value.get_ref<const std::string &>());
    if (!time)
        fail(pointer, reason);
    return *time;
}

ObjectReader::ObjectReader(const nlohmann::json &json, std::string pointer)
    : m_json(json), m_pointer(std::move(pointer))
{
    if (!m_json.is_object())
        detail::fail(m_pointer, "must be a JSON object");
}

void ObjectReader::fail(std::string_view name, const std::string &reason) const
{
    detail::fail(pointerTo(name), reason);
}

bool ObjectReader::has(std::string_view name) const
{
    return m_json.find(name) != m_json.end();
}

const nlohmann::json &ObjectReader::value(std::string_view name) const
{
    const auto *member = find(name);
    if (!member)
        fail(name, "missing");
    return *member;
}

const nlohmann::json *ObjectReader::find(std::string_view name) const
{
    const auto it = m_json.find(name);
    return it == m_json.end() ? nullptr : &*it;
}

std::string ObjectReader::string(std::string_view name, std::size_t maxLength,
                                 std::size_t minLength) const
{
    return stringAt(value(name), pointerTo(name), maxLength, minLength);
}

Bytes ObjectReader::bytes(std::string_view name, std::size_t maxBytes,
                                       std::size_t minBytes) const
{
    return bytesAt(value(name), pointerTo(name), maxBytes, minBytes);
}

long long ObjectReader::integer(std::string_view name, long long min, long long max) const
{
    return integerAt(value(name), pointerTo(name), min, max);
}

std::chrono::system_clock::time_point ObjectReader::time(std::string_view name) const
{
    return timeAt(value(name), pointerTo(name));
}

ObjectReader ObjectReader::object(std::string_view name) const
{
    return ObjectReader(value(name), pointerTo(name));
}

const nlohmann::json &ObjectReader::array(std::string_view name, std::size_t maxItems) const
{
    const auto &json = value(name);
    if (!json.is_array())
        fail(name, "must be an array");
    if (json.size() > maxItems)
        fail(name, "more than " + number(maxItems) + " items");
    return json;
}

void ObjectReader::requireVersion() const
{
    const std::string pointer = pointerTo("version");
    const char *supported = "this implementation supports version 1";
    const auto it = m_json.find("version");
    if (it == m_json.end())
        throw MessageError(pointer, std::string("missing; ") + supported,
                           MessageError::Kind::UnsupportedVersion);
    if (!it->is_number_integer())
        throw MessageError(pointer, std::string("must be the integer 1; ") + supported,
                           MessageError::Kind::UnsupportedVersion);
    if (*it != 1)
        throw MessageError(pointer, "unsupported version " + it->dump() + "; " + supported,
                           MessageError::Kind::UnsupportedVersion);
}

void ObjectReader::rejectUnknown(std::initializer_list<std::string_view> known) const
{
    for (const auto &[name, member] : m_json.items()) {
        if (std::find(known.begin(), known.end(), name) != known.end())
            continue;
        std::string expected;
        for (const auto knownName : known) {
            if (!expected.empty())
                expected += ", ";
            expected += knownName;
        }
        fail(name, "unknown member (expected one of: " + expected + ")");
    }
}

} // namespace vigil::protocol::detail

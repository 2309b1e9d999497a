#pragma once

// The one time format of the API bodies: RFC 3339 in UTC with second precision, exactly
// "2026-11-24T16:05:00Z". Other RFC 3339 spellings (offsets, lower-case t/z, fractions) are
// rejected rather than normalised, so every implementation compares the same text.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::protocol {

// Floors to whole seconds. Throws std::out_of_range before 1970-01-01T00:00:00Z.
std::string formatRfc3339(std::chrono::system_clock::time_point time);

// nullopt unless text is exactly YYYY-MM-DDTHH:MM:SSZ naming a real calendar second (no leap
// second 60) from 1970 on that std::chrono::system_clock can represent.
std::optional<std::chrono::system_clock::time_point> parseRfc3339(std::string_view text);

// NumericDate (RFC 7519): whole seconds since the epoch; nullopt below 0 or beyond what
// std::chrono::system_clock can represent.
std::optional<std::chrono::system_clock::time_point> fromNumericDate(long long seconds);
long long toNumericDate(std::chrono::system_clock::time_point time); // floors to seconds

} // namespace vigil::protocol

#pragma once

// Case-insensitive comparison for protocol tokens (HTTP auth schemes, OAuth token types, media
// types), which are ASCII: the locale must not change what matches.

#include <algorithm>
#include <string_view>

namespace vigil::protocol {

constexpr char asciiLower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return asciiLower(x) == asciiLower(y);
           });
}

} // namespace vigil::protocol

#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Text helpers for parsers and messages. ASCII-only on purpose: what collectors parse and which
// protocol tokens (HTTP auth schemes, media types) match must not change with the locale.

inline std::string_view trimmedView(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

constexpr char asciiLower(char c)
{
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string asciiLower(std::string_view text)
{
    std::string lowered(text);
    for (auto &c : lowered)
        c = asciiLower(c);
    return lowered;
}

constexpr bool equalsIgnoringAsciiCase(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return asciiLower(x) == asciiLower(y);
           });
}

// The parts with separator between them: joined({"a", "b"}, ", ") is "a, b". Empty parts before
// the first non-empty one add no separator.
std::string joined(const std::vector<std::string> &parts, std::string_view separator);

// A path in single quotes, as messages name files: 'path'.
std::string quoted(const std::filesystem::path &path);

// text with each control character (below 0x20, and 0x7f) as \xNN: a log line that holds what
// someone else wrote (a request path, a verifier's problem detail) cannot start a forged line.
std::string escapedControlCharacters(std::string_view text);

// The permission bits of a st_mode as four octal digits ("0644"), as chmod takes them.
std::string octalMode(unsigned mode);

} // namespace vigil

#pragma once

#include <string>
#include <string_view>

namespace vigil::posture {

// ASCII-only on purpose: what collectors parse must not read differently under another locale.

inline std::string_view trimmedView(std::string_view text)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

inline std::string asciiLower(std::string text)
{
    for (auto &c : text)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    return text;
}

} // namespace vigil::posture

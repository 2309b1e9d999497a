#include "core/text.h"

#include <cstdio>

namespace vigil {

std::string joined(const std::vector<std::string> &parts, std::string_view separator)
{
    std::string text;
    for (const auto &part : parts) {
        if (!text.empty())
            text += separator;
        text += part;
    }
    return text;
}

std::string quoted(const std::filesystem::path &path)
{
    return "'" + path.string() + "'";
}

std::string octalMode(unsigned mode)
{
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode & 07777u);
    return text;
}

std::string escapedControlCharacters(std::string_view text)
{
    std::string escaped;
    escaped.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            static constexpr char digits[] = "0123456789abcdef";
            escaped.append("\\x").push_back(digits[byte >> 4]);
            escaped.push_back(digits[byte & 0xf]);
        } else {
            escaped.push_back(c);
        }
    }
    return escaped;
}

} // namespace vigil

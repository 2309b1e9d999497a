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

} // namespace vigil

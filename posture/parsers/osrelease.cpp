#include "posture/parsers/osrelease.h"

#include <cctype>

namespace vigil::posture {

namespace {

bool isValidKey(std::string_view key)
{
    if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front())))
        return false;
    for (char c : key)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_')
            return false;
    return true;
}

// nullopt-like empty + false when the quoting is broken.
bool unquote(std::string_view raw, std::string &value)
{
    value.clear();
    if (raw.empty())
        return true;
    if (raw.front() == '\'') {
        if (raw.size() < 2 || raw.back() != '\'')
            return false;
        value = std::string(raw.substr(1, raw.size() - 2));
        return value.find('\'') == std::string::npos;
    }
    if (raw.front() == '"') {
        if (raw.size() < 2 || raw.back() != '"')
            return false;
        const auto inner = raw.substr(1, raw.size() - 2);
        for (std::size_t i = 0; i < inner.size(); ++i) {
            char c = inner[i];
            if (c == '\\' && i + 1 < inner.size() &&
                (inner[i + 1] == '\\' || inner[i + 1] == '"' || inner[i + 1] == '$' ||
                 inner[i + 1] == '`')) {
                value += inner[++i];
            } else if (c == '"') {
                return false;
            } else {
                value += c;
            }
        }
        return true;
    }
    // Unquoted values may not contain whitespace or shell specials.
    for (char c : raw)
        if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\' ||
            c == '$' || c == '`')
            return false;
    value = std::string(raw);
    return true;
}

} // namespace

std::map<std::string, std::string> parseOsRelease(std::string_view text)
{
    std::map<std::string, std::string> fields;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        auto line = text.substr(pos, end - pos);
        pos = end + 1;
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
            line.remove_prefix(1);
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
            line.remove_suffix(1);
        if (line.empty() || line.front() == '#')
            continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            continue;
        const auto key = line.substr(0, eq);
        if (!isValidKey(key))
            continue;
        std::string value;
        if (unquote(line.substr(eq + 1), value))
            fields[std::string(key)] = std::move(value);
    }
    return fields;
}

} // namespace vigil::posture

#include "server/mfa/username.h"

namespace vigil::server {

std::optional<std::string> userNameProblem(std::string_view name)
{
    constexpr const char *rule = "a user name is 1 to 64 characters of a-z, 0-9, '.', '_' and "
                                 "'-', starting with a letter or digit";
    if (name.empty() || name.size() > 64)
        return std::string(rule);
    const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!alnum(name.front()))
        return std::string(rule);
    for (const char c : name)
        if (!alnum(c) && c != '.' && c != '_' && c != '-')
            return std::string(rule);
    return std::nullopt;
}

} // namespace vigil::server

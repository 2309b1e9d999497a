#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vigil::server {

// What is wrong with name as a user's name, or nothing: 1 to 64 characters of a-z, 0-9, '.',
// '_' and '-', the first a letter or digit (safe in an otpauth:// label, a log line and a
// file name).
std::optional<std::string> userNameProblem(std::string_view name);

} // namespace vigil::server

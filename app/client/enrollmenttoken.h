#pragma once

// Enrollment tokens in files: how `vigilctl enroll --token-file` and vigild (from
// /etc/vigil/enroll.token) read one, so that a token never has to appear in a process list.

#include <filesystem>
#include <iosfwd>
#include <string>
#include <string_view>

namespace vigil::app {

// The enrollment token that file holds ("-": standardInput), without the white space around it.
// Throws std::runtime_error naming the file (never quoting it) when it cannot be read or does
// not hold exactly one token, or is not a regular file. A file every user may read is still
// used, with a warning on err (warningPrefix first): the token is a secret, but refusing would
// stop a fleet rollout over a file mode.
std::string readEnrollmentToken(const std::filesystem::path &file, std::istream &standardInput,
                                std::ostream &err, std::string_view warningPrefix = "vigilctl: ");

} // namespace vigil::app

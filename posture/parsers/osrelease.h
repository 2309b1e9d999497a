#pragma once

#include <map>
#include <string>
#include <string_view>

namespace vigil::posture {

// Parses os-release(5) text: KEY=value lines, values optionally in double quotes (with \\, \",
// \$ and \` escapes) or single quotes. Comments, blank and malformed lines are skipped; the
// last assignment of a key wins. Also reads lsb-release, which has the same shape.
std::map<std::string, std::string> parseOsRelease(std::string_view text);

} // namespace vigil::posture

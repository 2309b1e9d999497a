#pragma once

// Text from outside (the machine's own files and commands, the verifier's answers) on its way
// to a terminal.

#include <cstddef>
#include <string>

namespace vigil::app {

// text followed by spaces up to width bytes (never cut).
std::string padded(std::string text, std::size_t width);

// text cut to width bytes with "…" at a UTF-8 character boundary, so a multi-byte name is never
// split.
std::string fitted(const std::string &text, std::size_t width);

// C0 and C1 control characters and DEL shown as \xNN: they would let the text forge rows or
// move the cursor.
std::string printable(const std::string &text);

} // namespace vigil::app

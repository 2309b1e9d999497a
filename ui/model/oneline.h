#pragma once

// Texts from vigild and the verifier (reasons, remediations) are written for a page, not for a
// menu entry or a tooltip: these fit them onto one short line.

#include <QString>
#include <string_view>

namespace vigil::ui {

// The first line of text with runs of white space made one space, cut at a word boundary to at
// most maxChars characters (an ellipsis included) when it is longer. Invalid UTF-8 becomes U+FFFD.
QString oneLine(std::string_view text, qsizetype maxChars);

// text with each '&' doubled, so that a menu shows it instead of taking it as a shortcut mark.
QString escapeMnemonics(QString text);

} // namespace vigil::ui

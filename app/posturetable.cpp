#include "posturetable.h"

#include "clock.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace vigil::app {

namespace {

std::string padded(std::string text, std::size_t width)
{
    if (text.size() < width)
        text.append(width - text.size(), ' ');
    return text;
}

// Cuts at a UTF-8 character boundary so a multi-byte name is never split.
std::string fitted(const std::string &text, std::size_t width)
{
    if (text.size() <= width || width < 2)
        return text;
    std::size_t cut = width - 1;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return text.substr(0, cut) + "…";
}

// Text from the machine (mount points, DMI strings, command errors) reaches a terminal here:
// control characters would let it forge rows or move the cursor, so they are shown escaped.
std::string printable(const std::string &text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        // C1 controls are U+0080..U+009F, encoded in UTF-8 as C2 80..C2 9F.
        const bool c1 = c == 0xC2 && i + 1 < text.size() &&
                        static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                        static_cast<unsigned char>(text[i + 1]) <= 0x9F;
        if (c < 0x20 || c == 0x7F || c1) {
            const unsigned value = c1 ? static_cast<unsigned char>(text[++i]) : c;
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", value);
            out += escaped;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string statusText(posture::CheckStatus status, bool color)
{
    const auto word = std::string(posture::statusName(status));
    if (!color)
        return padded(word, 8);
    const char *code = status == posture::CheckStatus::Pass   ? "\033[32m"
                       : status == posture::CheckStatus::Fail ? "\033[31m"
                                                              : "\033[33m";
    return code + word + "\033[0m" + std::string(8 - word.size(), ' ');
}

} // namespace

std::string formatPostureTable(const posture::PostureSnapshot &snapshot,
                               const TableOptions &options)
{
    std::size_t idWidth = 5;
    for (const auto &check : snapshot.checks)
        idWidth = std::max(idWidth, check.id.size());
    idWidth += 2;
    const std::size_t summaryWidth =
        static_cast<std::size_t>(std::max(20, options.width - static_cast<int>(idWidth) - 8));

    std::ostringstream out;
    int passed = 0, failed = 0, unknown = 0;
    for (const auto &check : snapshot.checks) {
        passed += check.status == posture::CheckStatus::Pass;
        failed += check.status == posture::CheckStatus::Fail;
        unknown += check.status == posture::CheckStatus::Unknown;
    }
    out << "Device posture at " << posture::toIso8601(snapshot.collectedAt) << " (collected in "
        << snapshot.duration.count() << " ms): " << passed << " pass, " << failed << " fail, "
        << unknown << " unknown\n\n";
    out << padded("CHECK", idWidth) << padded("STATUS", 8) << "SUMMARY\n";
    for (const auto &check : snapshot.checks)
        out << padded(check.id, idWidth) << statusText(check.status, options.color)
            << fitted(printable(check.summary), summaryWidth) << "\n";

    if (failed > 0) {
        out << "\nTo fix:\n";
        for (const auto &check : snapshot.checks)
            if (check.status == posture::CheckStatus::Fail)
                out << "  " << check.id << ": " << printable(check.remediation) << "\n";
    }
    if (unknown > 0) {
        out << "\nNot determined:\n";
        for (const auto &check : snapshot.checks)
            if (check.status == posture::CheckStatus::Unknown)
                out << "  " << check.id << ": " << printable(check.reason) << "\n";
    }
    return out.str();
}

} // namespace vigil::app

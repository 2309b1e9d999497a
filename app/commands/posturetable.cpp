#include "app/commands/posturetable.h"

#include "app/commands/terminaltext.h"
#include "core/clock.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace vigil::app {

namespace {

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
    out << "Device posture at " << toIso8601(snapshot.collectedAt) << " (collected in "
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

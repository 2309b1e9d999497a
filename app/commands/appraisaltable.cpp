#include "app/commands/appraisaltable.h"

#include "app/commands/terminaltext.h"
#include "protocol/rfc3339.h"

#include <algorithm>
#include <sstream>

namespace vigil::app {

namespace {

std::string coloured(const std::string &text, bool pass, bool color)
{
    if (!color)
        return text;
    return (pass ? "\033[32m" : "\033[31m") + text + "\033[0m";
}

} // namespace

std::string formatAppraisalTable(const protocol::Appraisal &appraisal, const TableOptions &options)
{
    std::size_t idWidth = 5;
    int failed = 0;
    for (const auto &check : appraisal.checks) {
        idWidth = std::max(idWidth, check.id.size());
        failed += check.status == protocol::CheckOutcome::Fail;
    }
    idWidth += 2;
    const std::size_t summaryWidth =
        static_cast<std::size_t>(std::max(20, options.width - static_cast<int>(idWidth) - 8));
    const bool compliant = appraisal.verdict == protocol::Verdict::Compliant;

    std::ostringstream out;
    out << "Verdict: "
        << coloured(std::string(protocol::verdictName(appraisal.verdict)), compliant, options.color)
        << " (" << failed << " of " << appraisal.checks.size() << " checks fail), appraised "
        << protocol::formatRfc3339(appraisal.appraisedAt) << "\n\n";
    out << padded("CHECK", idWidth) << padded("STATUS", 8) << "SUMMARY\n";
    for (const auto &check : appraisal.checks) {
        const bool pass = check.status == protocol::CheckOutcome::Pass;
        const std::string word(protocol::checkOutcomeName(check.status));
        out << padded(check.id, idWidth) << coloured(word, pass, options.color)
            << std::string(8 - word.size(), ' ') << fitted(printable(check.summary), summaryWidth)
            << "\n";
    }
    if (failed > 0) {
        out << "\nTo fix:\n";
        for (const auto &check : appraisal.checks)
            if (check.status == protocol::CheckOutcome::Fail)
                out << "  " << check.id << ": "
                    << (check.remediation.empty() ? std::string("(the verifier gave no advice)")
                                                  : printable(check.remediation))
                    << "\n";
    }
    out << "\nNext report due by " << protocol::formatRfc3339(appraisal.nextReportAt)
        << " (appraisal " << appraisal.appraisalId << ")\n";
    return out.str();
}

} // namespace vigil::app

#include "app/commands/statustable.h"

#include "app/commands/terminaltext.h"
#include "protocol/rfc3339.h"

#include <sstream>

namespace vigil::app {

namespace {

using protocol::ipc::AgentState;

constexpr std::size_t labelWidth = 17;

// Green for the states that need nothing, red for those that need someone, none for the rest.
std::string colouredState(AgentState state, bool color)
{
    const std::string name(protocol::ipc::agentStateName(state));
    if (!color)
        return name;
    switch (state) {
    case AgentState::Compliant:
        return "\033[32m" + name + "\033[0m";
    case AgentState::NonCompliant:
    case AgentState::Revoked:
    case AgentState::Error:
        return "\033[31m" + name + "\033[0m";
    default:
        return name;
    }
}

std::string timeOr(const std::optional<protocol::TimePoint> &time, const std::string &none)
{
    return time ? protocol::formatRfc3339(*time) : none;
}

} // namespace

std::string formatStatus(const protocol::ipc::Status &status, const TableOptions &options)
{
    std::ostringstream out;
    const auto line = [&](const std::string &label, const std::string &value) {
        out << padded(label, labelWidth) << value << "\n";
    };
    line("State", colouredState(status.state, options.color) +
                      (status.reason.empty() ? "" : ": " + printable(status.reason)));
    if (status.enrollment) {
        line("Device", printable(status.enrollment->deviceId) + " (assurance " +
                           std::string(protocol::assuranceName(status.enrollment->assurance)) +
                           ")");
        line("Verifier", printable(status.enrollment->serverUrl));
    } else {
        line("Device", "not enrolled (vigilctl enroll --token-file FILE)");
    }
    line("Reachable", !status.verifierLastError.empty()
                          ? "no: " + printable(status.verifierLastError)
                          : (status.verifierReachable ? "yes" : "not tried yet"));
    if (status.lastVerdict)
        line("Last verdict", std::string(protocol::verdictName(status.lastVerdict->verdict)) +
                                 " (" + std::to_string(status.lastVerdict->failingChecks.size()) +
                                 " failing), appraised " +
                                 protocol::formatRfc3339(status.lastVerdict->appraisedAt));
    else
        line("Last verdict", "none yet");
    line("Last report", timeOr(status.lastReportAt, "none yet"));
    line("Next report", timeOr(status.nextReportAt, "none scheduled"));
    line("Access token", status.tokenExpiresAt
                             ? "held, expires " + protocol::formatRfc3339(*status.tokenExpiresAt)
                             : std::string("none"));
    if (status.lastVerdict && !status.lastVerdict->failingChecks.empty()) {
        out << "\nFailing checks:\n";
        for (const auto &check : status.lastVerdict->failingChecks) {
            out << "  " << printable(check.id) << ": " << printable(check.summary) << "\n"
                << "    To fix: "
                << (check.remediation.empty() ? std::string("(the verifier gave no advice)")
                                              : printable(check.remediation))
                << "\n";
        }
    }
    return out.str();
}

} // namespace vigil::app

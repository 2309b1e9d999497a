#pragma once

// What the details window shows, as plain data: every check of the last verdict with a name
// people read, the facts below them, and the text "Copy for helpdesk" puts on the clipboard.
// Tested without a display; the window only lays these out.

#include "protocol/ipc/status.h"
#include "ui/model/traystate.h"

#include <QString>
#include <chrono>
#include <optional>
#include <vector>

namespace vigil {
class Clock;
}

namespace vigil::ui {

// "Firewall" for "firewall"; an id the tray does not know is shown as it is.
QString checkTitle(const std::string &id);

struct CheckRow
{
    QString id;
    QString title;
    bool passed = false;
    QString summary;     // what the verifier found
    QString remediation; // what to do; empty for a passing check or when the verifier gave none
};

struct DetailFact
{
    QString label; // "Next report"
    QString value; // "14:20 (in 12 min)"
};

struct StatusDetails
{
    TrayStatus status;
    QString reason;               // vigild's reason, "" when the state says it all
    QString verdictTime;          // "Verdict of 14:05" or "" before the first
    std::vector<CheckRow> checks; // failing first, in the verifier's order
    std::vector<DetailFact> facts;
};

StatusDetails statusDetails(const std::optional<protocol::ipc::Status> &status,
                            const TrayStatus &trayStatus, const Clock &clock);

// A time for people: local, with how far from now ("14:20, in 12 min"; "yesterday 09:01").
QString describeTime(std::chrono::system_clock::time_point at, const Clock &clock);

// Plain text for a helpdesk ticket: the product version, host, every fact and check, times in
// UTC. Never the token or a key: vigild does not hand them to the status in the first place.
QString helpdeskSummary(const std::optional<protocol::ipc::Status> &status,
                        const TrayStatus &trayStatus, const Clock &clock, const QString &hostName,
                        const QString &version);

} // namespace vigil::ui

#pragma once

// What the tray icon shows: one of six presentation states and a one-line text, as a pure
// function of vigild's status (nullopt when vigild cannot be reached) and the time now. The time
// matters because "a report is overdue" and "the token is about to expire" become true without
// vigild saying anything: the tray arms a single-shot timer at trayStateChangesAt().
//
// The rules (docs/ipc.md section 8 for the states):
//   nullopt                                     -> ServiceNotRunning
//   compliant, report overdue or token expiring -> Grace (see GraceRules)
//   compliant otherwise                         -> Compliant
//   starting, enrolling                         -> Grace: transient, nothing to do but wait
//   non_compliant                               -> NonCompliant
//   error                                       -> NonCompliant: something on the machine is
//                                                  broken, no token is issued and someone has
//                                                  to act, which "unknown" would not say
//   offline                                     -> Offline
//   not_enrolled                                -> NotEnrolled
//   revoked                                     -> NotEnrolled: its remedy is to enroll again

#include "protocol/ipc/status.h"

#include <QString>
#include <chrono>
#include <optional>

namespace vigil {
class Clock;
}

namespace vigil::ui {

enum class TrayState
{
    Compliant,
    Grace,
    NonCompliant,
    Offline, // offline, or a state the tray cannot tell
    NotEnrolled,
    ServiceNotRunning,
};

inline constexpr TrayState allTrayStates[] = {
    TrayState::Compliant, TrayState::Grace,       TrayState::NonCompliant,
    TrayState::Offline,   TrayState::NotEnrolled, TrayState::ServiceNotRunning,
};

// "compliant", "grace", …: file names of the icons and names in logs, never shown to people.
const char *trayStateName(TrayState state);

struct GraceRules
{
    // vigild reports at next_report_at; a report takes seconds (nonce, quote, verdict), so only
    // past this much is it overdue rather than running.
    std::chrono::seconds reportOverdueAfter{30};
    // vigild refreshes its token once three quarters of its lifetime have passed, which leaves at
    // least a minute for every token of four minutes or more: less than this left means the
    // refresh is late or failing. A compliant status with no token at all is not grace: vigild
    // fetches one right after each compliant verdict and the icon would flicker at every start.
    std::chrono::seconds tokenExpiryWarning{60};
};

struct TrayStatus
{
    TrayState state = TrayState::ServiceNotRunning;
    QString headline; // one line for the menu's first entry: "This device is compliant"
    QString toolTip;  // the same with the product's name, for the icon
};

TrayStatus trayStatus(const std::optional<protocol::ipc::Status> &status, const Clock &clock,
                      const GraceRules &rules = {});

// The next instant after now at which trayStatus() of the same status can change, so the tray
// can arm one timer instead of polling; nullopt when it cannot change until vigild says more.
std::optional<std::chrono::system_clock::time_point>
trayStateChangesAt(const std::optional<protocol::ipc::Status> &status, const Clock &clock,
                   const GraceRules &rules = {});

} // namespace vigil::ui

#include "ui/model/traystate.h"

#include "core/clock.h"
#include "ui/model/oneline.h"

#include <QCoreApplication>

namespace vigil::ui {

using protocol::ipc::AgentState;
using protocol::ipc::Status;
using TimePoint = std::chrono::system_clock::time_point;

namespace {

// Reasons come from vigild in English; a tooltip shows only their start.
constexpr qsizetype maxReasonChars = 80;

// The translation context of every text here (lupdate reads Text::tr calls).
struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::TrayState)
};

TrayStatus make(TrayState state, const QString &headline)
{
    return {state, headline, Text::tr("Vigil: %1").arg(headline)};
}

// A headline with vigild's reason after it, when it gave one.
QString withReason(const QString &headline, const Status &status)
{
    if (status.reason.empty())
        return headline;
    return Text::tr("%1: %2").arg(headline, oneLine(status.reason, maxReasonChars));
}

bool reportOverdue(const Status &status, TimePoint now, const GraceRules &rules)
{
    return status.nextReportAt && now > *status.nextReportAt + rules.reportOverdueAfter;
}

bool tokenExpiring(const Status &status, TimePoint now, const GraceRules &rules)
{
    return status.tokenExpiresAt && now >= *status.tokenExpiresAt - rules.tokenExpiryWarning;
}

} // namespace

const char *trayStateName(TrayState state)
{
    switch (state) {
    case TrayState::Compliant:
        return "compliant";
    case TrayState::Grace:
        return "grace";
    case TrayState::NonCompliant:
        return "non_compliant";
    case TrayState::Offline:
        return "offline";
    case TrayState::NotEnrolled:
        return "not_enrolled";
    case TrayState::ServiceNotRunning:
        return "service_not_running";
    }
    return "offline";
}

TrayStatus trayStatus(const std::optional<Status> &status, const Clock &clock,
                      const GraceRules &rules)
{
    if (!status)
        return make(TrayState::ServiceNotRunning, Text::tr("The Vigil service is not running"));
    const TimePoint now = clock.now();
    switch (status->state) {
    case AgentState::Compliant:
        if (reportOverdue(*status, now, rules))
            return make(TrayState::Grace, Text::tr("Compliant, but a posture report is overdue"));
        if (tokenExpiring(*status, now, rules))
            return make(TrayState::Grace,
                        now >= *status->tokenExpiresAt
                            ? Text::tr("Compliant, but the access token has expired")
                            : Text::tr("Compliant, but the access token expires soon"));
        return make(TrayState::Compliant, Text::tr("This device is compliant"));
    case AgentState::Starting:
        return make(TrayState::Grace, Text::tr("Starting: checking this device"));
    case AgentState::Enrolling:
        return make(TrayState::Grace, withReason(Text::tr("Enrolling this device"), *status));
    case AgentState::NonCompliant: {
        const int failing =
            status->lastVerdict ? static_cast<int>(status->lastVerdict->failingChecks.size()) : 0;
        if (failing == 0)
            return make(TrayState::NonCompliant, Text::tr("This device is not compliant"));
        return make(TrayState::NonCompliant,
                    Text::tr("Not compliant: %n check(s) to fix", nullptr, failing));
    }
    case AgentState::Error:
        return make(TrayState::NonCompliant,
                    withReason(Text::tr("Something on this device is broken"), *status));
    case AgentState::Offline:
        return make(TrayState::Offline, Text::tr("Cannot reach the verifier"));
    case AgentState::NotEnrolled:
        return make(TrayState::NotEnrolled, Text::tr("This device is not enrolled"));
    case AgentState::Revoked:
        return make(TrayState::NotEnrolled, Text::tr("This device was revoked: enroll it again"));
    }
    return make(TrayState::Offline, Text::tr("The state of this device is unknown"));
}

std::optional<TimePoint> trayStateChangesAt(const std::optional<Status> &status, const Clock &clock,
                                            const GraceRules &rules)
{
    if (!status || status->state != AgentState::Compliant)
        return std::nullopt;
    const TimePoint now = clock.now();
    std::optional<TimePoint> earliest;
    const auto consider = [&](TimePoint at) {
        if (at > now && (!earliest || at < *earliest))
            earliest = at;
    };
    // The first instant past each boundary that trayStatus() compares against.
    if (status->nextReportAt)
        consider(*status->nextReportAt + rules.reportOverdueAfter + std::chrono::seconds(1));
    if (status->tokenExpiresAt) {
        consider(*status->tokenExpiresAt - rules.tokenExpiryWarning);
        consider(*status->tokenExpiresAt); // "expires soon" becomes "has expired"
    }
    return earliest;
}

} // namespace vigil::ui

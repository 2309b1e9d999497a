#include "ui/model/notificationpolicy.h"

#include "core/clock.h"
#include "ui/model/oneline.h"

#include <QCoreApplication>
#include <algorithm>

namespace vigil::ui {

using protocol::ipc::AgentState;
using protocol::ipc::Status;
using Kind = DesktopNotification::Kind;

namespace {

// Texts from vigild and the verifier are written for a page; a notification shows a few lines.
constexpr qsizetype maxBodyChars = 200;

struct Text
{
    Q_DECLARE_TR_FUNCTIONS(vigil::ui::NotificationPolicy)
};

std::vector<std::string> failingIds(const Status &status)
{
    std::vector<std::string> ids;
    if (status.lastVerdict) {
        for (const auto &check : status.lastVerdict->failingChecks)
            ids.push_back(check.id);
    }
    return ids;
}

// What to do about the check: its remediation, else its summary, else its id.
QString fixFor(const protocol::AppraisalCheck &check)
{
    const std::string &line = !check.remediation.empty() ? check.remediation
                              : !check.summary.empty()   ? check.summary
                                                         : check.id;
    return oneLine(line, maxBodyChars);
}

DesktopNotification nonCompliant(const Status &status, const std::vector<std::string> &known)
{
    DesktopNotification notification{Text::tr("No access: this device is not compliant"),
                                     {},
                                     NotificationUrgency::Critical,
                                     Kind::NonCompliant,
                                     std::nullopt};
    if (status.lastVerdict) {
        // The first check that was not failing already: what changed, and what to do about it.
        for (const auto &check : status.lastVerdict->failingChecks) {
            if (std::find(known.begin(), known.end(), check.id) == known.end()) {
                notification.body = fixFor(check);
                return notification;
            }
        }
    }
    notification.body = status.reason.empty() ? Text::tr("Open Vigil's details to see what to fix.")
                                              : oneLine(status.reason, maxBodyChars);
    return notification;
}

} // namespace

TrayState notificationIconState(Kind kind)
{
    switch (kind) {
    case Kind::NonCompliant:
        return TrayState::NonCompliant;
    case Kind::Compliant:
        return TrayState::Compliant;
    case Kind::Offline:
        return TrayState::Offline;
    case Kind::Revoked:
        return TrayState::NotEnrolled;
    case Kind::CheckFinished:
        break;
    }
    return TrayState::Offline;
}

NotificationPolicy::NotificationPolicy(const Clock &clock, NotificationRules rules)
    : m_clock(clock), m_rules(rules)
{
}

std::optional<DesktopNotification> NotificationPolicy::update(const std::optional<Status> &status)
{
    const bool outage = !status || status->state == AgentState::Offline;
    if (outage || status->state == AgentState::Starting) {
        if (!m_offlineSince) {
            m_offlineSince = m_clock.now();
            m_outageAnnounced = false;
            m_serviceDown = false;
        }
        if (outage)
            m_serviceDown = !status;
        return due();
    }
    m_offlineSince.reset();
    switch (status->state) {
    case AgentState::Compliant:
        return settle(Settled::Compliant, *status);
    case AgentState::NonCompliant:
        return settle(Settled::NonCompliant, *status);
    case AgentState::Error: {
        // Something local broke, not one of the verifier's checks: its reason is the news.
        Status broken = *status;
        broken.lastVerdict.reset();
        return settle(Settled::NonCompliant, broken);
    }
    case AgentState::Revoked:
        return settle(Settled::Revoked, *status);
    case AgentState::NotEnrolled:
        return settle(Settled::NotEnrolled, *status);
    case AgentState::Enrolling:
    case AgentState::Starting:
    case AgentState::Offline:
        break;
    }
    return std::nullopt;
}

std::optional<DesktopNotification> NotificationPolicy::settle(Settled settled, const Status &status)
{
    // Nothing settled and nothing said yet: this is what the tray found at start-up.
    const bool baseline = !m_settled && !m_announced;
    const std::optional<Settled> previous = m_settled;
    const std::vector<std::string> known =
        previous == Settled::NonCompliant ? m_failing : std::vector<std::string>{};
    m_settled = settled;
    m_failing = settled == Settled::NonCompliant ? failingIds(status) : std::vector<std::string>{};
    // An error between two verdicts carries none: the checks told of before it still fail, and
    // the same verdict after it is no news.
    if (settled == Settled::NonCompliant && !status.lastVerdict &&
        previous == Settled::NonCompliant)
        m_failing = known;

    std::optional<DesktopNotification> notification;
    switch (settled) {
    case Settled::Compliant:
        if (m_announced && *m_announced != Kind::Compliant) {
            notification = DesktopNotification{
                Text::tr("Access restored"), Text::tr("This device is compliant again."),
                NotificationUrgency::Low, Kind::Compliant, std::nullopt};
        }
        break;
    case Settled::NonCompliant: {
        const bool newlyFailing = std::any_of(m_failing.begin(), m_failing.end(), [&](auto &id) {
            return std::find(known.begin(), known.end(), id) == known.end();
        });
        if (!baseline && (previous != Settled::NonCompliant || newlyFailing))
            notification = nonCompliant(status, known);
        break;
    }
    case Settled::Revoked:
        if (!baseline && previous != Settled::Revoked) {
            notification = DesktopNotification{
                Text::tr("No access: this device was revoked"),
                Text::tr("The verifier no longer knows this device. Enroll it again."),
                NotificationUrgency::Critical, Kind::Revoked, std::nullopt};
        }
        break;
    case Settled::NotEnrolled:
        break;
    }
    if (notification)
        m_announced = notification->kind;
    return notification;
}

std::optional<std::chrono::system_clock::time_point> NotificationPolicy::notifyAt() const
{
    if (!m_offlineSince || m_outageAnnounced)
        return std::nullopt;
    return *m_offlineSince + m_rules.offlineGrace;
}

std::optional<DesktopNotification> NotificationPolicy::due()
{
    const auto at = notifyAt();
    if (!at || m_clock.now() < *at)
        return std::nullopt;
    m_outageAnnounced = true;
    m_announced = Kind::Offline;
    const int minutes = static_cast<int>(std::max<std::chrono::minutes::rep>(
        1, std::chrono::duration_cast<std::chrono::minutes>(m_rules.offlineGrace).count()));
    return DesktopNotification{
        m_serviceDown ? Text::tr("The Vigil service is not running")
                      : Text::tr("Vigil cannot reach the verifier"),
        m_serviceDown ? Text::tr("It has not answered for %n minute(s). Access may end soon.",
                                 nullptr, minutes)
                      : Text::tr("No posture report for %n minute(s). Access may end soon.",
                                 nullptr, minutes),
        NotificationUrgency::Normal, Kind::Offline, std::nullopt};
}

} // namespace vigil::ui

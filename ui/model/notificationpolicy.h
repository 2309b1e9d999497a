#pragma once

// Which desktop notifications the tray shows: on transitions only, never while nothing changes.
// A pure model over the successive statuses the tray sees (nullopt while vigild is not running)
// and a clock; DesktopNotifier shows what it decides. It reads vigild's state rather than the
// icon's TrayState: grace (a report or token running late) is a shade of compliant that the icon
// shows and no notification should interrupt for.
//
// The rules:
// - Compliant -> non-compliant: one notification whose body is the remediation of the first
//   failing check. While non-compliant, a check that newly fails is worth one more (something
//   else broke, and it names that check); checks that only stop failing are not (the menu shows
//   the progress). vigild re-sends the same set with every event: that is not a change.
//   vigild's "error" state counts as non-compliant (no token is issued), with its reason.
// - Revoked: one notification when the device becomes revoked.
// - Offline (the verifier cannot be reached) or vigild not running, without a break, for longer
//   than the grace period: one notification at the end of it. Brief outages (a restart of vigild,
//   a network change) pass silently. The tray arms a single-shot timer at notifyAt() and calls
//   due() when it fires; nothing is polled. "starting" does not end an outage: no verdict yet.
// - Back to compliant: one notification, but only after a non-compliant, offline or revoked
//   notification was shown: otherwise there was no bad news to take back.
// - Start-up: the first settled state the tray sees (compliant, non-compliant, revoked, not
//   enrolled) is a baseline and is not announced. The tray starts at every login and restarts
//   after a crash; announcing the state then would repeat the same news each time, and the icon
//   already shows it. An outage from start-up still counts towards the grace period, so a
//   service that never comes up is announced once.
// - "starting", "enrolling" and "not enrolled" announce nothing.

#include "protocol/ipc/status.h"
#include "ui/model/traystate.h"

#include <QString>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace vigil {
class Clock;
}

namespace vigil::ui {

enum class NotificationUrgency
{
    Low = 0, // the values of the freedesktop "urgency" hint
    Normal = 1,
    Critical = 2,
};

struct DesktopNotification
{
    enum class Kind
    {
        NonCompliant,
        Compliant, // back to compliant
        Offline,   // offline or vigild not running longer than the grace period
        Revoked,
        // Not a transition: how a "Check now" the person asked for ended, when no transition
        // said it (TrayApp sends it; the policy never does).
        CheckFinished,
    };

    QString summary;
    QString body; // plain text
    NotificationUrgency urgency = NotificationUrgency::Normal;
    Kind kind = Kind::NonCompliant;
    // The icon shown with it, when not notificationIconState(kind).
    std::optional<TrayState> icon;
};

// The icon a notification of this kind shows.
TrayState notificationIconState(DesktopNotification::Kind kind);

struct NotificationRules
{
    std::chrono::seconds offlineGrace{300};
};

class NotificationPolicy
{
public:
    explicit NotificationPolicy(const Clock &clock, NotificationRules rules = {});

    // Every status the tray sees, in order; a notification when this one is a transition worth
    // one (or when the offline grace has already passed).
    std::optional<DesktopNotification> update(const std::optional<protocol::ipc::Status> &status);

    // When the current outage is to be announced, nullopt when none is pending: the tray arms a
    // single-shot timer for it after each update() and due().
    std::optional<std::chrono::system_clock::time_point> notifyAt() const;

    // The offline notification once notifyAt() has passed, at most once per outage.
    std::optional<DesktopNotification> due();

private:
    enum class Settled
    {
        Compliant,
        NonCompliant,
        Revoked,
        NotEnrolled,
    };

    std::optional<DesktopNotification> settle(Settled settled, const protocol::ipc::Status &status);

    const Clock &m_clock;
    NotificationRules m_rules;
    std::optional<Settled> m_settled;
    std::vector<std::string> m_failing; // ids of the failing checks while NonCompliant
    std::optional<DesktopNotification::Kind> m_announced;
    std::optional<std::chrono::system_clock::time_point> m_offlineSince;
    bool m_outageAnnounced = false;
    bool m_serviceDown = false; // the outage's latest status was nullopt rather than offline
};

} // namespace vigil::ui

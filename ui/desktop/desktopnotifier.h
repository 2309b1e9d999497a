#pragma once

// Shows NotificationPolicy's notifications through org.freedesktop.Notifications on the session
// bus (the Desktop Notifications Specification): asynchronously, so the GUI thread never waits
// for the daemon; app name "Vigil", the state icon as image data, the urgency hint, and each new
// notification replaces the previous one, so that only the latest news stays on screen.
// Without a bus or a notification daemon it logs one warning and drops what it is given.

#include "ui/model/notificationpolicy.h"

#include <QDBusConnection>
#include <QObject>
#include <QString>
#include <chrono>
#include <optional>

class QDBusPendingCallWatcher;

namespace vigil::ui {

class DesktopNotifier : public QObject
{
    Q_OBJECT

public:
    // The session bus.
    explicit DesktopNotifier(QObject *parent = nullptr);
    DesktopNotifier(const QDBusConnection &bus, QObject *parent = nullptr);
    ~DesktopNotifier() override;

    // Sends the notification. While an earlier call waits for its id, only the newest of those
    // given meanwhile is kept and sent after it, replacing it.
    void send(const DesktopNotification &notification);

    // The id the daemon gave the last notification, 0 before any.
    uint lastId() const { return m_lastId; }
    // How long a call may wait for the daemon (a bus may first have to start it).
    void setCallTimeout(std::chrono::milliseconds timeout) { m_callTimeout = timeout; }

Q_SIGNALS:
    // The daemon accepted a notification and gave it this id.
    void shown(uint id);
    // It could not be shown (no bus, no daemon, an error); the message is the bus's.
    void failed(const QString &message);

private:
    void call(const DesktopNotification &notification);
    void onReply(QDBusPendingCallWatcher *watcher);
    void onCapabilities(QDBusPendingCallWatcher *watcher);
    void warnOnce(const QString &message);

    QDBusConnection m_bus;
    std::chrono::milliseconds m_callTimeout{10'000};
    uint m_lastId = 0;
    bool m_inFlight = false;
    bool m_warned = false;
    // Markup in bodies is only escaped where the daemon interprets it; until it answered, it is.
    bool m_bodyMarkup = true;
    std::optional<DesktopNotification> m_queued;
};

} // namespace vigil::ui

#pragma once

// Tells systemd how vigild is doing, for a unit of Type=notify: READY once the socket listens,
// STATUS with the agent's state, WATCHDOG at half the unit's WatchdogSec while the event loop
// runs, STOPPING on the way out. Without systemd (no $NOTIFY_SOCKET) every call does nothing
// and no timer runs.

#include <QObject>
#include <QTimer>
#include <string>

namespace vigil::agent {

class ServiceNotifier : public QObject
{
    Q_OBJECT

public:
    explicit ServiceNotifier(QObject *parent = nullptr);

    void ready();
    void status(const std::string &text);
    void stopping();

private:
    QTimer m_watchdog;
};

} // namespace vigil::agent

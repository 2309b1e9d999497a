#pragma once

#include <QDBusConnection>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>

class QDBusMessage;

namespace vigil::agent {

// The moments logind announces that call for a fresh report: resume from suspend and a session
// being unlocked. Signals are taken only from the bus name's owner (the match rules name
// org.freedesktop.login1 as sender, and QtDBus compares each signal's sender with the name's
// current owner) and only from logind's own object paths, so another process on the bus cannot
// fake a wake-up or an unlock.
class LogindMonitor : public QObject
{
    Q_OBJECT

public:
    // `bus` is the system bus in vigild, a private bus in tests.
    explicit LogindMonitor(const QDBusConnection &bus, QObject *parent = nullptr);

    // False without a bus, when the subscription failed or while nobody owns
    // org.freedesktop.login1 (no systemd, or logind restarting); the reason says which. The
    // subscriptions stay, so signals arrive again once logind is (back) on the bus.
    bool isActive() const { return m_inactiveReason.isEmpty(); }
    QString inactiveReason() const { return m_inactiveReason; }

Q_SIGNALS:
    void aboutToSleep(); // PrepareForSleep(true)
    void resumed();      // PrepareForSleep(false)
    void sessionUnlocked();
    // logind appeared on the bus or left it; inactiveReason() says why when it is inactive.
    void activeChanged(bool active);

private Q_SLOTS:
    void onPrepareForSleep(bool start);
    void onSessionUnlock(const QDBusMessage &message);
    void onPropertiesChanged(const QString &interface, const QVariantMap &changedProperties,
                             const QStringList &invalidated, const QDBusMessage &message);
    void onOwnerChanged(const QString &name, const QString &oldOwner, const QString &newOwner);

private:
    QDBusConnection m_bus;
    QString m_inactiveReason;
};

} // namespace vigil::agent

#include "app/agent/triggers/logindmonitor.h"

#include "app/agent/agentlogging.h"

#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusServiceWatcher>

namespace vigil::agent {

namespace {

const QString login1 = QStringLiteral("org.freedesktop.login1");
const QString managerPath = QStringLiteral("/org/freedesktop/login1");
const QString managerInterface = QStringLiteral("org.freedesktop.login1.Manager");
const QString sessionInterface = QStringLiteral("org.freedesktop.login1.Session");
const QString propertiesInterface = QStringLiteral("org.freedesktop.DBus.Properties");

// Session objects live below this path; a match rule can only name one path exactly, so the
// session signals are subscribed on any path and checked here.
bool isSessionPath(const QString &path)
{
    return path.startsWith(QStringLiteral("/org/freedesktop/login1/session/"));
}

QString absentReason()
{
    return QStringLiteral("%1 is not on the bus (no systemd-logind)").arg(login1);
}

} // namespace

LogindMonitor::LogindMonitor(const QDBusConnection &bus, QObject *parent)
    : QObject(parent), m_bus(bus)
{
    if (!m_bus.isConnected()) {
        m_inactiveReason = QStringLiteral("no system bus: %1").arg(m_bus.lastError().message());
        qCWarning(lcAgent).noquote()
            << "suspend and unlock will not trigger reports:" << m_inactiveReason;
        return;
    }
    // Naming the service makes both the bus daemon (sender= in the match rule) and QtDBus
    // (against the name's owner, followed as it changes) drop signals from anyone else.
    const bool subscribed =
        m_bus.connect(login1, managerPath, managerInterface, QStringLiteral("PrepareForSleep"),
                      this, SLOT(onPrepareForSleep(bool))) &&
        m_bus.connect(login1, QString(), sessionInterface, QStringLiteral("Unlock"), this,
                      SLOT(onSessionUnlock(QDBusMessage))) &&
        m_bus.connect(login1, QString(), propertiesInterface, QStringLiteral("PropertiesChanged"),
                      QStringList{sessionInterface}, QString(), this,
                      SLOT(onPropertiesChanged(QString, QVariantMap, QStringList, QDBusMessage)));
    if (!subscribed) {
        m_inactiveReason = QStringLiteral("cannot subscribe to logind's signals: %1")
                               .arg(m_bus.lastError().message());
        qCWarning(lcAgent).noquote()
            << "suspend and unlock will not trigger reports:" << m_inactiveReason;
        return;
    }
    auto *watcher =
        new QDBusServiceWatcher(login1, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            &LogindMonitor::onOwnerChanged);
    // A question to the bus daemon, which answers at once; logind itself is never called.
    if (!m_bus.interface()->isServiceRegistered(login1).value()) {
        m_inactiveReason = absentReason();
        qCInfo(lcAgent).noquote() << "suspend and unlock will not trigger reports until" << login1
                                  << "appears:" << m_inactiveReason;
    }
}

void LogindMonitor::onPrepareForSleep(bool start)
{
    if (start)
        Q_EMIT aboutToSleep();
    else
        Q_EMIT resumed();
}

void LogindMonitor::onSessionUnlock(const QDBusMessage &message)
{
    if (isSessionPath(message.path()))
        Q_EMIT sessionUnlocked();
}

void LogindMonitor::onPropertiesChanged(const QString &interface,
                                        const QVariantMap &changedProperties, const QStringList &,
                                        const QDBusMessage &message)
{
    if (interface != sessionInterface || !isSessionPath(message.path()))
        return;
    const auto lockedHint = changedProperties.value(QStringLiteral("LockedHint"));
    if (lockedHint.metaType().id() == QMetaType::Bool && !lockedHint.toBool())
        Q_EMIT sessionUnlocked();
}

void LogindMonitor::onOwnerChanged(const QString &, const QString &, const QString &newOwner)
{
    const bool active = !newOwner.isEmpty();
    if (active == isActive())
        return;
    m_inactiveReason = active ? QString() : absentReason();
    qCInfo(lcAgent).noquote() << login1 << (active ? "appeared on the bus" : "left the bus");
    Q_EMIT activeChanged(active);
}

} // namespace vigil::agent

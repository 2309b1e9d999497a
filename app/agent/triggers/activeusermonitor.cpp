#include "app/agent/triggers/activeusermonitor.h"

#include "app/agent/agentlogging.h"

#include <QDBusArgument>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QDBusObjectPath>
#include <QDBusPendingCallWatcher>
#include <QDBusPendingReply>
#include <QDBusServiceWatcher>
#include <QDBusVariant>

namespace vigil::agent {

namespace {

const QString login1 = QStringLiteral("org.freedesktop.login1");
const QString seatPath = QStringLiteral("/org/freedesktop/login1/seat/seat0");
const QString seatInterface = QStringLiteral("org.freedesktop.login1.Seat");
const QString sessionInterface = QStringLiteral("org.freedesktop.login1.Session");
const QString propertiesInterface = QStringLiteral("org.freedesktop.DBus.Properties");
const QString activeSession = QStringLiteral("ActiveSession");

// logind's (so) and (uo) properties: a session id or uid, and an object path. nullopt for any
// other shape, so a broken answer is no answer.
template <typename First>
std::optional<std::pair<First, QDBusObjectPath>> structure(const QVariant &value,
                                                           const char *signature)
{
    if (value.metaType() != QMetaType::fromType<QDBusArgument>())
        return std::nullopt;
    const auto argument = value.value<QDBusArgument>();
    if (argument.currentSignature() != QLatin1String(signature))
        return std::nullopt;
    First first{};
    QDBusObjectPath path;
    argument.beginStructure();
    argument >> first >> path;
    argument.endStructure();
    return std::pair{first, path};
}

} // namespace

ActiveUserMonitor::ActiveUserMonitor(const QDBusConnection &bus, QObject *parent)
    : QObject(parent), m_bus(bus)
{
    if (!m_bus.isConnected())
        return; // LogindMonitor says why
    // Naming the service makes the bus daemon and QtDBus drop anyone else's signals.
    if (!m_bus.connect(login1, seatPath, propertiesInterface, QStringLiteral("PropertiesChanged"),
                       QStringList{seatInterface}, QString(), this,
                       SLOT(onSeatPropertiesChanged(QString, QVariantMap, QStringList)))) {
        qCWarning(lcAgent).noquote()
            << "cannot follow the active session, so the latest screen lock reported counts:"
            << m_bus.lastError().message();
        return;
    }
    auto *watcher =
        new QDBusServiceWatcher(login1, m_bus, QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(watcher, &QDBusServiceWatcher::serviceOwnerChanged, this,
            &ActiveUserMonitor::onOwnerChanged);
    if (m_bus.interface()->isServiceRegistered(login1).value())
        ask();
}

void ActiveUserMonitor::onSeatPropertiesChanged(const QString &interface,
                                                const QVariantMap &changedProperties,
                                                const QStringList &invalidated)
{
    if (interface == seatInterface &&
        (changedProperties.contains(activeSession) || invalidated.contains(activeSession)))
        ask();
}

void ActiveUserMonitor::onOwnerChanged(const QString &, const QString &, const QString &newOwner)
{
    if (newOwner.isEmpty()) {
        ++m_question;
        settle(false, std::nullopt);
    } else {
        ask();
    }
}

void ActiveUserMonitor::ask()
{
    askProperty(seatPath, seatInterface, activeSession, &ActiveUserMonitor::onActiveSession);
}

void ActiveUserMonitor::askProperty(const QString &path, const QString &interface,
                                    const QString &property,
                                    void (ActiveUserMonitor::*answered)(const QVariant &))
{
    const quint64 question = ++m_question;
    auto message =
        QDBusMessage::createMethodCall(login1, path, propertiesInterface, QStringLiteral("Get"));
    message << interface << property;
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(message), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this,
            [this, question, answered, property](QDBusPendingCallWatcher *call) {
                call->deleteLater();
                if (question != m_question)
                    return;
                const QDBusPendingReply<QDBusVariant> reply = *call;
                if (reply.isError()) {
                    qCWarning(lcAgent).noquote()
                        << "logind does not say" << property
                        << "so the latest screen lock reported counts:" << reply.error().message();
                    settle(false, std::nullopt);
                    return;
                }
                (this->*answered)(reply.value().variant());
            });
}

void ActiveUserMonitor::onActiveSession(const QVariant &value)
{
    const auto session = structure<QString>(value, "(so)");
    if (!session) {
        qCWarning(lcAgent, "logind's ActiveSession is not a (so)");
        settle(false, std::nullopt);
        return;
    }
    // logind names no session as ("", "/").
    if (session->first.isEmpty()) {
        settle(true, std::nullopt);
        return;
    }
    askProperty(session->second.path(), sessionInterface, QStringLiteral("User"),
                &ActiveUserMonitor::onSessionUser);
}

void ActiveUserMonitor::onSessionUser(const QVariant &value)
{
    const auto user = structure<uint>(value, "(uo)");
    if (!user) {
        qCWarning(lcAgent, "logind's session User is not a (uo)");
        settle(false, std::nullopt);
        return;
    }
    settle(true, static_cast<uid_t>(user->first));
}

void ActiveUserMonitor::settle(bool known, std::optional<uid_t> uid)
{
    if (known == m_known && uid == m_activeUser)
        return;
    m_known = known;
    m_activeUser = uid;
    Q_EMIT activeUserChanged();
}

} // namespace vigil::agent

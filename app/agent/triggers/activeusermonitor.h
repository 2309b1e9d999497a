#pragma once

#include <QDBusConnection>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <optional>
#include <sys/types.h>

class QDBusPendingCallWatcher;

namespace vigil::agent {

// Whose session is in front: logind's seat0 ActiveSession and that session's User. It follows
// the seat's PropertiesChanged signal, which logind sends whenever the active session changes
// (a user switch, a login, the greeter), and asks again only then and when logind appears on
// the bus; it never polls. Signals are taken from the name's owner alone, as LogindMonitor
// does. Without logind, or while it does not answer, knowsActiveUser() is false.
class ActiveUserMonitor : public QObject
{
    Q_OBJECT

public:
    // `bus` is the system bus in vigild, a private bus in tests.
    explicit ActiveUserMonitor(const QDBusConnection &bus, QObject *parent = nullptr);

    bool knowsActiveUser() const { return m_known; }
    // The uid of seat0's active session; nullopt while none is active or nothing is known.
    std::optional<uid_t> activeUser() const { return m_activeUser; }

Q_SIGNALS:
    // knowsActiveUser() or activeUser() changed.
    void activeUserChanged();

private Q_SLOTS:
    void onSeatPropertiesChanged(const QString &interface, const QVariantMap &changedProperties,
                                 const QStringList &invalidated);
    void onOwnerChanged(const QString &name, const QString &oldOwner, const QString &newOwner);

private:
    void ask();
    void askProperty(const QString &path, const QString &interface, const QString &property,
                     void (ActiveUserMonitor::*answered)(const QVariant &));
    void onActiveSession(const QVariant &value);
    void onSessionUser(const QVariant &value);
    void settle(bool known, std::optional<uid_t> uid);

    QDBusConnection m_bus;
    bool m_known = false;
    std::optional<uid_t> m_activeUser;
    // Answers to an earlier question are dropped once a newer one has been asked.
    quint64 m_question = 0;
};

} // namespace vigil::agent

#pragma once

// logind's seat0 and its sessions on a private bus, for suites that cannot have systemd as
// PID 1: Properties.Get answered with logind's own types, (so) for the seat's ActiveSession
// and (uo) for a session's User, and the PropertiesChanged logind sends when the active
// session changes. Call registerTypes() once before use.

#include <QDBusArgument>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusMetaType>
#include <QDBusObjectPath>
#include <QDBusVariant>
#include <QDBusVirtualObject>
#include <QMap>
#include <QVariantMap>

namespace vigil::test {

struct LogindSession
{
    QString id;
    QDBusObjectPath path;
};

struct LogindUser
{
    uint uid = 0;
    QDBusObjectPath path;
};

inline QDBusArgument &operator<<(QDBusArgument &argument, const LogindSession &session)
{
    argument.beginStructure();
    argument << session.id << session.path;
    argument.endStructure();
    return argument;
}

inline const QDBusArgument &operator>>(const QDBusArgument &argument, LogindSession &session)
{
    argument.beginStructure();
    argument >> session.id >> session.path;
    argument.endStructure();
    return argument;
}

inline QDBusArgument &operator<<(QDBusArgument &argument, const LogindUser &user)
{
    argument.beginStructure();
    argument << user.uid << user.path;
    argument.endStructure();
    return argument;
}

inline const QDBusArgument &operator>>(const QDBusArgument &argument, LogindUser &user)
{
    argument.beginStructure();
    argument >> user.uid >> user.path;
    argument.endStructure();
    return argument;
}

inline const QString logindPath = QStringLiteral("/org/freedesktop/login1");
inline const QString seatPath = QStringLiteral("/org/freedesktop/login1/seat/seat0");

inline QString sessionPath(const QString &id)
{
    return QStringLiteral("/org/freedesktop/login1/session/_3") + id;
}

// Registered below logindPath with QDBusConnection::SubPath on the connection that owns
// org.freedesktop.login1. Asking for a session without a user gets logind's error.
class FakeLogind : public QDBusVirtualObject
{
public:
    static void registerTypes()
    {
        qDBusRegisterMetaType<LogindSession>();
        qDBusRegisterMetaType<LogindUser>();
    }

    QString active;            // seat0's active session id; empty: none, ("", "/")
    QMap<QString, uint> users; // session id → uid
    int questions = 0;         // Properties.Get calls answered

    QString introspect(const QString &) const override { return {}; }

    bool handleMessage(const QDBusMessage &message, const QDBusConnection &connection) override
    {
        if (message.interface() != QStringLiteral("org.freedesktop.DBus.Properties") ||
            message.member() != QStringLiteral("Get") || message.arguments().size() != 2)
            return false;
        ++questions;
        const QString property = message.arguments().at(1).toString();
        QVariant value;
        if (message.path() == seatPath && property == QStringLiteral("ActiveSession")) {
            value = QVariant::fromValue(LogindSession{
                active,
                QDBusObjectPath(active.isEmpty() ? QStringLiteral("/") : sessionPath(active))});
        } else if (property == QStringLiteral("User")) {
            for (auto it = users.cbegin(); it != users.cend(); ++it)
                if (message.path() == sessionPath(it.key()))
                    value = QVariant::fromValue(LogindUser{
                        it.value(),
                        QDBusObjectPath(QStringLiteral("/org/freedesktop/login1/user/_") +
                                        QString::number(it.value()))});
        }
        if (!value.isValid())
            return connection.send(
                message.createErrorReply(QStringLiteral("org.freedesktop.DBus.Error.UnknownObject"),
                                         QStringLiteral("No such object.")));
        return connection.send(message.createReply(QVariant::fromValue(QDBusVariant(value))));
    }
};

// What logind emits when seat0's active session becomes id.
inline QDBusMessage activeSessionChanged(const QString &id)
{
    auto message =
        QDBusMessage::createSignal(seatPath, QStringLiteral("org.freedesktop.DBus.Properties"),
                                   QStringLiteral("PropertiesChanged"));
    message << QStringLiteral("org.freedesktop.login1.Seat")
            << QVariantMap{{QStringLiteral("ActiveSession"),
                            QVariant::fromValue(LogindSession{
                                id, QDBusObjectPath(id.isEmpty() ? QStringLiteral("/")
                                                                 : sessionPath(id))})}}
            << QStringList();
    return message;
}

} // namespace vigil::test

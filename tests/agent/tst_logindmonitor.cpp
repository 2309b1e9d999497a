#include "app/agent/triggers/logindmonitor.h"
#include "privatebus.h"

#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QtTest>

using vigil::agent::LogindMonitor;

namespace {

const QString login1 = QStringLiteral("org.freedesktop.login1");
const QString managerPath = QStringLiteral("/org/freedesktop/login1");
const QString sessionPath = QStringLiteral("/org/freedesktop/login1/session/_32");
const QString managerInterface = QStringLiteral("org.freedesktop.login1.Manager");
const QString sessionInterface = QStringLiteral("org.freedesktop.login1.Session");

QDBusMessage prepareForSleep(bool start)
{
    auto message = QDBusMessage::createSignal(managerPath, managerInterface,
                                              QStringLiteral("PrepareForSleep"));
    message << start;
    return message;
}

QDBusMessage unlock(const QString &path = sessionPath)
{
    return QDBusMessage::createSignal(path, sessionInterface, QStringLiteral("Unlock"));
}

QDBusMessage propertiesChanged(const QString &interface, const QVariantMap &changed,
                               const QString &path = sessionPath)
{
    auto message =
        QDBusMessage::createSignal(path, QStringLiteral("org.freedesktop.DBus.Properties"),
                                   QStringLiteral("PropertiesChanged"));
    message << interface << changed << QStringList();
    return message;
}

} // namespace

// logind needs systemd as PID 1 (it is started and supervised by it), which CI containers and
// this machine lack, so the suite runs a private dbus-daemon and plays logind itself: one
// connection owns org.freedesktop.login1 and emits the exact signals logind emits (same paths,
// interfaces, members and argument types); another, a stranger, emits the same and must be
// ignored.
class TestLogindMonitor : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_directory; // where no bus listens
    vigil::test::PrivateBus m_bus;
    int m_connections = 0;
    QStringList m_opened;

    // A connection of its own to the private bus, closed when the test function ends.
    QDBusConnection openConnection()
    {
        const auto name = QStringLiteral("test-%1").arg(++m_connections);
        QDBusConnection bus = QDBusConnection::connectToBus(m_bus.address(), name);
        m_opened.append(name);
        return bus;
    }

    // Returns once the bus daemon has routed everything `bus` sent before: it answers the call
    // only after them, and delivers to each receiver in the order it routed.
    static void flush(QDBusConnection &bus) { bus.interface()->isServiceRegistered(login1); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_directory.isValid());
        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));
    }

    void cleanup()
    {
        for (const auto &name : std::as_const(m_opened))
            QDBusConnection::disconnectFromBus(name);
        m_opened.clear();
    }

    void inactiveWithoutABus()
    {
        const auto name = QStringLiteral("nowhere");
        m_opened.append(name);
        const auto bus = QDBusConnection::connectToBus(
            QStringLiteral("unix:path=%1").arg(m_directory.filePath(QStringLiteral("none"))), name);
        QTest::ignoreMessage(
            QtWarningMsg, QRegularExpression(QStringLiteral("^suspend and unlock will not "
                                                            "trigger reports: no system bus: ")));
        LogindMonitor monitor(bus);
        QVERIFY(!monitor.isActive());
        QVERIFY2(monitor.inactiveReason().startsWith(QStringLiteral("no system bus")),
                 qPrintable(monitor.inactiveReason()));
    }

    void inactiveUntilLogindAppears()
    {
        LogindMonitor monitor(openConnection());
        QVERIFY(!monitor.isActive());
        QVERIFY2(monitor.inactiveReason().contains(login1), qPrintable(monitor.inactiveReason()));
        QSignalSpy active(&monitor, &LogindMonitor::activeChanged);
        QSignalSpy resumed(&monitor, &LogindMonitor::resumed);

        auto logind = openConnection();
        QVERIFY(logind.registerService(login1));
        QVERIFY(active.wait(5000));
        QCOMPARE(active.takeFirst().at(0).toBool(), true);
        QVERIFY(monitor.isActive());
        QVERIFY(monitor.inactiveReason().isEmpty());
        // Subscribed before logind existed, and it still arrives.
        QVERIFY(logind.send(prepareForSleep(false)));
        QVERIFY(resumed.wait(5000));

        QVERIFY(logind.unregisterService(login1));
        QVERIFY(active.wait(5000));
        QCOMPARE(active.takeFirst().at(0).toBool(), false);
        QVERIFY(!monitor.isActive());
    }

    void sleepAndResume()
    {
        auto logind = openConnection();
        QVERIFY(logind.registerService(login1));
        LogindMonitor monitor(openConnection());
        QVERIFY2(monitor.isActive(), qPrintable(monitor.inactiveReason()));
        QSignalSpy sleeping(&monitor, &LogindMonitor::aboutToSleep);
        QSignalSpy resumed(&monitor, &LogindMonitor::resumed);

        QVERIFY(logind.send(prepareForSleep(true)));
        QVERIFY(sleeping.wait(5000));
        QVERIFY(resumed.isEmpty());
        QVERIFY(logind.send(prepareForSleep(false)));
        QVERIFY(resumed.wait(5000));
        QCOMPARE(sleeping.size(), 1);
    }

    void sessionUnlockAndLockedHint()
    {
        auto logind = openConnection();
        QVERIFY(logind.registerService(login1));
        LogindMonitor monitor(openConnection());
        QSignalSpy unlocked(&monitor, &LogindMonitor::sessionUnlocked);

        QVERIFY(logind.send(unlock()));
        QVERIFY(unlocked.wait(5000));

        // Locking, other properties, and another interface's LockedHint are no unlock; the
        // last signal is one, and it must be the only one counted.
        QVERIFY(logind.send(
            propertiesChanged(sessionInterface, {{QStringLiteral("LockedHint"), true}})));
        QVERIFY(
            logind.send(propertiesChanged(sessionInterface, {{QStringLiteral("Active"), false}})));
        QVERIFY(logind.send(propertiesChanged(QStringLiteral("org.freedesktop.login1.User"),
                                              {{QStringLiteral("LockedHint"), false}})));
        QVERIFY(logind.send(
            propertiesChanged(sessionInterface, {{QStringLiteral("LockedHint"), false}})));
        QVERIFY(unlocked.wait(5000));
        QCOMPARE(unlocked.size(), 2);
    }

    void onlyLogindIsBelieved()
    {
        auto logind = openConnection();
        QVERIFY(logind.registerService(login1));
        LogindMonitor monitor(openConnection());
        QSignalSpy sleeping(&monitor, &LogindMonitor::aboutToSleep);
        QSignalSpy resumed(&monitor, &LogindMonitor::resumed);
        QSignalSpy unlocked(&monitor, &LogindMonitor::sessionUnlocked);

        auto stranger = openConnection();
        QVERIFY(stranger.send(prepareForSleep(true)));
        QVERIFY(stranger.send(prepareForSleep(false)));
        QVERIFY(stranger.send(unlock()));
        QVERIFY(stranger.send(
            propertiesChanged(sessionInterface, {{QStringLiteral("LockedHint"), false}})));
        flush(stranger);
        // logind's own signals on paths that are not sessions.
        QVERIFY(logind.send(unlock(QStringLiteral("/org/freedesktop/login1/user/_0"))));
        QVERIFY(logind.send(unlock(QStringLiteral("/org/example/session/_1"))));
        QVERIFY(
            logind.send(propertiesChanged(sessionInterface, {{QStringLiteral("LockedHint"), false}},
                                          QStringLiteral("/org/freedesktop/login1"))));
        // The marker: routed after everything above, so when it arrives the rest has.
        QVERIFY(logind.send(unlock()));
        QVERIFY(unlocked.wait(5000));
        QCOMPARE(unlocked.size(), 1);
        QVERIFY(sleeping.isEmpty());
        QVERIFY(resumed.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestLogindMonitor)
#include "tst_logindmonitor.moc"

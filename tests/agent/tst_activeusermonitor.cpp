// Whose session is in front, as logind says: seat0's ActiveSession and that session's User. As
// in tst_logindmonitor, a private dbus-daemon stands in for the system bus and one connection
// plays logind (owning org.freedesktop.login1, answering Properties.Get with logind's (so) and
// (uo) and emitting its PropertiesChanged), another a stranger who must not be believed.
#include "app/agent/triggers/activeusermonitor.h"
#include "fakelogind.h"
#include "privatebus.h"

#include <QDBusConnectionInterface>
#include <QSignalSpy>
#include <QtTest>

using vigil::agent::ActiveUserMonitor;
using vigil::test::activeSessionChanged;
using vigil::test::FakeLogind;

namespace {

const QString login1 = QStringLiteral("org.freedesktop.login1");

} // namespace

class TestActiveUserMonitor : public QObject
{
    Q_OBJECT

private:
    vigil::test::PrivateBus m_bus;
    int m_connections = 0;
    QStringList m_opened;

    QDBusConnection openConnection()
    {
        const auto name = QStringLiteral("test-%1").arg(++m_connections);
        QDBusConnection bus = QDBusConnection::connectToBus(m_bus.address(), name);
        m_opened.append(name);
        return bus;
    }

    // logind on the bus with fake's objects.
    QDBusConnection startLogind(FakeLogind &fake)
    {
        auto logind = openConnection();
        if (!logind.registerVirtualObject(vigil::test::logindPath, &fake,
                                          QDBusConnection::SubPath) ||
            !logind.registerService(login1))
            qFatal("cannot play logind on the private bus");
        return logind;
    }

    static bool waitFor(ActiveUserMonitor &monitor, std::optional<uid_t> uid)
    {
        return QTest::qWaitFor(
            [&] { return monitor.knowsActiveUser() && monitor.activeUser() == uid; }, 5000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        FakeLogind::registerTypes();
        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));
    }

    void cleanup()
    {
        for (const auto &name : std::as_const(m_opened))
            QDBusConnection::disconnectFromBus(name);
        m_opened.clear();
    }

    void unknownWithoutLogindThenLearntWhenItAppears()
    {
        ActiveUserMonitor monitor(openConnection());
        QVERIFY(!monitor.knowsActiveUser());
        QVERIFY(!monitor.activeUser());

        FakeLogind fake;
        fake.active = QStringLiteral("2");
        fake.users = {{QStringLiteral("2"), 1000}};
        auto logind = startLogind(fake);
        QVERIFY(waitFor(monitor, 1000));

        // logind leaves: nothing is known any more.
        QSignalSpy changed(&monitor, &ActiveUserMonitor::activeUserChanged);
        QVERIFY(logind.unregisterService(login1));
        QVERIFY(changed.wait(5000));
        QVERIFY(!monitor.knowsActiveUser());
        QVERIFY(!monitor.activeUser());
    }

    // A user switch is announced by the seat's PropertiesChanged, and followed without polling.
    void followsTheSeatsActiveSession()
    {
        FakeLogind fake;
        fake.active = QStringLiteral("2");
        fake.users = {{QStringLiteral("2"), 1000}, {QStringLiteral("5"), 1001}};
        auto logind = startLogind(fake);
        ActiveUserMonitor monitor(openConnection());
        QVERIFY(waitFor(monitor, 1000));
        const int asked = fake.questions;

        fake.active = QStringLiteral("5");
        QVERIFY(logind.send(activeSessionChanged(QStringLiteral("5"))));
        QVERIFY(waitFor(monitor, 1001));

        // The greeter, or nobody at the seat: ("", "/").
        fake.active.clear();
        QVERIFY(logind.send(activeSessionChanged(QString())));
        QVERIFY(waitFor(monitor, std::nullopt));

        // Nothing changes, nothing is asked.
        QTest::qWait(200);
        QCOMPARE(fake.questions, asked + 3); // seat and user, then the seat alone
    }

    void aStrangerIsNotBelieved()
    {
        FakeLogind fake;
        fake.active = QStringLiteral("2");
        fake.users = {{QStringLiteral("2"), 1000}, {QStringLiteral("5"), 1001}};
        auto logind = startLogind(fake);
        ActiveUserMonitor monitor(openConnection());
        QVERIFY(waitFor(monitor, 1000));
        const int asked = fake.questions;

        fake.active = QStringLiteral("5"); // what logind would answer if asked
        auto stranger = openConnection();
        QVERIFY(stranger.send(activeSessionChanged(QStringLiteral("5"))));
        stranger.interface()->isServiceRegistered(login1); // routed by now
        QTest::qWait(200);
        QCOMPARE(fake.questions, asked);
        QCOMPARE(monitor.activeUser(), std::optional<uid_t>(1000));
    }

    // An answer logind should not give is no answer: nothing is known.
    void aBrokenAnswerIsUnknown()
    {
        FakeLogind fake;
        fake.active = QStringLiteral("2"); // a session without a user
        auto logind = startLogind(fake);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("logind does not say User")));
        ActiveUserMonitor monitor(openConnection());
        QVERIFY(QTest::qWaitFor([&] { return fake.questions == 2; }, 5000));
        QTest::qWait(100);
        QVERIFY(!monitor.knowsActiveUser());
    }
};

QTEST_GUILESS_MAIN(TestActiveUserMonitor)
#include "tst_activeusermonitor.moc"

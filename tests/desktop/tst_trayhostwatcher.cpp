// TrayHostWatcher in a private desktop whose tray host starts after the watcher, as at login:
// trayer (XEmbed only) and xfce4-panel (StatusNotifierItem and XEmbed).
#include "desktopsession.h"
#include "ui/desktop/trayhostwatcher.h"

#include <QDBusConnection>
#include <QSignalSpy>
#include <QtTest>
#include <csignal>

using vigil::test::DesktopSession;
using vigil::ui::TrayHostWatcher;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(DesktopSession::TrayHost)

namespace {

// A session without its tray host, and a bus connection of the test's own to it.
class LateHostSession
{
public:
    explicit LateHostSession(DesktopSession::TrayHost host)
        : m_session(host, DesktopSession::TrayHostStart::Later)
    {
    }
    ~LateHostSession() { QDBusConnection::disconnectFromBus(m_busName); }

    bool start()
    {
        if (!m_session.start())
            return false;
        return QDBusConnection::connectToBus(m_session.busAddress(), m_busName).isConnected();
    }
    DesktopSession &session() { return m_session; }
    QDBusConnection bus() const { return QDBusConnection(m_busName); }

private:
    DesktopSession m_session;
    QString m_busName = QStringLiteral("tst-trayhostwatcher");
};

// A StatusNotifierWatcher without a panel: what a desktop offers between its watcher starting
// and its host registering (KDE's kded, say, before plasmashell).
class FakeStatusNotifierWatcher : public QObject
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "org.kde.StatusNotifierWatcher")
    Q_PROPERTY(bool IsStatusNotifierHostRegistered READ isHostRegistered)

public:
    bool isHostRegistered() const { return m_hostRegistered; }
    void setHostRegistered(bool registered)
    {
        m_hostRegistered = registered;
        if (registered)
            Q_EMIT StatusNotifierHostRegistered();
        else
            Q_EMIT StatusNotifierHostUnregistered();
    }

Q_SIGNALS:
    void StatusNotifierHostRegistered();
    void StatusNotifierHostUnregistered();

private:
    bool m_hostRegistered = false;
};

} // namespace

class TestTrayHostWatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hostComesAndGoes_data()
    {
        QTest::addColumn<DesktopSession::TrayHost>("host");
        QTest::newRow("trayer") << DesktopSession::TrayHost::Trayer;
        QTest::newRow("xfce4-panel") << DesktopSession::TrayHost::XfcePanel;
    }

    // Nothing before the host, then availableChanged(true) once it serves, (false) when it is
    // killed, and (true) again when it comes back.
    void hostComesAndGoes()
    {
        QFETCH(DesktopSession::TrayHost, host);
        if (const QString missing = DesktopSession::missingPrograms(host); !missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
        const bool panel = host == DesktopSession::TrayHost::XfcePanel;
        LateHostSession late(host);
        QVERIFY2(late.start(), qPrintable(late.session().error()));
        {
            TrayHostWatcher watcher(late.bus(), late.session().display(), {30s});
            QSignalSpy available(&watcher, &TrayHostWatcher::availableChanged);
            QSignalSpy gaveUp(&watcher, &TrayHostWatcher::gaveUp);
            watcher.start();
            QTest::qWait(200);
            QVERIFY(!watcher.isAvailable());
            QCOMPARE(available.size(), 0);

            QVERIFY2(late.session().startTrayHost(), qPrintable(late.session().error()));
            QTRY_COMPARE(available.size(), 1);
            QCOMPARE(available.at(0).at(0).toBool(), true);
            QTRY_VERIFY(watcher.hasXEmbedTray());
            if (panel)
                QTRY_VERIFY(watcher.hasStatusNotifierHost());
            QTest::qWait(200);
            QCOMPARE(watcher.hasStatusNotifierHost(), panel);
            QCOMPARE(available.size(), 1);

            // The host is the session's last program.
            ::kill(static_cast<pid_t>(late.session().processIds().constLast()), SIGKILL);
            QTRY_COMPARE(available.size(), 2);
            QCOMPARE(available.at(1).at(0).toBool(), false);
            QTRY_VERIFY(!watcher.hasXEmbedTray() && !watcher.hasStatusNotifierHost());

            if (!panel) { // xfconfd would be started twice
                QVERIFY2(late.session().startTrayHost(), qPrintable(late.session().error()));
                QTRY_COMPARE(available.size(), 3);
                QCOMPARE(available.at(2).at(0).toBool(), true);
            }
            QCOMPARE(gaveUp.size(), 0);
        }
    }

    // A watcher alone is no host; its host registering is, and leaving is not.
    void statusNotifierHostRegisters()
    {
        const auto host = DesktopSession::TrayHost::Trayer;
        if (const QString missing = DesktopSession::missingPrograms(host); !missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
        LateHostSession late(host);
        QVERIFY2(late.start(), qPrintable(late.session().error()));
        const QString name = QStringLiteral("tst-fake-watcher");
        QDBusConnection panel = QDBusConnection::connectToBus(late.session().busAddress(), name);
        FakeStatusNotifierWatcher fake;
        QVERIFY(panel.registerObject(QStringLiteral("/StatusNotifierWatcher"), &fake,
                                     QDBusConnection::ExportAllProperties |
                                         QDBusConnection::ExportAllSignals));
        {
            TrayHostWatcher watcher(late.bus(), late.session().display(), {30s});
            QSignalSpy available(&watcher, &TrayHostWatcher::availableChanged);
            watcher.start();
            QVERIFY(panel.registerService(QStringLiteral("org.kde.StatusNotifierWatcher")));
            QTest::qWait(300);
            QCOMPARE(available.size(), 0);

            fake.setHostRegistered(true);
            QTRY_COMPARE(available.size(), 1);
            QVERIFY(watcher.hasStatusNotifierHost());
            QVERIFY(!watcher.hasXEmbedTray());

            fake.setHostRegistered(false);
            QTRY_COMPARE(available.size(), 2);
            fake.setHostRegistered(true);
            QTRY_COMPARE(available.size(), 3);
            QVERIFY(panel.unregisterService(QStringLiteral("org.kde.StatusNotifierWatcher")));
            QTRY_COMPARE(available.size(), 4);
            QCOMPARE(available.at(3).at(0).toBool(), false);
        }
        QDBusConnection::disconnectFromBus(name);
    }

    // No host within the time: gaveUp once, and the host that comes later is still seen.
    void givesUpAndKeepsWatching()
    {
        const auto host = DesktopSession::TrayHost::Trayer;
        if (const QString missing = DesktopSession::missingPrograms(host); !missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
        LateHostSession late(host);
        QVERIFY2(late.start(), qPrintable(late.session().error()));
        TrayHostWatcher watcher(late.bus(), late.session().display(), {300ms});
        QSignalSpy available(&watcher, &TrayHostWatcher::availableChanged);
        QSignalSpy gaveUp(&watcher, &TrayHostWatcher::gaveUp);
        watcher.start();
        QTRY_COMPARE(gaveUp.size(), 1);
        QVERIFY(watcher.hasGivenUp());
        QTest::qWait(600);
        QCOMPARE(gaveUp.size(), 1);
        QVERIFY2(late.session().startTrayHost(), qPrintable(late.session().error()));
        QTRY_COMPARE(available.size(), 1);
        QVERIFY(watcher.isAvailable());
        QCOMPARE(gaveUp.size(), 1);
    }

    // Neither a bus nor an X server: nothing available, and the fallback still comes.
    void nothingToWatch()
    {
        TrayHostWatcher watcher(QDBusConnection(QStringLiteral("not-connected")),
                                QStringLiteral(":4242"), {100ms});
        QSignalSpy gaveUp(&watcher, &TrayHostWatcher::gaveUp);
        watcher.start();
        QVERIFY(!watcher.isAvailable());
        QTRY_COMPARE(gaveUp.size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestTrayHostWatcher)
#include "tst_trayhostwatcher.moc"

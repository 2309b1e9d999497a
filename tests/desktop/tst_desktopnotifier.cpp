// DesktopNotifier against a real notification daemon (dunst on the private session's bus), and
// against a bus where no daemon runs.
#include "desktopsession.h"
#include "ui/desktop/desktopnotifier.h"

#include <QDBusConnection>
#include <QDBusError>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using vigil::test::DesktopSession;
using vigil::ui::DesktopNotification;
using vigil::ui::DesktopNotifier;
using vigil::ui::NotificationUrgency;

namespace {

DesktopNotification notification(const QString &summary, const QString &body)
{
    return {summary, body, NotificationUrgency::Critical, DesktopNotification::Kind::NonCompliant,
            std::nullopt};
}

// A bus with no service files, so nothing can be activated for org.freedesktop.Notifications.
// Not a raw string literal: moc cannot read one with quotes in it.
constexpr const char *bareBusConfig = "<busconfig>\n"
                                      "  <type>session</type>\n"
                                      "  <listen>unix:tmpdir=/tmp</listen>\n"
                                      "  <policy context=\"default\">\n"
                                      "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                                      "    <allow eavesdrop=\"true\"/>\n"
                                      "    <allow own=\"*\"/>\n"
                                      "  </policy>\n"
                                      "</busconfig>\n";

} // namespace

class TestDesktopNotifier : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (const QString missing =
                DesktopSession::missingPrograms(DesktopSession::TrayHost::Trayer);
            !missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
    }

    // One Notify per notification, with the app name, summary and body given; the second
    // replaces the first.
    void sendsToTheDaemon()
    {
        DesktopSession session;
        QVERIFY2(session.start(), qPrintable(session.error()));
        const QString name = QStringLiteral("tst-notifier");
        QDBusConnection bus = QDBusConnection::connectToBus(session.busAddress(), name);
        QVERIFY(bus.isConnected());
        {
            DesktopNotifier notifier(bus);
            QSignalSpy shown(&notifier, &DesktopNotifier::shown);
            QSignalSpy failed(&notifier, &DesktopNotifier::failed);
            notifier.send(notification(QStringLiteral("No access"), QStringLiteral("Turn on fw")));
            QTRY_COMPARE(shown.size(), 1);
            QTRY_COMPARE(session.notifications().size(), 1);
            const auto first = session.notifications().constFirst();
            QCOMPARE(first.appName, QStringLiteral("Vigil"));
            QCOMPARE(first.summary, QStringLiteral("No access"));
            QCOMPARE(first.body, QStringLiteral("Turn on fw"));
            const uint id = notifier.lastId();
            QVERIFY(id != 0);

            notifier.send({QStringLiteral("Access restored"), QStringLiteral("Compliant again."),
                           NotificationUrgency::Low, DesktopNotification::Kind::Compliant,
                           std::nullopt});
            QTRY_COMPARE(shown.size(), 2);
            QTRY_COMPARE(session.notifications().size(), 2);
            QCOMPARE(session.notifications().at(1).summary, QStringLiteral("Access restored"));
            QCOMPARE(notifier.lastId(), id); // dunst replaced it: replaces_id was the first's id

            // dunst reads markup in bodies: a remediation's own '<' and '&' must show as text.
            notifier.send(
                notification(QStringLiteral("No access"), QStringLiteral("Run <b>a && b</b>")));
            QTRY_COMPARE(shown.size(), 3);
            QTRY_COMPARE(session.notifications().size(), 3);
            QCOMPARE(session.notifications().at(2).body,
                     QStringLiteral("Run &lt;b&gt;a &amp;&amp; b&lt;/b&gt;"));
            QCOMPARE(failed.size(), 0);
            QVERIFY(session.screenshot(
                QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop/notification.png")));
        }
        QDBusConnection::disconnectFromBus(name);
    }

    // Sent while an earlier call waits: only the newest is sent after it, so a burst of
    // transitions ends as two calls, the latest on screen.
    void burstKeepsTheNewest()
    {
        DesktopSession session;
        QVERIFY2(session.start(), qPrintable(session.error()));
        const QString name = QStringLiteral("tst-notifier-burst");
        QDBusConnection bus = QDBusConnection::connectToBus(session.busAddress(), name);
        {
            DesktopNotifier notifier(bus);
            QSignalSpy shown(&notifier, &DesktopNotifier::shown);
            for (int i = 1; i <= 3; ++i)
                notifier.send(notification(QStringLiteral("n%1").arg(i), QStringLiteral("b")));
            QTRY_COMPARE(shown.size(), 2);
            QTest::qWait(200);
            const auto sent = session.notifications();
            QCOMPARE(sent.size(), 2);
            QCOMPARE(sent.at(0).summary, QStringLiteral("n1"));
            QCOMPARE(sent.at(1).summary, QStringLiteral("n3"));
        }
        QDBusConnection::disconnectFromBus(name);
    }

    // No daemon on the bus: send returns at once, fails soon, and warns once however often.
    void noDaemon()
    {
        QTemporaryDir directory;
        QFile config(directory.filePath(QStringLiteral("bus.conf")));
        QVERIFY(config.open(QIODevice::WriteOnly) && config.write(bareBusConfig) > 0);
        config.close();
        QProcess daemon;
        daemon.start(QStringLiteral("dbus-daemon"),
                     {QStringLiteral("--config-file=") + config.fileName(),
                      QStringLiteral("--nofork"), QStringLiteral("--print-address")});
        QVERIFY(daemon.waitForStarted());
        QTRY_VERIFY(daemon.canReadLine());
        const QString address = QString::fromUtf8(daemon.readLine().trimmed());
        const QString name = QStringLiteral("tst-notifier-bare");
        QDBusConnection bus = QDBusConnection::connectToBus(address, name);
        QVERIFY2(bus.isConnected(), qPrintable(bus.lastError().message()));
        {
            DesktopNotifier notifier(bus);
            QSignalSpy failed(&notifier, &DesktopNotifier::failed);
            QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                                   "cannot be shown: .*ServiceUnknown")));
            QElapsedTimer timer;
            timer.start();
            notifier.send(notification(QStringLiteral("a"), QStringLiteral("b")));
            notifier.send(notification(QStringLiteral("c"), QStringLiteral("d")));
            QVERIFY(timer.elapsed() < 100);
            QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 2, 5000);
            notifier.send(notification(QStringLiteral("e"), QStringLiteral("f")));
            QTRY_COMPARE(failed.size(), 3);
            QCOMPARE(notifier.lastId(), 0u);
        }
        QDBusConnection::disconnectFromBus(name);
        daemon.terminate();
        QVERIFY(daemon.waitForFinished());
    }

    // No bus at all: the same, at once.
    void noBus()
    {
        DesktopNotifier notifier(QDBusConnection(QStringLiteral("not-connected")));
        QSignalSpy failed(&notifier, &DesktopNotifier::failed);
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("cannot be shown: no session bus")));
        notifier.send(notification(QStringLiteral("a"), QStringLiteral("b")));
        notifier.send(notification(QStringLiteral("a"), QStringLiteral("b")));
        QCOMPARE(failed.size(), 2);
    }
};

// The state icon is rendered into the notification, which needs a QGuiApplication; the suite
// itself needs no display.
int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    TestDesktopNotifier test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_desktopnotifier.moc"

#include "desktopsession.h"

#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusVariant>
#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QProcess>
#include <QtTest>

using vigil::test::DesktopSession;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");

// Pixels of tray_probe's icon (solid magenta) in the top 48 rows, where both tray hosts sit.
int probeIconPixels(const QImage &image)
{
    int count = 0;
    for (int y = 0; y < std::min(48, image.height()); ++y)
        for (int x = 0; x < image.width(); ++x)
            count += (image.pixel(x, y) & 0xffffff) == 0xff00ff;
    return count;
}

// Live processes (zombies have no environment) started within the session: the programs it
// ran and those its bus activated all carry its XDG_RUNTIME_DIR.
QStringList processesOf(const QString &runtimeDirectory)
{
    QStringList found;
    const QByteArray marker = "XDG_RUNTIME_DIR=" + runtimeDirectory.toLocal8Bit() + '\0';
    const auto pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &pid : pids) {
        QFile environ(QStringLiteral("/proc/%1/environ").arg(pid));
        if (pid.toLongLong() <= 0 || !environ.open(QIODevice::ReadOnly))
            continue;
        if (environ.readAll().contains(marker)) {
            QFile comm(QStringLiteral("/proc/%1/comm").arg(pid));
            comm.open(QIODevice::ReadOnly);
            found.append(pid + QLatin1Char(' ') + QString::fromUtf8(comm.readAll().trimmed()));
        }
    }
    return found;
}

} // namespace

class TestDesktopSession : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void trayIconAndNotification_data()
    {
        QTest::addColumn<DesktopSession::TrayHost>("host");
        QTest::newRow("trayer") << DesktopSession::TrayHost::Trayer;
        QTest::newRow("xfce4-panel") << DesktopSession::TrayHost::XfcePanel;
    }

    // The whole path a tray program takes: its icon shows in the tray host, its notification
    // reaches the notification daemon, and nothing of the session outlives it.
    void trayIconAndNotification()
    {
        QFETCH(DesktopSession::TrayHost, host);
        if (const QString missing = DesktopSession::missingPrograms(host); !missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
        const QString name = QString::fromLatin1(QTest::currentDataTag());
        QString runtimeDirectory;
        {
            DesktopSession session(host);
            QElapsedTimer started;
            started.start();
            QVERIFY2(session.start(), qPrintable(session.error()));
            qInfo("session on %s up in %lld ms", qPrintable(session.display()),
                  static_cast<long long>(started.elapsed()));
            QVERIFY(started.elapsed() < 20000);
            runtimeDirectory = session.environment().value(QStringLiteral("XDG_RUNTIME_DIR"));
            QVERIFY(QFileInfo(runtimeDirectory).permissions() ==
                    (QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                     QFileDevice::ReadUser | QFileDevice::WriteUser | QFileDevice::ExeUser));
            QCOMPARE(session.notifications().size(), 0);

            QProcess probe;
            probe.setProcessEnvironment(session.environment());
            probe.setProcessChannelMode(QProcess::ForwardedErrorChannel);
            const QString summary = QStringLiteral("Vigil probe on ") + name;
            probe.start(QStringLiteral(VIGIL_TRAY_PROBE),
                        {summary, QStringLiteral("A notification from a child process")});
            QVERIFY2(probe.waitForStarted(), qPrintable(probe.errorString()));
            QDeadlineTimer deadline(10000);
            while (!probe.canReadLine() && probe.state() == QProcess::Running &&
                   !deadline.hasExpired())
                probe.waitForReadyRead(100);
            QCOMPARE(probe.readLine().trimmed(), QByteArray("ready visible"));

            // The tray host docks and paints the icon a moment after Qt mapped it.
            const QString shot = screenshots + QLatin1Char('/') + name + QStringLiteral(".png");
            deadline.setRemainingTime(10000);
            int pixels = 0;
            do {
                QTest::qWait(200);
                QVERIFY2(session.screenshot(shot), qPrintable(session.error()));
                pixels = probeIconPixels(QImage(shot));
            } while (pixels < 16 * 16 && !deadline.hasExpired());
            qInfo("screenshot %s: %d pixels of the probe's icon", qPrintable(shot), pixels);
            QVERIFY2(pixels >= 16 * 16, "the tray icon is not on screen");

            if (host == DesktopSession::TrayHost::XfcePanel) {
                // Qt chose StatusNotifierItem, not XEmbed, since the panel runs a watcher.
                // A plain Properties.Get: a QDBusInterface would introspect the watcher and
                // keep a generated meta-object that outlives the connection (LeakSanitizer).
                QStringList items;
                {
                    auto bus = QDBusConnection::connectToBus(session.busAddress(),
                                                             QStringLiteral("tst-watcher"));
                    auto get = QDBusMessage::createMethodCall(
                        QStringLiteral("org.kde.StatusNotifierWatcher"),
                        QStringLiteral("/StatusNotifierWatcher"),
                        QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
                    get << QStringLiteral("org.kde.StatusNotifierWatcher")
                        << QStringLiteral("RegisteredStatusNotifierItems");
                    const QDBusMessage answer = bus.call(get, QDBus::Block, 5000);
                    if (answer.type() == QDBusMessage::ReplyMessage &&
                        !answer.arguments().isEmpty())
                        items = qvariant_cast<QDBusVariant>(answer.arguments().constFirst())
                                    .variant()
                                    .toStringList();
                }
                QDBusConnection::disconnectFromBus(QStringLiteral("tst-watcher"));
                QCOMPARE(items.size(), 1);
            }

            const auto notifications = session.notifications();
            QCOMPARE(notifications.size(), 1);
            QCOMPARE(notifications[0].appName, QStringLiteral("tray_probe"));
            QCOMPARE(notifications[0].summary, summary);
            QCOMPARE(notifications[0].body, QStringLiteral("A notification from a child process"));

            probe.terminate();
            QVERIFY(probe.waitForFinished(10000));
            session.stop();
            QVERIFY(session.processIds().isEmpty());
            // The session directory outlives stop() until the session is destroyed.
            QTRY_VERIFY_WITH_TIMEOUT(processesOf(runtimeDirectory).isEmpty(), 5000);
        }
        QVERIFY(!QFileInfo::exists(runtimeDirectory));
    }
};

QTEST_GUILESS_MAIN(TestDesktopSession)
#include "tst_desktopsession.moc"

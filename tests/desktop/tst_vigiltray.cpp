// The vigil-tray program as it is started at login: the built binary as a process on a private
// desktop (trayer, dunst, a session bus). With nothing on its socket it shows "service not
// running" on the panel; a second launch with --details hands over to the first, which opens
// its details window; --help needs no display, and without one the program says so.
#include "desktopsession.h"

#include <QDir>
#include <QImage>
#include <QProcess>
#include <QtTest>

using vigil::test::DesktopSession;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");

// Pixels of the "service not running" icon's colour (ui/icons/make_icons.py) in the panel's
// rows, where trayer docks it.
int notRunningPixels(const QImage &screen)
{
    int count = 0;
    for (int y = 0; y < std::min(48, screen.height()); ++y)
        for (int x = 0; x < screen.width(); ++x)
            count += (screen.pixel(x, y) & 0xffffff) == 0xd0d7de;
    return count;
}

int changedPixels(const QImage &before, const QImage &after)
{
    if (before.size() != after.size())
        return before.width() * before.height();
    int count = 0;
    for (int y = 0; y < before.height(); ++y)
        for (int x = 0; x < before.width(); ++x)
            count += before.pixel(x, y) != after.pixel(x, y);
    return count;
}

// This machine's environment with no display at all, as in an ssh session.
QProcessEnvironment withoutDisplay()
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const char *name : {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"})
        environment.remove(QString::fromLatin1(name));
    return environment;
}

} // namespace

class TestVigilTray : public QObject
{
    Q_OBJECT

private:
    DesktopSession m_session{DesktopSession::TrayHost::Trayer};
    QProcess m_tray;

    QString trayLog() const
    {
        QFile log(m_session.directory() + QStringLiteral("/vigil-tray.log"));
        log.open(QIODevice::ReadOnly);
        return QString::fromUtf8(log.readAll().right(3000));
    }

    QImage screen(const QString &name)
    {
        const QString path = screenshots + QLatin1Char('/') + name;
        if (!m_session.screenshot(path))
            qWarning().noquote() << "no screenshot:" << m_session.error();
        return QImage(path);
    }

private Q_SLOTS:
    void initTestCase()
    {
        const QString missing = DesktopSession::missingPrograms(DesktopSession::TrayHost::Trayer);
        if (!missing.isEmpty())
            QSKIP(qPrintable(QStringLiteral("not installed: ") + missing));
        QVERIFY2(m_session.start(), qPrintable(m_session.error()));
        QDir().mkpath(screenshots);
    }

    void cleanupTestCase()
    {
        m_tray.terminate();
        m_tray.waitForFinished(10000);
        m_session.stop();
    }

    void showsServiceNotRunningWhenNothingListens()
    {
        m_tray.setProcessEnvironment(m_session.environment());
        m_tray.setStandardErrorFile(m_session.directory() + QStringLiteral("/vigil-tray.log"));
        m_tray.start(QStringLiteral(VIGIL_TRAY),
                     {QStringLiteral("--socket"),
                      m_session.directory() + QStringLiteral("/nothing-listens.sock")});
        QVERIFY2(m_tray.waitForStarted(), qPrintable(m_tray.errorString()));
        // Generous: under AddressSanitizer the program takes seconds to start.
        QTRY_VERIFY2_WITH_TIMEOUT(notRunningPixels(m_session.grab(QRect(0, 0, 1280, 48))) > 10,
                                  qPrintable(trayLog()), 20000);
        screen(QStringLiteral("vigil-tray-not-running.png"));
        QCOMPARE(m_tray.state(), QProcess::Running);
    }

    void aSecondLaunchOpensTheDetailsOfTheFirst()
    {
        const QImage before = m_session.grab();
        QVERIFY2(!before.isNull(), qPrintable(m_session.error()));

        QProcess second;
        second.setProcessEnvironment(m_session.environment());
        second.setProcessChannelMode(QProcess::MergedChannels);
        second.start(QStringLiteral(VIGIL_TRAY), {QStringLiteral("--details")});
        QVERIFY2(second.waitForFinished(15000), qPrintable(second.errorString()));
        QCOMPARE(second.exitStatus(), QProcess::NormalExit);
        QVERIFY2(second.exitCode() == 0, second.readAll().constData());

        // The details window (760x620) is mapped by the first instance; no window manager
        // places it, so it may cover any part of the screen.
        QTRY_VERIFY2_WITH_TIMEOUT(changedPixels(before, m_session.grab()) > 300 * 300,
                                  qPrintable(trayLog()), 10000);
        screen(QStringLiteral("vigil-tray-details.png"));
        QCOMPARE(m_tray.state(), QProcess::Running);
    }

    void helpNeedsNoDisplay()
    {
        QProcess help;
        help.setProcessEnvironment(withoutDisplay());
        help.start(QStringLiteral(VIGIL_TRAY), {QStringLiteral("--help")});
        QVERIFY(help.waitForFinished(15000));
        QCOMPARE(help.exitStatus(), QProcess::NormalExit);
        QCOMPARE(help.exitCode(), 0);
        const QString text = QString::fromUtf8(help.readAllStandardOutput());
        QVERIFY2(text.contains(QStringLiteral("--socket")) &&
                     text.contains(QStringLiteral("--details")),
                 qPrintable(text));
    }

    void withoutADisplayItSaysSo()
    {
        QProcess tray;
        tray.setProcessEnvironment(withoutDisplay());
        tray.start(QStringLiteral(VIGIL_TRAY), QStringList());
        QVERIFY(tray.waitForFinished(15000));
        QCOMPARE(tray.exitStatus(), QProcess::NormalExit);
        QCOMPARE(tray.exitCode(), 1);
        const QString message = QString::fromUtf8(tray.readAllStandardError());
        QVERIFY2(message.contains(QStringLiteral("no graphical session")), qPrintable(message));
        QVERIFY(tray.readAllStandardOutput().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestVigilTray)
#include "tst_vigiltray.moc"

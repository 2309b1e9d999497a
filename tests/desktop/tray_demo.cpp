// The tray part of scripts/demo.sh: the desktop the UI tests use (Xvfb, trayer, dunst on a
// private bus), the real vigil-tray on it against the demo's vigild, and screenshots of the
// icon, its menu and the details window while the device is compliant and again once it is not
// (the demo tightens the policy meanwhile). A person's clicks are XTest clicks; the details
// window is opened as a person would from a terminal, by a second `vigil-tray --details`.
//   tray_demo VIGIL_TRAY SOCKET OUTPUT_DIRECTORY
// Prints "before: …" once the first screenshots are saved and "after: …" at the end; exits 1
// with the reason when something does not come in time.
#include "desktopsession.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QImage>
#include <QProcess>
#include <QRect>
#include <QThread>
#include <cstdio>
#include <optional>

using vigil::test::DesktopSession;

namespace {

// The fill colours of the compliant and non-compliant icons (ui/icons/make_icons.py).
constexpr QRgb compliantGreen = 0x2ea44f;
constexpr QRgb nonCompliantRed = 0xd73a49;

// trayer's panel: the screen's top right corner (the details window, at the top left, shows
// the same shield larger).
QRect panelOf(const QImage &screen)
{
    return QRect(screen.width() - 160, 0, 160, 32).intersected(screen.rect());
}

// Where the panel shows pixels of colour.
std::optional<QRect> iconOnPanel(const QImage &screen, QRgb colour)
{
    QRect found;
    const QRect panel = panelOf(screen);
    for (int y = panel.top(); y <= panel.bottom(); ++y)
        for (int x = panel.left(); x <= panel.right(); ++x)
            if ((screen.pixel(x, y) & 0xffffff) == colour)
                found |= QRect(x, y, 1, 1);
    if (found.width() * found.height() < 20)
        return std::nullopt;
    return found;
}

constexpr unsigned escapeKeysym = 0xff1b;

int changedPixels(const QImage &before, const QImage &after)
{
    if (before.size() != after.size())
        return 0;
    int count = 0;
    for (int y = 0; y < before.height(); ++y)
        for (int x = 0; x < before.width(); ++x)
            count += before.pixel(x, y) != after.pixel(x, y);
    return count;
}

class Demo
{
public:
    Demo(QString tray, QString socket, QString directory)
        : m_trayProgram(std::move(tray)), m_socket(std::move(socket)),
          m_directory(std::move(directory))
    {
    }

    ~Demo()
    {
        if (m_tray.state() != QProcess::NotRunning) {
            m_tray.terminate();
            if (!m_tray.waitForFinished(5000))
                m_tray.kill();
            m_tray.waitForFinished();
        }
        m_session.stop();
    }

    int run()
    {
        QDir().mkpath(m_directory);
        if (const QString missing =
                DesktopSession::missingPrograms(DesktopSession::TrayHost::Trayer);
            !missing.isEmpty())
            return fail(QStringLiteral("the desktop needs ") + missing);
        if (!m_session.start())
            return fail(m_session.error());
        QProcessEnvironment environment = m_session.environment();
        environment.insert(QStringLiteral("VIGIL_SOCKET"), m_socket);
        m_tray.setProcessEnvironment(environment);
        m_tray.setStandardOutputFile(path(QStringLiteral("vigil-tray.log")));
        m_tray.setStandardErrorFile(path(QStringLiteral("vigil-tray.log")), QIODevice::Append);
        m_tray.start(m_trayProgram, {});
        if (!m_tray.waitForStarted())
            return fail(QStringLiteral("vigil-tray did not start: ") + m_tray.errorString());

        const auto compliant = waitForIcon(compliantGreen, 30000);
        if (!compliant)
            return fail(QStringLiteral("no compliant icon on the panel within 30 s"));
        if (!openDetails())
            return fail(QStringLiteral("vigil-tray --details did not reach the running tray"));
        std::printf("before: %s\n", qPrintable(snap(QStringLiteral("before"), *compliant)));
        std::fflush(stdout);

        const auto nonCompliant = waitForIcon(nonCompliantRed, 120000);
        if (!nonCompliant)
            return fail(QStringLiteral("no non-compliant icon on the panel within 120 s"));
        std::printf("after:  %s\n", qPrintable(snap(QStringLiteral("after"), *nonCompliant)));
        return 0;
    }

private:
    QString path(const QString &name) const { return m_directory + QLatin1Char('/') + name; }

    int fail(const QString &why)
    {
        std::fprintf(stderr, "tray_demo: %s\n", qPrintable(why));
        return 1;
    }

    QImage screen() { return m_session.grab(); }

    std::optional<QRect> waitForIcon(QRgb colour, int milliseconds)
    {
        QElapsedTimer elapsed;
        elapsed.start();
        while (elapsed.elapsed() < milliseconds && m_tray.state() == QProcess::Running) {
            if (const auto icon = iconOnPanel(screen(), colour)) {
                QThread::msleep(300); // the panel finishes drawing
                return iconOnPanel(screen(), colour);
            }
            QThread::msleep(100);
        }
        return std::nullopt;
    }

    bool openDetails()
    {
        QProcess second;
        second.setProcessEnvironment(m_tray.processEnvironment());
        second.start(m_trayProgram, {QStringLiteral("--details")});
        if (!second.waitForFinished(10000) || second.exitCode() != 0)
            return false;
        QThread::msleep(700); // mapped and painted
        return true;
    }

    // The icon (the panel's end, enlarged), the screen with the icon's menu open, and the
    // screen with the details window; the files' names, space-separated.
    QString snap(const QString &when, const QRect &icon)
    {
        const QImage shown = screen();
        const QString iconFile = path(when + QStringLiteral("-icon.png"));
        const QRect panel = panelOf(shown);
        shown.copy(panel)
            .scaled(panel.size() * 4, Qt::KeepAspectRatio, Qt::FastTransformation)
            .save(iconFile);
        const QString detailsFile = path(when + QStringLiteral("-details.png"));
        shown.save(detailsFile);

        // The menu opens on a right-click and closes with Escape, as a person would do it.
        const QString menuFile = path(when + QStringLiteral("-menu.png"));
        m_session.click(icon.center(), 3);
        QImage menu;
        QElapsedTimer elapsed;
        elapsed.start();
        do {
            QThread::msleep(200);
            menu = screen();
        } while (changedPixels(shown, menu) < 2000 && elapsed.elapsed() < 5000);
        if (changedPixels(shown, menu) < 2000)
            std::fprintf(stderr, "tray_demo: the menu did not open on a right-click\n");
        QThread::msleep(300); // its last paint
        screen().save(menuFile);
        m_session.pressKey(escapeKeysym);
        QThread::msleep(300);
        return iconFile + QLatin1Char(' ') + menuFile + QLatin1Char(' ') + detailsFile;
    }

    QString m_trayProgram;
    QString m_socket;
    QString m_directory;
    DesktopSession m_session{DesktopSession::TrayHost::Trayer};
    QProcess m_tray;
};

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    const QStringList arguments = application.arguments();
    if (arguments.size() != 4) {
        std::fprintf(stderr, "usage: tray_demo VIGIL_TRAY SOCKET OUTPUT_DIRECTORY\n");
        return 2;
    }
    Demo demo(arguments[1], arguments[2], arguments[3]);
    return demo.run();
}

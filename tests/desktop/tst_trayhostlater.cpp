// The tray starts before the desktop's panel, as at a login where autostart is quicker than the
// panel, and the panel here is xfce4-panel, a StatusNotifierItem host: the tray waits without
// an icon, shows its status window once it gives up waiting, and moves to the panel (as a
// StatusNotifierItem) when the panel comes. No vigild listens: the state is "service not
// running" throughout, which is also what a person sees when the service is off.
#include "core/clock.h"
#include "desktopsession.h"
#include "ui/translations/translations.h"
#include "ui/widgets/statuswindow.h"
#include "ui/widgets/trayapp.h"

#include <QApplication>
#include <QDBusConnection>
#include <QDBusMessage>
#include <QDBusVariant>
#include <QDir>
#include <QLabel>
#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using test::DesktopSession;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");

// The items the panel's org.kde.StatusNotifierWatcher has registered. (A plain Properties.Get:
// QDBusInterface introspects, and keeps what it learnt past the end of the test.)
QStringList registeredItems()
{
    QDBusMessage get = QDBusMessage::createMethodCall(
        QStringLiteral("org.kde.StatusNotifierWatcher"), QStringLiteral("/StatusNotifierWatcher"),
        QStringLiteral("org.freedesktop.DBus.Properties"), QStringLiteral("Get"));
    get << QStringLiteral("org.kde.StatusNotifierWatcher")
        << QStringLiteral("RegisteredStatusNotifierItems");
    const QDBusMessage reply = QDBusConnection::sessionBus().call(get);
    if (reply.type() != QDBusMessage::ReplyMessage || reply.arguments().isEmpty())
        return {};
    return qvariant_cast<QDBusVariant>(reply.arguments().constFirst()).variant().toStringList();
}

// Pixels of the panel's rows that stand out from its background (taken mid-panel, where no
// item sits): the icon's outline and strokes.
int iconPixelsOnPanel(const QImage &screen)
{
    if (screen.isNull())
        return 0;
    const QRgb background = screen.pixel(screen.width() / 2, 14);
    int count = 0;
    for (int y = 2; y < std::min(26, screen.height()); ++y)
        for (int x = 0; x < screen.width(); ++x) {
            const QRgb pixel = screen.pixel(x, y);
            count += std::abs(qRed(pixel) - qRed(background)) +
                         std::abs(qGreen(pixel) - qGreen(background)) +
                         std::abs(qBlue(pixel) - qBlue(background)) >
                     120;
        }
    return count;
}

} // namespace

class TestTrayHostLater : public QObject
{
    Q_OBJECT

public:
    explicit TestTrayHostLater(DesktopSession &session) : m_session(session) {}

private:
    DesktopSession &m_session;
    QTemporaryDir m_directory;
    SystemClock m_clock;

private Q_SLOTS:
    void initTestCase() { ui::installTranslations(*QCoreApplication::instance()); }

    void waitsThenShowsAWindowThenMovesToThePanel()
    {
        ui::TrayAppOptions options;
        options.socketPath = m_directory.filePath(QStringLiteral("nobody-listens.sock"));
        options.trayHost.giveUpAfter = std::chrono::milliseconds(1500);
        ui::TrayApp tray(options, m_clock);
        tray.start();

        // No panel: no icon, and after the wait a window that says why.
        QTRY_VERIFY_WITH_TIMEOUT(tray.statusWindow() && tray.statusWindow()->isVisible(), 10000);
        QVERIFY(!tray.systemTrayIcon());
        ui::StatusWindow *window = tray.statusWindow();
        QVERIFY(QTest::qWaitForWindowExposed(window));
        QCOMPARE(tray.state(), ui::TrayState::ServiceNotRunning);
        bool saysWhy = false;
        for (const QLabel *label : window->findChildren<QLabel *>())
            saysWhy = saysWhy || label->text().contains(QStringLiteral("no system tray"));
        QVERIFY(saysWhy);
        QDir().mkpath(screenshots);
        QVERIFY(window->grab().save(screenshots + QStringLiteral("/status-window.png")));

        // The panel comes: the icon goes there, as a StatusNotifierItem, and the window goes.
        QVERIFY2(m_session.startTrayHost(), qPrintable(m_session.error()));
        QTRY_VERIFY_WITH_TIMEOUT(tray.systemTrayIcon() && tray.systemTrayIcon()->isVisible(),
                                 10000);
        QTRY_VERIFY(!window->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(!registeredItems().isEmpty(), 10000);
        // The panel draws it.
        const QString shot = screenshots + QStringLiteral("/xfce4-panel-tray.png");
        QTRY_VERIFY_WITH_TIMEOUT(m_session.screenshot(shot) && iconPixelsOnPanel(QImage(shot)) > 20,
                                 10000);
    }
};

int main(int argc, char **argv)
{
    DesktopSession session(DesktopSession::TrayHost::XfcePanel,
                           DesktopSession::TrayHostStart::Later);
    return test::runInSession(session, [&] {
        QApplication application(argc, argv);
        application.setQuitOnLastWindowClosed(false);
        TestTrayHostLater suite(session);
        return QTest::qExec(&suite, argc, argv);
    });
}

#include "tst_trayhostlater.moc"

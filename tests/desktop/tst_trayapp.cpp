// vigil-tray end to end on a real desktop: Xvfb with a tray host (trayer, XEmbed), dunst on a
// private session bus, and a real vigild reporting to the real vigil-verifier over HTTPS on
// loopback, with swtpm as its TPM. The tray runs in this process (TrayApp, as vigil-tray's main
// makes it), so the test can read its menu and windows; everything it talks to is real. The
// policy change makes the device non-compliant: the icon changes on the panel, the menu lists
// the failing check, the details show its remedy, exactly one notification says so; vigild
// restarting shows "service not running" and then recovers. Screenshots are saved under
// build/<preset>/screenshots/desktop/ for a person to look at.
#include "core/clock.h"
#include "desktopsession.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "ui/translations/translations.h"
#include "ui/widgets/detailswindow.h"
#include "ui/widgets/trayapp.h"
#include "verifierprocess.h"
#include "vigildprocess.h"

#include <QApplication>
#include <QDir>
#include <QImage>
#include <QMenu>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

using namespace vigil;
using test::DesktopSession;
using ui::TrayState;
namespace fs = std::filesystem;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/desktop");

// Pixels of the state icon's fill colour (ui/icons/make_icons.py) in the panel's rows.
int panelPixelsOf(const QImage &screen, QRgb colour)
{
    // trayer's panel is the top right corner; windows open at the top left.
    int count = 0;
    for (int y = 0; y < std::min(32, screen.height()); ++y)
        for (int x = std::max(0, screen.width() - 160); x < screen.width(); ++x)
            count += (screen.pixel(x, y) & 0xffffff) == (colour & 0xffffff);
    return count;
}

constexpr QRgb compliantGreen = 0x2ea44f;
constexpr QRgb nonCompliantRed = 0xd73a49;
constexpr QRgb notRunningGrey = 0xd0d7de;

} // namespace

class TestTrayApp : public QObject
{
    Q_OBJECT

public:
    explicit TestTrayApp(DesktopSession &session) : m_session(session) {}

private:
    DesktopSession &m_session;
    QTemporaryDir m_directory;
    fs::path m_root;
    std::unique_ptr<test::SwtpmSimulator> m_swtpm;
    std::unique_ptr<test::VerifierProcess> m_verifier;
    std::unique_ptr<test::VigildProcess> m_vigild;
    SystemClock m_clock;
    std::unique_ptr<ui::TrayApp> m_tray;

    // The whole screen, saved as name; and the panel's right end (where trayer docks the icon)
    // four times enlarged as panel-<name>, for a person to look at the icon.
    QImage screen(const QString &name)
    {
        QDir().mkpath(screenshots);
        const QString path = screenshots + QLatin1Char('/') + name;
        if (!m_session.screenshot(path))
            qWarning().noquote() << "no screenshot:" << m_session.error();
        const QImage image(path);
        if (!image.isNull())
            image.copy(image.width() - 96, 0, 96, 32)
                .scaled(384, 128, Qt::KeepAspectRatio, Qt::FastTransformation)
                .save(screenshots + QStringLiteral("/panel-") + name);
        return image;
    }

    void save(QWidget &widget, const QString &name)
    {
        QDir().mkpath(screenshots);
        QVERIFY(widget.grab().save(screenshots + QLatin1Char('/') + name));
    }

    QList<DesktopSession::Notification> notificationsOf(const QString &app)
    {
        QList<DesktopSession::Notification> found;
        for (const auto &notification : m_session.notifications())
            if (notification.appName == app)
                found.append(notification);
        return found;
    }

    QString vigildLog() const { return QString::fromUtf8(m_vigild->log().right(3000)); }

private Q_SLOTS:
    void initTestCase()
    {
        ui::installTranslations(*QCoreApplication::instance());
        QVERIFY(m_directory.isValid());
        m_root = m_directory.path().toStdString();
        m_swtpm = std::make_unique<test::SwtpmSimulator>();
        m_verifier =
            std::make_unique<test::VerifierProcess>(test::lenientPolicy, m_swtpm->caDirectory());
        const nlohmann::json config{{"server_url", m_verifier->baseUrl()},
                                    {"ca_file", m_verifier->caFile().string()},
                                    {"tcti", m_swtpm->tcti()},
                                    {"state_directory", (m_root / "state").string()},
                                    {"socket_path", (m_root / "run" / "vigild.sock").string()},
                                    {"log_level", "debug"}};
        const fs::path token = m_root / "enroll.token";
        std::ofstream(token) << m_verifier->createEnrollmentToken() << "\n";
        fs::permissions(token, fs::perms::owner_read | fs::perms::owner_write);
        m_vigild = std::make_unique<test::VigildProcess>(m_root, config, token);
        QVERIFY2(m_vigild->start(), m_vigild->log().constData());

        ui::TrayAppOptions options;
        options.socketPath = QString::fromStdString(m_vigild->socket().string());
        options.connection.firstRetry = std::chrono::milliseconds(100);
        options.connection.maxRetry = std::chrono::milliseconds(500);
        m_tray = std::make_unique<ui::TrayApp>(options, m_clock);
        m_tray->start();
    }

    void cleanupTestCase()
    {
        m_tray.reset();
        m_vigild.reset();
        m_verifier.reset();
        m_swtpm.reset();
    }

    void showsTheCompliantIconOnThePanel()
    {
        QTRY_VERIFY_WITH_TIMEOUT(m_tray->systemTrayIcon() && m_tray->systemTrayIcon()->isVisible(),
                                 15000);
        QTRY_VERIFY2_WITH_TIMEOUT(m_tray->state() == TrayState::Compliant, qPrintable(vigildLog()),
                                  30000);
        QCOMPARE(m_tray->systemTrayIcon()->toolTip(),
                 QStringLiteral("Vigil: This device is compliant"));
        // The panel draws the icon on its next paint.
        QTRY_VERIFY_WITH_TIMEOUT(
            panelPixelsOf(screen(QStringLiteral("tray-compliant.png")), compliantGreen) > 20, 5000);
        // The state the tray found at start is no news.
        QCOMPARE(notificationsOf(QStringLiteral("Vigil")).size(), 0);
    }

    void aPolicyChangeMakesItNonCompliant()
    {
        m_verifier->setPolicy(test::impossiblePolicy);
        const ui::TrayMenuEntry *checkNow =
            m_tray->menuModel().find(ui::TrayMenuEntry::Kind::CheckNow);
        QVERIFY(checkNow && checkNow->enabled);
        m_tray->trigger(*checkNow);
        QTRY_VERIFY2_WITH_TIMEOUT(m_tray->state() == TrayState::NonCompliant,
                                  qPrintable(vigildLog()), 30000);

        // The panel shows the red icon.
        QTRY_VERIFY_WITH_TIMEOUT(
            panelPixelsOf(screen(QStringLiteral("tray-non-compliant.png")), nonCompliantRed) > 20,
            5000);
        QVERIFY(panelPixelsOf(screen(QStringLiteral("tray-non-compliant.png")), compliantGreen) <
                5);

        // The menu names the failing check, as vigild's status has it.
        const auto &failing = m_tray->status()->lastVerdict->failingChecks;
        QVERIFY(!failing.empty());
        const ui::TrayMenuEntry *entry =
            m_tray->menuModel().find(ui::TrayMenuEntry::Kind::FailingCheck);
        QVERIFY(entry);
        QCOMPARE(entry->checkId, QString::fromStdString(failing.front().id));
        bool inMenu = false;
        for (const QAction *action : m_tray->menu()->actions())
            inMenu = inMenu || action->text() == entry->text;
        QVERIFY2(inMenu, qPrintable(entry->text));
        m_tray->menu()->popup(QPoint(1100, 30));
        QVERIFY(QTest::qWaitForWindowExposed(m_tray->menu()));
        save(*m_tray->menu(), QStringLiteral("menu-non-compliant.png"));
        screen(QStringLiteral("screen-menu-non-compliant.png"));
        m_tray->menu()->hide();

        // Its entry opens the details at that check, with the verifier's remedy.
        m_tray->trigger(*entry);
        ui::DetailsWindow *details = m_tray->detailsWindow();
        QVERIFY(QTest::qWaitForWindowExposed(details));
        QCOMPARE(details->selectedCheck(), entry->checkId);
        QVERIFY2(details->selectedCheckText().contains(
                     QString::fromStdString(failing.front().remediation)),
                 qPrintable(details->selectedCheckText()));
        save(*details, QStringLiteral("details-non-compliant.png"));
        details->close();

        // Exactly one notification, with the first fix; "Check now" adds none of its own since
        // the transition answered it.
        QTRY_COMPARE_WITH_TIMEOUT(notificationsOf(QStringLiteral("Vigil")).size(), 1, 5000);
        QTest::qWait(500);
        const auto notifications = notificationsOf(QStringLiteral("Vigil"));
        QCOMPARE(notifications.size(), 1);
        QCOMPARE(notifications[0].summary,
                 QStringLiteral("No access: this device is not compliant"));
        QVERIFY2(notifications[0].body.contains(
                     QString::fromStdString(failing.front().remediation).left(40)),
                 qPrintable(notifications[0].body));
    }

    void vigildRestartingShowsServiceNotRunningThenRecovers()
    {
        QCOMPARE(m_vigild->stop(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(m_tray->state(), TrayState::ServiceNotRunning, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(
            panelPixelsOf(screen(QStringLiteral("tray-service-not-running.png")), notRunningGrey) >
                10,
            5000);
        QVERIFY(m_tray->systemTrayIcon()->toolTip().contains(QStringLiteral("not running")));

        QVERIFY2(m_vigild->start(), m_vigild->log().constData());
        QTRY_VERIFY2_WITH_TIMEOUT(m_tray->state() == TrayState::NonCompliant,
                                  qPrintable(vigildLog()), 30000);
        // A brief outage, and the same verdict after it: nothing to say.
        QCOMPARE(notificationsOf(QStringLiteral("Vigil")).size(), 1);
    }

    void fixingItBringsBackCompliant()
    {
        m_verifier->setPolicy(test::lenientPolicy);
        QTRY_VERIFY_WITH_TIMEOUT(
            m_tray->menuModel().find(ui::TrayMenuEntry::Kind::CheckNow)->enabled, 5000);
        m_tray->trigger(*m_tray->menuModel().find(ui::TrayMenuEntry::Kind::CheckNow));
        QTRY_VERIFY2_WITH_TIMEOUT(m_tray->state() == TrayState::Compliant, qPrintable(vigildLog()),
                                  30000);
        save(*m_tray->detailsWindow(), QStringLiteral("details-compliant.png"));
        QTRY_COMPARE_WITH_TIMEOUT(notificationsOf(QStringLiteral("Vigil")).size(), 2, 5000);
        QCOMPARE(notificationsOf(QStringLiteral("Vigil"))[1].summary,
                 QStringLiteral("Access restored"));

        // Checking again changes nothing: the answer is a notification of its own.
        QTest::qWait(1100); // report times have whole seconds
        m_tray->trigger(*m_tray->menuModel().find(ui::TrayMenuEntry::Kind::CheckNow));
        QTRY_COMPARE_WITH_TIMEOUT(notificationsOf(QStringLiteral("Vigil")).size(), 3, 30000);
        const auto last = notificationsOf(QStringLiteral("Vigil"))[2];
        QCOMPARE(last.summary, QStringLiteral("Check complete"));
        QCOMPARE(last.body, QStringLiteral("Checked: This device is compliant"));
    }
};

int main(int argc, char **argv)
{
    DesktopSession session(DesktopSession::TrayHost::Trayer);
    return test::runInSession(session, [&] {
        QApplication application(argc, argv);
        application.setQuitOnLastWindowClosed(false);
        TestTrayApp suite(session);
        return QTest::qExec(&suite, argc, argv);
    });
}

#include "tst_trayapp.moc"

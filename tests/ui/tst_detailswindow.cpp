// DetailsWindow: every check with its result, the failing one's remedy when selected, the
// facts, "Copy for helpdesk" on the clipboard, keyboard use and names for screen readers. Saves
// screenshots (build/<preset>/screenshots/ui/) for a person to look at.
#include "tests/app/scriptedvigild.h"
#include "tests/support/manualclock.h"
#include "ui/translations/translations.h"
#include "ui/widgets/detailswindow.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTreeWidget>
#include <QtTest>

using namespace vigil;

namespace {

const QString screenshots = QStringLiteral(VIGIL_BINARY_DIR "/screenshots/ui");

void saveScreenshot(QWidget &window, const QString &name)
{
    QDir().mkpath(screenshots);
    QVERIFY(window.grab().save(screenshots + QLatin1Char('/') + name));
}

QPushButton *button(QWidget &window, const QString &text)
{
    for (auto *candidate : window.findChildren<QPushButton *>())
        if (candidate->text() == text)
            return candidate;
    return nullptr;
}

} // namespace

class TestDetailsWindow : public QObject
{
    Q_OBJECT

private:
    test::ManualClock m_clock{test::at("2026-11-24T16:07:00Z")};

private Q_SLOTS:
    void initTestCase()
    {
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedKingdom));
        ui::installTranslations(*QCoreApplication::instance());
    }

    void showsTheFailingCheckWithItsRemedy()
    {
        ui::DetailsWindow window(m_clock);
        const auto status = test::nonCompliantStatus();
        window.setStatus(status, ui::trayStatus(status, m_clock));
        window.showCheck(QStringLiteral("os_version"));
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *checks = window.findChild<QTreeWidget *>();
        QVERIFY(checks);
        QCOMPARE(checks->topLevelItemCount(), 2);
        QCOMPARE(checks->topLevelItem(0)->text(0), QStringLiteral("Firewall"));
        QCOMPARE(checks->topLevelItem(0)->text(1), QStringLiteral("Fails"));
        QCOMPARE(checks->topLevelItem(1)->text(1), QStringLiteral("Passes"));
        QCOMPARE(window.selectedCheck(), QStringLiteral("os_version"));

        window.showCheck(QStringLiteral("firewall"));
        QCOMPARE(window.selectedCheck(), QStringLiteral("firewall"));
        QVERIFY(window.selectedCheckText().contains(
            QStringLiteral("What to do: Turn on a host firewall: `sudo ufw enable`")));
        QVERIFY(checks->hasFocus());
        saveScreenshot(window, QStringLiteral("details-non-compliant.png"));

        // The keyboard moves through the checks, and the pane follows.
        QTest::keyClick(checks, Qt::Key_Down);
        QCOMPARE(window.selectedCheck(), QStringLiteral("os_version"));
        QVERIFY(window.selectedCheckText().startsWith(QStringLiteral("Debian 12.8")));

        // A new status keeps the selection where the check still has its result.
        window.setStatus(status, ui::trayStatus(status, m_clock));
        QCOMPARE(window.selectedCheck(), QStringLiteral("os_version"));
        // One that starts failing takes it: the window shows what to fix.
        auto worse = status;
        worse.lastVerdict->failingChecks.insert(worse.lastVerdict->failingChecks.begin(),
                                                worse.lastVerdict->passingChecks.front());
        worse.lastVerdict->failingChecks.front().status = protocol::CheckOutcome::Fail;
        worse.lastVerdict->failingChecks.front().remediation = "Upgrade to Debian 13";
        worse.lastVerdict->passingChecks.clear();
        window.setStatus(worse, ui::trayStatus(worse, m_clock));
        QCOMPARE(window.selectedCheck(), QStringLiteral("os_version"));
        QVERIFY(window.selectedCheckText().contains(QStringLiteral("Upgrade to Debian 13")));
        window.showCheck(QStringLiteral("firewall"));
        window.setStatus(status, ui::trayStatus(status, m_clock));
        QCOMPARE(window.selectedCheck(), QStringLiteral("firewall")); // still failing
    }

    void everyControlHasANameForScreenReaders()
    {
        ui::DetailsWindow window(m_clock);
        const auto status = test::compliantStatus();
        window.setStatus(status, ui::trayStatus(status, m_clock));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // Form labels name their buddy; every other label is named itself.
        for (auto *label : window.findChildren<QLabel *>())
            if (label->isVisible())
                QVERIFY2(label->buddy() || !label->accessibleName().isEmpty(),
                         qPrintable(label->text()));
        for (auto *button : window.findChildren<QPushButton *>())
            QVERIFY(!button->text().isEmpty());
        QVERIFY(!window.findChild<QTreeWidget *>()->accessibleName().isEmpty());
        saveScreenshot(window, QStringLiteral("details-compliant.png"));
    }

    void copiesASummaryForTheHelpdesk()
    {
        ui::DetailsWindow window(m_clock);
        const auto status = test::nonCompliantStatus();
        window.setStatus(status, ui::trayStatus(status, m_clock));
        window.show();
        QApplication::clipboard()->clear();
        QPushButton *copy = button(window, QStringLiteral("&Copy for helpdesk"));
        QVERIFY(copy);
        copy->click();
        const QString text = QApplication::clipboard()->text();
        QVERIFY2(text.contains(QStringLiteral("FAIL firewall")), qPrintable(text));
        QVERIFY(text.contains(QStringLiteral("Device ID: 8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764")));
    }

    void checkNowAsksAndShowsProgress()
    {
        ui::DetailsWindow window(m_clock);
        const auto status = test::compliantStatus();
        window.setStatus(status, ui::trayStatus(status, m_clock));
        QSignalSpy asked(&window, &ui::DetailsWindow::checkNowRequested);
        QPushButton *checkNow = button(window, QStringLiteral("Check &now"));
        QVERIFY(checkNow);
        checkNow->click();
        QCOMPARE(asked.size(), 1);
        window.setCheckRunning(true);
        QVERIFY(!checkNow->isEnabled());
        QCOMPARE(checkNow->text(), QStringLiteral("Checking…"));
        window.setStatus(status, ui::trayStatus(status, m_clock)); // the check's state event
        QVERIFY(!checkNow->isEnabled());
        window.setCheckRunning(false);
        QVERIFY(checkNow->isEnabled());

        // Without vigild there is nothing to ask.
        window.setStatus(std::nullopt, ui::trayStatus(std::nullopt, m_clock));
        QVERIFY(!checkNow->isEnabled());
        QVERIFY(window.selectedCheckText().contains(QStringLiteral("not running")));
    }
};

QTEST_MAIN(TestDetailsWindow)
#include "tst_detailswindow.moc"

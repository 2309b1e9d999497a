// TrayMenuModel: what the menu offers for a compliant device, one with failing checks, one not
// enrolled, and while vigild is not running.
#include "tests/app/scriptedvigild.h"
#include "tests/support/manualclock.h"
#include "ui/model/traymenumodel.h"
#include "ui/translations/translations.h"

#include <QtTest>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::Status;
using Kind = ui::TrayMenuEntry::Kind;

namespace {

ui::TrayMenuModel menuFor(const std::optional<Status> &status, ui::TrayMenuContext context = {})
{
    const test::ManualClock clock(test::at("2026-11-24T16:07:00Z"));
    return ui::trayMenuModel(status, ui::trayStatus(status, clock), context);
}

std::vector<Kind> kinds(const ui::TrayMenuModel &menu)
{
    std::vector<Kind> result;
    for (const auto &entry : menu.entries)
        result.push_back(entry.kind);
    return result;
}

Status twoFailingChecks()
{
    auto status = test::nonCompliantStatus();
    status.lastVerdict->failingChecks.push_back(
        {"disk_encryption", protocol::CheckOutcome::Fail, "The root file system is not encrypted",
         "Encrypt the disk with LUKS & reboot: the installer's guided partitioning does it, or "
         "cryptsetup-reencrypt for an existing system\nA second line the menu leaves out."});
    status.reason = "2 checks fail: firewall, disk_encryption";
    return status;
}

} // namespace

class TestTrayMenuModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The texts people read, plurals included.
    void initTestCase() { ui::installTranslations(*QCoreApplication::instance()); }

    void compliant()
    {
        const auto menu = menuFor(test::compliantStatus());
        QCOMPARE(kinds(menu),
                 (std::vector<Kind>{Kind::StateLine, Kind::Separator, Kind::CheckNow, Kind::Details,
                                    Kind::Separator, Kind::About, Kind::Quit}));
        QCOMPARE(menu.entries[0].text, QStringLiteral("This device is compliant"));
        QVERIFY(menu.entries[0].enabled); // it opens the details
        QVERIFY(menu.find(Kind::CheckNow)->enabled);
        QCOMPARE(menu.find(Kind::CheckNow)->text, QStringLiteral("Check &now"));
        QVERIFY(menu.find(Kind::Enroll) == nullptr);
        QCOMPARE(menu.status.state, ui::TrayState::Compliant);
    }

    void nonCompliantWithTwoFailingChecks()
    {
        const auto menu = menuFor(twoFailingChecks());
        QCOMPARE(kinds(menu),
                 (std::vector<Kind>{Kind::StateLine, Kind::FailingCheck, Kind::FailingCheck,
                                    Kind::Separator, Kind::CheckNow, Kind::Details, Kind::Separator,
                                    Kind::About, Kind::Quit}));
        QCOMPARE(menu.entries[0].text, QStringLiteral("Not compliant: 2 checks to fix"));
        const auto &firewall = menu.entries[1];
        QCOMPARE(firewall.checkId, QStringLiteral("firewall"));
        QCOMPARE(firewall.text, QStringLiteral("Turn on a host firewall: `sudo ufw enable`"));
        QCOMPARE(firewall.toolTip, QStringLiteral("Inbound IPv4 and IPv6 traffic is not filtered\n"
                                                  "Turn on a host firewall: `sudo ufw enable`"));
        const auto &disk = menu.entries[2];
        QCOMPARE(disk.checkId, QStringLiteral("disk_encryption"));
        // Cut at a word within 60 characters, '&' doubled for the menu, the full text kept.
        QCOMPARE(disk.text,
                 QStringLiteral("Encrypt the disk with LUKS && reboot: the installer's guided…"));
        QVERIFY(disk.text.size() <= 61);
        QVERIFY(disk.toolTip.endsWith(QStringLiteral("A second line the menu leaves out.")));
        QVERIFY(disk.toolTip.startsWith(QStringLiteral("The root file system is not encrypted\n")));
        QVERIFY(menu.find(Kind::CheckNow)->enabled);
    }

    void manyFailingChecksAreSummedUp()
    {
        auto status = twoFailingChecks();
        for (int i = 0; i < 6; ++i)
            status.lastVerdict->failingChecks.push_back(
                {"check_" + std::to_string(i), protocol::CheckOutcome::Fail, "summary", ""});
        const auto menu = menuFor(status);
        const auto shown = kinds(menu);
        QCOMPARE(std::count(shown.begin(), shown.end(), Kind::FailingCheck), 5);
        QCOMPARE(menu.find(Kind::MoreChecks)->text, QStringLiteral("3 more checks to fix…"));
        // Without a remediation the summary is the entry.
        QCOMPARE(menu.entries[5].text, QStringLiteral("summary"));
    }

    void checkNowIsDisabledWhileACheckRuns()
    {
        ui::TrayMenuContext context;
        context.checkRunning = true;
        const auto menu = menuFor(test::compliantStatus(), context);
        QCOMPARE(menu.find(Kind::CheckNow)->text, QStringLiteral("Checking…"));
        QVERIFY(!menu.find(Kind::CheckNow)->enabled);
    }

    // Sign-in is offered on an enrolled device, as mfa_status found it: set up, or sign in.
    void signInEntries()
    {
        ui::TrayMenuContext context;
        QVERIFY(menuFor(test::compliantStatus(), context).find(Kind::SetUpSignIn) == nullptr);
        context.signIn = ui::SignInState::NotSetUp;
        const auto setUp = menuFor(test::compliantStatus(), context);
        QCOMPARE(setUp.find(Kind::SetUpSignIn)->text, QStringLiteral("Set up &sign-in…"));
        QVERIFY(setUp.find(Kind::SetUpSignIn)->enabled);
        QVERIFY(setUp.find(Kind::SignIn) == nullptr);
        // Also while non-compliant: sign-in is refused then, but setting it up is not.
        QVERIFY(menuFor(test::nonCompliantStatus(), context).find(Kind::SetUpSignIn));
        // Not before the device is enrolled: the user's key is certified by its AK.
        QVERIFY(menuFor(test::notEnrolledStatus(), context).find(Kind::SetUpSignIn) == nullptr);

        context.signIn = ui::SignInState::SignedOut;
        const auto signIn = menuFor(test::compliantStatus(), context);
        QCOMPARE(signIn.find(Kind::SignIn)->text, QStringLiteral("&Sign in…"));
        QVERIFY(signIn.find(Kind::SetUpSignIn) == nullptr);

        context.signIn = ui::SignInState::SignedIn;
        const auto done = menuFor(test::compliantStatus(), context);
        QVERIFY(done.find(Kind::SignIn) == nullptr && done.find(Kind::SetUpSignIn) == nullptr);
    }

    void notEnrolled()
    {
        const auto menu = menuFor(test::notEnrolledStatus());
        QCOMPARE(kinds(menu),
                 (std::vector<Kind>{Kind::StateLine, Kind::Separator, Kind::CheckNow, Kind::Details,
                                    Kind::Enroll, Kind::Separator, Kind::About, Kind::Quit}));
        QCOMPARE(menu.entries[0].text, QStringLiteral("This device is not enrolled"));
        QVERIFY(!menu.find(Kind::CheckNow)->enabled);
        QCOMPARE(menu.find(Kind::Enroll)->text, QStringLiteral("&Enroll this device…"));
        QVERIFY(menu.find(Kind::Enroll)->enabled);
    }

    void revokedOffersEnrollment()
    {
        auto status = test::compliantStatus();
        status.state = protocol::ipc::AgentState::Revoked;
        const auto menu = menuFor(status);
        QVERIFY(menu.find(Kind::Enroll) != nullptr);
        QVERIFY(!menu.find(Kind::CheckNow)->enabled);
    }

    void refusedPrivilegeDisablesTheActions()
    {
        ui::TrayMenuContext context;
        context.privilege = ui::Privilege::Denied;
        const auto enroll = menuFor(test::notEnrolledStatus(), context).entries[4];
        QCOMPARE(enroll.kind, Kind::Enroll);
        QVERIFY(!enroll.enabled);
        QVERIFY(enroll.toolTip.contains(QStringLiteral("administrator")));
        const auto check = *menuFor(test::compliantStatus(), context).find(Kind::CheckNow);
        QVERIFY(!check.enabled);
        QVERIFY(check.toolTip.contains(QStringLiteral("administrator")));
    }

    void serviceNotRunning()
    {
        const auto menu = menuFor(std::nullopt);
        QCOMPARE(kinds(menu),
                 (std::vector<Kind>{Kind::StateLine, Kind::Separator, Kind::CheckNow, Kind::Details,
                                    Kind::Separator, Kind::About, Kind::Quit}));
        QCOMPARE(menu.entries[0].text, QStringLiteral("The Vigil service is not running"));
        QCOMPARE(menu.status.state, ui::TrayState::ServiceNotRunning);
        QVERIFY(!menu.find(Kind::CheckNow)->enabled);
        QVERIFY(menu.find(Kind::Details)->enabled);
    }

    void offlineHidesAnOldVerdict()
    {
        auto status = twoFailingChecks();
        status.state = protocol::ipc::AgentState::Offline;
        const auto menu = menuFor(status);
        QVERIFY(menu.find(Kind::FailingCheck) == nullptr);
        QCOMPARE(menu.entries[0].text, QStringLiteral("Cannot reach the verifier"));
    }
};

QTEST_GUILESS_MAIN(TestTrayMenuModel)
#include "tst_traymenumodel.moc"

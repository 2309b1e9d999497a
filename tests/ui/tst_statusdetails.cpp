// StatusDetails: what the details window lists for each state, the times people read, and the
// helpdesk text (every fact, no secret).
#include "tests/app/scriptedvigild.h"
#include "tests/support/manualclock.h"
#include "ui/model/statusdetails.h"
#include "ui/translations/translations.h"

#include <QtTest>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::Status;

namespace {

const test::ManualClock now(test::at("2026-11-24T16:07:00Z"));

ui::StatusDetails detailsOf(const std::optional<Status> &status)
{
    return ui::statusDetails(status, ui::trayStatus(status, now), now);
}

QString fact(const ui::StatusDetails &details, const QString &label)
{
    for (const auto &entry : details.facts)
        if (entry.label == label)
            return entry.value;
    return QStringLiteral("<no fact %1>").arg(label);
}

} // namespace

class TestStatusDetails : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        ui::installTranslations(*QCoreApplication::instance());
        // Times are shown in local time: make it UTC so the expected texts hold everywhere.
        qputenv("TZ", "UTC");
        QLocale::setDefault(QLocale(QLocale::English, QLocale::UnitedKingdom));
    }

    void listsFailingChecksFirstWithTheirRemedy()
    {
        const auto details = detailsOf(test::nonCompliantStatus());
        QCOMPARE(details.checks.size(), std::size_t{2});
        QCOMPARE(details.checks[0].id, QStringLiteral("firewall"));
        QCOMPARE(details.checks[0].title, QStringLiteral("Firewall"));
        QVERIFY(!details.checks[0].passed);
        QCOMPARE(details.checks[0].remediation,
                 QStringLiteral("Turn on a host firewall: `sudo ufw enable`"));
        QCOMPARE(details.checks[1].title, QStringLiteral("Operating system version"));
        QVERIFY(details.checks[1].passed);
        QCOMPARE(details.reason, QStringLiteral("1 check fails: firewall"));
        QCOMPARE(details.verdictTime,
                 QStringLiteral("Checks of the verdict of 16:05, 1 minute ago"));
    }

    void showsTheFacts()
    {
        const auto details = detailsOf(test::compliantStatus());
        QCOMPARE(fact(details, QStringLiteral("Next report")),
                 QStringLiteral("16:21, in 14 minutes"));
        QCOMPARE(fact(details, QStringLiteral("Access token")),
                 QStringLiteral("Expires 16:11, in 4 minutes"));
        QCOMPARE(fact(details, QStringLiteral("Device ID")),
                 QStringLiteral("8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764"));
        QCOMPARE(fact(details, QStringLiteral("Verifier")), QStringLiteral("Reachable"));
        QVERIFY(fact(details, QStringLiteral("Assurance")).startsWith(QStringLiteral("TPM")));
    }

    void saysWhatIsMissing()
    {
        auto offline = test::compliantStatus();
        offline.state = protocol::ipc::AgentState::Offline;
        offline.verifierReachable = false;
        offline.verifierLastError = "connection refused";
        offline.tokenExpiresAt.reset();
        const auto details = detailsOf(offline);
        QCOMPARE(fact(details, QStringLiteral("Verifier")),
                 QStringLiteral("Unreachable: connection refused"));
        QCOMPARE(fact(details, QStringLiteral("Access token")), QStringLiteral("None held"));

        const auto notEnrolled = detailsOf(test::notEnrolledStatus());
        QVERIFY(notEnrolled.checks.empty());
        QVERIFY(notEnrolled.verdictTime.isEmpty());
        QCOMPARE(fact(notEnrolled, QStringLiteral("Device ID")), QStringLiteral("Not enrolled"));
        QCOMPARE(fact(notEnrolled, QStringLiteral("Last report")), QStringLiteral("None"));

        const auto down = detailsOf(std::nullopt);
        QVERIFY(down.checks.empty());
        QCOMPARE(down.status.state, ui::TrayState::ServiceNotRunning);
        QCOMPARE(fact(down, QStringLiteral("Service")),
                 QStringLiteral("Not running or not reachable"));
    }

    void namesUnknownChecksByTheirId()
    {
        QCOMPARE(ui::checkTitle("screen_lock"), QStringLiteral("Screen lock"));
        QCOMPARE(ui::checkTitle("usb_guard"), QStringLiteral("usb_guard"));
    }

    void describesTimesAroundNow()
    {
        QCOMPARE(ui::describeTime(test::at("2026-11-24T16:07:00Z"), now),
                 QStringLiteral("16:07, now"));
        QCOMPARE(ui::describeTime(test::at("2026-11-24T16:06:30Z"), now),
                 QStringLiteral("16:06, 30 seconds ago"));
        QCOMPARE(ui::describeTime(test::at("2026-11-25T09:00:00Z"), now),
                 QStringLiteral("tomorrow 09:00, in 16 hours"));
        QCOMPARE(ui::describeTime(test::at("2026-11-23T09:00:00Z"), now),
                 QStringLiteral("yesterday 09:00, 31 hours ago"));
        QCOMPARE(ui::describeTime(test::at("2026-11-20T09:00:00Z"), now),
                 QStringLiteral("20/11/2026 09:00, 4 days ago"));
    }

    void helpdeskSummaryHasEveryFactAndNoSecret()
    {
        auto status = test::nonCompliantStatus();
        status.tokenExpiresAt = test::at("2026-11-24T16:11:32Z");
        const QString text = ui::helpdeskSummary(status, ui::trayStatus(status, now), now,
                                                 QStringLiteral("ws-042"), QStringLiteral("0.1.0"));
        QCOMPARE(text,
                 QStringLiteral("Vigil 0.1.0 on ws-042, 2026-11-24T16:07:00Z\n"
                                "State: Not compliant: 1 check to fix\n"
                                "Agent state: non_compliant\n"
                                "Reason: 1 check fails: firewall\n"
                                "Device ID: 8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764\n"
                                "Assurance: tpm\n"
                                "Server: https://verifier.example.com:8443\n"
                                "Last report: 2026-11-24T16:05:00Z\n"
                                "Next report: 2026-11-24T16:20:01Z\n"
                                "Access token expires: 2026-11-24T16:11:32Z\n"
                                "Verifier: Reachable\n"
                                "Verdict: non_compliant at 2026-11-24T16:05:01Z\n"
                                "  FAIL firewall: Inbound IPv4 and IPv6 traffic is not filtered\n"
                                "       Fix: Turn on a host firewall: `sudo ufw enable`\n"
                                "  pass os_version: Debian 12.8 meets the minimum 12.0\n"));
        // The status carries no token (docs/ipc.md): nothing that looks like a JWT got in.
        QVERIFY(!text.contains(QStringLiteral("eyJ")));

        const QString down =
            ui::helpdeskSummary(std::nullopt, ui::trayStatus(std::nullopt, now), now,
                                QStringLiteral("ws-042"), QStringLiteral("0.1.0"));
        QCOMPARE(down, QStringLiteral("Vigil 0.1.0 on ws-042, 2026-11-24T16:07:00Z\n"
                                      "State: The Vigil service is not running\n"));
    }
};

QTEST_GUILESS_MAIN(TestStatusDetails)
#include "tst_statusdetails.moc"

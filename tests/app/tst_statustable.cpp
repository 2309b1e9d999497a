// vigild's status as vigilctl status (and report and enroll through vigild) prints it.
#include "app/commands/statustable.h"
#include "scriptedvigild.h"

#include <QtTest>

using namespace vigil;
using protocol::ipc::AgentState;

class TestStatusTable : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void compliant()
    {
        QCOMPARE(app::formatStatus(test::compliantStatus()),
                 std::string("State            compliant\n"
                             "Device           8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764 (assurance "
                             "tpm)\n"
                             "Verifier         https://verifier.example.com:8443\n"
                             "Reachable        yes\n"
                             "Last verdict     compliant (0 failing), appraised "
                             "2026-11-24T16:06:31Z\n"
                             "Last report      2026-11-24T16:06:30Z\n"
                             "Next report      2026-11-24T16:21:31Z\n"
                             "Access token     held, expires 2026-11-24T16:11:32Z\n"));
    }

    void nonCompliantListsEachFailingCheckWithItsRemedy()
    {
        auto status = test::nonCompliantStatus();
        status.lastVerdict->failingChecks.push_back(
            {"disk_encryption", protocol::CheckOutcome::Fail, "Not encrypted: / (vda)", {}});
        QCOMPARE(app::formatStatus(status),
                 std::string("State            non_compliant: 1 check fails: firewall\n"
                             "Device           8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764 (assurance "
                             "tpm)\n"
                             "Verifier         https://verifier.example.com:8443\n"
                             "Reachable        yes\n"
                             "Last verdict     non_compliant (2 failing), appraised "
                             "2026-11-24T16:05:01Z\n"
                             "Last report      2026-11-24T16:05:00Z\n"
                             "Next report      2026-11-24T16:20:01Z\n"
                             "Access token     none\n"
                             "\n"
                             "Failing checks:\n"
                             "  firewall: Inbound IPv4 and IPv6 traffic is not filtered\n"
                             "    To fix: Turn on a host firewall: `sudo ufw enable`\n"
                             "  disk_encryption: Not encrypted: / (vda)\n"
                             "    To fix: (the verifier gave no advice)\n"));
    }

    void notEnrolled()
    {
        QCOMPARE(app::formatStatus(test::notEnrolledStatus()),
                 std::string("State            not_enrolled\n"
                             "Device           not enrolled (vigilctl enroll --token-file FILE)\n"
                             "Reachable        not tried yet\n"
                             "Last verdict     none yet\n"
                             "Last report      none yet\n"
                             "Next report      none scheduled\n"
                             "Access token     none\n"));
    }

    void offlineSaysWhyTheVerifierIsUnreachable()
    {
        auto status = test::compliantStatus();
        status.state = AgentState::Offline;
        status.reason = "the verifier cannot be reached";
        status.verifierReachable = false;
        status.verifierLastError = "connect to verifier.example.com:8443: Connection refused";
        status.tokenExpiresAt.reset();
        const std::string text = app::formatStatus(status);
        QVERIFY2(text.starts_with("State            offline: the verifier cannot be reached\n"),
                 text.c_str());
        QVERIFY2(text.find("\nReachable        no: connect to verifier.example.com:8443: "
                           "Connection refused\n") != std::string::npos,
                 text.c_str());
        QVERIFY(text.find("Failing checks") == std::string::npos);
    }

    void textFromVigildCannotDriveTheTerminal()
    {
        auto status = test::nonCompliantStatus();
        status.reason = "bad\x1b[2J";
        status.lastVerdict->failingChecks[0].remediation = "fix\nforged line";
        const std::string text = app::formatStatus(status);
        QVERIFY(text.find('\x1b') == std::string::npos);
        QVERIFY2(text.find("bad\\x1b[2J") != std::string::npos, text.c_str());
        QVERIFY2(text.find("fix\\x0aforged line") != std::string::npos, text.c_str());
    }

    void colourOnlyWhenAsked()
    {
        app::TableOptions options;
        options.color = true;
        QVERIFY(app::formatStatus(test::compliantStatus(), options)
                    .starts_with("State            \033[32mcompliant\033[0m\n"));
        QVERIFY(app::formatStatus(test::nonCompliantStatus(), options)
                    .starts_with("State            \033[31mnon_compliant\033[0m: "));
    }
};

QTEST_GUILESS_MAIN(TestStatusTable)
#include "tst_statustable.moc"

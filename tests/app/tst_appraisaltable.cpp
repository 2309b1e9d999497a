// The verifier's verdict as vigilctl report prints it.
#include "app/commands/appraisaltable.h"
#include "protocol/rfc3339.h"

#include <QtTest>

using namespace vigil;

namespace {

protocol::Appraisal appraisal()
{
    protocol::Appraisal result;
    result.appraisalId = "88c833e7-2a2b-4186-89ac-8d8f289ee30e";
    result.verdict = protocol::Verdict::NonCompliant;
    result.appraisedAt = *protocol::parseRfc3339("2026-11-24T23:33:53Z");
    result.nextReportAt = *protocol::parseRfc3339("2026-11-24T23:48:53Z");
    result.checks = {
        {"assurance", protocol::CheckOutcome::Pass, "Device key assurance \"tpm\" is accepted", {}},
        {"disk_encryption", protocol::CheckOutcome::Fail, "Not encrypted: / (vda)",
         "Store these volumes on LUKS-encrypted devices."},
        {"firewall", protocol::CheckOutcome::Fail, "Inbound traffic\x1b[2J is not filtered", {}},
    };
    return result;
}

} // namespace

class TestAppraisalTable : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nonCompliant()
    {
        QCOMPARE(app::formatAppraisalTable(appraisal()),
                 std::string("Verdict: non_compliant (2 of 3 checks fail), appraised "
                             "2026-11-24T23:33:53Z\n"
                             "\n"
                             "CHECK            STATUS  SUMMARY\n"
                             "assurance        pass    Device key assurance \"tpm\" is accepted\n"
                             "disk_encryption  fail    Not encrypted: / (vda)\n"
                             "firewall         fail    Inbound traffic\\x1b[2J is not filtered\n"
                             "\n"
                             "To fix:\n"
                             "  disk_encryption: Store these volumes on LUKS-encrypted devices.\n"
                             "  firewall: (the verifier gave no advice)\n"
                             "\n"
                             "Next report due by 2026-11-24T23:48:53Z (appraisal "
                             "88c833e7-2a2b-4186-89ac-8d8f289ee30e)\n"));
    }

    void compliantInColour()
    {
        auto passing = appraisal();
        passing.verdict = protocol::Verdict::Compliant;
        passing.checks.resize(1);
        app::TableOptions options;
        options.color = true;
        QCOMPARE(app::formatAppraisalTable(passing, options),
                 std::string("Verdict: \033[32mcompliant\033[0m (0 of 1 checks fail), appraised "
                             "2026-11-24T23:33:53Z\n"
                             "\n"
                             "CHECK      STATUS  SUMMARY\n"
                             "assurance  \033[32mpass\033[0m    Device key assurance \"tpm\" is "
                             "accepted\n"
                             "\n"
                             "Next report due by 2026-11-24T23:48:53Z (appraisal "
                             "88c833e7-2a2b-4186-89ac-8d8f289ee30e)\n"));
    }

    void longSummariesAreCut()
    {
        auto wide = appraisal();
        wide.checks.resize(1);
        wide.checks[0].summary = std::string(200, 'x');
        app::TableOptions options;
        options.width = 60;
        const std::string table = app::formatAppraisalTable(wide, options);
        // 60 columns less the id (11) and status (8) columns: 41, the last one "…".
        QVERIFY2(table.find("assurance  pass    " + std::string(40, 'x') + "…\n") !=
                     std::string::npos,
                 table.c_str());
    }
};

QTEST_APPLESS_MAIN(TestAppraisalTable)
#include "tst_appraisaltable.moc"

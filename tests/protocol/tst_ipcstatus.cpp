#include "protocol/ipc/status.h"
#include "protocol/rfc3339.h"
#include "protocoltesthelpers.h"

#include <QTest>
#include <string>

using namespace vigil::protocol;
using namespace vigil::protocol::ipc;
using namespace vigil::protocol::test;
using nlohmann::json;

namespace {

TimePoint at(const char *text)
{
    return *parseRfc3339(text);
}

// A device the verifier found non-compliant: every member holds a value.
Status nonCompliant()
{
    Status status;
    status.state = AgentState::NonCompliant;
    status.reason = "1 check fails: firewall";
    status.enrollment = EnrollmentInfo{"8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764", Assurance::Tpm,
                                       "https://verifier.example.com:8443"};
    LastVerdict verdict;
    verdict.verdict = Verdict::NonCompliant;
    verdict.appraisedAt = at("2026-11-24T16:05:01Z");
    verdict.failingChecks.push_back(
        {"firewall", CheckOutcome::Fail, "No firewall is active", "Enable the firewall"});
    verdict.passingChecks.push_back({"os_version", CheckOutcome::Pass, "Debian 12.8", ""});
    status.lastVerdict = verdict;
    status.lastReportAt = at("2026-11-24T16:05:00Z");
    status.nextReportAt = at("2026-11-24T16:20:00Z");
    status.tokenExpiresAt = at("2026-11-24T16:10:00Z");
    status.verifierReachable = true;
    status.verifierLastError = "";
    return status;
}

json nonCompliantJson()
{
    return json::parse(
        "{\"state\":\"non_compliant\",\"reason\":\"1 check fails: firewall\","
        "\"enrollment\":{\"device_id\":\"8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764\","
        "\"assurance\":\"tpm\",\"server_url\":\"https://verifier.example.com:8443\"},"
        "\"last_verdict\":{\"verdict\":\"non_compliant\",\"appraised_at\":\"2026-11-24T16:05:01Z\","
        "\"failing_checks\":[{\"id\":\"firewall\",\"status\":\"fail\",\"summary\":\"No firewall "
        "is active\",\"remediation\":\"Enable the firewall\"}],"
        "\"passing_checks\":[{\"id\":\"os_version\",\"status\":\"pass\",\"summary\":"
        "\"Debian 12.8\"}]},"
        "\"last_report_at\":\"2026-11-24T16:05:00Z\",\"next_report_at\":\"2026-11-24T16:20:00Z\","
        "\"token\":{\"present\":true,\"expires_at\":\"2026-11-24T16:10:00Z\"},"
        "\"verifier\":{\"reachable\":true,\"last_error\":null}}");
}

} // namespace

class TestIpcStatus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void writesEveryMember()
    {
        QCOMPARE(nonCompliant().toJson(), nonCompliantJson());
        QCOMPARE(Status::fromJson(nonCompliantJson(), "/result").toJson(), nonCompliantJson());
    }

    void readsEveryMember()
    {
        const Status status = Status::fromJson(nonCompliantJson(), "/data");
        QCOMPARE(status.state, AgentState::NonCompliant);
        QCOMPARE(status.enrollment->assurance, Assurance::Tpm);
        QCOMPARE(status.lastVerdict->failingChecks.at(0).remediation,
                 std::string("Enable the firewall"));
        QCOMPARE(*status.tokenExpiresAt, at("2026-11-24T16:10:00Z"));
        QCOMPARE(status.lastVerdict->passingChecks.at(0).id, std::string("os_version"));
        QVERIFY(status.verifierReachable);
        QVERIFY(status.verifierLastError.empty());
    }

    // Before anything is known every nullable member is there, as null.
    void writesNullForWhatIsNotKnown()
    {
        Status status;
        status.verifierLastError = "connect: connection refused";
        const json expected = json::parse(
            "{\"state\":\"starting\",\"reason\":\"\",\"enrollment\":null,\"last_verdict\":null,"
            "\"last_report_at\":null,\"next_report_at\":null,"
            "\"token\":{\"present\":false,\"expires_at\":null},"
            "\"verifier\":{\"reachable\":false,\"last_error\":\"connect: connection refused\"}}");
        QCOMPARE(status.toJson(), expected);
        QCOMPARE(Status::fromJson(expected, "").toJson(), expected);
    }

    void everyStateHasItsName()
    {
        for (const char *name : {"starting", "not_enrolled", "enrolling", "compliant",
                                 "non_compliant", "offline", "revoked", "error"}) {
            const auto state = agentStateFromName(name);
            QVERIFY2(state, name);
            QCOMPARE(agentStateName(*state), std::string_view(name));
        }
        QVERIFY(!agentStateFromName("Compliant"));
    }

    void refusesEachFault_data()
    {
        QTest::addColumn<QByteArray>("pointer");
        QTest::addColumn<QByteArray>("value"); // JSON text; ignored with remove
        QTest::addColumn<bool>("remove");
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        const auto row = [](const char *name, const char *pointer, json value, const char *field,
                            const char *message, bool remove = false) {
            QTest::newRow(name) << QByteArray(pointer) << QByteArray::fromStdString(value.dump())
                                << remove << QByteArray(field) << QByteArray(message);
        };
        row("unknown member", "/uptime", 5, "/result/uptime",
            "unknown member (expected one of: enrollment, last_report_at, last_verdict, "
            "next_report_at, reason, state, token, verifier)");
        row("state missing", "/state", nullptr, "/result/state", "missing", true);
        row("state unknown", "/state", "asleep", "/result/state",
            "is not an agent state of docs/ipc.md");
        row("state wrong type", "/state", 3, "/result/state", "must be a string");
        row("reason missing", "/reason", nullptr, "/result/reason", "missing", true);
        row("reason null", "/reason", nullptr, "/result/reason", "must be a string");
        row("enrollment missing", "/enrollment", nullptr, "/result/enrollment", "missing", true);
        row("enrollment wrong type", "/enrollment", "tpm", "/result/enrollment",
            "must be a JSON object");
        row("enrollment unknown member", "/enrollment/ek", "x", "/result/enrollment/ek",
            "unknown member (expected one of: assurance, device_id, server_url)");
        row("assurance unknown", "/enrollment/assurance", "TPM", "/result/enrollment/assurance",
            "must be \"tpm\" or \"software\"");
        row("verdict unknown", "/last_verdict/verdict", "pass", "/result/last_verdict/verdict",
            "must be \"compliant\" or \"non_compliant\"");
        row("appraised_at with offset", "/last_verdict/appraised_at", "2026-11-24T17:05:01+01:00",
            "/result/last_verdict/appraised_at",
            "must be an RFC 3339 UTC time like 2026-11-24T16:05:00Z");
        row("failing checks not an array", "/last_verdict/failing_checks", json::object(),
            "/result/last_verdict/failing_checks", "must be an array");
        row("check passes", "/last_verdict/failing_checks/0/status", "pass",
            "/result/last_verdict/failing_checks/0/status",
            "must be \"fail\": only failing checks are listed");
        row("passing checks missing", "/last_verdict/passing_checks", nullptr,
            "/result/last_verdict/passing_checks", "missing", true);
        row("passing check fails", "/last_verdict/passing_checks/0/status", "fail",
            "/result/last_verdict/passing_checks/0/status",
            "must be \"pass\": only passing checks are listed");
        row("check unknown member", "/last_verdict/failing_checks/0/details", json::object(),
            "/result/last_verdict/failing_checks/0/details",
            "unknown member (expected one of: id, remediation, status, summary)");
        row("check id", "/last_verdict/failing_checks/0/id", "Fire-wall",
            "/result/last_verdict/failing_checks/0/id",
            "must be lower-case letters, digits and underscores");
        row("last report time wrong type", "/last_report_at", 1764000300, "/result/last_report_at",
            "must be an RFC 3339 UTC time like 2026-11-24T16:05:00Z");
        row("next report missing", "/next_report_at", nullptr, "/result/next_report_at", "missing",
            true);
        row("token present without time", "/token/expires_at", nullptr, "/result/token/expires_at",
            "must be a time when a token is present");
        row("token present not a boolean", "/token/present", "yes", "/result/token/present",
            "must be true or false");
        row("token itself", "/token/access_token", "eyJ", "/result/token/access_token",
            "unknown member (expected one of: expires_at, present)");
        row("reachable missing", "/verifier/reachable", nullptr, "/result/verifier/reachable",
            "missing", true);
        row("last error empty", "/verifier/last_error", "", "/result/verifier/last_error",
            "must not be empty");
    }

    void refusesEachFault()
    {
        QFETCH(QByteArray, pointer);
        QFETCH(QByteArray, value);
        QFETCH(bool, remove);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        const json body =
            mutated(nonCompliantJson(), pointer.toStdString(),
                    remove ? std::nullopt : std::optional<json>(json::parse(value.toStdString())));
        QCOMPARE_REJECTION(Status::fromJson(body, "/result"), field,
                           (field + ": " + message).constData());
    }

    void refusesATokenTimeWithoutAToken()
    {
        json body = nonCompliantJson();
        body["token"]["present"] = false;
        QCOMPARE_REJECTION(Status::fromJson(body, ""), "/token/expires_at",
                           "/token/expires_at: must be null when no token is present");
    }

    void refusesARepeatedCheck()
    {
        Status status = nonCompliant();
        status.lastVerdict->failingChecks.push_back(status.lastVerdict->failingChecks.front());
        QCOMPARE_REJECTION(Status::fromJson(status.toJson(), ""),
                           "/last_verdict/failing_checks/1/id",
                           "/last_verdict/failing_checks/1/id: repeats check \"firewall\"");
    }

    // A check is either failing or passing: the tray's details list each once.
    void refusesACheckBothFailingAndPassing()
    {
        Status status = nonCompliant();
        status.lastVerdict->passingChecks.push_back(
            {"firewall", CheckOutcome::Pass, "Inbound traffic is filtered", ""});
        QCOMPARE_REJECTION(Status::fromJson(status.toJson(), ""),
                           "/last_verdict/passing_checks/1/id",
                           "/last_verdict/passing_checks/1/id: repeats check \"firewall\"");
    }
};

QTEST_APPLESS_MAIN(TestIpcStatus)
#include "tst_ipcstatus.moc"

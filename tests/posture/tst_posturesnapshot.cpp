#include "fixturehost.h"
#include "posture/posturesnapshot.h"

#include <QtTest>

using namespace vigil::posture;

class TestPostureSnapshot : public QObject
{
    Q_OBJECT

private:
    static PostureSnapshot sample()
    {
        PostureSnapshot s;
        s.collectedAt = vigil::test::fixtureNow();
        s.duration = std::chrono::milliseconds(42);
        s.checks.push_back(CheckResult::pass("os", "Debian 12", {{"id", "debian"}}));
        s.checks.push_back(CheckResult::fail("firewall", "Inbound open", "Enable ufw"));
        s.checks.push_back(CheckResult::unknown("screen_lock", "no session"));
        return s;
    }

private Q_SLOTS:
    void wireForm()
    {
        const auto json = sample().toJson();
        QCOMPARE(json["schema_version"], 1);
        QCOMPARE(json["collected_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(json["duration_ms"], 42);
        QCOMPARE(json["checks"]["os"]["status"], "pass");
        QCOMPARE(json["checks"]["os"]["details"]["id"], "debian");
        QVERIFY(!json["checks"]["os"].contains("remediation"));
        QCOMPARE(json["checks"]["firewall"]["remediation"], "Enable ufw");
        QCOMPARE(json["checks"]["screen_lock"]["status"], "unknown");
        QCOMPARE(json["checks"]["screen_lock"]["reason"], "no session");
        QCOMPARE(json["checks"]["screen_lock"]["summary"], "Could not be determined: no session");
    }

    void roundTrip()
    {
        const auto original = sample();
        const auto parsed = PostureSnapshot::fromJson(original.toJson());
        QCOMPARE(parsed.toJson(), original.toJson());
        QCOMPARE(parsed.find("firewall")->status, CheckStatus::Fail);
        QVERIFY(!parsed.find("nope"));
    }

    void strictParsingNamesTheField_data()
    {
        QTest::addColumn<QString>("mutation");
        QTest::addColumn<QString>("error");
        QTest::newRow("version") << R"({"schema_version": 2})"
                                 << "field 'schema_version': unsupported version 2";
        QTest::newRow("version type") << R"({"schema_version": "1"})"
                                      << "field 'schema_version' must be an integer";
        QTest::newRow("time") << R"({"collected_at": "yesterday"})"
                              << "field 'collected_at' must be an RFC 3339 UTC time";
        // Found by fuzzing the verifier: beyond 2262 the conversion overflowed (UBSan).
        QTest::newRow("far future") << R"({"collected_at": "2426-01-01T00:00:00Z"})"
                                    << "field 'collected_at' is outside 1970-2262";
        QTest::newRow("before 1970") << R"({"collected_at": "1969-12-31T23:59:59Z"})"
                                     << "field 'collected_at' is outside 1970-2262";
        QTest::newRow("duration") << R"({"duration_ms": -1})"
                                  << "field 'duration_ms' must be an integer from 0 to 86400000";
        QTest::newRow("duration overflow")
            << R"({"checks": {"os": {"status": "pass", "summary": "", "details": {}, "duration_ms": 9223372036854775807}}})"
            << "checks.os: field 'duration_ms' must be an integer from 0 to 86400000";
        QTest::newRow("checks") << R"({"checks": []})"
                                << "field 'checks' must be an object";
        QTest::newRow("status")
            << R"({"checks": {"os": {"status": "ok", "summary": "", "details": {}, "duration_ms": 0}}})"
            << "checks.os: field 'status' must be pass, fail or unknown";
        QTest::newRow("remediation")
            << R"({"checks": {"fw": {"status": "fail", "summary": "", "details": {}, "duration_ms": 0}}})"
            << "checks.fw: missing field 'remediation'";
        QTest::newRow("reason type")
            << R"({"checks": {"fw": {"status": "unknown", "summary": "", "details": {}, "duration_ms": 0, "reason": 5}}})"
            << "checks.fw: field 'reason' must be a string";
        QTest::newRow("details")
            << R"({"checks": {"os": {"status": "pass", "summary": "", "details": [], "duration_ms": 0}}})"
            << "checks.os: field 'details' must be an object";
    }

    void strictParsingNamesTheField()
    {
        QFETCH(QString, mutation);
        QFETCH(QString, error);
        auto json = sample().toJson();
        json.merge_patch(nlohmann::json::parse(mutation.toStdString()));
        try {
            PostureSnapshot::fromJson(json);
            QFAIL("accepted an invalid snapshot");
        } catch (const std::invalid_argument &e) {
            QCOMPARE(QString::fromUtf8(e.what()), error);
        }
    }

    void notAnObject()
    {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 PostureSnapshot::fromJson(nlohmann::json::array()));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 PostureSnapshot::fromJson(nlohmann::json::object()));
    }
};

QTEST_APPLESS_MAIN(TestPostureSnapshot)
#include "tst_posturesnapshot.moc"

#include "independentpython.h"
#include "server/policy/policy.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>

using namespace vigil::server;
using vigil::Bytes;
using vigil::test::thrownMessage;

namespace {

const std::string pcr7Hex = "a3f5c1e0b2d4968778695a4b3c2d1e0f00112233445566778899aabbccddeeff";

QByteArray policyMessage(const std::string &text)
{
    return thrownMessage<PolicyError>([&] { parsePolicy(text); });
}

std::string withVersion(const std::string &members)
{
    return "{\"version\":1," + members + "}";
}

void writeFile(const std::string &path, const std::string &content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

} // namespace

class TestPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void omittedMembersTakeTheDocumentedDefaults()
    {
        const Policy policy = parsePolicy(R"({"version": 1})");
        QCOMPARE(policy.acceptedAssurance, std::vector<std::string>{"tpm"});
        QCOMPARE(policy.reportInterval.count(), 900);
        QCOMPARE(policy.gracePeriod.count(), 300);
        QCOMPARE(policy.tokenTtl.count(), 300);
        QCOMPARE(policy.nonceTtl.count(), 120);
        const std::map<std::string, std::string> versions{
            {"debian", "12"}, {"fedora", "41"}, {"rhel", "9"}, {"ubuntu", "22.04"}};
        QVERIFY(policy.minOsVersion == versions);
        QVERIFY(policy.allowOtherDistributions);
        QCOMPARE(policy.maxSecurityUpdates, std::optional<long long>(0));
        QCOMPARE(policy.maxDaysSinceUpdate, std::optional<long long>(30));
        QVERIFY(!policy.allowRebootRequired);
        QVERIFY(policy.requireDiskEncryption);
        QVERIFY(policy.requireFirewall);
        QVERIFY(policy.requireScreenLock);
        QCOMPARE(policy.maxScreenLockIdleSeconds, std::optional<long long>(900));
        QVERIFY(policy.requireSecureBoot);
        QVERIFY((policy.quotePcrs == std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7}));
        QVERIFY(policy.pcrReferenceValues.empty());
        QCOMPARE(policy.users.acceptedFactors, (std::vector<std::string>{"pin", "otp"}));
        QCOMPARE(policy.users.acceptedKeyAssurance, std::vector<std::string>{"tpm"});
        QCOMPARE(policy.users.maxAuthenticationAge.count(), 28800);
        QCOMPARE(policy.users.reauthenticateOn, (std::vector<std::string>{"unlock", "resume"}));
        QCOMPARE(policy.users.warnBefore.count(), 300);
        QVERIFY(policy.users.acceptsFactor("pin") && policy.users.acceptsFactor("otp"));
        QVERIFY(policy.users.acceptsKeyAssurance("tpm"));
        QVERIFY(!policy.users.acceptsKeyAssurance("software"));
        QVERIFY(policy == Policy{});
    }

    void defaultPolicyTextParsesToTheDefaults()
    {
        const auto text = defaultPolicyText();
        QVERIFY(parsePolicy(text) == Policy{});
        // Pretty, for an administrator to edit.
        QVERIFY(text.starts_with("{\n  \"version\": 1,\n"));
        QVERIFY(text.ends_with("}\n"));
    }

    // Every member of the schema spelled out in the default file, so none is left for an
    // administrator to discover; and an independent JSON parser sees no duplicate members.
    void defaultPolicyTextListsEveryMemberOnce()
    {
        QByteArray output, error;
        QVERIFY2(
            vigil::test::runPython("import json, sys\n"
                                   "def pairs(items):\n"
                                   "    keys = [k for k, v in items]\n"
                                   "    assert len(keys) == len(set(keys)), keys\n"
                                   "    return dict(items)\n"
                                   "d = json.loads(sys.stdin.read(), object_pairs_hook=pairs)\n"
                                   "print(' '.join(sorted(d)))\n"
                                   "print(' '.join(sorted(d['os']) + sorted(d['patch_level']) + "
                                   "sorted(d['screen_lock'])))\n"
                                   "print(' '.join(sorted(d['users'])))\n",
                                   QByteArray::fromStdString(defaultPolicyText()), output, error),
            error.constData());
        QCOMPARE(output, QByteArray("accepted_assurance disk_encryption firewall "
                                    "grace_period_seconds nonce_ttl_seconds os patch_level "
                                    "pcr_reference_values quote_pcrs report_interval_seconds "
                                    "screen_lock secure_boot token_ttl_seconds users version\n"
                                    "min_version other_distributions allow_reboot_required "
                                    "max_days_since_update max_security_updates "
                                    "max_idle_seconds required\n"
                                    "accepted_factors accepted_key_assurance "
                                    "max_authentication_age_seconds reauthenticate_on "
                                    "warn_before_seconds\n"));
    }

    void everyMemberIsRead()
    {
        const Policy policy = parsePolicy(R"({
            "version": 1,
            "accepted_assurance": ["tpm", "software"],
            "report_interval_seconds": 60,
            "grace_period_seconds": 0,
            "token_ttl_seconds": 600,
            "nonce_ttl_seconds": 3600,
            "os": {"min_version": {"debian": "11", "opensuse-leap": "15.6"},
                   "other_distributions": "deny"},
            "patch_level": {"max_security_updates": null, "max_days_since_update": 3650,
                            "allow_reboot_required": true},
            "disk_encryption": {"required": false},
            "firewall": {"required": false},
            "screen_lock": {"required": false, "max_idle_seconds": null},
            "secure_boot": {"required": false},
            "quote_pcrs": [7, 0, 14],
            "pcr_reference_values": {
                "7": ["A3F5C1E0B2D4968778695A4B3C2D1E0F00112233445566778899AABBCCDDEEFF",
                      "0000000000000000000000000000000000000000000000000000000000000000"],
                "14": ["a3f5c1e0b2d4968778695a4b3c2d1e0f00112233445566778899aabbccddeeff"]},
            "users": {"accepted_factors": ["otp"], "accepted_key_assurance": ["software", "tpm"],
                      "max_authentication_age_seconds": 604800, "reauthenticate_on": [],
                      "warn_before_seconds": 0}
        })");
        QCOMPARE(policy.users.acceptedFactors, std::vector<std::string>{"otp"});
        QVERIFY(!policy.users.acceptsFactor("pin"));
        // Kept in the documented order whatever the file's.
        QCOMPARE(policy.users.acceptedKeyAssurance, (std::vector<std::string>{"tpm", "software"}));
        QVERIFY(policy.users.acceptsKeyAssurance("software"));
        QCOMPARE(policy.users.maxAuthenticationAge.count(), 604800);
        QVERIFY(policy.users.reauthenticateOn.empty());
        QCOMPARE(policy.users.warnBefore.count(), 0);
        QCOMPARE(parsePolicy(withVersion(R"("users":{"reauthenticate_on":["resume","unlock"]})"))
                     .users.reauthenticateOn,
                 (std::vector<std::string>{"unlock", "resume"}));
        QCOMPARE(parsePolicy(withVersion(R"("users":{"max_authentication_age_seconds":300})"))
                     .users.maxAuthenticationAge.count(),
                 300);
        QCOMPARE(policy.acceptedAssurance, (std::vector<std::string>{"software", "tpm"}));
        QVERIFY(policy.acceptsAssurance("software"));
        QVERIFY(policy.acceptsAssurance("tpm"));
        QVERIFY(!policy.acceptsAssurance("TPM"));
        QCOMPARE(policy.reportInterval.count(), 60);
        QCOMPARE(policy.gracePeriod.count(), 0);
        QCOMPARE(policy.tokenTtl.count(), 600);
        QCOMPARE(policy.nonceTtl.count(), 3600);
        // The listed map replaces the default one rather than merging with it.
        const std::map<std::string, std::string> versions{{"debian", "11"},
                                                          {"opensuse-leap", "15.6"}};
        QVERIFY(policy.minOsVersion == versions);
        QVERIFY(!policy.allowOtherDistributions);
        QVERIFY(policy.checksOsVersion());
        QCOMPARE(policy.maxSecurityUpdates, std::nullopt);
        QCOMPARE(policy.maxDaysSinceUpdate, std::optional<long long>(3650));
        QVERIFY(policy.allowRebootRequired);
        QVERIFY(!policy.requireDiskEncryption);
        QVERIFY(!policy.requireFirewall);
        QVERIFY(!policy.requireScreenLock);
        QCOMPARE(policy.maxScreenLockIdleSeconds, std::nullopt);
        QVERIFY(!policy.requireSecureBoot);
        QVERIFY((policy.quotePcrs == std::vector<unsigned>{0, 7, 14}));
        const Bytes pcr7 = *vigil::fromHex(pcr7Hex);
        QCOMPARE(policy.pcrReferenceValues.size(), std::size_t(2));
        QVERIFY((policy.pcrReferenceValues.at(7) == std::vector<Bytes>{pcr7, Bytes(32, 0)}));
        QVERIFY((policy.pcrReferenceValues.at(14) == std::vector<Bytes>{pcr7}));
    }

    void osVersionCheckIsOffOnlyWithNoMinimumAndOthersAllowed()
    {
        const auto allowAll =
            parsePolicy(withVersion(R"("os":{"min_version":{},"other_distributions":"allow"})"));
        QVERIFY(allowAll.minOsVersion.empty());
        QVERIFY(!allowAll.checksOsVersion());
        const auto denyAll =
            parsePolicy(withVersion(R"("os":{"min_version":{},"other_distributions":"deny"})"));
        QVERIFY(denyAll.checksOsVersion());
    }

    void badEntryIsPointedAt_data()
    {
        QTest::addColumn<QByteArray>("document");
        QTest::addColumn<QByteArray>("message");
        auto row = [](const char *name, const std::string &document, const char *message) {
            QTest::newRow(name) << QByteArray::fromStdString(document) << QByteArray(message);
        };
        const std::string memberList =
            "version, accepted_assurance, report_interval_seconds, grace_period_seconds, "
            "token_ttl_seconds, nonce_ttl_seconds, os, patch_level, disk_encryption, firewall, "
            "screen_lock, secure_boot, quote_pcrs, pcr_reference_values, users";

        // The document and its version.
        row("not JSON", "{\"version\":1,", "not valid UTF-8 JSON at line 1, column 14");
        row("comment", "{\"version\":1 /* one */}", "not valid UTF-8 JSON at line 1, column 14");
        row("invalid UTF-8", "{\"version\":1,\"os\":{\"min_version\":{\"\xff\":\"1\"}}}",
            "not valid UTF-8 JSON at line 1, column 36");
        row("number beyond double", withVersion("\"grace_period_seconds\":1e400"),
            "not valid UTF-8 JSON at line 1, column 37");
        row("not JSON on a later line",
            "{\n  \"version\": 1,\n  \"os\": {\n    \"other_distributions\": allow\n  }\n}",
            "not valid UTF-8 JSON at line 4, column 28");
        row("NUL after the document", std::string("{\"version\":1}\0{}", 16),
            "not valid UTF-8 JSON at line 1, column 14");
        row("array", "[]", "expected a JSON object, got []");
        row("empty object", "{}", "/version: required member is missing");
        row("version as string", "{\"version\":\"1\"}",
            "/version: expected the integer 1, got \"1\"");
        row("version 1.0", "{\"version\":1.0}", "/version: expected the integer 1, got 1.0");
        row("version 2", "{\"version\":2}",
            "/version: unsupported version 2 (this verifier reads version 1)");

        // Unknown and duplicate members: a typo must never turn a rule off.
        row("unknown top-level member", withVersion("\"screenlock\":{}"),
            ("/screenlock: unknown member (expected one of: " + memberList + ")").c_str());
        row("unknown nested member", withVersion("\"screen_lock\":{\"max_idle_secs\":10}"),
            "/screen_lock/max_idle_secs: unknown member (expected one of: required, "
            "max_idle_seconds)");
        row("unknown member with / and ~", withVersion("\"os\":{\"a/b~c\":1}"),
            "/os/a~1b~0c: unknown member (expected one of: min_version, other_distributions)");
        row("duplicate top-level member",
            withVersion("\"firewall\":{\"required\":true},\"firewall\":{\"required\":false}"),
            "/firewall: duplicate member");
        row("duplicate nested member",
            withVersion("\"screen_lock\":{\"required\":true,\"required\":false}"),
            "/screen_lock/required: duplicate member");
        row("duplicate inside an array element",
            withVersion("\"quote_pcrs\":[0,[1,2],{\"a\":1,\"a\":2}]"),
            "/quote_pcrs/2/a: duplicate member");
        row("duplicate version", "{\"version\":1,\"version\":1}", "/version: duplicate member");

        // Timings.
        row("report interval too short", withVersion("\"report_interval_seconds\":59"),
            "/report_interval_seconds: expected an integer 60..86400, got 59");
        row("report interval as string", withVersion("\"report_interval_seconds\":\"900\""),
            "/report_interval_seconds: expected an integer 60..86400, got \"900\"");
        row("negative grace", withVersion("\"grace_period_seconds\":-1"),
            "/grace_period_seconds: expected an integer 0..86400, got -1");
        row("token TTL above the cap", withVersion("\"token_ttl_seconds\":601"),
            "/token_ttl_seconds: expected an integer 30..600, got 601");
        row("token TTL fractional", withVersion("\"token_ttl_seconds\":300.5"),
            "/token_ttl_seconds: expected an integer 30..600, got 300.5");
        row("nonce TTL huge", withVersion("\"nonce_ttl_seconds\":18446744073709551615"),
            "/nonce_ttl_seconds: expected an integer 10..3600, got 18446744073709551615");
        row("nonce TTL null", withVersion("\"nonce_ttl_seconds\":null"),
            "/nonce_ttl_seconds: expected an integer 10..3600, got null");

        // Users.
        row("users not an object", withVersion("\"users\":[]"),
            "/users: expected an object, got []");
        row("unknown users member", withVersion("\"users\":{\"factors\":[\"pin\"]}"),
            "/users/factors: unknown member (expected one of: accepted_factors, "
            "accepted_key_assurance, max_authentication_age_seconds, reauthenticate_on, "
            "warn_before_seconds)");
        row("no factor", withVersion("\"users\":{\"accepted_factors\":[]}"),
            "/users/accepted_factors: expected a non-empty array of \"pin\", \"otp\", got []");
        row("unknown factor", withVersion("\"users\":{\"accepted_factors\":[\"pin\",\"sms\"]}"),
            "/users/accepted_factors/1: expected one of \"pin\", \"otp\", got \"sms\"");
        row("repeated factor", withVersion("\"users\":{\"accepted_factors\":[\"otp\",\"otp\"]}"),
            "/users/accepted_factors/1: \"otp\" is listed twice");
        row("no key assurance", withVersion("\"users\":{\"accepted_key_assurance\":[]}"),
            "/users/accepted_key_assurance: expected a non-empty array of \"tpm\", "
            "\"software\", got []");
        row("key assurance as string",
            withVersion("\"users\":{\"accepted_key_assurance\":\"tpm\"}"),
            "/users/accepted_key_assurance: expected a non-empty array of \"tpm\", "
            "\"software\", got \"tpm\"");
        row("authentication age too short",
            withVersion("\"users\":{\"max_authentication_age_seconds\":299}"),
            "/users/max_authentication_age_seconds: expected an integer 300..604800, got 299");
        row("authentication age too long",
            withVersion("\"users\":{\"max_authentication_age_seconds\":604801}"),
            "/users/max_authentication_age_seconds: expected an integer 300..604800, got 604801");
        row("unknown event", withVersion("\"users\":{\"reauthenticate_on\":[\"lock\"]}"),
            "/users/reauthenticate_on/0: expected one of \"unlock\", \"resume\", got \"lock\"");
        row("events as null", withVersion("\"users\":{\"reauthenticate_on\":null}"),
            "/users/reauthenticate_on: expected an array of \"unlock\", \"resume\", got null");
        row("warning too early", withVersion("\"users\":{\"warn_before_seconds\":3601}"),
            "/users/warn_before_seconds: expected an integer 0..3600, got 3601");
        row("negative warning", withVersion("\"users\":{\"warn_before_seconds\":-1}"),
            "/users/warn_before_seconds: expected an integer 0..3600, got -1");

        // Assurance.
        row("no assurance", withVersion("\"accepted_assurance\":[]"),
            "/accepted_assurance: expected a non-empty array of \"tpm\" and \"software\", got "
            "[]");
        row("assurance as string", withVersion("\"accepted_assurance\":\"tpm\""),
            "/accepted_assurance: expected a non-empty array of \"tpm\" and \"software\", got "
            "\"tpm\"");
        row("misspelt assurance", withVersion("\"accepted_assurance\":[\"tpm\",\"sofware\"]"),
            "/accepted_assurance/1: expected \"tpm\" or \"software\", got \"sofware\"");
        row("repeated assurance", withVersion("\"accepted_assurance\":[\"tpm\",\"tpm\"]"),
            "/accepted_assurance/1: \"tpm\" is listed twice");

        // OS.
        row("os not an object", withVersion("\"os\":[]"), "/os: expected an object, got []");
        row("min_version not an object", withVersion("\"os\":{\"min_version\":[\"12\"]}"),
            "/os/min_version: expected an object mapping os-release IDs to versions, got "
            "[\"12\"]");
        row("upper-case ID", withVersion("\"os\":{\"min_version\":{\"Debian\":\"12\"}}"),
            "/os/min_version/Debian: not an os-release ID (1..64 of a-z, 0-9, '.', '_', '-')");
        row("version as number", withVersion("\"os\":{\"min_version\":{\"debian\":12}}"),
            "/os/min_version/debian: expected a version string (1..64 of A-Z, a-z, 0-9, '.', "
            "'_', '-', '~', '^', '+'), got 12");
        row("empty version", withVersion("\"os\":{\"min_version\":{\"debian\":\"\"}}"),
            "/os/min_version/debian: expected a version string (1..64 of A-Z, a-z, 0-9, '.', "
            "'_', '-', '~', '^', '+'), got \"\"");
        row("version with a space", withVersion("\"os\":{\"min_version\":{\"ubuntu\":\"22 04\"}}"),
            "/os/min_version/ubuntu: expected a version string (1..64 of A-Z, a-z, 0-9, '.', "
            "'_', '-', '~', '^', '+'), got \"22 04\"");
        row("other distributions", withVersion("\"os\":{\"other_distributions\":\"reject\"}"),
            "/os/other_distributions: expected \"allow\" or \"deny\", got \"reject\"");
        row("other distributions as boolean", withVersion("\"os\":{\"other_distributions\":false}"),
            "/os/other_distributions: expected \"allow\" or \"deny\", got false");

        // Patch level.
        row("patch_level not an object", withVersion("\"patch_level\":0"),
            "/patch_level: expected an object, got 0");
        row("negative security updates",
            withVersion("\"patch_level\":{\"max_security_updates\":-1}"),
            "/patch_level/max_security_updates: expected null or an integer 0..100000, got -1");
        row("days as string", withVersion("\"patch_level\":{\"max_days_since_update\":\"30\"}"),
            "/patch_level/max_days_since_update: expected null or an integer 0..3650, got "
            "\"30\"");
        row("days too many", withVersion("\"patch_level\":{\"max_days_since_update\":3651}"),
            "/patch_level/max_days_since_update: expected null or an integer 0..3650, got 3651");
        row("reboot null", withVersion("\"patch_level\":{\"allow_reboot_required\":null}"),
            "/patch_level/allow_reboot_required: expected true or false, got null");

        // Required-or-not rules.
        row("disk_encryption as boolean", withVersion("\"disk_encryption\":true"),
            "/disk_encryption: expected an object, got true");
        row("disk_encryption required as number",
            withVersion("\"disk_encryption\":{\"required\":1}"),
            "/disk_encryption/required: expected true or false, got 1");
        row("firewall enabled", withVersion("\"firewall\":{\"enabled\":true}"),
            "/firewall/enabled: unknown member (expected one of: required)");
        row("secure_boot null", withVersion("\"secure_boot\":null"),
            "/secure_boot: expected an object, got null");
        row("screen_lock required as string", withVersion("\"screen_lock\":{\"required\":\"yes\"}"),
            "/screen_lock/required: expected true or false, got \"yes\"");
        row("idle as word", withVersion("\"screen_lock\":{\"max_idle_seconds\":\"ten\"}"),
            "/screen_lock/max_idle_seconds: expected null or an integer 1..86400, got \"ten\"");
        row("idle zero", withVersion("\"screen_lock\":{\"max_idle_seconds\":0}"),
            "/screen_lock/max_idle_seconds: expected null or an integer 1..86400, got 0");
        row("idle above a day", withVersion("\"screen_lock\":{\"max_idle_seconds\":86401}"),
            "/screen_lock/max_idle_seconds: expected null or an integer 1..86400, got 86401");
        row("idle long string shown cut short",
            withVersion("\"screen_lock\":{\"max_idle_seconds\":\"" + std::string(100, 'x') + "\"}"),
            ("/screen_lock/max_idle_seconds: expected null or an integer 1..86400, got \"" +
             std::string(59, 'x') + "…")
                .c_str());

        // PCRs.
        row("quote_pcrs empty", withVersion("\"quote_pcrs\":[]"),
            "/quote_pcrs: expected a non-empty array of PCR indexes 0..23, got []");
        row("quote_pcrs 24", withVersion("\"quote_pcrs\":[0,24]"),
            "/quote_pcrs/1: expected an integer 0..23, got 24");
        row("quote_pcrs string", withVersion("\"quote_pcrs\":[\"7\"]"),
            "/quote_pcrs/0: expected an integer 0..23, got \"7\"");
        row("quote_pcrs repeated", withVersion("\"quote_pcrs\":[7,0,7]"),
            "/quote_pcrs/2: PCR 7 is listed twice");
        row("reference values not an object", withVersion("\"pcr_reference_values\":[]"),
            "/pcr_reference_values: expected an object mapping PCR indexes \"0\"..\"23\" to "
            "lists of SHA-256 values, got []");
        row("index with leading zero",
            withVersion("\"pcr_reference_values\":{\"07\":[\"" + pcr7Hex + "\"]}"),
            "/pcr_reference_values/07: expected a PCR index \"0\"..\"23\"");
        row("index 24", withVersion("\"pcr_reference_values\":{\"24\":[\"" + pcr7Hex + "\"]}"),
            "/pcr_reference_values/24: expected a PCR index \"0\"..\"23\"");
        row("index -1", withVersion("\"pcr_reference_values\":{\"-1\":[\"" + pcr7Hex + "\"]}"),
            "/pcr_reference_values/-1: expected a PCR index \"0\"..\"23\"");
        row("no reference values", withVersion("\"pcr_reference_values\":{\"7\":[]}"),
            "/pcr_reference_values/7: expected a non-empty array of at most 256 SHA-256 values "
            "(64 hex digits), got []");
        row("reference value not a list",
            withVersion("\"pcr_reference_values\":{\"7\":\"" + pcr7Hex + "\"}"),
            ("/pcr_reference_values/7: expected a non-empty array of at most 256 SHA-256 "
             "values (64 hex digits), got \"" +
             pcr7Hex.substr(0, 59) + "…")
                .c_str());
        row("reference value short",
            withVersion("\"pcr_reference_values\":{\"7\":[\"" + pcr7Hex + "\",\"abcd\"]}"),
            "/pcr_reference_values/7/1: expected a SHA-256 value (64 hex digits), got \"abcd\"");
        row("reference value not hex",
            withVersion("\"pcr_reference_values\":{\"7\":[\"" + std::string(63, 'a') + "g\"]}"),
            ("/pcr_reference_values/7/0: expected a SHA-256 value (64 hex digits), got \"" +
             std::string(59, 'a') + "…")
                .c_str());
        row("reference value SHA-384 length",
            withVersion("\"pcr_reference_values\":{\"7\":[\"" + std::string(96, 'a') + "\"]}"),
            ("/pcr_reference_values/7/0: expected a SHA-256 value (64 hex digits), got \"" +
             std::string(59, 'a') + "…")
                .c_str());
        row("reference value for an unquoted PCR",
            withVersion("\"pcr_reference_values\":{\"14\":[\"" + pcr7Hex + "\"]}"),
            "/pcr_reference_values/14: PCR 14 has reference values but is not in /quote_pcrs");
        row("reference value for a PCR dropped from quote_pcrs",
            withVersion("\"quote_pcrs\":[0],\"pcr_reference_values\":{\"7\":[\"" + pcr7Hex +
                        "\"]}"),
            "/pcr_reference_values/7: PCR 7 has reference values but is not in /quote_pcrs");

        // Size and depth.
        std::string deep = "[";
        for (int i = 0; i < 20; ++i)
            deep += "[";
        row("nested too deep", withVersion("\"os\":" + deep),
            "/os/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: nested deeper than 16 levels");
        row("too large", std::string(1024 * 1024 + 1, ' '), "larger than 1048576 bytes");
    }

    void badEntryIsPointedAt()
    {
        QFETCH(QByteArray, document);
        QFETCH(QByteArray, message);
        QCOMPARE(policyMessage(document.toStdString()), message);
    }

    void errorCarriesPointerAndProblemApart()
    {
        try {
            parsePolicy(withVersion("\"screen_lock\":{\"max_idle_seconds\":\"ten\"}"));
            QFAIL("no exception");
        } catch (const PolicyError &e) {
            QCOMPARE(e.pointer(), std::string("/screen_lock/max_idle_seconds"));
            QCOMPARE(e.problem(), std::string("expected null or an integer 1..86400, got \"ten\""));
        }
        try {
            parsePolicy("nope");
            QFAIL("no exception");
        } catch (const PolicyError &e) {
            QCOMPARE(e.pointer(), std::string());
        }
    }

    void byteOrderMarkIsSkipped()
    {
        QVERIFY(!parsePolicy("\xEF\xBB\xBF" + withVersion("\"firewall\":{\"required\":false}"))
                     .requireFirewall);
    }

    void largestAcceptedDocumentParses()
    {
        // 1 MiB exactly, mostly white space: the limit is on bytes, not members.
        std::string text = withVersion("\"firewall\":{\"required\":false}");
        text.resize(1024 * 1024, ' ');
        QVERIFY(!parsePolicy(text).requireFirewall);
    }

    void loadPolicyNamesTheFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("policy.json")).toStdString();
        QCOMPARE(thrownMessage<PolicyError>([&] { loadPolicy(path); }),
                 QByteArray::fromStdString(path + ": cannot open: No such file or directory"));

        writeFile(path, withVersion("\"grace_period_seconds\":\"5\""));
        try {
            loadPolicy(path);
            QFAIL("no exception");
        } catch (const PolicyError &e) {
            QCOMPARE(std::string(e.what()), path + ": /grace_period_seconds: expected an integer "
                                                   "0..86400, got \"5\"");
            QCOMPARE(e.pointer(), std::string("/grace_period_seconds"));
        }

        writeFile(path, std::string(1024 * 1024 + 1, ' '));
        QCOMPARE(thrownMessage<PolicyError>([&] { loadPolicy(path); }),
                 QByteArray::fromStdString(path + ": larger than 1048576 bytes"));

        writeFile(path, defaultPolicyText());
        QVERIFY(loadPolicy(path) == Policy{});

        QCOMPARE(thrownMessage<PolicyError>([&] { loadPolicy(dir.path().toStdString()); }),
                 QByteArray::fromStdString(dir.path().toStdString() + ": not a regular file"));
    }
};

QTEST_APPLESS_MAIN(TestPolicy)
#include "tst_policy.moc"

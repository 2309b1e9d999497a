// Runs the real vigilctl binary on this machine.
#include "fixturehost.h"
#include "posture/posturesnapshot.h"
#include "programrun.h"

#include <QtTest>

using namespace vigil;

namespace {

test::ProgramRun vigilctl(const QStringList &arguments)
{
    return test::runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl"), arguments);
}

const std::vector<std::string> allChecks = {"os",       "patch_level",    "disk_encryption",
                                            "firewall", "screen_lock",    "secure_boot",
                                            "tpm",      "device_identity"};

} // namespace

class TestVigilctl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void postureJsonIsAValidSnapshotOfEveryCheck()
    {
        const auto run = vigilctl({QStringLiteral("posture"), QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        const auto json = nlohmann::json::parse(run.out.toStdString());
        const auto snapshot = posture::PostureSnapshot::fromJson(json);
        QCOMPARE(snapshot.checks.size(), allChecks.size());
        for (const auto &id : allChecks) {
            const auto *check = snapshot.find(id);
            QVERIFY2(check, id.c_str());
            if (check->status == posture::CheckStatus::Unknown)
                QVERIFY2(!check->reason.empty(), id.c_str());
            if (check->status == posture::CheckStatus::Fail)
                QVERIFY2(!check->remediation.empty(), id.c_str());
        }
        // This machine's own answers, where they are certain.
        QCOMPARE(snapshot.find("os")->status, posture::CheckStatus::Pass);
    }

    void postureTableListsEveryCheck()
    {
        const auto run = vigilctl({QStringLiteral("posture")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.startsWith("Device posture at "));
        QVERIFY(!run.out.contains('\033')); // not a terminal: no colour codes
        for (const auto &id : allChecks)
            QVERIFY2(run.out.contains(("\n" + id + " ").c_str()), id.c_str());
    }

    void usageErrorsExitTwo_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("none") << QStringList{} << "vigilctl: no command given";
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")}
                                         << "vigilctl: unknown command 'frobnicate'";
        QTest::newRow("unknown option")
            << QStringList{QStringLiteral("posture"), QStringLiteral("--yaml")}
            << "vigilctl: unexpected argument '--yaml'";
    }

    void usageErrorsExitTwo()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const auto run = vigilctl(arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.startsWith(message.toUtf8()), run.err.constData());
        QVERIFY(run.err.contains("Usage: vigilctl"));
    }

    void help()
    {
        const auto run = vigilctl({QStringLiteral("--help")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("posture [--json]"));
    }

    void commandHelp()
    {
        const auto run =
            vigilctl({QStringLiteral("help"), QStringLiteral("tpm"), QStringLiteral("quote")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith("Usage: vigilctl tpm quote --nonce HEX --pcrs LIST --out DIR"),
                 run.out.constData());
        QVERIFY(run.out.contains("\n  --state-dir DIR "));
        QCOMPARE(
            vigilctl({QStringLiteral("tpm"), QStringLiteral("quote"), QStringLiteral("--help")})
                .out,
            run.out);
    }
};

QTEST_GUILESS_MAIN(TestVigilctl)
#include "tst_vigilctl.moc"

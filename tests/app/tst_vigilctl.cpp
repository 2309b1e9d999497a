// Runs the real vigilctl binary on this machine, on its own and against a scripted vigild.
#include "app/agent/statelock.h"
#include "fixturehost.h"
#include "posture/posturesnapshot.h"
#include "programrun.h"
#include "scriptedvigild.h"

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <unistd.h>

using namespace vigil;

namespace {

test::ProgramRun vigilctl(const QStringList &arguments, const test::ProgramOptions &options = {})
{
    return test::runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl"), arguments, options);
}

// The scripted vigild's answer to each method, and the requests it saw.
class Answers
{
public:
    std::map<std::string, std::string> byMethod; // method -> the response line, id "ID"

    test::Script script()
    {
        return [this](const nlohmann::json &request) {
            const std::lock_guard lock(m_mutex);
            m_requests.push_back(request);
            std::string line = byMethod.at(request["method"].get<std::string>());
            line.replace(line.find("\"ID\""), 4, request["id"].dump());
            return test::Reply{line};
        };
    }

    std::vector<nlohmann::json> requests()
    {
        const std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    std::mutex m_mutex;
    std::vector<nlohmann::json> m_requests;
};

const char *accessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";

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

    void withoutVigildTheCommandsThatNeedItExitFive_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("status") << QStringList{QStringLiteral("status")};
        QTest::newRow("status --json")
            << QStringList{QStringLiteral("status"), QStringLiteral("--json")};
        QTest::newRow("dpop") << QStringList{QStringLiteral("dpop"), QStringLiteral("--method"),
                                             QStringLiteral("GET"), QStringLiteral("--url"),
                                             QStringLiteral("https://example.com/")};
        // An explicit --socket never falls back to running in-process.
        QTest::newRow("report") << QStringList{QStringLiteral("report")};
        QTest::newRow("token") << QStringList{QStringLiteral("token")};
        QTest::newRow("posture") << QStringList{QStringLiteral("posture")};
    }

    void withoutVigildTheCommandsThatNeedItExitFive()
    {
        QFETCH(QStringList, arguments);
        const QString socket = m_directory.filePath(QStringLiteral("nobody-listens.sock"));
        const auto run = vigilctl(arguments + QStringList{QStringLiteral("--socket"), socket});
        QCOMPARE(run.exitCode, 5);
        QVERIFY(run.out.isEmpty());
        QCOMPARE(run.err, "vigilctl: vigild is not running or not reachable at " + socket.toUtf8() +
                              "\nvigilctl: start it with: systemctl start vigild\n");
    }

    void inProcessCommandsThatWriteStateRefuseWhileVigildHoldsIt_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::newRow("report") << QStringList{QStringLiteral("report")};
        QTest::newRow("token") << QStringList{QStringLiteral("token")};
        QTest::newRow("whoami") << QStringList{QStringLiteral("whoami")};
        QTest::newRow("enroll") << QStringList{QStringLiteral("enroll"),
                                               QStringLiteral("--server"),
                                               QStringLiteral("https://127.0.0.1:1"),
                                               QStringLiteral("--ca-file"),
                                               QStringLiteral("/nonexistent/ca.pem"),
                                               QStringLiteral("--token"),
                                               QStringLiteral("vgl_enr_0000")};
    }

    void inProcessCommandsThatWriteStateRefuseWhileVigildHoldsIt()
    {
        QFETCH(QStringList, arguments);
        QTemporaryDir state;
        // Below a directory of its own: StateLock refuses one whose parent others may change.
        const std::filesystem::path directory =
            std::filesystem::path(state.path().toStdString()) / "state";
        const agent::StateLock lock(directory); // as vigild takes it
        // Nothing listens on the socket, so vigilctl would run in-process.
        test::ProgramOptions options;
        options.environment.insert(QStringLiteral("VIGIL_SOCKET"),
                                   m_directory.filePath(QStringLiteral("nobody-listens.sock")));
        const auto run =
            vigilctl(arguments + QStringList{QStringLiteral("--state-dir"),
                                             QString::fromStdString(directory.string()),
                                             QStringLiteral("--tcti"), QStringLiteral("none")},
                     options);
        QCOMPARE(run.exitCode, 1);
        QVERIFY(run.out.isEmpty());
        const auto holder = agent::StateLock::isHeld(directory);
        QVERIFY(holder);
        QCOMPARE(run.err,
                 QByteArray::fromStdString(
                     "vigilctl: " + agent::vigildOwnsStateMessage(directory, *holder) + "\n"));
        QVERIFY(run.err.contains("vigild is running"));
        // Nothing was written: no software key, no enrollment.
        QVERIFY(!std::filesystem::exists(directory / "software"));
        QVERIFY(!std::filesystem::exists(directory / "enrollment.json"));
    }

    void statusThroughVigild()
    {
        Answers answers;
        answers.byMethod["status"] = test::responseLine("ID", test::nonCompliantStatus().toJson());
        const QString socket = m_directory.filePath(QStringLiteral("status.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());

        const auto table = vigilctl({QStringLiteral("status"), QStringLiteral("--socket"), socket});
        QCOMPARE(table.exitCode, 3);
        QVERIFY2(table.out.startsWith("State            non_compliant: 1 check fails: firewall\n"),
                 table.out.constData());
        QVERIFY(table.out.contains("  firewall: Inbound IPv4 and IPv6 traffic is not filtered\n"
                                   "    To fix: Turn on a host firewall: `sudo ufw enable`\n"));

        const auto json = vigilctl({QStringLiteral("status"), QStringLiteral("--json"),
                                    QStringLiteral("--socket"), socket});
        QCOMPARE(json.exitCode, 3);
        QCOMPARE(nlohmann::json::parse(json.out.toStdString()),
                 test::nonCompliantStatus().toJson());
        QCOMPARE(answers.requests().size(), std::size_t{2});
        QCOMPARE(answers.requests()[0]["method"], "status");
    }

    void reportThroughVigildWithoutSocketOption()
    {
        Answers answers;
        answers.byMethod["report"] = test::responseLine("ID", test::compliantStatus().toJson());
        const QString socket = m_directory.filePath(QStringLiteral("report.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        test::ProgramOptions options;
        options.environment.insert(QStringLiteral("VIGIL_SOCKET"), socket);
        const auto run = vigilctl({QStringLiteral("report")}, options);
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith("State            compliant\n"), run.out.constData());
        QCOMPARE(answers.requests().at(0)["method"], "report");
    }

    void aStateDirectoryWithoutSocketRunsInProcess()
    {
        Answers answers;
        answers.byMethod["report"] = test::responseLine("ID", test::compliantStatus().toJson());
        const QString socket = m_directory.filePath(QStringLiteral("statedir.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        QTemporaryDir state;
        test::ProgramOptions options;
        options.environment.insert(QStringLiteral("VIGIL_SOCKET"), socket);
        const auto run = vigilctl({QStringLiteral("report"), QStringLiteral("--state-dir"),
                                   state.path(), QStringLiteral("--tcti"), QStringLiteral("none")},
                                  options);
        QCOMPARE(run.exitCode, 4); // this directory's device is not enrolled
        QVERIFY2(run.err.contains("this device is not enrolled"), run.err.constData());
        QVERIFY(answers.requests().empty());
    }

    void errorsFromVigildHaveTheirExitStatus_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("exit");
        using protocol::ipc::ErrorCode;
        QTest::newRow("token not enrolled") << "token" << int(ErrorCode::NotEnrolled) << 4;
        QTest::newRow("token denied") << "token" << int(ErrorCode::PermissionDenied) << 6;
        QTest::newRow("report unavailable") << "report" << int(ErrorCode::Unavailable) << 1;
        QTest::newRow("report denied") << "report" << int(ErrorCode::PermissionDenied) << 6;
    }

    void errorsFromVigildHaveTheirExitStatus()
    {
        QFETCH(QString, command);
        QFETCH(int, code);
        QFETCH(int, exit);
        Answers answers;
        answers.byMethod[command.toStdString()] =
            test::errorLine("ID", static_cast<protocol::ipc::ErrorCode>(code), "vigild says no");
        const QString socket = m_directory.filePath(QStringLiteral("errors.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl({command, QStringLiteral("--socket"), socket});
        QCOMPARE(run.exitCode, exit);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.startsWith("vigilctl: vigild: vigild says no ("), run.err.constData());
    }

    void tokenThroughVigild()
    {
        Answers answers;
        answers.byMethod["token"] =
            test::responseLine("ID", {{"access_token", accessToken},
                                      {"token_type", "DPoP"},
                                      {"expires_at", "2026-11-24T16:11:32Z"}});
        const QString socket = m_directory.filePath(QStringLiteral("token.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const auto run = vigilctl({QStringLiteral("token"), QStringLiteral("--socket"), socket});
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, QByteArray(accessToken) + "\n");
        const auto json = vigilctl({QStringLiteral("token"), QStringLiteral("--json"),
                                    QStringLiteral("--socket"), socket});
        QCOMPARE(json.exitCode, 0);
        const auto parsed = nlohmann::json::parse(json.out.toStdString());
        QCOMPARE(parsed["access_token"], accessToken);
        QCOMPARE(parsed["token_type"], "DPoP");
    }

    void dpopThroughVigildWithTheAccessTokenFromStandardInput()
    {
        Answers answers;
        answers.byMethod["dpop"] = test::responseLine("ID", {{"proof", "eyJ.proof.sig"}});
        const QString socket = m_directory.filePath(QStringLiteral("dpop.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        test::ProgramOptions options;
        options.input = QByteArray(accessToken) + "\n";
        const auto run =
            vigilctl({QStringLiteral("dpop"), QStringLiteral("--method"), QStringLiteral("POST"),
                      QStringLiteral("--url"), QStringLiteral("https://api.example.com/v1/things"),
                      QStringLiteral("--access-token-file"), QStringLiteral("-"),
                      QStringLiteral("--socket"), socket},
                     options);
        QCOMPARE(run.exitCode, 0);
        QCOMPARE(run.out, "eyJ.proof.sig\n");
        const auto request = answers.requests().at(0);
        QCOMPARE(request["method"], "dpop");
        QCOMPARE(request["params"], (nlohmann::json{{"method", "POST"},
                                                    {"url", "https://api.example.com/v1/things"},
                                                    {"access_token", accessToken}}));
    }

    void enrollThroughVigildSendsTheTokenFromItsFile()
    {
        Answers answers;
        answers.byMethod["enroll"] = test::responseLine("ID", test::compliantStatus().toJson());
        const QString socket = m_directory.filePath(QStringLiteral("enroll.sock"));
        const test::ScriptedVigildThread vigild(socket, answers.script());
        const QString tokenFile = m_directory.filePath(QStringLiteral("enroll.token"));
        {
            std::ofstream(tokenFile.toStdString()) << "vgl_enr_4f2d9c1a7b3e8d6f0a5c2b9e1d7f3a8c\n";
            std::filesystem::permissions(tokenFile.toStdString(),
                                         std::filesystem::perms::owner_read |
                                             std::filesystem::perms::owner_write);
        }
        const auto run = vigilctl({QStringLiteral("enroll"), QStringLiteral("--token-file"),
                                   tokenFile, QStringLiteral("--socket"), socket});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith("State            compliant\n"), run.out.constData());
        QVERIFY(!run.out.contains("vgl_enr_") && !run.err.contains("vgl_enr_"));
        const auto request = answers.requests().at(0);
        QCOMPARE(request["method"], "enroll");
        QCOMPARE(request["params"]["token"], "vgl_enr_4f2d9c1a7b3e8d6f0a5c2b9e1d7f3a8c");

        // vigild enrolls with its own verifier: another one asked for is a usage error.
        const auto refused =
            vigilctl({QStringLiteral("enroll"), QStringLiteral("--token-file"), tokenFile,
                      QStringLiteral("--server"), QStringLiteral("https://elsewhere.example"),
                      QStringLiteral("--socket"), socket});
        QCOMPARE(refused.exitCode, 2);
        QCOMPARE(answers.requests().size(), std::size_t{1});
    }

private:
    QTemporaryDir m_directory;
};

QTEST_GUILESS_MAIN(TestVigilctl)
#include "tst_vigilctl.moc"

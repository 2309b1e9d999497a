// The built vigilctl binary enrolls, reports, gets tokens and calls whoami against the real
// verifier (in this process, over HTTPS) with a swtpm or a software key: exit statuses, what
// is printed, what is refused, and the state it leaves.
#include "app/agent/vigildconfig.h"
#include "app/client/enrollmenttoken.h"
#include "app/commands/verifiercommands.h"
#include "loopbackport.h"
#include "programrun.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/messages.h"
#include "server/admin/datadirectory.h"
#include "server/admin/sitedeployment.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

using namespace vigil;
using test::impossiblePolicy;
using test::lenientPolicy;
using test::SwtpmSimulator;
using test::TestVerifier;

namespace {

namespace fs = std::filesystem;

QString q(const std::string &text)
{
    return QString::fromStdString(text);
}

QString q(const fs::path &path)
{
    return QString::fromStdString(path.string());
}

QByteArray b(const std::string &text)
{
    return QByteArray::fromStdString(text);
}

} // namespace

class TestVerifierCommands : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_swtpm = std::make_unique<SwtpmSimulator>();
        m_verifier = std::make_unique<TestVerifier>(lenientPolicy, m_swtpm->caDirectory());
        m_fingerprint = q(server::certificateFingerprint(m_verifier->caFile()));
    }

    void tpmDeviceEnrollsReportsAndGetsTokens()
    {
        const QString state = directory("tpm");
        const auto enrolled =
            vigilctl(enrollArguments(state, tpmOption()) +
                     QStringList{QStringLiteral("--ca-fingerprint"), m_fingerprint});
        QVERIFY2(enrolled.exitCode == 0, enrolled.err.constData());
        QVERIFY2(enrolled.err.isEmpty(), enrolled.err.constData());
        const std::string url = m_verifier->url("");
        const std::string stateText = state.toStdString();
        const std::string fingerprint = m_fingerprint.toStdString();
        QVERIFY2(enrolled.out.startsWith(b("Enrolled with " + url + " as device ")),
                 enrolled.out.constData());
        QVERIFY(enrolled.out.contains(" (assurance tpm)\nReports every 900 s; PCRs quoted: "
                                      "0,1,2,3,4,5,6,7\n"));
        QVERIFY(enrolled.out.contains(
            b("verifier CA " + fingerprint + " pinned in " + stateText + "/verifier-ca.pem")));
        const auto saved = nlohmann::json::parse(readFile(stateText + "/enrollment.json"));
        const std::string deviceId = saved.at("device_id");
        QCOMPARE(saved.at("assurance").get<std::string>(), std::string("tpm"));
        QCOMPARE(q(saved.at("ca_fingerprint").get<std::string>()), m_fingerprint);
        QVERIFY(!fs::exists(stateText + "/verifier-ca.pem.new"));

        // Non-compliant: the verdict with the failing check and what to do, exit status 3.
        usePolicy(impossiblePolicy);
        const auto failing = vigilctl({QStringLiteral("report"), QStringLiteral("--state-dir"),
                                       state, QStringLiteral("--tcti"), tpmOption()});
        QVERIFY2(failing.exitCode == 3, failing.err.constData());
        QVERIFY2(failing.out.startsWith("Verdict: non_compliant (1 of 2 checks fail), appraised "),
                 failing.out.constData());
        QVERIFY(failing.out.contains("\nassurance   pass    "));
        QVERIFY(failing.out.contains("\nos_version  fail    "));
        QVERIFY(failing.out.contains("\nTo fix:\n  os_version: "));
        QVERIFY(failing.out.contains("\nNext report due by "));

        const auto refused = vigilctl({QStringLiteral("token"), QStringLiteral("--state-dir"),
                                       state, QStringLiteral("--tcti"), tpmOption()});
        QCOMPARE(refused.exitCode, 1);
        QVERIFY(refused.out.isEmpty());
        QVERIFY2(refused.err.startsWith(("vigilctl: no access token: not_compliant: the latest "
                                         "appraisal of device " +
                                         deviceId + " (")
                                            .c_str()),
                 refused.err.constData());
        QVERIFY(refused.err.endsWith(") found it non-compliant; fix the failing checks and "
                                     "report again\n"));

        // Compliant: exit status 0, then a token and whoami.
        usePolicy(lenientPolicy);
        const auto passing =
            vigilctl({QStringLiteral("report"), QStringLiteral("--json"),
                      QStringLiteral("--state-dir"), state, QStringLiteral("--tcti"), tpmOption()});
        QVERIFY2(passing.exitCode == 0, passing.err.constData());
        const auto appraisal =
            protocol::Appraisal::fromJson(nlohmann::json::parse(passing.out.toStdString()));
        QCOMPARE(appraisal.verdict, protocol::Verdict::Compliant);

        const auto token = vigilctl({QStringLiteral("token"), QStringLiteral("--state-dir"), state,
                                     QStringLiteral("--tcti"), tpmOption()});
        QVERIFY2(token.exitCode == 0, token.err.constData());
        QVERIFY(token.out.endsWith('\n'));
        QCOMPARE(token.out.count('\n'), 1);
        const auto jws = protocol::parseJws(token.out.trimmed().toStdString());
        QVERIFY(protocol::verifyJws(jws, m_verifier->tokenKey().publicKey()));
        QCOMPARE(nlohmann::json::parse(jws.payload).at("appraisal_id").get<std::string>(),
                 appraisal.appraisalId);

        const auto tokenJson =
            vigilctl({QStringLiteral("token"), QStringLiteral("--json"),
                      QStringLiteral("--state-dir"), state, QStringLiteral("--tcti"), tpmOption()});
        QCOMPARE(tokenJson.exitCode, 0);
        const auto response =
            protocol::TokenResponse::fromJson(nlohmann::json::parse(tokenJson.out.toStdString()));
        QCOMPARE(response.expiresIn, std::chrono::seconds(300));

        const auto whoami = vigilctl({QStringLiteral("whoami"), QStringLiteral("--state-dir"),
                                      state, QStringLiteral("--tcti"), tpmOption()});
        QVERIFY2(whoami.exitCode == 0, whoami.err.constData());
        QVERIFY2(whoami.out.startsWith(("Device           " + deviceId +
                                        "\nAssurance        tpm\n"
                                        "Key thumbprint   ")
                                           .c_str()),
                 whoami.out.constData());
        QVERIFY(whoami.out.contains(b("\nVerifier         " + url + "\n")));
        // whoami never shows the token.
        QVERIFY(!whoami.out.contains(token.out.trimmed().left(40)));
    }

    void softwareFallbackSaysSo()
    {
        const QString state = directory("software");
        const auto enrolled =
            vigilctl(enrollArguments(state, QStringLiteral("device:/nonexistent/tpmrm0")));
        QVERIFY2(enrolled.exitCode == 0, enrolled.err.constData());
        QCOMPARE(enrolled.err,
                 b("vigilctl: no TPM: /nonexistent/tpmrm0 does not exist (no TPM 2.0 in this "
                   "machine, TPM disabled in the firmware setup, or its driver is not loaded)\n"
                   "vigilctl: using the software device key " +
                   state.toStdString() + "/software/devicekey.pem instead (assurance software)\n"));
        QVERIFY(enrolled.out.contains(" (assurance software)\nReports every 900 s; no TPM quote "
                                      "(software key)\n"));

        // The enrolled software key is not the TPM's: using the TPM now is refused, by name.
        const auto mismatch = vigilctl({QStringLiteral("report"), QStringLiteral("--state-dir"),
                                        state, QStringLiteral("--tcti"), tpmOption()});
        QCOMPARE(mismatch.exitCode, 1);
        QVERIFY2(mismatch.err.contains("vigilctl: the device key here (tpm, thumbprint "),
                 mismatch.err.constData());
        QVERIFY(mismatch.err.contains(") is not the one enrolled as device "));

        const auto report = vigilctl({QStringLiteral("report"), QStringLiteral("--state-dir"),
                                      state, QStringLiteral("--tcti"), QStringLiteral("none")});
        QVERIFY2(report.exitCode == 0, report.err.constData());
        QVERIFY(report.err.startsWith("vigilctl: --tcti none: using the software device key "));
        QVERIFY(report.out.startsWith("Verdict: compliant (0 of 1 checks fail)"));
    }

    // A state directory copied from another machine (a disk image): without vigild, vigilctl
    // refuses it as vigild does, rather than reporting as the other machine.
    void anotherMachinesIdentityIsRefused()
    {
        const QString state = directory("cloned");
        const auto enrolled = vigilctl(enrollArguments(state, QStringLiteral("none")));
        QVERIFY2(enrolled.exitCode == 0, enrolled.err.constData());
        const std::string file = state.toStdString() + "/enrollment.json";
        auto json = nlohmann::json::parse(readFile(file));
        QVERIFY2(json["machine"].contains("machine_id"), json.dump().c_str());
        std::string id = json["machine"]["machine_id"];
        id.back() = id.back() == '0' ? '1' : '0';
        json["machine"]["machine_id"] = id;
        writeFile(file, json.dump(), fs::perms::owner_read | fs::perms::owner_write);

        const auto report = vigilctl({QStringLiteral("report"), QStringLiteral("--state-dir"),
                                      state, QStringLiteral("--tcti"), QStringLiteral("none")});
        QCOMPARE(report.exitCode, 1);
        QVERIFY2(report.err.contains("\nvigilctl: this machine's state directory holds another "
                                     "machine's identity (a cloned disk image?): the machine-id "
                                     "is not that of the machine where it enrolled as device "),
                 report.err.constData());
        QVERIFY(report.err.contains("; vigilctl does not use it. Fix: move "));
        QVERIFY(report.out.isEmpty());
    }

    void fingerprintMismatchIsRefused()
    {
        const QString state = directory("mismatch");
        const QString wrong = QStringLiteral("sha256:") + QString(64, QLatin1Char('0'));
        const auto run = vigilctl(enrollArguments(state, QStringLiteral("none")) +
                                  QStringList{QStringLiteral("--ca-fingerprint"), wrong});
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.err,
                 b("vigilctl: CA file '" + m_verifier->caFile().string() + "' has fingerprint " +
                   m_fingerprint.toStdString() + ", not the expected " + wrong.toStdString() +
                   "; refusing to trust it (is it the right verifier's ca.pem?)\n"));
        QVERIFY(!fs::exists(state.toStdString()));
    }

    void refusedEnrollmentLeavesNoState()
    {
        const QString state = directory("refused");
        QStringList arguments = enrollArguments(state, QStringLiteral("none"));
        arguments[arguments.indexOf(QStringLiteral("--token")) + 1] =
            QStringLiteral("vet1.unknown");
        const auto run = vigilctl(arguments);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.endsWith("vigilctl: enrollment refused: invalid_enrollment_token: the "
                                  "enrollment token is not known (at /enrollment_token)\n"),
                 run.err.constData());
        QVERIFY(!fs::exists(state.toStdString() + "/enrollment.json"));
        QVERIFY(!fs::exists(state.toStdString() + "/verifier-ca.pem"));
        QVERIFY(!fs::exists(state.toStdString() + "/verifier-ca.pem.new"));
    }

    void unreachableVerifier()
    {
        const QString state = directory("unreachable");
        const test::ClosedLoopbackPort closed;
        const int port = closed.port();
        QStringList arguments = enrollArguments(state, QStringLiteral("none"));
        const QString url = QStringLiteral("https://127.0.0.1:") + QString::number(port);
        arguments[arguments.indexOf(QStringLiteral("--server")) + 1] = url;
        const auto run = vigilctl(arguments);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.contains(b("\nvigilctl: cannot reach " + url.toStdString() +
                                    "/v1/enrollments: Failed to connect to 127.0.0.1 port " +
                                    std::to_string(port))),
                 run.err.constData());
        QVERIFY(!run.err.contains("vet1."));
    }

    void notEnrolled()
    {
        const QString state = directory("never");
        for (const char *command : {"report", "token", "whoami"}) {
            const auto run = vigilctl({QString::fromLatin1(command), QStringLiteral("--state-dir"),
                                       state, QStringLiteral("--tcti"), QStringLiteral("none")});
            QCOMPARE(run.exitCode, app::exitNotEnrolled);
            QCOMPARE(run.err, b("vigilctl: this device is not enrolled (no " + state.toStdString() +
                                "/enrollment.json); run vigilctl enroll first\n"));
        }
    }

    void enrollsWithTheTokenFromAFileOrStandardInput()
    {
        // A file only its owner reads: no warning.
        const std::string ownFile = directory("own-token").toStdString();
        const std::string token = m_verifier->createEnrollmentToken();
        writeFile(ownFile, token + "\n", fs::perms::owner_read | fs::perms::owner_write);
        auto run = vigilctl(withTokenFile(
            enrollArguments(directory("from-file"), QStringLiteral("none")), q(ownFile)));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(!run.err.contains("warning"), run.err.constData());
        QVERIFY(run.out.startsWith("Enrolled with "));

        // Standard input, with the newline echo leaves.
        run =
            vigilctl(withTokenFile(enrollArguments(directory("from-input"), QStringLiteral("none")),
                                   QStringLiteral("-")),
                     b(m_verifier->createEnrollmentToken() + "\n"));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY(run.out.startsWith("Enrolled with "));

        // A file every user may read is used, with a warning that names it (not the token).
        const std::string sharedFile = directory("shared-token").toStdString();
        const std::string sharedToken = m_verifier->createEnrollmentToken();
        writeFile(sharedFile, sharedToken,
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
        run = vigilctl(withTokenFile(
            enrollArguments(directory("from-shared-file"), QStringLiteral("none")), q(sharedFile)));
        QVERIFY2(run.exitCode == 0, run.err.constData());
        QVERIFY2(run.err.contains(b("vigilctl: warning: " + sharedFile +
                                    " can be read by every user of this machine, and an "
                                    "enrollment token is a secret (chmod o-r " +
                                    sharedFile + ")\n")),
                 run.err.constData());
        QVERIFY(!run.err.contains(b(sharedToken)));

        // A token file that cannot be read stops enrollment before anything is written.
        const QString state = directory("no-token-file");
        run = vigilctl(withTokenFile(enrollArguments(state, QStringLiteral("none")),
                                     directory("missing-token")));
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.err.endsWith(b("vigilctl: the enrollment token file " +
                                    directory("missing-token").toStdString() +
                                    " cannot be opened: No such file or directory\n")),
                 run.err.constData());
        QVERIFY(!fs::exists(state.toStdString() + "/enrollment.json"));
    }

    // What `vigil-verifier deploy` writes is what a machine enrolls with: vigild's own parser
    // takes its vigild.json, and its CA, fingerprint and counted token enroll.
    void deployedSiteFilesEnroll()
    {
        const fs::path out = directory("site").toStdString();
        server::DeployOptions options;
        options.site = "acme";
        options.serverUrl = m_verifier->url("");
        options.outDir = out;
        options.uses = 1;
        std::ostringstream printed, errors;
        QCOMPARE(server::deploySite(m_verifier->dataDirectory(), options,
                                    std::chrono::system_clock::now(), false, printed, errors),
                 0);
        const std::string fingerprint = server::certificateFingerprint(m_verifier->caFile());
        const auto config = agent::VigildConfig::parse(readFile((out / "vigild.json").string()));
        QCOMPARE(config.serverUrl, std::optional(m_verifier->url("")));
        QCOMPARE(config.caFile, std::optional(fs::path("/etc/vigil/verifier-ca.pem")));
        QCOMPARE(config.caFingerprint, std::optional(fingerprint));

        const auto enroll = [&](const char *state) {
            QStringList arguments = withTokenFile(
                enrollArguments(directory(state), QStringLiteral("none")), q(out / "enroll.token"));
            arguments[arguments.indexOf(QStringLiteral("--ca-file")) + 1] =
                q(out / "verifier-ca.pem");
            return vigilctl(arguments << QStringLiteral("--ca-fingerprint") << q(fingerprint));
        };
        const auto first = enroll("deployed-first");
        QVERIFY2(first.exitCode == 0, first.err.constData());
        QVERIFY(first.out.startsWith("Enrolled with "));
        const auto second = enroll("deployed-second");
        QCOMPARE(second.exitCode, 1);
        QVERIFY2(second.err.contains("the enrollment token has been used as often as it allows"),
                 second.err.constData());
    }

    void readEnrollmentTokenTakesOneTokenOnly()
    {
        std::ostringstream err;
        const auto read = [&](const std::string &content) {
            const std::string file = directory("token-under-test").toStdString();
            writeFile(file, content, fs::perms::owner_read | fs::perms::owner_write);
            std::istringstream unused;
            return app::readEnrollmentToken(file, unused, err);
        };
        const auto refusal = [&](const std::string &content) {
            try {
                read(content);
            } catch (const std::runtime_error &e) {
                return std::string(e.what());
            }
            return std::string("(accepted)");
        };
        const std::string file = directory("token-under-test").toStdString();
        const std::string prefix = "the enrollment token file " + file + " ";

        QCOMPARE(read("vet1.abc"), std::string("vet1.abc"));
        QCOMPARE(read(" \tvet1.abc\r\n\n"), std::string("vet1.abc"));
        QCOMPARE(refusal(""), prefix + "is empty; it should hold the token that vigil-verifier "
                                       "token create printed");
        QCOMPARE(refusal(" \n\n"), refusal(""));
        const std::string twoWords =
            prefix + "holds more than one word or a control character; it should hold only the "
                     "token";
        QCOMPARE(refusal("vet1.abc vet1.def"), twoWords);
        QCOMPARE(refusal("vet1.abc\nvet1.def\n"), twoWords);
        QCOMPARE(refusal(std::string("vet1.a\0bc", 9)), twoWords);
        QCOMPARE(refusal(std::string(4097, 'x')),
                 prefix + "is larger than 4096 bytes; it should hold only the token");
        QCOMPARE(read(std::string(4096, 'x')), std::string(4096, 'x'));
        QVERIFY(err.str().empty()); // the files were the owner's alone

        std::istringstream input("vet1.from-input\n");
        QCOMPARE(app::readEnrollmentToken("-", input, err), std::string("vet1.from-input"));
        std::istringstream empty;
        try {
            app::readEnrollmentToken("-", empty, err);
            QFAIL("an empty standard input was taken for a token");
        } catch (const std::runtime_error &e) {
            QCOMPARE(std::string(e.what()),
                     std::string("the enrollment token on standard input is empty; it should "
                                 "hold the token that vigil-verifier token create printed"));
        }
        const std::string folder = directory("a-folder").toStdString();
        fs::create_directories(folder);
        std::istringstream unused;
        try {
            app::readEnrollmentToken(folder, unused, err);
            QFAIL("a directory was taken for a token file");
        } catch (const std::runtime_error &e) {
            QCOMPARE(std::string(e.what()),
                     "the enrollment token file " + folder + " is not a regular file");
        }
        // A FIFO in its place is refused at once rather than waited on.
        const std::string fifo = directory("fifo").toStdString() + "/token";
        fs::create_directories(fs::path(fifo).parent_path());
        QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
        try {
            app::readEnrollmentToken(fifo, unused, err);
            QFAIL("a FIFO was taken for a token file");
        } catch (const std::runtime_error &e) {
            QCOMPARE(std::string(e.what()),
                     "the enrollment token file " + fifo + " is not a regular file");
        }
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("enroll without server")
            << QStringList{QStringLiteral("enroll"), QStringLiteral("--ca-file"),
                           QStringLiteral("ca.pem"), QStringLiteral("--token"), QStringLiteral("t")}
            << "vigilctl: enroll needs --server";
        QTest::newRow("enroll without token")
            << QStringList{QStringLiteral("enroll"), QStringLiteral("--server"),
                           QStringLiteral("https://x"), QStringLiteral("--ca-file"),
                           QStringLiteral("ca.pem")}
            << "vigilctl: enroll needs --token-file (or --token)";
        QTest::newRow("enroll with both tokens")
            << QStringList{QStringLiteral("enroll"),    QStringLiteral("--server"),
                           QStringLiteral("https://x"), QStringLiteral("--ca-file"),
                           QStringLiteral("ca.pem"),    QStringLiteral("--token"),
                           QStringLiteral("t"),         QStringLiteral("--token-file"),
                           QStringLiteral("f")}
            << "vigilctl: enroll takes --token-file or --token, not both";
        QTest::newRow("report with token")
            << QStringList{QStringLiteral("report"), QStringLiteral("--token"), QStringLiteral("t")}
            << "vigilctl: report does not take --token";
        QTest::newRow("token with server")
            << QStringList{QStringLiteral("token"), QStringLiteral("--server"), QStringLiteral("x")}
            << "vigilctl: token does not take --server";
        QTest::newRow("enroll with pcrs")
            << QStringList{QStringLiteral("enroll"), QStringLiteral("--pcrs"), QStringLiteral("0")}
            << "vigilctl: enroll does not take --pcrs";
        QTest::newRow("report extra word")
            << QStringList{QStringLiteral("report"), QStringLiteral("now")}
            << "vigilctl: unknown command 'report now'";
    }

    void usageErrors()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const auto run = vigilctl(arguments);
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.err.startsWith(message.toUtf8() + "\n"), run.err.constData());
    }

    // A test that fails half-way leaves the next one the lenient policy.
    void init() { usePolicy(lenientPolicy); }

    void cleanupTestCase()
    {
        m_verifier.reset();
        m_swtpm.reset();
    }

private:
    vigil::test::ProgramRun vigilctl(const QStringList &arguments, const QByteArray &input = {})
    {
        // vigilctl dates its reports and proofs by the system clock, and the verifier's clock
        // stands still unless moved: brought to the system's time before each run, a slow suite
        // (ASan on a busy machine) cannot outrun the verifier's 30 s leeway for a report's iat.
        m_verifier->clock().set(std::chrono::system_clock::now());
        vigil::test::ProgramOptions options;
        options.environment.remove(QStringLiteral("VIGIL_TCTI"));
        options.timeout = std::chrono::seconds(90);
        options.input = input;
        return vigil::test::runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl"), arguments,
                                       options);
    }

    void usePolicy(const char *policy)
    {
        if (m_policy != policy)
            m_verifier->setPolicy(policy);
        m_policy = policy;
    }

    QString directory(const char *name) const
    {
        return m_state.filePath(QString::fromLatin1(name));
    }
    QString tpmOption() const { return q(m_swtpm->tcti()); }

    QStringList enrollArguments(const QString &state, const QString &tcti)
    {
        return {QStringLiteral("enroll"),
                QStringLiteral("--server"),
                q(m_verifier->url("")),
                QStringLiteral("--ca-file"),
                q(m_verifier->caFile()),
                QStringLiteral("--token"),
                q(m_verifier->createEnrollmentToken()),
                QStringLiteral("--state-dir"),
                state,
                QStringLiteral("--tcti"),
                tcti};
    }

    static QStringList withTokenFile(QStringList arguments, const QString &file)
    {
        const auto at = arguments.indexOf(QStringLiteral("--token"));
        arguments[at] = QStringLiteral("--token-file");
        arguments[at + 1] = file;
        return arguments;
    }

    static void writeFile(const std::string &path, const std::string &content, fs::perms mode)
    {
        std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
        fs::permissions(path, mode);
    }

    static std::string readFile(const std::string &path)
    {
        QFile file(QString::fromStdString(path));
        if (!file.open(QIODevice::ReadOnly))
            qFatal("cannot read %s", path.c_str());
        return file.readAll().toStdString();
    }

    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    QString m_fingerprint;
    const char *m_policy = lenientPolicy;
};

QTEST_GUILESS_MAIN(TestVerifierCommands)
#include "tst_verifiercommands.moc"

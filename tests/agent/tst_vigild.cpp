// vigild end to end, every part real: swtpm, the vigil-verifier process over HTTPS on loopback,
// vigild, and vigilctl as its client. The suite moves into a network namespace of its own
// first, so that the kernel's link events it causes reach vigild and nothing else. Functions run
// in order and share one vigild (started by the first) unless they say otherwise.
#include "app/ipcclient/vigildclient.h"
#include "fakelogind.h"
#include "httpsclient.h"
#include "ipctestclient.h"
#include "privatebus.h"
#include "programrun.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"
#include "protocol/ipc/status.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "verifierprocess.h"
#include "vigildprocess.h"
#include "vigildstatus.h"

#include <QDBusConnection>
#include <QDBusConnectionInterface>
#include <QDBusMessage>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using test::impossiblePolicy;
using test::lenientPolicy;
using test::screenLockPolicy;
using test::tpmOnlyPolicy;
namespace fs = std::filesystem;
namespace ipc = protocol::ipc;

namespace {

QString q(const fs::path &path)
{
    return QString::fromStdString(path.string());
}

const QString vigilctlProgram = QStringLiteral(VIGIL_BINARY_DIR "/app/vigilctl");

bool runIp(const QStringList &arguments)
{
    const auto run = test::runProgram(QStringLiteral("/usr/sbin/ip"), arguments);
    if (run.exitCode != 0)
        qWarning().noquote() << "ip" << arguments.join(u' ') << "failed:" << run.err;
    return run.exitCode == 0;
}

} // namespace

class TestVigild : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_directory;
    fs::path m_root;
    std::unique_ptr<test::SwtpmSimulator> m_swtpm;
    std::unique_ptr<test::VerifierProcess> m_verifier;
    test::PrivateBus m_bus;
    std::unique_ptr<test::VigildProcess> m_vigild;
    std::string m_deviceId;
    bool m_ownNamespace = false;
    // Registered on the bus while a test plays logind's seat; outlives a failed test function.
    test::FakeLogind m_logindObjects;

    nlohmann::json config(const std::string &name, const std::string &tcti) const
    {
        return {{"server_url", m_verifier->baseUrl()},
                {"ca_file", m_verifier->caFile().string()},
                {"tcti", tcti},
                {"state_directory", (m_root / name / "state").string()},
                {"socket_path", (m_root / name / "run" / "vigild.sock").string()},
                // nogroup (65534) exists on every Debian system; the test plays a member.
                {"privileged_group", "nogroup"},
                {"log_level", "debug"}};
    }

    std::unique_ptr<test::VigildProcess> makeVigild(const std::string &name,
                                                    const std::string &tcti)
    {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        // Qt's system bus is this suite's private bus, where the test plays logind.
        environment.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_bus.address());
        return std::make_unique<test::VigildProcess>(m_root / name, config(name, tcti),
                                                     m_root / name / "enroll.token", environment);
    }

    void writeToken(const fs::path &file)
    {
        fs::create_directories(file.parent_path());
        std::ofstream(file) << m_verifier->createEnrollmentToken() << "\n";
        fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    }

    static test::ProgramRun vigilctl(const test::VigildProcess &vigild, QStringList arguments,
                                     const QStringList &as = {})
    {
        arguments << QStringLiteral("--socket") << q(vigild.socket());
        if (as.isEmpty())
            return test::runProgram(vigilctlProgram, arguments);
        // setpriv(1) runs vigilctl as another user: the kernel then gives vigild that uid.
        return test::runProgram(QStringLiteral("/usr/bin/setpriv"),
                                as + QStringList{QStringLiteral("--"), vigilctlProgram} +
                                    arguments);
    }

    static ipc::Status status(const test::VigildProcess &vigild)
    {
        return test::vigildStatus(vigild);
    }

    template <typename Done>
    static ipc::Status waitForStatus(const test::VigildProcess &vigild, Done done,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(30))
    {
        return test::waitForVigildStatus(vigild, done, timeout);
    }

    static QString describe(const ipc::Status &status)
    {
        return QString::fromStdString(status.toJson().dump());
    }

    void emitFromLogind(const QDBusMessage &signal)
    {
        QDBusConnection logind =
            QDBusConnection::connectToBus(m_bus.address(), QStringLiteral("logind"));
        QVERIFY(logind.isConnected());
        QVERIFY(logind.registerService(QStringLiteral("org.freedesktop.login1")));
        QVERIFY(logind.send(signal));
        // Routed before this call returns, so the signal is on its way before the name goes.
        logind.interface()->isServiceRegistered(QStringLiteral("org.freedesktop.login1"));
    }

    // A report caused by what action does: last_report_at moves on. Report times have whole
    // seconds, so the previous report is first made at least a second old.
    void expectReportAfter(const std::function<void()> &action)
    {
        const ipc::Status before = status(*m_vigild);
        QVERIFY(before.lastReportAt);
        QTest::qWait(1100);
        action();
        const ipc::Status after = waitForStatus(
            *m_vigild,
            [&](const ipc::Status &s) {
                return s.lastReportAt && *s.lastReportAt > *before.lastReportAt;
            },
            std::chrono::seconds(20));
        QVERIFY2(after.lastReportAt && *after.lastReportAt > *before.lastReportAt,
                 qPrintable(describe(after) + QString::fromUtf8(m_vigild->log().right(2000))));
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root: a network namespace, links in it, and callers of other uids");
        QVERIFY(m_directory.isValid());
        // Every user may reach the sockets below (the test calls as nobody).
        QVERIFY(::chmod(m_directory.path().toLocal8Bit().constData(), 0755) == 0);
        m_root = m_directory.path().toStdString();

        // A namespace of its own: the links the test makes reach vigild and nothing else.
        QVERIFY2(::unshare(CLONE_NEWNET) == 0, std::strerror(errno));
        QVERIFY(runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"),
                       QStringLiteral("up")}));

        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));

        m_swtpm = std::make_unique<test::SwtpmSimulator>();
        m_verifier = std::make_unique<test::VerifierProcess>(lenientPolicy, m_swtpm->caDirectory());
    }

    void cleanupTestCase()
    {
        m_vigild.reset();
        m_verifier.reset();
        m_swtpm.reset();
    }

    void enrollsFromTheTokenFileAndEarnsAToken()
    {
        m_vigild = makeVigild("tpm", m_swtpm->tcti());
        const fs::path token = m_root / "tpm" / "enroll.token";
        writeToken(token);
        QVERIFY2(m_vigild->start(), m_vigild->log().constData());

        const ipc::Status compliant = waitForStatus(*m_vigild, [](const ipc::Status &s) {
            return s.state == ipc::AgentState::Compliant && s.tokenExpiresAt;
        });
        QVERIFY2(compliant.state == ipc::AgentState::Compliant && compliant.tokenExpiresAt,
                 qPrintable(describe(compliant) + QString::fromUtf8(m_vigild->log())));
        QVERIFY(compliant.enrollment);
        QCOMPARE(compliant.enrollment->assurance, protocol::Assurance::Tpm);
        QVERIFY(compliant.nextReportAt);
        QVERIFY(compliant.verifierReachable);
        m_deviceId = compliant.enrollment->deviceId;
        QVERIFY2(!fs::exists(token), "the token file is deleted once it has been used");
        QVERIFY(!m_vigild->log().contains("vet1."));

        const auto shown = vigilctl(*m_vigild, {QStringLiteral("status")});
        QCOMPARE(shown.exitCode, 0);
        QVERIFY2(shown.out.contains(QByteArray::fromStdString(m_deviceId)), shown.out.constData());
        QVERIFY2(shown.out.contains("compliant"), shown.out.constData());
    }

    void aProtectedCallWithTheTokenAndAProof()
    {
        const auto token = vigilctl(*m_vigild, {QStringLiteral("token")});
        QCOMPARE(token.exitCode, 0);
        const QByteArray accessToken = token.out.trimmed();
        QVERIFY(accessToken.count('.') == 2);
        const fs::path tokenFile = m_root / "access.token";
        std::ofstream(tokenFile) << accessToken.toStdString();

        const std::string whoami = m_verifier->baseUrl() + "/v1/whoami";
        const auto proof = vigilctl(
            *m_vigild, {QStringLiteral("dpop"), QStringLiteral("--method"), QStringLiteral("GET"),
                        QStringLiteral("--url"), QString::fromStdString(whoami),
                        QStringLiteral("--access-token-file"), q(tokenFile)});
        QVERIFY2(proof.exitCode == 0, proof.err.constData());

        test::HttpsClient client(m_verifier->caFile());
        const auto response =
            client.get(whoami, {"Authorization: DPoP " + accessToken.toStdString(),
                                "DPoP: " + proof.out.trimmed().toStdString()});
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(nlohmann::json::parse(response.body).at("device_id").get<std::string>(),
                 m_deviceId);

        // Not for the verifier's own API: that would let the group act there as this device,
        // on its users' sign-in too.
        const auto refused = vigilctl(
            *m_vigild,
            {QStringLiteral("dpop"), QStringLiteral("--method"), QStringLiteral("POST"),
             QStringLiteral("--url"),
             QString::fromStdString(m_verifier->baseUrl() +
                                    "/v1/users/0b6f0c43-5f0e-4c9a-9d83-2d2b9a6f1e10/sessions")});
        QVERIFY(refused.exitCode != 0);
        QVERIFY2(refused.err.contains("no proof for its verifier's API"), refused.err.constData());
        QVERIFY(refused.out.isEmpty());
    }

    void theSocketAnswersWhileTheTpmIsSlow()
    {
        // The report's quote and signature wait on a TPM that does not answer; status must not.
        ipcclient::VigildClient reporter;
        reporter.connectAndWait(q(m_vigild->socket()), std::chrono::seconds(5));
        QSignalSpy answered(&reporter, &ipcclient::VigildClient::responseReceived);
        m_swtpm->pause();
        ipc::Request report;
        report.method = ipc::Method::Report;
        reporter.send(report);
        QTest::qWait(500); // posture is collected; the device thread now waits on the TPM
        std::vector<double> milliseconds;
        for (int i = 0; i < 5; ++i) {
            QElapsedTimer timer;
            timer.start();
            const ipc::Status answer = status(*m_vigild);
            milliseconds.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
            QCOMPARE(answer.state, ipc::AgentState::Compliant);
        }
        const bool stillWaiting = answered.isEmpty();
        m_swtpm->resume();
        QVERIFY2(stillWaiting, "the report finished though the TPM was stopped");
        std::sort(milliseconds.begin(), milliseconds.end());
        QVERIFY2(milliseconds[2] < 50.0,
                 qPrintable(QStringLiteral("status took %1 ms (median)").arg(milliseconds[2])));
        QVERIFY(answered.wait(20000));
        QVERIFY(!answered.at(0).at(0).value<ipc::Response>().error);
    }

    void oneVigildPerStateDirectory()
    {
        auto second = makeVigild("tpm", m_swtpm->tcti());
        QVERIFY(!second->start());
        QCOMPARE(second->waitForExit(), 1);
        const QByteArray expected =
            "another vigild (pid " + QByteArray::number(m_vigild->pid()) + ") holds";
        QVERIFY2(second->log().contains(expected), second->log().constData());
        QVERIFY(m_vigild->isRunning());

        // The in-process commands that would write the state refuse too.
        const auto inProcess = test::runProgram(
            vigilctlProgram,
            {QStringLiteral("report"), QStringLiteral("--state-dir"), q(m_root / "tpm" / "state")});
        QCOMPARE(inProcess.exitCode, 1);
        QVERIFY2(inProcess.err.contains("vigild is running (pid " +
                                        QByteArray::number(m_vigild->pid()) + ")"),
                 inProcess.err.constData());
    }

    void aNonCompliantVerdictWithholdsTheToken()
    {
        m_verifier->setPolicy(impossiblePolicy);
        const auto report = vigilctl(*m_vigild, {QStringLiteral("report")});
        QVERIFY2(report.exitCode == 3, report.out + report.err);

        const auto shown =
            vigilctl(*m_vigild, {QStringLiteral("status"), QStringLiteral("--json")});
        QCOMPARE(shown.exitCode, 3);
        const auto json = nlohmann::json::parse(shown.out.toStdString());
        QCOMPARE(json.at("state").get<std::string>(), std::string("non_compliant"));
        QCOMPARE(json.at("token").at("present").get<bool>(), false);
        const auto &failing = json.at("last_verdict").at("failing_checks");
        QCOMPARE(failing.size(), std::size_t(1));
        QCOMPARE(failing[0].at("id").get<std::string>(), std::string("os_version"));
        QVERIFY(!failing[0].at("remediation").get<std::string>().empty());

        const auto human = vigilctl(*m_vigild, {QStringLiteral("status")});
        QVERIFY2(human.out.contains("os_version") &&
                     human.out.contains(QByteArray::fromStdString(
                         failing[0].at("remediation").get<std::string>().substr(0, 30))),
                 human.out.constData());

        const auto token = vigilctl(*m_vigild, {QStringLiteral("token")});
        QCOMPARE(token.exitCode, 1);
        QVERIFY2(token.out.isEmpty(), token.out.constData());
        QVERIFY2(token.err.contains("1 check fails: os_version"), token.err.constData());

        m_verifier->setPolicy(lenientPolicy);
        QCOMPARE(vigilctl(*m_vigild, {QStringLiteral("report")}).exitCode, 0);
    }

    void anUnreachableVerifierIsOfflineUntilItReturns()
    {
        const qint64 pid = m_vigild->pid();
        m_verifier->stop();
        const auto report = vigilctl(*m_vigild, {QStringLiteral("report")});
        QCOMPARE(report.exitCode, 1);
        QVERIFY2(report.err.contains("cannot be reached"), report.err.constData());
        const ipc::Status offline = status(*m_vigild);
        QCOMPARE(offline.state, ipc::AgentState::Offline);
        QVERIFY(!offline.verifierReachable);
        QVERIFY(!offline.verifierLastError.empty());
        QVERIFY(offline.nextReportAt); // the retry

        m_verifier->start();
        QCOMPARE(vigilctl(*m_vigild, {QStringLiteral("report")}).exitCode, 0);
        const ipc::Status back = status(*m_vigild);
        QCOMPARE(back.state, ipc::AgentState::Compliant);
        QVERIFY(back.verifierReachable);
        QCOMPARE(m_vigild->pid(), pid);
    }

    void callersOutsideTheGroupGetStatusAndReports()
    {
        const QStringList nobody{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=1"),
                                 QStringLiteral("--clear-groups")};
        const auto shown = vigilctl(*m_vigild, {QStringLiteral("status")}, nobody);
        QVERIFY2(shown.exitCode == 0, shown.err.constData());
        const auto refused = vigilctl(*m_vigild, {QStringLiteral("token")}, nobody);
        QCOMPARE(refused.exitCode, 6);
        QVERIFY2(refused.err.contains("root and the group nogroup"), refused.err.constData());
        QVERIFY(refused.out.isEmpty());

        // They may ask for a report ("Check now"), but not twice within 30 s: the second is
        // refused with the wait. (The first may be too, when an earlier test just reported.)
        const auto first = vigilctl(*m_vigild, {QStringLiteral("report")}, nobody);
        QVERIFY2(first.exitCode == 0 || first.err.contains("ask again in"), first.err.constData());
        const auto second = vigilctl(*m_vigild, {QStringLiteral("report")}, nobody);
        QVERIFY2(second.exitCode != 0 && second.err.contains("s ago: ask again in"),
                 second.err.constData());

        // A member of the group through a supplementary group may.
        const QStringList member{QStringLiteral("--reuid=65534"), QStringLiteral("--regid=1"),
                                 QStringLiteral("--groups=65534")};
        const auto allowed = vigilctl(*m_vigild, {QStringLiteral("token")}, member);
        QVERIFY2(allowed.exitCode == 0, allowed.err.constData());
        QCOMPARE(allowed.out.trimmed().count('.'), 2);
    }

    void resumeAndUnlockStartAReport()
    {
        expectReportAfter([this] {
            QDBusMessage resumed =
                QDBusMessage::createSignal(QStringLiteral("/org/freedesktop/login1"),
                                           QStringLiteral("org.freedesktop.login1.Manager"),
                                           QStringLiteral("PrepareForSleep"));
            resumed << false;
            emitFromLogind(resumed);
        });
        expectReportAfter([this] {
            emitFromLogind(QDBusMessage::createSignal(
                QStringLiteral("/org/freedesktop/login1/session/_32"),
                QStringLiteral("org.freedesktop.login1.Session"), QStringLiteral("Unlock")));
        });
    }

    void aNetworkChangeStartsAReport()
    {
        // A veth pair made and brought up: real rtnetlink messages from the kernel.
        expectReportAfter([] {
            QVERIFY(runIp({QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("vt0"),
                           QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                           QStringLiteral("name"), QStringLiteral("vt1")}));
        });
        expectReportAfter([] {
            QVERIFY(runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("vt0"),
                           QStringLiteral("up")}));
            QVERIFY(runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("vt1"),
                           QStringLiteral("up")}));
        });
    }

    // The tray hands its user's screen lock to vigild, which reports the active session's: root's
    // here (the test, which logind names active), never nobody's while root is active.
    void theActiveSessionsScreenLockIsReported()
    {
        test::FakeLogind::registerTypes();
        m_verifier->setPolicy(screenLockPolicy);
        m_logindObjects.active = QStringLiteral("2");
        m_logindObjects.users = {{QStringLiteral("2"), ::geteuid()}};
        QDBusConnection logind =
            QDBusConnection::connectToBus(m_bus.address(), QStringLiteral("logind"));
        QVERIFY(logind.registerService(QStringLiteral("org.freedesktop.login1")));
        QVERIFY(logind.registerVirtualObject(test::logindPath, &m_logindObjects,
                                             QDBusConnection::SubPath));
        // Session 2, root's, became active on seat0, as logind announces it.
        QVERIFY(logind.send(test::activeSessionChanged(QStringLiteral("2"))));
        const QByteArray learnt = "the active session on seat0 is uid 0's";
        QVERIFY2(QTest::qWaitFor([&] { return m_vigild->log().contains(learnt); }, 10000),
                 m_vigild->log().right(3000).constData());

        const auto submit = [this](const nlohmann::json &screenLock, uid_t uid) {
            const std::string request =
                nlohmann::json{{"v", 1},
                               {"id", "tray-1"},
                               {"method", "session_posture"},
                               {"params", {{"checks", {{"screen_lock", screenLock}}}}}}
                    .dump();
            return nlohmann::json::parse(
                test::askAs(m_vigild->socket(), uid, uid == 0 ? 0 : test::nogroup, {}, request),
                nullptr, false);
        };
        const nlohmann::json taken = {
            {"v", 1}, {"id", "tray-1"}, {"result", nlohmann::json::object()}};
        const nlohmann::json neverLocks = {
            {"status", "fail"},
            {"summary", "KDE does not lock the screen when idle"},
            {"remediation",
             "System Settings → Screen Locking: turn on \"Lock screen automatically\"."},
            {"details",
             {{"lock_enabled", false}, {"seconds_to_lock", 300}, {"source", "kscreenlockerrc"}}},
            {"duration_ms", 1}};
        nlohmann::json locks = neverLocks;
        locks["status"] = "pass";
        locks["summary"] = "KDE locks the screen after 300 s idle";
        locks.erase("remediation");
        locks["details"]["lock_enabled"] = true;
        const auto screenLockFails = [](const ipc::Status &s) {
            return s.state == ipc::AgentState::NonCompliant && s.lastVerdict &&
                   s.lastVerdict->failingChecks.size() == 1 &&
                   s.lastVerdict->failingChecks[0].id == "screen_lock" &&
                   s.lastVerdict->failingChecks[0].summary ==
                       "The screen does not lock when the session is idle";
        };

        // A failing screen lock starts a report, whose verdict names it.
        // (A report ran moments ago: a session's change waits until 30 s after it.)
        QCOMPARE(submit(neverLocks, 0), taken);
        const ipc::Status failing =
            waitForStatus(*m_vigild, screenLockFails, std::chrono::seconds(45));
        QVERIFY2(screenLockFails(failing),
                 qPrintable(describe(failing) + QString::fromUtf8(m_vigild->log().right(3000))));
        const auto shown = vigilctl(*m_vigild, {QStringLiteral("status")});
        QCOMPARE(shown.exitCode, 3);
        QVERIFY2(shown.out.contains("screen_lock"), shown.out.constData());

        // nobody's session is not the active one: taken, but neither reported nor shown; and
        // root's same result again is no change.
        const auto reportedAt = status(*m_vigild).lastReportAt;
        QCOMPARE(submit(locks, test::nobody), taken);
        QCOMPARE(submit(neverLocks, 0), taken);
        const auto posture =
            vigilctl(*m_vigild, {QStringLiteral("posture"), QStringLiteral("--json")},
                     {QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"),
                      QStringLiteral("--clear-groups")});
        QVERIFY2(posture.exitCode == 0, posture.err.constData());
        QCOMPARE(nlohmann::json::parse(posture.out.toStdString())
                     .at("checks")
                     .at("screen_lock")
                     .at("status"),
                 "fail");
        QTest::qWait(3000); // longer than the trigger's debounce
        const ipc::Status unchanged = status(*m_vigild);
        QVERIFY(screenLockFails(unchanged));
        QCOMPARE(unchanged.lastReportAt, reportedAt);

        // A passing one makes the device compliant again, but no sooner than 30 s after the last
        // report: a session flipping its result cannot make vigild report back to back.
        QCOMPARE(submit(locks, 0), taken);
        const ipc::Status compliant = waitForStatus(
            *m_vigild, [](const ipc::Status &s) { return s.state == ipc::AgentState::Compliant; },
            std::chrono::seconds(45));
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(m_vigild->log().right(3000))));
        QVERIFY(*compliant.lastReportAt - *failing.lastReportAt >= std::chrono::seconds(29));

        // A hostile client: malformed params get an error, and vigild goes on.
        const auto refused = nlohmann::json::parse(
            test::askAs(m_vigild->socket(), test::nobody, test::nogroup, {},
                        R"({"v":1,"id":2,"method":"session_posture","params":{"checks":)"
                        R"({"screen_lock":{"status":"pass"}}}})"),
            nullptr, false);
        QCOMPARE(refused.at("error").at("code"), "invalid_params");
        QCOMPARE(status(*m_vigild).state, ipc::AgentState::Compliant);

        logind.unregisterObject(test::logindPath, QDBusConnection::UnregisterTree);
        m_verifier->setPolicy(lenientPolicy);
    }

    void aRestartKeepsTheIdentity()
    {
        QCOMPARE(m_vigild->stop(), 0);
        QVERIFY2(m_vigild->log().contains("stopping (signal 15)"), m_vigild->log().constData());
        QVERIFY(!fs::exists(m_vigild->socket()));
        const auto logBefore = m_vigild->log().size();

        QVERIFY2(m_vigild->start(), m_vigild->log().constData());
        const ipc::Status again = waitForStatus(
            *m_vigild, [](const ipc::Status &s) { return s.state == ipc::AgentState::Compliant; });
        QVERIFY2(again.state == ipc::AgentState::Compliant, qPrintable(describe(again)));
        QCOMPARE(again.enrollment->deviceId, m_deviceId);
        QVERIFY2(!m_vigild->log().mid(logBefore).contains("enrolling"),
                 m_vigild->log().mid(logBefore).constData());
        QCOMPARE(m_verifier->deviceCount(), 1);
    }

    void aRevokedDeviceIsToldToEnrollAgain()
    {
        m_verifier->revokeDevice(m_deviceId);
        const auto report = vigilctl(*m_vigild, {QStringLiteral("report")});
        QCOMPARE(report.exitCode, 1);
        const ipc::Status revoked = status(*m_vigild);
        QCOMPARE(revoked.state, ipc::AgentState::Revoked);
        QVERIFY2(revoked.reason.find("vigilctl enroll") != std::string::npos,
                 revoked.reason.c_str());
        QVERIFY(!revoked.tokenExpiresAt);
        QVERIFY(!revoked.nextReportAt);
        QCOMPARE(vigilctl(*m_vigild, {QStringLiteral("token")}).exitCode, 1);
        QCOMPARE(m_vigild->stop(), 0);
    }

    void aBadConfigurationIsRefusedByName()
    {
        const auto missing =
            test::runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigild"),
                             {QStringLiteral("--config"), q(m_root / "none.json")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.err.contains("none.json"), missing.err.constData());

        const fs::path file = m_root / "typo.json";
        std::ofstream(file) << R"({"server_ulr": "https://verifier.example.com"})";
        const auto typo = test::runProgram(QStringLiteral(VIGIL_BINARY_DIR "/app/vigild"),
                                           {QStringLiteral("--config"), q(file)});
        QCOMPARE(typo.exitCode, 1);
        QVERIFY2(typo.err.contains("/server_ulr"), typo.err.constData());
    }

    void withoutATokenItWaitsAndEnrollsThroughVigilctl()
    {
        auto vigild = makeVigild("manual", "none");
        QVERIFY2(vigild->start(), vigild->log().constData());
        const ipc::Status waiting = waitForStatus(
            *vigild, [](const ipc::Status &s) { return s.state == ipc::AgentState::NotEnrolled; });
        QVERIFY2(waiting.state == ipc::AgentState::NotEnrolled, qPrintable(describe(waiting)));
        QVERIFY2(waiting.reason.find("enroll.token") != std::string::npos, waiting.reason.c_str());
        QCOMPARE(vigilctl(*vigild, {QStringLiteral("status")}).exitCode, 4);
        QCOMPARE(vigilctl(*vigild, {QStringLiteral("token")}).exitCode, 4);

        // A token the verifier refuses: kept, retried later, the reason shown.
        const fs::path tokenFile = m_root / "manual" / "enroll.token";
        std::ofstream(tokenFile) << "vet1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
        const ipc::Status refused = waitForStatus(*vigild, [](const ipc::Status &s) {
            return s.state == ipc::AgentState::Enrolling &&
                   s.reason.find("enrollment failed") != std::string::npos;
        });
        QVERIFY2(refused.reason.find("enrollment failed") != std::string::npos,
                 qPrintable(describe(refused) + QString::fromUtf8(vigild->log())));
        QVERIFY(fs::exists(tokenFile));
        QVERIFY(!vigild->log().contains("vet1.AAAA"));
        fs::remove(tokenFile);

        const fs::path good = m_root / "manual" / "good.token";
        writeToken(good);
        const auto enrolled =
            vigilctl(*vigild, {QStringLiteral("enroll"), QStringLiteral("--token-file"), q(good)});
        QVERIFY2(enrolled.exitCode == 0, enrolled.out + enrolled.err);
        QVERIFY2(enrolled.out.contains("compliant"), enrolled.out.constData());
        QCOMPARE(status(*vigild).enrollment->assurance, protocol::Assurance::Software);
        const auto again =
            vigilctl(*vigild, {QStringLiteral("enroll"), QStringLiteral("--token-file"), q(good)});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.err.contains("enrolled already"), again.err.constData());
    }

    void aSoftwareKeyWhereThePolicyAllowsIt()
    {
        auto vigild = makeVigild("software", "none");
        writeToken(m_root / "software" / "enroll.token");
        QVERIFY2(vigild->start(), vigild->log().constData());
        const ipc::Status compliant = waitForStatus(
            *vigild, [](const ipc::Status &s) { return s.state == ipc::AgentState::Compliant; });
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(vigild->log())));
        QCOMPARE(compliant.enrollment->assurance, protocol::Assurance::Software);

        // Where the policy wants a TPM, the software key earns no token.
        m_verifier->setPolicy(tpmOnlyPolicy);
        const auto report = vigilctl(*vigild, {QStringLiteral("report")});
        QCOMPARE(report.exitCode, 3);
        const ipc::Status refused = status(*vigild);
        QCOMPARE(refused.state, ipc::AgentState::NonCompliant);
        QVERIFY(refused.lastVerdict);
        QCOMPARE(refused.lastVerdict->failingChecks.at(0).id, std::string("assurance"));
        QVERIFY(!refused.tokenExpiresAt);
        m_verifier->setPolicy(lenientPolicy);
    }
};

QTEST_GUILESS_MAIN(TestVigild)
#include "tst_vigild.moc"

// ScreenLockReporter against a stand-in for vigild on a real local socket, with the real
// collector over a fixture HOME (KDE's kscreenlockerrc, which needs no gsettings): what it sends
// at start, after the settings file changes and on resend(), each line read back with vigild's
// own request parser; nothing for a change that leaves the result as it was; failed() when
// vigild is not there or refuses.
#include "posture/host/commandrunner.h"
#include "posture/host/filesystem.h"
#include "posture/host/host.h"
#include "protocol/ipc/request.h"
#include "tests/app/scriptedvigild.h"
#include "ui/session/screenlockreporter.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <unistd.h>

using namespace vigil;
using posture::CheckResult;
using posture::CheckStatus;
using ui::ScreenLockReporter;
namespace ipc = protocol::ipc;
namespace fs = std::filesystem;

namespace {

// Written as KConfig writes it: a new file renamed over the old one.
void writeLockSettings(const fs::path &config, const std::string &daemon)
{
    fs::create_directories(config);
    const fs::path staged = config / "kscreenlockerrc.new";
    std::ofstream(staged) << "[Daemon]\n" << daemon;
    fs::rename(staged, config / "kscreenlockerrc");
}

// vigild's answer to session_posture: an empty result.
test::Reply taken(const nlohmann::json &request)
{
    return {test::responseLine(request.at("id"), nlohmann::json::object())};
}

} // namespace

class TestScreenLockReporter : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_directory;
    QString m_socket;
    fs::path m_config;

    std::shared_ptr<const posture::Host> host() const
    {
        return std::make_shared<const posture::Host>(
            std::make_shared<posture::FileSystem>("/"), std::make_shared<posture::ProcessRunner>(),
            std::make_shared<SystemClock>(),
            std::map<std::string, std::string>{
                {"HOME", m_directory.filePath(QStringLiteral("home")).toStdString()},
                {"XDG_CURRENT_DESKTOP", "KDE"}},
            ::geteuid());
    }

    // The screen_lock check of each request the stand-in received, read as vigild reads it.
    static std::vector<nlohmann::json> submissions(const test::ScriptedVigild &vigild)
    {
        std::vector<nlohmann::json> checks;
        for (const auto &line : vigild.lines()) {
            const ipc::Request request = ipc::parseRequest(line);
            if (request.method != ipc::Method::SessionPosture)
                throw std::runtime_error("not session_posture: " + line);
            checks.push_back(std::get<ipc::SessionPostureParams>(request.params).screenLock);
        }
        return checks;
    }

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_directory.isValid());
        m_socket = m_directory.filePath(QStringLiteral("vigild.sock"));
        m_config = m_directory.filePath(QStringLiteral("home/.config")).toStdString();
        fs::remove_all(m_config);
        writeLockSettings(m_config, "Autolock=false\n");
    }

    void sendsAtStartWhenTheSettingsChangeAndOnResend()
    {
        test::ScriptedVigild vigild(m_socket, taken);
        ScreenLockReporter reporter(m_socket, host());
        QSignalSpy sent(&reporter, &ScreenLockReporter::sent);
        QSignalSpy failed(&reporter, &ScreenLockReporter::failed);
        reporter.start();
        QVERIFY(sent.wait(10000));
        QCOMPARE(sent.at(0).at(0).value<CheckResult>().status, CheckStatus::Fail);
        auto checks = submissions(vigild);
        QCOMPARE(checks.size(), std::size_t(1));
        QCOMPARE(checks[0].at("status"), "fail");
        QCOMPARE(checks[0].at("details").at("lock_enabled"), false);

        // KDE's settings now lock after 5 minutes: a new submission, without being asked.
        writeLockSettings(m_config, "Autolock=true\nTimeout=5\n");
        QVERIFY(sent.wait(10000));
        QCOMPARE(sent.at(1).at(0).value<CheckResult>().status, CheckStatus::Pass);
        checks = submissions(vigild);
        QCOMPARE(checks.size(), std::size_t(2));
        QCOMPARE(checks[1].at("status"), "pass");
        QCOMPARE(checks[1].at("details").at("seconds_to_lock"), 300);

        // Another program's settings in the same directory: collected again, nothing to send.
        std::ofstream(m_config / "kdeglobals") << "[General]\nColorScheme=Breeze\n";
        QTest::qWait(int(ScreenLockReporter::settleTime.count()) + 700);
        QCOMPARE(sent.size(), 2);

        // vigild restarted: the tray asks for the last result again.
        reporter.resend();
        QVERIFY(sent.wait(10000));
        checks = submissions(vigild);
        QCOMPARE(checks.size(), std::size_t(3));
        QCOMPARE(checks[2].at("status"), "pass");
        QVERIFY2(failed.isEmpty(), qPrintable(failed.value(0).value(0).toString()));
    }

    void failsWithoutVigildAndSendsOnResend()
    {
        ScreenLockReporter reporter(m_socket, host());
        QSignalSpy sent(&reporter, &ScreenLockReporter::sent);
        QSignalSpy failed(&reporter, &ScreenLockReporter::failed);
        reporter.start();
        QVERIFY(failed.wait(10000));
        QVERIFY2(failed.at(0).at(0).toString().startsWith(
                     QStringLiteral("Cannot hand the screen lock to vigild: ")),
                 qPrintable(failed.at(0).at(0).toString()));

        test::ScriptedVigild vigild(m_socket, taken);
        reporter.resend();
        QVERIFY(sent.wait(10000));
        QCOMPARE(submissions(vigild).size(), std::size_t(1));
    }

    void aRefusalIsAFailure()
    {
        test::ScriptedVigild vigild(m_socket, [](const nlohmann::json &request) {
            return test::Reply{test::errorLine(request.at("id"), ipc::ErrorCode::InvalidParams,
                                               "must be an object")};
        });
        ScreenLockReporter reporter(m_socket, host());
        QSignalSpy failed(&reporter, &ScreenLockReporter::failed);
        reporter.start();
        QVERIFY(failed.wait(10000));
        QCOMPARE(failed.at(0).at(0).toString(),
                 QStringLiteral("Cannot hand the screen lock to vigild: must be an object"));
    }

    // Destroyed while a collection may still run: it finishes first, nothing arrives after.
    void destroyedMidCollection()
    {
        test::ScriptedVigild vigild(m_socket, taken);
        auto reporter = std::make_unique<ScreenLockReporter>(m_socket, host());
        reporter->start();
        reporter.reset();
        QTest::qWait(100);
    }
};

QTEST_GUILESS_MAIN(TestScreenLockReporter)
#include "tst_screenlockreporter.moc"

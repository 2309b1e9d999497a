// ConfigReloader: vigild's configuration file read again when it changes. In process, the
// reloader's own signals; then vigild end to end (swtpm, the vigil-verifier process over HTTPS
// on loopback): installed before the site's values were known, it enrolls once the file gets
// them, without a restart. Functions run in order and share one vigild from
// aVigildWithoutTheSiteValuesWaits on.
#include "app/agent/configreloader.h"
#include "privatebus.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "verifierprocess.h"
#include "vigildprocess.h"
#include "vigildstatus.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sys/stat.h>

using namespace vigil;
using agent::ConfigReloader;
using agent::VigildConfig;
using test::describe;
namespace fs = std::filesystem;
namespace ipc = protocol::ipc;

Q_DECLARE_METATYPE(vigil::agent::VigildConfig)

namespace {

// As an installer does: a temporary file renamed over the old one.
void writeAtomically(const fs::path &file, const std::string &text)
{
    const fs::path temporary = file.string() + ".new";
    std::ofstream(temporary) << text;
    fs::permissions(temporary, fs::perms::owner_read | fs::perms::owner_write |
                                   fs::perms::group_read | fs::perms::others_read);
    fs::rename(temporary, file);
}

} // namespace

class TestConfigReloader : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_directory;
    fs::path m_root;
    std::unique_ptr<test::SwtpmSimulator> m_swtpm;
    std::unique_ptr<test::VerifierProcess> m_verifier;
    test::PrivateBus m_bus;
    std::unique_ptr<test::VigildProcess> m_vigild;

    fs::path vigildDirectory() const { return m_root / "vigild"; }
    fs::path tokenFile() const { return vigildDirectory() / "enroll.token"; }

    // What a package installs before the site is known: vigild's own resources, no verifier.
    nlohmann::json defaults() const
    {
        return {{"tcti", m_swtpm->tcti()},
                {"state_directory", (vigildDirectory() / "state").string()},
                {"socket_path", (vigildDirectory() / "run" / "vigild.sock").string()},
                {"privileged_group", "nogroup"},
                {"log_level", "debug"}};
    }

    nlohmann::json siteConfig() const
    {
        nlohmann::json config = defaults();
        config["server_url"] = m_verifier->baseUrl();
        config["ca_file"] = m_verifier->caFile().string();
        return config;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_directory.isValid());
        m_root = m_directory.path().toStdString();
    }

    void cleanupTestCase()
    {
        m_vigild.reset();
        m_verifier.reset();
        m_swtpm.reset();
    }

    // In process: what the reloader reads and says.

    void aChangedFileIsReadAndAnnouncedOnce()
    {
        const fs::path file = m_root / "inprocess" / "vigild.json";
        fs::create_directories(file.parent_path());
        writeAtomically(file, "{\"log_level\": \"info\"}");
        ConfigReloader reloader(file, true);
        QVERIFY(reloader.isActive());
        QSignalSpy loaded(&reloader, &ConfigReloader::loaded);
        QSignalSpy refused(&reloader, &ConfigReloader::refused);

        writeAtomically(file, "{\"log_level\": \"debug\", \"server_url\": \"https://v.example\"}");
        QVERIFY(loaded.wait(5000));
        const auto config = loaded.at(0).at(0).value<VigildConfig>();
        QCOMPARE(config.logLevel, agent::LogLevel::Debug);
        QCOMPARE(config.serverUrl, std::optional<std::string>("https://v.example"));

        // Another file in the directory (the token) is no change of the configuration.
        std::ofstream(file.parent_path() / "enroll.token") << "vet1.x\n";
        QTest::qWait(1500);
        QCOMPARE(loaded.size(), 1);
        QCOMPARE(refused.size(), 0);
    }

    void aBadFileIsRefusedWithTheReasonOnce()
    {
        const fs::path file = m_root / "refused" / "vigild.json";
        fs::create_directories(file.parent_path());
        writeAtomically(file, "{}");
        ConfigReloader reloader(file, true);
        QSignalSpy loaded(&reloader, &ConfigReloader::loaded);
        QSignalSpy refused(&reloader, &ConfigReloader::refused);

        writeAtomically(file, "{\"server_uri\": \"https://v.example\"}");
        QVERIFY(refused.wait(5000));
        const QString reason = refused.at(0).at(0).toString();
        QVERIFY2(reason.contains(QString::fromStdString(file.string())), qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("/server_uri: unknown member")),
                 qPrintable(reason));

        // Unchanged since: refused once, however often the directory changes.
        std::ofstream(file.parent_path() / "other") << "x";
        QTest::qWait(1500);
        QCOMPARE(refused.size(), 1);
        QCOMPARE(loaded.size(), 0);
    }

    void aRemovedDefaultFileMeansTheDefaults()
    {
        // As at start: vigild's default file may be absent, a --config file must exist.
        const fs::path file = m_root / "removed" / "vigild.json";
        fs::create_directories(file.parent_path());
        writeAtomically(file, "{\"log_level\": \"debug\"}");
        ConfigReloader optional(file, false);
        ConfigReloader required(file, true);
        QSignalSpy loaded(&optional, &ConfigReloader::loaded);
        QSignalSpy refused(&required, &ConfigReloader::refused);
        fs::remove(file);
        QVERIFY(loaded.wait(5000));
        QVERIFY(loaded.at(0).at(0).value<VigildConfig>() == VigildConfig{});
        QTRY_COMPARE_WITH_TIMEOUT(refused.size(), 1, 5000);
        QVERIFY2(refused.at(0).at(0).toString().contains(QStringLiteral("does not exist")),
                 qPrintable(refused.at(0).at(0).toString()));
    }

    void resourcesTakenAtStartStayUntilTheNextStart()
    {
        VigildConfig running;
        VigildConfig changed;
        changed.serverUrl = "https://v.example";
        changed.proxy = "http://proxy.example:3128";
        changed.stateDirectory = "/elsewhere";
        changed.socketPath = "/run/elsewhere.sock";
        changed.privilegedGroup = "wheel";
        const VigildConfig next = agent::liveChanges(running, changed);
        QCOMPARE(next.serverUrl, changed.serverUrl);
        QCOMPARE(next.proxy, changed.proxy);
        QCOMPARE(next.stateDirectory, running.stateDirectory);
        QCOMPARE(next.socketPath, running.socketPath);
        QCOMPARE(next.privilegedGroup, running.privilegedGroup);
    }

    // vigild end to end.

    void aVigildWithoutTheSiteValuesWaits()
    {
        if (::geteuid() != 0)
            QSKIP("vigild's configuration must belong to root: run as root");
        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));
        m_swtpm = std::make_unique<test::SwtpmSimulator>();
        m_verifier =
            std::make_unique<test::VerifierProcess>(test::lenientPolicy, m_swtpm->caDirectory());
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_bus.address());
        m_vigild = std::make_unique<test::VigildProcess>(vigildDirectory(), defaults(), tokenFile(),
                                                         environment);
        fs::create_directories(vigildDirectory());
        std::ofstream(tokenFile()) << m_verifier->createEnrollmentToken() << "\n";
        fs::permissions(tokenFile(), fs::perms::owner_read | fs::perms::owner_write);
        QVERIFY2(m_vigild->start(), m_vigild->log().constData());

        const ipc::Status waiting = test::waitForVigildStatus(*m_vigild, [](const ipc::Status &s) {
            return s.state == ipc::AgentState::NotEnrolled;
        });
        QVERIFY2(waiting.state == ipc::AgentState::NotEnrolled, qPrintable(describe(waiting)));
        QVERIFY2(waiting.reason.find("no server_url and no ca_file") != std::string::npos,
                 qPrintable(describe(waiting)));
        QVERIFY(fs::exists(tokenFile()));
    }

    void aMalformedFileKeepsTheConfigurationAndSaysWhy()
    {
        if (!m_vigild)
            QSKIP("no vigild");
        // Half an installer's write: not JSON.
        writeAtomically(m_vigild->configFile(), "{\"server_url\": \"" + m_verifier->baseUrl());
        const ipc::Status refused = test::waitForVigildStatus(*m_vigild, [](const ipc::Status &s) {
            return s.reason.find("is refused") != std::string::npos;
        });
        QVERIFY2(refused.state == ipc::AgentState::NotEnrolled, qPrintable(describe(refused)));
        QVERIFY2(refused.reason.find("the changed configuration file is refused") !=
                         std::string::npos &&
                     refused.reason.find(m_vigild->configFile().string()) != std::string::npos &&
                     refused.reason.find("line 1") != std::string::npos,
                 qPrintable(describe(refused)));
        // The previous configuration stays: still waiting for the verifier's URL.
        QVERIFY2(refused.reason.find("no server_url and no ca_file") != std::string::npos,
                 qPrintable(describe(refused)));
        QVERIFY(fs::exists(tokenFile()));
        QCOMPARE(m_vigild->log().count("is refused, so vigild keeps"), 1);
        QVERIFY(m_vigild->isRunning());
    }

    void theSiteValuesEnrollWithoutARestart()
    {
        if (!m_vigild)
            QSKIP("no vigild");
        const qint64 pid = m_vigild->pid();
        writeAtomically(m_vigild->configFile(), siteConfig().dump(2));
        const ipc::Status compliant = test::waitForVigildStatus(
            *m_vigild, [](const ipc::Status &s) { return s.state == ipc::AgentState::Compliant; });
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(m_vigild->log())));
        QVERIFY(compliant.enrollment);
        QCOMPARE(compliant.enrollment->serverUrl, m_verifier->baseUrl());
        QVERIFY2(compliant.reason.find("refused") == std::string::npos,
                 qPrintable(describe(compliant)));
        QCOMPARE(m_vigild->pid(), pid);
        QVERIFY2(!fs::exists(tokenFile()), "the token file is deleted once it has been used");
        QCOMPARE(m_verifier->deviceCount(), 1);
    }

    void anEnrolledDeviceKeepsItsVerifier()
    {
        if (!m_vigild)
            QSKIP("no vigild");
        nlohmann::json elsewhere = siteConfig();
        elsewhere["server_url"] = "https://127.0.0.1:1";
        writeAtomically(m_vigild->configFile(), elsewhere.dump(2));
        const QByteArray expected =
            "the device is enrolled: the changed configuration takes effect";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!m_vigild->log().contains(expected) && std::chrono::steady_clock::now() < deadline)
            QTest::qWait(50);
        QVERIFY2(m_vigild->log().contains(expected), m_vigild->log().right(2000).constData());
        const ipc::Status status = test::vigildStatus(*m_vigild);
        QCOMPARE(status.state, ipc::AgentState::Compliant);
        QCOMPARE(status.enrollment->serverUrl, m_verifier->baseUrl());
    }
};

QTEST_GUILESS_MAIN(TestConfigReloader)
#include "tst_configreloader.moc"

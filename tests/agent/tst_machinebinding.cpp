// MachineBinding: the machine an identity was made on, and vigild refusing an identity copied
// from another machine (a cloned disk image). In process: reading a machine from a fixture tree,
// comparing, the strict `machine` member, moving an identity aside. Then vigild end to end
// (swtpm, the vigil-verifier process over HTTPS on loopback), each vigild on the machine-id the
// test gives it: a bind mount over /etc/machine-id in a mount namespace of vigild's own.
#include "app/client/enrollmentstate.h"
#include "app/client/machinebinding.h"
#include "core/bytes.h"
#include "core/sha256.h"
#include "posture/collectors/deviceidentitycollector.h"
#include "posture/host/filesystem.h"
#include "privatebus.h"
#include "protocol/problem.h"
#include "swtpmsimulator.h"
#include "testpolicies.h"
#include "verifierprocess.h"
#include "vigildprocess.h"
#include "vigildstatus.h"

#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <unistd.h>

using namespace vigil;
using app::MachineBinding;
using test::describe;
namespace fs = std::filesystem;
namespace ipc = protocol::ipc;

namespace {

constexpr const char *machineA = "0123456789abcdef0123456789abcdef";
constexpr const char *machineB = "fedcba9876543210fedcba9876543210";

void writeFile(const fs::path &file, const std::string &text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

nlohmann::json readJson(const fs::path &file)
{
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

std::string sha256Name(const std::string &text)
{
    return "sha256:" + toHex(sha256(text));
}

} // namespace

class TestMachineBinding : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_directory;
    fs::path m_root;
    test::PrivateBus m_bus;
    std::unique_ptr<test::SwtpmSimulator> m_swtpm;
    std::unique_ptr<test::SwtpmSimulator> m_otherSwtpm;
    std::unique_ptr<test::VerifierProcess> m_verifier;

    // A vigild in <root>/<name> on the TPM tcti (or the software key for "none"), seeing
    // machineId as /etc/machine-id.
    std::unique_ptr<test::VigildProcess>
    makeVigild(const std::string &name, const std::string &tcti, const std::string &machineId)
    {
        const fs::path directory = m_root / name;
        const nlohmann::json config = {
            {"server_url", m_verifier->baseUrl()},
            {"ca_file", m_verifier->caFile().string()},
            {"tcti", tcti},
            {"state_directory", (directory / "state").string()},
            {"socket_path", (directory / "run" / "vigild.sock").string()},
            {"privileged_group", "nogroup"},
            {"log_level", "debug"}};
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_bus.address());
        auto vigild =
            std::make_unique<test::VigildProcess>(directory, config, tokenFile(name), environment);
        const fs::path machineIdFile = directory / "machine-id";
        writeFile(machineIdFile, machineId + "\n");
        // The machine this vigild runs on, as far as its identity can tell: the mount is
        // vigild's alone and goes with it.
        vigild->setWrapper({QStringLiteral("/usr/bin/unshare"), QStringLiteral("--mount"),
                            QStringLiteral("--propagation"), QStringLiteral("private"),
                            QStringLiteral("--"), QStringLiteral("/bin/sh"), QStringLiteral("-c"),
                            QStringLiteral("mount --bind \"$0\" /etc/machine-id && exec \"$@\""),
                            QString::fromStdString(machineIdFile.string())});
        return vigild;
    }

    fs::path tokenFile(const std::string &name) const { return m_root / name / "enroll.token"; }
    fs::path stateDirectory(const std::string &name) const { return m_root / name / "state"; }

    void writeToken(const std::string &name)
    {
        writeFile(tokenFile(name), m_verifier->createEnrollmentToken() + "\n");
        fs::permissions(tokenFile(name), fs::perms::owner_read | fs::perms::owner_write);
    }

    static ipc::Status waitFor(const test::VigildProcess &vigild, ipc::AgentState state)
    {
        return test::waitForVigildStatus(
            vigild, [state](const ipc::Status &s) { return s.state == state; });
    }

    // Enrolls a new vigild `name` and stops it: its state directory holds an identity.
    void enrollAndStop(const std::string &name, const std::string &tcti,
                       const std::string &machineId)
    {
        auto vigild = makeVigild(name, tcti, machineId);
        writeToken(name);
        QVERIFY2(vigild->start(), vigild->log().constData());
        const ipc::Status compliant = waitFor(*vigild, ipc::AgentState::Compliant);
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(vigild->log())));
        QCOMPARE(vigild->stop(), 0);
    }

    // A vigild whose state directory holds another machine's identity: refused, with the fix.
    void expectRefused(test::VigildProcess &vigild, const std::string &what)
    {
        // The log file is the directory's: earlier vigilds there wrote to it too.
        const auto logBefore = vigild.log().size();
        QVERIFY2(vigild.start(), vigild.log().constData());
        const ipc::Status refused = waitFor(vigild, ipc::AgentState::NotEnrolled);
        QVERIFY2(refused.state == ipc::AgentState::NotEnrolled,
                 qPrintable(describe(refused) + QString::fromUtf8(vigild.log())));
        qInfo("refused: %s", refused.reason.c_str());
        QVERIFY2(refused.reason.starts_with(app::foreignIdentityPrefix),
                 qPrintable(describe(refused)));
        QVERIFY2(refused.reason.find(what) != std::string::npos, qPrintable(describe(refused)));
        QVERIFY2(refused.reason.find("put a new enrollment token in") != std::string::npos,
                 qPrintable(describe(refused)));
        QVERIFY(!refused.enrollment);
        QVERIFY(!refused.lastReportAt);
        // Nothing was sent with it: no report, so no verdict in the log.
        QVERIFY2(!vigild.log().mid(logBefore).contains("verdict "), vigild.log().constData());
    }

    // With a token, the foreign identity goes aside (kept) and the machine enrolls anew.
    void expectEnrolledAnew(test::VigildProcess &vigild, const std::string &name,
                            const std::string &oldDeviceId)
    {
        const int devicesBefore = m_verifier->deviceCount();
        writeToken(name);
        const ipc::Status compliant = waitFor(vigild, ipc::AgentState::Compliant);
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(vigild.log())));
        QVERIFY(compliant.enrollment);
        QVERIFY(compliant.enrollment->deviceId != oldDeviceId);
        QCOMPARE(m_verifier->deviceCount(), devicesBefore + 1);
        QVERIFY(!fs::exists(tokenFile(name)));
        QVERIFY2(vigild.log().contains("moved it to"), vigild.log().constData());
        int aside = 0;
        for (const auto &entry : fs::directory_iterator(stateDirectory(name))) {
            if (!entry.path().filename().string().starts_with("cloned-identity-"))
                continue;
            ++aside;
            QCOMPARE(readJson(entry.path() / "enrollment.json").at("device_id").get<std::string>(),
                     oldDeviceId);
        }
        QCOMPARE(aside, 1);
    }

    std::string deviceIdOf(const std::string &name) const
    {
        return readJson(stateDirectory(name) / "enrollment.json").at("device_id");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_directory.isValid());
        m_root = m_directory.path().toStdString();
    }

    void cleanupTestCase()
    {
        m_verifier.reset();
        m_otherSwtpm.reset();
        m_swtpm.reset();
    }

    // In process.

    void readsTheMachineFromItsFiles()
    {
        const fs::path machine = m_root / "fixture";
        writeFile(machine / "etc/machine-id", std::string(machineA) + "\n");
        writeFile(machine / "sys/class/dmi/id/product_uuid",
                  "4C4C4544-0042-3510-8052-B4C04F4E3232\n");
        const MachineBinding binding =
            app::readMachineBinding(posture::FileSystem(machine), nullptr);
        QVERIFY(binding.machineId == posture::appSpecificMachineId(machineA, posture::vigilAppId));
        QVERIFY(binding.productUuid == sha256Name("4c4c4544-0042-3510-8052-b4c04f4e3232"));
        QVERIFY(!binding.tpmEndorsementKey);

        // Unreadable or a placeholder: not recorded, so never compared.
        writeFile(machine / "sys/class/dmi/id/product_uuid",
                  "00000000-0000-0000-0000-000000000000\n");
        fs::remove(machine / "etc/machine-id");
        const MachineBinding bare = app::readMachineBinding(posture::FileSystem(machine), nullptr);
        QVERIFY(!bare.machineId);
        QVERIFY(!bare.productUuid);
    }

    void differencesAreWhatIsReadableAndDiffers()
    {
        MachineBinding recorded;
        recorded.machineId = posture::appSpecificMachineId(machineA, posture::vigilAppId);
        recorded.productUuid = sha256Name("a");
        recorded.tpmEndorsementKey = sha256Name("ek");
        MachineBinding now = recorded;
        QVERIFY(app::machineDifferences(recorded, now).empty());
        now.machineId = posture::appSpecificMachineId(machineB, posture::vigilAppId);
        now.productUuid.reset(); // root-only: vigilctl cannot read it
        now.tpmEndorsementKey = sha256Name("other ek");
        QVERIFY(app::machineDifferences(recorded, now) ==
                (std::vector<std::string>{"the TPM (its endorsement key)", "the machine-id"}));
    }

    void theMemberIsStrict_data()
    {
        QTest::addColumn<QByteArray>("machine");
        QTest::addColumn<QString>("error");
        QTest::newRow("not an object") << QByteArray("[]") << "/machine: must be a JSON object";
        QTest::newRow("unknown member")
            << QByteArray("{\"machine-id\": \"x\"}") << "/machine/machine-id: unknown member";
        QTest::newRow("a number") << QByteArray("{\"machine_id\": 5}")
                                  << "/machine/machine_id: must be a string";
        QTest::newRow("upper-case machine-id")
            << QByteArray("{\"machine_id\": \"0123456789ABCDEF0123456789ABCDEF\"}")
            << "/machine/machine_id: must be 32 lower-case hex digits";
        QTest::newRow("short digest") << QByteArray("{\"product_uuid\": \"sha256:abcd\"}")
                                      << "/machine/product_uuid: must be sha256:";
        QTest::newRow("no algorithm")
            << QByteArray("{\"tpm_endorsement_key\": \"" + QByteArray(64, 'a') + "\"}")
            << "/machine/tpm_endorsement_key: must be sha256:";
    }

    void theMemberIsStrict()
    {
        QFETCH(QByteArray, machine);
        QFETCH(QString, error);
        app::EnrollmentState state;
        state.serverUrl = "https://verifier.example";
        state.deviceId = "device";
        state.deviceKeyThumbprint = std::string(43, 'A');
        state.caFingerprint = "sha256:" + std::string(64, 'a');
        state.hostname = "host";
        nlohmann::json json = state.toJson();
        QVERIFY(!json.contains("machine"));
        // An enrollment from before the binding loads as it did.
        QVERIFY(!app::EnrollmentState::fromJson(json).machine);
        json["machine"] = nlohmann::json::parse(machine.toStdString());
        try {
            app::EnrollmentState::fromJson(json);
            QFAIL("accepted");
        } catch (const protocol::MessageError &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(error), e.what());
        }
    }

    void aStateFileWithAMalformedMemberIsRefused()
    {
        // As vigild reads it at start: the file and member named, and the fix.
        const fs::path state = m_root / "malformed";
        fs::create_directories(state);
        fs::permissions(state, fs::perms::owner_all);
        nlohmann::json json = {{"version", 1},
                               {"server_url", "https://verifier.example"},
                               {"device_id", "device"},
                               {"assurance", "software"},
                               {"device_key_thumbprint", std::string(43, 'A')},
                               {"ca_fingerprint", "sha256:" + std::string(64, 'a')},
                               {"hostname", "host"},
                               {"enrolled_at", "2026-11-24T16:05:00Z"},
                               {"machine", {{"machine_id", "not a machine-id"}}}};
        writeFile(state / "enrollment.json", json.dump());
        fs::permissions(state / "enrollment.json", fs::perms::owner_read | fs::perms::owner_write);
        try {
            app::EnrollmentStore(state).load();
            QFAIL("loaded");
        } catch (const app::EnrollmentStateError &e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains(QString::fromStdString((state / "enrollment.json").string())),
                     e.what());
            QVERIFY2(message.contains(
                         QStringLiteral("/machine/machine_id: must be 32 lower-case hex digits")),
                     e.what());
            QVERIFY2(message.contains(QStringLiteral("fix: ")), e.what());
        }
    }

    void aBindingRoundTrips()
    {
        MachineBinding binding;
        binding.machineId = posture::appSpecificMachineId(machineA, posture::vigilAppId);
        binding.tpmEndorsementKey = sha256Name("ek");
        QVERIFY(MachineBinding::fromJson(binding.toJson(), "/machine") == binding);
        QVERIFY(MachineBinding::fromJson(nlohmann::json::object(), "/machine") == MachineBinding{});
    }

    void anIdentityIsMovedAsideWhole()
    {
        const fs::path state = m_root / "aside";
        writeFile(state / "enrollment.json", "{}");
        writeFile(state / "tpm" / "ak.pub", "blob");
        writeFile(state / "vigild.lock", "1234");
        writeFile(state / "cloned-identity-20260101T000000Z" / "enrollment.json", "old");
        const auto now =
            std::chrono::sys_days{std::chrono::December / 7 / 2026} + std::chrono::hours(11);
        const fs::path aside = app::moveIdentityAside(state, "vigild.lock", now);
        QCOMPARE(aside, state / "cloned-identity-20261207T110000Z");
        QVERIFY(fs::exists(aside / "enrollment.json"));
        QVERIFY(fs::exists(aside / "tpm" / "ak.pub"));
        QVERIFY(fs::exists(state / "vigild.lock"));
        QVERIFY(!fs::exists(state / "enrollment.json"));
        QVERIFY(fs::exists(state / "cloned-identity-20260101T000000Z" / "enrollment.json"));
        QCOMPARE(fs::status(aside).permissions() & fs::perms::all, fs::perms::owner_all);
        // The same second again: a directory of its own.
        writeFile(state / "enrollment.json", "{}");
        QCOMPARE(app::moveIdentityAside(state, "vigild.lock", now),
                 state / "cloned-identity-20261207T110000Z-2");
    }

    // vigild end to end.

    void startTheVerifier()
    {
        if (::geteuid() != 0)
            QSKIP("needs root: a mount namespace for each vigild's machine-id");
        QVERIFY2(m_bus.start(), qPrintable(m_bus.error()));
        m_swtpm = std::make_unique<test::SwtpmSimulator>();
        m_otherSwtpm = std::make_unique<test::SwtpmSimulator>();
        m_verifier =
            std::make_unique<test::VerifierProcess>(test::lenientPolicy, m_swtpm->caDirectory());
        // The other TPM's manufacturer is trusted too: its machine may enroll as a new device.
        m_verifier->stop();
        for (const auto &entry : fs::directory_iterator(m_otherSwtpm->caDirectory()))
            if (entry.path().extension() == ".pem")
                fs::copy_file(entry.path(), m_verifier->dataDirectory() / "ek-cas" /
                                                ("other-" + entry.path().filename().string()));
        m_verifier->start();
    }

    void aSoftwareIdentityOnAnotherMachineIdIsRefused()
    {
        if (!m_verifier)
            QSKIP("no verifier");
        enrollAndStop("software", "none", machineA);
        const auto recorded = readJson(stateDirectory("software") / "enrollment.json");
        QCOMPARE(recorded.at("machine").at("machine_id").get<std::string>(),
                 posture::appSpecificMachineId(machineA, posture::vigilAppId));
        const std::string deviceId = deviceIdOf("software");

        auto clone = makeVigild("software", "none", machineB);
        expectRefused(*clone,
                      "the machine-id is not that of the machine where it enrolled as device ");
        QVERIFY(fs::exists(stateDirectory("software") / "enrollment.json"));
        expectEnrolledAnew(*clone, "software", deviceId);
    }

    void anOldEnrollmentIsBoundToItsMachine()
    {
        if (!m_verifier)
            QSKIP("no verifier");
        const fs::path state = stateDirectory("software") / "enrollment.json";
        nlohmann::json old = readJson(state);
        old.erase("machine");
        std::ofstream(state) << old.dump(2);
        auto vigild = makeVigild("software", "none", machineB);
        QVERIFY2(vigild->start(), vigild->log().constData());
        const ipc::Status compliant = waitFor(*vigild, ipc::AgentState::Compliant);
        QVERIFY2(compliant.state == ipc::AgentState::Compliant,
                 qPrintable(describe(compliant) + QString::fromUtf8(vigild->log())));
        QVERIFY2(vigild->log().contains("recorded no machine: bound it to this one"),
                 vigild->log().constData());
        QCOMPARE(readJson(state).at("machine").at("machine_id").get<std::string>(),
                 posture::appSpecificMachineId(machineB, posture::vigilAppId));
    }

    void aTpmIdentityOnAnotherTpmIsRefused()
    {
        if (!m_verifier)
            QSKIP("no verifier");
        enrollAndStop("tpm", m_swtpm->tcti(), machineA);
        const auto recorded = readJson(stateDirectory("tpm") / "enrollment.json");
        QVERIFY(recorded.at("machine")
                    .at("tpm_endorsement_key")
                    .get<std::string>()
                    .starts_with("sha256:"));
        const std::string deviceId = deviceIdOf("tpm");

        // The golden image: the same disk (machine-id too) on a machine with another TPM.
        fs::create_directories(stateDirectory("copy"));
        fs::copy(stateDirectory("tpm"), stateDirectory("copy"), fs::copy_options::recursive);
        fs::permissions(stateDirectory("copy"), fs::perms::owner_all);
        auto clone = makeVigild("copy", m_otherSwtpm->tcti(), machineA);
        expectRefused(*clone, "the TPM (its endorsement key) is not that");
        expectEnrolledAnew(*clone, "copy", deviceId);
    }

    void tpmKeysThatDoNotLoadAreAnotherTpmsToo()
    {
        if (!m_verifier)
            QSKIP("no verifier");
        // An enrollment that could not record the endorsement key: its keys tell.
        fs::create_directories(stateDirectory("unbound"));
        fs::copy(stateDirectory("tpm"), stateDirectory("unbound"), fs::copy_options::recursive);
        fs::permissions(stateDirectory("unbound"), fs::perms::owner_all);
        const fs::path state = stateDirectory("unbound") / "enrollment.json";
        nlohmann::json json = readJson(state);
        json["machine"].erase("tpm_endorsement_key");
        std::ofstream(state) << json.dump(2);
        auto clone = makeVigild("unbound", m_otherSwtpm->tcti(), machineA);
        expectRefused(*clone, "/tpm do not load into it)");
        // Not adopted: the identity still names no TPM.
        QVERIFY(!readJson(state).at("machine").contains("tpm_endorsement_key"));
    }
};

QTEST_GUILESS_MAIN(TestMachineBinding)
#include "tst_machinebinding.moc"

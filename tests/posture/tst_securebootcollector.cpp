#include "fixturehost.h"
#include "posture/collectors/securebootcollector.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using posture::CheckStatus;

namespace {
const std::string guid = "8be4df61-93ca-11d2-aa0d-00e098032b8c";
const std::string efivars = "/sys/firmware/efi/efivars/";

std::string efiByte(unsigned char value)
{
    return std::string("\x06\x00\x00\x00", 4) + static_cast<char>(value);
}
} // namespace

class TestSecureBootCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixtureHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("summary");
        QTest::newRow("debian12") << "debian12" << CheckStatus::Pass
                                  << "Secure Boot is enabled and enforcing";
        QTest::newRow("ubuntu2404")
            << "ubuntu2404" << CheckStatus::Pass << "Secure Boot is enabled and enforcing";
        QTest::newRow("fedora41 setup mode")
            << "fedora41" << CheckStatus::Fail
            << "Firmware is in Setup Mode: anyone can enroll Secure Boot keys";
        QTest::newRow("arch bios")
            << "arch" << CheckStatus::Fail << "Legacy BIOS boot: Secure Boot is not available";
    }

    void fixtureHosts()
    {
        QFETCH(QString, host);
        QFETCH(CheckStatus, status);
        QFETCH(QString, summary);
        auto fixture = test::FixtureHost::load(host.toStdString());
        posture::SecureBootCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, status);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        if (status == CheckStatus::Fail)
            QVERIFY(!result.remediation.empty());
    }

    void variableCombinations_data()
    {
        QTest::addColumn<int>("secureBoot");
        QTest::addColumn<int>("setupMode");
        QTest::addColumn<CheckStatus>("status");
        QTest::newRow("on, user mode") << 1 << 0 << CheckStatus::Pass;
        QTest::newRow("off, user mode") << 0 << 0 << CheckStatus::Fail;
        QTest::newRow("off, setup mode") << 0 << 1 << CheckStatus::Fail;
        QTest::newRow("on, setup mode") << 1 << 1 << CheckStatus::Fail;
        QTest::newRow("on, setup mode missing") << 1 << -1 << CheckStatus::Unknown;
        QTest::newRow("missing, user mode") << -1 << 0 << CheckStatus::Unknown;
        QTest::newRow("garbage value") << 7 << 0 << CheckStatus::Unknown;
    }

    void variableCombinations()
    {
        QFETCH(int, secureBoot);
        QFETCH(int, setupMode);
        QFETCH(CheckStatus, status);
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        std::filesystem::create_directories(root / "sys/firmware/efi/efivars");
        if (secureBoot >= 0)
            test::writeFile(root, efivars + "SecureBoot-" + guid,
                            efiByte(static_cast<unsigned char>(secureBoot)));
        if (setupMode >= 0)
            test::writeFile(root, efivars + "SetupMode-" + guid,
                            efiByte(static_cast<unsigned char>(setupMode)));
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::SecureBootCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, status);
        QCOMPARE(result.details["firmware"], "uefi");
        if (status == CheckStatus::Unknown)
            QVERIFY(!result.reason.empty());
    }

    void legacySysfsVariables()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/sys/firmware/efi/vars/SecureBoot-" + guid + "/data",
                        std::string(1, '\x01'));
        test::writeFile(root, "/sys/firmware/efi/vars/SetupMode-" + guid + "/data",
                        std::string(1, '\x00'));
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::SecureBootCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["source"], "/sys/firmware/efi/vars/SecureBoot-" + guid + "/data");
    }

    void efivarfsNotMounted()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        std::filesystem::create_directories(root / "sys/firmware/efi");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::SecureBootCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "UEFI variables are not exposed (efivarfs not mounted)");
    }

    void noSysfsIsUnknownNotBios()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::SecureBootCollector collector;
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Unknown);
    }

    void parseEfiByteVariable()
    {
        using posture::parseEfiByteVariable;
        QCOMPARE(parseEfiByteVariable(efiByte(1), true), std::optional<unsigned char>(1));
        QCOMPARE(parseEfiByteVariable(efiByte(0), true), std::optional<unsigned char>(0));
        QCOMPARE(parseEfiByteVariable(std::string(1, '\x01'), false),
                 std::optional<unsigned char>(1));
        QVERIFY(!parseEfiByteVariable("", true));
        QVERIFY(!parseEfiByteVariable(std::string("\x06\x00\x00\x00", 4), true));
        QVERIFY(!parseEfiByteVariable(efiByte(1) + "x", true));
        QVERIFY(!parseEfiByteVariable(efiByte(2), true));
    }
};

QTEST_APPLESS_MAIN(TestSecureBootCollector)
#include "tst_securebootcollector.moc"

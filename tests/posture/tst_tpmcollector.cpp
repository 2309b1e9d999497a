#include "fixturehost.h"
#include "posture/collectors/tpmcollector.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using posture::CheckStatus;

class TestTpmCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixtureHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("summary");
        QTest::newRow("debian12") << "debian12" << CheckStatus::Pass
                                  << "TPM 2.0 present (tpm0), /dev/tpmrm0 usable";
        QTest::newRow("ubuntu2404 without resource manager")
            << "ubuntu2404" << CheckStatus::Pass
            << "TPM 2.0 present (tpm0); /dev/tpmrm0 not usable by this process";
        QTest::newRow("fedora41") << "fedora41" << CheckStatus::Pass
                                  << "TPM 2.0 present (tpm0), /dev/tpmrm0 usable";
        QTest::newRow("arch") << "arch" << CheckStatus::Fail << "No TPM found";
    }

    void fixtureHosts()
    {
        QFETCH(QString, host);
        QFETCH(CheckStatus, status);
        QFETCH(QString, summary);
        auto fixture = test::FixtureHost::load(host.toStdString());
        posture::TpmCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, status);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        if (status == CheckStatus::Pass) {
            QCOMPARE(result.details["version"], "2.0");
            QCOMPARE(result.details["description"], "TPM 2.0 Device");
        } else {
            QCOMPARE(result.details["present"], false);
        }
    }

    void missingResourceManagerSaysWhy()
    {
        auto fixture = test::FixtureHost::load("ubuntu2404");
        posture::TpmCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["resource_manager_usable"], false);
        QCOMPARE(result.details["resource_manager_reason"],
                 "/dev/tpmrm0 does not exist (kernel without the TPM resource manager)");
    }

    void tpm12Fails()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/sys/class/tpm/tpm0/device/caps",
                        "Manufacturer: 0x49465800\nTCG version: 1.2\nFirmware version: 6.40\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::TpmCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "TPM 1.2 only; Vigil needs TPM 2.0");
        QCOMPARE(result.details["version"], "1.2");
    }

    void unreportedVersionIsUnknown()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/sys/class/tpm/tpm0/tpm_version_major", "garbage\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::TpmCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "a TPM is present but its version is not reported");
    }

    void noSysfsIsUnknown()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::TpmCollector collector;
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Unknown);
    }

    void accessErrorsNameTheFix()
    {
        using posture::describeTpmAccessError;
        QVERIFY(describeTpmAccessError(std::make_error_code(std::errc::permission_denied))
                    .find("'tss' group") != std::string::npos);
        QVERIFY(describeTpmAccessError({}).empty());
        QCOMPARE(describeTpmAccessError(std::make_error_code(std::errc::device_or_resource_busy)),
                 "/dev/tpmrm0 is busy");
    }
};

QTEST_APPLESS_MAIN(TestTpmCollector)
#include "tst_tpmcollector.moc"

#include "fixturehost.h"
#include "posture/collectors/deviceidentitycollector.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using posture::CheckStatus;

class TestDeviceIdentityCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void debianLaptop()
    {
        auto fixture = test::FixtureHost::load("debian12");
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["vendor"], "LENOVO");
        QCOMPARE(result.details["product"], "21CBCTO1WW");
        QCOMPARE(result.details["serial"], "PF3XK2ZL");
        // The raw id (4c1b2f0d…) never leaves the machine; the app-specific one does.
        QCOMPARE(result.details["machine_id"], "66cdb08bc5f54b2682e56f7002cea5c2");
        // docker0 and lo have no backing device and are left out.
        const nlohmann::json interfaces = nlohmann::json::parse(R"([
            {"interface": "enp0s31f6", "mac": "54:e1:ad:12:34:56", "type": "ethernet"},
            {"interface": "wlp0s20f3", "mac": "8c:f8:c5:ab:cd:ef", "type": "wireless"}])");
        QCOMPARE(result.details["interfaces"], interfaces);
        QCOMPARE(result.summary, "LENOVO 21CBCTO1WW serial PF3XK2ZL, machine-id 66cdb08b…, 2 "
                                 "physical interface(s)");
    }

    void placeholderSerialIsUnknownWithReason()
    {
        auto fixture = test::FixtureHost::load("ubuntu2404");
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QVERIFY(result.details["serial"].is_null());
        QCOMPARE(result.details["serial_unknown_reason"],
                 "firmware reports a placeholder (\"To Be Filled By O.E.M.\")");
    }

    void uninitialisedMachineIdFallsBackToDbus()
    {
        auto fixture = test::FixtureHost::load("arch");
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["machine_id"], "a817eacd8cc64b9c88ac8e24003da761");
        QCOMPARE(result.details["machine_id_source"], "/var/lib/dbus/machine-id");
        QVERIFY(result.details["product"].is_null()); // "System Product Name"
    }

    void invalidMachineIdIsUnknown_data()
    {
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("reason");
        QTest::newRow("uninitialized")
            << "uninitialized\n"
            << "/etc/machine-id is not initialised yet (first boot not finished)";
        QTest::newRow("too short") << "abc\n"
                                   << "/etc/machine-id does not hold a valid machine ID";
        QTest::newRow("uppercase") << "4C1B2F0D9E8A47B6A3C5D7E9F1A2B3C4\n"
                                   << "/etc/machine-id does not hold a valid machine ID";
        QTest::newRow("all zero") << "00000000000000000000000000000000\n"
                                  << "/etc/machine-id does not hold a valid machine ID";
        QTest::newRow("empty") << ""
                               << "no readable /etc/machine-id or /var/lib/dbus/machine-id";
    }

    void invalidMachineIdIsUnknown()
    {
        QFETCH(QString, content);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/etc/machine-id", content.toStdString());
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(QString::fromStdString(result.reason), reason);
    }

    void unreadableSerialSaysWhy()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/etc/machine-id", "4c1b2f0d9e8a47b6a3c5d7e9f1a2b3c4\n");
        // A directory where the file should be: unreadable whoever runs the test.
        std::filesystem::create_directories(root / "sys/class/dmi/id/product_serial");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QVERIFY(result.details["serial"].is_null());
        QCOMPARE(result.details["serial_unknown_reason"], "not readable: is a directory");
        QCOMPARE(result.details["vendor_unknown_reason"], "not readable: not found");
        QCOMPARE(result.details["interfaces"], nlohmann::json::array());
    }

    void appSpecificIdMatchesSystemd()
    {
        // systemd-id128 computes the same derivation from this machine's real machine-id.
        if (!QFile::exists(QStringLiteral("/usr/bin/systemd-id128")))
            QSKIP("systemd-id128 is not installed");
        QProcess process;
        process.start(QStringLiteral("/usr/bin/systemd-id128"),
                      {QStringLiteral("machine-id"),
                       QStringLiteral("--app-specific=") +
                           QString::fromLatin1(posture::vigilAppId.data(),
                                               qsizetype(posture::vigilAppId.size()))});
        QVERIFY(process.waitForFinished(10000));
        QCOMPARE(process.exitCode(), 0);
        const auto expected = process.readAllStandardOutput().trimmed().toStdString();
        auto host = posture::Host::local();
        posture::DeviceIdentityCollector collector;
        const auto result = test::collect(collector, host);
        QCOMPARE(result.details["machine_id"], expected);
    }

    void helpers()
    {
        QVERIFY(posture::isValidMachineId("4c1b2f0d9e8a47b6a3c5d7e9f1a2b3c4"));
        QVERIFY(!posture::isValidMachineId("4c1b2f0d9e8a47b6a3c5d7e9f1a2b3cg"));
        QVERIFY(posture::isPlaceholderDmiValue("Default string"));
        QVERIFY(posture::isPlaceholderDmiValue("TO BE FILLED BY O.E.M."));
        QVERIFY(!posture::isPlaceholderDmiValue("PF3XK2ZL"));
    }
};

QTEST_APPLESS_MAIN(TestDeviceIdentityCollector)
#include "tst_deviceidentitycollector.moc"

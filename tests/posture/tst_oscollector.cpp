#include "fixturehost.h"
#include "posture/collectors/oscollector.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using posture::CheckStatus;

class TestOsCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void fixtureHosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<QString>("distribution");
        QTest::addColumn<QString>("version");
        QTest::addColumn<QString>("kernel");
        QTest::addColumn<QString>("summary");
        QTest::newRow("debian12")
            << "debian12"
            << "debian"
            << "12"
            << "6.1.0-27-amd64"
            << "Debian GNU/Linux 12 (bookworm), kernel 6.1.0-27-amd64 (x86_64)";
        QTest::newRow("ubuntu2404") << "ubuntu2404"
                                    << "ubuntu"
                                    << "24.04"
                                    << "6.8.0-48-generic"
                                    << "Ubuntu 24.04.1 LTS, kernel 6.8.0-48-generic (x86_64)";
        QTest::newRow("fedora41")
            << "fedora41"
            << "fedora"
            << "41"
            << "6.11.4-301.fc41.x86_64"
            << "Fedora Linux 41 (KDE Plasma), kernel 6.11.4-301.fc41.x86_64 (x86_64)";
        QTest::newRow("arch") << "arch"
                              << "arch"
                              << "rolling"
                              << "6.11.6-arch1-1"
                              << "Arch Linux, kernel 6.11.6-arch1-1 (x86_64)";
    }

    void fixtureHosts()
    {
        QFETCH(QString, host);
        QFETCH(QString, distribution);
        QFETCH(QString, version);
        QFETCH(QString, kernel);
        QFETCH(QString, summary);
        auto fixture = test::FixtureHost::load(host.toStdString());
        posture::OsCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        QCOMPARE(QString::fromStdString(result.details["id"]), distribution);
        QCOMPARE(QString::fromStdString(result.details["version_id"]), version);
        QCOMPARE(QString::fromStdString(result.details["kernel_release"]), kernel);
        QCOMPARE(result.details["architecture"], "x86_64");
        QVERIFY(result.details["uptime_seconds"].is_number_integer());
    }

    void ubuntuReadsThroughSymlink()
    {
        auto fixture = test::FixtureHost::load("ubuntu2404");
        posture::OsCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["id_like"], "debian");
        QCOMPARE(result.details["version_codename"], "noble");
        QCOMPARE(result.details["source"], "/etc/os-release");
    }

    void archAsksUnameWhenProcLacksArch()
    {
        auto fixture = test::FixtureHost::load("arch");
        posture::OsCollector collector;
        test::collect(collector, *fixture.host);
        QCOMPARE(fixture.commands->history(), std::vector<std::string>{"/usr/bin/uname -m"});
    }

    void fallsBackToUsrLibThenLsbReleaseThenDebianVersion()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::OsCollector collector;

        test::writeFile(root, "/etc/debian_version", "12.8\n");
        auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["source"], "/etc/debian_version");
        QCOMPARE(result.details["version_id"], "12.8");

        test::writeFile(root, "/etc/lsb-release",
                        "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n"
                        "DISTRIB_DESCRIPTION=\"Ubuntu 22.04.5 LTS\"\n");
        result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["id"], "ubuntu");
        QCOMPARE(result.details["pretty_name"], "Ubuntu 22.04.5 LTS");

        test::writeFile(root, "/usr/lib/os-release", "ID=fedora\nVERSION_ID=40\nNAME=Fedora\n");
        result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["source"], "/usr/lib/os-release");
        QCOMPARE(result.details["version_id"], "40");
    }

    void debianTestingHasNoVersion()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/etc/os-release",
                        "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\n"
                        "VERSION_CODENAME=trixie\nID=debian\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::OsCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "/etc/os-release names debian but no version");
        QCOMPARE(result.details["version_codename"], "trixie");
    }

    void nothingReadableIsUnknown()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::OsCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QVERIFY(result.reason.find("os-release") != std::string::npos);
        QVERIFY(result.details["kernel_release"].is_null());
        QVERIFY(result.details["architecture"].is_null()); // uname is not installed there
    }

    void garbageIsUnknownNotCrash()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        test::writeFile(root, "/etc/os-release", std::string("\x00\xff\xfe=\"\n====\n\"", 12));
        test::writeFile(root, "/proc/uptime", "not-a-number 1\n");
        test::writeFile(root, "/proc/sys/kernel/arch", "\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        posture::OsCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QVERIFY(result.details["uptime_seconds"].is_null());
    }
};

QTEST_APPLESS_MAIN(TestOsCollector)
#include "tst_oscollector.moc"

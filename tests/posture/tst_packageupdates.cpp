#include "fixturehost.h"
#include "posture/parsers/packageupdates.h"

#include <QtTest>
#include <fstream>
#include <random>
#include <sstream>

using namespace vigil;

namespace {

std::string readFixture(const std::filesystem::path &relative)
{
    std::ifstream in(test::fixturesDir() / relative, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::vector<std::string> names(const posture::UpdateList &list)
{
    std::vector<std::string> out;
    for (const auto &u : list.updates)
        out.push_back(u.name);
    return out;
}

std::string stamp(const std::optional<posture::LogTimestamp> &t)
{
    if (!t)
        return "none";
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", t->year, t->month, t->day,
                  t->hour, t->minute, t->second);
    std::string out = text;
    if (t->utcOffsetMinutes)
        out += " " + std::to_string(*t->utcOffsetMinutes);
    return out;
}

} // namespace

class TestPackageUpdates : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aptRealDebianCapture()
    {
        // Unmodified output of apt-get -s dist-upgrade on a Debian 12 machine.
        const auto list = posture::parseAptSimulation(
            readFixture("patchlevel/apt-get-dist-upgrade-debian12-full.txt"));
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(list.updates.size(), std::size_t(134));
        QCOMPARE(list.securityCount(), std::size_t(81));
        const auto &first = list.updates.front();
        QCOMPARE(first.name, "base-files");
        QCOMPARE(first.currentVersion, "12.4+deb12u11");
        QCOMPARE(first.newVersion, "12.4+deb12u15");
        QCOMPARE(first.source, "Debian:12.15/oldstable");
        QVERIFY(!first.security);
    }

    void aptDebianFixture()
    {
        const auto list = posture::parseAptSimulation(
            readFixture("hosts/debian12/commands/patch-apt-get-dist-upgrade.txt"));
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(names(list),
                 (std::vector<std::string>{"base-files", "bash", "libgcrypt20", "libssl3", "sed"}));
        QCOMPARE(list.securityCount(), std::size_t(2));
        // Also in the stable suite, but offered by the security archive: a security update.
        QVERIFY(list.updates[2].security);
        QCOMPARE(list.updates[2].source,
                 "Debian:12.15/oldstable, Debian-Security:12/oldstable-security");
        QVERIFY(list.updates[3].security);
        QCOMPARE(list.updates[3].currentVersion, "3.0.19-1~deb12u2");
        QCOMPARE(list.updates[3].newVersion, "3.0.22-1~deb12u2");
    }

    void aptUbuntuFixture()
    {
        const auto list = posture::parseAptSimulation(
            readFixture("hosts/ubuntu2404/commands/patch-apt-get-dist-upgrade.txt"));
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(list.updates.size(), std::size_t(12));
        QCOMPARE(list.securityCount(), std::size_t(7));
        QVERIFY(!list.updates[2].security); // tzdata from noble-updates only
    }

    void aptNewPackageHasNoCurrentVersion()
    {
        const auto list = posture::parseAptSimulation(
            "Inst linux-image-6.8.0-50-generic (6.8.0-50.51 Ubuntu:24.04/noble-updates, "
            "Ubuntu:24.04/noble-security [amd64])\n"
            "0 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(list.updates.size(), std::size_t(1));
        QCOMPARE(list.updates[0].currentVersion, "");
        QCOMPARE(list.updates[0].newVersion, "6.8.0-50.51");
        QVERIFY(list.updates[0].security);
    }

    void aptNothingPending()
    {
        const auto list = posture::parseAptSimulation(
            "Reading package lists...\nBuilding dependency tree...\nReading state "
            "information...\nCalculating upgrade...\n0 upgraded, 0 newly installed, 0 to "
            "remove and 0 not upgraded.\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QVERIFY(list.updates.empty());
    }

    void aptBadOutput_data()
    {
        QTest::addColumn<QByteArray>("output");
        QTest::addColumn<QByteArray>("error");
        QTest::newRow("empty") << QByteArray()
                               << QByteArray("no \"N upgraded, N newly installed\" summary in "
                                             "apt-get output");
        QTest::newRow("error text")
            << QByteArray("E: Could not open lock file /var/lib/dpkg/lock-frontend\n")
            << QByteArray("no \"N upgraded, N newly installed\" summary in apt-get output");
        QTest::newRow("truncated before summary")
            << QByteArray("Inst bash [5.2.15-2+b8] (5.2.15-2+b13 Debian:12.15/oldstable [amd64])\n")
            << QByteArray("no \"N upgraded, N newly installed\" summary in apt-get output");
        QTest::newRow("no parenthesis")
            << QByteArray("Inst bash [5.2.15-2+b8] 5.2.15-2+b13\n1 upgraded, 0 newly installed\n")
            << QByteArray("unrecognised apt line \"Inst bash [5.2.15-2+b8] 5.2.15-2+b13\"");
        QTest::newRow("unterminated version")
            << QByteArray("Inst bash [5.2.15-2+b8\n1 upgraded, 0 newly installed\n")
            << QByteArray("unterminated current version in \"Inst bash [5.2.15-2+b8\"");
        QTest::newRow("control bytes quoted")
            << QByteArray("Inst \x1b[31mbash\n1 upgraded, 0 newly installed\n")
            << QByteArray("unrecognised apt line \"Inst ?[31mbash\"");
    }

    void aptBadOutput()
    {
        QFETCH(QByteArray, output);
        QFETCH(QByteArray, error);
        const auto list = posture::parseAptSimulation(output.toStdString());
        QCOMPARE(QByteArray::fromStdString(list.error), error);
        QVERIFY(list.updates.empty());
    }

    void dnf5Fixture()
    {
        const auto list = posture::parseDnfUpdateTable(
            readFixture("hosts/fedora41/commands/patch-dnf-check-update.txt"));
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(names(list), (std::vector<std::string>{"firefox.x86_64", "openssl-libs.x86_64",
                                                        "vim-minimal.x86_64"}));
        QCOMPARE(list.updates[1].newVersion, "1:3.2.2-9.fc41");
        QCOMPARE(list.updates[1].source, "updates");
    }

    void dnf4WrapsAndObsoletes()
    {
        const auto list = posture::parseDnfUpdateTable(
            "\n"
            "kernel.x86_64                          6.11.5-200.fc40                 updates\n"
            "libreoffice-langpack-en-GB.x86_64\n"
            "                                       1:24.2.7.2-1.fc40               updates\n"
            "\n"
            "Obsoleting Packages\n"
            "grub2-tools.x86_64                     1:2.06-123.fc40                 updates\n"
            "    grub2-tools.x86_64                 1:2.06-121.fc40                 @updates\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(names(list),
                 (std::vector<std::string>{"kernel.x86_64", "libreoffice-langpack-en-GB.x86_64"}));
        QCOMPARE(list.updates[1].newVersion, "1:24.2.7.2-1.fc40");
    }

    void dnfEmptyAndInformational()
    {
        QVERIFY(posture::parseDnfUpdateTable("").ok());
        const auto list =
            posture::parseDnfUpdateTable("No security updates needed, but 3 updates available\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QVERIFY(list.updates.empty());
    }

    void dnfBadOutput_data()
    {
        QTest::addColumn<QByteArray>("output");
        QTest::addColumn<QByteArray>("error");
        QTest::newRow("error message")
            << QByteArray("Error: Cache-only enabled but no cache for 'fedora'\n")
            << QByteArray("unrecognised dnf line \"Error: Cache-only enabled but no cache for "
                          "'fedora'\"");
        QTest::newRow("no arch") << QByteArray("firefox 132.0.2-1.fc41 updates\n")
                                 << QByteArray(
                                        "unrecognised dnf line \"firefox 132.0.2-1.fc41 updates\"");
        QTest::newRow("no release")
            << QByteArray("firefox.x86_64 132.0.2 updates\n")
            << QByteArray("unrecognised dnf line \"firefox.x86_64 132.0.2 updates\"");
        QTest::newRow("dangling wrapped name")
            << QByteArray("libreoffice-langpack-en-GB.x86_64\n")
            << QByteArray("dnf output ends inside a row after "
                          "\"libreoffice-langpack-en-GB.x86_64\"");
    }

    void dnfBadOutput()
    {
        QFETCH(QByteArray, output);
        QFETCH(QByteArray, error);
        const auto list = posture::parseDnfUpdateTable(output.toStdString());
        QCOMPARE(QByteArray::fromStdString(list.error), error);
        QVERIFY(list.updates.empty());
    }

    void pacman()
    {
        const auto list = posture::parsePacmanUpgrades("linux 6.11.5.arch1-1 -> 6.11.6.arch1-1\n"
                                                       "mesa 1:24.2.6-1 -> 1:24.2.7-1 [ignored]\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(names(list), (std::vector<std::string>{"linux", "mesa"}));
        QCOMPARE(list.updates[1].currentVersion, "1:24.2.6-1");
        QCOMPARE(list.updates[1].newVersion, "1:24.2.7-1");
        QCOMPARE(list.securityCount(), std::size_t(0));
        QVERIFY(posture::parsePacmanUpgrades("").ok());
        QCOMPARE(posture::parsePacmanUpgrades("error: failed to init transaction\n").error,
                 "unrecognised pacman line \"error: failed to init transaction\"");
    }

    void zypperUpdateList()
    {
        const auto list =
            posture::parseZypperUpdates(readFixture("patchlevel/zypper-list-updates.xml"));
        QVERIFY2(list.ok(), list.error.c_str());
        QCOMPARE(names(list), (std::vector<std::string>{"kernel-default", "libopenssl3"}));
        QCOMPARE(list.updates[0].currentVersion, "6.4.0-150600.23.25.1");
        QCOMPARE(list.updates[0].newVersion, "6.4.0-150600.23.30.1");
        QCOMPARE(list.securityCount(), std::size_t(0));
    }

    void zypperSecurityPatches()
    {
        const auto list =
            posture::parseZypperUpdates(readFixture("patchlevel/zypper-list-patches-security.xml"));
        QVERIFY2(list.ok(), list.error.c_str());
        // The applied one is left out; the blocked one is still needed.
        QCOMPARE(names(list), (std::vector<std::string>{"openSUSE-SLE-15.6-2024-3800",
                                                        "openSUSE-SLE-15.6-2024-3830"}));
        QCOMPARE(list.securityCount(), std::size_t(2));
    }

    void zypperNothingPending()
    {
        const auto list = posture::parseZypperUpdates(
            "<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n"
            "<update-list>\n</update-list>\n</update-status>\n</stream>\n");
        QVERIFY2(list.ok(), list.error.c_str());
        QVERIFY(list.updates.empty());
    }

    void zypperBadOutput_data()
    {
        QTest::addColumn<QByteArray>("output");
        QTest::addColumn<QByteArray>("error");
        QTest::newRow("error message")
            << QByteArray("<?xml version='1.0'?>\n<stream>\n<message type=\"error\">System "
                          "management is locked by the application with pid 1234 "
                          "(zypper).</message>\n</stream>\n")
            << QByteArray("zypper: System management is locked by the application with pid "
                          "1234 (zypper).");
        QTest::newRow("no status") << QByteArray("<?xml version='1.0'?>\n<stream>\n</stream>\n")
                                   << QByteArray("no <update-status> element in zypper output");
        QTest::newRow("plain text") << QByteArray("Loading repository data...\n")
                                    << QByteArray("malformed zypper XML: Start tag expected.");
        QTest::newRow("truncated")
            << QByteArray("<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n"
                          "<update-list>\n<update kind=\"package\" name=\"a\" edition=\"1\"/>\n")
            << QByteArray("malformed zypper XML: Premature end of document.");
        QTest::newRow("nameless")
            << QByteArray("<stream><update-status><update-list><update kind=\"package\"/>"
                          "</update-list></update-status></stream>")
            << QByteArray("zypper <update> element without a name");
    }

    void zypperBadOutput()
    {
        QFETCH(QByteArray, output);
        QFETCH(QByteArray, error);
        const auto list = posture::parseZypperUpdates(output.toStdString());
        QCOMPARE(QByteArray::fromStdString(list.error), error);
        QVERIFY(list.updates.empty());
    }

    void dpkgLog()
    {
        QCOMPARE(
            stamp(posture::lastDpkgUpgrade(readFixture("hosts/debian12/root/var/log/dpkg.log"))),
            "2026-11-10 09:14:03");
        QCOMPARE(stamp(posture::lastDpkgUpgrade("2026-11-12 18:02:11 install jq:amd64 <none> "
                                                "1.6-2.1\n")),
                 "none");
        QCOMPARE(stamp(posture::lastDpkgUpgrade("2026-13-12 18:02:11 upgrade a 1 2\n"
                                                "2026-11-12 18:02 upgrade a 1 2\n")),
                 "none");
        QCOMPARE(stamp(posture::lastDpkgUpgrade("")), "none");
    }

    void pacmanLog()
    {
        QCOMPARE(
            stamp(posture::lastPacmanUpgrade(readFixture("hosts/arch/root/var/log/pacman.log"))),
            "2026-11-19 20:31:44 60");
        // pacman before 5.2 wrote local time without seconds or offset.
        QCOMPARE(stamp(posture::lastPacmanUpgrade(
                     "[2019-01-05 10:00] [ALPM] upgraded linux (4.20.0.arch1-1 -> "
                     "4.20.1.arch1-1)\n")),
                 "2019-01-05 10:00:00");
        QCOMPARE(stamp(posture::lastPacmanUpgrade(
                     "[2026-11-19T20:31:44-0530] [ALPM] upgraded a (1 -> 2)\n")),
                 "2026-11-19 20:31:44 -330");
        QCOMPARE(stamp(posture::lastPacmanUpgrade(
                     "[2026-11-19T20:31:44+01] [ALPM] upgraded a (1 -> 2)\n")),
                 "none");
    }

    void zyppHistory()
    {
        QCOMPARE(stamp(posture::lastZyppInstall(
                     "# 2026-11-20 10:15:30 kernel-default-6.4.0.rpm installed ok\n"
                     "2026-11-20 10:15:32|install|kernel-default|6.4.0-150600.23.30.1|x86_64|"
                     "root@host|repo-sle-update|abc|\n"
                     "2026-11-21 09:00:00|remove |kernel-default|6.4.0-150600.23.22.1|x86_64|"
                     "root@host|\n")),
                 "2026-11-20 10:15:32");
    }

    void arbitraryBytesNeverCrash()
    {
        std::mt19937 random(20261124);
        std::uniform_int_distribution<int> byte(0, 255);
        const std::string seeds[] = {"Inst a [1] (2 b-security [x])\n", "a.x 1-2 r\n", "a 1 -> 2\n",
                                     "<update-status><update-list><update "};
        for (int round = 0; round < 2000; ++round) {
            std::string data = seeds[round % 4];
            const int length = round % 97;
            for (int i = 0; i < length; ++i)
                data.insert(data.begin() + static_cast<long>(random() % (data.size() + 1)),
                            static_cast<char>(byte(random)));
            (void)posture::parseAptSimulation(data);
            (void)posture::parseDnfUpdateTable(data);
            (void)posture::parsePacmanUpgrades(data);
            (void)posture::parseZypperUpdates(data);
            (void)posture::lastDpkgUpgrade(data);
            (void)posture::lastPacmanUpgrade(data);
            (void)posture::lastZyppInstall(data);
        }
    }
};

QTEST_APPLESS_MAIN(TestPackageUpdates)
#include "tst_packageupdates.moc"

#include "fixturehost.h"
#include "posture/collectors/patchlevelcollector.h"

#include <QTemporaryDir>
#include <QtTest>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <unistd.h>

using namespace vigil;
using posture::CheckStatus;
using posture::Command;
using posture::CommandResult;
using json = nlohmann::json;

namespace {

const Command aptCommand{"/usr/bin/apt-get", {"-s", "-o", "Debug::NoLocking=true", "dist-upgrade"}};
const Command dnfAll{"/usr/bin/dnf", {"-q", "--cacheonly", "check-update"}};
const Command dnfSecurity{"/usr/bin/dnf", {"-q", "--cacheonly", "check-update", "--security"}};
const Command pacmanCommand{"/usr/bin/pacman", {"-Qu"}};
const Command zypperUpdates{"/usr/bin/zypper", {"--non-interactive", "--xmlout", "list-updates"}};
const Command zypperPatches{
    "/usr/bin/zypper", {"--non-interactive", "--xmlout", "list-patches", "--category", "security"}};

std::string readFixture(const std::filesystem::path &relative)
{
    std::ifstream in(test::fixturesDir() / relative, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

CommandResult exited(int code, std::string out, std::string err = {})
{
    CommandResult r;
    r.outcome = CommandResult::Outcome::Exited;
    r.exitCode = code;
    r.standardOutput = std::move(out);
    r.standardError = std::move(err);
    return r;
}

CommandResult timedOut()
{
    CommandResult r;
    r.outcome = CommandResult::Outcome::TimedOut;
    r.error = "timed out";
    return r;
}

void setMtime(const std::filesystem::path &path, std::chrono::system_clock::time_point time)
{
    std::filesystem::last_write_time(path, std::chrono::file_clock::from_sys(time));
}

std::chrono::system_clock::time_point utc(int y, unsigned m, unsigned d, int h, int mi, int s)
{
    return std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(h) +
           std::chrono::minutes(mi) + std::chrono::seconds(s);
}

// A minimal Debian-like tree: apt-get and dpkg present, kernel 6.1.0-27 running and newest,
// package lists refreshed this morning.
void writeDebianTree(const std::filesystem::path &root)
{
    test::writeFile(root, "/usr/bin/apt-get", "");
    test::writeFile(root, "/var/lib/dpkg/status", "Package: bash\n");
    test::writeFile(root, "/var/lib/apt/lists/x_InRelease", "");
    setMtime(root / "var/lib/apt/lists", utc(2026, 11, 24, 6, 0, 0));
    test::writeFile(root, "/proc/sys/kernel/osrelease", "6.1.0-27-amd64\n");
    test::writeFile(root, "/usr/lib/modules/6.1.0-27-amd64/modules.builtin", "");
    test::writeFile(root, "/var/log/dpkg.log",
                    "2026-11-10 09:14:03 upgrade libc6:amd64 2.36-9+deb12u8 2.36-9+deb12u9\n");
}

// A fixture host's tree copied to `dir`, with the host's captured commands: for tests that
// set modification times (a git checkout's are whenever it was checked out) or change files.
test::FixtureHost copiedHost(const std::string &name, const std::filesystem::path &dir)
{
    const auto source = test::fixturesDir() / "hosts" / name;
    std::filesystem::copy(source / "root", dir, std::filesystem::copy_options::recursive);
    auto fixture = test::FixtureHost::fromRoot(dir);
    fixture.commands = std::make_shared<test::FixtureCommandRunner>(source / "commands");
    fixture.host = std::make_shared<posture::Host>(std::make_shared<posture::FileSystem>(dir),
                                                   fixture.commands, fixture.clock,
                                                   std::map<std::string, std::string>{}, 0);
    return fixture;
}

const std::string aptNothing = "Reading package lists...\nBuilding dependency tree...\n"
                               "Reading state information...\nCalculating upgrade...\n"
                               "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n";

json strings(std::initializer_list<const char *> items)
{
    json out = json::array();
    for (const char *item : items)
        out.push_back(item);
    return out;
}

// Answers like FixtureCommandRunner, but only after a delay. A wrapper because the real
// apt-get can't be made slow on demand, and FixtureCommandRunner answers at once. The answer
// is looked up when the command starts (as apt reads the package state when it starts), so
// history() counts the commands started; `destroyed` is fulfilled when the last holder (the
// query thread, once the test has let go) drops the runner.
class SlowCommandRunner final : public posture::CommandRunner
{
public:
    SlowCommandRunner(std::shared_ptr<test::FixtureCommandRunner> inner,
                      std::chrono::milliseconds delay)
        : m_inner(std::move(inner)), m_delay(delay)
    {
    }
    ~SlowCommandRunner() override { destroyed.set_value(); }

    CommandResult run(const Command &command) override
    {
        auto result = m_inner->run(command);
        std::this_thread::sleep_for(m_delay);
        return result;
    }

    std::promise<void> destroyed;

private:
    std::shared_ptr<test::FixtureCommandRunner> m_inner;
    std::chrono::milliseconds m_delay;
};

// A package manager that hangs: run() returns only once the command's stop is requested
// (or after 60 s), and records whether it was.
class HangingCommandRunner final : public posture::CommandRunner
{
public:
    CommandResult run(const Command &command) override
    {
        std::mutex mutex;
        std::condition_variable_any never;
        std::unique_lock lock(mutex);
        never.wait_for(lock, command.stop, std::chrono::seconds(60), [] { return false; });
        stopped = command.stop.stop_requested();
        CommandResult result;
        result.outcome = CommandResult::Outcome::Stopped;
        return result;
    }
    std::atomic<bool> stopped{false};
};

constexpr std::chrono::milliseconds slowDelay{1500};
constexpr std::chrono::milliseconds shortDeadline{300};

// A Debian-like tree whose apt-get answers only after slowDelay.
struct SlowHost
{
    QTemporaryDir dir;
    std::shared_ptr<test::FixtureCommandRunner> commands =
        std::make_shared<test::FixtureCommandRunner>();
    std::shared_ptr<test::ManualClock> clock =
        std::make_shared<test::ManualClock>(test::fixtureNow());
    std::shared_ptr<posture::Host> host;

    SlowHost()
    {
        writeDebianTree(root());
        host = std::make_shared<posture::Host>(
            std::make_shared<posture::FileSystem>(root()),
            std::make_shared<SlowCommandRunner>(commands, slowDelay), clock,
            std::map<std::string, std::string>{}, 0);
    }
    std::filesystem::path root() const { return dir.path().toStdString(); }
};

posture::CheckResult collectWithin(posture::Collector &collector, const posture::Host &host,
                                   std::chrono::milliseconds deadline)
{
    return collector.collect(
        posture::CollectContext(host, std::chrono::steady_clock::now() + deadline));
}

const std::string aptStillComputing = "apt-get is still computing pending updates (started 0 s "
                                      "ago); the next collection will have them";

} // namespace

class TestPatchLevelCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void debianSecurityUpdatesPending()
    {
        auto fixture = test::FixtureHost::load("debian12");
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.id, "patch_level");
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "2 security updates pending (5 updates in total)");
        QCOMPARE(result.remediation, "Install the pending updates: sudo apt-get update && sudo "
                                     "apt-get dist-upgrade");
        const auto &d = result.details;
        QCOMPARE(d["package_manager"], "apt");
        QCOMPARE(d["package_manager_program"], "/usr/bin/apt-get");
        QCOMPARE(d["package_database"], "/var/lib/dpkg/status");
        QCOMPARE(d["pending_updates"], 5);
        QCOMPARE(d["security_updates"], 2);
        QCOMPARE(d["security_updates_unit"], "packages");
        QCOMPARE(d["updates"], strings({"base-files", "bash", "libgcrypt20", "libssl3", "sed"}));
        QCOMPARE(d["updates_truncated"], false);
        QCOMPARE(d["security_update_names"], strings({"libgcrypt20", "libssl3"}));
        QCOMPARE(d["query_cached"], false);
        QCOMPARE(d["queried_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(d["reboot_required"], false);
        QCOMPARE(d["reboot_required_reasons"], json::array());
        QCOMPARE(d["running_kernel"], "6.1.0-27-amd64");
        QCOMPARE(d["installed_kernels"], strings({"6.1.0-26-amd64", "6.1.0-27-amd64"}));
        QCOMPARE(d["newest_installed_kernel"], "6.1.0-27-amd64");
        QCOMPARE(d["last_upgrade"], "2026-11-10T09:14:03Z");
        QCOMPARE(d["last_upgrade_age_days"], 14);
        QCOMPARE(d["last_upgrade_source"], "/var/log/dpkg.log");
        QCOMPARE(d["log_time_zone"], "UTC (assumed)");
        // No update-success-stamp on Debian without update-notifier: the lists directory.
        QCOMPARE(d["last_refresh_source"], "/var/lib/apt/lists");
        QVERIFY(d["last_refresh"].is_string());
        QCOMPARE(d["max_list_age_days"], 14);
        QCOMPARE(d["package_state_watched"], true);
    }

    void ubuntuRebootRequired()
    {
        auto fixture = test::FixtureHost::load("ubuntu2404");
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary,
                 "7 security updates pending (12 updates in total); reboot required: "
                 "/var/run/reboot-required is present; running kernel 6.8.0-48-generic is "
                 "older than installed kernel 6.8.0-49-generic");
        QCOMPARE(result.remediation,
                 "Install the pending updates: sudo apt-get update && sudo apt-get "
                 "dist-upgrade, then restart the computer: sudo systemctl reboot");
        const auto &d = result.details;
        QCOMPARE(d["pending_updates"], 12);
        QCOMPARE(d["security_updates"], 7);
        QCOMPARE(d["security_update_names"],
                 strings({"libssl3t64", "openssl", "curl", "libcurl4t64", "libcurl3t64-gnutls",
                          "libglib2.0-data", "libglib2.0-0t64"}));
        QCOMPARE(d["reboot_required"], true);
        // Listed twice in the file, once here.
        QCOMPARE(d["reboot_required_packages"],
                 strings({"linux-image-6.8.0-49-generic", "linux-base"}));
        QCOMPARE(d["newest_installed_kernel"], "6.8.0-49-generic");
        QCOMPARE(d["last_refresh_source"], "/var/lib/apt/periodic/update-success-stamp");
        QCOMPARE(d["last_upgrade"], "2026-11-18T07:41:26Z");
        QCOMPARE(d["last_upgrade_age_days"], 6);
    }

    void fedoraNewerKernelInstalled()
    {
        auto fixture = test::FixtureHost::load("fedora41");
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary,
                 "1 security update pending (3 updates in total); reboot required: running "
                 "kernel 6.11.4-301.fc41.x86_64 is older than installed kernel "
                 "6.11.5-300.fc41.x86_64");
        QCOMPARE(result.remediation, "Install the pending updates: sudo dnf upgrade --refresh, "
                                     "then restart the computer: sudo systemctl reboot");
        const auto &d = result.details;
        QCOMPARE(d["package_manager"], "dnf");
        QCOMPARE(d["package_database"], "/var/lib/rpm");
        QCOMPARE(d["pending_updates"], 3);
        QCOMPARE(d["security_updates"], 1);
        QCOMPARE(d["updates"],
                 strings({"firefox.x86_64", "openssl-libs.x86_64", "vim-minimal.x86_64"}));
        QCOMPARE(d["security_update_names"], strings({"openssl-libs.x86_64"}));
        QCOMPARE(d["installed_kernels"],
                 strings({"6.11.3-300.fc41.x86_64", "6.11.4-301.fc41.x86_64",
                          "6.11.5-300.fc41.x86_64"}));
        QCOMPARE(d["last_upgrade_source"], "/usr/lib/sysimage/libdnf5/transaction_history.sqlite");
        QVERIFY(d["last_refresh_source"].get<std::string>().starts_with("/var/cache/libdnf5/"));
        QVERIFY(d["last_refresh_source"].get<std::string>().ends_with("/repodata/repomd.xml"));
        QCOMPARE(fixture.commands->history(),
                 (std::vector<std::string>{dnfAll.toString(), dnfSecurity.toString()}));
    }

    void archPassesWithoutSecurityClassification()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        auto fixture = copiedHost("arch", root);
        setMtime(root / "var/lib/pacman/sync/core.db", utc(2026, 11, 21, 18, 2, 0));
        setMtime(root / "var/lib/pacman/sync/extra.db", utc(2026, 11, 22, 18, 2, 0));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, "4 updates pending; pacman does not classify security "
                                 "updates, no reboot required");
        const auto &d = result.details;
        QCOMPARE(d["package_manager"], "pacman");
        QCOMPARE(d["pending_updates"], 4);
        QVERIFY(d["security_updates"].is_null());
        QCOMPARE(d["security_updates_unknown_reason"],
                 "pacman does not classify updates as security updates (Arch publishes "
                 "advisories only online)");
        QCOMPARE(d["updates"], strings({"firefox", "libxml2", "mesa", "openssl"}));
        QCOMPARE(d["reboot_required"], false);
        // pacman.log records the offset: 20:31:44+01:00.
        QCOMPARE(d["last_upgrade"], "2026-11-19T19:31:44Z");
        QCOMPARE(d["last_upgrade_source"], "/var/log/pacman.log");
        QCOMPARE(d["last_refresh"], "2026-11-22T18:02:00Z");
        QCOMPARE(d["last_refresh_age_days"], 1);
        QCOMPARE(d["last_refresh_source"], "/var/lib/pacman/sync/extra.db");
        QCOMPARE(d["max_list_age_days"], 14);
    }

    void archStaleListsAreNoPass()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        auto fixture = copiedHost("arch", root);
        setMtime(root / "var/lib/pacman/sync/core.db", utc(2025, 10, 30, 18, 2, 0));
        setMtime(root / "var/lib/pacman/sync/extra.db", utc(2025, 11, 17, 18, 2, 0));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason,
                 "package lists last refreshed 371 days ago; pending updates may be missing");
        // Arch has no partial upgrades: refreshing means upgrading.
        QCOMPARE(result.summary, "Could not be determined: package lists last refreshed 371 days "
                                 "ago; pending updates may be missing. Refresh them: sudo "
                                 "pacman -Syu");
        QCOMPARE(result.details["pending_updates"], 4);
        QCOMPARE(result.details["last_refresh_age_days"], 371);
    }

    void staleListsAreNoPass_data()
    {
        QTest::addColumn<bool>("hasLists"); // without them, no refresh time at all
        QTest::addColumn<int>("ageHours");  // of the lists directory
        QTest::addColumn<bool>("pass");
        QTest::addColumn<QByteArray>("reason");
        QTest::newRow("this morning") << true << 6 << true << QByteArray();
        QTest::newRow("ahead of the clock") << true << -48 << true << QByteArray();
        QTest::newRow("14 days") << true << 14 * 24 + 23 << true << QByteArray();
        QTest::newRow("15 days") << true << 15 * 24 << false
                                 << QByteArray("package lists last refreshed 15 days ago; "
                                               "pending updates may be missing");
        QTest::newRow("a year") << true << 365 * 24 << false
                                << QByteArray("package lists last refreshed 365 days ago; "
                                              "pending updates may be missing");
        QTest::newRow("unknown") << false << 0 << false
                                 << QByteArray("package lists: refresh time unknown; pending "
                                               "updates may be missing");
    }

    void staleListsAreNoPass()
    {
        QFETCH(bool, hasLists);
        QFETCH(int, ageHours);
        QFETCH(bool, pass);
        QFETCH(QByteArray, reason);
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        writeDebianTree(root);
        if (hasLists)
            setMtime(root / "var/lib/apt/lists", test::fixtureNow() - std::chrono::hours(ageHours));
        else
            std::filesystem::remove_all(root / "var/lib/apt/lists");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["max_list_age_days"], 14);
        QCOMPARE(result.details["pending_updates"], 0);
        if (pass) {
            QCOMPARE(result.status, CheckStatus::Pass);
            QCOMPARE(result.summary, "No updates pending, no reboot required");
            return;
        }
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(QByteArray::fromStdString(result.reason), reason);
        QCOMPARE(QByteArray::fromStdString(result.summary),
                 "Could not be determined: " + reason + ". Refresh them: sudo apt-get update");
    }

    void staleListsStillFailOnSecurityUpdates()
    {
        // What old lists already show as pending is pending: fail, not unknown.
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        writeDebianTree(root);
        setMtime(root / "var/lib/apt/lists", utc(2025, 11, 1, 0, 0, 0));
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(
            aptCommand,
            exited(0, readFixture("hosts/debian12/commands/patch-apt-get-dist-upgrade.txt")));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "2 security updates pending (5 updates in total)");
        QCOMPARE(result.details["last_refresh_age_days"], 388);
    }

    void noPackageManager()
    {
        QTemporaryDir dir;
        test::writeFile(dir.path().toStdString(), "/proc/sys/kernel/osrelease", "6.1.0-27-amd64\n");
        test::writeFile(dir.path().toStdString(), "/usr/bin/dnf", "");
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "no supported package manager (apt, dnf, zypper, pacman) found; "
                                "found without its package database: /usr/bin/dnf (no "
                                "/var/lib/rpm)");
        QVERIFY(result.details["package_manager"].is_null());
        QCOMPARE(result.details["running_kernel"], "6.1.0-27-amd64");
        QVERIFY(fixture.commands->history().empty());
    }

    void aptCannotBeAsked_data()
    {
        QTest::addColumn<bool>("capture");
        QTest::addColumn<int>("outcome"); // CommandResult::Outcome
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("output");
        QTest::addColumn<QByteArray>("reason");
        const auto exitedOutcome = static_cast<int>(CommandResult::Outcome::Exited);
        QTest::newRow("absent") << false << 0 << 0 << QByteArray()
                                << QByteArray("could not ask apt for pending updates: "
                                              "/usr/bin/apt-get is not installed");
        QTest::newRow("exit failure")
            << true << exitedOutcome << 100 << QByteArray()
            << QByteArray("could not ask apt for pending updates: /usr/bin/apt-get exited with "
                          "code 100: E: dpkg was interrupted, you must manually run 'dpkg "
                          "--configure -a' to correct the problem.");
        QTest::newRow("timeout")
            << true << static_cast<int>(CommandResult::Outcome::TimedOut) << 0 << QByteArray()
            << QByteArray("could not ask apt for pending updates: /usr/bin/apt-get timed out "
                          "after 120000 ms");
        QTest::newRow("garbage")
            << true << exitedOutcome << 0
            << QByteArray("\x7f"
                          "ELF\x02\x01garbage\n")
            << QByteArray("could not ask apt for pending updates: /usr/bin/apt-get -s -o "
                          "Debug::NoLocking=true dist-upgrade: no \"N upgraded, N newly "
                          "installed\" summary in apt-get output");
    }

    void aptCannotBeAsked()
    {
        QFETCH(bool, capture);
        QFETCH(int, outcome);
        QFETCH(int, exitCode);
        QFETCH(QByteArray, output);
        QFETCH(QByteArray, reason);
        QTemporaryDir dir;
        writeDebianTree(dir.path().toStdString());
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        if (capture) {
            CommandResult r = outcome == static_cast<int>(CommandResult::Outcome::TimedOut)
                                  ? timedOut()
                                  : exited(exitCode, output.toStdString(),
                                           exitCode ? "E: dpkg was interrupted, you must "
                                                      "manually run 'dpkg --configure -a' to "
                                                      "correct the problem.\n"
                                                    : "");
            fixture.commands->add(aptCommand, r);
        }
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(QByteArray::fromStdString(result.reason), reason);
        // What could be learned without apt is still reported.
        QCOMPARE(result.details["package_manager"], "apt");
        QVERIFY(result.details["pending_updates"].is_null());
        QVERIFY(result.details["security_updates"].is_null());
        QCOMPARE(result.details["reboot_required"], false);
        QCOMPARE(result.details["last_upgrade"], "2026-11-10T09:14:03Z");
        QCOMPARE(
            result.details["query_error"],
            reason.mid(QByteArray("could not ask apt for pending updates: ").size()).toStdString());
    }

    void rebootRequiredFailsEvenWhenAptFails()
    {
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        writeDebianTree(root);
        test::writeFile(root, "/var/run/reboot-required", "*** System restart required ***\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, timedOut());
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "Reboot required: /var/run/reboot-required is present; pending "
                                 "updates unknown: could not ask apt for pending updates: "
                                 "/usr/bin/apt-get timed out after 120000 ms");
        QCOMPARE(result.remediation,
                 "Restart the computer to run the updated software: sudo systemctl reboot");
        QVERIFY(result.details["reboot_required_packages"].empty()); // no .pkgs file
    }

    void nothingPendingPasses()
    {
        QTemporaryDir dir;
        writeDebianTree(dir.path().toStdString());
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, "No updates pending, no reboot required");
        QCOMPARE(result.details["pending_updates"], 0);
        QCOMPARE(result.details["security_updates"], 0);
    }

    void dpkgLogMissingOrUnreadable_data()
    {
        QTest::addColumn<bool>("asDirectory");
        QTest::addColumn<QByteArray>("note");
        QTest::newRow("missing") << false
                                 << QByteArray("no upgrade found in the log, using the "
                                               "modification time of /var/lib/dpkg/status");
        // A directory stands in for an unreadable file (the tests may run as root).
        QTest::newRow("unreadable") << true
                                    << QByteArray("/var/log/dpkg.log: is a directory; no "
                                                  "upgrade found in the log, using the "
                                                  "modification time of /var/lib/dpkg/status");
    }

    void dpkgLogMissingOrUnreadable()
    {
        QFETCH(bool, asDirectory);
        QFETCH(QByteArray, note);
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        writeDebianTree(root);
        std::filesystem::remove(root / "var/log/dpkg.log");
        if (asDirectory)
            std::filesystem::create_directories(root / "var/log/dpkg.log");
        setMtime(root / "var/lib/dpkg/status", utc(2026, 11, 1, 8, 0, 0));
        setMtime(root / "var/lib/apt/lists", utc(2026, 11, 20, 6, 30, 0));
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Pass);
        const auto &d = result.details;
        QCOMPARE(d["last_upgrade"], "2026-11-01T08:00:00Z");
        QCOMPARE(d["last_upgrade_age_days"], 23);
        QCOMPARE(d["last_upgrade_source"], "/var/lib/dpkg/status");
        QCOMPARE(QByteArray::fromStdString(d["last_upgrade_note"].get<std::string>()), note);
        QCOMPARE(d["last_refresh"], "2026-11-20T06:30:00Z");
        QCOMPARE(d["last_refresh_age_days"], 4);
    }

    void logTimeZoneFromTarget()
    {
        if (!QTimeZone(QByteArrayLiteral("Europe/Berlin")).isValid())
            QSKIP("no time zone database on this machine");
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        writeDebianTree(root);
        test::writeFile(root, "/etc/timezone", "Europe/Berlin\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["log_time_zone"], "Europe/Berlin");
        QCOMPARE(result.details["last_upgrade"], "2026-11-10T08:14:03Z"); // CET is UTC+1
    }

    void rebootUnknownWithoutKernels()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        writeDebianTree(root);
        std::filesystem::remove_all(root / "usr/lib/modules");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "whether a reboot is required can't be told: no installed "
                                "kernel found under /usr/lib/modules or /lib/modules");
        QVERIFY(result.details["reboot_required"].is_null());
        QCOMPARE(result.details["pending_updates"], 0);
    }

    void kernelChecks_data()
    {
        QTest::addColumn<QStringList>("installed");
        QTest::addColumn<QString>("running");
        QTest::addColumn<bool>("required");
        QTest::addColumn<QStringList>("reasons");
        QTest::newRow("running replaced by upgrade (Arch)")
            << QStringList{QStringLiteral("6.11.7-arch1-1")} << QStringLiteral("6.11.6-arch1-1")
            << true
            << QStringList{QStringLiteral("running kernel 6.11.6-arch1-1 is older than "
                                          "installed kernel 6.11.7-arch1-1"),
                           QStringLiteral("the running kernel's modules (6.11.6-arch1-1) are "
                                          "no longer installed")};
        QTest::newRow("running removed, older kept")
            << QStringList{QStringLiteral("6.11.5-arch1-1")} << QStringLiteral("6.11.6-arch1-1")
            << true
            << QStringList{QStringLiteral("the running kernel's modules (6.11.6-arch1-1) are "
                                          "no longer installed")};
        QTest::newRow("other flavour newer is not an upgrade")
            << QStringList{QStringLiteral("6.6.60-1-lts"), QStringLiteral("6.11.6-arch1-1")}
            << QStringLiteral("6.11.6-arch1-1") << false << QStringList();
        QTest::newRow("leftover directory without modules.builtin")
            << QStringList{QStringLiteral("6.11.6-arch1-1"), QStringLiteral("!6.12.1-arch1-1")}
            << QStringLiteral("6.11.6-arch1-1") << false << QStringList();
        QTest::newRow("older kernels kept")
            << QStringList{QStringLiteral("6.11.4-arch1-1"), QStringLiteral("6.11.6-arch1-1")}
            << QStringLiteral("6.11.6-arch1-1") << false << QStringList();
    }

    void kernelChecks()
    {
        QFETCH(QStringList, installed);
        QFETCH(QString, running);
        QFETCH(bool, required);
        QFETCH(QStringList, reasons);
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        test::writeFile(root, "/usr/bin/pacman", "");
        test::writeFile(root, "/var/lib/pacman/local/ALPM_DB_VERSION", "9\n");
        test::writeFile(root, "/proc/sys/kernel/osrelease", running.toStdString() + "\n");
        for (const auto &k : installed) {
            if (k.startsWith(QLatin1Char('!')))
                test::writeFile(
                    root, "/usr/lib/modules/" + k.mid(1).toStdString() + "/updates/dkms/zfs.ko",
                    "");
            else
                test::writeFile(root, "/usr/lib/modules/" + k.toStdString() + "/modules.builtin",
                                "");
        }
        test::writeFile(root, "/var/lib/pacman/sync/core.db", "");
        setMtime(std::filesystem::path(root) / "var/lib/pacman/sync/core.db",
                 utc(2026, 11, 23, 9, 0, 0));
        auto fixture = test::FixtureHost::fromRoot(root);
        // pacman -Qu exits 1 with no output when nothing is pending.
        fixture.commands->add(pacmanCommand, exited(1, ""));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, required ? CheckStatus::Fail : CheckStatus::Pass);
        QCOMPARE(result.details["pending_updates"], 0);
        QCOMPARE(result.details["reboot_required"], required);
        json expected = json::array();
        for (const auto &r : reasons)
            expected.push_back(r.toStdString());
        QCOMPARE(result.details["reboot_required_reasons"], expected);
        if (!required)
            QCOMPARE(result.summary, "0 updates pending; pacman does not classify security "
                                     "updates, no reboot required");
    }

    void pacmanFailure()
    {
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        test::writeFile(root, "/usr/bin/pacman", "");
        test::writeFile(root, "/var/lib/pacman/local/ALPM_DB_VERSION", "9\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(pacmanCommand,
                              exited(1, "", "error: failed to initialize alpm library\n"));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "could not ask pacman for pending updates: /usr/bin/pacman "
                                "exited with code 1: error: failed to initialize alpm library");
    }

    void dnfFailures_data()
    {
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QByteArray>("output");
        QTest::addColumn<QByteArray>("reason");
        QTest::newRow("error exit")
            << 1 << QByteArray()
            << QByteArray("/usr/bin/dnf exited with code 1: Error: Cache-only enabled but no "
                          "cache for 'fedora'");
        QTest::newRow("100 without packages")
            << 100 << QByteArray("\n")
            << QByteArray("/usr/bin/dnf -q --cacheonly check-update: exit code 100 does not "
                          "match the 0 packages listed");
        QTest::newRow("garbage")
            << 100 << QByteArray("<html>proxy error</html>\n")
            << QByteArray("/usr/bin/dnf -q --cacheonly check-update: unrecognised dnf line "
                          "\"<html>proxy error</html>\"");
    }

    void dnfFailures()
    {
        QFETCH(int, exitCode);
        QFETCH(QByteArray, output);
        QFETCH(QByteArray, reason);
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        test::writeFile(root, "/usr/bin/dnf", "");
        test::writeFile(root, "/var/lib/rpm/rpmdb.sqlite", "");
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(dnfAll,
                              exited(exitCode, output.toStdString(),
                                     "Error: Cache-only enabled but no cache for 'fedora'\n"));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(QByteArray::fromStdString(result.details["query_error"].get<std::string>()),
                 reason);
    }

    void zypperSecurityPatches()
    {
        QTemporaryDir dir;
        const auto root = dir.path().toStdString();
        test::writeFile(root, "/usr/bin/zypper", "");
        test::writeFile(root, "/usr/lib/sysimage/rpm/rpmdb.sqlite", "");
        test::writeFile(root, "/proc/sys/kernel/osrelease", "6.4.0-150600.23.25-default\n");
        test::writeFile(root, "/usr/lib/modules/6.4.0-150600.23.25-default/modules.builtin", "");
        test::writeFile(root, "/var/log/zypp/history",
                        "2026-11-20 10:15:32|install|libopenssl3|3.1.4-150600.5.10.1|x86_64|"
                        "root@host|repo-sle-update|abc|\n");
        auto fixture = test::FixtureHost::fromRoot(root);
        // zypper's informational exit codes: 100 updates needed, 101 security updates needed.
        fixture.commands->add(zypperUpdates,
                              exited(100, readFixture("patchlevel/zypper-list-updates.xml")));
        fixture.commands->add(
            zypperPatches, exited(101, readFixture("patchlevel/zypper-list-patches-security.xml")));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "2 security updates pending (2 updates in total)");
        QCOMPARE(result.remediation,
                 "Install the pending updates: sudo zypper refresh && sudo zypper patch");
        QCOMPARE(result.details["package_manager"], "zypper");
        QCOMPARE(result.details["package_database"], "/usr/lib/sysimage/rpm");
        QCOMPARE(result.details["security_updates_unit"], "patches");
        QCOMPARE(result.details["security_update_names"],
                 strings({"openSUSE-SLE-15.6-2024-3800", "openSUSE-SLE-15.6-2024-3830"}));
        QCOMPARE(result.details["last_upgrade"], "2026-11-20T10:15:32Z");
    }

    void cacheUntilPackageStateChanges()
    {
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        std::filesystem::copy(test::fixturesDir() / "hosts/debian12/root", root,
                              std::filesystem::copy_options::recursive);
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(
            aptCommand,
            exited(0, readFixture("hosts/debian12/commands/patch-apt-get-dist-upgrade.txt")));
        posture::PatchLevelCollector collector;

        auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["security_updates"], 2);
        QCOMPARE(fixture.commands->history().size(), std::size_t(1));

        fixture.clock->advance(std::chrono::hours(1));
        result = test::collect(collector, *fixture.host);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.details["security_updates"], 2);
        QCOMPARE(result.details["query_cached"], true);
        QCOMPARE(result.details["queried_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(fixture.commands->history().size(), std::size_t(1));

        // apt-get update writes new lists.
        test::writeFile(root, "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
                        "changed\n");
        result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["query_cached"], false);
        QCOMPARE(result.details["queried_at"], "2026-11-24T13:00:00Z");
        QCOMPARE(fixture.commands->history().size(), std::size_t(2));
        test::collect(collector, *fixture.host);
        QCOMPARE(fixture.commands->history().size(), std::size_t(2));

        // dpkg replaces its status file by rename.
        test::writeFile(root, "/var/lib/dpkg/status-new", "Package: bash\n");
        std::filesystem::rename(root / "var/lib/dpkg/status-new", root / "var/lib/dpkg/status");
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        result = test::collect(collector, *fixture.host);
        QCOMPARE(fixture.commands->history().size(), std::size_t(3));
        QCOMPARE(result.status, CheckStatus::Pass);
        test::collect(collector, *fixture.host);
        QCOMPARE(fixture.commands->history().size(), std::size_t(3));
    }

    void failedQueryIsNotCached()
    {
        QTemporaryDir dir;
        writeDebianTree(dir.path().toStdString());
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        fixture.commands->add(aptCommand, timedOut());
        posture::PatchLevelCollector collector;
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Unknown);
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Unknown);
        QCOMPARE(fixture.commands->history().size(), std::size_t(2));
        // Recovers as soon as apt answers, and keeps that answer.
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Pass);
        QCOMPARE(test::collect(collector, *fixture.host).status, CheckStatus::Pass);
        QCOMPARE(fixture.commands->history().size(), std::size_t(3));
    }

    void slowQueryFinishesInTheBackground()
    {
        SlowHost slow;
        slow.commands->add(
            aptCommand,
            exited(0, readFixture("hosts/debian12/commands/patch-apt-get-dist-upgrade.txt")));
        posture::PatchLevelCollector collector;

        const auto started = std::chrono::steady_clock::now();
        auto result = collectWithin(collector, *slow.host, shortDeadline);
        // Did not wait for the query (a bound with room for a loaded machine).
        QVERIFY(std::chrono::steady_clock::now() - started < slowDelay);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, aptStillComputing);
        QCOMPARE(result.details["query_in_progress"], true);
        QCOMPARE(result.details["query_started_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(result.details["query_cached"], false);
        QVERIFY(result.details["pending_updates"].is_null());
        QVERIFY(result.details["security_updates"].is_null());
        QVERIFY(!result.details.contains("query_error"));
        QCOMPARE(result.details["last_upgrade"], "2026-11-10T09:14:03Z");
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // Still running: reported the same way, and not asked again.
        result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.reason, aptStillComputing);
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // Once it is done, the next collection has the answer from that one query.
        std::this_thread::sleep_for(slowDelay);
        result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.summary, "2 security updates pending (5 updates in total)");
        QCOMPARE(result.details["pending_updates"], 5);
        QCOMPARE(result.details["security_updates"], 2);
        QCOMPARE(result.details["query_in_progress"], false);
        QVERIFY(!result.details.contains("query_started_at"));
        QCOMPARE(result.details["query_cached"], false);
        QCOMPARE(result.details["queried_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // And keeps it.
        result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.details["query_cached"], true);
        QCOMPARE(result.details["pending_updates"], 5);
        QCOMPARE(slow.commands->history().size(), std::size_t(1));
    }

    void slowQueryAnswersWithinTheDeadline()
    {
        // A deadline longer than the query: the collection waits for it and has the answer.
        SlowHost slow;
        slow.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, "No updates pending, no reboot required");
        QCOMPARE(result.details["query_in_progress"], false);
        QCOMPARE(slow.commands->history().size(), std::size_t(1));
    }

    void rebootRequiredFailsWhileQueryRuns()
    {
        SlowHost slow;
        test::writeFile(slow.root(), "/run/reboot-required", "");
        slow.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.status, CheckStatus::Fail);
        QVERIFY(result.summary.starts_with("Reboot required: "));
        QVERIFY(result.summary.ends_with("; pending updates unknown: " + aptStillComputing));
        QCOMPARE(result.details["query_in_progress"], true);
    }

    void collectorDestroyedWhileQueryRuns()
    {
        std::future<void> runnerGone;
        {
            SlowHost slow;
            slow.commands->add(aptCommand, exited(0, aptNothing));
            runnerGone =
                static_cast<SlowCommandRunner &>(slow.host->commands()).destroyed.get_future();
            posture::PatchLevelCollector collector;
            QCOMPARE(collectWithin(collector, *slow.host, shortDeadline).reason, aptStillComputing);
            // Collector, host, file tree and clock all go here, with the query still running.
        }
        // The query thread holds the last reference to the runner; it lets go only once it
        // has stored its answer. Under ASan, any touch of the collector or host fails here.
        QCOMPARE(runnerGone.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    }

    void destroyingTheCollectorStopsItsQuery()
    {
        QTemporaryDir dir;
        writeDebianTree(dir.path().toStdString());
        auto runner = std::make_shared<HangingCommandRunner>();
        const posture::Host host(std::make_shared<posture::FileSystem>(dir.path().toStdString()),
                                 runner, std::make_shared<test::ManualClock>(test::fixtureNow()),
                                 {}, 0);
        {
            posture::PatchLevelCollector collector;
            QCOMPARE(collectWithin(collector, host, shortDeadline).reason, aptStillComputing);
        }
        // Joined: the query has returned from the runner, and only because it was stopped.
        QVERIFY(runner->stopped);
    }

    void changeDuringQueryWaitsForIt()
    {
        SlowHost slow;
        slow.commands->add(
            aptCommand,
            exited(0, readFixture("hosts/debian12/commands/patch-apt-get-dist-upgrade.txt")));
        posture::PatchLevelCollector collector;
        QCOMPARE(collectWithin(collector, *slow.host, shortDeadline).reason, aptStillComputing);

        // apt-get upgrade installs everything while the first query runs, touching dpkg's
        // files again and again. Each collection sees a change; none starts a second query.
        slow.commands->add(aptCommand, exited(0, aptNothing));
        slow.clock->advance(std::chrono::seconds(1));
        for (int i = 0; i < 3; ++i) {
            test::writeFile(slow.root(), "/var/lib/dpkg/status-new", "Package: bash\n");
            std::filesystem::rename(slow.root() / "var/lib/dpkg/status-new",
                                    slow.root() / "var/lib/dpkg/status");
            const auto result = collectWithin(collector, *slow.host, shortDeadline);
            QCOMPARE(result.status, CheckStatus::Unknown);
            QCOMPARE(result.reason, "apt-get is still computing pending updates (started 1 s "
                                    "ago, before the package state changed); it is asked "
                                    "again once it finishes");
            QCOMPARE(result.details["query_started_at"], "2026-11-24T12:00:00Z");
            QCOMPARE(result.details["query_outdated"], true);
            QCOMPARE(slow.commands->history().size(), std::size_t(1));
        }

        // Once the first query ends, its answer (5 updates) is dropped and the second query
        // starts; a deadline long enough for it has its answer.
        slow.clock->advance(std::chrono::minutes(1));
        auto result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["pending_updates"], 0);
        QCOMPARE(result.details["queried_at"], "2026-11-24T12:01:01Z");
        QCOMPARE(slow.commands->history().size(), std::size_t(2));

        result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.details["query_cached"], true);
        QCOMPARE(slow.commands->history().size(), std::size_t(2));
    }

    void unwatchedStateIsCachedForAWhile()
    {
        // As without inotify: one query at a time, and its answer kept for an hour.
        SlowHost slow;
        slow.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector(posture::PatchLevelCollector::ChangeDetection::Ttl);
        for (int i = 0; i < 3; ++i) {
            const auto result = collectWithin(collector, *slow.host, shortDeadline);
            QCOMPARE(result.reason, aptStillComputing);
            QCOMPARE(result.details["package_state_watched"], false);
        }
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        auto result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["query_cached"], false);
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // Not even a change is seen within the hour...
        test::writeFile(slow.root(), "/var/lib/apt/lists/y_InRelease", "");
        slow.clock->advance(std::chrono::minutes(59));
        result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["query_cached"], true);
        QCOMPARE(result.details["queried_at"], "2026-11-24T12:00:00Z");
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // ...and an hour after the query started, it is asked again.
        slow.clock->advance(std::chrono::minutes(1));
        result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.details["query_cached"], false);
        QCOMPARE(result.details["queried_at"], "2026-11-24T13:00:00Z");
        QCOMPARE(slow.commands->history().size(), std::size_t(2));
    }

    void unwatchablePathFallsBackToTheTtl()
    {
        // A path that exists but can't be watched makes ChangeWatch report a change at every
        // ask. Without permission to read the lists directory is one way to get there.
        if (::geteuid() == 0)
            QSKIP("root may watch any path");
        QTemporaryDir dir;
        const std::filesystem::path root = dir.path().toStdString();
        writeDebianTree(root);
        std::filesystem::permissions(root / "var/lib/apt/lists", std::filesystem::perms::none);
        auto fixture = test::FixtureHost::fromRoot(root);
        fixture.commands->add(aptCommand, exited(0, aptNothing));
        posture::PatchLevelCollector collector;
        const auto first = test::collect(collector, *fixture.host);
        const auto second = test::collect(collector, *fixture.host);
        // Readable again before any check can return, so that the directory can be removed.
        std::filesystem::permissions(root / "var/lib/apt/lists", std::filesystem::perms::owner_all);
        QCOMPARE(first.status, CheckStatus::Pass);
        QCOMPARE(first.details["package_state_watched"], false);
        QCOMPARE(second.status, CheckStatus::Pass);
        QCOMPARE(second.details["query_cached"], true);
        QCOMPARE(fixture.commands->history().size(), std::size_t(1));
    }

    void failedSlowQueryIsRetried()
    {
        SlowHost slow;
        slow.commands->add(aptCommand, exited(100, "", "E: dpkg was interrupted\n"));
        posture::PatchLevelCollector collector;
        QCOMPARE(collectWithin(collector, *slow.host, shortDeadline).reason, aptStillComputing);

        // The failure is reported once, by the collection that picks it up...
        auto result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, "could not ask apt for pending updates: /usr/bin/apt-get exited "
                                "with code 100: E: dpkg was interrupted");
        QCOMPARE(result.details["query_in_progress"], false);
        QCOMPARE(slow.commands->history().size(), std::size_t(1));

        // ...and the next one asks again.
        slow.commands->add(aptCommand, exited(0, aptNothing));
        result = collectWithin(collector, *slow.host, shortDeadline);
        QCOMPARE(result.reason, aptStillComputing);
        QCOMPARE(slow.commands->history().size(), std::size_t(2));
        result = collectWithin(collector, *slow.host, std::chrono::seconds(5));
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(slow.commands->history().size(), std::size_t(2));
    }

    void dnfCommandsShareTheQueryLimit()
    {
        // dnf asks twice; the second command gets only what the first one left of the limit.
        auto commands = std::make_shared<test::FixtureCommandRunner>();
        commands->add(
            dnfAll, exited(100, readFixture("hosts/fedora41/commands/patch-dnf-check-update.txt")));
        commands->add(dnfSecurity, exited(0, ""));
        SlowCommandRunner slow(commands, std::chrono::milliseconds(300));
        auto pending = posture::queryPendingUpdates(slow, posture::PackageManager::Dnf,
                                                    "/usr/bin/dnf", std::chrono::milliseconds(200));
        QCOMPARE(pending.error, "/usr/bin/dnf timed out after 200 ms");
        QCOMPARE(commands->history().size(), std::size_t(1));
    }

    void updateListIsCapped()
    {
        QTemporaryDir dir;
        writeDebianTree(dir.path().toStdString());
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        fixture.commands->add(
            aptCommand,
            exited(0, readFixture("patchlevel/apt-get-dist-upgrade-debian12-full.txt")));
        posture::PatchLevelCollector collector;
        const auto result = test::collect(collector, *fixture.host);
        QCOMPARE(result.details["pending_updates"], 134);
        QCOMPARE(result.details["security_updates"], 81);
        QCOMPARE(result.details["updates"].size(), std::size_t(50));
        QCOMPARE(result.details["updates_truncated"], true);
        QCOMPARE(result.details["security_update_names"].size(), std::size_t(50));
    }
};

QTEST_APPLESS_MAIN(TestPatchLevelCollector)
#include "tst_patchlevelcollector.moc"

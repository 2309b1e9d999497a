#include "fixturehost.h"
#include "posture/collectors/screenlockcollector.h"
#include "posture/parsers/screenlocksettings.h"

#include <QTemporaryDir>
#include <QTest>

using namespace vigil::posture;
using nlohmann::json;
using vigil::test::FixtureHost;
using vigil::test::writeFile;

namespace {

CheckResult collectWith(ScreenLockCollector &collector, const FixtureHost &fixture)
{
    const CollectContext context(*fixture.host,
                                 std::chrono::steady_clock::now() + std::chrono::seconds(30));
    return collector.collect(context);
}

CheckResult collectOn(const FixtureHost &fixture)
{
    ScreenLockCollector collector;
    return collectWith(collector, fixture);
}

CommandResult output(std::string text, int code = 0)
{
    CommandResult result;
    result.outcome = CommandResult::Outcome::Exited;
    result.exitCode = code;
    result.standardOutput = std::move(text);
    return result;
}

Command gsettings(const std::string &schema, const std::string &key)
{
    return {"/usr/bin/gsettings", {"get", schema, key}};
}

const std::map<std::string, std::string> session(const std::string &desktop)
{
    return {{"HOME", "/home/u"},
            {"XDG_CURRENT_DESKTOP", desktop},
            {"DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"}};
}

// A GNOME session whose gsettings answers with the given outputs.
struct GnomeMachine
{
    QTemporaryDir dir;
    FixtureHost fixture;

    GnomeMachine(const std::string &lock, const std::string &idle, const std::string &delay,
                 const std::string &desktop = "ubuntu:GNOME",
                 const std::string &prefix = "org.gnome.desktop",
                 const std::map<std::string, std::string> &extraEnvironment = {})
        : fixture(FixtureHost::fromRoot(dir.path().toStdString(),
                                        withExtra(session(desktop), extraEnvironment), 1000))
    {
        writeFile(root(), "/usr/bin/gsettings", "");
        set(prefix, lock, idle, delay);
    }
    static std::map<std::string, std::string>
    withExtra(std::map<std::string, std::string> env,
              const std::map<std::string, std::string> &extra)
    {
        for (const auto &[name, value] : extra)
            env[name] = value;
        return env;
    }
    void set(const std::string &prefix, const std::string &lock, const std::string &idle,
             const std::string &delay, const std::string &lockdown = "false\n")
    {
        fixture.commands->add(gsettings(prefix + ".screensaver", "lock-enabled"), output(lock));
        fixture.commands->add(gsettings(prefix + ".session", "idle-delay"), output(idle));
        fixture.commands->add(gsettings(prefix + ".screensaver", "lock-delay"), output(delay));
        fixture.commands->add(gsettings(prefix + ".lockdown", "disable-lock-screen"),
                              output(lockdown));
    }
    std::filesystem::path root() const { return dir.path().toStdString(); }
};

} // namespace

class TestScreenLockCollector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hosts_data()
    {
        QTest::addColumn<QString>("host");
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("summary");
        QTest::addColumn<QByteArray>("details");
        QTest::newRow("debian12") << "debian12" << CheckStatus::Pass
                                  << "GNOME locks the screen after 300 s idle"
                                  << QByteArray(
                                         R"({"xdg_current_desktop": "GNOME", "desktop": "GNOME",
                "max_seconds_to_lock": 900, "lock_enabled": true, "idle_delay_seconds": 300,
                "lock_delay_seconds": 0, "seconds_to_lock": 300, "source": "gsettings",
                "lock_disabled_by_lockdown": false})");
        QTest::newRow("ubuntu2404")
            << "ubuntu2404" << CheckStatus::Fail << "GNOME does not lock the screen when idle"
            << QByteArray(R"({"xdg_current_desktop": "ubuntu:GNOME", "desktop": "GNOME",
                "max_seconds_to_lock": 900, "lock_enabled": false, "idle_delay_seconds": 300,
                "lock_delay_seconds": 0, "seconds_to_lock": 300, "source": "gsettings",
                "lock_disabled_by_lockdown": false})");
        QTest::newRow("fedora41") << "fedora41" << CheckStatus::Pass
                                  << "KDE locks the screen after 600 s idle"
                                  << QByteArray(R"({"xdg_current_desktop": "KDE", "desktop": "KDE",
                "max_seconds_to_lock": 900, "lock_enabled": true, "idle_delay_seconds": 600,
                "lock_delay_seconds": 0, "seconds_to_lock": 600, "source": "kscreenlockerrc",
                "lock_on_resume": true})");
        QTest::newRow("arch") << "arch" << CheckStatus::Pass
                              << "XFCE locks the screen after 300 s idle"
                              << QByteArray(R"({"xdg_current_desktop": "XFCE", "desktop": "XFCE",
                "max_seconds_to_lock": 900, "lock_enabled": true, "idle_delay_seconds": 300,
                "lock_delay_seconds": 0, "seconds_to_lock": 300, "source": "xfconf",
                "saver_enabled": true, "idle_activation_enabled": true})");
    }
    void hosts()
    {
        QFETCH(QString, host);
        QFETCH(CheckStatus, status);
        QFETCH(QString, summary);
        QFETCH(QByteArray, details);
        const auto result = collectOn(FixtureHost::load(host.toStdString()));
        QCOMPARE(result.id, std::string("screen_lock"));
        QCOMPARE(result.status, status);
        QCOMPARE(QString::fromStdString(result.summary), summary);
        QCOMPARE(result.details, json::parse(details.toStdString()));
        if (status == CheckStatus::Fail)
            QVERIFY(result.remediation.find("lock-enabled true") != std::string::npos);
    }

    void rootWithoutSession()
    {
        QTemporaryDir dir;
        const auto fixture =
            FixtureHost::fromRoot(dir.path().toStdString(), {{"HOME", "/root"}}, 0);
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason,
                 std::string("runs in the user's desktop session; this process has none"));
        QVERIFY(fixture.commands->history().empty());
    }

    void userWithoutDesktop()
    {
        QTemporaryDir dir;
        const auto fixture =
            FixtureHost::fromRoot(dir.path().toStdString(), {{"HOME", "/home/u"}}, 1000);
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("no desktop session: XDG_CURRENT_DESKTOP is not set"));
    }

    void unsupportedDesktop()
    {
        QTemporaryDir dir;
        const auto fixture = FixtureHost::fromRoot(dir.path().toStdString(), session("sway"), 1000);
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("unsupported desktop \"sway\""));
    }

    void gnomeValues_data()
    {
        QTest::addColumn<QString>("lock");
        QTest::addColumn<QString>("idle");
        QTest::addColumn<QString>("delay");
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("text");
        QTest::newRow("5 min + 30 s")
            << "true\n"
            << "uint32 300\n"
            << "uint32 30\n"
            << CheckStatus::Pass << "GNOME locks the screen after 330 s idle";
        QTest::newRow("exactly 15 min")
            << "true\n"
            << "uint32 900\n"
            << "uint32 0\n"
            << CheckStatus::Pass << "GNOME locks the screen after 900 s idle";
        QTest::newRow("idle-delay 0")
            << "true\n"
            << "uint32 0\n"
            << "uint32 0\n"
            << CheckStatus::Fail << "GNOME never locks the screen: the session never goes idle";
        QTest::newRow("too long") << "true\n"
                                  << "uint32 900\n"
                                  << "uint32 60\n"
                                  << CheckStatus::Fail
                                  << "GNOME locks the screen after 960 s idle, more than 900 s";
        QTest::newRow("garbage bool") << "yes\n"
                                      << "uint32 300\n"
                                      << "uint32 0\n"
                                      << CheckStatus::Unknown
                                      << "unexpected gsettings value for "
                                         "org.gnome.desktop.screensaver lock-enabled: \"yes\"";
        QTest::newRow("wrong type") << "true\n"
                                    << "int32 300\n"
                                    << "uint32 0\n"
                                    << CheckStatus::Unknown
                                    << "unexpected gsettings value for org.gnome.desktop.session "
                                       "idle-delay: \"int32 300\"";
        QTest::newRow("overflow") << "true\n"
                                  << "uint32 300\n"
                                  << "uint32 99999999999\n"
                                  << CheckStatus::Unknown
                                  << "unexpected gsettings value for "
                                     "org.gnome.desktop.screensaver lock-delay: \"uint32 "
                                     "99999999999\"";
        QTest::newRow("empty") << ""
                               << "uint32 300\n"
                               << "uint32 0\n"
                               << CheckStatus::Unknown
                               << "unexpected gsettings value for org.gnome.desktop.screensaver "
                                  "lock-enabled: \"\"";
    }
    void gnomeValues()
    {
        QFETCH(QString, lock);
        QFETCH(QString, idle);
        QFETCH(QString, delay);
        QFETCH(CheckStatus, status);
        QFETCH(QString, text);
        GnomeMachine machine(lock.toStdString(), idle.toStdString(), delay.toStdString());
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, status);
        QCOMPARE(
            QString::fromStdString(status == CheckStatus::Unknown ? result.reason : result.summary),
            text);
    }

    void cinnamonSchemas()
    {
        GnomeMachine machine("true\n", "uint32 600\n", "uint32 15\n", "X-Cinnamon",
                             "org.cinnamon.desktop");
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Pass);
        QCOMPARE(result.summary, std::string("Cinnamon locks the screen after 615 s idle"));
    }

    void gsettingsAbsent()
    {
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n");
        std::filesystem::remove(machine.root() / "usr/bin/gsettings");
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("gsettings is not installed"));
    }

    void gsettingsFailing()
    {
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n");
        auto failing = output("", 1);
        failing.standardError = "No such schema \"org.gnome.desktop.session\"\n";
        machine.fixture.commands->add(gsettings("org.gnome.desktop.session", "idle-delay"),
                                      failing);
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("/usr/bin/gsettings exited with code 1: No such "
                                            "schema \"org.gnome.desktop.session\""));
    }

    void gsettingsHanging()
    {
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n");
        CommandResult timedOut;
        timedOut.outcome = CommandResult::Outcome::TimedOut;
        machine.fixture.commands->add(gsettings("org.gnome.desktop.screensaver", "lock-enabled"),
                                      timedOut);
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("/usr/bin/gsettings timed out after 3000 ms"));
    }

    void cacheFollowsDconfChanges()
    {
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n");
        writeFile(machine.root(), "/home/u/.config/dconf/user", "GVariant v1");
        ScreenLockCollector collector;
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        QCOMPARE(collector.gsettingsReads(), 1);
        QCOMPARE(machine.fixture.commands->history().size(), std::size_t(4));

        // The user turns locking off: dconf writes a new database and renames it over "user".
        machine.set("org.gnome.desktop", "false\n", "uint32 300\n", "uint32 0\n");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass); // cached
        writeFile(machine.root(), "/home/u/.config/dconf/user.ABC123", "GVariant v2");
        std::filesystem::rename(machine.root() / "home/u/.config/dconf/user.ABC123",
                                machine.root() / "home/u/.config/dconf/user");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 2);
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 2);

        // A system database update (dconf update) also invalidates.
        writeFile(machine.root(), "/etc/dconf/db/local", "GVariant");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 3);
    }

    void failedReadsAreNotCached()
    {
        GnomeMachine machine("garbage\n", "uint32 300\n", "uint32 0\n");
        writeFile(machine.root(), "/home/u/.config/dconf/user", "x");
        ScreenLockCollector collector;
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Unknown);
        machine.set("org.gnome.desktop", "true\n", "uint32 300\n", "uint32 0\n");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        QCOMPARE(collector.gsettingsReads(), 2);
    }

    void lockdown_data()
    {
        QTest::addColumn<QString>("desktop");
        QTest::addColumn<QString>("prefix");
        QTest::addColumn<QString>("lock");
        QTest::addColumn<QString>("lockdown"); // "-" for a key gsettings does not know
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("text");
        QTest::newRow("GNOME lockdown on")
            << "GNOME"
            << "org.gnome.desktop"
            << "true\n"
            << "true\n"
            << CheckStatus::Fail
            << "GNOME cannot lock the screen: lock is disabled by lockdown policy";
        QTest::newRow("lockdown on, lock off")
            << "GNOME"
            << "org.gnome.desktop"
            << "false\n"
            << "true\n"
            << CheckStatus::Fail
            << "GNOME cannot lock the screen: lock is disabled by lockdown policy";
        QTest::newRow("Cinnamon lockdown on")
            << "X-Cinnamon"
            << "org.cinnamon.desktop"
            << "true\n"
            << "true\n"
            << CheckStatus::Fail
            << "Cinnamon cannot lock the screen: lock is disabled by lockdown policy";
        QTest::newRow("lockdown off")
            << "GNOME"
            << "org.gnome.desktop"
            << "true\n"
            << "false\n"
            << CheckStatus::Pass << "GNOME locks the screen after 300 s idle";
        QTest::newRow("garbage")
            << "GNOME"
            << "org.gnome.desktop"
            << "true\n"
            << "@mb nothing\n"
            << CheckStatus::Unknown
            << "unexpected gsettings value for org.gnome.desktop.lockdown disable-lock-screen: "
               "\"@mb nothing\"";
        QTest::newRow("empty")
            << "GNOME"
            << "org.gnome.desktop"
            << "true\n"
            << "" << CheckStatus::Unknown
            << "unexpected gsettings value for org.gnome.desktop.lockdown disable-lock-screen: "
               "\"\"";
        QTest::newRow("missing key")
            << "GNOME"
            << "org.gnome.desktop"
            << "true\n"
            << "-" << CheckStatus::Unknown
            << "/usr/bin/gsettings exited with code 1: No such key \"disable-lock-screen\"";
    }
    void lockdown()
    {
        QFETCH(QString, desktop);
        QFETCH(QString, prefix);
        QFETCH(QString, lock);
        QFETCH(QString, lockdown);
        QFETCH(CheckStatus, status);
        QFETCH(QString, text);
        GnomeMachine machine(lock.toStdString(), "uint32 300\n", "uint32 0\n",
                             desktop.toStdString(), prefix.toStdString());
        if (lockdown == QLatin1String("-")) {
            auto failing = output("", 1);
            failing.standardError = "No such key \"disable-lock-screen\"\n";
            machine.fixture.commands->add(
                gsettings(prefix.toStdString() + ".lockdown", "disable-lock-screen"), failing);
        } else {
            machine.fixture.commands->add(
                gsettings(prefix.toStdString() + ".lockdown", "disable-lock-screen"),
                output(lockdown.toStdString()));
        }
        const auto result = collectOn(machine.fixture);
        QCOMPARE(result.status, status);
        QCOMPARE(
            QString::fromStdString(status == CheckStatus::Unknown ? result.reason : result.summary),
            text);
        if (status == CheckStatus::Fail) {
            QCOMPARE(result.remediation,
                     "Allow screen locking (`gsettings set " + prefix.toStdString() +
                         ".lockdown disable-lock-screen false`), or remove the dconf lock that "
                         "sets it (its key file under /etc/dconf/db/*.d/locks/, then `dconf "
                         "update`).");
            QCOMPARE(result.details["lock_disabled_by_lockdown"], json(true));
            QCOMPARE(result.details["lock_enabled"], json(lock == QLatin1String("true\n")));
        }
        if (status == CheckStatus::Pass)
            QCOMPARE(result.details["lock_disabled_by_lockdown"], json(false));
    }

    void lockdownIsCached()
    {
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n");
        machine.set("org.gnome.desktop", "true\n", "uint32 300\n", "uint32 0\n", "true\n");
        writeFile(machine.root(), "/home/u/.config/dconf/user", "x");
        ScreenLockCollector collector;
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 1);
        QCOMPARE(machine.fixture.commands->history().size(), std::size_t(4));
        // The administrator lifts the lockdown: `dconf update` rewrites the system database.
        machine.set("org.gnome.desktop", "true\n", "uint32 300\n", "uint32 0\n", "false\n");
        writeFile(machine.root(), "/etc/dconf/db/local", "GVariant");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        QCOMPARE(collector.gsettingsReads(), 2);
    }

    void cacheFollowsXdgConfigHome()
    {
        // dconf writes to $XDG_CONFIG_HOME/dconf when that is set; $HOME/.config is then stale.
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n", "GNOME", "org.gnome.desktop",
                             {{"XDG_CONFIG_HOME", "/home/u/cfg"}});
        writeFile(machine.root(), "/home/u/cfg/dconf/user", "GVariant v1");
        writeFile(machine.root(), "/home/u/.config/dconf/user", "GVariant v1");
        ScreenLockCollector collector;
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        machine.set("org.gnome.desktop", "false\n", "uint32 300\n", "uint32 0\n");
        // A change under $HOME/.config is not where this session's dconf lives.
        writeFile(machine.root(), "/home/u/.config/dconf/user", "GVariant other");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        QCOMPARE(collector.gsettingsReads(), 1);
        writeFile(machine.root(), "/home/u/cfg/dconf/user.ABC123", "GVariant v2");
        std::filesystem::rename(machine.root() / "home/u/cfg/dconf/user.ABC123",
                                machine.root() / "home/u/cfg/dconf/user");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 2);
    }

    void relativeXdgConfigHomeIsIgnored()
    {
        // The XDG spec says a relative XDG_CONFIG_HOME is invalid: $HOME/.config applies.
        GnomeMachine machine("true\n", "uint32 300\n", "uint32 0\n", "GNOME", "org.gnome.desktop",
                             {{"XDG_CONFIG_HOME", "cfg"}});
        writeFile(machine.root(), "/home/u/.config/dconf/user", "GVariant v1");
        ScreenLockCollector collector;
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Pass);
        machine.set("org.gnome.desktop", "false\n", "uint32 300\n", "uint32 0\n");
        writeFile(machine.root(), "/home/u/.config/dconf/user.ABC123", "GVariant v2");
        std::filesystem::rename(machine.root() / "home/u/.config/dconf/user.ABC123",
                                machine.root() / "home/u/.config/dconf/user");
        QCOMPARE(collectWith(collector, machine.fixture).status, CheckStatus::Fail);
        QCOMPARE(collector.gsettingsReads(), 2);
    }

    void xdgConfigHomeForKdeAndXfce()
    {
        QTemporaryDir dir;
        auto env = session("KDE");
        env["XDG_CONFIG_HOME"] = "/srv/u-config";
        const auto kde = FixtureHost::fromRoot(dir.path().toStdString(), env, 1000);
        // A stale file under $HOME/.config must not be read.
        writeFile(dir.path().toStdString(), "/home/u/.config/kscreenlockerrc",
                  "[Daemon]\nTimeout=5\n");
        writeFile(dir.path().toStdString(), "/srv/u-config/kscreenlockerrc",
                  "[Daemon]\nTimeout=30\n");
        auto result = collectOn(kde);
        QCOMPARE(result.status, CheckStatus::Fail);
        QCOMPARE(result.details["seconds_to_lock"], json(1800));

        QTemporaryDir xfceDir;
        env = session("XFCE");
        env["XDG_CONFIG_HOME"] = "/srv/u-config";
        const auto xfce = FixtureHost::fromRoot(xfceDir.path().toStdString(), env, 1000);
        writeFile(xfceDir.path().toStdString(),
                  "/srv/u-config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml",
                  "<html/>");
        result = collectOn(xfce);
        QCOMPARE(result.status, CheckStatus::Unknown);
        QCOMPARE(result.reason, std::string("/srv/u-config/xfce4/xfconf/xfce-perchannel-xml/"
                                            "xfce4-screensaver.xml: unexpected element <html>"));
    }

    void kde_data()
    {
        QTest::addColumn<QString>("file"); // "-" for none
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<int>("secondsToLock");
        QTest::addColumn<QString>("source");
        QTest::newRow("missing file: defaults") << "-" << CheckStatus::Pass << 300 << "defaults";
        QTest::newRow("Autolock=false") << "[Daemon]\nAutolock=false\nTimeout=5\n"
                                        << CheckStatus::Fail << 300 << "kscreenlockerrc";
        QTest::newRow("timeout 30") << "[Daemon]\nTimeout=30\n"
                                    << CheckStatus::Fail << 1800 << "kscreenlockerrc";
        QTest::newRow("timeout 0") << "[Daemon]\nTimeout=0\n"
                                   << CheckStatus::Fail << 0 << "kscreenlockerrc";
        QTest::newRow("other group only") << "[Greeter]\nTheme=x\n"
                                          << CheckStatus::Pass << 300 << "kscreenlockerrc";
        QTest::newRow("immutable key") << "[Daemon]\nAutolock[$i]=true\nTimeout=15\n"
                                       << CheckStatus::Pass << 900 << "kscreenlockerrc";
        QTest::newRow("garbage timeout") << "[Daemon]\nTimeout=five\n"
                                         << CheckStatus::Unknown << -1 << "";
        QTest::newRow("binary junk") << "\x01\x02[\xff\n=\n[Daemon\nTimeout=3\n"
                                     << CheckStatus::Pass << 300 << "kscreenlockerrc";
    }
    void kde()
    {
        QFETCH(QString, file);
        QFETCH(CheckStatus, status);
        QFETCH(int, secondsToLock);
        QFETCH(QString, source);
        QTemporaryDir dir;
        const auto fixture = FixtureHost::fromRoot(dir.path().toStdString(), session("KDE"), 1000);
        if (file != QLatin1String("-"))
            writeFile(dir.path().toStdString(), "/home/u/.config/kscreenlockerrc",
                      file.toStdString());
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, status);
        if (status == CheckStatus::Unknown) {
            QCOMPARE(result.reason, std::string("unreadable value in kscreenlockerrc [Daemon]"));
            return;
        }
        QCOMPARE(result.details["seconds_to_lock"], json(secondsToLock));
        QCOMPARE(result.details["source"], json(source.toStdString()));
    }

    void xfce_data()
    {
        QTest::addColumn<QString>("xml"); // "-" for none
        QTest::addColumn<CheckStatus>("status");
        QTest::addColumn<QString>("text");
        const QString head = QStringLiteral(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<channel name=\"xfce4-screensaver\" "
            "version=\"1.0\">\n");
        QTest::newRow("missing file: defaults")
            << "-" << CheckStatus::Pass << "XFCE locks the screen after 300 s idle";
        QTest::newRow("lock disabled")
            << head + QStringLiteral("<property name=\"lock\" type=\"empty\"><property "
                                     "name=\"enabled\" type=\"bool\" value=\"false\"/>"
                                     "</property></channel>")
            << CheckStatus::Fail << "XFCE does not lock the screen when idle";
        QTest::newRow("saver disabled")
            << head + QStringLiteral("<property name=\"saver\" type=\"empty\"><property "
                                     "name=\"enabled\" type=\"bool\" value=\"false\"/>"
                                     "</property></channel>")
            << CheckStatus::Fail << "XFCE never locks the screen: the session never goes idle";
        QTest::newRow("delay 20 + lock delay 1")
            << head + QStringLiteral(
                          "<property name=\"saver\" type=\"empty\"><property "
                          "name=\"idle-activation\" type=\"empty\"><property name=\"delay\" "
                          "type=\"int\" value=\"20\"/></property></property><property "
                          "name=\"lock\" type=\"empty\"><property name=\"saver-activation\" "
                          "type=\"empty\"><property name=\"delay\" type=\"int\" "
                          "value=\"1\"/></property></property></channel>")
            << CheckStatus::Fail << "XFCE locks the screen after 1260 s idle, more than 900 s";
        QTest::newRow("malformed XML")
            << head + QStringLiteral("<property name=\"lock\" type=\"empty\">")
            << CheckStatus::Unknown
            << "/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml: "
               "malformed XML: Premature end of document. at line 3";
        QTest::newRow("bool of wrong type")
            << head + QStringLiteral("<property name=\"lock\" type=\"empty\"><property "
                                     "name=\"enabled\" type=\"string\" value=\"false\"/>"
                                     "</property></channel>")
            << CheckStatus::Unknown
            << "/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml: "
               "unexpected value for /lock/enabled";
        QTest::newRow("not a channel")
            << QStringLiteral("<html><body/></html>") << CheckStatus::Unknown
            << "/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml: "
               "unexpected element <html>";
    }
    void xfce()
    {
        QFETCH(QString, xml);
        QFETCH(CheckStatus, status);
        QFETCH(QString, text);
        QTemporaryDir dir;
        const auto fixture = FixtureHost::fromRoot(dir.path().toStdString(), session("XFCE"), 1000);
        if (xml != QLatin1String("-"))
            writeFile(dir.path().toStdString(),
                      "/home/u/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml",
                      xml.toStdString());
        const auto result = collectOn(fixture);
        QCOMPARE(result.status, status);
        QCOMPARE(
            QString::fromStdString(status == CheckStatus::Unknown ? result.reason : result.summary),
            text);
        if (xml == QLatin1String("-"))
            QCOMPARE(result.details["source"], json("defaults"));
    }

    void parsers()
    {
        QCOMPARE(parseGVariantUint32("uint32 300\n"), std::optional<std::uint32_t>(300));
        QCOMPARE(parseGVariantUint32("300"), std::optional<std::uint32_t>(300));
        QCOMPARE(parseGVariantUint32("uint32 4294967295"),
                 std::optional<std::uint32_t>(4294967295u));
        QCOMPARE(parseGVariantUint32("uint32 4294967296"), std::nullopt);
        QCOMPARE(parseGVariantUint32("uint32 -1"), std::nullopt);
        QCOMPARE(parseGVariantUint32("uint32 3x"), std::nullopt);
        QCOMPARE(parseGVariantUint32("uint32"), std::nullopt);
        QCOMPARE(parseGVariantBoolean(" true\n"), std::optional<bool>(true));
        QCOMPARE(parseGVariantBoolean("True"), std::nullopt);
        QCOMPARE(parseKConfigBoolean("On"), std::optional<bool>(true));
        QCOMPARE(parseKConfigBoolean("maybe"), std::nullopt);
        const auto ini = parseKConfig("[Daemon]\nAutolock[$i] = false\n# c\n[Other]\nX=1\n");
        QCOMPARE(ini.at("Daemon/Autolock"), std::string("false"));
        QCOMPARE(ini.at("Other/X"), std::string("1"));
        const auto channel = parseXfconfChannel(
            "<channel name=\"c\"><property name=\"a\" type=\"empty\"><property name=\"b\" "
            "type=\"uint\" value=\"7\"/></property></channel>");
        QVERIFY(channel.channel);
        QCOMPARE(channel.channel->name, std::string("c"));
        QCOMPARE(channel.channel->properties.at("/a/b").value, std::string("7"));
        QCOMPARE(channel.channel->properties.size(), std::size_t(1));
        for (const char *junk : {"", "\xff\xfe<", "<channel><property/></channel>",
                                 "<!DOCTYPE x [<!ENTITY a \"b\">]><channel/>"})
            (void)parseXfconfChannel(junk);
    }
};

QTEST_APPLESS_MAIN(TestScreenLockCollector)
#include "tst_screenlockcollector.moc"

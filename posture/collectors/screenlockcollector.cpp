#include "posture/collectors/screenlockcollector.h"

#include "posture/parsers/screenlocksettings.h"

#include <algorithm>
#include <map>

namespace vigil::posture {

namespace {

using nlohmann::json;

enum class Desktop
{
    Gnome,
    Cinnamon,
    Kde,
    Xfce
};

std::optional<std::pair<Desktop, std::string>> desktopOf(const std::string &xdgCurrentDesktop)
{
    std::string_view rest = xdgCurrentDesktop;
    while (!rest.empty()) {
        const auto colon = rest.find(':');
        const auto entry = rest.substr(0, colon);
        rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
        if (entry == "GNOME" || entry == "GNOME-Classic" || entry == "GNOME-Flashback" ||
            entry == "Unity" || entry == "Budgie" || entry == "Pantheon" || entry == "ubuntu")
            return std::pair{Desktop::Gnome, std::string("GNOME")};
        if (entry == "X-Cinnamon" || entry == "Cinnamon")
            return std::pair{Desktop::Cinnamon, std::string("Cinnamon")};
        if (entry == "KDE")
            return std::pair{Desktop::Kde, std::string("KDE")};
        if (entry == "XFCE")
            return std::pair{Desktop::Xfce, std::string("XFCE")};
    }
    return std::nullopt;
}

struct LockSettings
{
    bool lockEnabled = false;
    std::int64_t idleDelaySeconds = 0; // 0: the session never goes idle
    std::int64_t lockDelaySeconds = 0;
    std::string source;
    json extra = json::object();
    std::string lockdownPrefix{}; // gsettings desktops only
    bool lockDisabledByLockdown = false;
};

// The XDG base directory spec ignores a relative XDG_CONFIG_HOME; dconf, KConfig and xfconf
// all write there when it is set, so looking only under $HOME/.config misses their files.
std::optional<std::string> configHome(const Host &host)
{
    if (const auto xdg = host.environment("XDG_CONFIG_HOME"); xdg && xdg->starts_with('/'))
        return *xdg;
    if (const auto home = host.home())
        return *home + "/.config";
    return std::nullopt;
}

std::string remediationFor(Desktop desktop)
{
    const auto limit = std::to_string(ScreenLockCollector::maxSecondsToLock / 60);
    switch (desktop) {
    case Desktop::Gnome:
        return "Settings → Privacy → Screen Lock: turn on Automatic Screen Lock and set Blank "
               "Screen Delay to " +
               limit +
               " minutes or less (`gsettings set "
               "org.gnome.desktop.screensaver lock-enabled true; gsettings set "
               "org.gnome.desktop.session idle-delay 300; gsettings set "
               "org.gnome.desktop.screensaver lock-delay 0`).";
    case Desktop::Cinnamon:
        return "System Settings → Screensaver: lock the computer after the screen turns off, "
               "within " +
               limit +
               " minutes (`gsettings set org.cinnamon.desktop.screensaver "
               "lock-enabled true; gsettings set org.cinnamon.desktop.session idle-delay 300`).";
    case Desktop::Kde:
        return "System Settings → Screen Locking: turn on \"Lock screen automatically\" after "
               "at most " +
               limit +
               " minutes ([Daemon] Autolock=true, Timeout in "
               "~/.config/kscreenlockerrc).";
    case Desktop::Xfce:
        return "Xfce Screensaver preferences (xfce4-screensaver-preferences): enable the "
               "screensaver and \"Lock Screen\" with \"Lock the screen after the screensaver "
               "is active\", and activate after at most " +
               limit + " minutes idle.";
    }
    return {};
}

// The settings that decide when a session locks, or why they can't be read.
struct SettingsRead
{
    std::optional<LockSettings> settings;
    std::string error;
};

SettingsRead readKdeSettings(const Host &host)
{
    const auto config = configHome(host);
    if (!config)
        return {std::nullopt, "HOME is not set"};
    std::map<std::string, std::string> values;
    bool fromFile = false;
    // KConfig cascade: system-wide defaults, then the user's file.
    for (const auto &path :
         {std::string("/etc/xdg/kscreenlockerrc"), *config + "/kscreenlockerrc"}) {
        const auto file = host.fs().readFile(path, 256 * 1024);
        if (!file.ok()) {
            if (file.error == std::errc::no_such_file_or_directory)
                continue;
            return {std::nullopt, "cannot read " + path + ": " + file.errorText()};
        }
        fromFile = true;
        for (auto &[key, value] : parseKConfig(file.data))
            values[key] = value;
    }
    auto boolean = [&](const std::string &key, bool fallback) -> std::optional<bool> {
        const auto it = values.find("Daemon/" + key);
        return it == values.end() ? std::optional<bool>(fallback) : parseKConfigBoolean(it->second);
    };
    const auto autolock = boolean("Autolock", true);
    const auto lockOnResume = boolean("LockOnResume", true);
    std::optional<std::uint32_t> timeout = 5;
    if (const auto it = values.find("Daemon/Timeout"); it != values.end())
        timeout = parseGVariantUint32(it->second);
    if (!autolock || !lockOnResume || !timeout || *timeout > 1'000'000)
        return {std::nullopt, "unreadable value in kscreenlockerrc [Daemon]"};
    LockSettings settings{*autolock, std::int64_t(*timeout) * 60, 0,
                          fromFile ? "kscreenlockerrc" : "defaults"};
    settings.extra["lock_on_resume"] = *lockOnResume;
    return {std::move(settings), {}};
}

SettingsRead readXfceSettings(const Host &host)
{
    const auto config = configHome(host);
    if (!config)
        return {std::nullopt, "HOME is not set"};
    const auto path = *config + "/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml";
    const auto file = host.fs().readFile(path, 1024 * 1024);
    std::map<std::string, XfconfValue> properties;
    if (file.ok()) {
        const auto parsed = parseXfconfChannel(file.data);
        if (!parsed.channel)
            return {std::nullopt, path + ": " + parsed.error};
        properties = parsed.channel->properties;
    } else if (file.error != std::errc::no_such_file_or_directory) {
        return {std::nullopt, "cannot read " + path + ": " + file.errorText()};
    }
    std::string bad;
    // Defaults are xfce4-screensaver's own (src/gs-prefs.h).
    auto boolean = [&](const std::string &key, bool fallback) {
        const auto it = properties.find(key);
        if (it == properties.end())
            return fallback;
        if (it->second.type != "bool" ||
            (it->second.value != "true" && it->second.value != "false"))
            bad = key;
        return it->second.value == "true";
    };
    auto minutes = [&](const std::string &key, std::uint32_t fallback) -> std::int64_t {
        const auto it = properties.find(key);
        if (it == properties.end())
            return fallback;
        const auto value = parseGVariantUint32(it->second.value);
        if ((it->second.type != "int" && it->second.type != "uint") || !value ||
            *value > 1'000'000) {
            bad = key;
            return 0;
        }
        return *value;
    };
    const bool saver = boolean("/saver/enabled", true);
    const bool idleActivation = boolean("/saver/idle-activation/enabled", true);
    const auto idleMinutes = minutes("/saver/idle-activation/delay", 5);
    const bool lock = boolean("/lock/enabled", true);
    const bool lockWithSaver = boolean("/lock/saver-activation/enabled", true);
    const auto lockMinutes = minutes("/lock/saver-activation/delay", 0);
    if (!bad.empty())
        return {std::nullopt, path + ": unexpected value for " + bad};
    LockSettings settings{lock && lockWithSaver, saver && idleActivation ? idleMinutes * 60 : 0,
                          lockMinutes * 60, file.ok() ? "xfconf" : "defaults"};
    settings.extra["saver_enabled"] = saver;
    settings.extra["idle_activation_enabled"] = idleActivation;
    return {std::move(settings), {}};
}

// Pass when the session locks within maxSecondsToLock of going idle; details gain the
// settings that decided it.
CheckResult lockVerdict(const std::string &id, Desktop desktop, const std::string &name,
                        const LockSettings &settings, json details)
{
    const auto secondsToLock =
        settings.idleDelaySeconds == 0 ? 0 : settings.idleDelaySeconds + settings.lockDelaySeconds;
    details["lock_enabled"] = settings.lockEnabled;
    details["idle_delay_seconds"] = settings.idleDelaySeconds;
    details["lock_delay_seconds"] = settings.lockDelaySeconds;
    details["seconds_to_lock"] = secondsToLock;
    details["source"] = settings.source;
    details.update(settings.extra);

    const auto maxSecondsToLock = ScreenLockCollector::maxSecondsToLock;
    // Checked first: with the lockdown key set no other setting makes the session lock.
    if (settings.lockDisabledByLockdown)
        return CheckResult::fail(
            id, name + " cannot lock the screen: lock is disabled by lockdown policy",
            "Allow screen locking (`gsettings set " + settings.lockdownPrefix +
                ".lockdown disable-lock-screen false`), or remove the dconf lock that sets it "
                "(its key file under /etc/dconf/db/*.d/locks/, then `dconf update`).",
            details);
    if (!settings.lockEnabled)
        return CheckResult::fail(id, name + " does not lock the screen when idle",
                                 remediationFor(desktop), details);
    if (secondsToLock == 0)
        return CheckResult::fail(id, name + " never locks the screen: the session never goes idle",
                                 remediationFor(desktop), details);
    if (secondsToLock > maxSecondsToLock)
        return CheckResult::fail(id,
                                 name + " locks the screen after " + std::to_string(secondsToLock) +
                                     " s idle, more than " + std::to_string(maxSecondsToLock) +
                                     " s",
                                 remediationFor(desktop), details);
    return CheckResult::pass(
        id, name + " locks the screen after " + std::to_string(secondsToLock) + " s idle", details);
}

} // namespace

ScreenLockCollector::ScreenLockCollector() = default;
ScreenLockCollector::~ScreenLockCollector() = default;

std::optional<ScreenLockCollector::GsettingsValues>
ScreenLockCollector::cachedGsettings(const CollectContext &context, const std::string &schemaPrefix,
                                     std::string &error)
{
    const auto &fs = context.fs();
    const auto config = configHome(context.host());
    std::vector<std::filesystem::path> paths{fs.hostPath("/etc/dconf/db")};
    // dconf replaces <config>/dconf/user by rename, so the directory is what is watched.
    if (config)
        paths.push_back(fs.hostPath(*config + "/dconf"));
    if (!m_watch || paths != m_watchedPaths) {
        m_watch = std::make_unique<ChangeWatch>(paths);
        m_watchedPaths = paths;
        m_cache.reset();
    } else if (m_watch->changedSinceLastCheck()) {
        m_cache.reset();
    }
    if (m_cache && m_cache->schemaPrefix == schemaPrefix)
        return m_cache;

    const auto program = context.host().findProgram("gsettings");
    if (!program) {
        error = "gsettings is not installed";
        return std::nullopt;
    }
    ++m_gsettingsReads;
    auto get = [&](const std::string &schema, const std::string &key, std::string &output) -> bool {
        const Command command{
            *program, {"get", schemaPrefix + "." + schema, key}, gsettingsTimeout};
        const auto result = context.run(command);
        if (!result.succeeded()) {
            error = result.describe(command);
            return false;
        }
        output = result.standardOutput;
        return true;
    };
    std::string lockText, idleText, delayText, lockdownText;
    if (!get("screensaver", "lock-enabled", lockText) || !get("session", "idle-delay", idleText) ||
        !get("screensaver", "lock-delay", delayText) ||
        !get("lockdown", "disable-lock-screen", lockdownText))
        return std::nullopt;
    const auto lock = parseGVariantBoolean(lockText);
    const auto idle = parseGVariantUint32(idleText);
    const auto delay = parseGVariantUint32(delayText);
    const auto lockdown = parseGVariantBoolean(lockdownText);
    auto bad = [](std::string key, const std::string &text) {
        return "unexpected gsettings value for " + key + ": \"" +
               text.substr(0, std::min<std::size_t>(text.find('\n'), 60)) + "\"";
    };
    if (!lock) {
        error = bad(schemaPrefix + ".screensaver lock-enabled", lockText);
        return std::nullopt;
    }
    if (!idle) {
        error = bad(schemaPrefix + ".session idle-delay", idleText);
        return std::nullopt;
    }
    if (!delay) {
        error = bad(schemaPrefix + ".screensaver lock-delay", delayText);
        return std::nullopt;
    }
    if (!lockdown) {
        error = bad(schemaPrefix + ".lockdown disable-lock-screen", lockdownText);
        return std::nullopt;
    }
    m_cache = GsettingsValues{schemaPrefix, *lock, *idle, *delay, *lockdown};
    return m_cache;
}

CheckResult ScreenLockCollector::collect(const CollectContext &context)
{
    const auto &host = context.host();
    const auto xdg = host.environment("XDG_CURRENT_DESKTOP");
    const std::string id(checkId);
    if (!xdg) {
        if (host.uid() == 0 && !host.environment("DBUS_SESSION_BUS_ADDRESS"))
            return CheckResult::unknown(
                id, "runs in the user's desktop session; this process has none");
        return CheckResult::unknown(id, "no desktop session: XDG_CURRENT_DESKTOP is not set");
    }
    const auto desktop = desktopOf(*xdg);
    json details = {{"xdg_current_desktop", *xdg}, {"max_seconds_to_lock", maxSecondsToLock}};
    if (!desktop)
        return CheckResult::unknown(id, "unsupported desktop \"" + *xdg + "\"", details);
    details["desktop"] = desktop->second;

    SettingsRead read;
    switch (desktop->first) {
    case Desktop::Gnome:
    case Desktop::Cinnamon: {
        const std::string prefix =
            desktop->first == Desktop::Gnome ? "org.gnome.desktop" : "org.cinnamon.desktop";
        const auto values = cachedGsettings(context, prefix, read.error);
        if (!values)
            break;
        read.settings =
            LockSettings{values->lockEnabled, values->idleDelay, values->lockDelay, "gsettings"};
        read.settings->lockdownPrefix = prefix;
        read.settings->lockDisabledByLockdown = values->lockDisabledByLockdown;
        read.settings->extra["lock_disabled_by_lockdown"] = values->lockDisabledByLockdown;
        break;
    }
    case Desktop::Kde:
        read = readKdeSettings(host);
        break;
    case Desktop::Xfce:
        read = readXfceSettings(host);
        break;
    }
    if (!read.settings)
        return CheckResult::unknown(id, read.error, details);
    return lockVerdict(id, desktop->first, desktop->second, *read.settings, std::move(details));
}

} // namespace vigil::posture

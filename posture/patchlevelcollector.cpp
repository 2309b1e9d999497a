#include "patchlevelcollector.h"

#include "changewatch.h"
#include "versioncompare.h"

#include <QDateTime>
#include <QTimeZone>
#include <algorithm>
#include <set>

namespace vigil::posture {

namespace {

using json = nlohmann::json;
using TimePoint = std::chrono::system_clock::time_point;

struct ManagerInfo
{
    PackageManager manager;
    std::vector<std::string> programs;  // first one found is run
    std::vector<std::string> databases; // any one present confirms the manager is in use
    std::string upgradeCommand;         // what a user runs to install pending updates
};

const std::vector<ManagerInfo> &managers()
{
    static const std::vector<ManagerInfo> list = {
        {PackageManager::Apt,
         {"apt-get"},
         {"/var/lib/dpkg/status"},
         "sudo apt-get update && sudo apt-get dist-upgrade"},
        {PackageManager::Dnf,
         {"dnf", "dnf5"},
         {"/var/lib/rpm", "/usr/lib/sysimage/rpm"},
         "sudo dnf upgrade --refresh"},
        {PackageManager::Zypper,
         {"zypper"},
         {"/var/lib/rpm", "/usr/lib/sysimage/rpm"},
         "sudo zypper refresh && sudo zypper patch"},
        {PackageManager::Pacman, {"pacman"}, {"/var/lib/pacman/local"}, "sudo pacman -Syu"},
    };
    return list;
}

const ManagerInfo &info(PackageManager manager)
{
    for (const auto &m : managers())
        if (m.manager == manager)
            return m;
    return managers().front();
}

struct Detection
{
    std::optional<PackageManager> manager;
    std::string program;
    std::string database;
    std::string reason; // when none was found
};

Detection detect(const CollectContext &context)
{
    Detection detection;
    std::vector<std::string> programsWithoutDatabase;
    for (const auto &m : managers()) {
        std::optional<std::string> program;
        for (const auto &name : m.programs)
            if ((program = context.host().findProgram(name)))
                break;
        if (!program)
            continue;
        for (const auto &database : m.databases) {
            if (context.fs().exists(database)) {
                detection.manager = m.manager;
                detection.program = *program;
                detection.database = database;
                return detection;
            }
        }
        programsWithoutDatabase.push_back(*program + " (no " + m.databases.front() + ")");
    }
    detection.reason = "no supported package manager (apt, dnf, zypper, pacman) found";
    if (!programsWithoutDatabase.empty()) {
        detection.reason += "; found without its package database:";
        for (const auto &p : programsWithoutDatabase)
            detection.reason += " " + p;
    }
    return detection;
}

// Directories (and their repository subdirectories) that change when packages are installed
// or package lists refreshed. Watches are not recursive, so per-repository metadata
// directories are listed one by one.
std::vector<std::string> watchedPaths(const CollectContext &context, PackageManager manager)
{
    std::vector<std::string> paths;
    const auto addRepositoryDirs = [&](const std::string &cache) {
        paths.push_back(cache);
        for (const auto &entry : context.fs().listDirectory(cache))
            if (context.fs().isDirectory(cache + "/" + entry + "/repodata"))
                paths.push_back(cache + "/" + entry + "/repodata");
    };
    switch (manager) {
    case PackageManager::Apt:
        // dpkg replaces status by rename, so the directory is watched rather than the file.
        paths = {"/var/lib/dpkg", "/var/lib/apt/lists"};
        break;
    case PackageManager::Dnf:
        paths = {"/var/lib/rpm", "/usr/lib/sysimage/rpm"};
        addRepositoryDirs("/var/cache/dnf");
        addRepositoryDirs("/var/cache/libdnf5");
        break;
    case PackageManager::Zypper:
        paths = {"/var/lib/rpm", "/usr/lib/sysimage/rpm"};
        addRepositoryDirs("/var/cache/zypp/raw");
        paths.push_back("/var/cache/zypp/solv");
        break;
    case PackageManager::Pacman:
        paths = {"/var/lib/pacman/local", "/var/lib/pacman/sync"};
        break;
    }
    return paths;
}

std::vector<std::filesystem::path> hostPaths(const CollectContext &context,
                                             const std::vector<std::string> &paths)
{
    std::vector<std::filesystem::path> out;
    for (const auto &path : paths)
        out.push_back(context.fs().hostPath(context.fs().canonicalPath(path).value_or(path)));
    return out;
}

struct Query
{
    Command command;
    CommandResult result;
};

Query runQuery(const CollectContext &context, const std::string &program,
               std::vector<std::string> arguments)
{
    Query q;
    q.command = Command{program, std::move(arguments), PatchLevelCollector::commandTimeout};
    q.result = context.run(q.command);
    return q;
}

std::vector<std::string> namesOf(const UpdateList &list, bool securityOnly)
{
    std::vector<std::string> names;
    for (const auto &u : list.updates)
        if (!securityOnly || u.security)
            names.push_back(u.name);
    return names;
}

// dnf: exit 100 lists updates, 0 means none, anything else failed.
std::optional<UpdateList> dnfTable(const Query &q, std::string &error)
{
    if (!q.result.exitedWith(0) && !q.result.exitedWith(100)) {
        error = q.result.describe(q.command);
        return std::nullopt;
    }
    auto list = parseDnfUpdateTable(q.result.standardOutput);
    if (!list.ok()) {
        error = q.command.toString() + ": " + list.error;
        return std::nullopt;
    }
    if (q.result.exitedWith(100) != !list.updates.empty()) {
        error = q.command.toString() + ": exit code " + std::to_string(q.result.exitCode) +
                " does not match the " + std::to_string(list.updates.size()) + " packages listed";
        return std::nullopt;
    }
    return list;
}

bool zypperSucceeded(const CommandResult &result)
{
    // 100-103 are zypper's informational codes (updates/security updates/reboot/restart needed).
    return result.outcome == CommandResult::Outcome::Exited &&
           (result.exitCode == 0 || (result.exitCode >= 100 && result.exitCode <= 103));
}

PatchLevelCollector::PendingUpdates
askPackageManager(const CollectContext &context, PackageManager manager, const std::string &program)
{
    PatchLevelCollector::PendingUpdates pending;
    pending.securityUnit = "packages";
    switch (manager) {
    case PackageManager::Apt: {
        // -s simulates as an ordinary user; NoLocking keeps it from needing the dpkg lock.
        const auto q =
            runQuery(context, program, {"-s", "-o", "Debug::NoLocking=true", "dist-upgrade"});
        if (!q.result.succeeded()) {
            pending.error = q.result.describe(q.command);
            break;
        }
        const auto list = parseAptSimulation(q.result.standardOutput);
        if (!list.ok()) {
            pending.error = q.command.toString() + ": " + list.error;
            break;
        }
        pending.total = list.updates.size();
        pending.security = list.securityCount();
        pending.names = namesOf(list, false);
        pending.securityNames = namesOf(list, true);
        break;
    }
    case PackageManager::Dnf: {
        const auto all = runQuery(context, program, {"-q", "--cacheonly", "check-update"});
        const auto allList = dnfTable(all, pending.error);
        if (!allList)
            break;
        const auto security =
            runQuery(context, program, {"-q", "--cacheonly", "check-update", "--security"});
        const auto securityList = dnfTable(security, pending.error);
        if (!securityList)
            break;
        pending.total = allList->updates.size();
        pending.security = securityList->updates.size();
        pending.names = namesOf(*allList, false);
        pending.securityNames = namesOf(*securityList, false);
        break;
    }
    case PackageManager::Zypper: {
        const auto all =
            runQuery(context, program, {"--non-interactive", "--xmlout", "list-updates"});
        if (!zypperSucceeded(all.result)) {
            pending.error = all.result.describe(all.command);
            break;
        }
        const auto allList = parseZypperUpdates(all.result.standardOutput);
        if (!allList.ok()) {
            pending.error = all.command.toString() + ": " + allList.error;
            break;
        }
        const auto patches =
            runQuery(context, program,
                     {"--non-interactive", "--xmlout", "list-patches", "--category", "security"});
        if (!zypperSucceeded(patches.result)) {
            pending.error = patches.result.describe(patches.command);
            break;
        }
        const auto patchList = parseZypperUpdates(patches.result.standardOutput);
        if (!patchList.ok()) {
            pending.error = patches.command.toString() + ": " + patchList.error;
            break;
        }
        pending.total = allList.updates.size();
        // zypper classifies patches, not packages: the count is of needed security patches.
        pending.security = patchList.securityCount();
        pending.securityUnit = "patches";
        pending.names = namesOf(allList, false);
        pending.securityNames = namesOf(patchList, true);
        break;
    }
    case PackageManager::Pacman: {
        const auto q = runQuery(context, program, {"-Qu"});
        // pacman -Qu exits 1 when it has nothing to list; an error says so on stderr.
        const bool nothing = q.result.exitedWith(1) && q.result.standardOutput.empty() &&
                             q.result.standardError.empty();
        if (!q.result.succeeded() && !nothing) {
            pending.error = q.result.describe(q.command);
            break;
        }
        const auto list = parsePacmanUpgrades(q.result.standardOutput);
        if (!list.ok()) {
            pending.error = q.command.toString() + ": " + list.error;
            break;
        }
        if (q.result.succeeded() && list.updates.empty()) {
            pending.error = q.command.toString() + ": exit code 0 but no packages listed";
            break;
        }
        pending.total = list.updates.size();
        pending.securityUnknownReason =
            "pacman does not classify updates as security updates (Arch publishes advisories "
            "only online)";
        pending.names = namesOf(list, false);
        break;
    }
    }
    pending.queriedAt = toIso8601(context.host().clock().now());
    return pending;
}

// ---- times -------------------------------------------------------------------------------

struct TimeFact
{
    std::optional<TimePoint> time;
    std::string source;
    std::string note;
};

std::optional<TimePoint> newestMtime(const CollectContext &context,
                                     const std::vector<std::string> &paths, std::string &source)
{
    std::optional<TimePoint> newest;
    for (const auto &path : paths) {
        const auto mtime = context.fs().modificationTime(path);
        if (mtime && (!newest || *mtime > *newest)) {
            newest = mtime;
            source = path;
        }
    }
    return newest;
}

std::vector<std::string> matching(const CollectContext &context, const std::string &dir,
                                  const std::string &prefix, const std::string &suffix,
                                  const std::string &inside = {})
{
    std::vector<std::string> out;
    for (const auto &entry : context.fs().listDirectory(dir)) {
        if (entry.size() < prefix.size() + suffix.size() || entry.rfind(prefix, 0) != 0 ||
            entry.compare(entry.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        out.push_back(dir + "/" + entry + inside);
    }
    return out;
}

// The zone a log without offsets was written in: the target's /etc/localtime link or
// /etc/timezone; UTC when neither names a zone this machine knows.
QTimeZone logTimeZone(const CollectContext &context, std::string &name)
{
    std::string id;
    if (const auto link = context.fs().canonicalPath("/etc/localtime")) {
        const auto at = link->find("/zoneinfo/");
        if (at != std::string::npos)
            id = link->substr(at + 10);
    }
    if (id.empty())
        id = context.fs().readTrimmed("/etc/timezone").value_or("");
    if (!id.empty() && id.size() < 64) {
        QTimeZone zone(QByteArray::fromStdString(id));
        if (zone.isValid()) {
            name = id;
            return zone;
        }
    }
    name = "UTC (assumed)";
    return QTimeZone::utc();
}

std::optional<TimePoint> toTimePoint(const LogTimestamp &t, const QTimeZone &zone)
{
    const QDate date(t.year, t.month, t.day);
    const QTime time(t.hour, t.minute, std::min(t.second, 59));
    if (!date.isValid() || !time.isValid())
        return std::nullopt;
    const QDateTime dt(date, time, t.utcOffsetMinutes ? QTimeZone(*t.utcOffsetMinutes * 60) : zone);
    if (!dt.isValid())
        return std::nullopt;
    return TimePoint(std::chrono::seconds(dt.toSecsSinceEpoch()));
}

TimeFact fromLog(const CollectContext &context, const std::vector<std::string> &logs,
                 std::optional<LogTimestamp> (*parse)(std::string_view), const QTimeZone &zone)
{
    TimeFact fact;
    for (const auto &log : logs) {
        const auto read = context.fs().readFile(log);
        if (!read.ok()) {
            if (read.error != std::errc::no_such_file_or_directory)
                fact.note += (fact.note.empty() ? "" : "; ") + log + ": " + read.errorText();
            continue;
        }
        if (const auto stamp = parse(read.data)) {
            if ((fact.time = toTimePoint(*stamp, zone))) {
                fact.source = log;
                return fact;
            }
        }
    }
    return fact;
}

TimeFact lastRefresh(const CollectContext &context, PackageManager manager)
{
    TimeFact fact;
    std::vector<std::string> candidates;
    switch (manager) {
    case PackageManager::Apt:
        // The stamp is written only after a successful "apt-get update"; the lists directory
        // and the package cache are the next best witnesses.
        for (const char *path : {"/var/lib/apt/periodic/update-success-stamp", "/var/lib/apt/lists",
                                 "/var/cache/apt/pkgcache.bin"}) {
            if ((fact.time = context.fs().modificationTime(path))) {
                fact.source = path;
                return fact;
            }
        }
        return fact;
    case PackageManager::Dnf:
        for (const char *cache : {"/var/cache/libdnf5", "/var/cache/dnf"}) {
            const auto repomds = matching(context, cache, "", "", "/repodata/repomd.xml");
            candidates.insert(candidates.end(), repomds.begin(), repomds.end());
        }
        fact.time = newestMtime(context, candidates, fact.source);
        if (!fact.time)
            fact.time = newestMtime(context, {"/var/cache/libdnf5", "/var/cache/dnf"}, fact.source);
        return fact;
    case PackageManager::Zypper:
        candidates = matching(context, "/var/cache/zypp/raw", "", "", "/repodata/repomd.xml");
        fact.time = newestMtime(context, candidates, fact.source);
        if (!fact.time)
            fact.time = newestMtime(context, {"/var/cache/zypp/raw"}, fact.source);
        return fact;
    case PackageManager::Pacman:
        fact.time =
            newestMtime(context, matching(context, "/var/lib/pacman/sync", "", ".db"), fact.source);
        return fact;
    }
    return fact;
}

TimeFact lastUpgrade(const CollectContext &context, PackageManager manager, const QTimeZone &zone)
{
    TimeFact fact;
    std::string fallback;
    switch (manager) {
    case PackageManager::Apt:
        fact =
            fromLog(context, {"/var/log/dpkg.log", "/var/log/dpkg.log.1"}, lastDpkgUpgrade, zone);
        fallback = "/var/lib/dpkg/status";
        break;
    case PackageManager::Zypper:
        fact = fromLog(context, {"/var/log/zypp/history"}, lastZyppInstall, zone);
        // The history is root-only; its mtime is the time of the last transaction anyway.
        fallback = "/var/log/zypp/history";
        break;
    case PackageManager::Pacman:
        fact = fromLog(context, {"/var/log/pacman.log"}, lastPacmanUpgrade, zone);
        fallback = "/var/lib/pacman/local";
        break;
    case PackageManager::Dnf: {
        auto candidates = matching(context, "/var/lib/dnf", "history", "");
        const auto dnf5 = matching(context, "/usr/lib/sysimage/libdnf5", "transaction_history", "");
        candidates.insert(candidates.end(), dnf5.begin(), dnf5.end());
        fact.time = newestMtime(context, candidates, fact.source);
        return fact;
    }
    }
    if (!fact.time) {
        if ((fact.time = context.fs().modificationTime(fallback))) {
            fact.source = fallback;
            fact.note += std::string(fact.note.empty() ? "" : "; ") +
                         "no upgrade found in the log, using the modification time of " + fallback;
        }
    }
    return fact;
}

void putTime(json &details, const std::string &key, const TimeFact &fact, TimePoint now)
{
    if (fact.time) {
        details[key] = toIso8601(*fact.time);
        // A time ahead of the clock (skew, restored backups) counts as "today".
        const auto age = std::chrono::floor<std::chrono::days>(now - *fact.time).count();
        details[key + "_age_days"] = std::max<long long>(0, age);
        details[key + "_source"] = fact.source;
    } else {
        details[key] = nullptr;
    }
    if (!fact.note.empty())
        details[key + "_note"] = fact.note;
}

// ---- reboot ------------------------------------------------------------------------------

struct RebootState
{
    std::optional<bool> required; // nullopt: could not be told
    std::vector<std::string> reasons;
    std::string unknownReason;
};

RebootState rebootState(const CollectContext &context, json &details)
{
    RebootState state;
    const auto &fs = context.fs();

    // Debian and Ubuntu packages (update-notifier-common, needrestart) drop this flag file.
    bool flagged = false;
    for (const char *flag : {"/run/reboot-required", "/var/run/reboot-required"}) {
        if (!fs.exists(flag))
            continue;
        flagged = true;
        state.reasons.push_back(std::string(flag) + " is present");
        const auto pkgs = fs.readFile(std::string(flag) + ".pkgs", 64 * 1024);
        json list = json::array();
        for (std::size_t start = 0; pkgs.ok() && start < pkgs.data.size();) {
            auto end = pkgs.data.find('\n', start);
            if (end == std::string::npos)
                end = pkgs.data.size();
            std::string name = pkgs.data.substr(start, end - start);
            while (!name.empty() && (name.back() == '\r' || name.back() == ' '))
                name.pop_back();
            // Package names are printable ASCII; anything else is not worth reporting.
            const bool printable =
                std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
            if (!name.empty() && printable &&
                std::find(list.begin(), list.end(), name) == list.end())
                list.push_back(name);
            start = end + 1;
        }
        details["reboot_required_packages"] = list;
        break;
    }

    // A kernel newer than the running one (same flavour) means the update is not in effect.
    const auto running = fs.readTrimmed("/proc/sys/kernel/osrelease");
    details["running_kernel"] = running ? json(*running) : json(nullptr);
    std::set<std::string> installed;
    for (const char *dir : {"/usr/lib/modules", "/lib/modules"}) {
        // modules.builtin ships with the kernel package and goes with it; a directory left
        // behind by out-of-tree modules after the kernel was removed has none.
        for (const auto &entry : fs.listDirectory(dir))
            if (fs.isRegularFile(std::string(dir) + "/" + entry + "/modules.builtin"))
                installed.insert(entry);
    }
    json installedJson = json::array();
    for (const auto &k : installed)
        installedJson.push_back(k);
    details["installed_kernels"] = installedJson;

    std::optional<bool> kernelNewer;
    std::string kernelUnknown;
    if (!running || running->empty()) {
        kernelUnknown =
            "the running kernel's release can't be read from /proc/sys/kernel/osrelease";
    } else if (installed.empty()) {
        kernelUnknown = "no installed kernel found under /usr/lib/modules or /lib/modules";
    } else {
        const auto flavour = kernelFlavour(*running);
        std::optional<std::string> newest;
        for (const auto &k : installed)
            if (kernelFlavour(k) == flavour && (!newest || compareVersions(k, *newest) > 0))
                newest = k;
        details["newest_installed_kernel"] = newest ? json(*newest) : json(nullptr);
        if (!newest) {
            kernelUnknown =
                "no installed kernel of the running kernel's flavour (" + *running + ")";
        } else {
            kernelNewer = false;
            if (compareVersions(*newest, *running) > 0) {
                kernelNewer = true;
                state.reasons.push_back("running kernel " + *running +
                                        " is older than installed kernel " + *newest);
            }
            if (!installed.count(*running)) {
                // Arch and others delete the old kernel's modules on upgrade: hardware plugged
                // in from now on finds no driver.
                kernelNewer = true;
                state.reasons.push_back("the running kernel's modules (" + *running +
                                        ") are no longer installed");
            }
        }
    }
    if (!kernelUnknown.empty())
        details["kernel_check_unknown_reason"] = kernelUnknown;

    if (flagged || kernelNewer.value_or(false))
        state.required = true;
    else if (kernelNewer)
        state.required = false;
    else
        state.unknownReason = "whether a reboot is required can't be told: " + kernelUnknown;

    details["reboot_required"] = state.required ? json(*state.required) : json(nullptr);
    details["reboot_required_reasons"] = state.reasons;
    return state;
}

std::string joined(const std::vector<std::string> &parts, const std::string &separator)
{
    std::string out;
    for (const auto &p : parts)
        out += (out.empty() ? "" : separator) + p;
    return out;
}

json cappedList(const std::vector<std::string> &names)
{
    json list = json::array();
    for (std::size_t i = 0; i < names.size() && i < PatchLevelCollector::maxListedPackages; ++i)
        list.push_back(names[i]);
    return list;
}

std::string plural(std::size_t n, const std::string &word)
{
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

} // namespace

PatchLevelCollector::PatchLevelCollector() = default;
PatchLevelCollector::~PatchLevelCollector() = default;

PatchLevelCollector::PendingUpdates
PatchLevelCollector::pendingUpdates(const CollectContext &context, PackageManager manager,
                                    bool &fromCache)
{
    fromCache = false;
    const std::string key = context.fs().root().string() + '\n' + std::string(toString(manager));
    bool changed = true;
    if (m_watch && m_watchKey == key)
        changed = m_watch->changedSinceLastCheck();
    if (!changed && m_cache) {
        fromCache = true;
        return *m_cache;
    }
    if (changed) {
        // Rebuilt on every change so that repositories added since are watched too. Made
        // before asking so a change during the query invalidates its answer next time.
        m_watch = std::make_unique<ChangeWatch>(hostPaths(context, watchedPaths(context, manager)));
        m_watchKey = key;
        m_cache.reset();
    }
    auto program = detect(context).program;
    auto pending = askPackageManager(context, manager, program);
    if (pending.error.empty())
        m_cache = pending;
    else
        m_cache.reset(); // asked again at the next collect
    return pending;
}

CheckResult PatchLevelCollector::collect(const CollectContext &context)
{
    json details;
    const auto now = context.host().clock().now();
    const auto detection = detect(context);

    details["package_manager"] =
        detection.manager ? json(std::string(toString(*detection.manager))) : json(nullptr);
    if (detection.manager) {
        details["package_manager_program"] = detection.program;
        details["package_database"] = detection.database;
    }

    const auto reboot = rebootState(context, details);

    std::optional<PendingUpdates> pending;
    std::string unknownReason = detection.reason;
    if (detection.manager) {
        std::string zoneName;
        const auto zone = logTimeZone(context, zoneName);
        putTime(details, "last_refresh", lastRefresh(context, *detection.manager), now);
        putTime(details, "last_upgrade", lastUpgrade(context, *detection.manager, zone), now);
        details["log_time_zone"] = zoneName;

        bool fromCache = false;
        pending = pendingUpdates(context, *detection.manager, fromCache);
        details["query_cached"] = fromCache;
        if (!pending->error.empty()) {
            details["query_error"] = pending->error;
            unknownReason = "could not ask " + std::string(toString(*detection.manager)) +
                            " for pending updates: " + pending->error;
            details["pending_updates"] = nullptr;
            details["security_updates"] = nullptr;
            pending.reset();
        } else {
            details["queried_at"] = pending->queriedAt;
            details["pending_updates"] = pending->total;
            details["updates"] = cappedList(pending->names);
            details["updates_truncated"] = pending->names.size() > maxListedPackages;
            if (pending->security) {
                details["security_updates"] = *pending->security;
                details["security_updates_unit"] = pending->securityUnit;
                details["security_update_names"] = cappedList(pending->securityNames);
            } else {
                details["security_updates"] = nullptr;
                details["security_updates_unknown_reason"] = pending->securityUnknownReason;
            }
        }
    } else {
        details["pending_updates"] = nullptr;
        details["security_updates"] = nullptr;
    }

    const std::string upgrade =
        detection.manager ? info(*detection.manager).upgradeCommand : std::string();
    const std::string rebootCommand = "sudo systemctl reboot";
    const bool securityPending = pending && pending->security.value_or(0) > 0;
    const bool rebootRequired = reboot.required.value_or(false);

    if (securityPending || rebootRequired) {
        std::vector<std::string> summary;
        std::string remediation;
        if (securityPending) {
            summary.push_back(plural(*pending->security, "security update") + " pending (" +
                              plural(pending->total, "update") + " in total)");
            remediation = "Install the pending updates: " + upgrade;
        }
        if (rebootRequired) {
            summary.push_back("reboot required: " + joined(reboot.reasons, "; "));
            remediation +=
                remediation.empty()
                    ? "Restart the computer to run the updated software: " + rebootCommand
                    : ", then restart the computer: " + rebootCommand;
        }
        if (!pending)
            summary.push_back("pending updates unknown: " + unknownReason);
        std::string text = joined(summary, "; ");
        text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
        return CheckResult::fail(std::string(id()), text, remediation, std::move(details));
    }
    if (!pending)
        return CheckResult::unknown(std::string(id()), unknownReason, std::move(details));
    if (!reboot.required)
        return CheckResult::unknown(std::string(id()), reboot.unknownReason, std::move(details));

    std::string summary = pending->total == 0 ? "No updates pending"
                                              : plural(pending->total, "update") +
                                                    " pending, none of them " + "security updates";
    if (!pending->security)
        summary = plural(pending->total, "update") +
                  " pending; pacman does not classify security updates";
    summary += ", no reboot required";
    return CheckResult::pass(std::string(id()), summary, std::move(details));
}

} // namespace vigil::posture

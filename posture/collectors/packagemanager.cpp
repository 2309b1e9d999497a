#include "posture/collectors/packagemanager.h"

#include <algorithm>

namespace vigil::posture {

namespace {

struct ManagerInfo
{
    PackageManager manager;
    std::vector<std::string> programs;  // first one found is run
    std::vector<std::string> databases; // any one present confirms the manager is in use
    std::string upgradeCommand;         // what a user runs to install pending updates
    std::string refreshCommand;         // what a user runs to refresh the package lists
};

const std::vector<ManagerInfo> &managers()
{
    static const std::vector<ManagerInfo> list = {
        {PackageManager::Apt,
         {"apt-get"},
         {"/var/lib/dpkg/status"},
         "sudo apt-get update && sudo apt-get dist-upgrade",
         "sudo apt-get update"},
        {PackageManager::Dnf,
         {"dnf", "dnf5"},
         {"/var/lib/rpm", "/usr/lib/sysimage/rpm"},
         "sudo dnf upgrade --refresh",
         "sudo dnf makecache --refresh"},
        {PackageManager::Zypper,
         {"zypper"},
         {"/var/lib/rpm", "/usr/lib/sysimage/rpm"},
         "sudo zypper refresh && sudo zypper patch",
         "sudo zypper refresh"},
        // Arch supports no partial upgrades: refreshing the lists alone (-Sy) and then
        // installing anything breaks, so its refresh is the full upgrade.
        {PackageManager::Pacman,
         {"pacman"},
         {"/var/lib/pacman/local"},
         "sudo pacman -Syu",
         "sudo pacman -Syu"},
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

struct Query
{
    Command command;
    CommandResult result;
};

// One query's commands share its time limit.
class QueryRunner
{
public:
    QueryRunner(CommandRunner &runner, const std::string &program, std::chrono::milliseconds limit,
                std::stop_token stop)
        : m_runner(runner), m_program(program), m_limit(limit),
          m_deadline(std::chrono::steady_clock::now() + limit), m_stop(std::move(stop))
    {
    }

    Query operator()(std::vector<std::string> arguments) const
    {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(
            m_deadline - std::chrono::steady_clock::now());
        Query q;
        q.command = Command{m_program, std::move(arguments),
                            std::clamp(left, std::chrono::milliseconds(0), m_limit), m_stop};
        if (q.command.timeout.count() == 0) {
            // Reported as the whole query's limit, which is what ran out.
            q.command.timeout = m_limit;
            q.result.outcome = CommandResult::Outcome::TimedOut;
            q.result.error = "no time left of the query's limit";
            return q;
        }
        q.result = m_runner.run(q.command);
        return q;
    }

private:
    CommandRunner &m_runner;
    std::string m_program;
    std::chrono::milliseconds m_limit;
    std::chrono::steady_clock::time_point m_deadline;
    std::stop_token m_stop;
};

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

} // namespace

PackageManagerDetection detectPackageManager(const CollectContext &context)
{
    PackageManagerDetection detection;
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

const std::string &upgradeCommand(PackageManager manager)
{
    return info(manager).upgradeCommand;
}

const std::string &refreshCommand(PackageManager manager)
{
    return info(manager).refreshCommand;
}

// Directories (and their repository subdirectories) that change when packages are installed
// or package lists refreshed. Watches are not recursive, so per-repository metadata
// directories are listed one by one.
std::vector<std::string> packageWatchPaths(const CollectContext &context, PackageManager manager)
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

PendingUpdates queryPendingUpdates(CommandRunner &runner, PackageManager manager,
                                   const std::string &program, std::chrono::milliseconds timeout,
                                   std::stop_token stop)
{
    const QueryRunner runQuery(runner, program, timeout, std::move(stop));
    PendingUpdates pending;
    pending.securityUnit = "packages";
    switch (manager) {
    case PackageManager::Apt: {
        // -s simulates as an ordinary user; NoLocking keeps it from needing the dpkg lock.
        const auto q = runQuery({"-s", "-o", "Debug::NoLocking=true", "dist-upgrade"});
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
        const auto all = runQuery({"-q", "--cacheonly", "check-update"});
        const auto allList = dnfTable(all, pending.error);
        if (!allList)
            break;
        const auto security = runQuery({"-q", "--cacheonly", "check-update", "--security"});
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
        const auto all = runQuery({"--non-interactive", "--xmlout", "list-updates"});
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
            runQuery({"--non-interactive", "--xmlout", "list-patches", "--category", "security"});
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
        const auto q = runQuery({"-Qu"});
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
    return pending;
}

} // namespace vigil::posture

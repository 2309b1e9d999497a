#include "posture/collectors/packagetimes.h"

#include <QDateTime>
#include <algorithm>

namespace vigil::posture {

namespace {

using TimePoint = std::chrono::system_clock::time_point;

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

PackageTime fromLog(const CollectContext &context, const std::vector<std::string> &logs,
                    std::optional<LogTimestamp> (*parse)(std::string_view), const QTimeZone &zone)
{
    PackageTime fact;
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

} // namespace

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

PackageTime lastRefresh(const CollectContext &context, PackageManager manager)
{
    PackageTime fact;
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

PackageTime lastUpgrade(const CollectContext &context, PackageManager manager,
                        const QTimeZone &zone)
{
    PackageTime fact;
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

} // namespace vigil::posture

#pragma once

#include "posture/collector.h"
#include "posture/collectors/packagemanager.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace vigil::posture {

class ChangeWatch;

// Pending updates (and pending security updates) as the package manager itself reports them,
// when the package lists were last refreshed and packages last upgraded, and whether a reboot
// is needed to run what is installed.
//
// Fail: security updates pending, or a reboot required (whatever else could be learned).
// Unknown: the package manager could not be asked, whether a reboot is needed can't be told,
// or nothing is pending but the package lists are older than maxListAgeDays (or their refresh
// time is unknown): an answer computed from old lists misses what was published since.
// Pass otherwise. pacman does not classify security updates: there, security_updates is null
// with a reason and the status comes from the other facts (the summary says so).
//
// Asking the package manager is slow (seconds; more than a collection's deadline on a busy
// machine), so it is asked on a thread of the collector's with its own generous limit, and
// collect() waits for the answer only until shortly before its deadline. An answer not in yet
// makes pending updates unknown ("still computing", query_in_progress in details) and is
// picked up by a later collect() without asking again. The thread holds only shared state (the
// host's command runner and a Query), never the context, so the host may go before it ends.
// Destroying the collector stops the query (its command's process group is killed) and joins
// the thread; its answer is dropped.
//
// At most one query runs at a time: a change to the package state seen while one runs marks
// its answer outdated, and the next query starts only once it has ended (its answer is not
// used). The answer is kept until the package database or the package lists change
// (inotify, no timer); where that can't be watched, for unwatchedCacheTtl instead. A failed
// answer is reported once and asked again at the next collect().
class PatchLevelCollector final : public Collector
{
public:
    static constexpr std::chrono::milliseconds queryTimeout{120000};
    // Left before the collector's deadline for building the result after waiting.
    static constexpr std::chrono::milliseconds deadlineMargin{250};
    static constexpr std::size_t maxListedPackages = 50;
    // Package lists older than this no longer vouch for "no security update pending": a
    // machine that refreshes them daily (apt's and dnf's timers) is never near it, one that
    // is offline or whose refresh broke shows up within two weeks.
    static constexpr int maxListAgeDays = 14;
    // How long an answer is kept when the package state can't be watched (no inotify, or a
    // path that exists but can't be watched, e.g. at the watch limit).
    static constexpr std::chrono::hours unwatchedCacheTtl{1};

    // How a change to the package state is noticed. Production always uses Inotify, which
    // falls back to the TTL by itself when the watch isn't working. Ttl exists for tests:
    // inotify can't be made to fail on demand (not at all when running as root).
    enum class ChangeDetection
    {
        Inotify,
        Ttl
    };

    explicit PatchLevelCollector(ChangeDetection detection = ChangeDetection::Inotify);
    ~PatchLevelCollector() override;

    std::string_view id() const override { return "patch_level"; }
    CheckResult collect(const CollectContext &context) override;

private:
    struct Query;
    struct Answer
    {
        std::optional<PendingUpdates> pending; // nullopt while the query is still running
        bool fromCache = false;
        std::chrono::system_clock::time_point startedAt; // of the query still running
        bool outdated = false; // the query still running was asked before a change
    };

    Answer pendingUpdates(const CollectContext &context, PackageManager manager,
                          const std::string &program);

    ChangeDetection m_detection;
    std::unique_ptr<ChangeWatch> m_watch;
    std::string m_watchKey;      // file system root and package manager the watch was made for
    bool m_watchWorking = false; // else the cache expires after unwatchedCacheTtl
    std::optional<PendingUpdates> m_cache;
    std::chrono::system_clock::time_point m_cacheAskedAt; // the host's clock
    std::shared_ptr<Query> m_inFlight; // shared with the thread asking the package manager
    bool m_inFlightOutdated = false;   // a change was seen after m_inFlight was asked
    std::jthread m_queryThread;        // the latest query's; last, so it stops first
};

} // namespace vigil::posture

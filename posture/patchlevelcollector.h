#pragma once

#include "collector.h"
#include "packagemanager.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace vigil::posture {

class ChangeWatch;

// Pending updates (and pending security updates) as the package manager itself reports them,
// when the package lists were last refreshed and packages last upgraded, and whether a reboot
// is needed to run what is installed.
//
// Fail: security updates pending, or a reboot required (whatever else could be learned).
// Unknown: the package manager could not be asked, or whether a reboot is needed can't be told.
// Pass otherwise. pacman does not classify security updates: there, security_updates is null
// with a reason and the status comes from the other facts (the summary says so).
//
// Asking the package manager is slow (seconds; more than a collection's deadline on a busy
// machine), so it is asked on a detached thread with its own generous limit, and collect()
// waits for the answer only until shortly before its deadline. An answer not in yet makes
// pending updates unknown ("still computing", query_in_progress in details) and is picked up
// by a later collect() without asking again. The thread holds only shared state (the host's
// command runner and a Query), never the collector or the context, so the collector may be
// destroyed while it runs; its answer is then dropped, as is one asked before a change.
// The answer is kept until the package database or the package lists change (inotify, no
// timer); a failed answer is reported once and asked again at the next collect().
class PatchLevelCollector final : public Collector
{
public:
    static constexpr std::chrono::milliseconds queryTimeout{120000};
    // Left before the collector's deadline for building the result after waiting.
    static constexpr std::chrono::milliseconds deadlineMargin{250};
    static constexpr std::size_t maxListedPackages = 50;

    PatchLevelCollector();
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
    };

    Answer pendingUpdates(const CollectContext &context, PackageManager manager,
                          const std::string &program);

    std::unique_ptr<ChangeWatch> m_watch;
    std::string m_watchKey; // file system root and package manager the watch was made for
    std::optional<PendingUpdates> m_cache;
    std::shared_ptr<Query> m_inFlight; // shared with the thread asking the package manager
};

} // namespace vigil::posture

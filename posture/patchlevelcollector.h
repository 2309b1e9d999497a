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
// Asking the package manager is slow (seconds), so its answer is kept until the package
// database or the package lists change (inotify, no timer); a failed answer is never kept.
class PatchLevelCollector final : public Collector
{
public:
    static constexpr std::chrono::milliseconds commandTimeout{5000};
    static constexpr std::size_t maxListedPackages = 50;

    PatchLevelCollector();
    ~PatchLevelCollector() override;

    std::string_view id() const override { return "patch_level"; }
    CheckResult collect(const CollectContext &context) override;

private:
    PendingUpdates pendingUpdates(const CollectContext &context, PackageManager manager,
                                  const std::string &program, bool &fromCache);

    std::unique_ptr<ChangeWatch> m_watch;
    std::string m_watchKey; // file system root and package manager the watch was made for
    std::optional<PendingUpdates> m_cache;
};

} // namespace vigil::posture

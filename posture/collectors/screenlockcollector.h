#pragma once

#include "posture/collector.h"
#include "posture/host/changewatch.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vigil::posture {

// "screen_lock": the desktop session locks itself after a bounded idle time. Runs in the
// user's session (it reads that user's settings); GNOME-family and Cinnamon via gsettings,
// KDE via kscreenlockerrc, XFCE via xfce4-screensaver's xfconf channel.
class ScreenLockCollector final : public Collector
{
public:
    static constexpr std::string_view checkId = "screen_lock";
    // Longest idle time before the screen locks that still passes (policy may tighten it).
    static constexpr int maxSecondsToLock = 900;
    static constexpr std::chrono::milliseconds gsettingsTimeout{3000};

    ScreenLockCollector();
    ~ScreenLockCollector() override;

    std::string_view id() const override { return checkId; }
    CheckResult collect(const CollectContext &context) override;

    // How many times gsettings values were read rather than served from the cache.
    int gsettingsReads() const { return m_gsettingsReads; }

private:
    struct GsettingsValues
    {
        std::string schemaPrefix; // "org.gnome.desktop" or "org.cinnamon.desktop"
        bool lockEnabled = false;
        std::uint32_t idleDelay = 0;
        std::uint32_t lockDelay = 0;
        // <prefix>.lockdown disable-lock-screen: the shell refuses to lock at all when set.
        bool lockDisabledByLockdown = false;
    };
    std::optional<GsettingsValues> cachedGsettings(const CollectContext &context,
                                                   const std::string &schemaPrefix,
                                                   std::string &error);

    // gsettings spawns cost ~10 ms each: reuse the values until dconf's databases change.
    std::vector<std::filesystem::path> m_watchedPaths;
    std::unique_ptr<ChangeWatch> m_watch;
    std::optional<GsettingsValues> m_cache;
    int m_gsettingsReads = 0;
};

} // namespace vigil::posture

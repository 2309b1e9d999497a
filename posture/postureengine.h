#pragma once

#include "posture/collector.h"
#include "posture/host/host.h"
#include "posture/posturesnapshot.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <vector>

namespace vigil::posture {

// Runs every collector concurrently, each against its own deadline, and gathers a snapshot.
// A collector that overruns (a hung mount, say) is reported unknown and left to finish on its
// own thread; it is not started again until it has.
class PostureEngine
{
public:
    static constexpr std::chrono::milliseconds defaultTimeout{5000};

    PostureEngine(std::shared_ptr<const Host> host,
                  std::vector<std::shared_ptr<Collector>> collectors,
                  std::chrono::milliseconds collectorTimeout = defaultTimeout);

    PostureSnapshot collect();

private:
    struct Slot
    {
        std::shared_ptr<Collector> collector;
        std::shared_ptr<std::atomic<bool>> busy;
    };

    void startCollection(const Slot &slot, std::shared_ptr<std::promise<CheckResult>> promise,
                         std::chrono::steady_clock::time_point deadline);

    std::shared_ptr<const Host> m_host;
    std::vector<Slot> m_slots;
    std::chrono::milliseconds m_timeout;
    std::mutex m_collecting;
};

} // namespace vigil::posture

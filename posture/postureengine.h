#pragma once

#include "posture/collector.h"
#include "posture/host/host.h"
#include "posture/posturesnapshot.h"

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::posture {

// Runs every collector concurrently, each against its own deadline, and gathers a snapshot.
// A collector that overruns (a hung mount, say) is reported unknown and left to finish on its
// own thread, which the engine keeps; it is not started again until it has, so a stuck check
// never piles up threads. Destroying the engine asks every collection still running to stop
// (killing the process groups of its commands) and joins its thread.
class PostureEngine
{
public:
    static constexpr std::chrono::milliseconds defaultTimeout{5000};
    // How long the destructor waits for collections that were asked to stop.
    static constexpr std::chrono::milliseconds shutdownTimeout{5000};

    PostureEngine(std::shared_ptr<const Host> host,
                  std::vector<std::shared_ptr<Collector>> collectors,
                  std::chrono::milliseconds collectorTimeout = defaultTimeout);
    ~PostureEngine();
    PostureEngine(const PostureEngine &) = delete;
    PostureEngine &operator=(const PostureEngine &) = delete;

    PostureSnapshot collect();

private:
    // Whether a collector's thread is still inside its collection; shared with that thread.
    struct RunState
    {
        std::mutex mutex;
        std::condition_variable idle;
        bool busy = false;

        // False while the collector is still running from an earlier collection.
        bool tryStart();
        void finish();
    };
    struct Slot
    {
        std::shared_ptr<Collector> collector;
        std::shared_ptr<RunState> run;
        std::jthread thread; // the latest collection's; finished unless run->busy
    };

    void startCollection(Slot &slot, std::shared_ptr<std::promise<CheckResult>> promise,
                         std::chrono::steady_clock::time_point deadline);

    std::shared_ptr<const Host> m_host;
    std::vector<Slot> m_slots;
    std::chrono::milliseconds m_timeout;
    std::mutex m_collecting;
};

} // namespace vigil::posture

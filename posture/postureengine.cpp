#include "posture/postureengine.h"

#include "posture/posturelogging.h"

#include <future>
#include <thread>
#include <utility>

namespace vigil::posture {

namespace {
// Commands stop at the deadline; the grace covers the collector's own bookkeeping after it.
constexpr std::chrono::milliseconds grace{250};

// Collectors pass through whatever bytes the machine holds (a hostname, a mount point, a
// package name); the wire form must be valid UTF-8, so invalid sequences become U+FFFD here.
nlohmann::json withValidUtf8(const nlohmann::json &value)
{
    return nlohmann::json::parse(
        value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void makeValidUtf8(CheckResult &result)
{
    const auto texts = withValidUtf8({result.summary, result.remediation, result.reason});
    result.summary = texts[0].get<std::string>();
    result.remediation = texts[1].get<std::string>();
    result.reason = texts[2].get<std::string>();
    result.details = withValidUtf8(result.details);
}
} // namespace

bool PostureEngine::RunState::tryStart()
{
    const std::lock_guard lock(mutex);
    return !std::exchange(busy, true);
}

void PostureEngine::RunState::finish()
{
    {
        const std::lock_guard lock(mutex);
        busy = false;
    }
    idle.notify_all();
}

PostureEngine::PostureEngine(std::shared_ptr<const Host> host,
                             std::vector<std::shared_ptr<Collector>> collectors,
                             std::chrono::milliseconds collectorTimeout)
    : m_host(std::move(host)), m_timeout(collectorTimeout)
{
    for (auto &collector : collectors)
        m_slots.push_back({std::move(collector), std::make_shared<RunState>(), {}});
}

PostureEngine::~PostureEngine()
{
    // All are asked first, so their commands are killed together rather than one by one.
    for (auto &slot : m_slots)
        slot.thread.request_stop();
    const auto giveUp = std::chrono::steady_clock::now() + shutdownTimeout;
    for (auto &slot : m_slots) {
        if (!slot.thread.joinable())
            continue;
        std::unique_lock lock(slot.run->mutex);
        if (slot.run->idle.wait_until(lock, giveUp, [&] { return !slot.run->busy; })) {
            lock.unlock();
            slot.thread.join();
            continue;
        }
        // Stuck where no stop reaches (an uninterruptible read on a hung mount, say): waiting
        // on would hang the owner's shutdown. The thread holds only shared state, never the
        // engine, so it may finish after it.
        qCWarning(lcPosture, "%s did not stop within %lld ms; left to finish on its own",
                  std::string(slot.collector->id()).c_str(),
                  static_cast<long long>(shutdownTimeout.count()));
        slot.thread.detach();
    }
}

void PostureEngine::startCollection(Slot &slot, std::shared_ptr<std::promise<CheckResult>> promise,
                                    std::chrono::steady_clock::time_point deadline)
{
    std::jthread thread([collector = slot.collector, run = slot.run, host = m_host, promise,
                         deadline](std::stop_token stop) {
        const auto begin = std::chrono::steady_clock::now();
        CheckResult result;
        try {
            result = collector->collect(CollectContext(*host, deadline, std::move(stop)));
        } catch (const std::exception &e) {
            qCWarning(lcPosture, "%s threw: %s", std::string(collector->id()).c_str(), e.what());
            result = CheckResult::unknown(std::string(collector->id()),
                                          std::string("internal error: ") + e.what());
        }
        result.id = std::string(collector->id());
        makeValidUtf8(result);
        result.duration = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - begin);
        // Cleared before the result is published, so the next collection, which may
        // start the moment it arrives, never mistakes a finished run for a stuck one.
        run->finish();
        promise->set_value(std::move(result));
    });
    // The slot was not busy, so the previous thread has finished: joining it is immediate.
    slot.thread = std::move(thread);
}

PostureSnapshot PostureEngine::collect()
{
    std::lock_guard lock(m_collecting);
    PostureSnapshot snapshot;
    snapshot.collectedAt = m_host->clock().now();
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + m_timeout;

    std::vector<std::future<CheckResult>> pending;
    for (auto &slot : m_slots) {
        if (!slot.run->tryStart()) {
            qCDebug(lcPosture, "%s is still running from an earlier collection; not started",
                    std::string(slot.collector->id()).c_str());
            std::promise<CheckResult> stuck;
            stuck.set_value(
                CheckResult::unknown(std::string(slot.collector->id()),
                                     "the previous collection is still running past its timeout"));
            pending.push_back(stuck.get_future());
            continue;
        }
        auto promise = std::make_shared<std::promise<CheckResult>>();
        pending.push_back(promise->get_future());
        try {
            startCollection(slot, promise, deadline);
        } catch (const std::system_error &e) {
            // No thread to be had (RLIMIT_NPROC, memory): report it and try again next time.
            qCWarning(lcPosture, "cannot start a thread for %s: %s",
                      std::string(slot.collector->id()).c_str(), e.what());
            slot.run->finish();
            promise->set_value(CheckResult::unknown(
                std::string(slot.collector->id()),
                std::string("could not start a thread for the check: ") + e.what()));
        }
    }

    for (std::size_t i = 0; i < pending.size(); ++i) {
        if (pending[i].wait_until(deadline + grace) == std::future_status::ready) {
            snapshot.checks.push_back(pending[i].get());
            continue;
        }
        const std::string id(m_slots[i].collector->id());
        qCDebug(lcPosture, "%s overran its %lld ms deadline; reported unknown", id.c_str(),
                static_cast<long long>(m_timeout.count()));
        auto result = CheckResult::unknown(id, "timed out after " +
                                                   std::to_string(m_timeout.count()) + " ms");
        result.duration = m_timeout;
        snapshot.checks.push_back(std::move(result));
    }
    snapshot.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return snapshot;
}

} // namespace vigil::posture

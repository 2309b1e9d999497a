#pragma once

#include "server/filewatcher.h"
#include "server/policy/policy.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vigil::server {

// The policy in force, read on every request, replaced when its file changes. A replaced file
// that does not validate leaves the policy in force as it was and is reported through onError;
// a valid one takes effect for every request that reads current() afterwards.
class PolicyStore
{
public:
    using ReloadCallback = std::function<void(const std::shared_ptr<const Policy> &)>;
    using ErrorCallback = std::function<void(const std::string &)>;

    // Loads `file` (throws PolicyError), then follows it with a FileWatcher (throws
    // std::system_error when it cannot watch). Callbacks run on the watcher's thread:
    // onReload after every successful reload, onError with "<file>: <what is wrong>" for a
    // file that does not load and for a watch that stops working.
    explicit PolicyStore(std::filesystem::path file, ReloadCallback onReload = {},
                         ErrorCallback onError = {});
    // A fixed policy, never reloaded (tests, `policy check`).
    explicit PolicyStore(Policy fixed);
    // Stops the watcher thread.
    ~PolicyStore();

    PolicyStore(const PolicyStore &) = delete;
    PolicyStore &operator=(const PolicyStore &) = delete;

    // Never null. An atomic load: safe from any thread and cheap.
    std::shared_ptr<const Policy> current() const { return m_current.load(); }

    // Loads the file now, as a change would (SIGHUP, the admin CLI). Returns whether it
    // loaded; a failure is also reported through onError. False for a fixed policy.
    bool reload();

    const std::optional<std::filesystem::path> &file() const { return m_file; }

private:
    std::optional<std::filesystem::path> m_file;
    ReloadCallback m_onReload;
    ErrorCallback m_onError;
    std::mutex m_reloading; // one load at a time, in the order changes arrive
    std::atomic<std::shared_ptr<const Policy>> m_current;
    // Last: destroyed (its thread joined) before anything the thread uses.
    std::unique_ptr<FileWatcher> m_watcher;
};

} // namespace vigil::server

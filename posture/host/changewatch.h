#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vigil::posture {

// Tells whether any of a set of files or directories changed since the last ask. Built on
// inotify: the kernel queues the events, so asking costs one non-blocking read and nothing
// runs in between — no timer, no polling, no event loop needed.
class ChangeWatch
{
public:
    // Paths on this machine (already mapped through FileSystem::hostPath). A directory watch
    // sees entries created, deleted, renamed or written inside it. Paths that don't exist
    // are skipped; if one appears later the watch reports a change at the next ask.
    explicit ChangeWatch(std::vector<std::filesystem::path> paths);
    ~ChangeWatch();
    ChangeWatch(const ChangeWatch &) = delete;
    ChangeWatch &operator=(const ChangeWatch &) = delete;

    // True when something changed, the queue overflowed, or inotify is unavailable (then
    // every ask says "changed", so a cache built on it degrades to no cache, never to stale).
    bool changedSinceLastCheck();
    // False when inotify is unavailable or a path that exists could not be watched (watch
    // limit reached, no permission): then a cache must not rely on this watch.
    bool isActive() const { return m_fd >= 0 && m_complete; }
    // The inotify descriptor (non-blocking; -1 without inotify), readable when something
    // changed: for an event loop that wants to hear of a change rather than ask.
    int descriptor() const { return m_fd; }

private:
    std::vector<std::filesystem::path> m_paths;
    std::vector<int> m_descriptors; // -1 while not watched
    int m_fd = -1;
    bool m_complete = true;
};

} // namespace vigil::posture

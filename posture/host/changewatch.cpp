#include "posture/host/changewatch.h"

#include <cerrno>
#include <sys/inotify.h>
#include <unistd.h>

namespace vigil::posture {

namespace {
constexpr uint32_t watchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
                               IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_MODIFY;
}

ChangeWatch::ChangeWatch(std::vector<std::filesystem::path> paths)
    : m_paths(std::move(paths)), m_descriptors(m_paths.size(), -1)
{
    m_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_fd < 0)
        return;
    for (std::size_t i = 0; i < m_paths.size(); ++i) {
        m_descriptors[i] = ::inotify_add_watch(m_fd, m_paths[i].c_str(), watchMask);
        if (m_descriptors[i] < 0 && errno != ENOENT)
            m_complete = false;
    }
}

ChangeWatch::~ChangeWatch()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

bool ChangeWatch::changedSinceLastCheck()
{
    if (m_fd < 0)
        return true;
    bool changed = false;
    alignas(inotify_event) char buffer[8192];
    for (;;) {
        const auto got = ::read(m_fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        changed = true;
        for (ssize_t offset = 0; offset < got;) {
            const auto *event = reinterpret_cast<const inotify_event *>(buffer + offset);
            if (event->mask & IN_IGNORED) {
                // The watched path itself went away (deleted, or replaced by a rename).
                for (auto &wd : m_descriptors)
                    if (wd == event->wd)
                        wd = -1;
            }
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
    }
    // A path that did not exist before (or was replaced) and does now is itself a change.
    for (std::size_t i = 0; i < m_paths.size(); ++i) {
        if (m_descriptors[i] < 0 && ::access(m_paths[i].c_str(), F_OK) == 0) {
            m_descriptors[i] = ::inotify_add_watch(m_fd, m_paths[i].c_str(), watchMask);
            changed = true;
        }
    }
    return changed;
}

} // namespace vigil::posture

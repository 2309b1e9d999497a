#include "server/filewatcher.h"

#include <cerrno>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace vigil::server {

namespace {

std::system_error systemError(const std::string &what)
{
    return std::system_error(errno, std::generic_category(), what);
}

bool isEmptyRegularFile(const std::filesystem::path &file)
{
    struct stat status
    {
    };
    return ::stat(file.c_str(), &status) == 0 && S_ISREG(status.st_mode) && status.st_size == 0;
}

} // namespace

FileWatcher::FileWatcher(std::filesystem::path file, std::function<void()> onChange,
                         std::function<void(const std::string &)> onError)
    : m_file(std::filesystem::absolute(file)), m_name(m_file.filename().string()),
      m_onChange(std::move(onChange)), m_onError(std::move(onError))
{
    const auto directory = m_file.parent_path();
    m_inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (m_inotify < 0)
        throw systemError("inotify_init1");
    m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m_wake < 0) {
        const auto error = systemError("eventfd");
        ::close(m_inotify);
        throw error;
    }
    if (::inotify_add_watch(m_inotify, directory.c_str(),
                            IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF |
                                IN_MOVE_SELF | IN_ONLYDIR) < 0) {
        const auto error = systemError("cannot watch " + directory.string());
        ::close(m_wake);
        ::close(m_inotify);
        throw error;
    }
    try {
        m_thread = std::thread([this] { run(); });
    } catch (...) {
        ::close(m_wake);
        ::close(m_inotify);
        throw;
    }
}

FileWatcher::~FileWatcher()
{
    const std::uint64_t one = 1;
    // An eventfd write of 1 cannot fail short of the counter overflowing, which one write
    // never does.
    [[maybe_unused]] const auto written = ::write(m_wake, &one, sizeof one);
    m_thread.join();
    ::close(m_wake);
    ::close(m_inotify);
}

void FileWatcher::reportError(const std::string &message)
{
    if (m_onError)
        m_onError(message);
}

void FileWatcher::run()
{
    const auto directory = m_file.parent_path().string();
    pollfd descriptors[2] = {{m_inotify, POLLIN, 0}, {m_wake, POLLIN, 0}};
    for (;;) {
        if (::poll(descriptors, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            reportError("stopped watching " + m_file.string() +
                        ": poll: " + std::generic_category().message(errno));
            return;
        }
        if (descriptors[1].revents != 0)
            return;
        if (descriptors[0].revents == 0)
            continue;

        alignas(inotify_event) char buffer[16 * 1024];
        const auto length = ::read(m_inotify, buffer, sizeof buffer);
        if (length < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            reportError("stopped watching " + m_file.string() +
                        ": read: " + std::generic_category().message(errno));
            return;
        }
        // One batch of events is one change: a create and the close after writing, read
        // together, reload once.
        bool changed = false;
        std::string lost;
        for (ssize_t offset = 0; offset < length;) {
            const auto *event = reinterpret_cast<const inotify_event *>(buffer + offset);
            offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
            if (event->mask & IN_Q_OVERFLOW)
                changed = true; // events were dropped; one of them may have been ours
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                lost = directory + " was removed or renamed";
            if (event->len == 0 || m_name != event->name)
                continue;
            if (event->mask & (IN_CLOSE_WRITE | IN_MOVED_TO))
                changed = true;
            else if ((event->mask & IN_CREATE) && !isEmptyRegularFile(m_file))
                changed = true; // a hard link or symlink made in place gets no close event
        }
        if (changed && m_onChange)
            m_onChange();
        if (!lost.empty()) {
            reportError("stopped watching " + m_file.string() + ": " + lost);
            return;
        }
    }
}

} // namespace vigil::server

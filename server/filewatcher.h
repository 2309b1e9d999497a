#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace vigil::server {

// Calls onChange when one file is replaced or rewritten. Watches the file's parent directory
// with inotify, because editors and `mv` replace a file by renaming another onto it, which a
// watch on the file itself would not see. A change is the file being closed after writing
// (IN_CLOSE_WRITE), renamed onto (IN_MOVED_TO), or created (IN_CREATE) non-empty — a file
// created empty is being written and is reported when it is closed.
//
// A background thread sleeps in poll() on the inotify descriptor and an eventfd that the
// destructor signals: no timer, no polling loop. Callbacks run on that thread, one at a time;
// onError is called once if the watch stops working (the directory removed or renamed, a
// read error), after which nothing more is reported.
class FileWatcher
{
public:
    // Throws std::system_error when inotify, the watch or the thread cannot be set up (a
    // missing directory, the inotify limits).
    FileWatcher(std::filesystem::path file, std::function<void()> onChange,
                std::function<void(const std::string &)> onError = {});
    // Wakes the thread and joins it; a callback in progress finishes first.
    ~FileWatcher();

    FileWatcher(const FileWatcher &) = delete;
    FileWatcher &operator=(const FileWatcher &) = delete;

    const std::filesystem::path &file() const { return m_file; }

private:
    void run();
    void reportError(const std::string &message);

    std::filesystem::path m_file;
    std::string m_name;
    std::function<void()> m_onChange;
    std::function<void(const std::string &)> m_onError;
    int m_inotify = -1;
    int m_wake = -1;
    std::thread m_thread;
};

} // namespace vigil::server

#pragma once

#include "posture/host/changewatch.h"

#include <QObject>
#include <QTimer>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

class QSocketNotifier;

namespace vigil::agent {

// Changes to files and directories, as the kernel reports them (posture's inotify ChangeWatch
// read through a QSocketNotifier): the package database, which an installation rewrites, and
// /etc/vigil, where an installer may drop the enrollment token after vigild started. A change
// is announced once things have been quiet for settle, so that a package installation that
// writes for minutes makes one report, after it.
class PathMonitor : public QObject
{
    Q_OBJECT

public:
    PathMonitor(std::vector<std::filesystem::path> paths, std::chrono::milliseconds settle,
                QObject *parent = nullptr);
    ~PathMonitor() override;

    // False without inotify or when a path that exists could not be watched: then nothing is
    // announced, and the agent's timer alone starts reports.
    bool isActive() const { return m_watch.isActive(); }

    // Where each package manager keeps its database and package lists.
    static std::vector<std::filesystem::path> packageDatabasePaths();

Q_SIGNALS:
    void changed();

private:
    void readPending();

    posture::ChangeWatch m_watch;
    QSocketNotifier *m_notifier = nullptr;
    QTimer m_settle;
};

// Device, inode, size and change time of file (symbolic links followed), or none when it
// cannot be examined: a new or rewritten file differs. What tells a change of a watched file
// from a change beside it in its directory.
std::optional<std::string> fileIdentity(const std::filesystem::path &file);

} // namespace vigil::agent

#include "app/agent/triggers/pathmonitor.h"

#include <QSocketNotifier>
#include <sys/stat.h>

namespace vigil::agent {

PathMonitor::PathMonitor(std::vector<std::filesystem::path> paths, std::chrono::milliseconds settle,
                         QObject *parent)
    : QObject(parent), m_watch(std::move(paths))
{
    m_settle.setSingleShot(true);
    m_settle.setInterval(settle);
    connect(&m_settle, &QTimer::timeout, this, &PathMonitor::changed);
    if (m_watch.descriptor() < 0)
        return;
    m_notifier = new QSocketNotifier(m_watch.descriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &PathMonitor::readPending);
}

PathMonitor::~PathMonitor() = default;

std::vector<std::filesystem::path> PathMonitor::packageDatabasePaths()
{
    // Directories rather than files: dpkg and rpm replace their files by rename. Paths that do
    // not exist here are skipped by the watch.
    return {"/var/lib/dpkg", "/var/lib/apt/lists", "/var/lib/rpm", "/usr/lib/sysimage/rpm"};
}

std::optional<std::string> fileIdentity(const std::filesystem::path &file)
{
    struct stat status
    {
    };
    if (::stat(file.c_str(), &status) != 0)
        return std::nullopt;
    return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) + ":" +
           std::to_string(status.st_size) + ":" + std::to_string(status.st_ctim.tv_sec) + "." +
           std::to_string(status.st_ctim.tv_nsec);
}

void PathMonitor::readPending()
{
    // Drains the queue; each event restarts the quiet period.
    if (m_watch.changedSinceLastCheck())
        m_settle.start();
}

} // namespace vigil::agent

#include "app/agent/configreloader.h"

#include "app/agent/agentlogging.h"
#include "app/agent/triggers/pathmonitor.h"

namespace vigil::agent {

using namespace std::chrono_literals;

VigildConfig ConfigReloader::read(const std::filesystem::path &file, bool mustExist)
{
    if (mustExist)
        return VigildConfig::load(file);
    try {
        return VigildConfig::load(file);
    } catch (const ConfigError &e) {
        if (e.kind() != ConfigError::Kind::Missing)
            throw;
        qCInfo(lcAgent, "no %s: using the defaults", file.c_str());
        return VigildConfig{};
    }
}

// The file is made absolute, so that `vigild --config vigild.json` watches the directory it was
// started in rather than none.
ConfigReloader::ConfigReloader(std::filesystem::path file, bool mustExist, QObject *parent)
    : QObject(parent), m_file(std::filesystem::absolute(file)), m_mustExist(mustExist),
      // An installer writes the file and its CA in quick succession, an editor a temporary file
      // it renames: one read once the directory has been quiet for a second.
      m_monitor(new PathMonitor({m_file.parent_path()}, 1s, this)),
      m_readIdentity(fileIdentity(m_file))
{
    connect(m_monitor, &PathMonitor::changed, this, &ConfigReloader::check);
}

ConfigReloader::~ConfigReloader() = default;

bool ConfigReloader::isActive() const
{
    return m_monitor->isActive();
}

void ConfigReloader::check()
{
    const auto identity = fileIdentity(m_file);
    if (identity == m_readIdentity)
        return;
    m_readIdentity = identity;
    try {
        const VigildConfig config = read(m_file, m_mustExist);
        qCInfo(lcAgent, "%s changed: read it again", m_file.c_str());
        Q_EMIT loaded(config);
    } catch (const ConfigError &e) {
        // Logged once per version of the file: the identity above keeps it from being read
        // again until it changes.
        qCWarning(lcAgent,
                  "%s changed but is refused, so vigild keeps the configuration it has: %s",
                  m_file.c_str(), e.what());
        Q_EMIT refused(QString::fromUtf8(e.what()));
    }
}

VigildConfig liveChanges(const VigildConfig &running, const VigildConfig &changed)
{
    // Changing these under a running service would leave the old lock or socket behind, or the
    // tray and vigilctl looking in the wrong place.
    std::string atRestart;
    const auto keep = [&](auto &member, const auto &value, const char *key) {
        if (member != value)
            atRestart += std::string(atRestart.empty() ? "" : ", ") + key;
        member = value;
    };
    VigildConfig next = changed;
    keep(next.stateDirectory, running.stateDirectory, "state_directory");
    keep(next.socketPath, running.socketPath, "socket_path");
    keep(next.privilegedGroup, running.privilegedGroup, "privileged_group");
    if (!atRestart.empty())
        qCWarning(lcAgent,
                  "the configuration's %s changed: that takes effect when vigild starts "
                  "again",
                  atRestart.c_str());
    return next;
}

} // namespace vigil::agent

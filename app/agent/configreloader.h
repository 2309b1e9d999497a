#pragma once

// vigild's configuration file, read at start and again whenever it changes, so that a package
// installed before the site's values were known enrolls once an installer drops them in
// (docs/deployment.md, "Before the site's values are known"). The file's directory is watched
// with inotify, as for the enrollment token (PathMonitor; no polling), and a change is read
// once things have been quiet for a second, so that an editor's or installer's temporary file
// and rename make one read of the finished file. Whether a new configuration is used is the
// agent's decision (Agent::reconfigure): only while the device is not enrolled.

#include "app/agent/vigildconfig.h"

#include <QObject>
#include <QString>
#include <filesystem>
#include <optional>
#include <string>

namespace vigil::agent {

class PathMonitor;

class ConfigReloader : public QObject
{
    Q_OBJECT

public:
    // The configuration in file. When mustExist is false (vigild's default file), a missing file
    // means the defaults: a package installed before the site's values are known. Throws
    // ConfigError.
    static VigildConfig read(const std::filesystem::path &file, bool mustExist);

    // Watches file, which vigild reads (with mustExist) just after: a change made between the
    // two is then announced rather than missed.
    ConfigReloader(std::filesystem::path file, bool mustExist, QObject *parent = nullptr);
    ~ConfigReloader() override;

    // False without inotify: changes are then read at the next start only.
    bool isActive() const;

Q_SIGNALS:
    // The file changed and holds a valid configuration (perhaps the same values).
    void loaded(const vigil::agent::VigildConfig &config);
    // The file changed and is refused: reason is ConfigError's text (file, member, problem).
    void refused(const QString &reason);

private:
    void check();

    std::filesystem::path m_file;
    bool m_mustExist;
    PathMonitor *m_monitor; // a child
    // The file as last read (device, inode, size, change time; none when missing): a change
    // beside it in the directory (the token file) is no reason to read it, or to log its
    // refusal, again.
    std::optional<std::string> m_readIdentity;
};

// What vigild running with `running` takes from a changed file: everything but the resources
// it took at start (state_directory, socket_path, privileged_group), which stay as they are,
// with a warning, until the next start.
VigildConfig liveChanges(const VigildConfig &running, const VigildConfig &changed);

} // namespace vigil::agent

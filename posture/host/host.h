#pragma once

#include "core/clock.h"
#include "posture/host/commandrunner.h"
#include "posture/host/filesystem.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>

namespace vigil::posture {

// Everything a collector may learn about the machine goes through here: its files (below an
// injectable root), the commands it runs, its clock, the process environment and identity.
// Production code uses Host::local(); tests build one over a fixture tree.
class Host
{
public:
    Host(std::shared_ptr<const FileSystem> fs, std::shared_ptr<CommandRunner> commands,
         std::shared_ptr<const Clock> clock, std::map<std::string, std::string> environment,
         uid_t uid);

    static Host local();

    const FileSystem &fs() const { return *m_fs; }
    CommandRunner &commands() const { return *m_commands; }
    // For work that may outlive one collection (a slow query finishing in the background).
    std::shared_ptr<CommandRunner> sharedCommands() const { return m_commands; }
    const Clock &clock() const { return *m_clock; }
    uid_t uid() const { return m_uid; }
    std::optional<std::string> environment(const std::string &name) const;
    // The user's home directory, from HOME; nullopt when unset.
    std::optional<std::string> home() const { return environment("HOME"); }

    // Looks a program up in the fixed system directories only (never PATH, which a user
    // controls): "/usr/sbin/nft" when it exists there.
    std::optional<std::string> findProgram(std::string_view name) const;

private:
    std::shared_ptr<const FileSystem> m_fs;
    std::shared_ptr<CommandRunner> m_commands;
    std::shared_ptr<const Clock> m_clock;
    std::map<std::string, std::string> m_environment;
    uid_t m_uid;
};

} // namespace vigil::posture

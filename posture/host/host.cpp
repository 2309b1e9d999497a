#include "posture/host/host.h"

#include <cstring>
#include <unistd.h>

extern char **environ;

namespace vigil::posture {

Host::Host(std::shared_ptr<const FileSystem> fs, std::shared_ptr<CommandRunner> commands,
           std::shared_ptr<const Clock> clock, std::map<std::string, std::string> environment,
           uid_t uid)
    : m_fs(std::move(fs)), m_commands(std::move(commands)), m_clock(std::move(clock)),
      m_environment(std::move(environment)), m_uid(uid)
{
}

Host Host::local()
{
    std::map<std::string, std::string> environment;
    for (char **e = environ; e && *e; ++e) {
        const char *eq = std::strchr(*e, '=');
        if (eq)
            environment.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
    }
    return Host(std::make_shared<FileSystem>("/"), std::make_shared<ProcessRunner>(),
                std::make_shared<SystemClock>(), std::move(environment), ::geteuid());
}

std::optional<std::string> Host::environment(const std::string &name) const
{
    auto it = m_environment.find(name);
    if (it == m_environment.end() || it->second.empty())
        return std::nullopt;
    return it->second;
}

std::optional<std::string> Host::findProgram(std::string_view name) const
{
    for (const char *dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
        std::string candidate = std::string(dir) + "/" + std::string(name);
        if (m_fs->isRegularFile(candidate))
            return candidate;
    }
    return std::nullopt;
}

} // namespace vigil::posture

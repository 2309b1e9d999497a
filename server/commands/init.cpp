// `vigil-verifier init`: a new data directory.
#include "server/admin/admincommands.h"
#include "server/commands/commandoptions.h"

#include <chrono>

using namespace Qt::StringLiterals;

namespace vigil::server::commands {

namespace {

class InitCommand : public cli::Command
{
public:
    InitCommand()
    {
        m_name = u"init"_s;
        m_synopsis = u"--data DIR --name NAME [--name NAME ...]"_s;
        m_description = u"Create the data directory; print the CA fingerprint."_s;
        m_help = u"Creates the data directory: a CA, a TLS certificate for the names agents "
                 "connect to, the token-signing key, an empty database and the default policy. "
                 "Prints the CA fingerprint, which agents check when they enroll."_s;
        m_options = {dataOption(), m_serverName};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        const auto names = invocation.values(m_serverName);
        if (names.empty())
            throw cli::UsageError("init needs at least one --name (what agents connect to)");
        return initDataDirectory(dataDirectory(invocation), names, std::chrono::system_clock::now(),
                                 out, err);
    }

private:
    const QCommandLineOption m_serverName{
        u"name"_s, u"A DNS name or IP address agents connect to; one --name for each."_s,
        u"NAME"_s};
};

} // namespace

std::unique_ptr<cli::Command> init()
{
    return std::make_unique<InitCommand>();
}

} // namespace vigil::server::commands

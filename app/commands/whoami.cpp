// `vigilctl whoami`: the device as a protected resource sees it.
#include "app/commands/sharedoptions.h"
#include "app/commands/vigildcall.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class WhoamiCommand : public cli::Command
{
public:
    WhoamiCommand()
    {
        m_name = u"whoami"_s;
        m_synopsis = u"[--json]"_s;
        m_description = u"Show the device as a protected resource sees it."_s;
        m_help = u"Calls the verifier's /v1/whoami with an access token and a DPoP proof: the "
                 "device as a protected resource sees it. Runs in-process, so it is refused "
                 "while vigild runs on the same state directory."_s;
        m_options = {deviceKeyTctiOption(), stateDirectoryOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        // It uses the device key, and the token exchange may write state: vigild's, while it runs.
        if (const auto refused = refuseWhileVigildOwnsState(stateDirectory(invocation), err))
            return *refused;
        return runWhoami(verifierCommandOptions(invocation), out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> whoami()
{
    return std::make_unique<WhoamiCommand>();
}

} // namespace vigil::app::commands

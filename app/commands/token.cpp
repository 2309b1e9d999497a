// `vigilctl token`: an access token bound to the device key.
#include "app/commands/sharedoptions.h"

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

namespace {

class TokenCommand : public cli::Command
{
public:
    TokenCommand()
    {
        m_name = u"token"_s;
        m_synopsis = u"[--json]"_s;
        m_description = u"Print an access token bound to the device key."_s;
        m_help = u"Prints an access token bound to the device key, refused while the device is "
                 "not compliant."_s;
        m_options = {deviceKeyTctiOption(), stateDirectoryOption(), jsonOption()};
    }

    int run(const cli::Invocation &invocation, std::ostream &out, std::ostream &err) override
    {
        return runToken(verifierCommandOptions(invocation), out, err);
    }
};

} // namespace

std::unique_ptr<cli::Command> token()
{
    return std::make_unique<TokenCommand>();
}

} // namespace vigil::app::commands

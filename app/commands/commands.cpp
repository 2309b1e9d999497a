#include "app/commands/commands.h"

namespace vigil::app::commands {

// A command is a class in its own file in this folder, which defines its factory: declared here
// and listed below.
std::unique_ptr<cli::Command> status();
std::unique_ptr<cli::Command> posture();
std::unique_ptr<cli::Command> tpmInfo();
std::unique_ptr<cli::Command> tpmQuote();
std::unique_ptr<cli::Command> enroll();
std::unique_ptr<cli::Command> report();
std::unique_ptr<cli::Command> token();
std::unique_ptr<cli::Command> dpop();
std::unique_ptr<cli::Command> whoami();

cli::Commands vigilctlCommands()
{
    cli::Commands commands;
    for (const auto make :
         {status, posture, tpmInfo, tpmQuote, enroll, report, token, dpop, whoami})
        commands.push_back(make());
    return commands;
}

} // namespace vigil::app::commands

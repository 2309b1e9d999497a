#include "server/commands/commands.h"

namespace vigil::server::commands {

// A command is a class in a file in this folder (a family such as token create, list and revoke
// shares one), which defines its factory: declared here and listed below.
std::unique_ptr<cli::Command> init();
std::unique_ptr<cli::Command> serve();
std::unique_ptr<cli::Command> tokenCreate();
std::unique_ptr<cli::Command> tokenList();
std::unique_ptr<cli::Command> tokenRevoke();
std::unique_ptr<cli::Command> deploy();
std::unique_ptr<cli::Command> devicesList();
std::unique_ptr<cli::Command> devicesShow();
std::unique_ptr<cli::Command> devicesRevoke();
std::unique_ptr<cli::Command> usersAdd();
std::unique_ptr<cli::Command> usersList();
std::unique_ptr<cli::Command> usersShow();
std::unique_ptr<cli::Command> usersDisable();
std::unique_ptr<cli::Command> usersUnlock();
std::unique_ptr<cli::Command> usersTotpReset();
std::unique_ptr<cli::Command> usersInvite();
std::unique_ptr<cli::Command> policyCheck();
std::unique_ptr<cli::Command> tlsRenew();

cli::Commands verifierCommands()
{
    cli::Commands commands;
    for (const auto make :
         {init, serve, tokenCreate, tokenList, tokenRevoke, deploy, devicesList, devicesShow,
          devicesRevoke, usersAdd, usersList, usersShow, usersDisable, usersUnlock, usersTotpReset,
          usersInvite, policyCheck, tlsRenew})
        commands.push_back(make());
    return commands;
}

} // namespace vigil::server::commands

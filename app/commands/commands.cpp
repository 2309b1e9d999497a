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
std::unique_ptr<cli::Command> mfaStatus();
std::unique_ptr<cli::Command> mfaEnroll();
std::unique_ptr<cli::Command> mfaSignIn();
std::unique_ptr<cli::Command> mfaSignOut();
std::unique_ptr<cli::Command> mfaPinChange();
std::unique_ptr<cli::Command> mfaPinReset();
std::unique_ptr<cli::Command> mfaTotp();
std::unique_ptr<cli::Command> mfaRecoveryCodes();

cli::Commands vigilctlCommands()
{
    cli::Commands commands;
    for (const auto make :
         {status, posture, tpmInfo, tpmQuote, enroll, report, token, dpop, whoami, mfaStatus,
          mfaEnroll, mfaSignIn, mfaSignOut, mfaPinChange, mfaPinReset, mfaTotp, mfaRecoveryCodes})
        commands.push_back(make());
    return commands;
}

} // namespace vigil::app::commands

// vigilctl: Vigil's command-line client. It asks vigild over its local socket when vigild runs,
// and otherwise runs the posture collectors, the TPM and the verifier client in-process. Its
// commands are in app/commands/.
#include "app/commands/commands.h"
#include "app/commands/exitcodes.h"
#include "cli/commandline.h"

#include <cstdlib>
#include <iostream>
#include <utility>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    // tss2 would print its own log of every TPM failure; vigilctl's errors already carry the
    // decoded cause. Someone who wants tss2's log sets TSS2_LOG. Set here, before any thread.
    setenv("TSS2_LOG", "all+NONE", 0);

    vigil::cli::Program program;
    program.name = u"vigilctl"_s;
    program.version = QStringLiteral(VIGIL_VERSION);
    program.epilogue = vigil::app::exitCodesHelp();
    const vigil::cli::CommandLine commandLine(std::move(program),
                                              vigil::app::commands::vigilctlCommands());
    return commandLine.run(vigil::cli::CommandLine::arguments(argc, argv), std::cout, std::cerr);
}

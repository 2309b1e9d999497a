// vigil-verifier: the reference verifier — enrollment, posture appraisal and access tokens over
// HTTPS, plus the administrative commands that manage its data directory. Its commands are in
// server/commands/.
#include "cli/commandline.h"
#include "server/commands/commands.h"
#include "server/logline.h"

#include <cstdlib>
#include <iostream>
#include <utility>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    vigil::server::installLogHandler();
    // tss2-mu logs malformed input it is handed; hostile input must not flood the log.
    setenv("TSS2_LOG", "all+NONE", 1);

    vigil::cli::Program program;
    program.name = u"vigil-verifier"_s;
    program.version = QStringLiteral(VIGIL_VERSION);
    program.epilogue = u"Exit status: 0 on success, 1 if the command failed (reason on stderr),\n"
                       "2 on a usage error.\n"_s;
    // An option that only one command takes points there.
    program.misplacedOption = [](const QString &command, const QString &option,
                                 const QStringList &takenBy) {
        return takenBy.size() == 1 ? u"%1 is an option of %2 only"_s.arg(option, takenBy.first())
                                   : u"%1 does not take %2"_s.arg(command, option);
    };
    const vigil::cli::CommandLine commandLine(std::move(program),
                                              vigil::server::commands::verifierCommands());
    return commandLine.run(vigil::cli::CommandLine::arguments(argc, argv), std::cout, std::cerr);
}

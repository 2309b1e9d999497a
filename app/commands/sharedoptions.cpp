#include "app/commands/sharedoptions.h"

#include "app/commands/tpmcommands.h"

#include <cstdlib>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace vigil::app::commands {

QCommandLineOption jsonOption()
{
    return QCommandLineOption(u"json"_s, u"Print machine-readable JSON."_s);
}

namespace {
const QString tctiHelp = u"TPM to use: auto (default, /dev/tpmrm0), device:PATH, "
                         "swtpm:host=H,port=P or mssim:host=H,port=P. Also $VIGIL_TCTI."_s;
} // namespace

QCommandLineOption tctiOption()
{
    return QCommandLineOption(u"tcti"_s, tctiHelp, u"TCTI"_s);
}

QCommandLineOption deviceKeyTctiOption()
{
    return QCommandLineOption(u"tcti"_s,
                              tctiHelp + u" Where there is no TPM the software device key is "
                                         "used (and vigilctl says so); none forces it."_s,
                              u"TCTI"_s);
}

QCommandLineOption stateDirectoryOption()
{
    return QCommandLineOption(
        u"state-dir"_s,
        u"Where the device's keys and enrollment live (default $STATE_DIRECTORY or "
        "/var/lib/vigil)."_s,
        u"DIR"_s);
}

std::string tcti(const cli::Invocation &invocation)
{
    if (const std::string option = invocation.value(tctiOption()); !option.empty())
        return option;
    if (const char *environment = std::getenv("VIGIL_TCTI"); environment && *environment)
        return environment;
    return "auto";
}

std::filesystem::path stateDirectory(const cli::Invocation &invocation)
{
    const std::string option = invocation.value(stateDirectoryOption());
    return option.empty() ? defaultStateDirectory() : std::filesystem::path(option);
}

bool colorOutput()
{
    return ::isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
}

VerifierCommandOptions verifierCommandOptions(const cli::Invocation &invocation)
{
    VerifierCommandOptions options;
    options.json = invocation.isSet(jsonOption());
    options.color = colorOutput();
    options.tcti = tcti(invocation);
    options.stateDirectory = stateDirectory(invocation);
    return options;
}

} // namespace vigil::app::commands

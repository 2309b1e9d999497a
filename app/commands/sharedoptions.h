#pragma once

// Options several vigilctl commands take, and what they come to.

#include "app/commands/verifiercommands.h"
#include "cli/command.h"

#include <QCommandLineOption>
#include <filesystem>
#include <string>

namespace vigil::app::commands {

QCommandLineOption jsonOption();
QCommandLineOption tctiOption();
// --tcti as commands that fall back to the software device key explain it.
QCommandLineOption deviceKeyTctiOption();
QCommandLineOption stateDirectoryOption();

// --tcti (either), else $VIGIL_TCTI, else "auto".
std::string tcti(const cli::Invocation &invocation);
// --state-dir, else defaultStateDirectory().
std::filesystem::path stateDirectory(const cli::Invocation &invocation);
// ANSI colours only on a terminal, and never under NO_COLOR.
bool colorOutput();

// What enroll, report, token and whoami share: the TPM, the state directory, the output's form.
VerifierCommandOptions verifierCommandOptions(const cli::Invocation &invocation);

} // namespace vigil::app::commands

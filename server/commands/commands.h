#pragma once

#include "cli/command.h"

namespace vigil::server::commands {

// vigil-verifier's commands, in the order its usage lists them.
cli::Commands verifierCommands();

} // namespace vigil::server::commands

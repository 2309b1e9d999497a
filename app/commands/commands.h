#pragma once

#include "cli/command.h"

namespace vigil::app::commands {

// vigilctl's commands, in the order its usage lists them.
cli::Commands vigilctlCommands();

} // namespace vigil::app::commands

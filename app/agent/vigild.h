#pragma once

// vigild from its command line to its exit status: reads the configuration, takes the state
// directory's lock, starts the agent, its triggers and its socket, and runs until SIGTERM or
// SIGINT.
//
//   vigild [--config FILE] [--enrollment-token-file FILE]
//
// Exit status: 0 after a signal, 1 when it cannot start (the reason on stderr or in the
// journal), 2 on a usage error.

namespace vigil::agent {

int runVigild(int argc, char **argv);

} // namespace vigil::agent

#pragma once

#include <QLoggingCategory>

namespace vigil::agent {

// vigil.agent: vigild's own parts (triggers, the IPC server, and to come the scheduler and
// broker). Debug is off unless QT_LOGGING_RULES turns it on; never given a token, key or report
// body.
Q_DECLARE_LOGGING_CATEGORY(lcAgent)

} // namespace vigil::agent

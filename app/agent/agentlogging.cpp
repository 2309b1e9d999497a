#include "app/agent/agentlogging.h"

namespace vigil::agent {

Q_LOGGING_CATEGORY(lcAgent, "vigil.agent", QtInfoMsg)

} // namespace vigil::agent

#include "posture/collector.h"

#include <algorithm>

namespace vigil::posture {

CommandResult CollectContext::run(Command command) const
{
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        m_deadline - std::chrono::steady_clock::now());
    command.timeout = std::clamp(left, std::chrono::milliseconds(0), command.timeout);
    if (command.timeout.count() == 0) {
        CommandResult result;
        result.outcome = CommandResult::Outcome::TimedOut;
        result.error = "no time left before the collector's deadline";
        return result;
    }
    command.stop = m_stop;
    return m_host.commands().run(command);
}

} // namespace vigil::posture

#pragma once

#include "posture/checkresult.h"
#include "posture/host/host.h"

#include <chrono>
#include <string_view>

namespace vigil::posture {

// What one collection may use: the host, and a deadline no command may run past.
class CollectContext
{
public:
    CollectContext(const Host &host, std::chrono::steady_clock::time_point deadline)
        : m_host(host), m_deadline(deadline)
    {
    }

    const Host &host() const { return m_host; }
    const FileSystem &fs() const { return m_host.fs(); }
    std::chrono::steady_clock::time_point deadline() const { return m_deadline; }

    // Runs a command with the smaller of its own timeout and the time left before the deadline.
    CommandResult run(Command command) const;

private:
    const Host &m_host;
    std::chrono::steady_clock::time_point m_deadline;
};

// One posture check. A collector may keep caches between calls, but is never called
// concurrently with itself.
class Collector
{
public:
    virtual ~Collector() = default;
    virtual std::string_view id() const = 0;
    virtual CheckResult collect(const CollectContext &context) = 0;
};

} // namespace vigil::posture

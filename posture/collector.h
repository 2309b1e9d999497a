#pragma once

#include "posture/checkresult.h"
#include "posture/host/host.h"

#include <chrono>
#include <stop_token>
#include <string_view>

namespace vigil::posture {

// What one collection may use: the host, a deadline no command may run past, and a stop
// token that is triggered when whoever runs the collection shuts down.
class CollectContext
{
public:
    CollectContext(const Host &host, std::chrono::steady_clock::time_point deadline,
                   std::stop_token stop = {})
        : m_host(host), m_deadline(deadline), m_stop(std::move(stop))
    {
    }

    const Host &host() const { return m_host; }
    const FileSystem &fs() const { return m_host.fs(); }
    std::chrono::steady_clock::time_point deadline() const { return m_deadline; }
    // A collector that waits or runs commands outside run() honours this itself.
    const std::stop_token &stopToken() const { return m_stop; }

    // Runs a command with the smaller of its own timeout and the time left before the
    // deadline; it is killed when stop is requested.
    CommandResult run(Command command) const;

private:
    const Host &m_host;
    std::chrono::steady_clock::time_point m_deadline;
    std::stop_token m_stop;
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

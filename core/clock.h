#pragma once

#include <chrono>
#include <string>

namespace vigil {

// Injectable so everything time-based can be tested at a chosen instant.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock
{
public:
    std::chrono::system_clock::time_point now() const override
    {
        return std::chrono::system_clock::now();
    }
};

// "2026-11-24T16:05:00Z" — UTC, second precision, as used in every JSON timestamp.
std::string toIso8601(std::chrono::system_clock::time_point time);

} // namespace vigil

#pragma once

#include "core/clock.h"

#include <atomic>

namespace vigil::test {

// A clock that stands still until a test moves it.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(std::chrono::system_clock::time_point start) : m_now(start) {}
    std::chrono::system_clock::time_point now() const override { return m_now.load(); }
    void set(std::chrono::system_clock::time_point time) { m_now = time; }
    void advance(std::chrono::system_clock::duration by) { m_now = m_now.load() + by; }

private:
    std::atomic<std::chrono::system_clock::time_point> m_now;
};

} // namespace vigil::test

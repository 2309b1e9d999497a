#pragma once

// When vigild reports next. The verifier names a time (next_report_at); vigild reports a little
// before it, at a random point, so a fleet that booted together does not report together. A
// trigger (resume, unlock, a network or package change) brings the report forward to a few
// seconds from now, and a burst of triggers makes one report. When a report fails the next try
// backs off exponentially, with full jitter, up to a cap; a network-up event retries at once.
//
// Pure: times in, times out. The agent arms one timer at due() and tells the schedule what
// happened; tests drive it with their own clock and random numbers.

#include "core/clock.h"

#include <chrono>
#include <functional>
#include <optional>

namespace vigil::agent {

struct ReportScheduleOptions
{
    std::chrono::seconds debounce{2};     // a trigger reports this long after it (bursts coalesce)
    std::chrono::seconds firstBackoff{5}; // the wait after the first failure, before jitter
    std::chrono::seconds maxBackoff{15 * 60}; // the cap on the wait between failed tries
    // Report up to this share of the interval early, but never more than maxEarly.
    double earlyShare = 0.1;
    std::chrono::seconds maxEarly{60};
};

class ReportSchedule
{
public:
    using TimePoint = std::chrono::system_clock::time_point;
    using Seconds = std::chrono::seconds;

    using Options = ReportScheduleOptions;
    // A number in [0, 1).
    using Random = std::function<double()>;

    ReportSchedule(const Clock &clock, Options options, Random random);
    // With a random source from the system.
    explicit ReportSchedule(const Clock &clock, Options options = {});

    // When the next report is due; nullopt when none is (stopped, or never started).
    std::optional<TimePoint> due() const { return m_due; }
    // Failed tries since the last success.
    int failures() const { return m_failures; }

    // Report as soon as a trigger would (startup, an enrollment just done).
    void reportSoon();
    // The verifier appraised a report and asked for the next at nextReportAt.
    void succeeded(TimePoint nextReportAt);
    // No verdict: try again after the backoff, or after retryAfter when the verifier said so.
    // Returns the wait chosen.
    Seconds failed(std::optional<Seconds> retryAfter = {});
    // Something that matters changed, or the network came up: report within the debounce,
    // unless a report is due sooner already. While backing off, that is a retry now.
    void triggered();
    // Nothing is due until the next reportSoon (not enrolled, revoked).
    void stop();

private:
    void bringForwardTo(TimePoint time);

    const Clock &m_clock;
    Options m_options;
    Random m_random;
    std::optional<TimePoint> m_due;
    int m_failures = 0;
};

} // namespace vigil::agent

#include "app/agent/reportschedule.h"

#include <algorithm>
#include <memory>
#include <random>

namespace vigil::agent {

namespace {

ReportSchedule::Random systemRandom()
{
    auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
    return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

} // namespace

ReportSchedule::ReportSchedule(const Clock &clock, Options options, Random random)
    : m_clock(clock), m_options(options), m_random(std::move(random))
{
}

ReportSchedule::ReportSchedule(const Clock &clock, Options options)
    : ReportSchedule(clock, options, systemRandom())
{
}

void ReportSchedule::reportSoon()
{
    bringForwardTo(m_clock.now() + m_options.debounce);
}

void ReportSchedule::succeeded(TimePoint nextReportAt)
{
    m_failures = 0;
    const auto now = m_clock.now();
    const auto interval = std::max(TimePoint::duration::zero(), nextReportAt - now);
    const auto earliest = std::min<TimePoint::duration>(
        std::chrono::duration_cast<TimePoint::duration>(interval * m_options.earlyShare),
        m_options.maxEarly);
    m_due = nextReportAt - std::chrono::duration_cast<TimePoint::duration>(earliest * m_random());
}

ReportSchedule::Seconds ReportSchedule::failed(std::optional<Seconds> retryAfter)
{
    ++m_failures;
    Seconds wait;
    if (retryAfter) {
        wait = std::clamp(*retryAfter, Seconds{1}, m_options.maxBackoff);
    } else {
        // Full jitter (a uniform wait up to the exponential bound): many devices that lost the
        // verifier together come back spread out rather than in waves.
        const int doublings = std::min(m_failures - 1, 30);
        const double bound = std::min(static_cast<double>(m_options.firstBackoff.count()) *
                                          static_cast<double>(1LL << doublings),
                                      static_cast<double>(m_options.maxBackoff.count()));
        wait = Seconds{std::max<long long>(1, static_cast<long long>(bound * m_random()))};
    }
    m_due = m_clock.now() + wait;
    return wait;
}

void ReportSchedule::triggered()
{
    if (m_due)
        bringForwardTo(m_clock.now() + m_options.debounce);
}

void ReportSchedule::stop()
{
    m_due.reset();
}

void ReportSchedule::bringForwardTo(TimePoint time)
{
    if (!m_due || time < *m_due)
        m_due = time;
}

} // namespace vigil::agent

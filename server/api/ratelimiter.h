#pragma once

// Per-client token buckets: each key (a device id, or a peer address before a device is known)
// may make `burst` requests at once and `ratePerSecond` on average. Memory is bounded: idle
// buckets (full again) are dropped when the table grows.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vigil::server {

class RateLimiter
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    RateLimiter(double ratePerSecond, double burst, std::size_t maxKeys = 100000);

    // Takes one request from key's bucket. Returns zero if allowed, otherwise how long until
    // the next request would be (for Retry-After).
    std::chrono::milliseconds acquire(const std::string &key, TimePoint now);

private:
    struct Bucket
    {
        double tokens;
        TimePoint updated;
    };
    void pruneFullBuckets(TimePoint now);

    const double m_rate;
    const double m_burst;
    const std::size_t m_maxKeys;
    std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;
};

} // namespace vigil::server

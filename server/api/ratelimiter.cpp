#include "server/api/ratelimiter.h"

#include <algorithm>
#include <cmath>

namespace vigil::server {

RateLimiter::RateLimiter(double ratePerSecond, double burst, std::size_t maxKeys)
    : m_rate(ratePerSecond), m_burst(std::max(1.0, burst)), m_maxKeys(maxKeys)
{
}

std::chrono::milliseconds RateLimiter::acquire(const std::string &key, TimePoint now)
{
    const std::lock_guard lock(m_mutex);
    auto it = m_buckets.find(key);
    if (it == m_buckets.end()) {
        if (m_buckets.size() >= m_maxKeys)
            pruneFullBuckets(now);
        it = m_buckets.emplace(key, Bucket{m_burst, now}).first;
    }
    Bucket &bucket = it->second;
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(m_burst, bucket.tokens + std::max(0.0, elapsed) * m_rate);
    bucket.updated = std::max(bucket.updated, now);
    if (bucket.tokens >= 1.0) {
        bucket.tokens -= 1.0;
        return std::chrono::milliseconds(0);
    }
    const double wait = m_rate > 0 ? (1.0 - bucket.tokens) / m_rate : 3600.0;
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(wait * 1000.0)));
}

void RateLimiter::pruneFullBuckets(TimePoint now)
{
    std::erase_if(m_buckets, [&](const auto &entry) {
        const double elapsed = std::chrono::duration<double>(now - entry.second.updated).count();
        return entry.second.tokens + elapsed * m_rate >= m_burst;
    });
    // Still full of draining buckets: many clients are active at once. Dropping half of them
    // (whichever the hash order gives) keeps memory bounded and makes the next full scan
    // maxKeys/2 insertions away, so the scan costs O(1) per request on average. A forgotten
    // client only gets a fresh burst.
    if (m_buckets.size() >= m_maxKeys) {
        std::size_t excess = m_buckets.size() - m_maxKeys / 2;
        for (auto it = m_buckets.begin(); it != m_buckets.end() && excess > 0; --excess)
            it = m_buckets.erase(it);
    }
}

} // namespace vigil::server

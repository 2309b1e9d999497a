#include "protocol/jose/replaycache.h"

namespace vigil::protocol {

bool ReplayCache::contains(const std::string &key, const std::string &jti) const
{
    const std::lock_guard lock(m_mutex);
    return m_seen.contains(Key{key, jti});
}

ReplayCache::Outcome ReplayCache::record(const std::string &key, const std::string &jti,
                                         double expiry, double nowSeconds)
{
    const std::lock_guard lock(m_mutex);
    pruneLocked(nowSeconds);
    Key entry{key, jti};
    if (m_seen.contains(entry))
        return Outcome::Replayed;
    if (m_seen.size() >= m_capacity)
        return Outcome::Full;
    const auto inserted = m_seen.emplace(std::move(entry), expiry).first;
    m_byExpiry.emplace(expiry, inserted);
    return Outcome::Recorded;
}

std::size_t ReplayCache::live(double nowSeconds)
{
    const std::lock_guard lock(m_mutex);
    pruneLocked(nowSeconds);
    return m_seen.size();
}

void ReplayCache::pruneLocked(double nowSeconds)
{
    // An entry is needed while its proof's iat can still pass the window check, that is up to
    // and including its expiry.
    while (!m_byExpiry.empty() && m_byExpiry.begin()->first < nowSeconds) {
        m_seen.erase(m_byExpiry.begin()->second);
        m_byExpiry.erase(m_byExpiry.begin());
    }
}

} // namespace vigil::protocol

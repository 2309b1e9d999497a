#pragma once

// The jti replay cache behind DPoP proofs and user proofs: each accepted (key, jti) is
// remembered until its proof's iat leaves the validator's window, after which the iat check
// alone refuses the proof. Thread-safe.

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace vigil::protocol {

class ReplayCache
{
public:
    enum class Outcome
    {
        Recorded,
        Replayed, // (key, jti) is remembered already
        Full,     // capacity live entries: refused rather than forgetting a live jti
    };

    explicit ReplayCache(std::size_t capacity) : m_capacity(capacity) {}

    // Whether (key, jti) is remembered (at any time: expired entries go at the next record).
    bool contains(const std::string &key, const std::string &jti) const;
    // Remembers (key, jti) until expiry, after pruning the entries expired at nowSeconds.
    Outcome record(const std::string &key, const std::string &jti, double expiry,
                   double nowSeconds);
    // Live entries after pruning those expired at nowSeconds.
    std::size_t live(double nowSeconds);

private:
    using Key = std::pair<std::string, std::string>;
    using Seen = std::map<Key, double>; // -> expiry, seconds since the epoch

    void pruneLocked(double nowSeconds);

    std::size_t m_capacity;
    mutable std::mutex m_mutex;
    Seen m_seen;
    std::multimap<double, Seen::iterator> m_byExpiry;
};

} // namespace vigil::protocol

#include "app/agent/tokenbroker.h"

namespace vigil::agent {

void TokenBroker::store(const protocol::TokenResponse &token)
{
    const auto now = m_clock.now();
    m_held = Held{token.accessToken, now, now + token.expiresIn};
    m_whyNone.clear();
}

void TokenBroker::drop(std::string reason)
{
    m_held.reset();
    m_whyNone = std::move(reason);
}

std::optional<TokenBroker::Held> TokenBroker::current() const
{
    if (!m_held || m_clock.now() >= m_held->expiresAt)
        return std::nullopt;
    return m_held;
}

std::string TokenBroker::whyNone() const
{
    if (m_held && m_clock.now() >= m_held->expiresAt)
        return "the token expired and could not be refreshed";
    return m_held ? std::string() : m_whyNone;
}

std::optional<TokenBroker::TimePoint> TokenBroker::refreshDue() const
{
    if (!m_held)
        return std::nullopt;
    return m_held->obtainedAt + (m_held->expiresAt - m_held->obtainedAt) * 3 / 4;
}

} // namespace vigil::agent

#include "app/agent/sessionposture.h"

#include "app/agent/agentlogging.h"
#include "protocol/ipc/request.h"

#include <utility>

namespace vigil::agent {

namespace {

const std::string screenLockId(protocol::ipc::screenLockCheckId);

// What a report's reader sees of a result; the time a collection took is no change.
nlohmann::json comparable(const posture::CheckResult &result)
{
    nlohmann::json json = result.toJson();
    json.erase("duration_ms");
    return json;
}

} // namespace

SessionPosture::SessionPosture(const Clock &clock, QObject *parent)
    : QObject(parent), m_clock(clock)
{
}

void SessionPosture::submit(uid_t uid, posture::CheckResult screenLock)
{
    screenLock.id = screenLockId;
    qCDebug(lcAgent, "uid %u reports its screen lock: %s", static_cast<unsigned>(uid),
            std::string(posture::statusName(screenLock.status)).c_str());
    update([&] {
        m_submissions[uid] = Submission{std::move(screenLock), m_clock.now()};
        m_latest = uid;
    });
}

std::optional<SessionPosture::Submission> SessionPosture::submission(uid_t uid) const
{
    const auto it = m_submissions.find(uid);
    return it == m_submissions.end() ? std::nullopt : std::optional(it->second);
}

void SessionPosture::setActiveUser(std::optional<uid_t> uid)
{
    if (m_logindKnows && m_activeUser == uid)
        return;
    if (uid)
        qCInfo(lcAgent, "the active session on seat0 is uid %u's", static_cast<unsigned>(*uid));
    else
        qCInfo(lcAgent, "no session is active on seat0");
    update([&] {
        m_logindKnows = true;
        m_activeUser = uid;
    });
}

void SessionPosture::forgetActiveUser()
{
    if (!m_logindKnows)
        return;
    qCInfo(lcAgent, "without logind, the latest screen lock reported counts");
    update([&] {
        m_logindKnows = false;
        m_activeUser.reset();
    });
}

std::optional<uid_t> SessionPosture::countingUser() const
{
    return m_logindKnows ? m_activeUser : m_latest;
}

posture::CheckResult SessionPosture::screenLock() const
{
    const auto uid = countingUser();
    if (uid) {
        if (const auto it = m_submissions.find(*uid); it != m_submissions.end())
            return it->second.screenLock;
        return posture::CheckResult::unknown(
            screenLockId, "the active desktop session (uid " + std::to_string(*uid) +
                              ") has not reported its screen lock: is vigil-tray running in it?");
    }
    if (m_logindKnows)
        return posture::CheckResult::unknown(screenLockId, "no desktop session is active on seat0");
    return posture::CheckResult::unknown(
        screenLockId, "no desktop session has reported its screen lock: is vigil-tray running?");
}

void SessionPosture::applyTo(nlohmann::json &snapshot) const
{
    snapshot["checks"][screenLockId] = screenLock().toJson();
}

template <typename Change> void SessionPosture::update(Change &&change)
{
    const nlohmann::json before = comparable(screenLock());
    change();
    if (comparable(screenLock()) != before)
        Q_EMIT changed();
}

} // namespace vigil::agent

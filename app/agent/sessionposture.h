#pragma once

// The checks only a user's desktop session can make (for now the screen lock, which is a
// per-user setting root cannot read), as each session's vigil-tray hands them to vigild
// (session_posture, docs/ipc.md section 7.8), and which of them the next report carries: the
// one of the user whose session logind names active on seat0.
//
// Without logind (no systemd) nothing says whose session is in front, so the most recent
// submission counts. That is weaker: any local user who runs a client can then speak for the
// screen, and the result of a user who has left counts until someone else submits.

#include "core/clock.h"
#include "posture/checkresult.h"

#include <QObject>
#include <chrono>
#include <map>
#include <optional>
#include <sys/types.h>

namespace vigil::agent {

class SessionPosture : public QObject
{
    Q_OBJECT

public:
    struct Submission
    {
        posture::CheckResult screenLock;
        std::chrono::system_clock::time_point receivedAt;
    };

    explicit SessionPosture(const Clock &clock, QObject *parent = nullptr);

    // uid's session found screenLock (its id is set to screen_lock here).
    void submit(uid_t uid, posture::CheckResult screenLock);
    std::optional<Submission> submission(uid_t uid) const;

    // logind's word: the user of seat0's active session, or nullopt while none is active.
    void setActiveUser(std::optional<uid_t> uid);
    // logind is gone (or never came): the most recent submission counts again.
    void forgetActiveUser();

    // The screen_lock check the next report carries: the counting user's, or unknown saying
    // why there is none.
    posture::CheckResult screenLock() const;
    // Puts screenLock() into a PostureSnapshot's JSON in place of what root's collector found.
    void applyTo(nlohmann::json &snapshot) const;

Q_SIGNALS:
    // screenLock() changed in status, summary, remediation, reason or details.
    void changed();

private:
    std::optional<uid_t> countingUser() const;
    template <typename Change> void update(Change &&change);

    const Clock &m_clock;
    // One entry per uid that ever submitted: a user can speak only for their own uid.
    std::map<uid_t, Submission> m_submissions;
    std::optional<uid_t> m_latest;
    bool m_logindKnows = false;
    std::optional<uid_t> m_activeUser;
};

} // namespace vigil::agent

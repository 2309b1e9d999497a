#pragma once

// The users' side of vigild (docs/mfa.md, docs/ipc.md 7.9): answers the MFA methods for the
// caller's uid, keeps each uid's user session in memory only, drops it when the policy says
// (unlock, resume, expiry) and then asks that uid's tray to sign in again (a prompt), and warns
// warn_before_seconds before a session ends.
//
// Everything here runs on the event-loop thread. What needs the user key or the verifier runs
// as a UserWork job on the device thread (setDevice); without one (tests of this class alone)
// those methods answer unavailable, saying so, and FindUser tells who has a user.

#include "app/agent/agentrequests.h"
#include "core/clock.h"
#include "protocol/ipc/mfaresults.h"
#include "protocol/ipc/secrettext.h"

#include <QObject>
#include <QTimer>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace vigil::agent {

class UserWork;

// A user session as the verifier's sign-in gave it (docs/protocol.md 5.13).
struct UserSession
{
    protocol::ipc::SecretText handle; // the verifier's 256-bit handle: never logged
    protocol::TimePoint authTime;
    protocol::TimePoint expiresAt;
    std::vector<std::string> amr;
    std::vector<std::string> reauthenticateOn; // of "unlock", "resume"
    std::chrono::seconds warnBefore{0};
    // The last user token, while it is valid.
    protocol::ipc::SecretText accessToken;
    protocol::TimePoint accessTokenExpiresAt;
};

class UserSessions : public QObject
{
    Q_OBJECT

public:
    // uid's Vigil user on this device without its session, or nullopt when it has none.
    using FindUser = std::function<std::optional<protocol::ipc::MfaUserInfo>(uid_t uid)>;

    UserSessions(const Clock &clock, FindUser findUser, std::function<bool()> deviceEnrolled,
                 QObject *parent = nullptr);

    // Runs job on the device thread, then done with its outcome on this thread; a job that
    // throws (the device cannot be opened) is answered with what it threw.
    using DeviceJob = std::function<Outcome(UserWork &work)>;
    using RunOnDevice = std::function<void(DeviceJob job, Reply done)>;
    void setDevice(RunOnDevice run) { m_run = std::move(run); }

    // The methods of AgentRequests, for uid.
    void mfaStatus(uid_t uid, Reply reply);
    void mfaEnroll(uid_t uid, protocol::ipc::MfaEnrollParams params, Reply reply);
    void mfaPinChange(uid_t uid, protocol::ipc::PinChangeParams params, Reply reply);
    void mfaPinReset(uid_t uid, protocol::ipc::PinResetParams params, Reply reply);
    void mfaTotpBegin(uid_t uid, protocol::ipc::PinParams params, Reply reply);
    void mfaTotpActivate(uid_t uid, protocol::ipc::TotpActivateParams params, Reply reply);
    void mfaRecoveryCodes(uid_t uid, protocol::ipc::PinParams params, Reply reply);
    void signIn(uid_t uid, protocol::ipc::SignInParams params, Reply reply);
    void signOut(uid_t uid, Reply reply);
    void userToken(uid_t uid, Reply reply);

    // A sign-in of uid succeeded: its session from now on; an open prompt of uid closes.
    void started(uid_t uid, UserSession session);
    bool isSignedIn(uid_t uid) const { return m_sessions.count(uid) != 0; }

    // logind: a session was unlocked (uid: its user, nullopt when unknown: every user), or the
    // machine woke. Drops the sessions whose reauthenticate_on names the event, and prompts.
    void sessionUnlocked(std::optional<uid_t> uid);
    void resumed();
    // Warns of the sessions that end within their warn_before_seconds and drops those that have
    // ended; the timer calls it at the next such time.
    void checkTimes();

Q_SIGNALS:
    void promptRaised(uid_t uid, const protocol::ipc::Prompt &prompt);
    void promptClosed(uid_t uid, const std::string &id);

private:
    // The user of uid, or answers not_enrolled_user (or not_enrolled first when needsDevice and
    // the device is not enrolled) and returns nullopt.
    std::optional<protocol::ipc::MfaUserInfo> userOrRefuse(uid_t uid, const Reply &reply,
                                                           bool needsDevice) const;
    void notAvailableYet(const char *what, const Reply &reply) const;
    void drop(uid_t uid, protocol::ipc::PromptReason reason);
    void prompt(uid_t uid, protocol::ipc::PromptReason reason,
                std::optional<protocol::TimePoint> expiresAt);
    void closePrompt(uid_t uid);
    void armTimer();
    // The session of uid merged into user's status.
    nlohmann::json statusWithSession(uid_t uid,
                                     std::optional<protocol::ipc::MfaUserInfo> user) const;
    // Revokes handle on the verifier in the background (sign-out, a dropped session).
    void revokeLater(uid_t uid, protocol::ipc::SecretText handle);

    const Clock &m_clock;
    FindUser m_findUser;
    std::function<bool()> m_deviceEnrolled;
    std::map<uid_t, UserSession> m_sessions;
    std::map<uid_t, std::vector<protocol::ipc::Factor>> m_factors; // of the last sign-in
    std::map<uid_t, bool> m_warned;                                // expiring prompt sent
    std::map<uid_t, std::string> m_openPrompts;
    std::uint64_t m_promptCount = 0;
    QTimer m_timer;
    RunOnDevice m_run;
};

} // namespace vigil::agent

#include "app/agent/mfa/usersessions.h"

#include "app/agent/agentlogging.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace vigil::agent {

namespace ipc = protocol::ipc;
using std::chrono::seconds;

namespace {

ipc::Error error(ipc::ErrorCode code, std::string message)
{
    return ipc::Error{code, std::move(message), {}};
}

bool names(const std::vector<std::string> &list, std::string_view value)
{
    return std::find(list.begin(), list.end(), value) != list.end();
}

// The factors a new sign-in may use: those of the last one (the policy accepted them), both
// when unknown.
std::vector<ipc::Factor> factorsOf(const std::vector<std::string> &amr)
{
    std::vector<ipc::Factor> factors;
    if (names(amr, "pin"))
        factors.push_back(ipc::Factor::Pin);
    if (names(amr, "otp"))
        factors.push_back(ipc::Factor::Otp);
    if (factors.empty())
        factors = {ipc::Factor::Pin, ipc::Factor::Otp};
    return factors;
}

// A user token handed out has at least this long left; an older one is traded for a new one.
constexpr seconds minTokenLifetime{30};
// The timer never sleeps longer, so that a clock stepped forward is noticed.
constexpr std::chrono::milliseconds maxTimerInterval{60 * 1000};

} // namespace

UserSessions::UserSessions(const Clock &clock, FindUser findUser,
                           std::function<bool()> deviceEnrolled, QObject *parent)
    : QObject(parent), m_clock(clock), m_findUser(std::move(findUser)),
      m_deviceEnrolled(std::move(deviceEnrolled))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &UserSessions::checkTimes);
}

std::optional<ipc::MfaUserInfo> UserSessions::userOrRefuse(uid_t uid, const Reply &reply,
                                                           bool needsDevice) const
{
    if (needsDevice && !m_deviceEnrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "the device is not enrolled: `vigilctl enroll` first (root or the group)"));
        return std::nullopt;
    }
    auto user = m_findUser(uid);
    if (!user)
        reply(error(ipc::ErrorCode::NotEnrolledUser,
                    "uid " + std::to_string(uid) +
                        " has no Vigil user on this device: `vigilctl mfa enroll` with an invite"));
    return user;
}

void UserSessions::notAvailableYet(const char *what, const Reply &reply) const
{
    reply(error(ipc::ErrorCode::Unavailable,
                std::string("this vigild cannot ") + what +
                    " yet: its user keys and the verifier's user API are not wired in"));
}

void UserSessions::mfaStatus(uid_t uid, Reply reply) const
{
    ipc::MfaStatus status;
    status.user = m_findUser(uid);
    if (status.user) {
        if (const auto found = m_sessions.find(uid); found != m_sessions.end()) {
            const UserSession &session = found->second;
            status.user->session = ipc::MfaSessionInfo{session.authTime, session.expiresAt,
                                                       session.amr, session.warnBefore.count()};
        }
    }
    reply(status.toJson());
}

void UserSessions::mfaEnroll(uid_t, ipc::MfaEnrollParams, Reply reply)
{
    if (!m_deviceEnrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "the device is not enrolled: `vigilctl enroll` first (root or the group)"));
        return;
    }
    notAvailableYet("enroll users", reply);
}

void UserSessions::mfaPinChange(uid_t uid, ipc::PinChangeParams, Reply reply)
{
    if (userOrRefuse(uid, reply, false))
        notAvailableYet("change a PIN", reply);
}

void UserSessions::mfaPinReset(uid_t uid, ipc::PinResetParams, Reply reply)
{
    if (userOrRefuse(uid, reply, true))
        notAvailableYet("reset a PIN", reply);
}

void UserSessions::mfaTotpBegin(uid_t uid, ipc::PinParams, Reply reply)
{
    if (userOrRefuse(uid, reply, true))
        notAvailableYet("set up TOTP", reply);
}

void UserSessions::mfaTotpActivate(uid_t uid, ipc::TotpActivateParams, Reply reply)
{
    if (userOrRefuse(uid, reply, true))
        notAvailableYet("activate TOTP", reply);
}

void UserSessions::mfaRecoveryCodes(uid_t uid, ipc::PinParams, Reply reply)
{
    if (userOrRefuse(uid, reply, true))
        notAvailableYet("make recovery codes", reply);
}

void UserSessions::signIn(uid_t uid, ipc::SignInParams, Reply reply)
{
    if (userOrRefuse(uid, reply, true))
        notAvailableYet("sign users in", reply);
}

void UserSessions::signOut(uid_t uid, Reply reply)
{
    if (m_sessions.erase(uid) != 0)
        qCInfo(lcAgent) << "uid" << uid << "signed out";
    m_warned.erase(uid);
    closePrompt(uid);
    armTimer();
    reply(nlohmann::json::object());
}

void UserSessions::userToken(uid_t uid, Reply reply)
{
    const auto user = userOrRefuse(uid, reply, false);
    if (!user)
        return;
    const auto found = m_sessions.find(uid);
    if (found == m_sessions.end()) {
        reply(error(ipc::ErrorCode::AuthenticationRequired,
                    user->name + " is not signed in on this device"));
        return;
    }
    const UserSession &session = found->second;
    const auto now = m_clock.now();
    if (session.accessToken.empty() || session.accessTokenExpiresAt - now < minTokenLifetime) {
        notAvailableYet("renew user tokens", reply);
        return;
    }
    ipc::UserTokenResult token;
    token.accessToken = std::string(session.accessToken.reveal());
    token.expiresIn =
        std::chrono::duration_cast<seconds>(session.accessTokenExpiresAt - now).count();
    token.authTime = session.authTime;
    token.amr = session.amr;
    reply(token.toJson());
}

void UserSessions::started(uid_t uid, UserSession session)
{
    m_factors[uid] = factorsOf(session.amr);
    m_sessions.insert_or_assign(uid, std::move(session));
    m_warned.erase(uid);
    closePrompt(uid);
    armTimer();
}

void UserSessions::sessionUnlocked(std::optional<uid_t> uid)
{
    std::vector<uid_t> dropped;
    for (const auto &[owner, session] : m_sessions)
        if ((!uid || *uid == owner) && names(session.reauthenticateOn, "unlock"))
            dropped.push_back(owner);
    for (const uid_t owner : dropped)
        drop(owner, ipc::PromptReason::Unlock);
}

void UserSessions::resumed()
{
    std::vector<uid_t> dropped;
    for (const auto &[owner, session] : m_sessions)
        if (names(session.reauthenticateOn, "resume"))
            dropped.push_back(owner);
    for (const uid_t owner : dropped)
        drop(owner, ipc::PromptReason::Resume);
}

void UserSessions::checkTimes()
{
    const auto now = m_clock.now();
    std::vector<uid_t> ended;
    for (const auto &[uid, session] : m_sessions) {
        if (now >= session.expiresAt) {
            ended.push_back(uid);
        } else if (now >= session.expiresAt - session.warnBefore && !m_warned[uid]) {
            m_warned[uid] = true;
            prompt(uid, ipc::PromptReason::Expiring, session.expiresAt);
        }
    }
    for (const uid_t uid : ended)
        drop(uid, ipc::PromptReason::Expired);
    armTimer();
}

void UserSessions::drop(uid_t uid, ipc::PromptReason reason)
{
    if (m_sessions.erase(uid) == 0)
        return;
    m_warned.erase(uid);
    qCInfo(lcAgent).noquote() << "dropped the user session of uid" << uid << "("
                              << QString::fromUtf8(ipc::promptReasonName(reason)) << ")";
    prompt(uid, reason, std::nullopt);
    armTimer();
}

void UserSessions::prompt(uid_t uid, ipc::PromptReason reason,
                          std::optional<protocol::TimePoint> expiresAt)
{
    closePrompt(uid);
    ipc::Prompt prompt;
    prompt.id = std::to_string(uid) + "-" + std::to_string(++m_promptCount);
    prompt.reason = reason;
    const auto factors = m_factors.find(uid);
    prompt.factors = factors != m_factors.end()
                         ? factors->second
                         : std::vector<ipc::Factor>{ipc::Factor::Pin, ipc::Factor::Otp};
    prompt.expiresAt = expiresAt;
    m_openPrompts[uid] = prompt.id;
    Q_EMIT promptRaised(uid, prompt);
}

void UserSessions::closePrompt(uid_t uid)
{
    const auto open = m_openPrompts.find(uid);
    if (open == m_openPrompts.end())
        return;
    const std::string id = std::move(open->second);
    m_openPrompts.erase(open);
    Q_EMIT promptClosed(uid, id);
}

void UserSessions::armTimer()
{
    std::optional<protocol::TimePoint> next;
    for (const auto &[uid, session] : m_sessions) {
        const auto warned = m_warned.find(uid);
        const bool warnDue = warned == m_warned.end() || !warned->second;
        const auto due = warnDue ? session.expiresAt - session.warnBefore : session.expiresAt;
        if (!next || due < *next)
            next = due;
    }
    if (!next) {
        m_timer.stop();
        return;
    }
    const auto wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(*next - m_clock.now()),
                   std::chrono::milliseconds(0), maxTimerInterval);
    m_timer.start(wait);
}

} // namespace vigil::agent

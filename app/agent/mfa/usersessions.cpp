#include "app/agent/mfa/usersessions.h"

#include "app/agent/agentlogging.h"
#include "app/agent/mfa/userwork.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <pwd.h>
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

// The account name of uid for the verifier's local_account, its number when it has none.
std::string localAccountOf(uid_t uid)
{
    passwd entry{};
    passwd *found = nullptr;
    std::vector<char> buffer(16384);
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found)
        return found->pw_name;
    return "uid " + std::to_string(uid);
}

// A job's outcome, its UserWorkError as the IPC error it carries.
template <typename F> Outcome outcomeOf(F &&job)
{
    try {
        return job();
    } catch (const UserWorkError &e) {
        return e.error();
    }
}

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

nlohmann::json UserSessions::statusWithSession(uid_t uid,
                                               std::optional<ipc::MfaUserInfo> user) const
{
    ipc::MfaStatus status;
    status.user = std::move(user);
    if (status.user) {
        if (const auto found = m_sessions.find(uid); found != m_sessions.end()) {
            const UserSession &session = found->second;
            status.user->session = ipc::MfaSessionInfo{session.authTime, session.expiresAt,
                                                       session.amr, session.warnBefore.count()};
        }
    }
    return status.toJson();
}

void UserSessions::mfaStatus(uid_t uid, Reply reply)
{
    if (!m_run || !m_deviceEnrolled()) { // no device: no users either
        reply(statusWithSession(uid, m_run ? std::nullopt : m_findUser(uid)));
        return;
    }
    auto user = std::make_shared<std::optional<ipc::MfaUserInfo>>();
    m_run(
        [uid, user](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                *user = work.find(uid);
                return nlohmann::json::object();
            });
        },
        [this, uid, user, reply](Outcome outcome) {
            if (std::holds_alternative<ipc::Error>(outcome))
                reply(std::move(outcome));
            else
                reply(statusWithSession(uid, std::move(*user)));
        });
}

void UserSessions::mfaEnroll(uid_t uid, ipc::MfaEnrollParams params, Reply reply)
{
    if (!m_deviceEnrolled()) {
        reply(error(ipc::ErrorCode::NotEnrolled,
                    "the device is not enrolled: `vigilctl enroll` first (root or the group)"));
        return;
    }
    if (!m_run) {
        notAvailableYet("enroll users", reply);
        return;
    }
    auto shared = std::make_shared<ipc::MfaEnrollParams>(std::move(params));
    m_run(
        [uid, shared, account = localAccountOf(uid)](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                ipc::MfaStatus status;
                status.user = work.enroll(uid, account, shared->inviteCode, shared->pin);
                return status.toJson();
            });
        },
        [this, uid, reply](Outcome outcome) {
            if (!std::holds_alternative<ipc::Error>(outcome))
                qCInfo(lcAgent) << "uid" << uid << "enrolled its Vigil user";
            reply(std::move(outcome));
        });
}

void UserSessions::mfaPinChange(uid_t uid, ipc::PinChangeParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, false))
            notAvailableYet("change a PIN", reply);
        return;
    }
    auto shared = std::make_shared<ipc::PinChangeParams>(std::move(params));
    m_run(
        [uid, shared](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                work.changePin(uid, shared->pin, shared->newPin);
                return nlohmann::json::object();
            });
        },
        reply);
}

void UserSessions::mfaPinReset(uid_t uid, ipc::PinResetParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, true))
            notAvailableYet("reset a PIN", reply);
        return;
    }
    auto shared = std::make_shared<ipc::PinResetParams>(std::move(params));
    m_run(
        [uid, shared, account = localAccountOf(uid)](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                ipc::MfaStatus status;
                status.user = work.resetPin(uid, account, shared->recoveryCode, shared->newPin);
                return status.toJson();
            });
        },
        [this, uid, reply](Outcome outcome) {
            // A new key: the session of the old one goes, without a prompt (the user is here).
            if (!std::holds_alternative<ipc::Error>(outcome)) {
                if (const auto found = m_sessions.find(uid); found != m_sessions.end()) {
                    revokeLater(uid, std::move(found->second.handle));
                    m_sessions.erase(found);
                    armTimer();
                }
            }
            reply(std::move(outcome));
        });
}

void UserSessions::mfaTotpBegin(uid_t uid, ipc::PinParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, true))
            notAvailableYet("set up TOTP", reply);
        return;
    }
    auto shared = std::make_shared<ipc::PinParams>(std::move(params));
    m_run(
        [uid, shared](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                const auto totp = work.beginTotp(uid, shared->pin);
                return ipc::TotpBeginResult{totp.otpauthUri, totp.expiresAt}.toJson();
            });
        },
        reply);
}

void UserSessions::mfaTotpActivate(uid_t uid, ipc::TotpActivateParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, true))
            notAvailableYet("activate TOTP", reply);
        return;
    }
    auto shared = std::make_shared<ipc::TotpActivateParams>(std::move(params));
    m_run(
        [uid, shared](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                return ipc::RecoveryCodesResult{
                    work.activateTotp(uid, shared->pin, shared->code).codes}
                    .toJson();
            });
        },
        reply);
}

void UserSessions::mfaRecoveryCodes(uid_t uid, ipc::PinParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, true))
            notAvailableYet("make recovery codes", reply);
        return;
    }
    auto shared = std::make_shared<ipc::PinParams>(std::move(params));
    m_run(
        [uid, shared](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                return ipc::RecoveryCodesResult{work.newRecoveryCodes(uid, shared->pin).codes}
                    .toJson();
            });
        },
        reply);
}

void UserSessions::signIn(uid_t uid, ipc::SignInParams params, Reply reply)
{
    if (!m_run) {
        if (userOrRefuse(uid, reply, true))
            notAvailableYet("sign users in", reply);
        return;
    }
    struct Result
    {
        std::optional<protocol::UserSession> session;
        std::optional<ipc::MfaUserInfo> user;
    };
    auto shared = std::make_shared<ipc::SignInParams>(std::move(params));
    auto result = std::make_shared<Result>();
    m_run(
        [uid, shared, result](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                result->session = work.signIn(uid, shared->pin, shared->otp);
                result->user = work.find(uid);
                return nlohmann::json::object();
            });
        },
        [this, uid, result, reply](Outcome outcome) {
            if (std::holds_alternative<ipc::Error>(outcome) || !result->session) {
                reply(std::move(outcome));
                return;
            }
            protocol::UserSession &got = *result->session;
            UserSession session;
            session.handle = ipc::SecretText(std::move(got.session));
            session.authTime = got.authTime;
            session.expiresAt = got.expiresAt;
            session.amr = got.amr;
            session.reauthenticateOn = got.reauthenticateOn;
            session.warnBefore = got.warnBefore;
            session.accessToken = ipc::SecretText(std::move(got.accessToken));
            session.accessTokenExpiresAt = m_clock.now() + got.expiresIn;
            if (const auto old = m_sessions.find(uid); old != m_sessions.end())
                revokeLater(uid, std::move(old->second.handle));
            qCInfo(lcAgent) << "uid" << uid << "signed in";
            started(uid, std::move(session));
            reply(statusWithSession(uid, std::move(result->user)));
        });
}

void UserSessions::signOut(uid_t uid, Reply reply)
{
    if (const auto found = m_sessions.find(uid); found != m_sessions.end()) {
        revokeLater(uid, std::move(found->second.handle));
        m_sessions.erase(found);
        qCInfo(lcAgent) << "uid" << uid << "signed out";
    }
    m_warned.erase(uid);
    closePrompt(uid);
    armTimer();
    reply(nlohmann::json::object());
}

void UserSessions::userToken(uid_t uid, Reply reply)
{
    if (!m_run) {
        if (!userOrRefuse(uid, reply, false))
            return;
    }
    const auto found = m_sessions.find(uid);
    if (found == m_sessions.end()) {
        const auto user = m_run ? std::nullopt : m_findUser(uid);
        reply(error(ipc::ErrorCode::AuthenticationRequired,
                    (user ? user->name : "uid " + std::to_string(uid)) +
                        " is not signed in on this device"));
        return;
    }
    const UserSession &session = found->second;
    const auto now = m_clock.now();
    const auto answer = [this](const UserSession &held, Reply to) {
        ipc::UserTokenResult token;
        token.accessToken = std::string(held.accessToken.reveal());
        token.expiresIn =
            std::chrono::duration_cast<seconds>(held.accessTokenExpiresAt - m_clock.now()).count();
        token.authTime = held.authTime;
        token.amr = held.amr;
        to(token.toJson());
    };
    if (!session.accessToken.empty() && session.accessTokenExpiresAt - now >= minTokenLifetime) {
        answer(session, std::move(reply));
        return;
    }
    if (!m_run) {
        notAvailableYet("renew user tokens", reply);
        return;
    }
    auto handle = std::make_shared<ipc::SecretText>(session.handle);
    auto token = std::make_shared<std::optional<protocol::TokenResponse>>();
    m_run(
        [uid, handle, token](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                *token = work.token(uid, std::string(handle->reveal()));
                return nlohmann::json::object();
            });
        },
        [this, uid, token, reply, answer](Outcome outcome) {
            const auto held = m_sessions.find(uid);
            if (std::holds_alternative<ipc::Error>(outcome) || held == m_sessions.end() ||
                !*token) {
                if (auto *failure = std::get_if<ipc::Error>(&outcome);
                    failure && failure->code == ipc::ErrorCode::AuthenticationRequired)
                    drop(uid, ipc::PromptReason::Expired); // the verifier ended it
                reply(std::holds_alternative<ipc::Error>(outcome)
                          ? std::move(outcome)
                          : Outcome(error(ipc::ErrorCode::AuthenticationRequired,
                                          "the session ended meanwhile")));
                return;
            }
            held->second.accessToken = ipc::SecretText(std::move((*token)->accessToken));
            held->second.accessTokenExpiresAt =
                m_clock.now() + std::chrono::seconds((*token)->expiresIn);
            answer(held->second, reply);
        });
}

void UserSessions::revokeLater(uid_t uid, ipc::SecretText handle)
{
    if (!m_run || handle.empty())
        return;
    auto shared = std::make_shared<ipc::SecretText>(std::move(handle));
    m_run(
        [uid, shared](UserWork &work) {
            return outcomeOf([&]() -> Outcome {
                work.revoke(uid, std::string(shared->reveal()));
                return nlohmann::json::object();
            });
        },
        [uid](Outcome outcome) {
            if (const auto *failure = std::get_if<ipc::Error>(&outcome))
                qCWarning(lcAgent).noquote()
                    << "the verifier did not revoke the session of uid" << uid << ":"
                    << QString::fromStdString(failure->message);
        });
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
    const auto found = m_sessions.find(uid);
    if (found == m_sessions.end())
        return;
    revokeLater(uid, std::move(found->second.handle));
    m_sessions.erase(found);
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

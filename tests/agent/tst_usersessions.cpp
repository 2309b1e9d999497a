// The users' sessions in vigild (docs/mfa.md, docs/ipc.md 7.9 and 9): what each uid is told,
// the sessions dropped on unlock, resume and expiry with a prompt to that uid alone, the warning
// before expiry, and the clear errors of what is not wired in yet. On a manual clock.
#include "app/agent/mfa/usersessions.h"
#include "manualclock.h"
#include "protocol/ipc/response.h"
#include "protocol/rfc3339.h"
#include "testprinters.h"

#include <QSignalSpy>
#include <QtTest>

using namespace vigil;
using agent::Outcome;
using agent::UserSession;
using agent::UserSessions;
using nlohmann::json;
using std::chrono::seconds;
namespace ipc = protocol::ipc;

namespace {

constexpr uid_t alice = 1000;
constexpr uid_t bob = 1001;

const protocol::TimePoint start = *protocol::parseRfc3339("2026-11-24T16:07:02Z");

ipc::MfaUserInfo userNamed(std::string name)
{
    ipc::MfaUserInfo user;
    user.userId = "3f6c1e2a-9b4d-4c8e-a7f1-0d2b5e8c9a41";
    user.name = std::move(name);
    user.pinAttemptsLeft = 32;
    return user;
}

UserSession sessionUntil(protocol::TimePoint expiresAt, std::vector<std::string> on)
{
    UserSession session;
    session.handle = ipc::SecretText(std::string(43, 'h'));
    session.authTime = start;
    session.expiresAt = expiresAt;
    session.amr = {"hwk", "pin", "mfa"};
    session.reauthenticateOn = std::move(on);
    session.warnBefore = seconds(300);
    session.accessToken = ipc::SecretText(std::string("a.b.c"));
    session.accessTokenExpiresAt = start + seconds(300);
    return session;
}

// Calls one method and returns what it answered (at once: nothing here waits).
template <typename Call> Outcome answerOf(Call &&call)
{
    std::optional<Outcome> outcome;
    call([&](Outcome answer) { outcome = std::move(answer); });
    if (!outcome)
        throw std::runtime_error("no answer");
    return *outcome;
}

std::string codeOf(const Outcome &outcome)
{
    const auto *error = std::get_if<ipc::Error>(&outcome);
    return error ? std::string(ipc::errorCodeName(error->code)) : "success";
}

std::string messageOf(const Outcome &outcome)
{
    const auto *error = std::get_if<ipc::Error>(&outcome);
    return error ? error->message : "";
}

// (uid, prompt's JSON) of each promptRaised, (uid, id) of each promptClosed.
struct Prompts
{
    std::vector<std::pair<uid_t, json>> raised;
    std::vector<std::pair<uid_t, std::string>> closed;
};

} // namespace

class TestUserSessions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_clock.emplace(start);
        m_deviceEnrolled = true;
        m_users = {{alice, userNamed("alice")}, {bob, userNamed("bob")}};
        m_sessions.emplace(
            *m_clock,
            [this](uid_t uid) -> std::optional<ipc::MfaUserInfo> {
                const auto found = m_users.find(uid);
                return found == m_users.end() ? std::nullopt : std::optional(found->second);
            },
            [this] { return m_deviceEnrolled; });
        m_prompts = {};
        connect(&*m_sessions, &UserSessions::promptRaised, this,
                [this](uid_t uid, const ipc::Prompt &prompt) {
                    m_prompts.raised.emplace_back(uid, prompt.toJson());
                });
        connect(
            &*m_sessions, &UserSessions::promptClosed, this,
            [this](uid_t uid, const std::string &id) { m_prompts.closed.emplace_back(uid, id); });
    }

    void cleanup() { m_sessions.reset(); }

    void aUidWithoutAUserIsToldSo()
    {
        const uid_t stranger = 4242;
        QCOMPARE(std::get<json>(answerOf([&](auto r) { m_sessions->mfaStatus(stranger, r); })),
                 (json{{"enrolled", false}}));
        QCOMPARE(codeOf(answerOf([&](auto r) { m_sessions->userToken(stranger, r); })),
                 "not_enrolled_user");
        QCOMPARE(codeOf(answerOf([&](auto r) {
                     m_sessions->signIn(stranger,
                                        {std::nullopt, ipc::SecretText(std::string("123456"))}, r);
                 })),
                 "not_enrolled_user");
        QCOMPARE(messageOf(answerOf([&](auto r) { m_sessions->userToken(stranger, r); })),
                 "uid 4242 has no Vigil user on this device: `vigilctl mfa enroll` with an invite");
        // Signing out is done whatever there was.
        QCOMPARE(std::get<json>(answerOf([&](auto r) { m_sessions->signOut(stranger, r); })),
                 json::object());
    }

    void whatNeedsTheDeviceWaitsForItsEnrollment()
    {
        m_deviceEnrolled = false;
        QCOMPARE(codeOf(answerOf([&](auto r) { m_sessions->mfaEnroll(alice, {}, r); })),
                 "not_enrolled");
        QCOMPARE(codeOf(answerOf([&](auto r) { m_sessions->mfaTotpBegin(alice, {}, r); })),
                 "not_enrolled");
        m_deviceEnrolled = true;
        // Not wired in yet: said plainly, never a silent success.
        const Outcome enroll = answerOf([&](auto r) { m_sessions->mfaEnroll(alice, {}, r); });
        QCOMPARE(codeOf(enroll), "unavailable");
        QCOMPARE(messageOf(enroll), "this vigild cannot enroll users yet: its user keys and the "
                                    "verifier's user API are not wired in");
    }

    void aSignedInUserHasItsSessionAndTokens()
    {
        m_sessions->started(alice, sessionUntil(start + seconds(8 * 3600), {"unlock"}));
        QVERIFY(m_sessions->isSignedIn(alice));
        const json status =
            std::get<json>(answerOf([&](auto r) { m_sessions->mfaStatus(alice, r); }));
        const auto read = ipc::MfaStatus::fromJson(status, "/result");
        QCOMPARE(read.user->name, "alice");
        QCOMPARE(read.user->session->expiresAt, start + seconds(8 * 3600));
        QCOMPARE(read.user->session->warnBeforeSeconds, 300);
        m_clock->advance(seconds(100));
        const auto token = ipc::UserTokenResult::fromJson(
            std::get<json>(answerOf([&](auto r) { m_sessions->userToken(alice, r); })), "/result");
        QCOMPARE(token.accessToken, "a.b.c");
        QCOMPARE(token.expiresIn, 200);
        QCOMPARE(token.authTime, start);
        // Bob is not signed in: his tray prompts.
        const Outcome bobs = answerOf([&](auto r) { m_sessions->userToken(bob, r); });
        QCOMPARE(codeOf(bobs), "authentication_required");
        QCOMPARE(messageOf(bobs), "bob is not signed in on this device");
        QVERIFY(!ipc::MfaStatus::fromJson(
                     std::get<json>(answerOf([&](auto r) { m_sessions->mfaStatus(bob, r); })),
                     "/result")
                     .user->session);
    }

    void unlockDropsTheSessionsThePolicySaysAndPromptsTheirUsers()
    {
        m_sessions->started(alice, sessionUntil(start + seconds(3600), {"unlock", "resume"}));
        m_sessions->started(bob, sessionUntil(start + seconds(3600), {"resume"}));
        m_sessions->sessionUnlocked(std::nullopt);
        QVERIFY(!m_sessions->isSignedIn(alice));
        QVERIFY(m_sessions->isSignedIn(bob)); // bob's policy does not name unlock
        QCOMPARE(m_prompts.raised.size(), std::size_t(1));
        QCOMPARE(m_prompts.raised.at(0).first, alice);
        QCOMPARE(m_prompts.raised.at(0).second, (json{{"id", "1000-1"},
                                                      {"kind", "sign_in"},
                                                      {"reason", "unlock"},
                                                      {"factors", {"pin"}}}));
        QCOMPARE(codeOf(answerOf([&](auto r) { m_sessions->userToken(alice, r); })),
                 "authentication_required");
        // Alice signs in again: her prompt closes.
        m_sessions->started(alice, sessionUntil(start + seconds(3600), {"unlock"}));
        QCOMPARE(m_prompts.closed, (std::vector<std::pair<uid_t, std::string>>{{alice, "1000-1"}}));
        // Resume: bob's goes; an unlock of bob's own session leaves alice's.
        m_sessions->resumed();
        QVERIFY(!m_sessions->isSignedIn(bob));
        QCOMPARE(m_prompts.raised.back().first, bob);
        QCOMPARE(m_prompts.raised.back().second.at("reason"), "resume");
        m_sessions->sessionUnlocked(bob);
        QVERIFY(m_sessions->isSignedIn(alice));
        QCOMPARE(m_prompts.raised.size(), std::size_t(2));
    }

    void aSessionIsWarnedOfThenDroppedAtItsEnd()
    {
        const auto end = start + seconds(3600);
        m_sessions->started(alice, sessionUntil(end, {}));
        m_sessions->checkTimes();
        QVERIFY(m_prompts.raised.empty());
        m_clock->set(end - seconds(301));
        m_sessions->checkTimes();
        QVERIFY(m_prompts.raised.empty());
        m_clock->set(end - seconds(300));
        m_sessions->checkTimes();
        m_sessions->checkTimes(); // once
        QCOMPARE(m_prompts.raised.size(), std::size_t(1));
        QCOMPARE(m_prompts.raised.at(0).second, (json{{"id", "1000-1"},
                                                      {"kind", "sign_in"},
                                                      {"reason", "expiring"},
                                                      {"factors", {"pin"}},
                                                      {"expires_at", "2026-11-24T17:07:02Z"}}));
        QVERIFY(m_sessions->isSignedIn(alice)); // still, until its end
        m_clock->set(end);
        m_sessions->checkTimes();
        QVERIFY(!m_sessions->isSignedIn(alice));
        QCOMPARE(m_prompts.closed, (std::vector<std::pair<uid_t, std::string>>{{alice, "1000-1"}}));
        QCOMPARE(m_prompts.raised.at(1).second.at("reason"), "expired");
        QCOMPARE(m_prompts.raised.at(1).second.at("id"), "1000-2");
    }

    // The timer finds the time to warn by itself.
    void theTimerWarnsWithoutBeingAsked()
    {
        const auto end = start + seconds(300) + std::chrono::milliseconds(150);
        m_sessions->started(alice, sessionUntil(end, {}));
        m_clock->advance(seconds(1)); // past the warning's time, which the timer will notice
        QTRY_COMPARE_WITH_TIMEOUT(m_prompts.raised.size(), std::size_t(1), 3000);
        QCOMPARE(m_prompts.raised.at(0).second.at("reason"), "expiring");
    }

    void signingOutClosesThePrompt()
    {
        m_sessions->started(alice, sessionUntil(start + seconds(3600), {"unlock"}));
        m_sessions->sessionUnlocked(alice);
        QCOMPARE(std::get<json>(answerOf([&](auto r) { m_sessions->signOut(alice, r); })),
                 json::object());
        QCOMPARE(m_prompts.closed, (std::vector<std::pair<uid_t, std::string>>{{alice, "1000-1"}}));
        m_sessions->started(bob, sessionUntil(start + seconds(3600), {}));
        QCOMPARE(std::get<json>(answerOf([&](auto r) { m_sessions->signOut(bob, r); })),
                 json::object());
        QVERIFY(!m_sessions->isSignedIn(bob));
        QCOMPARE(m_prompts.raised.size(), std::size_t(1)); // signing out asks nothing
    }

private:
    std::optional<test::ManualClock> m_clock;
    bool m_deviceEnrolled = true;
    std::map<uid_t, ipc::MfaUserInfo> m_users;
    std::optional<UserSessions> m_sessions;
    Prompts m_prompts;
};

QTEST_GUILESS_MAIN(TestUserSessions)
#include "tst_usersessions.moc"

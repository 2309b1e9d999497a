// UserSessions driving a real UserWork on a worker thread, as vigild runs them, against the real
// verifier (software device and user key): a sign-in with the PIN becomes a session, user tokens
// come from it and are renewed from the verifier, a wrong PIN is wrong_pin, an unlock drops the
// session with a prompt, and sign-out ends it.
#include "../verifier/usertesthelpers.h"
#include "app/agent/mfa/usersessions.h"
#include "app/agent/mfa/userwork.h"
#include "app/agent/workerthread.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/softwaredevicekey.h"
#include "testdevice.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using agent::Outcome;
using agent::UserKeyStore;
using agent::UserSessions;
using agent::UserWork;
using agent::WorkerThread;
using app::VerifierClient;
using nlohmann::json;
namespace ipc = protocol::ipc;
namespace users = test::users;

namespace {

const std::string policyText =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"],
        "users": {"accepted_key_assurance": ["tpm", "software"], "accepted_factors": ["pin", "otp"],
                  "reauthenticate_on": ["unlock"], "warn_before_seconds": 300}})";

constexpr uid_t alice = 1000;

} // namespace

class TestUserSignIn : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void signInTokensUnlockAndSignOut()
    {
        QVERIFY(m_state.isValid());
        test::TestVerifier verifier(policyText);
        const std::filesystem::path root = m_state.path().toStdString();
        auto deviceKey = protocol::SoftwareDeviceKey::create(root / "device" / "devicekey.pem");
        VerifierClient client(verifier.url("/"), verifier.caFile(), *deviceKey, nullptr, {},
                              [&] { return verifier.clock().now(); });
        client.enroll(verifier.createEnrollmentToken(), "ws-signin");
        const auto nonce = client.nonce();
        client.report(test::compliantSnapshot(verifier.clock().now()).toJson(), nonce.nonce,
                      nonce.pcrs);
        UserKeyStore keys(root / "users", nullptr, verifier.clock());
        UserWork work(client, keys, nullptr, verifier.clock());
        const std::string userId = users::addUser(verifier, "alice");
        work.enroll(alice, "alice", ipc::SecretText(users::invite(verifier, userId)),
                    ipc::SecretText(std::string("271828")));

        // As vigild: the work on a thread of its own, the answers back on this one.
        WorkerThread device(QStringLiteral("test-device"));
        UserSessions sessions(
            verifier.clock(), [](uid_t) { return std::optional<ipc::MfaUserInfo>(); },
            [] { return true; });
        sessions.setDevice([&](UserSessions::DeviceJob job, agent::Reply done) {
            device.run<Outcome>(
                &sessions, [&work, job] { return job(work); },
                [done](agent::JobResult<Outcome> result) {
                    QVERIFY(!result.error);
                    done(std::move(*result.value));
                });
        });
        std::vector<std::pair<uid_t, ipc::Prompt>> prompts;
        connect(&sessions, &UserSessions::promptRaised, this,
                [&](uid_t uid, const ipc::Prompt &prompt) { prompts.emplace_back(uid, prompt); });
        const auto ask = [](auto call) {
            std::optional<Outcome> outcome;
            call([&](Outcome answer) { outcome = std::move(answer); });
            if (!QTest::qWaitFor([&] { return outcome.has_value(); }, 30000))
                return Outcome(ipc::Error{ipc::ErrorCode::Internal, "no answer in time", {}});
            return *outcome;
        };
        const auto codeOf = [](const Outcome &outcome) {
            const auto *error = std::get_if<ipc::Error>(&outcome);
            return error ? std::string(ipc::errorCodeName(error->code)) : std::string("ok");
        };

        const Outcome before = ask([&](auto r) { sessions.mfaStatus(alice, r); });
        const auto enrolled = ipc::MfaStatus::fromJson(std::get<json>(before), "/result");
        QCOMPARE(enrolled.user->name, "alice");
        QVERIFY(!enrolled.user->session);
        QCOMPARE(codeOf(ask([&](auto r) { sessions.userToken(alice, r); })),
                 "authentication_required");

        const Outcome wrong = ask([&](auto r) {
            sessions.signIn(alice, {ipc::SecretText(std::string("000000")), std::nullopt}, r);
        });
        QCOMPARE(codeOf(wrong), "wrong_pin");
        const Outcome signedIn = ask([&](auto r) {
            sessions.signIn(alice, {ipc::SecretText(std::string("271828")), std::nullopt}, r);
        });
        QCOMPARE(codeOf(signedIn), "ok");
        const auto status = ipc::MfaStatus::fromJson(std::get<json>(signedIn), "/result");
        QCOMPARE(status.user->session->amr, (std::vector<std::string>{"swk", "pin", "mfa"}));
        QCOMPARE(status.user->session->warnBeforeSeconds, 300);

        // The sign-in's token, then, near its end, a new one from the session.
        const auto first = ipc::UserTokenResult::fromJson(
            std::get<json>(ask([&](auto r) { sessions.userToken(alice, r); })), "/result");
        QCOMPARE(users::claimsOf(first.accessToken).at("sub"), userId);
        verifier.clock().advance(std::chrono::seconds(first.expiresIn - 10));
        const auto renewed = ipc::UserTokenResult::fromJson(
            std::get<json>(ask([&](auto r) { sessions.userToken(alice, r); })), "/result");
        QVERIFY(renewed.accessToken != first.accessToken);
        QCOMPARE(users::claimsOf(renewed.accessToken).at("sub"), userId);
        QVERIFY(renewed.expiresIn > 60);

        // The policy drops sessions on unlock: a prompt, and no token until signed in again.
        sessions.sessionUnlocked(std::nullopt);
        QCOMPARE(prompts.size(), std::size_t(1));
        QCOMPARE(prompts.at(0).first, alice);
        QCOMPARE(prompts.at(0).second.reason, ipc::PromptReason::Unlock);
        QCOMPARE(prompts.at(0).second.factors, (std::vector<ipc::Factor>{ipc::Factor::Pin}));
        QCOMPARE(codeOf(ask([&](auto r) { sessions.userToken(alice, r); })),
                 "authentication_required");

        QCOMPARE(
            codeOf(ask([&](auto r) {
                sessions.signIn(alice, {ipc::SecretText(std::string("271828")), std::nullopt}, r);
            })),
            "ok");
        QCOMPARE(codeOf(ask([&](auto r) { sessions.signOut(alice, r); })), "ok");
        QVERIFY(!sessions.isSignedIn(alice));
        // The revocation runs after; let it finish before the verifier goes.
        QCOMPARE(codeOf(ask([&](auto r) { sessions.mfaStatus(alice, r); })), "ok");
    }

private:
    QTemporaryDir m_state;
};

QTEST_GUILESS_MAIN(TestUserSignIn)
#include "tst_usersignin.moc"

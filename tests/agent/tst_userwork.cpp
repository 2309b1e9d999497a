// UserWork against the real verifier with a software device and software user keys (the TPM
// user key is UserKeyStore's and tst_tpmpin's to test): enrollment with an invite, sign-in
// with the PIN and with TOTP (codes by oathtool), user tokens, a PIN change, a PIN reset with a
// recovery code, sign-out; and each refusal as the IPC error vigild answers with.
#include "../verifier/usertesthelpers.h"
#include "app/agent/mfa/userwork.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/softwaredevicekey.h"
#include "testdevice.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using agent::UserKeyStore;
using agent::UserWork;
using agent::UserWorkError;
using app::VerifierClient;
namespace ipc = protocol::ipc;
namespace users = test::users;

namespace {

const std::string policyText =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"],
        "users": {"accepted_key_assurance": ["tpm", "software"], "accepted_factors": ["pin", "otp"]}})";

constexpr uid_t alice = 1000;

ipc::SecretText secret(const char *text)
{
    return ipc::SecretText(std::string(text));
}

template <typename F> ipc::Error refusal(F f)
{
    try {
        f();
    } catch (const UserWorkError &e) {
        return e.error();
    }
    qFatal("no UserWorkError");
}

} // namespace

class TestUserWork : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aUserLivesThroughEveryMethod()
    {
        QVERIFY(m_state.isValid());
        test::TestVerifier verifier(policyText);
        const std::filesystem::path root = m_state.path().toStdString();
        auto deviceKey = protocol::SoftwareDeviceKey::create(root / "device" / "devicekey.pem");
        VerifierClient client(verifier.url("/"), verifier.caFile(), *deviceKey, nullptr, {},
                              [&] { return verifier.clock().now(); });
        client.enroll(verifier.createEnrollmentToken(), "ws-userwork");
        const auto nonce = client.nonce();
        client.report(test::compliantSnapshot(verifier.clock().now()).toJson(), nonce.nonce,
                      nonce.pcrs);
        UserKeyStore keys(root / "users", nullptr, verifier.clock());
        UserWork work(client, keys, nullptr, verifier.clock());

        QVERIFY(!work.find(alice));
        QCOMPARE(refusal([&] { work.signIn(alice, secret("271828"), {}); }).code,
                 ipc::ErrorCode::NotEnrolledUser);

        const std::string userId = users::addUser(verifier, "alice");
        const std::string invite = users::invite(verifier, userId);
        const auto enrolled =
            work.enroll(alice, "alice", ipc::SecretText(invite), secret("271828"));
        QCOMPARE(enrolled.userId, userId);
        QCOMPARE(enrolled.name, "alice");
        QCOMPARE(enrolled.keyAssurance, protocol::Assurance::Software);
        QCOMPARE(enrolled.totp, ipc::TotpState::None);
        QVERIFY(enrolled.pinAttemptsLeft);
        QCOMPARE(work.find(alice)->userId, userId);
        // An invite works once.
        const auto reused = refusal(
            [&] { work.enroll(alice + 1, "bob", ipc::SecretText(invite), secret("271828")); });
        QCOMPARE(reused.code, ipc::ErrorCode::Refused);
        QVERIFY2(reused.message.rfind("invalid_invite: ", 0) == 0, reused.message.c_str());

        // The PIN: wrong, then right.
        const auto wrong = refusal([&] { work.signIn(alice, secret("000000"), {}); });
        QCOMPARE(wrong.code, ipc::ErrorCode::WrongPin);
        QVERIFY2(wrong.message.rfind("wrong PIN", 0) == 0, wrong.message.c_str());
        QVERIFY(wrong.message.find("000000") == std::string::npos);
        const auto session = work.signIn(alice, secret("271828"), {});
        QCOMPARE(session.amr, (std::vector<std::string>{"swk", "pin", "mfa"}));
        const auto token = work.token(alice, session.session);
        QCOMPARE(users::claimsOf(token.accessToken).at("sub"), userId);

        // TOTP; the activation's code is used up, the next step's signs in.
        const auto totp = work.beginTotp(alice, secret("271828"));
        QCOMPARE(work.find(alice)->totp, ipc::TotpState::Pending);
        const std::string key = users::otpauthSecret(totp.otpauthUri);
        const std::string code = users::oathtool(key, verifier.clock().now());
        QCOMPARE(work.activateTotp(alice, secret("271828"), ipc::SecretText(code)).codes.size(),
                 std::size_t(10));
        QCOMPARE(work.find(alice)->totp, ipc::TotpState::Active);
        QCOMPARE(refusal([&] { work.signIn(alice, {}, ipc::SecretText(code)); }).code,
                 ipc::ErrorCode::InvalidCode);
        verifier.clock().advance(std::chrono::seconds(30));
        const auto byOtp =
            work.signIn(alice, {}, ipc::SecretText(users::oathtool(key, verifier.clock().now())));
        QCOMPARE(byOtp.amr, (std::vector<std::string>{"otp"}));

        // A new PIN, then a forgotten one replaced with a recovery code.
        work.changePin(alice, secret("271828"), secret("161803"));
        QCOMPARE(refusal([&] { work.signIn(alice, secret("271828"), {}); }).code,
                 ipc::ErrorCode::WrongPin);
        const auto codes = work.newRecoveryCodes(alice, secret("161803"));
        const auto reset =
            work.resetPin(alice, "alice", ipc::SecretText(codes.codes.at(0)), secret("577215"));
        QCOMPARE(reset.userId, userId);
        QCOMPARE(work.signIn(alice, secret("577215"), {}).amr.at(0), "swk");
        // A used-up code is refused, and the refused reset leaves the working key in place: the
        // PIN set before it still signs in, the one it tried does not.
        QCOMPARE(refusal([&] {
                     work.resetPin(alice, "alice", ipc::SecretText(codes.codes.at(0)),
                                   secret("999999"));
                 }).code,
                 ipc::ErrorCode::InvalidCode);
        QCOMPARE(work.signIn(alice, secret("577215"), {}).amr.at(0), "swk");
        QCOMPARE(refusal([&] { work.signIn(alice, secret("999999"), {}); }).code,
                 ipc::ErrorCode::WrongPin);

        // Sign-out: the session's tokens end with it.
        work.revoke(alice, session.session);
        QCOMPARE(refusal([&] { work.token(alice, session.session); }).code,
                 ipc::ErrorCode::AuthenticationRequired);
    }

private:
    QTemporaryDir m_state;
};

QTEST_GUILESS_MAIN(TestUserWork)
#include "tst_userwork.moc"

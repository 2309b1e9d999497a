// VerifierClient's user endpoints (docs/protocol.md 5.9 to 5.15) against the real verifier: a
// software device enrolls and reports, its user enrolls a software user key with an invite,
// turns on TOTP (codes by oathtool), signs in with a user proof, trades the session for user
// tokens, makes new recovery codes, and signs out; each refusal is a VerifierError with the
// verifier's problem code.
#include "../verifier/usertesthelpers.h"
#include "app/client/verifierclient.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/jose/userproof.h"
#include "testdevice.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using app::VerifierClient;
using app::VerifierError;
using test::TestVerifier;
namespace users = test::users;

namespace {

const std::string policyText =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"],
        "users": {"accepted_key_assurance": ["tpm", "software"], "accepted_factors": ["pin", "otp"]}})";

template <typename F> protocol::Problem thrownProblem(F f)
{
    try {
        f();
    } catch (const VerifierError &e) {
        return e.problem();
    }
    qFatal("no VerifierError");
}

} // namespace

class TestVerifierClientUsers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_state.isValid());
        m_verifier = std::make_unique<TestVerifier>(policyText);
    }

    void aUserEnrollsSetsUpTotpSignsInAndOut()
    {
        auto deviceKey = protocol::SoftwareDeviceKey::create(path("device") / "devicekey.pem");
        VerifierClient client(m_verifier->url("/"), m_verifier->caFile(), *deviceKey, nullptr, {},
                              [this] { return m_verifier->clock().now(); });
        const auto device = client.enroll(m_verifier->createEnrollmentToken(), "ws-users");
        const auto nonce = client.nonce();
        QCOMPARE(client
                     .report(test::compliantSnapshot(m_verifier->clock().now()).toJson(),
                             nonce.nonce, nonce.pcrs)
                     .verdict,
                 protocol::Verdict::Compliant);

        // Enrollment with an invite; a second use of it is refused.
        const std::string userId = users::addUser(*m_verifier, "alice");
        const std::string inviteCode = users::invite(*m_verifier, userId);
        auto userKey = protocol::SoftwareDeviceKey::create(path("alice") / "userkey.pem");
        protocol::UserEnrollmentRequest enrollment;
        enrollment.inviteCode = inviteCode;
        enrollment.localAccount = "alice";
        enrollment.userKey.assurance = protocol::Assurance::Software;
        enrollment.userKey.jwk = userKey->publicJwk();
        const auto enrolled = client.enrollUser(enrollment);
        QCOMPARE(enrolled.userId, userId);
        QCOMPARE(enrolled.name, "alice");
        QCOMPARE(enrolled.deviceId, device.deviceId);
        QCOMPARE(enrolled.keyAssurance, protocol::Assurance::Software);
        QCOMPARE(enrolled.totp, protocol::TotpState::None);
        QCOMPARE(thrownProblem([&] { client.enrollUser(enrollment); }).code, "invalid_invite");

        const auto proofFor = [&](const std::string &rest) {
            protocol::UserProofRequest request;
            request.userId = userId;
            request.htm = "POST";
            request.htu = client.userUrl(VerifierClient::userPath(userId, rest));
            request.iat = m_verifier->clock().now();
            request.jkt = client.deviceKeyThumbprint();
            return protocol::createUserProof(userKey->publicKey(), users::signerOf(*userKey),
                                             request);
        };

        // TOTP: a pending secret, activated with oathtool's code.
        const auto totp = client.beginTotp(userId, proofFor("/totp"));
        QVERIFY2(totp.otpauthUri.rfind("otpauth://totp/", 0) == 0, totp.otpauthUri.c_str());
        const std::string secret = users::otpauthSecret(totp.otpauthUri);
        protocol::TotpActivationRequest activation;
        activation.userProof = proofFor("/totp/activation");
        activation.code = users::oathtool(secret, m_verifier->clock().now());
        const auto codes = client.activateTotp(userId, activation);
        QCOMPARE(codes.codes.size(), std::size_t(10));

        // Sign in with the user key (a wrong proof is refused), then with both factors.
        protocol::SignInRequest signIn;
        signIn.userProof = proofFor("/tokens"); // made for another URL
        QCOMPARE(thrownProblem([&] { client.signInUser(userId, signIn); }).code,
                 "invalid_user_proof");
        signIn.userProof = proofFor("/sessions");
        const auto session = client.signInUser(userId, signIn);
        QCOMPARE(session.amr, (std::vector<std::string>{"swk", "pin", "mfa"}));
        QVERIFY(!session.accessToken.empty());
        QVERIFY(session.expiresAt > session.authTime);

        const auto token = client.userToken(userId, session.session);
        const auto claims = users::claimsOf(token.accessToken);
        QCOMPARE(claims.at("sub"), userId);
        QCOMPARE(claims.at("preferred_username"), "alice");
        QCOMPARE(claims.at("client_id"), device.deviceId);

        QCOMPARE(client.newRecoveryCodes(userId, proofFor("/recovery-codes")).codes.size(),
                 std::size_t(10));

        // Sign out: the session is gone, and signing out again is no error.
        client.revokeUserSession(userId, session.session);
        client.revokeUserSession(userId, session.session);
        QCOMPARE(thrownProblem([&] { client.userToken(userId, session.session); }).code,
                 "authentication_required");
    }

    void cleanupTestCase() { m_verifier.reset(); }

private:
    std::filesystem::path path(const std::string &name) const
    {
        const auto directory = std::filesystem::path(m_state.path().toStdString()) / name;
        std::filesystem::create_directories(directory);
        return directory;
    }

    QTemporaryDir m_state;
    std::unique_ptr<TestVerifier> m_verifier;
};

QTEST_GUILESS_MAIN(TestVerifierClientUsers)
#include "tst_verifierclientusers.moc"

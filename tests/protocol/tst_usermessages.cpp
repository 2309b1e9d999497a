#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/userproof.h"
#include "protocol/rfc3339.h"
#include "protocol/usermessages.h"
#include "protocoltesthelpers.h"
#include "testprinters.h"

#include <QTest>

using namespace vigil::protocol;
using vigil::protocol::test::mutated;

namespace {

const std::string jwkX = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const std::string jwkY = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
const std::string userId = "5f0c8e2a-9b1d-4c3e-8f7a-2d6b4e1c9a03";
const std::string handle = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"; // 32 bytes
const std::string proof = "eyJhbGciOiJFUzI1NiJ9.eyJ1c2VyX2lkIjoieCJ9.c2ln";

nlohmann::json tpmEnrollment()
{
    return {{"version", 1},
            {"invite_code", "K7QF-M2XD-9PLA-W4RT"},
            {"local_account", "alice"},
            {"user_key",
             {{"assurance", "tpm"},
              {"jwk", {{"kty", "EC"}, {"crv", "P-256"}, {"x", jwkX}, {"y", jwkY}, {"use", "sig"}}},
              {"tpm",
               {{"public", "AAEC"}, {"certify", {{"attest", "AwQF"}, {"signature", "BgcI"}}}}}}}};
}

nlohmann::json signedIn()
{
    return {{"version", 1},
            {"session", handle},
            {"auth_time", "2026-12-07T08:00:00Z"},
            {"expires_at", "2026-12-07T16:00:00Z"},
            {"amr", {"hwk", "pin", "mfa"}},
            {"acr", "urn:vigil:acr:hwk-pin"},
            {"reauthenticate_on", {"unlock", "resume"}},
            {"warn_before_seconds", 300},
            {"access_token", "eyJh.eyJz.c2ln"},
            {"expires_in", 300}};
}

} // namespace

class TestUserMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recoveryCodesAreCanonicalised()
    {
        QCOMPARE(canonicalRecoveryCode("abcd efgh-ijkl"),
                 std::optional<std::string>("ABCD-EFGH-IJKL"));
        QCOMPARE(canonicalRecoveryCode("ABCDEFGHIJ27"),
                 std::optional<std::string>("ABCD-EFGH-IJ27"));
        QCOMPARE(canonicalRecoveryCode("ABCD-EFGH-IJK"), std::nullopt);   // 11
        QCOMPARE(canonicalRecoveryCode("ABCD-EFGH-IJKLM"), std::nullopt); // 13
        QCOMPARE(canonicalRecoveryCode("ABCD-EFGH-IJK1"), std::nullopt);  // 1 is not base32
        QCOMPARE(canonicalRecoveryCode("ABCD_EFGH_IJKL"), std::nullopt);
        QVERIFY(isTotpCode("012345"));
        QVERIFY(!isTotpCode("12345"));
        QVERIFY(!isTotpCode("1234567"));
        QVERIFY(!isTotpCode("12345a"));
        QVERIFY(!isTotpCode("+12345"));
    }

    void enrollmentWithAnInvite()
    {
        const auto request = UserEnrollmentRequest::fromJson(tpmEnrollment());
        QCOMPARE(request.inviteCode, std::optional<std::string>("K7QF-M2XD-9PLA-W4RT"));
        QVERIFY(!request.userId && !request.recoveryCode);
        QCOMPARE(request.localAccount, std::string("alice"));
        QCOMPARE(request.userKey.assurance, Assurance::Tpm);
        // Normalised to the RFC 7638 members.
        QVERIFY(!request.userKey.jwk.contains("use"));
        QCOMPARE(request.userKey.publicKey().x.size(), std::size_t(32));
        QCOMPARE(request.userKey.tpm->publicArea, (vigil::Bytes{0, 1, 2}));
        QCOMPARE(request.userKey.tpm->certify.signature, (vigil::Bytes{6, 7, 8}));
        const auto json = request.toJson();
        QCOMPARE(UserEnrollmentRequest::fromJson(json).toJson(), json);
    }

    void enrollmentWithARecoveryCode()
    {
        nlohmann::json body = mutated(tpmEnrollment(), "/invite_code", std::nullopt);
        body["user_id"] = userId;
        body["recovery_code"] = "abcd-efgh-ijkl";
        body["user_key"] = {{"assurance", "software"}, {"jwk", tpmEnrollment()["user_key"]["jwk"]}};
        const auto request = UserEnrollmentRequest::fromJson(body);
        QCOMPARE(request.recoveryCode, std::optional<std::string>("abcd-efgh-ijkl"));
        QCOMPARE(request.userId, std::optional<std::string>(userId));
        QCOMPARE(request.userKey.assurance, Assurance::Software);
        QVERIFY(!request.userKey.tpm);
        QCOMPARE(UserEnrollmentRequest::fromJson(request.toJson()).toJson(), request.toJson());
    }

    void enrollmentRejections_data()
    {
        QTest::addColumn<QByteArray>("pointer");
        QTest::addColumn<QByteArray>("value"); // "" removes
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("no version")
            << QByteArray("/version") << QByteArray() << QByteArray("/version")
            << QByteArray("/version: missing; this implementation supports version 1");
        QTest::newRow("no invite")
            << QByteArray("/invite_code") << QByteArray() << QByteArray("/invite_code")
            << QByteArray("/invite_code: missing (or user_id and recovery_code)");
        QTest::newRow("invite and user")
            << QByteArray("/user_id") << QByteArray(R"("x")") << QByteArray("/invite_code")
            << QByteArray(
                   "/invite_code: given with recovery_code or user_id; send one or the other");
        QTest::newRow("invite space")
            << QByteArray("/invite_code") << QByteArray(R"("a b")") << QByteArray("/invite_code")
            << QByteArray("/invite_code: has a space, control or non-ASCII character");
        QTest::newRow("invite long")
            << QByteArray("/invite_code") << QByteArray("\"" + QByteArray(129, 'A') + "\"")
            << QByteArray("/invite_code") << QByteArray("/invite_code: longer than 128 bytes");
        QTest::newRow("account slash")
            << QByteArray("/local_account") << QByteArray(R"("../root")")
            << QByteArray("/local_account") << QByteArray("/local_account: is not a login name");
        QTest::newRow("account empty")
            << QByteArray("/local_account") << QByteArray(R"("")") << QByteArray("/local_account")
            << QByteArray("/local_account: must not be empty");
        QTest::newRow("account newline")
            << QByteArray("/local_account") << QByteArray(R"("a\nb")")
            << QByteArray("/local_account") << QByteArray("/local_account: is not a login name");
        QTest::newRow("no key") << QByteArray("/user_key") << QByteArray()
                                << QByteArray("/user_key") << QByteArray("/user_key: missing");
        QTest::newRow("assurance")
            << QByteArray("/user_key/assurance") << QByteArray(R"("hsm")")
            << QByteArray("/user_key/assurance")
            << QByteArray("/user_key/assurance: must be \"tpm\" or \"software\"");
        QTest::newRow("jwk private") << QByteArray("/user_key/jwk/d") << QByteArray(R"("AAAA")")
                                     << QByteArray("/user_key/jwk") << QByteArray();
        QTest::newRow("jwk off curve")
            << QByteArray("/user_key/jwk/y")
            << QByteArray(R"("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")")
            << QByteArray("/user_key/jwk") << QByteArray();
        QTest::newRow("tpm missing")
            << QByteArray("/user_key/tpm") << QByteArray() << QByteArray("/user_key/tpm")
            << QByteArray("/user_key/tpm: missing");
        QTest::newRow("software with tpm")
            << QByteArray("/user_key/assurance") << QByteArray(R"("software")")
            << QByteArray("/user_key/tpm")
            << QByteArray("/user_key/tpm: must be absent for assurance \"software\"");
        QTest::newRow("public padding")
            << QByteArray("/user_key/tpm/public") << QByteArray(R"("AAE=")")
            << QByteArray("/user_key/tpm/public")
            << QByteArray("/user_key/tpm/public: not base64url without padding");
        QTest::newRow("no certify")
            << QByteArray("/user_key/tpm/certify") << QByteArray()
            << QByteArray("/user_key/tpm/certify") << QByteArray("/user_key/tpm/certify: missing");
        QTest::newRow("attest huge")
            << QByteArray("/user_key/tpm/certify/attest")
            << QByteArray("\"" + QByteArray(1400, 'A') + "\"")
            << QByteArray("/user_key/tpm/certify/attest")
            << QByteArray("/user_key/tpm/certify/attest: decodes to more than 1024 bytes");
    }

    void enrollmentRejections()
    {
        QFETCH(QByteArray, pointer);
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        const auto body =
            mutated(tpmEnrollment(), pointer.toStdString(),
                    value.isEmpty() ? std::nullopt
                                    : std::optional(nlohmann::json::parse(value.toStdString())));
        const auto rejection = test::rejectionOf([&] { UserEnrollmentRequest::fromJson(body); });
        QVERIFY2(rejection.thrown, rejection.other.c_str());
        QCOMPARE(QByteArray::fromStdString(rejection.field), field);
        if (!message.isEmpty())
            QCOMPARE(QByteArray::fromStdString(rejection.message), message);
    }

    void recoveryEnrollmentRejections()
    {
        nlohmann::json body = mutated(tpmEnrollment(), "/invite_code", std::nullopt);
        body["user_id"] = userId;
        QCOMPARE_REJECTION(UserEnrollmentRequest::fromJson(body), "/recovery_code",
                           "/recovery_code: missing");
        body["recovery_code"] = "ABCD-EFGH-IJK0";
        QCOMPARE_REJECTION(UserEnrollmentRequest::fromJson(body), "/recovery_code",
                           "/recovery_code: must be 12 base32 characters like ABCD-EFGH-IJKL");
        body["recovery_code"] = "ABCD-EFGH-IJKL";
        body["user_id"] = "0B6F0C43-5F0E-4C9A-9D83-2D2B9A6F1E10";
        QCOMPARE_REJECTION(UserEnrollmentRequest::fromJson(body), "/user_id",
                           "/user_id: must be a lower-case UUID");
    }

    void enrollmentResponse()
    {
        const nlohmann::json json = {{"version", 1},           {"user_id", userId},
                                     {"name", "alice"},        {"device_id", userId},
                                     {"key_assurance", "tpm"}, {"totp", "pending"}};
        const auto response = UserEnrollmentResponse::fromJson(json);
        QCOMPARE(response.totp, TotpState::Pending);
        QCOMPARE(response.toJson(), json);
        QCOMPARE_REJECTION(UserEnrollmentResponse::fromJson(mutated(json, "/totp", "on")), "/totp",
                           "/totp: must be \"none\", \"pending\" or \"active\"");
        QCOMPARE_REJECTION(UserEnrollmentResponse::fromJson(mutated(json, "/name", std::nullopt)),
                           "/name", "/name: missing");
    }

    void totpBodies()
    {
        const nlohmann::json begin = {{"version", 1}, {"user_proof", proof}};
        QCOMPARE(UserProofBody::fromJson(begin).toJson(), begin);
        QCOMPARE_REJECTION(UserProofBody::fromJson(mutated(begin, "/user_proof", "a.b")),
                           "/user_proof", "/user_proof: must be a compact JWS");
        QCOMPARE_REJECTION(UserProofBody::fromJson(mutated(begin, "/user_proof", "a. b.c")),
                           "/user_proof", "/user_proof: must be a compact JWS");
        QCOMPARE_REJECTION(
            UserProofBody::fromJson(mutated(begin, "/version", 2)), "/version",
            "/version: unsupported version 2; this implementation supports version 1");

        const nlohmann::json enrollment = {
            {"version", 1},
            {"otpauth_uri", "otpauth://totp/Vigil:alice?secret=JBSWY3DPEHPK3PXP&issuer=Vigil"},
            {"expires_at", "2026-12-07T08:15:00Z"}};
        QCOMPARE(TotpEnrollment::fromJson(enrollment).toJson(), enrollment);
        QCOMPARE_REJECTION(
            TotpEnrollment::fromJson(mutated(enrollment, "/otpauth_uri", "otpauth://hotp/x")),
            "/otpauth_uri", "/otpauth_uri: must be an otpauth://totp/ URI");

        const nlohmann::json activation = {
            {"version", 1}, {"user_proof", proof}, {"code", "012345"}};
        QCOMPARE(TotpActivationRequest::fromJson(activation).code, std::string("012345"));
        QCOMPARE(TotpActivationRequest::fromJson(activation).toJson(), activation);
        QCOMPARE_REJECTION(TotpActivationRequest::fromJson(mutated(activation, "/code", "12345")),
                           "/code", "/code: must be 6 digits");
        QCOMPARE_REJECTION(TotpActivationRequest::fromJson(mutated(activation, "/code", 123456)),
                           "/code", "/code: must be a string");
        QCOMPARE_REJECTION(TotpActivationRequest::fromJson(mutated(activation, "/code", "1234567")),
                           "/code", "/code: longer than 6 bytes");
    }

    void recoveryCodes()
    {
        const nlohmann::json json = {{"version", 1},
                                     {"recovery_codes", {"ABCD-EFGH-IJKL", "MNOP-QRST-UVWX"}}};
        QCOMPARE(RecoveryCodes::fromJson(json).codes.size(), std::size_t(2));
        QCOMPARE(RecoveryCodes::fromJson(json).toJson(), json);
        QCOMPARE_REJECTION(
            RecoveryCodes::fromJson(mutated(json, "/recovery_codes/1", "ABCD-EFGH-IJKL")),
            "/recovery_codes/1", "/recovery_codes/1: repeats an earlier code");
        QCOMPARE_REJECTION(
            RecoveryCodes::fromJson(mutated(json, "/recovery_codes/0", "abcd-efgh-ijkl")),
            "/recovery_codes/0",
            "/recovery_codes/0: must be 12 base32 characters like ABCD-EFGH-IJKL");
        QCOMPARE_REJECTION(
            RecoveryCodes::fromJson(mutated(json, "/recovery_codes", nlohmann::json::array())),
            "/recovery_codes", "/recovery_codes: must not be empty");
    }

    void signIn()
    {
        const nlohmann::json both = {{"version", 1}, {"user_proof", proof}, {"otp", "123456"}};
        const auto request = SignInRequest::fromJson(both);
        QVERIFY(request.userProof && request.otp);
        QCOMPARE(request.toJson(), both);
        const auto otpOnly = SignInRequest::fromJson(mutated(both, "/user_proof", std::nullopt));
        QVERIFY(!otpOnly.userProof && otpOnly.otp);
        QCOMPARE_REJECTION(
            SignInRequest::fromJson({{"version", 1}}), "/user_proof",
            "/user_proof: missing, and so is otp: a sign-in needs at least one factor");
        QCOMPARE_REJECTION(SignInRequest::fromJson(mutated(both, "/otp", nullptr)), "/otp",
                           "/otp: must be a string");
    }

    void userSession()
    {
        const auto parsed = UserSession::fromJson(signedIn());
        QCOMPARE(parsed.amr, (std::vector<std::string>{"hwk", "pin", "mfa"}));
        QCOMPARE(parsed.warnBefore.count(), 300);
        QCOMPARE(parsed.toJson(), signedIn());
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/amr/1", "hwk")), "/amr/1",
                           "/amr/1: repeats \"hwk\"");
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/amr/1", "pwd")), "/amr/1",
                           "/amr/1: must be one of: hwk, swk, pin, otp, mfa");
        QCOMPARE_REJECTION(
            UserSession::fromJson(mutated(signedIn(), "/amr", nlohmann::json::array())), "/amr",
            "/amr: must not be empty");
        QCOMPARE_REJECTION(
            UserSession::fromJson(mutated(signedIn(), "/reauthenticate_on/0", "logout")),
            "/reauthenticate_on/0", "/reauthenticate_on/0: must be one of: unlock, resume");
        QVERIFY(UserSession::fromJson(
                    mutated(signedIn(), "/reauthenticate_on", nlohmann::json::array()))
                    .reauthenticateOn.empty());
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/warn_before_seconds", 3601)),
                           "/warn_before_seconds",
                           "/warn_before_seconds: must be an integer from 0 to 3600");
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/expires_in", 601)),
                           "/expires_in", "/expires_in: must be an integer from 1 to 600");
        QCOMPARE_REJECTION(
            UserSession::fromJson(mutated(signedIn(), "/expires_at", "2026-12-07T07:00:00Z")),
            "/expires_at", "/expires_at: is before auth_time");
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/session", "AAEC")),
                           "/session", "/session: must decode to exactly 32 bytes");
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/access_token", "a b.c.d")),
                           "/access_token", "/access_token: must be a compact JWS");
        QCOMPARE_REJECTION(UserSession::fromJson(mutated(signedIn(), "/acr", "hwk-pin")), "/acr",
                           "/acr: must be a URN");
    }

    void sessionRequests()
    {
        const nlohmann::json json = {{"version", 1}, {"session", handle}};
        QCOMPARE(SessionRequest::fromJson(json).session, handle);
        QCOMPARE(SessionRequest::fromJson(json).toJson(), json);
        QCOMPARE_REJECTION(SessionRequest::fromJson(mutated(json, "/session", handle + "AA")),
                           "/session", "/session: must decode to exactly 32 bytes");
        QCOMPARE_REJECTION(SessionRequest::fromJson(mutated(json, "/session", std::nullopt)),
                           "/session", "/session: missing");
    }

    // The examples docs/protocol.md quotes (tests/fixtures/protocol/generate_users.py): each
    // parses and writes back unchanged, and the signed parts verify.
    void examplesRoundTrip()
    {
        using test::fixture;
        const auto same = [](const nlohmann::json &written, const char *name) {
            QVERIFY2(written == fixture(name), name);
        };
        same(UserEnrollmentRequest::fromJson(fixture("user-enrollment-request")).toJson(),
             "user-enrollment-request");
        same(UserEnrollmentResponse::fromJson(fixture("user-enrollment-response")).toJson(),
             "user-enrollment-response");
        same(UserProofBody::fromJson(fixture("totp-request")).toJson(), "totp-request");
        same(TotpEnrollment::fromJson(fixture("totp-enrollment")).toJson(), "totp-enrollment");
        same(TotpActivationRequest::fromJson(fixture("totp-activation-request")).toJson(),
             "totp-activation-request");
        same(RecoveryCodes::fromJson(fixture("recovery-codes")).toJson(), "recovery-codes");
        QCOMPARE(RecoveryCodes::fromJson(fixture("recovery-codes")).codes.size(), std::size_t(10));
        same(SignInRequest::fromJson(fixture("sign-in-request")).toJson(), "sign-in-request");
        same(UserSession::fromJson(fixture("user-session")).toJson(), "user-session");
        same(SessionRequest::fromJson(fixture("session-request")).toJson(), "session-request");
    }

    void exampleProofsAndTokenVerify()
    {
        using test::fixture;
        const auto request = UserEnrollmentRequest::fromJson(fixture("user-enrollment-request"));
        const EcPublicKey userKey = request.userKey.publicKey();
        const std::string users = "https://verifier.example.com:8443/v1/users/" + userId;
        const std::string deviceJkt = "oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U";
        UserProofValidator validator;
        const auto check = [&](const std::string &proof, const std::string &path, const char *at) {
            return validator.validate(proof, userKey, {userId, "POST", users + path, deviceJkt},
                                      *parseRfc3339(at));
        };
        check(UserProofBody::fromJson(fixture("totp-request")).userProof, "/totp",
              "2026-11-24T16:15:00Z");
        check(TotpActivationRequest::fromJson(fixture("totp-activation-request")).userProof,
              "/totp/activation", "2026-11-24T16:15:40Z");
        check(*SignInRequest::fromJson(fixture("sign-in-request")).userProof, "/sessions",
              "2026-11-24T16:16:40Z");

        const auto session = UserSession::fromJson(fixture("user-session"));
        const Jws token = parseJws(session.accessToken);
        const auto tokenKey = parseEcPublicJwk(fixture("jwks")["keys"][0]);
        QVERIFY(verifyJws(token, tokenKey));
        const auto claims = nlohmann::json::parse(token.payload);
        QCOMPARE(claims.at("sub"), userId);
        QCOMPARE(claims.at("amr"), nlohmann::json(session.amr));
        QCOMPARE(
            claims.at("auth_time").get<long long>(),
            std::chrono::duration_cast<std::chrono::seconds>(session.authTime.time_since_epoch())
                .count());
        QCOMPARE(claims.at("cnf").at("jkt"), deviceJkt);
    }

    void newProblemCodesAreKnown()
    {
        for (const char *code :
             {"invalid_invite", "invalid_recovery_code", "user_disabled", "invalid_user_proof",
              "invalid_code", "user_locked", "factor_not_accepted", "totp_active",
              "totp_not_pending", "authentication_required", "invalid_request"})
            QVERIFY2(makeProblem(code, "x").status >= 400, code);
        QCOMPARE(makeProblem("totp_active", "x").status, 409);
        QCOMPARE(makeProblem("authentication_required", "x").status, 401);
    }
};

QTEST_GUILESS_MAIN(TestUserMessages)
#include "tst_usermessages.moc"

// Users and MFA against the real verifier over HTTPS (docs/protocol.md 5.9-5.15) from software
// devices with software user keys: invites, TOTP with codes from oathtool, lockout, recovery
// codes, sign-in with user proofs and codes, user tokens and their sessions.
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"
#include "protocol/usermessages.h"
#include "server/api/verifierservice.h"
#include "testdevice.h"
#include "testprinters.h"
#include "usertesthelpers.h"

#include <QTemporaryDir>
#include <QTest>

using namespace vigil::test;
using namespace vigil::test::users;
using namespace std::chrono_literals;
namespace protocol = vigil::protocol;

namespace {

const std::string policyText =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"],
        "users": {"accepted_key_assurance": ["tpm", "software"]}})";

// Every log line the verifier writes during the suite, and every secret the suite handled
// (invite codes, TOTP secrets, recovery codes, session handles): none may appear in the log.
std::vector<std::string> &logLines()
{
    static std::vector<std::string> lines;
    return lines;
}
std::vector<std::string> &secrets()
{
    static std::vector<std::string> values;
    return values;
}
QtMessageHandler previousHandler = nullptr;
void captureLog(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    logLines().push_back(std::string(context.category ? context.category : "") + ": " +
                         message.toStdString());
    if (previousHandler)
        previousHandler(type, context, message);
}

struct EnrolledDevice
{
    std::unique_ptr<TestDevice> device;
    std::string id;
};

// A user with a software key on a device, and (once set up) an active TOTP secret.
struct TestUser
{
    std::string id;
    std::string name;
    std::unique_ptr<protocol::SoftwareDeviceKey> key;
    std::string secret; // base32, "" until TOTP is active
    std::vector<std::string> recoveryCodes;
};

} // namespace

class TestUsers : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_state;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
    EnrolledDevice m_a;
    EnrolledDevice m_b;
    int m_users = 0;
    bool m_policyChanged = false;

    std::filesystem::path path(const std::string &name) const
    {
        return std::filesystem::path(m_state.path().toStdString()) / name;
    }

    HttpResponse reportFrom(TestDevice &device, const std::string &deviceId,
                            const std::optional<json> &posture = std::nullopt)
    {
        const std::string nonceUrl = m_verifier->url("/v1/nonces");
        const auto nonce =
            m_client->postJson(nonceUrl, R"({"version":1})", {device.dpopHeader("POST", nonceUrl)});
        if (nonce.status != 200)
            return nonce;
        const json issued = body(nonce);
        const json report = {
            {"version", 1},
            {"report", device.report(deviceId, issued.at("nonce"),
                                     issued.at("pcrs").get<std::vector<unsigned>>(), posture)}};
        return m_client->postJson(m_verifier->url("/v1/reports"), report.dump());
    }

    EnrolledDevice enrolledDevice(const std::string &name)
    {
        auto &clock = m_verifier->clock();
        EnrolledDevice enrolled;
        enrolled.device = TestDevice::software(path(name), [&clock] { return clock.now(); });
        enrolled.id =
            enrolled.device
                ->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken())
                .at("device_id");
        if (reportFrom(*enrolled.device, enrolled.id).status != 200)
            throw std::runtime_error("report failed");
        return enrolled;
    }

    HttpResponse post(EnrolledDevice &device, const std::string &path, const json &body)
    {
        return users::post(*m_client, *m_verifier, device.device->key(), path, body);
    }

    json enrollmentBody(const std::string &code, protocol::DeviceKey &key,
                        const std::string &account = "alice")
    {
        return {{"version", 1},
                {"invite_code", code},
                {"local_account", account},
                {"user_key", {{"assurance", "software"}, {"jwk", key.publicJwk()}}}};
    }

    // A new user enrolled with a software key on device.
    TestUser enrolledUser(EnrolledDevice &device)
    {
        TestUser user;
        user.name = "user" + std::to_string(++m_users);
        user.id = addUser(*m_verifier, user.name);
        user.key = protocol::SoftwareDeviceKey::create(path(user.name + ".pem"));
        const std::string code = invite(*m_verifier, user.id);
        secrets().push_back(code);
        const auto response =
            post(device, "/v1/users/enrollments", enrollmentBody(code, *user.key));
        if (response.status != 201)
            throw std::runtime_error("user enrollment failed: " + response.body);
        return user;
    }

    std::string proof(TestUser &user, const std::string &path, EnrolledDevice &device,
                      const std::string &jti = {})
    {
        return userProof(*m_verifier, user.key->publicKey(), signerOf(*user.key), user.id, path,
                         device.device->key().thumbprint(), jti);
    }

    std::string totpPath(const TestUser &user, const std::string &rest = {})
    {
        return "/v1/users/" + user.id + "/totp" + rest;
    }

    std::string sessionsPath(const TestUser &user) { return "/v1/users/" + user.id + "/sessions"; }

    // Lands the clock 5 s into a TOTP time step, so that a test's codes stay in their step.
    void alignToStep()
    {
        auto &clock = m_verifier->clock();
        const auto seconds = epochSeconds(clock.now());
        clock.set(std::chrono::system_clock::time_point(
            std::chrono::seconds(seconds - seconds % 30 + 30 + 5)));
    }

    // TOTP begun and activated with oathtool's code; the recovery codes kept.
    void activateTotp(TestUser &user, EnrolledDevice &device)
    {
        const auto begun =
            post(device, totpPath(user),
                 {{"version", 1}, {"user_proof", proof(user, totpPath(user), device)}});
        QVERIFY2(begun.status == 201, begun.body.c_str());
        user.secret = otpauthSecret(body(begun).at("otpauth_uri"));
        secrets().push_back(user.secret);
        alignToStep();
        const auto activated =
            post(device, totpPath(user, "/activation"),
                 {{"version", 1},
                  {"user_proof", proof(user, totpPath(user, "/activation"), device)},
                  {"code", oathtool(user.secret, m_verifier->clock().now())}});
        QVERIFY2(activated.status == 200, activated.body.c_str());
        user.recoveryCodes = body(activated).at("recovery_codes").get<std::vector<std::string>>();
        secrets().insert(secrets().end(), user.recoveryCodes.begin(), user.recoveryCodes.end());
    }

    HttpResponse signInWithOtp(TestUser &user, EnrolledDevice &device, const std::string &code)
    {
        return post(device, sessionsPath(user), {{"version", 1}, {"otp", code}});
    }

    HttpResponse signInWithKey(TestUser &user, EnrolledDevice &device)
    {
        auto response =
            post(device, sessionsPath(user),
                 {{"version", 1}, {"user_proof", proof(user, sessionsPath(user), device)}});
        if (response.status == 201)
            secrets().push_back(body(response).at("session"));
        return response;
    }

    // A code that none of the steps around now accepts.
    std::string wrongCode(const TestUser &user)
    {
        const auto now = m_verifier->clock().now();
        for (int candidate = 0;; ++candidate) {
            char text[16];
            std::snprintf(text, sizeof text, "%06d", candidate);
            bool used = false;
            for (const auto offset : {-30s, 0s, 30s})
                used = used || oathtool(user.secret, now + offset) == text;
            if (!used)
                return text;
        }
    }

    void setPolicy(const std::string &text)
    {
        m_verifier->setPolicy(text);
        m_policyChanged = true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        previousHandler = qInstallMessageHandler(captureLog);
        QVERIFY(m_state.isValid());
        vigil::server::VerifierOptions options;
        options.deviceBurst = 100000;
        m_verifier = std::make_unique<TestVerifier>(policyText, std::filesystem::path(), options);
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());
        m_a = enrolledDevice("device-a");
        m_b = enrolledDevice("device-b");
    }

    void cleanup()
    {
        if (m_policyChanged) {
            m_verifier->setPolicy(policyText);
            m_policyChanged = false;
        }
        // Every test leaves both devices compliant and fresh for the next.
        QCOMPARE(reportFrom(*m_a.device, m_a.id).status, 200L);
        QCOMPARE(reportFrom(*m_b.device, m_b.id).status, 200L);
    }

    // --- 5.9 enrollment -------------------------------------------------------------------

    void anInviteEnrollsOnceOnOneDevice()
    {
        const std::string id = addUser(*m_verifier, "carol");
        const std::string code = invite(*m_verifier, id);
        auto key = protocol::SoftwareDeviceKey::create(path("carol.pem"));
        const auto enrolled =
            post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key, "carol"));
        QVERIFY2(enrolled.status == 201, enrolled.body.c_str());
        QCOMPARE(body(enrolled), (json{{"version", 1},
                                       {"user_id", id},
                                       {"name", "carol"},
                                       {"device_id", m_a.id},
                                       {"key_assurance", "software"},
                                       {"totp", "none"}}));
        const auto stored = m_verifier->storage().userDevice(id, m_a.id);
        QVERIFY(stored.has_value());
        QCOMPARE(stored->localAccount, std::string("carol"));
        QCOMPARE(stored->keyJkt, key->thumbprint());

        // Used: refused on any device, with the one answer for unknown, used and expired.
        VERIFY_PROBLEM(post(m_b, "/v1/users/enrollments", enrollmentBody(code, *key)), 403,
                       "invalid_invite", "unknown, used or expired");
        VERIFY_PROBLEM(post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key)), 403,
                       "invalid_invite", "unknown, used or expired");
        VERIFY_PROBLEM(
            post(m_a, "/v1/users/enrollments", enrollmentBody("vui1.AAAAAAAAAAAAAAAAAAAAAA", *key)),
            403, "invalid_invite", "unknown, used or expired");
    }

    void anExpiredInviteIsRefused()
    {
        const std::string id = addUser(*m_verifier, "dave");
        const std::string code = invite(*m_verifier, id, 60s);
        auto key = protocol::SoftwareDeviceKey::create(path("dave.pem"));
        m_verifier->clock().advance(61s);
        VERIFY_PROBLEM(post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key)), 403,
                       "invalid_invite", "unknown, used or expired");
        QVERIFY(!m_verifier->storage().userDevice(id, m_a.id));
    }

    void aDisabledUsersInviteIsRefused()
    {
        const std::string id = addUser(*m_verifier, "erin");
        const std::string code = invite(*m_verifier, id);
        QVERIFY(m_verifier->storage().setUserDisabled(id, m_verifier->clock().now()));
        auto key = protocol::SoftwareDeviceKey::create(path("erin.pem"));
        VERIFY_PROBLEM(post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key)), 403,
                       "user_disabled", "erin is disabled");
    }

    void softwareKeysNeedThePolicy()
    {
        setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"]})");
        const std::string id = addUser(*m_verifier, "frank");
        const std::string code = invite(*m_verifier, id);
        auto key = protocol::SoftwareDeviceKey::create(path("frank.pem"));
        VERIFY_PROBLEM(post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key)), 403,
                       "assurance_not_allowed", "user keys with assurance 'software'");
        // A software device has no AK to certify a TPM user key with.
        json tpmKey = enrollmentBody(code, *key);
        tpmKey["user_key"]["assurance"] = "tpm";
        tpmKey["user_key"]["tpm"] = {{"public", "AAEC"},
                                     {"certify", {{"attest", "AAEC"}, {"signature", "AAEC"}}}};
        VERIFY_PROBLEM(post(m_a, "/v1/users/enrollments", tpmKey), 400, "invalid_request",
                       "software user keys only");
        // Neither refusal spent the invite.
        m_verifier->setPolicy(policyText);
        QCOMPARE(post(m_a, "/v1/users/enrollments", enrollmentBody(code, *key)).status, 201L);
    }

    void enrollmentNeedsTheDevicesProof()
    {
        const std::string url = m_verifier->url("/v1/users/enrollments");
        VERIFY_PROBLEM(m_client->postJson(url, R"({"version":1})"), 400, "malformed_request",
                       "invite_code");
        auto key = protocol::SoftwareDeviceKey::create(path("nodpop.pem"));
        VERIFY_PROBLEM(m_client->postJson(url, enrollmentBody("vui1.x", *key).dump()), 401,
                       "invalid_dpop_proof", "DPoP");
    }

    // --- 5.10-5.12 TOTP and recovery codes ------------------------------------------------

    void totpActivatesWithOathtoolsCode()
    {
        TestUser user = enrolledUser(m_a);
        const auto begun = post(m_a, totpPath(user),
                                {{"version", 1}, {"user_proof", proof(user, totpPath(user), m_a)}});
        QVERIFY2(begun.status == 201, begun.body.c_str());
        QCOMPARE(begun.headers.at("cache-control"), "no-store");
        const auto enrollment = protocol::TotpEnrollment::fromJson(body(begun));
        QVERIFY(enrollment.otpauthUri.starts_with("otpauth://totp/Vigil:" + user.name + "?"));
        QVERIFY(enrollment.otpauthUri.find("issuer=Vigil") != std::string::npos);
        QVERIFY(enrollment.otpauthUri.find("algorithm=SHA1") != std::string::npos);
        QVERIFY(enrollment.otpauthUri.find("digits=6") != std::string::npos);
        QVERIFY(enrollment.otpauthUri.find("period=30") != std::string::npos);
        QVERIFY(enrollment.expiresAt == m_verifier->clock().now() + 15min ||
                enrollment.expiresAt ==
                    std::chrono::floor<std::chrono::seconds>(m_verifier->clock().now() + 15min));
        user.secret = otpauthSecret(enrollment.otpauthUri);
        QCOMPARE(user.secret.size(), std::size_t(32)); // 160 bits in base32

        alignToStep();
        const std::string activation = totpPath(user, "/activation");
        // A wrong code is refused; the secret stays pending.
        VERIFY_PROBLEM(post(m_a, activation,
                            {{"version", 1},
                             {"user_proof", proof(user, activation, m_a)},
                             {"code", wrongCode(user)}}),
                       403, "invalid_code", "wrong");
        const auto activated = post(m_a, activation,
                                    {{"version", 1},
                                     {"user_proof", proof(user, activation, m_a)},
                                     {"code", oathtool(user.secret, m_verifier->clock().now())}});
        QVERIFY2(activated.status == 200, activated.body.c_str());
        const auto codes = protocol::RecoveryCodes::fromJson(body(activated)).codes;
        QCOMPARE(codes.size(), std::size_t(10));

        // Active: no second secret, no second activation.
        VERIFY_PROBLEM(post(m_a, totpPath(user),
                            {{"version", 1}, {"user_proof", proof(user, totpPath(user), m_a)}}),
                       409, "totp_active", "active TOTP already");
        VERIFY_PROBLEM(post(m_a, activation,
                            {{"version", 1},
                             {"user_proof", proof(user, activation, m_a)},
                             {"code", oathtool(user.secret, m_verifier->clock().now())}}),
                       409, "totp_not_pending", "no TOTP secret waiting");

        // An administrator's reset (a lost phone, `users totp-reset`): it can be set up again.
        QVERIFY(m_verifier->storage().resetTotp(user.id));
        const auto again = post(m_a, totpPath(user),
                                {{"version", 1}, {"user_proof", proof(user, totpPath(user), m_a)}});
        QVERIFY2(again.status == 201, again.body.c_str());
        QVERIFY(otpauthSecret(protocol::TotpEnrollment::fromJson(body(again)).otpauthUri) !=
                user.secret);
    }

    void aCodeWorksOnceAndOnlyNearItsTime()
    {
        TestUser user = enrolledUser(m_a);
        activateTotp(user, m_a);
        // The activation used this step's code: the same code again is refused.
        const auto now = m_verifier->clock().now();
        VERIFY_PROBLEM(signInWithOtp(user, m_a, oathtool(user.secret, now)), 403, "invalid_code",
                       "used already");
        // Two steps ahead is outside the window.
        VERIFY_PROBLEM(signInWithOtp(user, m_a, oathtool(user.secret, now + 60s)), 403,
                       "invalid_code", "wrong");
        // One step ahead is inside it, once.
        const std::string next = oathtool(user.secret, now + 30s);
        const auto signedIn = signInWithOtp(user, m_a, next);
        QVERIFY2(signedIn.status == 201, signedIn.body.c_str());
        QCOMPARE(body(signedIn).at("amr"), json::array({"otp"}));
        QCOMPARE(body(signedIn).at("acr"), "urn:vigil:acr:otp");
        // That step is spent, in its own time too.
        m_verifier->clock().advance(30s);
        VERIFY_PROBLEM(signInWithOtp(user, m_a, next), 403, "invalid_code", "used already");
    }

    void failuresSlowDownAndThenLock()
    {
        TestUser user = enrolledUser(m_a);
        activateTotp(user, m_a);
        auto &clock = m_verifier->clock();
        const std::string wrong = wrongCode(user);
        int failures = 0;
        HttpResponse response;
        for (int attempt = 0; attempt < 40; ++attempt) {
            response = signInWithOtp(user, m_a, wrong);
            if (response.status == 429) {
                // 2^(failures-3) seconds after the third failure.
                QCOMPARE(failures >= 3, true);
                const int wait = std::stoi(response.headers.at("retry-after"));
                QCOMPARE(wait, 1 << (failures - 3));
                clock.advance(std::chrono::seconds(wait));
                continue;
            }
            if (response.status != 403 || body(response).at("code") != "invalid_code")
                break;
            ++failures;
        }
        VERIFY_PROBLEM(response, 403, "user_locked", "administrator");
        QCOMPARE(failures, 9); // the tenth failure locks
        QVERIFY(m_verifier->storage().userTotp(user.id)->locked);
        // Locked: even the right code is refused, and the user key alone still signs in.
        VERIFY_PROBLEM(signInWithOtp(user, m_a, oathtool(user.secret, clock.now())), 403,
                       "user_locked", "administrator");
        QCOMPARE(signInWithKey(user, m_a).status, 201L);
    }

    void recoveryCodesWorkOnceAndReplaceTheKey()
    {
        TestUser user = enrolledUser(m_a);
        activateTotp(user, m_a);
        QCOMPARE(user.recoveryCodes.size(), std::size_t(10));
        const json oldKey = user.key->publicJwk();
        auto recover = [&](const std::string &code, protocol::DeviceKey &key) {
            return post(m_a, "/v1/users/enrollments",
                        {{"version", 1},
                         {"user_id", user.id},
                         {"recovery_code", code},
                         {"local_account", "alice"},
                         {"user_key", {{"assurance", "software"}, {"jwk", key.publicJwk()}}}});
        };
        // A session the old key started, which the new key must end.
        const auto signedIn = signInWithKey(user, m_a);
        QVERIFY2(signedIn.status == 201, signedIn.body.c_str());
        const std::string oldSession = body(signedIn).at("session");
        // Each code once: a new key with the first, refused the second time.
        auto newKey = protocol::SoftwareDeviceKey::create(path(user.name + "-new.pem"));
        const auto replaced = recover(user.recoveryCodes[0], *newKey);
        QVERIFY2(replaced.status == 201, replaced.body.c_str());
        VERIFY_PROBLEM(post(m_a, "/v1/users/" + user.id + "/tokens",
                            json{{"version", 1}, {"session", oldSession}}),
                       401, "authentication_required", "sign in");
        QCOMPARE(body(replaced).at("totp"), "active");
        QCOMPARE(m_verifier->storage().userDevice(user.id, m_a.id)->keyJkt, newKey->thumbprint());
        VERIFY_PROBLEM(recover(user.recoveryCodes[0], *newKey), 403, "invalid_recovery_code",
                       "not an unused code");
        // The old key signs nothing any more; the new one does.
        VERIFY_PROBLEM(signInWithKey(user, m_a), 401, "invalid_user_proof", "kid");
        std::swap(user.key, newKey);
        QCOMPARE(signInWithKey(user, m_a).status, 201L);
        // Lower case and spaces are the same code.
        QString typed = QString::fromStdString(user.recoveryCodes[1]).toLower();
        typed.replace(QLatin1Char('-'), QLatin1Char(' '));
        QCOMPARE(recover(typed.toStdString(), *user.key).status, 201L);
        // Not on a device where the user has no key: that needs an invite.
        VERIFY_PROBLEM(
            users::post(
                *m_client, *m_verifier, m_b.device->key(), "/v1/users/enrollments",
                {{"version", 1},
                 {"user_id", user.id},
                 {"recovery_code", user.recoveryCodes[2]},
                 {"local_account", "alice"},
                 {"user_key", {{"assurance", "software"}, {"jwk", user.key->publicJwk()}}}}),
            403, "invalid_recovery_code", "not an unused code");

        // A new set replaces the old one.
        const std::string path = "/v1/users/" + user.id + "/recovery-codes";
        const auto renewed =
            post(m_a, path, {{"version", 1}, {"user_proof", proof(user, path, m_a)}});
        QVERIFY2(renewed.status == 200, renewed.body.c_str());
        const auto fresh = body(renewed).at("recovery_codes").get<std::vector<std::string>>();
        QCOMPARE(fresh.size(), std::size_t(10));
        VERIFY_PROBLEM(recover(user.recoveryCodes[3], *user.key), 403, "invalid_recovery_code",
                       "not an unused code");
        QCOMPARE(recover(fresh[0], *user.key).status, 201L);
        QVERIFY(oldKey != user.key->publicJwk());
    }

    // --- 5.13-5.15 sign-in, tokens, sessions ----------------------------------------------

    void signInWithTheUserKeyGivesAUserToken()
    {
        TestUser user = enrolledUser(m_a);
        const auto authTime = std::chrono::floor<std::chrono::seconds>(m_verifier->clock().now());
        const auto response = signInWithKey(user, m_a);
        QVERIFY2(response.status == 201, response.body.c_str());
        const auto session = protocol::UserSession::fromJson(body(response));
        QCOMPARE(session.amr, (std::vector<std::string>{"swk", "pin", "mfa"}));
        QCOMPARE(session.acr, std::string("urn:vigil:acr:swk-pin"));
        QVERIFY(session.authTime == authTime);
        QVERIFY(session.expiresAt == authTime + 28800s);
        QCOMPARE(session.reauthenticateOn, (std::vector<std::string>{"unlock", "resume"}));
        QCOMPARE(session.warnBefore.count(), 300);
        QCOMPARE(session.expiresIn.count(), 300);

        const auto jws = protocol::parseJws(session.accessToken);
        QVERIFY(protocol::verifyJws(jws, m_verifier->tokenKey().publicKey()));
        QCOMPARE(jws.header.at("typ"), "at+jwt");
        const json claims = json::parse(jws.payload);
        QCOMPARE(claims.at("sub"), user.id);
        QCOMPARE(claims.at("preferred_username"), user.name);
        QCOMPARE(claims.at("client_id"), m_a.id);
        QCOMPARE(claims.at("iss"), m_verifier->url(""));
        QCOMPARE(claims.at("aud"), "vigil");
        QCOMPARE(claims.at("cnf"), (json{{"jkt", m_a.device->key().thumbprint()}}));
        QCOMPARE(claims.at("amr"), json::array({"swk", "pin", "mfa"}));
        QCOMPARE(claims.at("acr"), "urn:vigil:acr:swk-pin");
        QCOMPARE(claims.at("auth_time"), epochSeconds(authTime));
        QCOMPARE(claims.at("exp").get<long long>() - claims.at("iat").get<long long>(), 300LL);
        QCOMPARE(claims.at("assurance"), "software");
        QCOMPARE(claims.at("appraisal_id"), m_verifier->storage().device(m_a.id)->lastAppraisalId);

        // The session trades for more tokens with the same auth_time.
        m_verifier->clock().advance(100s);
        const std::string tokens = "/v1/users/" + user.id + "/tokens";
        const auto more = post(m_a, tokens, json{{"version", 1}, {"session", session.session}});
        QVERIFY2(more.status == 200, more.body.c_str());
        QCOMPARE(body(more).at("token_type"), "DPoP");
        const json again = claimsOf(body(more).at("access_token"));
        QCOMPARE(again.at("auth_time"), epochSeconds(authTime));
        QCOMPARE(again.at("sub"), user.id);
        QCOMPARE(again.at("iat"), epochSeconds(authTime) + 100);
    }

    void bothFactorsMakeMfaWithOtp()
    {
        TestUser user = enrolledUser(m_a);
        activateTotp(user, m_a);
        m_verifier->clock().advance(30s);
        const auto response = post(m_a, sessionsPath(user),
                                   {{"version", 1},
                                    {"user_proof", proof(user, sessionsPath(user), m_a)},
                                    {"otp", oathtool(user.secret, m_verifier->clock().now())}});
        QVERIFY2(response.status == 201, response.body.c_str());
        QCOMPARE(body(response).at("amr"), json::array({"swk", "pin", "otp", "mfa"}));
        QCOMPARE(body(response).at("acr"), "urn:vigil:acr:swk-pin-otp");
    }

    void badUserProofsAreRefused()
    {
        TestUser user = enrolledUser(m_a);
        const std::string path = sessionsPath(user);
        // Signed by another key.
        auto stranger = protocol::SoftwareDeviceKey::create(path_("stranger.pem"));
        const std::string byStranger =
            userProof(*m_verifier, stranger->publicKey(), signerOf(*stranger), user.id, path,
                      m_a.device->key().thumbprint());
        VERIFY_PROBLEM(post(m_a, path, {{"version", 1}, {"user_proof", byStranger}}), 401,
                       "invalid_user_proof", "kid");
        // Made for another device, sent by this one.
        const std::string forB = proof(user, path, m_b);
        VERIFY_PROBLEM(post(m_a, path, {{"version", 1}, {"user_proof", forB}}), 401,
                       "invalid_user_proof", "jkt");
        // Sent by the other device, where the user has no key.
        VERIFY_PROBLEM(post(m_b, path, {{"version", 1}, {"user_proof", forB}}), 403,
                       "user_not_enrolled", "has no key on device");
        // For another endpoint.
        const std::string forTotp = proof(user, totpPath(user), m_a);
        VERIFY_PROBLEM(post(m_a, path, {{"version", 1}, {"user_proof", forTotp}}), 401,
                       "invalid_user_proof", "htu");
        // Replayed.
        const std::string once = proof(user, path, m_a, "AAECAwQFBgcICQoLDA0ODw");
        QCOMPARE(post(m_a, path, {{"version", 1}, {"user_proof", once}}).status, 201L);
        VERIFY_PROBLEM(post(m_a, path, {{"version", 1}, {"user_proof", once}}), 401,
                       "invalid_user_proof", "replay");
        // Too old.
        const std::string old = proof(user, path, m_a);
        m_verifier->clock().advance(61s);
        VERIFY_PROBLEM(post(m_a, path, {{"version", 1}, {"user_proof", old}}), 401,
                       "invalid_user_proof", "too old");
        // Unknown user.
        VERIFY_PROBLEM(post(m_a, "/v1/users/00000000-0000-4000-8000-000000000000/sessions",
                            {{"version", 1}, {"otp", "123456"}}),
                       404, "unknown_user", "no user");
    }

    void signInNeedsACompliantDevice()
    {
        TestUser user = enrolledUser(m_a);
        json posture = m_a.device->compliantPosture();
        posture["checks"]["firewall"]["status"] = "fail";
        posture["checks"]["firewall"]["summary"] = "no firewall";
        posture["checks"]["firewall"]["remediation"] = "Enable the firewall";
        const auto appraisal = reportFrom(*m_a.device, m_a.id, posture);
        QVERIFY2(appraisal.status == 200, appraisal.body.c_str());
        QCOMPARE(body(appraisal).at("verdict"), "non_compliant");
        VERIFY_PROBLEM(signInWithKey(user, m_a), 403, "not_compliant", "non-compliant");
        // The refused proof was not recorded: the device fixes itself and signs in.
        QCOMPARE(reportFrom(*m_a.device, m_a.id).status, 200L);
        const auto session = signInWithKey(user, m_a);
        QVERIFY2(session.status == 201, session.body.c_str());
        // Stale: the device missed its report.
        m_verifier->clock().advance(900s + 300s + 1s);
        const std::string tokens = "/v1/users/" + user.id + "/tokens";
        VERIFY_PROBLEM(
            post(m_a, tokens, {{"version", 1}, {"session", body(session).at("session")}}), 403,
            "report_stale", "missed its posture report");
    }

    void thePolicyChoosesTheFactors()
    {
        TestUser user = enrolledUser(m_a);
        setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"],
                      "users": {"accepted_factors": ["otp"],
                                "accepted_key_assurance": ["tpm", "software"]}})");
        VERIFY_PROBLEM(signInWithKey(user, m_a), 403, "factor_not_accepted", "PIN factor");
        setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"]})");
        VERIFY_PROBLEM(signInWithKey(user, m_a), 403, "factor_not_accepted",
                       "assurance 'software'");
        setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"],
                      "users": {"accepted_factors": ["pin"],
                                "accepted_key_assurance": ["software"]}})");
        VERIFY_PROBLEM(signInWithOtp(user, m_a, "123456"), 403, "factor_not_accepted", "TOTP");
        QCOMPARE(signInWithKey(user, m_a).status, 201L);
    }

    void sessionsExpireAndAreRevoked()
    {
        setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"],
                      "users": {"accepted_key_assurance": ["software"],
                                "max_authentication_age_seconds": 300}})");
        TestUser user = enrolledUser(m_a);
        const auto signedIn = signInWithKey(user, m_a);
        QVERIFY2(signedIn.status == 201, signedIn.body.c_str());
        const std::string handle = body(signedIn).at("session");
        const std::string tokens = "/v1/users/" + user.id + "/tokens";
        const json request = {{"version", 1}, {"session", handle}};

        // A token never outlives its session.
        m_verifier->clock().advance(200s);
        const auto late = post(m_a, tokens, request);
        QVERIFY2(late.status == 200, late.body.c_str());
        QCOMPARE(body(late).at("expires_in"), 100);
        const json claims = claimsOf(body(late).at("access_token"));
        QCOMPARE(
            claims.at("exp"),
            epochSeconds(protocol::parseRfc3339(body(signedIn).at("expires_at").get<std::string>())
                             .value()));
        // Only the session's device and user can use it.
        VERIFY_PROBLEM(post(m_b, tokens, request), 401, "authentication_required", "sign in");
        TestUser other = enrolledUser(m_a);
        VERIFY_PROBLEM(post(m_a, "/v1/users/" + other.id + "/tokens", request), 401,
                       "authentication_required", "sign in");
        // Expired.
        m_verifier->clock().advance(100s);
        VERIFY_PROBLEM(post(m_a, tokens, request), 401, "authentication_required", "sign in");

        // Revoked: idempotent, and another device cannot end it.
        const std::string second = body(signInWithKey(user, m_a)).at("session");
        const std::string revocation = "/v1/users/" + user.id + "/sessions/revocation";
        const json revoke = {{"version", 1}, {"session", second}};
        QCOMPARE(post(m_b, revocation, revoke).status, 204L);
        QCOMPARE(post(m_a, tokens, revoke).status, 200L);
        const auto revoked = post(m_a, revocation, revoke);
        QCOMPARE(revoked.status, 204L);
        QVERIFY(revoked.body.empty());
        QCOMPARE(post(m_a, revocation, revoke).status, 204L);
        VERIFY_PROBLEM(post(m_a, tokens, revoke), 401, "authentication_required", "sign in");
        // An unknown handle.
        VERIFY_PROBLEM(
            post(m_a, tokens,
                 {{"version", 1}, {"session", vigil::base64UrlEncode(vigil::Bytes(32, 7))}}),
            401, "authentication_required", "sign in");
    }

    void aDisabledUserIsRefused()
    {
        TestUser user = enrolledUser(m_a);
        const std::string handle = body(signInWithKey(user, m_a)).at("session");
        QVERIFY(m_verifier->storage().setUserDisabled(user.id, m_verifier->clock().now()));
        VERIFY_PROBLEM(signInWithKey(user, m_a), 403, "user_disabled", "disabled");
        VERIFY_PROBLEM(
            post(m_a, "/v1/users/" + user.id + "/tokens", {{"version", 1}, {"session", handle}}),
            401, "authentication_required", "");
        VERIFY_PROBLEM(post(m_a, totpPath(user),
                            {{"version", 1}, {"user_proof", proof(user, totpPath(user), m_a)}}),
                       403, "user_disabled", "disabled");
    }

    void cleanupTestCase()
    {
        qInstallMessageHandler(previousHandler);
        // The audit lines are there...
        const auto logged = [](const std::string &phrase) {
            return std::any_of(logLines().begin(), logLines().end(), [&](const std::string &line) {
                return line.find(phrase) != std::string::npos;
            });
        };
        QVERIFY(logged("vigil.verifier.users: user carol ("));
        QVERIFY(logged("enrolled a software key on device " + m_a.id));
        QVERIFY(logged("signed in on device " + m_a.id + " with swk,pin,mfa"));
        QVERIFY(logged("TOTP locked after 10 consecutive failures"));
        // ...and no secret is.
        QVERIFY(secrets().size() > 20);
        for (const auto &line : logLines())
            for (const auto &secret : secrets())
                QVERIFY2(line.find(secret) == std::string::npos, line.c_str());
    }

    void onlyPostIsAllowed()
    {
        const auto response = m_client->get(
            m_verifier->url("/v1/users/00000000-0000-4000-8000-000000000000/sessions"));
        VERIFY_PROBLEM(response, 405, "method_not_allowed", "POST");
        VERIFY_PROBLEM(m_client->postJson(m_verifier->url("/v1/users/ALICE/sessions"), "{}"), 404,
                       "not_found", "no resource");
    }

private:
    std::filesystem::path path_(const std::string &name) const { return path(name); }
};

QTEST_GUILESS_MAIN(TestUsers)
#include "tst_users.moc"

// The device's verifier client against the real verifier over HTTPS: a device in a real swtpm
// and a software device enroll, report, get DPoP-bound tokens and call whoami; the tokens are
// checked with the verifier's published key. Failures — no server, the wrong pinned CA, the
// verifier's problems, answers that break the contract — each arrive as their own error.
#include "app/client/verifierclient.h"
#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmidentity.h"
#include "fakehttpsserver.h"
#include "fixturehost.h"
#include "loopbackport.h"
#include "posture/checkresult.h"
#include "posture/postureengine.h"
#include "posture/posturesnapshot.h"
#include "posture/standardcollectors.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace vigil;
using app::InvalidResponseError;
using app::TransportError;
using app::VerifierClient;
using app::VerifierError;
using test::FakeHttpsServer;
using test::SwtpmSimulator;
using test::TestVerifier;

namespace {

const char *policyAllowingSoftware = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";

// A snapshot the default policy accepts, with one check replaced when failing is given.
nlohmann::json snapshotJson(std::chrono::system_clock::time_point now,
                            const std::string &failing = {})
{
    using posture::CheckResult;
    posture::PostureSnapshot snapshot = test::compliantSnapshot(now);
    for (auto &check : snapshot.checks)
        if (check.id == failing)
            check = CheckResult::fail(failing, "found wanting", "fix it");
    return snapshot.toJson();
}

const protocol::AppraisalCheck *findCheck(const protocol::Appraisal &appraisal,
                                          const std::string &id)
{
    for (const auto &check : appraisal.checks)
        if (check.id == id)
            return &check;
    return nullptr;
}

server::HttpResponse answer(int status, const std::string &contentType, const std::string &body)
{
    server::HttpResponse response;
    response.status = status;
    response.contentType = contentType;
    response.body = body;
    return response;
}

} // namespace

class TestVerifierClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_swtpm = std::make_unique<SwtpmSimulator>();
        m_verifier = std::make_unique<TestVerifier>(policyAllowingSoftware, m_swtpm->caDirectory());
    }

    // The clients here date proofs and reports by the system clock; the verifier's stands still
    // unless moved, so each test starts it at the system's time.
    void init() { m_verifier->clock().set(std::chrono::system_clock::now()); }

    void tpmDeviceEnrollsReportsAndCallsWhoami()
    {
        auto tpm = std::make_shared<attestation::Tpm>(m_swtpm->tcti());
        auto identity = std::make_shared<attestation::TpmIdentity>(tpm, path("tpm-device"));
        attestation::TpmDeviceKey key(identity);
        VerifierClient client(m_verifier->url(""), m_verifier->caFile(), key, identity.get());

        const auto enrolled = client.enroll(m_verifier->createEnrollmentToken(), "ws-client");
        QCOMPARE(enrolled.assurance, protocol::Assurance::Tpm);
        QCOMPARE(client.deviceId(), enrolled.deviceId);
        QCOMPARE(enrolled.pcrs, (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7}));
        QCOMPARE(enrolled.reportInterval, std::chrono::seconds(900));

        const auto nonce = client.nonce();
        QCOMPARE(nonce.pcrs, enrolled.pcrs);
        QVERIFY(nonce.nonce != enrolled.nonce);
        const auto appraisal =
            client.report(snapshotJson(m_verifier->clock().now()), nonce.nonce, nonce.pcrs);
        QCOMPARE(appraisal.verdict, protocol::Verdict::Compliant);
        QVERIFY(!appraisal.checks.empty());
        for (const auto &check : appraisal.checks)
            QVERIFY2(check.status == protocol::CheckOutcome::Pass, check.id.c_str());
        QVERIFY(findCheck(appraisal, "disk_encryption"));

        const auto token = client.token();
        QCOMPARE(token.expiresIn, std::chrono::seconds(300));
        // The verifier's own key (what its JWKS publishes) vouches for the token, and the token
        // is bound to this device key.
        const auto jws = protocol::parseJws(token.accessToken);
        QVERIFY(protocol::verifyJws(jws, m_verifier->tokenKey().publicKey()));
        const auto claims = nlohmann::json::parse(jws.payload);
        QCOMPARE(claims.at("sub").get<std::string>(), enrolled.deviceId);
        QCOMPARE(claims.at("cnf").at("jkt").get<std::string>(), key.thumbprint());
        QCOMPARE(claims.at("assurance").get<std::string>(), std::string("tpm"));
        QCOMPARE(claims.at("appraisal_id").get<std::string>(), appraisal.appraisalId);

        const auto whoami = client.whoami(token.accessToken);
        QCOMPARE(whoami.deviceId, enrolled.deviceId);
        QCOMPARE(whoami.jkt, key.thumbprint());
        QCOMPARE(whoami.assurance, protocol::Assurance::Tpm);
        QCOMPARE(whoami.tokenExpiresAt,
                 *protocol::fromNumericDate(claims.at("exp").get<long long>()));
        QCOMPARE(client.health().status, std::string("ok"));
        // Keep-alive: the enrollment, activation, nonce, report, token, whoami and health
        // requests all went over one connection.
        QCOMPARE(client.connectionsOpened(), 1L);
    }

    void nonCompliantIsAVerdictAndStopsTokens()
    {
        protocol::SoftwareDeviceKey &key = softwareKey("non-compliant");
        VerifierClient client(m_verifier->url("/"), m_verifier->caFile(), key, nullptr);
        QCOMPARE(client.baseUrl(), m_verifier->url(""));
        const auto enrolled = client.enroll(m_verifier->createEnrollmentToken(), "ws-soft");
        QCOMPARE(enrolled.assurance, protocol::Assurance::Software);

        const auto refusedBeforeAnyReport = thrownProblem([&] { client.token(); });
        QCOMPARE(refusedBeforeAnyReport.code, std::string("not_compliant"));
        QCOMPARE(refusedBeforeAnyReport.detail,
                 "device " + enrolled.deviceId + " has not sent a posture report yet");

        const auto nonce = client.nonce();
        const auto appraisal = client.report(
            snapshotJson(m_verifier->clock().now(), "disk_encryption"), nonce.nonce, nonce.pcrs);
        QCOMPARE(appraisal.verdict, protocol::Verdict::NonCompliant);
        const auto *disk = findCheck(appraisal, "disk_encryption");
        QVERIFY(disk);
        QCOMPARE(disk->status, protocol::CheckOutcome::Fail);
        QVERIFY(!disk->remediation.empty());
        for (const auto &check : appraisal.checks)
            if (check.id != "disk_encryption")
                QVERIFY2(check.status == protocol::CheckOutcome::Pass, check.id.c_str());

        try {
            client.token();
            QFAIL("a non-compliant device got a token");
        } catch (const VerifierError &e) {
            QCOMPARE(e.code(), std::string("not_compliant"));
            QCOMPARE(e.problem().status, 403);
            const std::string expected = "not_compliant: the latest appraisal of device " +
                                         enrolled.deviceId + " (" + appraisal.appraisalId +
                                         ") found it non-compliant; fix the failing checks and "
                                         "report again";
            QCOMPARE(std::string(e.what()), expected);
        }

        // The next report answers the nonce the appraisal handed out.
        const auto fixed = client.report(snapshotJson(m_verifier->clock().now()),
                                         appraisal.nextNonce, appraisal.pcrs);
        QCOMPARE(fixed.verdict, protocol::Verdict::Compliant);
        const auto token = client.token();
        QCOMPARE(client.whoami(token.accessToken).assurance, protocol::Assurance::Software);
    }

    // The real posture engine over a fixture workstation: what the device collects is what the
    // verifier appraises.
    void realEngineSnapshotIsAppraised()
    {
        auto fixture = test::FixtureHost::load("debian12");
        posture::PostureEngine engine(fixture.host, posture::standardCollectors());
        const auto snapshot = engine.collect();

        protocol::SoftwareDeviceKey &key = softwareKey("engine");
        VerifierClient client(m_verifier->url(""), m_verifier->caFile(), key, nullptr);
        client.enroll(m_verifier->createEnrollmentToken(), "debian12");
        const auto nonce = client.nonce();
        const auto appraisal = client.report(snapshot.toJson(), nonce.nonce, nonce.pcrs);
        // Every check the device could not determine is a failing check with the device's reason.
        for (const auto &result : snapshot.checks) {
            if (result.status != posture::CheckStatus::Unknown)
                continue;
            bool named = false;
            for (const auto &check : appraisal.checks)
                named = named || (check.status == protocol::CheckOutcome::Fail &&
                                  check.summary.find(result.reason) != std::string::npos);
            QVERIFY2(named || result.id == "tpm" || result.id == "device_identity",
                     result.id.c_str());
        }
        QVERIFY(findCheck(appraisal, "assurance"));
        QCOMPARE(findCheck(appraisal, "assurance")->status, protocol::CheckOutcome::Pass);
    }

    void verifierProblemsAreVerifierErrors()
    {
        protocol::SoftwareDeviceKey &key = softwareKey("problems");
        VerifierClient client(m_verifier->url(""), m_verifier->caFile(), key, nullptr);
        try {
            client.enroll("vet1.not-a-token", "ws");
            QFAIL("an unknown token enrolled");
        } catch (const VerifierError &e) {
            QCOMPARE(e.code(), std::string("invalid_enrollment_token"));
            QCOMPARE(e.problem().status, 403);
            QCOMPARE(e.problem().field, std::string("/enrollment_token"));
            QCOMPARE(std::string(e.what()),
                     std::string("invalid_enrollment_token: the enrollment token is not known (at "
                                 "/enrollment_token)"));
        }
        QVERIFY(client.deviceId().empty());

        // A key the verifier has never seen asks for a nonce.
        const auto unknown = thrownProblem([&] { client.nonce(); });
        QCOMPARE(unknown.code, std::string("unknown_device"));
        QCOMPARE(unknown.detail, std::string("no enrolled device holds the key that signed this "
                                             "request: enroll the device first"));

        // A key enrolls once.
        const std::string token = m_verifier->createEnrollmentToken(2);
        client.enroll(token, "ws");
        const auto again = thrownProblem([&] { client.enroll(token, "ws"); });
        QCOMPARE(again.code, std::string("already_enrolled"));
        QCOMPARE(again.status, 409);
    }

    void softwareKeyRefusedByDefaultPolicy()
    {
        TestVerifier strict; // the default policy: TPM devices only
        protocol::SoftwareDeviceKey &key = softwareKey("strict");
        VerifierClient client(strict.url(""), strict.caFile(), key, nullptr);
        const auto problem =
            thrownProblem([&] { client.enroll(strict.createEnrollmentToken(), "ws"); });
        QCOMPARE(problem.code, std::string("assurance_not_allowed"));
        QCOMPARE(problem.status, 403);
    }

    void closedPortIsUnreachable()
    {
        protocol::SoftwareDeviceKey &key = softwareKey("unreachable");
        const test::ClosedLoopbackPort closed;
        const int port = closed.port();
        const std::string base = "https://127.0.0.1:" + std::to_string(port);
        VerifierClient client(base, m_verifier->caFile(), key, nullptr);
        try {
            client.enroll("vet1.token", "ws");
            QFAIL("no error");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Unreachable);
            const std::string message = e.what();
            QVERIFY2(message.starts_with("cannot reach " + base +
                                         "/v1/enrollments: Failed to connect to 127.0.0.1 port " +
                                         std::to_string(port)),
                     message.c_str());
            // Neither the enrollment token nor the proof is in the message.
            QVERIFY(message.find("vet1") == std::string::npos);
        }
    }

    void wrongPinnedCaIsATlsFailure()
    {
        protocol::SoftwareDeviceKey &key = softwareKey("wrong-ca");
        const auto otherCa = m_swtpm->caDirectory() / "swtpm-localca-rootca-cert.pem";
        VerifierClient client(m_verifier->url(""), otherCa, key, nullptr);
        try {
            client.nonce();
            QFAIL("the verifier was trusted without its CA");
        } catch (const TransportError &e) {
            QCOMPARE(e.kind(), TransportError::Kind::Tls);
            QCOMPARE(std::string(e.what()),
                     "TLS failure with " + m_verifier->url("/v1/nonces") +
                         ": the server's certificate is not one the pinned CA '" +
                         otherCa.string() +
                         "' issued for this name: SSL certificate problem: unable to get local "
                         "issuer certificate");
        }
    }

    void baseUrlMustBeHttps_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<QString>("message");
        QTest::newRow("http") << "http://127.0.0.1:8443"
                              << "the verifier URL 'http://127.0.0.1:8443' is not https://; Vigil "
                                 "talks to its verifier over HTTPS only";
        QTest::newRow("no scheme") << "127.0.0.1:8443"
                                   << "the verifier URL '127.0.0.1:8443' is not usable: ";
        QTest::newRow("query") << "https://verifier.example?x=1"
                               << "the verifier URL 'https://verifier.example?x=1' must not have "
                                  "a query or fragment";
    }

    void baseUrlMustBeHttps()
    {
        QFETCH(QString, url);
        QFETCH(QString, message);
        protocol::SoftwareDeviceKey &key = softwareKey("urls");
        try {
            VerifierClient client(url.toStdString(), m_verifier->caFile(), key, nullptr);
            QFAIL("accepted");
        } catch (const std::invalid_argument &e) {
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(message), e.what());
        }
    }

    // Answers no verifier gives, from a scripted server with a pinned CA of its own.
    void answersThatBreakTheContract_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("contentType");
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");
        QTest::newRow("proxy error page")
            << 502 << "text/html"
            << "<html>bad gateway</html>"
            << "the verifier answered GET %1/v1/health with HTTP 502 (text/html) where 200 or a "
               "problem document was expected";
        QTest::newRow("not json") << 200 << "text/plain"
                                  << "ok"
                                  << "the verifier's answer to GET %1/v1/health is text/plain, "
                                     "not application/json";
        QTest::newRow("bad json")
            << 200 << "application/json"
            << "{\"version\":1,"
            << "the verifier's answer to GET %1/v1/health is not valid JSON: ";
        QTest::newRow("missing member")
            << 200 << "application/json"
            << "{\"version\":1}"
            << "the verifier's answer to GET %1/v1/health breaks the protocol: /status: ";
        QTest::newRow("other version")
            << 200 << "application/json"
            << "{\"version\":2,\"status\":\"ok\"}"
            << "the verifier's answer to GET %1/v1/health breaks the protocol: /version: ";
        QTest::newRow("malformed problem")
            << 403 << "application/problem+json"
            << "{\"code\":\"nope\"}"
            << "the verifier answered GET %1/v1/health with HTTP 403 and a malformed problem "
               "document: ";
        QTest::newRow("201 for 200")
            << 201 << "application/json"
            << "{\"version\":1,\"status\":\"ok\"}"
            << "the verifier answered GET %1/v1/health with HTTP 201 (application/json) where 200 "
               "or a problem document was expected";
    }

    void answersThatBreakTheContract()
    {
        QFETCH(int, status);
        QFETCH(QString, contentType);
        QFETCH(QString, body);
        QFETCH(QString, message);
        m_fake.setHandler([&](const server::HttpRequest &) {
            return answer(status, contentType.toStdString(), body.toStdString());
        });
        protocol::SoftwareDeviceKey &key = softwareKey("fake");
        VerifierClient client(m_fake.url(""), m_fake.caFile(), key, nullptr);
        try {
            client.health();
            QFAIL("accepted");
        } catch (const InvalidResponseError &e) {
            const QString expected = message.arg(QString::fromStdString(m_fake.url("")));
            QVERIFY2(QString::fromUtf8(e.what()).startsWith(expected), e.what());
        }
    }

    void problemWithRetryAfter()
    {
        m_fake.setHandler([](const server::HttpRequest &request) {
            auto response =
                answer(429, "application/problem+json; charset=utf-8",
                       protocol::makeProblem("rate_limited", "slow down").toJson().dump());
            response.headers.emplace_back("Retry-After", "7");
            // The proof names this request and is signed by the device key.
            if (request.header("dpop").empty())
                response.status = 500;
            return response;
        });
        protocol::SoftwareDeviceKey &key = softwareKey("fake");
        VerifierClient client(m_fake.url(""), m_fake.caFile(), key, nullptr);
        try {
            client.token();
            QFAIL("accepted");
        } catch (const VerifierError &e) {
            QCOMPARE(e.code(), std::string("rate_limited"));
            QCOMPARE(e.problem().status, 429);
            QCOMPARE(e.retryAfterSeconds(), std::optional<int>(7));
            QCOMPARE(std::string(e.what()), std::string("rate_limited: slow down"));
        }
    }

    void dpopProofsNameTheRequest()
    {
        std::string proof, authorization;
        m_fake.setHandler([&](const server::HttpRequest &request) {
            proof = request.header("dpop");
            authorization = request.header("authorization");
            return answer(401, "application/problem+json",
                          protocol::makeProblem("invalid_token", "no").toJson().dump());
        });
        protocol::SoftwareDeviceKey &key = softwareKey("fake");
        VerifierClient client(m_fake.url(""), m_fake.caFile(), key, nullptr);
        QVERIFY_THROWS_EXCEPTION(VerifierError, client.whoami("the.access.token"));
        QCOMPARE(authorization, std::string("DPoP the.access.token"));
        protocol::DpopValidator validator;
        const auto validated =
            validator.validate(proof, "GET", m_fake.url("/v1/whoami"),
                               std::chrono::system_clock::now(), std::string("the.access.token"));
        QCOMPARE(validated.jkt, key.thumbprint());
    }

    void cleanupTestCase()
    {
        m_verifier.reset();
        m_swtpm.reset();
    }

private:
    std::filesystem::path path(const std::string &name) const
    {
        return std::filesystem::path(m_state.path().toStdString()) / name;
    }

    protocol::SoftwareDeviceKey &softwareKey(const std::string &name)
    {
        auto &slot = m_keys[name];
        if (!slot)
            slot = protocol::SoftwareDeviceKey::create(path(name) / "devicekey.pem");
        return *slot;
    }

    template <typename F> protocol::Problem thrownProblem(F f)
    {
        try {
            f();
        } catch (const VerifierError &e) {
            return e.problem();
        }
        qFatal("no VerifierError");
    }

    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    FakeHttpsServer m_fake;
    std::map<std::string, std::unique_ptr<protocol::SoftwareDeviceKey>> m_keys;
};

QTEST_GUILESS_MAIN(TestVerifierClient)
#include "tst_verifierclient.moc"

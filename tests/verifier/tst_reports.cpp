// POST /v1/reports against the real verifier over HTTPS: what a compliant and a non-compliant
// report get back, and every way a report is refused — signature, device, nonce, time, TPM
// evidence, counters, body, rate — each with its exact problem and, for a known device, its
// audit row.
#include "attestation/attestverifier.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/bytes.h"
#include "posture/checkresult.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/messages.h"
#include "protocol/posturereport.h"
#include "protocol/rfc3339.h"
#include "server/api/verifierservice.h"
#include "server/storage/sqlitestorage.h"
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testprinters.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <openssl/rand.h>

using namespace vigil::test;
using nlohmann::json;
using vigil::Bytes;
namespace protocol = vigil::protocol;
namespace server = vigil::server;

namespace {

using std::chrono::seconds;

const char *policyAllowingSoftware = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";
const std::vector<unsigned> policyPcrs{0, 1, 2, 3, 4, 5, 6, 7};
// The checks the policy above enables, in the order appraisals list them.
const std::vector<std::string> policyChecks{"assurance",  "os_version",      "security_updates",
                                            "update_age", "reboot_required", "disk_encryption",
                                            "firewall",   "screen_lock",     "secure_boot"};

json body(const HttpResponse &response)
{
    return json::parse(response.body);
}

Bytes randomBytes(std::size_t size)
{
    Bytes bytes(size);
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return bytes;
}

std::string pointerText(const std::string &text)
{
    return text.empty() ? std::string("(none)") : text;
}

// The problem+json a refused request gets: status, code, field (absent when empty),
// evidence_error (absent when empty) and a detail naming the cause.
void checkProblem(const HttpResponse &response, long status, const std::string &code,
                  const std::string &field, const std::string &evidenceError,
                  const std::string &detailPhrase)
{
    QVERIFY2(response.status == status, response.body.c_str());
    QCOMPARE(response.contentType, std::string("application/problem+json"));
    const json problem = body(response);
    QCOMPARE(problem.at("code").get<std::string>(), code);
    QCOMPARE(problem.at("status").get<long>(), status);
    QCOMPARE(problem.at("type").get<std::string>(), "https://vigil.dev/problems/" + code);
    QCOMPARE(pointerText(problem.value("field", std::string())), pointerText(field));
    QCOMPARE(pointerText(problem.value("evidence_error", std::string())),
             pointerText(evidenceError));
    const std::string detail = problem.at("detail");
    QVERIFY2(detail.find(detailPhrase) != std::string::npos,
             ("detail \"" + detail + "\" lacks \"" + detailPhrase + "\"").c_str());
}

} // namespace

// Stops the test function when a helper's check failed.
#define CHECK(call)                                                                                \
    do {                                                                                           \
        call;                                                                                      \
        if (QTest::currentTestFailed())                                                            \
            return;                                                                                \
    } while (false)

class TestReports : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_swtpm = std::make_unique<SwtpmSimulator>();
        // The per-device rate limit has its own test; here it must not throttle the suite.
        server::VerifierOptions options;
        options.deviceBurst = 10000;
        options.deviceRequestsPerSecond = 10000;
        options.peerBurst = 10000;
        options.peerRequestsPerSecond = 10000;
        m_verifier =
            std::make_unique<TestVerifier>(policyAllowingSoftware, m_swtpm->caDirectory(), options);
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());

        openTpmDevice();
        const json enrolled =
            m_tpm->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
        m_tpmId = enrolled.at("device_id");
        QCOMPARE(enrolled.at("pcrs").get<std::vector<unsigned>>(), policyPcrs);

        auto &clock = m_verifier->clock();
        m_software = TestDevice::software(statePath("software"), [&clock] { return clock.now(); });
        m_softwareId =
            m_software->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken())
                .at("device_id");
    }

    void compliantReportPassesEveryCheckAndHandsOutTheNextNonce()
    {
        const auto nonceResponse = requestNonce(*m_tpm);
        QVERIFY2(nonceResponse.status == 200, nonceResponse.body.c_str());
        const json issued = body(nonceResponse);
        const std::string nonce = issued.at("nonce");
        const auto issuedAt = std::chrono::floor<seconds>(m_verifier->clock().now());
        QCOMPARE(*protocol::parseRfc3339(issued.at("nonce_expires_at").get<std::string>()),
                 issuedAt + seconds(120));
        QCOMPARE(issued.at("pcrs").get<std::vector<unsigned>>(), policyPcrs);

        const auto report = tpmReport(nonce);
        const auto response = send(sign(report));
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(response.contentType, std::string("application/json"));
        const json appraisal = body(response);
        protocol::Appraisal::fromJson(appraisal); // the contract's form, strictly
        QCOMPARE(appraisal.at("verdict").get<std::string>(), std::string("compliant"));
        std::vector<std::string> ids;
        for (const auto &check : appraisal.at("checks")) {
            ids.push_back(check.at("id"));
            QVERIFY2(check.at("status") == "pass", check.dump().c_str());
            QVERIFY2(!check.contains("remediation"), check.dump().c_str());
        }
        QCOMPARE(ids, policyChecks);

        const auto appraisedAt =
            *protocol::parseRfc3339(appraisal.at("appraised_at").get<std::string>());
        QCOMPARE(appraisedAt, std::chrono::floor<seconds>(m_verifier->clock().now()));
        QCOMPARE(*protocol::parseRfc3339(appraisal.at("next_report_at").get<std::string>()),
                 appraisedAt + seconds(900));
        QCOMPARE(*protocol::parseRfc3339(appraisal.at("next_nonce_expires_at").get<std::string>()),
                 appraisedAt + seconds(120));
        QCOMPARE(appraisal.at("pcrs").get<std::vector<unsigned>>(), policyPcrs);
        const std::string nextNonce = appraisal.at("next_nonce");
        QVERIFY(nextNonce != nonce);
        QCOMPARE(vigil::base64UrlDecode(nextNonce)->size(), std::size_t(32));

        const auto device = m_verifier->storage().device(m_tpmId);
        QVERIFY(device);
        QCOMPARE(device->lastVerdict, std::string("compliant"));
        QCOMPARE(device->lastAppraisalId, appraisal.at("appraisal_id").get<std::string>());
        QCOMPARE(*device->lastAppraisedAt, appraisedAt);
        QVERIFY(device->counters);
        const auto audit = m_verifier->storage().appraisals(m_tpmId, 1).at(0);
        QCOMPARE(audit.id, appraisal.at("appraisal_id").get<std::string>());
        QCOMPARE(audit.verdict, std::string("compliant"));
        QCOMPARE(audit.error, std::string());
        QCOMPARE(audit.reportJti, report.jti);
        QCOMPARE(json::parse(audit.checksJson), appraisal.at("checks"));

        // The nonce is spent: a new report (new quote, new jti) answering it is refused.
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(tpmReport(nonce))), 400, "invalid_nonce", "/eat_nonce", {},
                           "already used"));
        CHECK(checkAudited(m_tpmId, before, "invalid_nonce"));

        // The next one is live.
        const auto next = send(sign(tpmReport(nextNonce)));
        QVERIFY2(next.status == 200, next.body.c_str());
        QCOMPARE(body(next).at("verdict").get<std::string>(), std::string("compliant"));
    }

    void nonCompliantPostureFailsThoseChecksWithRemediation()
    {
        json posture = m_tpm->compliantPosture();
        posture["checks"]["disk_encryption"] =
            vigil::posture::CheckResult::fail("disk_encryption", "/ is not encrypted",
                                              "Reinstall on a LUKS-encrypted volume")
                .toJson();
        posture["checks"]["screen_lock"]["details"]["seconds_to_lock"] = 1800;
        const auto response = send(sign(tpmReport(freshNonce(*m_tpm), policyPcrs, posture)));
        QVERIFY2(response.status == 200, response.body.c_str());
        const json appraisal = body(response);
        QCOMPARE(appraisal.at("verdict").get<std::string>(), std::string("non_compliant"));

        std::vector<std::string> ids;
        for (const auto &check : appraisal.at("checks")) {
            const std::string id = check.at("id");
            ids.push_back(id);
            if (id == "disk_encryption") {
                QCOMPARE(check.at("status").get<std::string>(), std::string("fail"));
                QCOMPARE(check.at("summary").get<std::string>(), std::string("/ is not encrypted"));
                QCOMPARE(check.at("remediation").get<std::string>(),
                         std::string("Reinstall on a LUKS-encrypted volume"));
            } else if (id == "screen_lock") {
                QCOMPARE(check.at("status").get<std::string>(), std::string("fail"));
                QCOMPARE(check.at("summary").get<std::string>(),
                         std::string("The screen locks after 1800 s idle (the policy allows at "
                                     "most 900 s)"));
                const std::string remediation = check.at("remediation");
                QVERIFY2(remediation.find("after at most 15 minutes idle") != std::string::npos,
                         remediation.c_str());
            } else {
                QVERIFY2(check.at("status") == "pass", check.dump().c_str());
            }
        }
        QCOMPARE(ids, policyChecks);
        // A verdict, not a refusal: the next nonce comes with it.
        QVERIFY(appraisal.contains("next_nonce"));

        const auto device = m_verifier->storage().device(m_tpmId);
        QCOMPARE(device->lastVerdict, std::string("non_compliant"));
        QCOMPARE(device->lastAppraisalId, appraisal.at("appraisal_id").get<std::string>());
        const auto audit = m_verifier->storage().appraisals(m_tpmId, 1).at(0);
        QCOMPARE(audit.verdict, std::string("non_compliant"));
        QCOMPARE(audit.error, std::string());
    }

    void reportChangedAfterSigningIsInvalid()
    {
        json posture = m_tpm->compliantPosture();
        posture["checks"]["disk_encryption"] =
            vigil::posture::CheckResult::fail("disk_encryption", "/ is not encrypted", "Encrypt it")
                .toJson();
        const std::string genuine = sign(tpmReport(freshNonce(*m_tpm), policyPcrs, posture));

        // Turn the failing check into a pass, keeping the header and signature.
        const auto parts = split(genuine);
        json claims = json::parse(*vigil::base64UrlDecode(parts[1]));
        claims["posture"]["checks"]["disk_encryption"] =
            vigil::posture::CheckResult::pass("disk_encryption", "/ on LUKS2").toJson();
        const std::string payload = claims.dump();
        const std::string tampered =
            parts[0] + "." +
            vigil::base64UrlEncode(Bytes(payload.begin(), payload.end())) + "." +
            parts[2];

        const int before = auditCount(m_tpmId);
        CHECK(
            checkProblem(send(tampered), 400, "invalid_report", "/report", {},
                         "signature does not verify with the key device " + m_tpmId + " enrolled"));
        CHECK(checkAudited(m_tpmId, before, "invalid_report"));

        // The forgery spent nothing: the genuine report still answers its nonce.
        const auto response = send(genuine);
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("verdict").get<std::string>(), std::string("non_compliant"));
    }

    void reportSignedByAnotherKeyIsInvalid()
    {
        auto intruder = vigil::protocol::SoftwareDeviceKey::create(statePath("intruder.pem"));
        auto report = tpmReport(freshNonce(*m_tpm));
        report.ueid = protocol::ueidForKey(intruder->publicKey());
        const std::string forged = protocol::signPostureReport(report, m_tpmId, *intruder);

        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(forged), 400, "invalid_report", "/report", {},
                           "signature does not verify"));
        CHECK(checkAudited(m_tpmId, before, "invalid_report"));

        // The device's own claims under the intruder's signature fare no better.
        const auto genuineClaims = tpmReport(freshNonce(*m_tpm)).toClaims();
        const std::string resigned = protocol::signJws({{"typ", "eat+jwt"}, {"kid", m_tpmId}},
                                                       genuineClaims.dump(), *intruder);
        CHECK(checkProblem(send(resigned), 400, "invalid_report", "/report", {},
                           "signature does not verify"));
        CHECK(checkAudited(m_tpmId, before + 1, "invalid_report"));
    }

    void reportNamingNoEnrolledDeviceIsUnknown()
    {
        const std::string stranger = "0b7e1a52-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
        const auto report = tpmReport(freshNonce(*m_tpm));
        CHECK(checkProblem(send(protocol::signPostureReport(report, stranger, m_tpm->key())), 403,
                           "unknown_device", {}, {}, "no device " + stranger + " is enrolled"));
        QVERIFY(m_verifier->storage().appraisals(stranger, 10).empty());

        const std::string noKid =
            protocol::signJws({{"typ", "eat+jwt"}}, report.toClaims().dump(), m_tpm->key());
        CHECK(checkProblem(send(noKid), 400, "invalid_report", "/report", {},
                           "no kid naming the device"));
    }

    void revokedDeviceIsRefused()
    {
        auto &clock = m_verifier->clock();
        auto device = TestDevice::software(statePath("revoked"), [&clock] { return clock.now(); });
        const json enrolled =
            device->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
        const std::string id = enrolled.at("device_id");
        QVERIFY(m_verifier->storage().revokeDevice(id, "reported stolen", clock.now()));

        const int before = auditCount(id);
        CHECK(checkProblem(send(device->report(id, enrolled.at("nonce"), {})), 403,
                           "device_revoked", {}, {},
                           "device " + id + " was revoked (reported stolen)"));
        CHECK(checkAudited(id, before, "device_revoked"));
        CHECK(checkProblem(requestNonce(*device), 403, "device_revoked", {}, {}, "was revoked"));
        QCOMPARE(m_verifier->storage().device(id)->lastVerdict, std::string());
    }

    // A device that has reported before is known to the verifier's key cache, so its row is
    // first read in the transaction that records the report: revocation is seen there.
    void deviceRevokedAfterReportingIsRefused()
    {
        auto &clock = m_verifier->clock();
        auto device =
            TestDevice::software(statePath("revoked-later"), [&clock] { return clock.now(); });
        const json enrolled =
            device->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
        const std::string id = enrolled.at("device_id");
        const auto first = send(device->report(id, enrolled.at("nonce"), {}));
        QVERIFY2(first.status == 200, first.body.c_str());
        const std::string nextNonce = body(first).at("next_nonce");
        QVERIFY(m_verifier->storage().revokeDevice(id, "left the company", clock.now()));

        const int before = auditCount(id);
        CHECK(checkProblem(send(device->report(id, nextNonce, {})), 403, "device_revoked", {}, {},
                           "device " + id + " was revoked (left the company)"));
        CHECK(checkAudited(id, before, "device_revoked"));
        QCOMPARE(m_verifier->storage().device(id)->lastAppraisalId,
                 body(first).at("appraisal_id").get<std::string>());
    }

    // Base64url text of a length no bytes encode: no nonce this verifier issued, and no quote can
    // carry it.
    void nonceThatDoesNotDecodeIsRefused()
    {
        auto report = tpmReport(freshNonce(*m_tpm));
        report.nonce = std::string(45, 'A');
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 400, "invalid_nonce", "/eat_nonce", {},
                           "eat_nonce was not issued to this device or was already used"));
        CHECK(checkAudited(m_tpmId, before, "invalid_nonce"));
    }

    void sameReportTwiceIsAReplay()
    {
        const std::string report = sign(tpmReport(freshNonce(*m_tpm)));
        const auto first = send(report);
        QVERIFY2(first.status == 200, first.body.c_str());
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(report), 400, "invalid_nonce", "/eat_nonce", {}, "already used"));
        CHECK(checkAudited(m_tpmId, before, "invalid_nonce"));
        // The replay changes nothing about the device.
        QCOMPARE(m_verifier->storage().device(m_tpmId)->lastAppraisalId,
                 body(first).at("appraisal_id").get<std::string>());
    }

    void nonceIssuedToAnotherDeviceIsRefused()
    {
        const std::string othersNonce = freshNonce(*m_software);
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(tpmReport(othersNonce))), 400, "invalid_nonce", "/eat_nonce",
                           {}, "was not issued to this device"));
        CHECK(checkAudited(m_tpmId, before, "invalid_nonce"));

        // Nor did the attempt spend it for its owner.
        const auto response = send(m_software->report(m_softwareId, othersNonce, {}));
        QVERIFY2(response.status == 200, response.body.c_str());
    }

    void nonceExpiresAfterItsTtl()
    {
        auto &clock = m_verifier->clock();
        // 119 s after issue it is still good...
        const auto justInTime = tpmReport(freshNonce(*m_tpm));
        clock.advance(seconds(119));
        const auto accepted = send(sign(justInTime));
        QVERIFY2(accepted.status == 200, accepted.body.c_str());

        // ...120 s after, nonce_ttl_seconds, it has expired.
        const auto late = tpmReport(freshNonce(*m_tpm));
        clock.advance(seconds(120));
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(late)), 400, "invalid_nonce", "/eat_nonce", {},
                           "expired before the report arrived"));
        CHECK(checkAudited(m_tpmId, before, "invalid_nonce"));
    }

    void staleReportIsRefused()
    {
        auto &clock = m_verifier->clock();
        const auto report = tpmReport(freshNonce(*m_tpm));
        clock.advance(seconds(700));
        const int before = auditCount(m_tpmId);
        // exp (iat + 300) is long gone, and so is the report's maximum age.
        CHECK(checkProblem(send(sign(report)), 403, "report_stale", "/exp", {}, "expired"));
        CHECK(checkAudited(m_tpmId, before, "report_stale"));
    }

    void reportPastItsExpIsStale()
    {
        const auto now = m_verifier->clock().now();
        auto report = tpmReport(freshNonce(*m_tpm));
        report.iat = now - seconds(400);
        report.exp = now - seconds(100);
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 403, "report_stale", "/exp", {}, "JWT has expired"));
        CHECK(checkAudited(m_tpmId, before, "report_stale"));

        // Within the 30 s leeway it still counts.
        auto lenient = tpmReport(freshNonce(*m_tpm));
        lenient.iat = now - seconds(320);
        lenient.exp = now - seconds(20);
        const auto response = send(sign(lenient));
        QVERIFY2(response.status == 200, response.body.c_str());
    }

    void reportFromTheFutureIsStale()
    {
        const auto now = m_verifier->clock().now();
        auto report = tpmReport(freshNonce(*m_tpm));
        report.iat = now + seconds(60);
        report.exp = report.iat + seconds(300);
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 403, "report_stale", "/iat", {},
                           "\"iat\" is in the future"));
        CHECK(checkAudited(m_tpmId, before, "report_stale"));

        // nbf is optional in the profile, but one that has not come is honoured.
        auto notYet = tpmReport(freshNonce(*m_tpm)).toClaims();
        notYet["nbf"] = protocol::toNumericDate(now + seconds(120));
        CHECK(checkProblem(send(signClaims(notYet)), 403, "report_stale", "/nbf", {},
                           "not valid yet"));
        CHECK(checkAudited(m_tpmId, before + 1, "report_stale"));

        // A device clock 20 s ahead is within the leeway.
        auto skewed = tpmReport(freshNonce(*m_tpm));
        skewed.iat = now + seconds(20);
        skewed.exp = skewed.iat + seconds(300);
        const auto response = send(sign(skewed));
        QVERIFY2(response.status == 200, response.body.c_str());
    }

    void missingTimeClaimIsInvalidNotStale()
    {
        auto claims = tpmReport(freshNonce(*m_tpm)).toClaims();
        claims.erase("iat");
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(signClaims(claims)), 400, "invalid_report", "/iat", {},
                           "no \"iat\" claim"));
        CHECK(checkAudited(m_tpmId, before, "invalid_report"));

        claims = tpmReport(freshNonce(*m_tpm)).toClaims();
        claims["exp"] = "tomorrow";
        CHECK(checkProblem(send(signClaims(claims)), 400, "invalid_report", "/exp", {},
                           "not a NumericDate"));
        CHECK(checkAudited(m_tpmId, before + 1, "invalid_report"));

        claims = tpmReport(freshNonce(*m_tpm)).toClaims();
        claims["nbf"] = -1;
        CHECK(checkProblem(send(signClaims(claims)), 400, "invalid_report", "/nbf", {},
                           "not a NumericDate"));
        CHECK(checkAudited(m_tpmId, before + 2, "invalid_report"));
    }

    void claimsOutsideTheProfileAreInvalid()
    {
        const int before = auditCount(m_tpmId);
        const auto claims = tpmReport(freshNonce(*m_tpm)).toClaims();
        const std::string wrongTyp =
            protocol::signJws({{"typ", "JWT"}, {"kid", m_tpmId}}, claims.dump(), m_tpm->key());
        CHECK(checkProblem(send(wrongTyp), 400, "invalid_report", "/report", {},
                           "JWT header \"typ\" is not \"eat+jwt\""));
        CHECK(checkAudited(m_tpmId, before, "invalid_report"));

        // Signed by the device but naming another key as its UEID.
        auto otherUeid = claims;
        const auto other = vigil::protocol::SoftwareDeviceKey::create(statePath("ueid.pem"));
        const Bytes ueid = protocol::ueidForKey(other->publicKey());
        otherUeid["ueid"] = vigil::base64UrlEncode(ueid);
        CHECK(checkProblem(send(signClaims(otherUeid)), 400, "invalid_report", "/ueid", {},
                           "not the UEID of the enrolled device key"));
        CHECK(checkAudited(m_tpmId, before + 1, "invalid_report"));

        auto wrongProfile = tpmReport(freshNonce(*m_tpm)).toClaims();
        wrongProfile["eat_profile"] = "tag:example.com,2026:other";
        CHECK(checkProblem(send(signClaims(wrongProfile)), 400, "invalid_report", "/eat_profile",
                           {}, "/eat_profile: must be"));
        CHECK(checkAudited(m_tpmId, before + 2, "invalid_report"));

        // A posture the verifier cannot read: a check without its status.
        auto badPosture = tpmReport(freshNonce(*m_tpm)).toClaims();
        badPosture["posture"]["checks"]["firewall"].erase("status");
        CHECK(checkProblem(send(signClaims(badPosture)), 400, "invalid_report", "/posture", {},
                           "/posture: "));
        CHECK(checkAudited(m_tpmId, before + 3, "invalid_report"));
    }

    void quoteByAnotherAkIsRejected()
    {
        const std::string nonce = freshNonce(*m_tpm);
        const auto nonceBytes = *vigil::base64UrlDecode(nonce);
        // The swtpm holds one identity at a time (3 transient slots, 2 per identity).
        m_tpm.reset();
        vigil::protocol::QuoteEvidence foreign;
        {
            auto &clock = m_verifier->clock();
            auto other =
                TestDevice::tpm(*m_swtpm, statePath("other-tpm"), [&clock] { return clock.now(); });
            foreign = other->identity()->quote(nonceBytes, policyPcrs);
        }
        openTpmDevice();

        auto report = tpmReport(nonce);
        report.tpm->quote = foreign;
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 403, "evidence_rejected", "/submods/tpm",
                           "bad_signature",
                           "/submods/tpm: ecdsa/sha256 signature does not verify"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));
    }

    void pcrValueChangedAfterTheQuoteIsRejected()
    {
        auto report = tpmReport(freshNonce(*m_tpm));
        report.tpm->quote.pcrs.at(0) = Bytes(32, 0x11);
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 403, "evidence_rejected", "/submods/tpm",
                           "pcr_digest_mismatch",
                           "/submods/tpm: quoted PCR digest is not the digest of the supplied PCR "
                           "values"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));

        // The nonce got its one answer: the genuine quote cannot use it any more.
        report.tpm->quote = m_tpm->identity()->quote(
            *vigil::base64UrlDecode(report.nonce), policyPcrs);
        CHECK(checkProblem(send(sign(report)), 400, "invalid_nonce", "/eat_nonce", {},
                           "already used"));
    }

    // TPM evidence that fails its checks is the device's latest appraisal: no token until a
    // report passes again. Sent again later, the same report changes nothing but the audit:
    // its nonce is spent, so a replay cannot cut a device off.
    void failedEvidenceStopsTokensUntilAReportPasses()
    {
        QCOMPARE(send(sign(tpmReport(freshNonce(*m_tpm)))).status, 200L);
        QCOMPARE(requestToken(*m_tpm).status, 200L);

        auto report = tpmReport(freshNonce(*m_tpm));
        report.tpm->quote.pcrs.at(0) = Bytes(32, 0x11);
        const std::string tampered = sign(report);
        CHECK(checkProblem(send(tampered), 403, "evidence_rejected", "/submods/tpm",
                           "pcr_digest_mismatch", "quoted PCR digest"));
        auto device = m_verifier->storage().device(m_tpmId);
        QCOMPARE(device->lastVerdict, std::string("rejected"));
        QCOMPARE(device->lastAppraisalId, m_verifier->storage().appraisals(m_tpmId, 1).at(0).id);
        CHECK(checkProblem(requestToken(*m_tpm), 403, "not_compliant", {}, {},
                           "carried TPM evidence that failed its checks"));

        QCOMPARE(send(sign(tpmReport(freshNonce(*m_tpm)))).status, 200L);
        device = m_verifier->storage().device(m_tpmId);
        QCOMPARE(device->lastVerdict, std::string("compliant"));
        QCOMPARE(requestToken(*m_tpm).status, 200L);

        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(tampered), 403, "evidence_rejected", "/submods/tpm",
                           "pcr_digest_mismatch", "quoted PCR digest"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));
        QCOMPARE(m_verifier->storage().device(m_tpmId)->lastAppraisalId, device->lastAppraisalId);
        QCOMPARE(requestToken(*m_tpm).status, 200L);
    }

    void quoteOverOtherPcrsThanThePolicyIsRejected()
    {
        const int before = auditCount(m_tpmId);
        const std::string latest = m_verifier->storage().device(m_tpmId)->lastAppraisalId;
        CHECK(checkProblem(send(sign(tpmReport(freshNonce(*m_tpm), {0, 1, 2, 3}))), 403,
                           "evidence_rejected", "/submods/tpm/pcrs", "pcr_selection_mismatch",
                           "the quote covers PCRs 0,1,2,3 but the policy asks for "
                           "0,1,2,3,4,5,6,7"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));
        // A policy change racing the report, not failed evidence: the latest appraisal stands.
        QCOMPARE(m_verifier->storage().device(m_tpmId)->lastAppraisalId, latest);
    }

    void quoteForAnotherNonceIsRejected()
    {
        auto report = tpmReport(freshNonce(*m_tpm));
        report.tpm->quote = m_tpm->identity()->quote(randomBytes(32), policyPcrs);
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 403, "evidence_rejected", "/submods/tpm",
                           "nonce_mismatch",
                           "/submods/tpm: attested extraData is not the expected nonce"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));
    }

    void tpmDeviceReportWithoutQuoteIsInvalid()
    {
        auto report = tpmReport(freshNonce(*m_tpm));
        report.tpm.reset();
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(report)), 400, "invalid_report", "/submods/tpm", {},
                           "a TPM device's report must carry its quote"));
        CHECK(checkAudited(m_tpmId, before, "invalid_report"));
    }

    void softwareDeviceReportWithQuoteIsInvalid()
    {
        const std::string nonce = freshNonce(*m_software);
        protocol::PostureReport report = softwareReport(nonce);
        report.tpm = protocol::TpmClaims{
            m_tpm->identity()->quote(*vigil::base64UrlDecode(nonce), policyPcrs),
            std::nullopt};
        const int before = auditCount(m_softwareId);
        CHECK(
            checkProblem(send(protocol::signPostureReport(report, m_softwareId, m_software->key())),
                         400, "invalid_report", "/submods/tpm", {}, "enrolled without a TPM"));
        CHECK(checkAudited(m_softwareId, before, "invalid_report"));
    }

    void pcrOutsideTheReferenceValuesIsNonCompliant()
    {
        const auto report = tpmReport(freshNonce(*m_tpm));
        const std::string pcr0 = vigil::toHex(report.tpm->quote.pcrs.at(0));
        const std::string zeros(64, '0');
        // A value PCR 0 does not have: on this swtpm it is all zeros (nothing measures a boot),
        // so 64 zeros would be the one value that matches.
        const std::string other = pcr0 == zeros ? std::string(64, 'a') : zeros;
        m_verifier->setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"],
                                 "pcr_reference_values": {"0": [")" +
                              other + R"("]}})");
        const auto response = send(sign(report));
        m_verifier->setPolicy(policyAllowingSoftware);
        QVERIFY2(response.status == 200, response.body.c_str());
        const json appraisal = body(response);
        QCOMPARE(appraisal.at("verdict").get<std::string>(), std::string("non_compliant"));
        const json &last = appraisal.at("checks").back();
        QCOMPARE(last.at("id").get<std::string>(), std::string("pcrs"));
        QCOMPARE(last.at("status").get<std::string>(), std::string("fail"));
        QCOMPARE(last.at("summary").get<std::string>(),
                 "Boot measurements differ from the policy's: PCR 0 is " + pcr0 +
                     ", not a reference value");
        QVERIFY(!last.at("remediation").get<std::string>().empty());
        for (const auto &check : appraisal.at("checks"))
            if (check.at("id") != "pcrs")
                QVERIFY2(check.at("status") == "pass", check.dump().c_str());

        // Listing its value among others makes it pass (upper-case hex is the same value).
        std::string upper = pcr0;
        std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
        m_verifier->setPolicy(R"({"version": 1, "accepted_assurance": ["software", "tpm"],
                                 "pcr_reference_values": {"0": [")" +
                              other + R"(", ")" + upper + R"("]}})");
        const auto matching = send(sign(tpmReport(freshNonce(*m_tpm))));
        m_verifier->setPolicy(policyAllowingSoftware);
        QVERIFY2(matching.status == 200, matching.body.c_str());
        QCOMPARE(body(matching).at("verdict").get<std::string>(), std::string("compliant"));
        QCOMPARE(body(matching).at("checks").back().at("summary").get<std::string>(),
                 std::string("PCR 0 matches reference values"));
    }

    void earlierQuoteAfterALaterOneIsARollback()
    {
        const std::string nonceA = freshNonce(*m_tpm);
        const std::string nonceB = freshNonce(*m_tpm);
        const auto reportA = tpmReport(nonceA);
        // The TPM clock counts milliseconds: make sure B's is later.
        QTest::qSleep(20);
        const auto reportB = tpmReport(nonceB);
        const auto clockA = vigil::attestation::parseAttest(reportA.tpm->quote.attest).clockInfo;
        const auto clockB = vigil::attestation::parseAttest(reportB.tpm->quote.attest).clockInfo;
        QVERIFY(clockA.clock < clockB.clock);
        QCOMPARE(clockA.resetCount, clockB.resetCount);
        QCOMPARE(clockA.restartCount, clockB.restartCount);

        const auto accepted = send(sign(reportB));
        QVERIFY2(accepted.status == 200, accepted.body.c_str());
        const int before = auditCount(m_tpmId);
        CHECK(checkProblem(send(sign(reportA)), 403, "evidence_rejected", "/submods/tpm/quote",
                           "counter_rollback",
                           "the TPM clock went back from " + std::to_string(clockB.clock) + " to " +
                               std::to_string(clockA.clock) +
                               " ms without a reset since this device's last accepted report"));
        CHECK(checkAudited(m_tpmId, before, "evidence_rejected"));
        // The rejected quote's counters were not stored.
        const auto stored = m_verifier->storage().device(m_tpmId)->counters;
        QVERIFY(stored);
        QCOMPARE(stored->clock, clockB.clock);
    }

    void reportAfterATpmResetIsAccepted()
    {
        const auto before = m_verifier->storage().device(m_tpmId)->counters;
        QVERIFY(before);
        m_tpm.reset();
        m_swtpm->restart(); // a reboot: TPM2_Startup(CLEAR) without an orderly shutdown
        openTpmDevice();

        const auto report = tpmReport(freshNonce(*m_tpm));
        const auto clock = vigil::attestation::parseAttest(report.tpm->quote.attest).clockInfo;
        QCOMPARE(clock.resetCount, before->resetCount + 1);
        const auto response = send(sign(report));
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("verdict").get<std::string>(), std::string("compliant"));
        const auto after = m_verifier->storage().device(m_tpmId)->counters;
        QCOMPARE(after->resetCount, clock.resetCount);
        QCOMPARE(after->clock, std::uint64_t(clock.clock));
    }

    void malformedBodiesAreRefused_data()
    {
        QTest::addColumn<QByteArray>("requestBody");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("detail");

        QTest::newRow("not JSON") << QByteArray("report=eyJhbGciOi") << 400 << "malformed_request"
                                  << ""
                                  << "not valid UTF-8 JSON";
        QTest::newRow("JSON array") << QByteArray("[1]") << 400 << "malformed_request"
                                    << ""
                                    << "not a JSON object";
        QTest::newRow("version 2")
            << QByteArray(R"({"version":2,"report":"a.b.c"})") << 400 << "unsupported_version"
            << "/version"
            << "unsupported version 2";
        QTest::newRow("no version")
            << QByteArray(R"({"report":"a.b.c"})") << 400 << "unsupported_version"
            << "/version"
            << "/version: missing";
        QTest::newRow("no report") << QByteArray(R"({"version":1})") << 400 << "malformed_request"
                                   << "/report"
                                   << "/report: missing";
        QTest::newRow("report a number")
            << QByteArray(R"({"version":1,"report":42})") << 400 << "malformed_request"
            << "/report"
            << "/report: must be a string";
        QTest::newRow("report not a JWS")
            << QByteArray(R"({"version":1,"report":"not a compact JWS"})") << 400
            << "invalid_report"
            << "/report"
            << "exactly 3 parts";
        QTest::newRow("report with two parts")
            << QByteArray(R"({"version":1,"report":"eyJhbGciOiJFUzI1NiJ9.e30"})") << 400
            << "invalid_report"
            << "/report"
            << "exactly 3 parts";
        QTest::newRow("report alg none")
            << QByteArray(R"({"version":1,"report":"eyJhbGciOiJub25lIn0.e30."})") << 400
            << "invalid_report"
            << "/report"
            << "algorithm \"none\" is not accepted";
        QTest::newRow("report above 768 KiB")
            << (R"({"version":1,"report":")" + QByteArray(768 * 1024 + 1, 'a') + R"("})") << 400
            << "malformed_request"
            << "/report"
            << "longer than 786432 bytes";
        QTest::newRow("body above 1 MiB")
            << (R"({"version":1,"report":")" + QByteArray(1024 * 1024, 'a') + R"("})") << 413
            << "payload_too_large"
            << ""
            << "request bodies are limited to";
    }

    void malformedBodiesAreRefused()
    {
        QFETCH(QByteArray, requestBody);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, field);
        QFETCH(QString, detail);
        const auto response =
            m_client->postJson(m_verifier->url("/v1/reports"), requestBody.toStdString());
        CHECK(checkProblem(response, status, code.toStdString(), field.toStdString(), {},
                           detail.toStdString()));
    }

    void deviceSendingTooFastIsRateLimited()
    {
        server::VerifierOptions options;
        options.deviceBurst = 3;
        options.deviceRequestsPerSecond = 0.05; // one request every 20 s once the burst is spent
        TestVerifier verifier(policyAllowingSoftware, {}, options);
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device = TestDevice::software(statePath("limited"), [&clock] { return clock.now(); });
        const json enrolled =
            device->enroll(client, verifier.url(""), verifier.createEnrollmentToken());
        const std::string id = enrolled.at("device_id");

        const std::string nonceUrl = verifier.url("/v1/nonces");
        const auto postNonce = [&] {
            return client.postJson(nonceUrl, R"({"version":1})",
                                   {device->dpopHeader("POST", nonceUrl)});
        };
        const auto postReport = [&](const std::string &nonce) {
            return client.postJson(
                verifier.url("/v1/reports"),
                json{{"version", 1}, {"report", device->report(id, nonce, {})}}.dump());
        };
        const auto first = postReport(enrolled.at("nonce"));
        QVERIFY2(first.status == 200, first.body.c_str());
        const auto second = postNonce();
        QVERIFY2(second.status == 200, second.body.c_str());
        const auto third = postNonce();
        QVERIFY2(third.status == 200, third.body.c_str());

        const auto fourth = postReport(body(third).at("nonce"));
        CHECK(checkProblem(fourth, 429, "rate_limited", {}, {},
                           "device " + id + " sends requests faster than this verifier allows"));
        QVERIFY(fourth.headers.contains("retry-after"));
        const int retryAfter = std::stoi(fourth.headers.at("retry-after"));
        QVERIFY2(retryAfter >= 1 && retryAfter <= 20, fourth.headers.at("retry-after").c_str());
        // A request refused for its rate is not an appraisal.
        QCOMPARE(verifier.storage().appraisals(id, 10).size(), std::size_t(1));
        CHECK(checkProblem(postNonce(), 429, "rate_limited", {}, {}, "faster than"));
    }

    // Someone who knows a device id cannot use up that device's rate with reports it did not
    // sign: those count against the sender's address.
    void forgedReportsAreLimitedBySenderNotByDevice()
    {
        server::VerifierOptions options;
        options.deviceBurst = 3;
        options.deviceRequestsPerSecond = 0.05;
        options.peerBurst = 6; // the enrollment takes one
        options.peerRequestsPerSecond = 0.05;
        TestVerifier verifier(policyAllowingSoftware, {}, options);
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device = TestDevice::software(statePath("targeted"), [&clock] { return clock.now(); });
        const json enrolled =
            device->enroll(client, verifier.url(""), verifier.createEnrollmentToken());
        const std::string id = enrolled.at("device_id");
        auto intruder = vigil::protocol::SoftwareDeviceKey::create(statePath("forger.pem"));

        // The device's claims, signed by another key under the given kid.
        const auto forgery = [&](const std::string &kid) {
            protocol::PostureReport report;
            report.nonce = enrolled.at("nonce");
            report.iat = clock.now();
            report.exp = report.iat + seconds(300);
            report.jti = protocol::randomJti();
            report.swversion = "0.1.0";
            report.posture = device->compliantPosture();
            report.ueid = protocol::ueidForKey(intruder->publicKey());
            return json{{"version", 1},
                        {"report", protocol::signPostureReport(report, kid, *intruder)}}
                .dump();
        };
        const std::string reportUrl = verifier.url("/v1/reports");
        for (int i = 0; i < 5; ++i)
            CHECK(checkProblem(client.postJson(reportUrl, forgery(id)), 400, "invalid_report",
                               "/report", {}, "signature does not verify"));
        QCOMPARE(verifier.storage().appraisals(id, 10).size(), std::size_t(5));
        CHECK(checkProblem(client.postJson(reportUrl, forgery(id)), 429, "rate_limited", {}, {},
                           "reports this verifier cannot attribute"));
        QCOMPARE(verifier.storage().appraisals(id, 10).size(), std::size_t(5));
        // Reports naming no enrolled device are the sender's too.
        CHECK(checkProblem(
            client.postJson(reportUrl, forgery("0b7e1a52-3c4d-4e5f-8a6b-7c8d9e0f1a2b")), 429,
            "rate_limited", {}, {}, "reports this verifier cannot attribute"));

        // The device itself still has its whole burst.
        const auto genuine = client.postJson(
            reportUrl,
            json{{"version", 1}, {"report", device->report(id, enrolled.at("nonce"), {})}}.dump());
        QVERIFY2(genuine.status == 200, genuine.body.c_str());
        QCOMPARE(body(genuine).at("verdict").get<std::string>(), std::string("compliant"));
    }

private:
    std::string statePath(const char *name) const
    {
        return m_state.filePath(QString::fromUtf8(name)).toStdString();
    }

    void openTpmDevice()
    {
        auto &clock = m_verifier->clock();
        m_tpm = TestDevice::tpm(*m_swtpm, statePath("tpm"), [&clock] { return clock.now(); });
    }

    HttpResponse requestNonce(TestDevice &device)
    {
        const std::string url = m_verifier->url("/v1/nonces");
        return m_client->postJson(url, R"({"version":1})", {device.dpopHeader("POST", url)});
    }

    HttpResponse requestToken(TestDevice &device)
    {
        const std::string url = m_verifier->url("/v1/tokens");
        return m_client->postJson(url, R"({"version":1})", {device.dpopHeader("POST", url)});
    }

    std::string freshNonce(TestDevice &device)
    {
        const auto response = requestNonce(device);
        if (response.status != 200)
            throw std::runtime_error("POST /v1/nonces answered " + std::to_string(response.status) +
                                     ": " + response.body);
        return body(response).at("nonce");
    }

    // What TestDevice::report signs, as a struct a test can spoil before signing.
    protocol::PostureReport softwareReport(const std::string &nonce,
                                           const std::optional<json> &posture = {})
    {
        protocol::PostureReport report;
        report.nonce = nonce;
        report.iat = m_verifier->clock().now();
        report.exp = report.iat + seconds(300);
        report.jti = protocol::randomJti();
        report.swversion = "0.1.0";
        report.posture = posture ? *posture : m_tpm->compliantPosture();
        report.ueid = protocol::ueidForKey(m_software->key().publicKey());
        return report;
    }

    protocol::PostureReport tpmReport(const std::string &nonce,
                                      const std::vector<unsigned> &pcrs = policyPcrs,
                                      const std::optional<json> &posture = {})
    {
        protocol::PostureReport report = softwareReport(nonce, posture);
        report.ueid = protocol::ueidForKey(m_tpm->key().publicKey());
        report.tpm = protocol::TpmClaims{
            m_tpm->identity()->quote(*vigil::base64UrlDecode(nonce), pcrs),
            std::nullopt};
        return report;
    }

    std::string sign(const protocol::PostureReport &report)
    {
        return protocol::signPostureReport(report, m_tpmId, m_tpm->key());
    }

    // Claims that signPostureReport would refuse, signed by the TPM device anyway.
    std::string signClaims(const json &claims)
    {
        return protocol::signJws({{"typ", "eat+jwt"}, {"kid", m_tpmId}}, claims.dump(),
                                 m_tpm->key());
    }

    HttpResponse send(const std::string &report)
    {
        return m_client->postJson(m_verifier->url("/v1/reports"),
                                  json{{"version", 1}, {"report", report}}.dump());
    }

    static std::vector<std::string> split(const std::string &compact)
    {
        const auto first = compact.find('.');
        const auto second = compact.find('.', first + 1);
        return {compact.substr(0, first), compact.substr(first + 1, second - first - 1),
                compact.substr(second + 1)};
    }

    int auditCount(const std::string &deviceId)
    {
        return int(m_verifier->storage().appraisals(deviceId, 100000).size());
    }

    // One more audit row than before, the newest a rejection with this code.
    void checkAudited(const std::string &deviceId, int before, const std::string &code)
    {
        const auto rows = m_verifier->storage().appraisals(deviceId, 100000);
        QCOMPARE(int(rows.size()), before + 1);
        QCOMPARE(rows.front().verdict, std::string("rejected"));
        QCOMPARE(rows.front().error, code);
        QCOMPARE(rows.front().checksJson, std::string("[]"));
    }

    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
    std::unique_ptr<TestDevice> m_tpm;
    std::string m_tpmId;
    std::unique_ptr<TestDevice> m_software;
    std::string m_softwareId;
};

QTEST_GUILESS_MAIN(TestReports)
#include "tst_reports.moc"

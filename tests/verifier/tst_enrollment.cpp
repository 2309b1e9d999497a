// Protocol step 1 against the real verifier over HTTPS: what a TPM enrollment stores, the
// enrollment token's life (single and counted uses, expiry, revocation), every piece of TPM
// evidence spoiled in turn, DPoP on both enrollment endpoints, the one-attempt activation, the
// policy's assurance levels and malformed bodies — each refusal checked for its exact problem.
#include "attestation/tpm/endorsementkey.h"
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmidentity.h"
#include "core/bytes.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"
#include "server/admin/admincommands.h"
#include "server/api/verifierservice.h"
#include "server/storage/sqlitestorage.h"
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testprinters.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <functional>
#include <openssl/sha.h>
#include <sstream>

using namespace vigil::test;
using nlohmann::json;
using vigil::Bytes;
using namespace std::chrono_literals;

namespace {

const char *policyAllowingSoftware = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";

json body(const HttpResponse &response)
{
    return json::parse(response.body, nullptr, false);
}

Bytes sha256(const std::string &text)
{
    Bytes digest(SHA256_DIGEST_LENGTH);
    SHA256(reinterpret_cast<const unsigned char *>(text.data()), text.size(), digest.data());
    return digest;
}

Bytes decoded(const json &value)
{
    const auto bytes = vigil::base64UrlDecode(value.get<std::string>());
    if (!bytes)
        throw std::invalid_argument("not base64url: " + value.dump());
    return *bytes;
}

std::string encoded(const Bytes &bytes)
{
    return vigil::base64UrlEncode(bytes);
}

// The member at pointer (base64url) with one byte changed by change.
void spoil(json &request, const std::string &pointer, const std::function<void(Bytes &)> &change)
{
    const json::json_pointer at(pointer);
    Bytes bytes = decoded(request.at(at));
    change(bytes);
    request[at] = encoded(bytes);
}

// "" when response is the RFC 9457 problem described, else what differs (and the body).
// An empty field or evidenceError means the member must be absent.
std::string problemMismatch(const HttpResponse &response, long status, const std::string &code,
                            const std::string &field, const std::string &evidenceError,
                            const std::string &phrase)
{
    std::string differences;
    const auto differ = [&](const std::string &what) { differences += what + "; "; };
    if (response.status != status)
        differ("status " + std::to_string(response.status) + ", expected " +
               std::to_string(status));
    if (response.contentType != "application/problem+json")
        differ("content type \"" + response.contentType + "\"");
    const json problem = body(response);
    if (!problem.is_object()) {
        differ("the body is not a JSON object");
    } else {
        const auto member = [&](const char *name) {
            return problem.contains(name) && problem[name].is_string()
                       ? problem[name].get<std::string>()
                       : std::string();
        };
        if (member("code") != code)
            differ("code \"" + member("code") + "\", expected \"" + code + "\"");
        if (!problem.contains("status") || problem["status"] != status)
            differ("the problem's status member");
        if (member("type") != "https://vigil.dev/problems/" + code)
            differ("type \"" + member("type") + "\"");
        if (member("field") != field || (field.empty() && problem.contains("field")))
            differ("field \"" + member("field") + "\", expected \"" + field + "\"");
        if (member("evidence_error") != evidenceError ||
            (evidenceError.empty() && problem.contains("evidence_error")))
            differ("evidence_error \"" + member("evidence_error") + "\", expected \"" +
                   evidenceError + "\"");
        if (member("detail").find(phrase) == std::string::npos)
            differ("detail lacks \"" + phrase + "\"");
    }
    return differences.empty() ? std::string() : differences + "body: " + response.body;
}

#define QVERIFY_PROBLEM(response, status, code, field, evidenceError, phrase)                      \
    do {                                                                                           \
        const std::string mismatch_ =                                                              \
            problemMismatch(response, status, code, field, evidenceError, phrase);                 \
        QVERIFY2(mismatch_.empty(), mismatch_.c_str());                                            \
    } while (false)

} // namespace

class TestEnrollment : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_swtpm = std::make_unique<SwtpmSimulator>();
        m_verifier =
            std::make_unique<TestVerifier>(std::string(), m_swtpm->caDirectory(), options());
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());
        m_stranger = vigil::protocol::SoftwareDeviceKey::create(
            m_state.filePath(QStringLiteral("stranger.pem")).toStdString());
    }

    // --- the happy path --------------------------------------------------------------------

    void tpmEnrollmentStoresTheDeviceWithItsTpmKeys()
    {
        auto &clock = m_verifier->clock();
        const std::string token = m_verifier->createEnrollmentToken();
        auto device = tpmDevice("happy");
        const json request = device->enrollmentRequest(token, "ws-happy");

        const auto challenge = postEnrollment(device->key(), request);
        QVERIFY2(challenge.status == 201, challenge.body.c_str());
        QCOMPARE(challenge.contentType, std::string("application/json"));
        const json challengeBody = body(challenge);
        QCOMPARE(challengeBody.at("version"), json(1));
        QCOMPARE(challengeBody.at("expires_at").get<std::string>(),
                 vigil::protocol::formatRfc3339(clock.now() + 300s));
        // The token is taken when the challenge is made, not at activation.
        QCOMPARE(tokenRecord(token).uses, 1);
        QVERIFY(!m_verifier->storage().deviceByJkt(device->key().thumbprint()));

        const std::string url = activationUrl(challengeBody.at("enrollment_id"));
        const auto activated =
            postJson(url, device->activationRequest(challengeBody), device->key());
        QVERIFY2(activated.status == 200, activated.body.c_str());
        const json complete = body(activated);
        QCOMPARE(complete.at("assurance").get<std::string>(), std::string("tpm"));
        QCOMPARE(complete.at("report_interval_seconds"), json(900));
        QCOMPARE(complete.at("pcrs"), json({0, 1, 2, 3, 4, 5, 6, 7}));
        QCOMPARE(decoded(complete.at("nonce")).size(), std::size_t(32));
        const std::string deviceId = complete.at("device_id");

        const auto stored = m_verifier->storage().device(deviceId);
        QVERIFY(stored);
        QCOMPARE(stored->assurance, std::string("tpm"));
        QCOMPARE(stored->jkt, device->key().thumbprint());
        QCOMPARE(json::parse(stored->deviceKeyJwk), device->key().publicJwk());
        QCOMPARE(stored->hostname, std::string("ws-happy"));
        const auto ek = vigil::attestation::readEndorsementKey(device->identity()->tpm());
        QVERIFY(!ek.publicArea.empty());
        QVERIFY(stored->ekPublic == ek.publicArea);
        QVERIFY(stored->akPublic == device->identity()->attestationKeyPublic());
        QVERIFY(!stored->akPublic.empty());
        QCOMPARE(stored->enrollmentTokenId, tokenRecord(token).id);
        QCOMPARE(std::chrono::floor<std::chrono::seconds>(stored->enrolledAt),
                 std::chrono::floor<std::chrono::seconds>(clock.now()));
        QVERIFY(!stored->revokedAt);
        QCOMPARE(m_verifier->storage().deviceByJkt(device->key().thumbprint())->id, deviceId);
        QCOMPARE(tokenRecord(token).uses, 1);

        // The answered enrollment is gone: the same answer again finds nothing.
        const auto devicesBefore = m_verifier->storage().devices().size();
        QVERIFY_PROBLEM(postJson(url, device->activationRequest(challengeBody), device->key()), 404,
                        "unknown_enrollment", "", "", "was answered already");
        QCOMPARE(m_verifier->storage().devices().size(), devicesBefore);
    }

    // --- the enrollment token --------------------------------------------------------------

    void singleUseTokenAdmitsOneDevice()
    {
        const std::string token = m_verifier->createEnrollmentToken();
        {
            auto first = tpmDevice("reuse-first");
            first->enroll(*m_client, m_verifier->url(""), token);
        }
        auto second = tpmDevice("reuse-second");
        const auto response = postEnrollment(second->key(), second->enrollmentRequest(token));
        QVERIFY_PROBLEM(response, 403, "invalid_enrollment_token", "/enrollment_token", "",
                        "used as often as it allows");
        QCOMPARE(tokenRecord(token).uses, 1);
        QVERIFY(!m_verifier->storage().deviceByJkt(second->key().thumbprint()));
    }

    void countedTokenAdmitsAsManyDevicesAsItsUses()
    {
        const std::string token = m_verifier->createEnrollmentToken(2);
        for (const char *name : {"counted-1", "counted-2"}) {
            auto device = tpmDevice(name);
            device->enroll(*m_client, m_verifier->url(""), token);
            QVERIFY(m_verifier->storage().deviceByJkt(device->key().thumbprint()));
        }
        QCOMPARE(tokenRecord(token).uses, 2);
        auto third = tpmDevice("counted-3");
        const auto response = postEnrollment(third->key(), third->enrollmentRequest(token));
        QVERIFY_PROBLEM(response, 403, "invalid_enrollment_token", "/enrollment_token", "",
                        "used as often as it allows");
        QCOMPARE(tokenRecord(token).uses, 2);
    }

    void unknownTokenIsRefused()
    {
        auto device = tpmDevice("spoiler");
        const auto response = postEnrollment(
            device->key(), device->enrollmentRequest("never-issued-by-this-verifier"));
        QVERIFY_PROBLEM(response, 403, "invalid_enrollment_token", "/enrollment_token", "",
                        "not known");
    }

    void revokedTokenIsRefused()
    {
        const std::string token = m_verifier->createEnrollmentToken(5);
        std::ostringstream out, err;
        QCOMPARE(vigil::server::revokeEnrollmentToken(m_verifier->storage(), tokenRecord(token).id,
                                                      m_verifier->clock().now(), out, err),
                 0);
        auto device = tpmDevice("spoiler");
        const auto response = postEnrollment(device->key(), device->enrollmentRequest(token));
        QVERIFY_PROBLEM(response, 403, "invalid_enrollment_token", "/enrollment_token", "",
                        "was revoked");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void tokenExpiresADayAfterItWasMade()
    {
        // Two uses: one just before the end, one at it, so the boundary shows and not only
        // "long after".
        const std::string token = m_verifier->createEnrollmentToken(2);
        m_verifier->clock().advance(24h - 1s);
        {
            auto device = tpmDevice("expiry-in-time");
            const auto response = postEnrollment(device->key(), device->enrollmentRequest(token));
            QVERIFY2(response.status == 201, response.body.c_str());
        }
        m_verifier->clock().advance(1s);
        auto late = tpmDevice("spoiler");
        const auto response = postEnrollment(late->key(), late->enrollmentRequest(token));
        QVERIFY_PROBLEM(response, 403, "invalid_enrollment_token", "/enrollment_token", "",
                        "has expired");
        QCOMPARE(tokenRecord(token).uses, 1);
    }

    void rejectedEvidenceDoesNotConsumeTheToken()
    {
        const std::string token = m_verifier->createEnrollmentToken();
        auto device = tpmDevice("second-try");
        json request = device->enrollmentRequest(token);
        spoil(request, "/tpm/device_key_certify/signature", [](Bytes &b) { b.back() ^= 0x01; });
        const auto refused = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(refused, 403, "evidence_rejected", "/tpm/device_key_certify",
                        "bad_signature", "");
        QCOMPARE(tokenRecord(token).uses, 0);

        const json enrolled = device->enroll(*m_client, m_verifier->url(""), token);
        QCOMPARE(enrolled.at("assurance").get<std::string>(), std::string("tpm"));
        QCOMPARE(tokenRecord(token).uses, 1);
    }

    // --- the EK certificate ----------------------------------------------------------------

    void ekCertificateFromAnUntrustedManufacturerIsRejected()
    {
        // The other simulator has its own local CA, unrelated to this TPM's.
        TestVerifier verifier(std::string(), otherSwtpm().caDirectory(), options());
        HttpsClient client(verifier.caFile());
        const std::string token = verifier.createEnrollmentToken();
        auto device = tpmDevice("spoiler", &verifier);
        const std::string url = verifier.url("/v1/enrollments");
        const auto response = client.postJson(url, device->enrollmentRequest(token).dump(),
                                              {device->dpopHeader("POST", url)});
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/ek_certificate",
                        "untrusted_issuer", "EK certificate chain");
        QCOMPARE(tokenRecord(verifier, token).uses, 0);
    }

    void tpmEnrollmentWithoutTrustedEkCasIsUnavailable()
    {
        TestVerifier verifier(std::string(), {}, options());
        HttpsClient client(verifier.caFile());
        const std::string token = verifier.createEnrollmentToken();
        auto device = tpmDevice("spoiler", &verifier);
        const std::string url = verifier.url("/v1/enrollments");
        const auto response = client.postJson(url, device->enrollmentRequest(token).dump(),
                                              {device->dpopHeader("POST", url)});
        QVERIFY_PROBLEM(response, 503, "ek_trust_unconfigured", "", "",
                        "TPM enrollment is not set up on this verifier");
        QCOMPARE(tokenRecord(verifier, token).uses, 0);
    }

    void missingEkCertificateIsRejected()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        QVERIFY(request.at("tpm").contains("ek_certificate"));
        request["tpm"].erase("ek_certificate");
        const auto response = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/ek_certificate",
                        "ek_certificate_missing", "sent no EK certificate");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void ekCertificateOfAnotherTpmIsRejected()
    {
        // A trusted certificate, but for another TPM's EK: the credential would be made for a
        // key that the certificate does not vouch for.
        Bytes otherEk;
        {
            vigil::attestation::Tpm other(otherSwtpm().tcti());
            otherEk = vigil::attestation::readEndorsementKey(other).publicArea;
        }
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        QVERIFY(request["tpm"]["ek_public"] != encoded(otherEk));
        request["tpm"]["ek_public"] = encoded(otherEk);
        const auto response = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/ek_certificate", "key_mismatch",
                        "is not the EK's key");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    // --- the AK and its certification of the device key ------------------------------------

    void akWithoutRestrictedAttributeIsRejected()
    {
        // The device key signs anything it is given, so it could "certify" whatever it liked.
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        request["tpm"]["ak_public"] = request["tpm"]["device_key_public"];
        const auto response = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/ak_public", "key_attributes",
                        "restricted is not set");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void tamperedCertifyIsRejected_data()
    {
        QTest::addColumn<QString>("member");
        QTest::addColumn<int>("change"); // 0 flip the last byte, 1 drop it, 2 flip the first
        QTest::addColumn<QString>("evidenceError");
        QTest::newRow("signature byte flipped") << "signature" << 0 << "bad_signature";
        QTest::newRow("attest byte flipped") << "attest" << 0 << "bad_signature";
        QTest::newRow("attest truncated") << "attest" << 1 << "malformed";
        QTest::newRow("attest magic changed") << "attest" << 2 << "bad_magic";
        QTest::newRow("signature truncated") << "signature" << 1 << "malformed";
    }

    void tamperedCertifyIsRejected()
    {
        QFETCH(QString, member);
        QFETCH(int, change);
        QFETCH(QString, evidenceError);
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        spoil(request, "/tpm/device_key_certify/" + member.toStdString(), [&](Bytes &b) {
            if (change == 0)
                b.back() ^= 0x01;
            else if (change == 1)
                b.pop_back();
            else
                b.front() ^= 0x01;
        });
        const auto response = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/device_key_certify",
                        evidenceError.toStdString(), "/tpm/device_key_certify: ");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void certifyOverAnotherTokenIsRejected()
    {
        // Qualifying data binds the certification to this enrollment's token: one made for
        // another token (say, replayed from an earlier enrollment) proves nothing now.
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        const auto other = device->identity()->certifyDeviceKey(sha256(token + "-other"));
        request["tpm"]["device_key_certify"] = {{"attest", encoded(other.attest)},
                                                {"signature", encoded(other.signature)}};
        const auto response = postEnrollment(device->key(), request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/tpm/device_key_certify",
                        "nonce_mismatch", "/tpm/device_key_certify: ");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void deviceKeyJwkNotTheCertifiedKeyIsRejected()
    {
        // The TPM's evidence is genuine but the key being enrolled (and proving possession with
        // DPoP) is a software key.
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        request["device_key"] = m_stranger->publicJwk();
        const auto response = postEnrollment(*m_stranger, request);
        QVERIFY_PROBLEM(response, 403, "evidence_rejected", "/device_key", "key_mismatch",
                        "the JWK is not the key in /tpm/device_key_public");
        QCOMPARE(tokenRecord(token).uses, 0);
        QVERIFY(!m_verifier->storage().deviceByJkt(m_stranger->thumbprint()));
    }

    // --- DPoP on POST /v1/enrollments ------------------------------------------------------

    void enrollmentWithoutDpopProofIsUnauthorized()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        const auto response =
            m_client->postJson(enrollmentUrl(), device->enrollmentRequest(token).dump());
        QVERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "", "", "needs a DPoP proof");
        QCOMPARE(response.headers.count("www-authenticate"), std::size_t(1));
        QCOMPARE(response.headers.at("www-authenticate"),
                 std::string(R"(DPoP error="invalid_dpop_proof", algs="ES256")"));
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void enrollmentDpopByAnotherKeyIsUnauthorized()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        const auto response = postEnrollment(*m_stranger, device->enrollmentRequest(token));
        QVERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "", "",
                        "not signed by the device key being enrolled");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void enrollmentDpopForAnotherUrlIsUnauthorized()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        const auto response =
            m_client->postJson(enrollmentUrl(), device->enrollmentRequest(token).dump(),
                               {device->dpopHeader("POST", m_verifier->url("/v1/nonces"))});
        QVERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "", "",
                        "\"htu\" does not match the request URI");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void enrollmentDpopProofIsSingleUse()
    {
        auto device = tpmDevice("spoiler");
        const std::string header = dpopHeader(device->key(), enrollmentUrl());
        const std::string body = device->enrollmentRequest("never-issued-by-this-verifier").dump();
        QVERIFY_PROBLEM(m_client->postJson(enrollmentUrl(), body, {header}), 403,
                        "invalid_enrollment_token", "/enrollment_token", "", "not known");
        QVERIFY_PROBLEM(m_client->postJson(enrollmentUrl(), body, {header}), 401,
                        "invalid_dpop_proof", "", "", "has already been used (replay)");
    }

    void enrollmentDpopProofFromTheMinuteBeforeIsTooOld()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        vigil::protocol::DpopProofRequest proof;
        proof.htm = "POST";
        proof.htu = enrollmentUrl();
        // The window is 60 s; leeway for clock skew is inside it.
        proof.iat = m_verifier->clock().now() - 61s;
        const auto response =
            m_client->postJson(enrollmentUrl(), device->enrollmentRequest(token).dump(),
                               {"DPoP: " + vigil::protocol::createDpopProof(device->key(), proof)});
        QVERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "", "", "\"iat\" is too old");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    // --- activation ------------------------------------------------------------------------

    void wrongSecretEndsTheEnrollment()
    {
        auto device = tpmDevice("wrong-secret");
        const json challenge = expectChallenge(*device);
        const std::string url = activationUrl(challenge.at("enrollment_id"));
        const json right = device->activationRequest(challenge);
        json wrong = right;
        spoil(wrong, "/secret", [](Bytes &b) { b.front() ^= 0x01; });

        QVERIFY_PROBLEM(postJson(url, wrong, device->key()), 403, "activation_failed", "/secret",
                        "", "does not match the credential");
        // One attempt: the right answer after a wrong one is too late.
        QVERIFY_PROBLEM(postJson(url, right, device->key()), 404, "unknown_enrollment", "", "",
                        "is waiting for activation");
        QVERIFY(!m_verifier->storage().deviceByJkt(device->key().thumbprint()));
    }

    void activationDpopByAnotherKeyIsUnauthorized()
    {
        auto device = tpmDevice("activation-dpop");
        const json challenge = expectChallenge(*device);
        const std::string url = activationUrl(challenge.at("enrollment_id"));
        const json right = device->activationRequest(challenge);

        QVERIFY_PROBLEM(postJson(url, right, *m_stranger), 401, "invalid_dpop_proof", "", "",
                        "not signed by the device key being enrolled");
        QVERIFY(!m_verifier->storage().deviceByJkt(m_stranger->thumbprint()));
        // Someone else's request is no attempt of the device's: it can still answer.
        const auto activated = postJson(url, right, device->key());
        QVERIFY2(activated.status == 200, activated.body.c_str());
        QVERIFY(m_verifier->storage().deviceByJkt(device->key().thumbprint()));
    }

    void activationWithoutDpopProofIsUnauthorized()
    {
        auto device = tpmDevice("activation-no-dpop");
        const json challenge = expectChallenge(*device);
        const std::string url = activationUrl(challenge.at("enrollment_id"));
        const json right = device->activationRequest(challenge);
        const auto response = m_client->postJson(url, right.dump());
        QVERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "", "", "needs a DPoP proof");
        QVERIFY(response.headers.count("www-authenticate"));
        const auto activated = postJson(url, right, device->key());
        QVERIFY2(activated.status == 200, activated.body.c_str());
    }

    void activationAfterTheEnrollmentTtlIsTooLate()
    {
        {
            auto device = tpmDevice("ttl-in-time");
            const json challenge = expectChallenge(*device);
            m_verifier->clock().advance(299s);
            const auto activated = postJson(activationUrl(challenge.at("enrollment_id")),
                                            device->activationRequest(challenge), device->key());
            QVERIFY2(activated.status == 200, activated.body.c_str());
        }
        auto device = tpmDevice("ttl-late");
        const json challenge = expectChallenge(*device);
        m_verifier->clock().advance(301s);
        const auto response = postJson(activationUrl(challenge.at("enrollment_id")),
                                       device->activationRequest(challenge), device->key());
        QVERIFY_PROBLEM(response, 404, "unknown_enrollment", "", "", "it expired");
        QVERIFY(!m_verifier->storage().deviceByJkt(device->key().thumbprint()));
    }

    void activationOfAnUnknownEnrollmentIsNotFound()
    {
        auto device = tpmDevice("spoiler");
        const std::string url = activationUrl("0b5c5a5e-1f0e-4b8e-9d38-3a1e8f2f4c11");
        const json request = {{"version", 1}, {"secret", encoded(Bytes(32, 0x42))}};
        QVERIFY_PROBLEM(postJson(url, request, device->key()), 404, "unknown_enrollment", "", "",
                        "no enrollment 0b5c5a5e-1f0e-4b8e-9d38-3a1e8f2f4c11");
    }

    // --- assurance and policy --------------------------------------------------------------

    void softwareDeviceIsRefusedUnderTheDefaultPolicy()
    {
        auto device = softwareDevice("software-default");
        const std::string token = m_verifier->createEnrollmentToken();
        const json request = device->enrollmentRequest(token);
        QCOMPARE(request.at("assurance").get<std::string>(), std::string("software"));
        QVERIFY_PROBLEM(postEnrollment(device->key(), request), 403, "assurance_not_allowed",
                        "/assurance", "", "does not accept devices with assurance 'software'");
        QCOMPARE(tokenRecord(token).uses, 0);
        QVERIFY(!m_verifier->storage().deviceByJkt(device->key().thumbprint()));
    }

    void softwareDeviceEnrollsWhenThePolicyAllowsIt()
    {
        TestVerifier verifier(policyAllowingSoftware, m_swtpm->caDirectory(), options());
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device =
            TestDevice::software(m_state.filePath(QStringLiteral("software-allowed")).toStdString(),
                                 [&clock] { return clock.now(); });
        const std::string token = verifier.createEnrollmentToken();
        const json complete = device->enroll(client, verifier.url(""), token);
        QCOMPARE(complete.at("assurance").get<std::string>(), std::string("software"));
        const auto stored = verifier.storage().device(complete.at("device_id"));
        QVERIFY(stored);
        QCOMPARE(stored->assurance, std::string("software"));
        QCOMPARE(stored->jkt, device->key().thumbprint());
        QVERIFY(stored->ekPublic.empty());
        QVERIFY(stored->akPublic.empty());
        QCOMPARE(tokenRecord(verifier, token).uses, 1);

        // A software key enrolls once too.
        const std::string second = verifier.createEnrollmentToken();
        const std::string url = verifier.url("/v1/enrollments");
        const auto again = client.postJson(url, device->enrollmentRequest(second).dump(),
                                           {device->dpopHeader("POST", url)});
        QVERIFY_PROBLEM(again, 409, "already_enrolled", "/device_key", "", "already enrolled");
        QCOMPARE(tokenRecord(verifier, second).uses, 0);
    }

    void tpmPartWithSoftwareAssuranceIsMalformed()
    {
        auto device = tpmDevice("spoiler");
        const std::string token = m_verifier->createEnrollmentToken();
        json request = device->enrollmentRequest(token);
        request["assurance"] = "software";
        QVERIFY_PROBLEM(postEnrollment(device->key(), request), 400, "malformed_request", "/tpm",
                        "", "must be absent for assurance \"software\"");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    void sameDeviceKeyEnrollsOnce()
    {
        auto device = tpmDevice("twice");
        device->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
        const std::string token = m_verifier->createEnrollmentToken();
        QVERIFY_PROBLEM(postEnrollment(device->key(), device->enrollmentRequest(token)), 409,
                        "already_enrolled", "/device_key", "", "already enrolled");
        // Refused before the token is taken: it can still enroll another device.
        QCOMPARE(tokenRecord(token).uses, 0);
        const auto devices = m_verifier->storage().devices();
        QCOMPARE(std::count_if(devices.begin(), devices.end(),
                               [&](const auto &d) { return d.jkt == device->key().thumbprint(); }),
                 std::ptrdiff_t(1));

        // Revoking the device does not free its key for another enrollment.
        const auto enrolled = m_verifier->storage().deviceByJkt(device->key().thumbprint());
        QVERIFY(
            m_verifier->storage().revokeDevice(enrolled->id, "lost", m_verifier->clock().now()));
        QVERIFY_PROBLEM(postEnrollment(device->key(), device->enrollmentRequest(token)), 409,
                        "already_enrolled", "/device_key", "",
                        "as device " + enrolled->id + ", which was revoked");
        QCOMPARE(tokenRecord(token).uses, 0);
    }

    // --- malformed bodies ------------------------------------------------------------------

    void malformedEnrollmentBodyIsRefused_data()
    {
        QTest::addColumn<QByteArray>("requestBody");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("phrase");

        json valid = {{"version", 1},
                      {"enrollment_token", "token"},
                      {"assurance", "tpm"},
                      {"hostname", "ws-malformed"},
                      {"device_key", m_stranger->publicJwk()},
                      {"tpm",
                       {{"ek_public", "AAAA"},
                        {"ak_public", "AAAA"},
                        {"device_key_public", "AAAA"},
                        {"device_key_certify", {{"attest", "AAAA"}, {"signature", "AAAA"}}}}}};
        const auto row = [](const char *name, const json &request, int status, const char *code,
                            const char *field, const char *phrase) {
            QTest::newRow(name) << QByteArray::fromStdString(request.dump()) << status
                                << QString::fromUtf8(code) << QString::fromUtf8(field)
                                << QString::fromUtf8(phrase);
        };

        QTest::newRow("not JSON") << QByteArray(R"({"version": 1, "assurance": )") << 400
                                  << "malformed_request"
                                  << ""
                                  << "body";
        QTest::newRow("a JSON array") << QByteArray("[]") << 400 << "malformed_request"
                                      << ""
                                      << "body";
        json version2 = valid;
        version2["version"] = 2;
        row("version 2", version2, 400, "unsupported_version", "/version",
            "unsupported version 2; this implementation supports version 1");
        json noVersion = valid;
        noVersion.erase("version");
        // A body without a version may be of any version: not one this verifier speaks.
        row("no version", noVersion, 400, "unsupported_version", "/version", "/version: missing");
        json noAk = valid;
        noAk["tpm"].erase("ak_public");
        row("no /tpm/ak_public", noAk, 400, "malformed_request", "/tpm/ak_public",
            "/tpm/ak_public: missing");
        json akNotBase64 = valid;
        akNotBase64["tpm"]["ak_public"] = "not base64url!";
        row("/tpm/ak_public not base64url", akNotBase64, 400, "malformed_request", "/tpm/ak_public",
            "/tpm/ak_public: ");
        json noTpm = valid;
        noTpm.erase("tpm");
        row("assurance tpm without /tpm", noTpm, 400, "malformed_request", "/tpm", "/tpm: missing");
        json noCertify = valid;
        noCertify["tpm"]["device_key_certify"].erase("signature");
        row("no certify signature", noCertify, 400, "malformed_request",
            "/tpm/device_key_certify/signature", "/tpm/device_key_certify/signature: missing");
        json badAssurance = valid;
        badAssurance["assurance"] = "hardware";
        row("unknown assurance", badAssurance, 400, "malformed_request", "/assurance",
            "must be \"tpm\" or \"software\"");
        json badJwk = valid;
        badJwk["device_key"]["crv"] = "P-384";
        row("device key not P-256", badJwk, 400, "malformed_request", "/device_key",
            "is not \"P-256\"");
        json noToken = valid;
        noToken.erase("enrollment_token");
        row("no enrollment token", noToken, 400, "malformed_request", "/enrollment_token",
            "/enrollment_token: missing");

        // Just over the 1 MiB cap, in a member the parser would otherwise ignore.
        json oversize = valid;
        oversize["padding"] = std::string(1024 * 1024, 'a');
        QTest::newRow("over 1 MiB")
            << QByteArray::fromStdString(oversize.dump()) << 413 << "payload_too_large"
            << ""
            << "1048576 bytes";
    }

    void malformedEnrollmentBodyIsRefused()
    {
        QFETCH(QByteArray, requestBody);
        QFETCH(int, status);
        QFETCH(QString, code);
        QFETCH(QString, field);
        QFETCH(QString, phrase);
        const auto response = m_client->postJson(enrollmentUrl(), requestBody.toStdString(),
                                                 {dpopHeader(*m_stranger, enrollmentUrl())});
        QVERIFY_PROBLEM(response, status, code.toStdString(), field.toStdString(), "",
                        phrase.toStdString());
    }

    void malformedActivationBodyIsRefused()
    {
        const std::string url = activationUrl("0b5c5a5e-1f0e-4b8e-9d38-3a1e8f2f4c11");
        QVERIFY_PROBLEM(postJson(url, json{{"version", 1}}, *m_stranger), 400, "malformed_request",
                        "/secret", "", "/secret: missing");
        QVERIFY_PROBLEM(postJson(url, json{{"version", 2}, {"secret", "AAAA"}}, *m_stranger), 400,
                        "unsupported_version", "/version", "", "unsupported version 2");
        QVERIFY_PROBLEM(
            postJson(url, json{{"version", 1}, {"secret", encoded(Bytes(65, 1))}}, *m_stranger),
            400, "malformed_request", "/secret", "", "more than 64 bytes");
    }

private:
    static vigil::server::VerifierOptions options()
    {
        // Every request here comes from 127.0.0.1: the per-address limit is not under test.
        vigil::server::VerifierOptions options;
        options.peerBurst = 10000;
        options.peerRequestsPerSecond = 10000;
        return options;
    }

    SwtpmSimulator &otherSwtpm()
    {
        if (!m_otherSwtpm)
            m_otherSwtpm = std::make_unique<SwtpmSimulator>();
        return *m_otherSwtpm;
    }

    // A device in the shared swtpm with its keys in state directory name (made on first use,
    // loaded after). The swtpm holds one such device at a time.
    std::unique_ptr<TestDevice> tpmDevice(const char *name, TestVerifier *verifier = nullptr)
    {
        auto &clock = (verifier ? *verifier : *m_verifier).clock();
        return TestDevice::tpm(*m_swtpm, m_state.filePath(QString::fromUtf8(name)).toStdString(),
                               [&clock] { return clock.now(); });
    }

    std::unique_ptr<TestDevice> softwareDevice(const char *name)
    {
        auto &clock = m_verifier->clock();
        return TestDevice::software(m_state.filePath(QString::fromUtf8(name)).toStdString(),
                                    [&clock] { return clock.now(); });
    }

    std::string enrollmentUrl() const { return m_verifier->url("/v1/enrollments"); }
    std::string activationUrl(const std::string &enrollmentId) const
    {
        return m_verifier->url("/v1/enrollments/" + enrollmentId + "/activation");
    }

    std::string dpopHeader(vigil::protocol::DeviceKey &key, const std::string &url)
    {
        vigil::protocol::DpopProofRequest proof;
        proof.htm = "POST";
        proof.htu = url;
        proof.iat = m_verifier->clock().now();
        return "DPoP: " + vigil::protocol::createDpopProof(key, proof);
    }

    HttpResponse postJson(const std::string &url, const json &request,
                          vigil::protocol::DeviceKey &signer)
    {
        return m_client->postJson(url, request.dump(), {dpopHeader(signer, url)});
    }

    HttpResponse postEnrollment(vigil::protocol::DeviceKey &signer, const json &request)
    {
        return postJson(enrollmentUrl(), request, signer);
    }

    // A fresh token's 201 challenge for device; throws on anything else.
    json expectChallenge(TestDevice &device)
    {
        const auto response = postEnrollment(
            device.key(), device.enrollmentRequest(m_verifier->createEnrollmentToken()));
        if (response.status != 201)
            throw std::runtime_error("enrollment answered " + std::to_string(response.status) +
                                     ": " + response.body);
        return body(response);
    }

    static vigil::server::EnrollmentToken tokenRecord(TestVerifier &verifier,
                                                      const std::string &text)
    {
        const Bytes hash = sha256(text);
        for (const auto &token : verifier.storage().enrollmentTokens())
            if (token.secretHash == hash)
                return token;
        throw std::runtime_error("no stored enrollment token for " + text);
    }
    vigil::server::EnrollmentToken tokenRecord(const std::string &text)
    {
        return tokenRecord(*m_verifier, text);
    }

    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<SwtpmSimulator> m_otherSwtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
    std::unique_ptr<vigil::protocol::SoftwareDeviceKey> m_stranger;
};

QTEST_GUILESS_MAIN(TestEnrollment)
#include "tst_enrollment.moc"

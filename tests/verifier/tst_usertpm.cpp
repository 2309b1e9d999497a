// TPM user keys against the real verifier over HTTPS (docs/protocol.md 5.9): keys made in a
// real swtpm and certified by the device's AK, and every way that evidence can be wrong (noDA
// set, restricted, no userWithAuth, another key's name, another code, another point, a bad
// signature); software user keys on a TPM device only as the policy allows; a sign-in signed
// in the TPM.
#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmtemplates.h"
#include "attestation/tpmpublic.h"
#include "core/sha256.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/usermessages.h"
#include "server/api/verifierservice.h"
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testprinters.h"
#include "usertesthelpers.h"

#include <QTemporaryDir>
#include <QTest>
#include <fstream>
#include <sstream>

using namespace vigil::test;
using namespace vigil::test::users;
using namespace std::chrono_literals;
namespace protocol = vigil::protocol;
namespace attestation = vigil::attestation;
using vigil::Bytes;

namespace {

const std::string policyTpmKeys = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";
const std::string policyBothKeys =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"],
        "users": {"accepted_key_assurance": ["tpm", "software"]}})";

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string bytes = text.str();
    return Bytes(bytes.begin(), bytes.end());
}

protocol::EcPublicKey pointOf(const Bytes &publicArea)
{
    const auto pkey = attestation::TpmPublic::parse(publicArea).publicKey();
    return protocol::fromEvpPkey(pkey.get());
}

// The device's keys as blobs, loaded only for each operation: swtpm has three object slots and
// no resource manager, and a user key, its parent, the AK and the device key make four.
class TpmKeys
{
public:
    TpmKeys(const std::string &tcti, const std::filesystem::path &directory) : m_tpm(tcti)
    {
        ak = {readFile(directory / "ak.pub"), readFile(directory / "ak.priv")};
        device = {readFile(directory / "devicekey.pub"), readFile(directory / "devicekey.priv")};
    }

    attestation::TpmKeyBlobs create(const TPM2B_PUBLIC &keyTemplate)
    {
        const auto srk = m_tpm.createStorageRootKey();
        return m_tpm.createKey(srk, keyTemplate);
    }

    Bytes sign(const attestation::TpmKeyBlobs &key, std::span<const std::uint8_t> digest)
    {
        attestation::TpmObject loaded;
        {
            const auto srk = m_tpm.createStorageRootKey();
            loaded = m_tpm.loadKey(srk, key);
        }
        return m_tpm.sign(loaded, digest);
    }

    protocol::CertifyEvidence certify(const attestation::TpmKeyBlobs &key,
                                      std::span<const std::uint8_t> qualifyingData)
    {
        attestation::TpmObject loadedAk;
        attestation::TpmObject loadedKey;
        {
            const auto srk = m_tpm.createStorageRootKey();
            loadedAk = m_tpm.loadKey(srk, ak);
            loadedKey = m_tpm.loadKey(srk, key);
        }
        return m_tpm.certify(loadedKey, loadedAk, qualifyingData);
    }

    attestation::TpmKeyBlobs ak;
    attestation::TpmKeyBlobs device;

private:
    attestation::Tpm m_tpm;
};

// A key in the TPM as a DeviceKey, for DPoP proofs and user proofs.
class BlobKey final : public protocol::DeviceKey
{
public:
    BlobKey(TpmKeys &keys, attestation::TpmKeyBlobs blobs)
        : m_keys(keys), m_blobs(std::move(blobs)), m_point(pointOf(m_blobs.publicArea))
    {
    }

    protocol::Assurance assurance() const override { return protocol::Assurance::Tpm; }
    protocol::EcPublicKey publicKey() const override { return m_point; }
    Bytes sign(std::span<const std::uint8_t> digest) override
    {
        return m_keys.sign(m_blobs, digest);
    }
    const attestation::TpmKeyBlobs &blobs() const { return m_blobs; }

private:
    TpmKeys &m_keys;
    attestation::TpmKeyBlobs m_blobs;
    protocol::EcPublicKey m_point;
};

TPM2B_PUBLIC withAttributes(TPM2B_PUBLIC keyTemplate, TPMA_OBJECT set, TPMA_OBJECT clear = 0)
{
    keyTemplate.publicArea.objectAttributes =
        (keyTemplate.publicArea.objectAttributes | set) & ~clear;
    return keyTemplate;
}

} // namespace

class TestUserTpm : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
    std::unique_ptr<TpmKeys> m_keys;
    std::unique_ptr<BlobKey> m_deviceKey;
    std::string m_deviceId;

    std::filesystem::path path(const std::string &name) const
    {
        return std::filesystem::path(m_state.path().toStdString()) / name;
    }

    HttpResponse post(const std::string &path, const json &body)
    {
        return users::post(*m_client, *m_verifier, *m_deviceKey, path, body);
    }

    json tpmEnrollment(const std::string &code, const Bytes &publicArea,
                       const protocol::CertifyEvidence &certify,
                       const std::optional<protocol::EcPublicKey> &point = std::nullopt)
    {
        protocol::UserEnrollmentRequest request;
        request.inviteCode = code;
        request.localAccount = "alice";
        request.userKey.assurance = protocol::Assurance::Tpm;
        request.userKey.jwk = protocol::ecPublicJwk(point ? *point : pointOf(publicArea));
        request.userKey.tpm = protocol::UserKeyTpm{publicArea, certify};
        return request.toJson();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_state.isValid());
        m_swtpm = std::make_unique<SwtpmSimulator>();
        vigil::server::VerifierOptions options;
        options.deviceBurst = 100000;
        m_verifier = std::make_unique<TestVerifier>(policyTpmKeys, m_swtpm->caDirectory(), options);
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());
        auto &clock = m_verifier->clock();
        {
            auto device =
                TestDevice::tpm(*m_swtpm, path("device"), [&clock] { return clock.now(); });
            const json enrolled =
                device->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
            m_deviceId = enrolled.at("device_id");
            const json report = {
                {"version", 1},
                {"report", device->report(m_deviceId, enrolled.at("nonce"),
                                          enrolled.at("pcrs").get<std::vector<unsigned>>())}};
            const auto appraisal =
                m_client->postJson(m_verifier->url("/v1/reports"), report.dump());
            QVERIFY2(appraisal.status == 200, appraisal.body.c_str());
            QCOMPARE(body(appraisal).at("verdict"), "compliant");
        } // its TpmIdentity leaves the TPM's slots
        m_keys = std::make_unique<TpmKeys>(m_swtpm->tcti(), path("device") / "tpm");
        m_deviceKey = std::make_unique<BlobKey>(*m_keys, m_keys->device);
    }

    void aCertifiedTpmKeyEnrollsAndSignsIn()
    {
        const std::string userId = addUser(*m_verifier, "alice");
        const std::string code = invite(*m_verifier, userId);
        BlobKey userKey(*m_keys, m_keys->create(attestation::userKeyTemplate()));
        const auto enrolled =
            post("/v1/users/enrollments",
                 tpmEnrollment(code, userKey.blobs().publicArea,
                               m_keys->certify(userKey.blobs(), vigil::sha256(code))));
        QVERIFY2(enrolled.status == 201, enrolled.body.c_str());
        QCOMPARE(body(enrolled).at("key_assurance"), "tpm");
        QCOMPARE(body(enrolled).at("device_id"), m_deviceId);

        const std::string sessions = "/v1/users/" + userId + "/sessions";
        const auto signedIn = post(
            sessions, {{"version", 1},
                       {"user_proof", userProof(*m_verifier, userKey.publicKey(), signerOf(userKey),
                                                userId, sessions, m_deviceKey->thumbprint())}});
        QVERIFY2(signedIn.status == 201, signedIn.body.c_str());
        QCOMPARE(body(signedIn).at("amr"), json::array({"hwk", "pin", "mfa"}));
        QCOMPARE(body(signedIn).at("acr"), "urn:vigil:acr:hwk-pin");
        const json claims = claimsOf(body(signedIn).at("access_token"));
        QCOMPARE(claims.at("sub"), userId);
        QCOMPARE(claims.at("amr"), json::array({"hwk", "pin", "mfa"}));
        QCOMPARE(claims.at("cnf"), (json{{"jkt", m_deviceKey->thumbprint()}}));
        QCOMPARE(claims.at("assurance"), "tpm");

        // A forgotten PIN: a new TPM key with a recovery code, certified over the code exactly
        // as the device sends it (here as typed, in lower case).
        const std::string codesPath = "/v1/users/" + userId + "/recovery-codes";
        const auto codes =
            post(codesPath,
                 {{"version", 1},
                  {"user_proof", userProof(*m_verifier, userKey.publicKey(), signerOf(userKey),
                                           userId, codesPath, m_deviceKey->thumbprint())}});
        QVERIFY2(codes.status == 200, codes.body.c_str());
        const std::string typed =
            QString::fromStdString(body(codes).at("recovery_codes").at(0).get<std::string>())
                .toLower()
                .toStdString();
        BlobKey newKey(*m_keys, m_keys->create(attestation::userKeyTemplate()));
        json recovery = tpmEnrollment("unused", newKey.blobs().publicArea,
                                      m_keys->certify(newKey.blobs(), vigil::sha256(typed)));
        recovery.erase("invite_code");
        recovery["user_id"] = userId;
        recovery["recovery_code"] = typed;
        const auto replaced = post("/v1/users/enrollments", recovery);
        QVERIFY2(replaced.status == 201, replaced.body.c_str());
        QCOMPARE(m_verifier->storage().userDevice(userId, m_deviceId)->keyJkt, newKey.thumbprint());
        // The code is used up.
        VERIFY_PROBLEM(post("/v1/users/enrollments", recovery), 403, "invalid_recovery_code",
                       "not an unused code");
    }

    void wrongCertificationsAreRefused()
    {
        const std::string userId = addUser(*m_verifier, "bob");
        const std::string code = invite(*m_verifier, userId);
        const Bytes qualifying = vigil::sha256(code);
        const auto good = m_keys->create(attestation::userKeyTemplate());
        const auto goodCertify = m_keys->certify(good, qualifying);
        const std::string enrollments = "/v1/users/enrollments";

        // noDA set: the TPM would not count wrong PINs.
        const auto noDa =
            m_keys->create(withAttributes(attestation::userKeyTemplate(), TPMA_OBJECT_NODA));
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, noDa.publicArea,
                                                       m_keys->certify(noDa, qualifying))),
                       403, "evidence_rejected", "noDA set", "key_attributes");
        // Restricted: an attestation key signs only what the TPM made.
        const auto restricted = m_keys->create(attestation::attestationKeyTemplate());
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, restricted.publicArea,
                                                       m_keys->certify(restricted, qualifying))),
                       403, "evidence_rejected", "restricted set", "key_attributes");
        // No userWithAuth: the PIN would not be what authorises it.
        const auto policyOnly = m_keys->create(
            withAttributes(attestation::userKeyTemplate(), 0, TPMA_OBJECT_USERWITHAUTH));
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, policyOnly.publicArea,
                                                       m_keys->certify(policyOnly, qualifying))),
                       403, "evidence_rejected", "userWithAuth clear", "key_attributes");
        // An authPolicy: a policy session could sign without the PIN, uncounted by the lockout.
        auto policyTemplate = attestation::userKeyTemplate();
        policyTemplate.publicArea.authPolicy.size = 32;
        std::fill_n(policyTemplate.publicArea.authPolicy.buffer, 32, std::uint8_t{0xab});
        const auto withPolicy = m_keys->create(policyTemplate);
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, withPolicy.publicArea,
                                                       m_keys->certify(withPolicy, qualifying))),
                       403, "evidence_rejected", "authPolicy", "key_attributes");
        // The certification of another key.
        const auto other = m_keys->create(attestation::userKeyTemplate());
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, other.publicArea, goodCertify)), 403,
                       "evidence_rejected", "/user_key/tpm/certify", "name_mismatch");
        // Made for another code.
        VERIFY_PROBLEM(
            post(enrollments, tpmEnrollment(code, good.publicArea,
                                            m_keys->certify(good, vigil::sha256(code + "x")))),
            403, "evidence_rejected", "/user_key/tpm/certify", "nonce_mismatch");
        // A JWK that is not the certified key.
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, good.publicArea, goodCertify,
                                                       pointOf(other.publicArea))),
                       403, "evidence_rejected", "/user_key/jwk", "key_mismatch");
        // A spoiled signature.
        auto spoiled = goodCertify;
        spoiled.signature.back() ^= 0x01;
        VERIFY_PROBLEM(post(enrollments, tpmEnrollment(code, good.publicArea, spoiled)), 403,
                       "evidence_rejected", "/user_key/tpm/certify", "bad_signature");
        QVERIFY(!m_verifier->storage().userDevice(userId, m_deviceId));

        // None of that spent the invite.
        const auto enrolled = post(enrollments, tpmEnrollment(code, good.publicArea, goodCertify));
        QVERIFY2(enrolled.status == 201, enrolled.body.c_str());
    }

    void softwareKeysOnATpmDeviceFollowThePolicy()
    {
        const std::string userId = addUser(*m_verifier, "carol");
        const std::string code = invite(*m_verifier, userId);
        auto key = protocol::SoftwareDeviceKey::create(path("carol.pem"));
        const json request = {{"version", 1},
                              {"invite_code", code},
                              {"local_account", "carol"},
                              {"user_key", {{"assurance", "software"}, {"jwk", key->publicJwk()}}}};
        VERIFY_PROBLEM(post("/v1/users/enrollments", request), 403, "assurance_not_allowed",
                       "user keys with assurance 'software'");
        m_verifier->setPolicy(policyBothKeys);
        const auto enrolled = post("/v1/users/enrollments", request);
        QVERIFY2(enrolled.status == 201, enrolled.body.c_str());
        QCOMPARE(body(enrolled).at("key_assurance"), "software");

        const std::string sessions = "/v1/users/" + userId + "/sessions";
        const auto signIn = [&] {
            return post(sessions,
                        {{"version", 1},
                         {"user_proof", userProof(*m_verifier, key->publicKey(), signerOf(*key),
                                                  userId, sessions, m_deviceKey->thumbprint())}});
        };
        const auto signedIn = signIn();
        QVERIFY2(signedIn.status == 201, signedIn.body.c_str());
        QCOMPARE(body(signedIn).at("amr"), json::array({"swk", "pin", "mfa"}));
        // Once the policy wants TPM keys again, the software key signs no one in.
        m_verifier->setPolicy(policyTpmKeys);
        VERIFY_PROBLEM(signIn(), 403, "factor_not_accepted", "assurance 'software'");
    }
};

QTEST_GUILESS_MAIN(TestUserTpm)
#include "tst_usertpm.moc"

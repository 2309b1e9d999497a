// Protocol step 3 against the real verifier over HTTPS: DPoP-bound RFC 9068 access tokens,
// issued only to compliant, fresh, unrevoked devices the policy accepts; the JWKS; and the
// protected resource /v1/whoami with every way a token or proof can be wrong. Tokens and proofs
// are cross-checked with jwcrypto in both directions.
#include "independentpython.h"
#include "protocol/jose/dpop.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/rfc3339.h"
#include "server/api/verifierservice.h"
#include "server/storage/sqlitestorage.h"
#include "swtpmsimulator.h"
#include "testdevice.h"
#include "testprinters.h"
#include "testverifier.h"

#include <QTemporaryDir>
#include <QTest>

using namespace vigil::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace protocol = vigil::protocol;
namespace attestation = vigil::attestation;

namespace {

const char *policyBoth = R"({"version": 1, "accepted_assurance": ["software", "tpm"]})";
const char *policyTpmOnly = R"({"version": 1, "accepted_assurance": ["tpm"]})";
const char *policyTtl600 =
    R"({"version": 1, "accepted_assurance": ["software", "tpm"], "token_ttl_seconds": 600})";

// The default policy's timings (server/policy.h).
constexpr std::chrono::seconds reportInterval{900};
constexpr std::chrono::seconds gracePeriod{300};
constexpr long long tokenTtl = 300;
constexpr std::chrono::seconds leeway{30}; // VerifierOptions::clockLeeway

json body(const HttpResponse &response)
{
    return json::parse(response.body);
}

QByteArray q(const std::string &text)
{
    return QByteArray::fromStdString(text);
}

// "" when response is the RFC 9457 problem described, else what differs (with the body).
QByteArray problemMismatch(const HttpResponse &response, long status, const std::string &code,
                           const std::string &phrase)
{
    const QByteArray text = q(response.body);
    if (response.status != status)
        return "status " + QByteArray::number(qlonglong(response.status)) + ": " + text;
    if (response.contentType != "application/problem+json")
        return "content type " + q(response.contentType) + ": " + text;
    const json problem = json::parse(response.body, nullptr, false);
    if (!problem.is_object())
        return "not a JSON object: " + text;
    if (problem.value("code", std::string()) != code)
        return "code is not " + q(code) + ": " + text;
    if (problem.value("status", 0) != status)
        return "status member: " + text;
    if (problem.value("type", std::string()) != "https://vigil.dev/problems/" + code)
        return "type: " + text;
    if (problem.contains("field"))
        return "unexpected field: " + text;
    if (problem.value("detail", std::string()).find(phrase) == std::string::npos)
        return "detail lacks '" + q(phrase) + "': " + text;
    return {};
}

#define VERIFY_PROBLEM(response, status, code, phrase)                                             \
    do {                                                                                           \
        const QByteArray mismatch = problemMismatch(response, status, code, phrase);               \
        QVERIFY2(mismatch.isEmpty(), mismatch.constData());                                        \
    } while (false)

long long epochSeconds(std::chrono::system_clock::time_point time)
{
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// Runs a python script given JSON on stdin; fills output with what it printed.
bool python(const char *script, const json &input, QByteArray &output, QByteArray &error)
{
    return runPython(script, q(input.dump()), output, error);
}

// jwcrypto: verify a compact JWS with the key of its kid from a JWKS; print header and claims.
const char *verifyWithJwks = R"(
import sys, json
from jwcrypto import jwk, jws
data = json.load(sys.stdin)
keys = jwk.JWKSet.from_json(json.dumps(data['jwks']))
token = jws.JWS()
token.deserialize(data['token'])
header = token.jose_header
key = keys.get_key(header['kid'])
if key is None:
    sys.exit('no key with kid ' + header['kid'])
token.verify(key, alg='ES256')
if header.get('typ') != 'at+jwt':
    sys.exit('typ is ' + str(header.get('typ')))
print(json.dumps({'header': header, 'claims': json.loads(token.payload)}))
)";

// jwcrypto: sign each {header, claims} with the PEM key at data['key'] (or a fresh key when the
// entry says 'other_key'); print {name: compact JWS}.
const char *signTokens = R"(
import sys, json
from jwcrypto import jwk, jws
data = json.load(sys.stdin)
with open(data['key'], 'rb') as f:
    key = jwk.JWK.from_pem(f.read())
other = jwk.JWK.generate(kty='EC', crv='P-256')
out = {}
for name, token in data['tokens'].items():
    signed = jws.JWS(json.dumps(token['claims']))
    signer = other if token.get('other_key') else key
    signed.add_signature(signer, None, json.dumps(token['header']))
    out[name] = signed.serialize(compact=True)
print(json.dumps(out))
)";

// jwcrypto: a DPoP proof (RFC 9449) signed with the PEM key at data['key'], ath computed here.
const char *makeDpopProof = R"(
import sys, json, base64, hashlib
from jwcrypto import jwk, jws
data = json.load(sys.stdin)
with open(data['key'], 'rb') as f:
    key = jwk.JWK.from_pem(f.read())
public = json.loads(key.export_public())
claims = {'jti': data['jti'], 'htm': data['htm'], 'htu': data['htu'], 'iat': data['iat']}
if 'token' in data:
    digest = hashlib.sha256(data['token'].encode('ascii')).digest()
    claims['ath'] = base64.urlsafe_b64encode(digest).rstrip(b'=').decode('ascii')
proof = jws.JWS(json.dumps(claims))
proof.add_signature(key, None, json.dumps({'alg': 'ES256', 'typ': 'dpop+jwt', 'jwk': public}))
print(proof.serialize(compact=True))
)";

} // namespace

class TestTokens : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_state.isValid());
        m_swtpm = std::make_unique<SwtpmSimulator>();
        // The device rate limit runs on real time; these tests send far more token requests
        // per device than a real agent, so its burst is raised out of the way.
        vigil::server::VerifierOptions options;
        options.deviceBurst = 100000;
        m_verifier = std::make_unique<TestVerifier>(policyBoth, m_swtpm->caDirectory(), options);
        m_client = std::make_unique<HttpsClient>(m_verifier->caFile());

        auto &clock = m_verifier->clock();
        m_tpm = TestDevice::tpm(*m_swtpm, path("tpm"), [&clock] { return clock.now(); });
        const json enrolled =
            m_tpm->enroll(*m_client, m_verifier->url(""), m_verifier->createEnrollmentToken());
        m_tpmId = enrolled.at("device_id").get<std::string>();
        const json report = {
            {"version", 1},
            {"report", m_tpm->report(m_tpmId, enrolled.at("nonce"),
                                     enrolled.at("pcrs").get<std::vector<unsigned>>())}};
        const auto appraisal = m_client->postJson(m_verifier->url("/v1/reports"), report.dump());
        QVERIFY2(appraisal.status == 200, appraisal.body.c_str());
        QCOMPARE(body(appraisal).at("verdict"), "compliant");
    }

    void cleanup()
    {
        if (m_policyChanged) {
            m_verifier->setPolicy(policyBoth);
            m_policyChanged = false;
        }
    }

    // --- issuance -------------------------------------------------------------------------

    void aTokenIsAnRfc9068JwtBoundToTheDeviceKey()
    {
        alignClockToSecond();
        const auto issuedAt = epochSeconds(m_verifier->clock().now());
        const auto response = requestToken(*m_tpm);
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(response.contentType, "application/json");
        QCOMPARE(response.headers.at("cache-control"), "no-store");
        const json answer = body(response);
        QCOMPARE(answer.at("version"), 1);
        QCOMPARE(answer.at("token_type"), "DPoP");
        QCOMPARE(answer.at("expires_in"), tokenTtl);

        const auto jws = protocol::parseJws(answer.at("access_token").get<std::string>());
        const json jwks = body(m_client->get(m_verifier->url("/.well-known/jwks.json")));
        QCOMPARE(
            jws.header,
            (json{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", jwks.at("keys").at(0).at("kid")}}));
        const auto key =
            protocol::parseEcPublicJwk(std::string_view(jwks.at("keys").at(0).dump()));
        QVERIFY(protocol::verifyJws(jws, key));

        const json claims = json::parse(jws.payload);
        const auto device = m_verifier->storage().device(m_tpmId);
        QVERIFY(device.has_value());
        QCOMPARE(claims.at("iss"), m_verifier->url(""));
        QCOMPARE(claims.at("sub"), m_tpmId);
        QCOMPARE(claims.at("client_id"), m_tpmId);
        QCOMPARE(claims.at("aud"), "vigil");
        QCOMPARE(claims.at("iat"), issuedAt);
        QCOMPARE(claims.at("exp"), issuedAt + tokenTtl);
        QCOMPARE(claims.at("cnf"), (json{{"jkt", m_tpm->key().thumbprint()}}));
        QCOMPARE(claims.at("assurance"), "tpm");
        QCOMPARE(claims.at("appraisal_id"), device->lastAppraisalId);
        // 16 random bytes, and a new one each time.
        const std::string jti = claims.at("jti");
        QCOMPARE(vigil::base64UrlDecode(jti).value_or(vigil::Bytes{}).size(),
                 std::size_t(16));
        const auto again =
            protocol::parseJws(body(requestToken(*m_tpm)).at("access_token").get<std::string>());
        QVERIFY(json::parse(again.payload).at("jti") != jti);
    }

    void theJwksPublishesTheTokenSigningKey()
    {
        const auto response = m_client->get(m_verifier->url("/.well-known/jwks.json"));
        QCOMPARE(response.status, 200L);
        QCOMPARE(response.contentType, "application/jwk-set+json");
        json expected = m_verifier->tokenKey().publicJwk();
        expected["kid"] = m_verifier->tokenKey().thumbprint();
        expected["alg"] = "ES256";
        expected["use"] = "sig";
        QCOMPARE(body(response), (json{{"keys", json::array({expected})}}));
    }

    void theTokenLifetimeFollowsThePolicy()
    {
        setPolicy(policyTtl600);
        alignClockToSecond();
        const auto response = requestToken(*m_tpm);
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("expires_in"), 600);
        const json claims = claimsOf(body(response).at("access_token"));
        QCOMPARE(claims.at("exp").get<long long>() - claims.at("iat").get<long long>(), 600LL);
    }

    void jwcryptoVerifiesTheTokenWithThePublishedJwks()
    {
        const auto response = requestToken(*m_tpm);
        QVERIFY2(response.status == 200, response.body.c_str());
        const std::string token = body(response).at("access_token");
        const json jwks = body(m_client->get(m_verifier->url("/.well-known/jwks.json")));
        QByteArray output, error;
        QVERIFY2(python(verifyWithJwks, {{"jwks", jwks}, {"token", token}}, output, error),
                 error.constData());
        const json verified = json::parse(output.toStdString());
        QCOMPARE(verified.at("header").at("typ"), "at+jwt");
        QCOMPARE(verified.at("header").at("alg"), "ES256");
        QCOMPARE(verified.at("claims"), claimsOf(token));
    }

    void whoamiAcceptsATokenThatJwcryptoSignedWithTheVerifierKey_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<long>("status");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("phrase");
        QTest::newRow("right claims") << "good" << 200L << ""
                                      << "";
        QTest::newRow("another audience") << "aud" << 401L << "invalid_token"
                                          << "access token: ";
        QTest::newRow("another issuer") << "iss" << 401L << "invalid_token"
                                        << "access token: ";
        QTest::newRow("typ JWT") << "typ" << 401L << "invalid_token"
                                 << "access token: ";
        QTest::newRow("expired an hour ago") << "expired" << 401L << "invalid_token"
                                             << "JWT has expired";
        QTest::newRow("no cnf") << "no_cnf" << 401L << "invalid_token"
                                << "not bound to a key";
        QTest::newRow("bound to another key") << "other_jkt" << 401L << "invalid_token"
                                              << "another key than the token is bound to";
        QTest::newRow("signed by another key") << "other_signer" << 401L << "invalid_token"
                                               << "signature does not verify";
        // What a leaked signing key would allow without the device check: a token naming the
        // TPM device but bound to the attacker's key, presented with the attacker's proof.
        QTest::newRow("device's id bound to a key it never enrolled")
            << "impersonation" << 401L << "invalid_token"
            << "key binding is not the key device";
    }
    void whoamiAcceptsATokenThatJwcryptoSignedWithTheVerifierKey()
    {
        QFETCH(QString, variant);
        QFETCH(long, status);
        QFETCH(QString, code);
        QFETCH(QString, phrase);

        const auto now = epochSeconds(m_verifier->clock().now());
        const json header = {
            {"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", m_verifier->tokenKey().thumbprint()}};
        json claims = {{"iss", m_verifier->url("")},
                       {"sub", m_tpmId},
                       {"aud", "vigil"},
                       {"client_id", m_tpmId},
                       {"iat", now},
                       {"exp", now + 300},
                       {"jti", "made-by-jwcrypto"},
                       {"cnf", {{"jkt", m_tpm->key().thumbprint()}}}};
        json token = {{"header", header}, {"claims", claims}};
        const std::string name = variant.toStdString();
        if (name == "aud")
            token["claims"]["aud"] = "another-api";
        else if (name == "iss")
            token["claims"]["iss"] = "https://verifier.evil.example";
        else if (name == "typ")
            token["header"]["typ"] = "JWT";
        else if (name == "expired") {
            token["claims"]["iat"] = now - 3600;
            token["claims"]["exp"] = now - 3300;
        } else if (name == "no_cnf")
            token["claims"].erase("cnf");
        else if (name == "other_jkt")
            token["claims"]["cnf"]["jkt"] = otherKey().thumbprint();
        else if (name == "other_signer")
            token["other_key"] = true;
        else if (name == "impersonation")
            token["claims"]["cnf"]["jkt"] = otherKey().thumbprint();

        const std::string keyFile =
            (m_verifier->dataDirectory() / "token-signing-key.pem").string();
        json tokens = json::object();
        tokens[name] = token;
        QByteArray output, error;
        QVERIFY2(python(signTokens, {{"key", keyFile}, {"tokens", tokens}}, output, error),
                 error.constData());
        const std::string accessToken = json::parse(output.toStdString()).at(name);

        protocol::DpopProofRequest proof;
        proof.htm = "GET";
        proof.htu = whoamiUrl();
        proof.iat = m_verifier->clock().now();
        proof.accessToken = accessToken;
        protocol::DeviceKey &prover = name == "impersonation" ? otherKey() : m_tpm->key();
        const auto response =
            whoami(accessToken, {"DPoP: " + protocol::createDpopProof(prover, proof)});
        if (status == 200) {
            QVERIFY2(response.status == 200, response.body.c_str());
            QCOMPARE(body(response).at("device_id"), m_tpmId);
            QCOMPARE(body(response).at("token_expires_at"),
                     protocol::formatRfc3339(
                         std::chrono::system_clock::time_point(std::chrono::seconds(now + 300))));
        } else {
            VERIFY_PROBLEM(response, status, code.toStdString(), phrase.toStdString());
        }
    }

    void aDpopProofMadeByJwcryptoIsAccepted()
    {
        // A software device whose key file jwcrypto loads: the verifier takes a proof that
        // another implementation made, at /v1/tokens and (with its own ath) at /v1/whoami.
        const std::filesystem::path state = path("jwcrypto-device");
        auto device = enrolledSoftwareDevice(state);
        QVERIFY(device);
        QVERIFY(reportFrom(*device.device, device.id, {}).status == 200);
        const std::string keyFile = (state / "devicekey.pem").string();
        const auto now = epochSeconds(m_verifier->clock().now());

        QByteArray proof, error;
        QVERIFY2(python(makeDpopProof,
                        {{"key", keyFile},
                         {"jti", "jwcrypto-1"},
                         {"htm", "POST"},
                         {"htu", tokenUrl()},
                         {"iat", now}},
                        proof, error),
                 error.constData());
        const auto tokenResponse = m_client->postJson(tokenUrl(), R"({"version":1})",
                                                      {"DPoP: " + proof.trimmed().toStdString()});
        QVERIFY2(tokenResponse.status == 200, tokenResponse.body.c_str());
        const std::string accessToken = body(tokenResponse).at("access_token");
        QCOMPARE(claimsOf(accessToken).at("cnf").at("jkt"), device.device->key().thumbprint());

        QVERIFY2(python(makeDpopProof,
                        {{"key", keyFile},
                         {"jti", "jwcrypto-2"},
                         {"htm", "GET"},
                         {"htu", whoamiUrl()},
                         {"iat", now},
                         {"token", accessToken}},
                        proof, error),
                 error.constData());
        const auto response = whoami(accessToken, {"DPoP: " + proof.trimmed().toStdString()});
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("device_id"), device.id);
        QCOMPARE(body(response).at("assurance"), "software");
    }

    // --- refusals at /v1/tokens --------------------------------------------------------------

    // docs/protocol.md section 4: a proof over 8 KiB is an invalid proof (401), answered by the
    // verifier itself, not cut off earlier by the HTTP layer's own head limit.
    void aProofOver8KiBIsAnInvalidProof()
    {
        const std::string proof(8 * 1024 + 1, 'a');
        VERIFY_PROBLEM(m_client->postJson(tokenUrl(), R"({"version":1})", {"DPoP: " + proof}), 401,
                       "invalid_dpop_proof", "the limit is 8192");
    }

    void aDeviceWithoutAReportGetsNoToken()
    {
        auto device = enrolledSoftwareDevice(path("no-report"));
        QVERIFY(device);
        VERIFY_PROBLEM(requestToken(*device.device), 403, "not_compliant",
                       "has not sent a posture report yet");
    }

    // A proof counts as used only once its key is an enrolled device's: proofs from keys nobody
    // enrolled must not fill the replay cache, or anyone could lock every device out of nonces
    // and tokens by sending them faster than the cache forgets.
    void proofsFromUnenrolledKeysLeaveTheReplayCacheAlone()
    {
        vigil::server::VerifierOptions options;
        options.dpopReplayCache = 2; // the enrollment's proof and one more
        options.peerBurst = 100;
        options.peerRequestsPerSecond = 100;
        TestVerifier verifier(policyBoth, {}, options);
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device = TestDevice::software(path("cache-owner"), [&clock] { return clock.now(); });
        device->enroll(client, verifier.url(""), verifier.createEnrollmentToken());
        auto stranger =
            TestDevice::software(path("cache-stranger"), [&clock] { return clock.now(); });

        const std::string nonceUrl = verifier.url("/v1/nonces");
        const std::string tokenUrl = verifier.url("/v1/tokens");
        for (int i = 0; i < 5; ++i) {
            VERIFY_PROBLEM(client.postJson(nonceUrl, R"({"version":1})",
                                           {stranger->dpopHeader("POST", nonceUrl)}),
                           403, "unknown_device", "enroll the device first");
            VERIFY_PROBLEM(client.postJson(tokenUrl, R"({"version":1})",
                                           {stranger->dpopHeader("POST", tokenUrl)}),
                           403, "unknown_device", "enroll the device first");
        }
        const auto nonce =
            client.postJson(nonceUrl, R"({"version":1})", {device->dpopHeader("POST", nonceUrl)});
        QVERIFY2(nonce.status == 200, nonce.body.c_str());
        // The enrolled device's proofs still fill it: a third live one is refused, not forgotten.
        VERIFY_PROBLEM(
            client.postJson(nonceUrl, R"({"version":1})", {device->dpopHeader("POST", nonceUrl)}),
            401, "invalid_dpop_proof", "replay cache is full");
    }

    // A replayed proof is turned away before it costs the device anything: replays by whoever
    // captured one must not use up the device's rate and have its own requests refused.
    void aReplayedProofDoesNotUseTheDevicesRate()
    {
        vigil::server::VerifierOptions options;
        options.deviceBurst = 2;
        options.deviceRequestsPerSecond = 0.001;
        TestVerifier verifier(policyBoth, {}, options);
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device = TestDevice::software(path("replayed"), [&clock] { return clock.now(); });
        device->enroll(client, verifier.url(""), verifier.createEnrollmentToken());

        const std::string nonceUrl = verifier.url("/v1/nonces");
        const std::string proof = device->dpopHeader("POST", nonceUrl);
        QCOMPARE(client.postJson(nonceUrl, R"({"version":1})", {proof}).status, 200L);
        for (int i = 0; i < 5; ++i)
            VERIFY_PROBLEM(client.postJson(nonceUrl, R"({"version":1})", {proof}), 401,
                           "invalid_dpop_proof", "(replay)");
        const auto second =
            client.postJson(nonceUrl, R"({"version":1})", {device->dpopHeader("POST", nonceUrl)});
        QVERIFY2(second.status == 200, second.body.c_str());
        VERIFY_PROBLEM(
            client.postJson(nonceUrl, R"({"version":1})", {device->dpopHeader("POST", nonceUrl)}),
            429, "rate_limited", "retry later");
    }

    // At /v1/whoami a proof is remembered only once it is the bound key's: proofs by other keys,
    // sent with a valid token, must not fill the replay cache either.
    void whoamiProofsByOtherKeysLeaveTheReplayCacheAlone()
    {
        vigil::server::VerifierOptions options;
        options.dpopReplayCache = 4; // enrollment, nonce, token and one whoami of the device
        TestVerifier verifier(policyBoth, {}, options);
        HttpsClient client(verifier.caFile());
        auto &clock = verifier.clock();
        auto device = TestDevice::software(path("whoami-cache"), [&clock] { return clock.now(); });
        const std::string id =
            device->enroll(client, verifier.url(""), verifier.createEnrollmentToken())
                .at("device_id");
        const std::string nonceUrl = verifier.url("/v1/nonces");
        const json issued = body(
            client.postJson(nonceUrl, R"({"version":1})", {device->dpopHeader("POST", nonceUrl)}));
        const json report = {
            {"version", 1},
            {"report",
             device->report(id, issued.at("nonce"), issued.at("pcrs").get<std::vector<unsigned>>(),
                            std::nullopt)}};
        QCOMPARE(client.postJson(verifier.url("/v1/reports"), report.dump()).status, 200L);
        const std::string tokenUrl = verifier.url("/v1/tokens");
        const auto issuedToken =
            client.postJson(tokenUrl, R"({"version":1})", {device->dpopHeader("POST", tokenUrl)});
        QVERIFY2(issuedToken.status == 200, issuedToken.body.c_str());
        const std::string token = body(issuedToken).at("access_token");

        const std::string url = verifier.url("/v1/whoami");
        auto stranger =
            TestDevice::software(path("whoami-stranger"), [&clock] { return clock.now(); });
        for (int i = 0; i < 5; ++i)
            VERIFY_PROBLEM(client.get(url, {"Authorization: DPoP " + token,
                                            stranger->dpopHeader("GET", url, token)}),
                           401, "invalid_token", "signed by another key");
        const auto response = client.get(
            url, {"Authorization: DPoP " + token, device->dpopHeader("GET", url, token)});
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("device_id"), id);
    }

    void aNonCompliantDeviceGetsNoTokenUntilItReportsCompliant()
    {
        auto device = enrolledSoftwareDevice(path("non-compliant"));
        QVERIFY(device);
        json posture = device.device->compliantPosture();
        posture["checks"]["disk_encryption"]["status"] = "fail";
        posture["checks"]["disk_encryption"]["summary"] = "/ is not encrypted";
        posture["checks"]["disk_encryption"]["remediation"] = "Encrypt the root file system";
        const auto appraisal = reportFrom(*device.device, device.id, posture);
        QVERIFY2(appraisal.status == 200, appraisal.body.c_str());
        QCOMPARE(body(appraisal).at("verdict"), "non_compliant");
        const std::string appraisalId = body(appraisal).at("appraisal_id");

        const auto refused = requestToken(*device.device);
        VERIFY_PROBLEM(refused, 403, "not_compliant", "found it non-compliant");
        VERIFY_PROBLEM(refused, 403, "not_compliant", appraisalId);

        QCOMPARE(body(reportFrom(*device.device, device.id, {})).at("verdict"), "compliant");
        QCOMPARE(requestToken(*device.device).status, 200L);
    }

    void aMissedReportMakesTheDeviceStale()
    {
        auto device = enrolledSoftwareDevice(path("stale"));
        QVERIFY(device);
        alignClockToSecond();
        QVERIFY(reportFrom(*device.device, device.id, {}).status == 200);

        // Fresh up to and including interval + grace after the report...
        m_verifier->clock().advance(reportInterval + gracePeriod);
        const auto lastMoment = requestToken(*device.device);
        QVERIFY2(lastMoment.status == 200, lastMoment.body.c_str());
        // ...and stale one second later.
        m_verifier->clock().advance(1s);
        VERIFY_PROBLEM(requestToken(*device.device), 403, "report_stale",
                       "missed its posture report");

        QVERIFY(reportFrom(*device.device, device.id, {}).status == 200);
        QCOMPARE(requestToken(*device.device).status, 200L);
    }

    void aRevokedDeviceGetsNoTokenAndItsTokensStopWorking()
    {
        auto device = enrolledSoftwareDevice(path("revoked"));
        QVERIFY(device);
        QVERIFY(reportFrom(*device.device, device.id, {}).status == 200);
        const auto issued = requestToken(*device.device);
        QVERIFY2(issued.status == 200, issued.body.c_str());
        const std::string accessToken = body(issued).at("access_token");
        QCOMPARE(whoami(accessToken, {device.device->dpopHeader("GET", whoamiUrl(), accessToken)})
                     .status,
                 200L);

        QVERIFY(m_verifier->storage().revokeDevice(device.id, "laptop stolen",
                                                   m_verifier->clock().now()));
        VERIFY_PROBLEM(requestToken(*device.device), 403, "device_revoked",
                       "device " + device.id + " was revoked (laptop stolen)");
        const auto response =
            whoami(accessToken, {device.device->dpopHeader("GET", whoamiUrl(), accessToken)});
        VERIFY_PROBLEM(response, 401, "invalid_token", "revoked or unknown");
    }

    void aPolicyThatNoLongerAcceptsTheAssuranceStopsIssuance()
    {
        auto device = enrolledSoftwareDevice(path("policy-change"));
        QVERIFY(device);
        QVERIFY(reportFrom(*device.device, device.id, {}).status == 200);
        QCOMPARE(requestToken(*device.device).status, 200L);

        setPolicy(policyTpmOnly);
        VERIFY_PROBLEM(requestToken(*device.device), 403, "not_compliant",
                       "no longer accepts devices with assurance 'software'");
        // The TPM device is not affected (after a fresh report: earlier tests moved the clock).
        QCOMPARE(reportFrom(*m_tpm, m_tpmId, {}).status, 200L);
        QCOMPARE(requestToken(*m_tpm).status, 200L);
    }

    // --- /v1/whoami --------------------------------------------------------------------------

    void whoamiAnswersForAValidTokenAndProof()
    {
        const std::string token = tpmToken();
        const auto response = whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(response.contentType, "application/json");
        const json claims = claimsOf(token);
        QCOMPARE(body(response),
                 (json{{"version", 1},
                       {"device_id", m_tpmId},
                       {"assurance", "tpm"},
                       {"jkt", m_tpm->key().thumbprint()},
                       {"token_expires_at",
                        protocol::formatRfc3339(std::chrono::system_clock::time_point(
                            std::chrono::seconds(claims.at("exp").get<long long>())))}}));
    }

    // RFC 9110 section 11.4: the scheme is case-insensitive and one or more spaces follow it.
    void whoamiTakesTheSchemeInAnyCaseAndSpacing_data()
    {
        QTest::addColumn<QString>("scheme");
        QTest::newRow("DPoP") << "DPoP ";
        QTest::newRow("dpop") << "dpop ";
        QTest::newRow("DPOP, three spaces") << "DPOP   ";
    }

    void whoamiTakesTheSchemeInAnyCaseAndSpacing()
    {
        QFETCH(QString, scheme);
        const std::string token = tpmToken();
        const auto response =
            m_client->get(whoamiUrl(), {"Authorization: " + scheme.toStdString() + token,
                                        m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        QVERIFY2(response.status == 200, response.body.c_str());
        QCOMPARE(body(response).at("device_id"), m_tpmId);
    }

    void whoamiRefusesAnAuthorizationWithoutAToken_data()
    {
        QTest::addColumn<QString>("authorization");
        QTest::newRow("scheme alone") << "DPoP";
        QTest::newRow("scheme and spaces") << "DPoP   ";
        QTest::newRow("scheme run into the token") << "DPoPey";
    }

    void whoamiRefusesAnAuthorizationWithoutAToken()
    {
        QFETCH(QString, authorization);
        const std::string token = tpmToken();
        const auto response =
            m_client->get(whoamiUrl(), {"Authorization: " + authorization.toStdString(),
                                        m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        VERIFY_PROBLEM(response, 401, "invalid_token", "Authorization: DPoP");
    }

    void whoamiWithoutAuthorizationAsksForDpop()
    {
        const std::string token = tpmToken();
        const auto response =
            m_client->get(whoamiUrl(), {m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        VERIFY_PROBLEM(response, 401, "invalid_token", "Authorization: DPoP");
        // RFC 6750 section 3.1 (RFC 9449 section 7.1): no error code when no credentials came.
        QCOMPARE(response.headers.at("www-authenticate"), "DPoP algs=\"ES256\"");
    }

    void whoamiRefusesTheBearerScheme()
    {
        // RFC 9449 section 7.2: a DPoP-bound token sent as a bearer token is refused.
        const std::string token = tpmToken();
        const auto response =
            m_client->get(whoamiUrl(), {"Authorization: Bearer " + token,
                                        m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        VERIFY_PROBLEM(response, 401, "invalid_token", "Authorization: DPoP");
        QCOMPARE(response.headers.at("www-authenticate"),
                 "DPoP error=\"invalid_token\", algs=\"ES256\"");
    }

    void whoamiRefusesATamperedToken_data()
    {
        QTest::addColumn<QString>("part");
        QTest::newRow("claims") << "claims";
        QTest::newRow("signature") << "signature";
        QTest::newRow("header") << "header";
    }
    void whoamiRefusesATamperedToken()
    {
        QFETCH(QString, part);
        const std::string token = tpmToken();
        const auto firstDot = token.find('.');
        const auto secondDot = token.find('.', firstDot + 1);
        std::string tampered;
        std::string phrase = "signature does not verify";
        if (part == QStringLiteral("claims")) {
            // Another device's id, validly encoded.
            json claims = claimsOf(token);
            claims["sub"] = "00000000-0000-4000-8000-000000000000";
            tampered = token.substr(0, firstDot + 1) +
                       vigil::base64UrlEncode(vigil::toBytes(claims.dump())) +
                       token.substr(secondDot);
        } else if (part == QStringLiteral("signature")) {
            tampered = token;
            char &c = tampered[secondDot + 10];
            c = c == 'A' ? 'B' : 'A';
        } else {
            tampered = vigil::base64UrlEncode(vigil::toBytes(
                           json{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", "another"}}.dump())) +
                       token.substr(firstDot);
        }
        const auto response = whoami(tampered, {m_tpm->dpopHeader("GET", whoamiUrl(), tampered)});
        VERIFY_PROBLEM(response, 401, "invalid_token", phrase);
        QCOMPARE(response.headers.at("www-authenticate"),
                 "DPoP error=\"invalid_token\", algs=\"ES256\"");
    }

    void whoamiRefusesAnExpiredToken()
    {
        alignClockToSecond();
        const std::string token = tpmToken();
        const long long exp = claimsOf(token).at("exp");
        auto &clock = m_verifier->clock();
        // Accepted until the last second before exp + leeway...
        clock.set(std::chrono::system_clock::time_point(std::chrono::seconds(exp) + leeway - 1s));
        QCOMPARE(whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl(), token)}).status, 200L);
        // ...and not at exp + leeway.
        clock.advance(1s);
        VERIFY_PROBLEM(whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl(), token)}), 401,
                       "invalid_token", "JWT has expired");
    }

    void whoamiRefusesAReplayedProof()
    {
        const std::string token = tpmToken();
        const std::string proof = m_tpm->dpopHeader("GET", whoamiUrl(), token);
        QCOMPARE(whoami(token, {proof}).status, 200L);
        VERIFY_PROBLEM(whoami(token, {proof}), 401, "invalid_dpop_proof",
                       "has already been used (replay)");
    }

    void whoamiRefusesAProofForAnotherRequest_data()
    {
        QTest::addColumn<QString>("htm");
        QTest::addColumn<QString>("htuPath");
        QTest::addColumn<QString>("phrase");
        QTest::newRow("POST instead of GET") << "POST"
                                             << "/v1/whoami"
                                             << "\"htm\" does not match";
        QTest::newRow("get in lower case") << "get"
                                           << "/v1/whoami"
                                           << "\"htm\" does not match";
        QTest::newRow("another path") << "GET"
                                      << "/v1/tokens"
                                      << "\"htu\" does not match";
        QTest::newRow("another host") << "GET"
                                      << "https://verifier.example/v1/whoami"
                                      << "\"htu\" does not match";
    }
    void whoamiRefusesAProofForAnotherRequest()
    {
        QFETCH(QString, htm);
        QFETCH(QString, htuPath);
        QFETCH(QString, phrase);
        const std::string token = tpmToken();
        const std::string htu = htuPath.startsWith(QLatin1Char('/'))
                                    ? m_verifier->url(htuPath.toStdString())
                                    : htuPath.toStdString();
        const auto response = whoami(token, {m_tpm->dpopHeader(htm.toStdString(), htu, token)});
        VERIFY_PROBLEM(response, 401, "invalid_dpop_proof", phrase.toStdString());
        QCOMPARE(response.headers.at("www-authenticate"),
                 "DPoP error=\"invalid_dpop_proof\", algs=\"ES256\"");
    }

    void whoamiRefusesAProofWithoutTheTokensHash()
    {
        const std::string token = tpmToken();
        VERIFY_PROBLEM(whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl())}), 401,
                       "invalid_dpop_proof", "has no \"ath\" claim");
        const std::string otherToken = tpmToken();
        QVERIFY(otherToken != token);
        VERIFY_PROBLEM(whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl(), otherToken)}), 401,
                       "invalid_dpop_proof", "\"ath\" does not match the access token");
    }

    void whoamiRefusesAProofByAnotherKeyThanTheTokenIsBoundTo()
    {
        const std::string token = tpmToken();
        protocol::DpopProofRequest request;
        request.htm = "GET";
        request.htu = whoamiUrl();
        request.iat = m_verifier->clock().now();
        request.accessToken = token;
        const std::string proof = protocol::createDpopProof(otherKey(), request);
        VERIFY_PROBLEM(whoami(token, {"DPoP: " + proof}), 401, "invalid_token",
                       "signed by another key than the token is bound to");
    }

    void whoamiRefusesTwoProofs()
    {
        const std::string token = tpmToken();
        const auto response = whoami(token, {m_tpm->dpopHeader("GET", whoamiUrl(), token),
                                             m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        VERIFY_PROBLEM(response, 401, "invalid_dpop_proof", "more than one DPoP header");
    }

    void whoamiRefusesTwoAuthorizationHeaders()
    {
        const std::string token = tpmToken();
        const auto response = m_client->get(
            whoamiUrl(), {"Authorization: DPoP " + token, "Authorization: DPoP " + token,
                          m_tpm->dpopHeader("GET", whoamiUrl(), token)});
        VERIFY_PROBLEM(response, 401, "invalid_token", "more than one Authorization header");
    }

    // --- routing -----------------------------------------------------------------------------

    void anUnknownPathIsNotFound()
    {
        VERIFY_PROBLEM(m_client->get(m_verifier->url("/v1/nothing-here")), 404, "not_found",
                       "no resource /v1/nothing-here");
    }

    void getOnTheTokenEndpointIsNotAllowed()
    {
        const auto response = m_client->get(tokenUrl(), {m_tpm->dpopHeader("GET", tokenUrl())});
        VERIFY_PROBLEM(response, 405, "method_not_allowed", "allows POST only");
        QCOMPARE(response.headers.at("allow"), "POST");
    }

    void healthAnswersOk()
    {
        const auto response = m_client->get(m_verifier->url("/v1/health"));
        QCOMPARE(response.status, 200L);
        QCOMPARE(body(response), (json{{"version", 1}, {"status", "ok"}}));
    }

private:
    struct EnrolledDevice
    {
        std::unique_ptr<TestDevice> device;
        std::string id;
        explicit operator bool() const { return device != nullptr; }
    };

    std::filesystem::path path(const char *name) const
    {
        return m_state.filePath(QString::fromUtf8(name)).toStdString();
    }
    std::string tokenUrl() const { return m_verifier->url("/v1/tokens"); }
    std::string whoamiUrl() const { return m_verifier->url("/v1/whoami"); }

    // The verifier's clock on the next whole second, so that second-precision times (stored
    // appraisals, NumericDates) fall exactly where a test computes them.
    void alignClockToSecond()
    {
        auto &clock = m_verifier->clock();
        clock.set(std::chrono::ceil<std::chrono::seconds>(clock.now()));
    }

    void setPolicy(const char *policy)
    {
        m_policyChanged = true;
        m_verifier->setPolicy(policy);
    }

    EnrolledDevice enrolledSoftwareDevice(const std::filesystem::path &state)
    {
        auto &clock = m_verifier->clock();
        EnrolledDevice enrolled;
        enrolled.device = TestDevice::software(state, [&clock] { return clock.now(); });
        const json complete = enrolled.device->enroll(*m_client, m_verifier->url(""),
                                                      m_verifier->createEnrollmentToken());
        enrolled.id = complete.at("device_id");
        return enrolled;
    }

    // A fresh nonce, then a report with posture (the compliant one when null).
    HttpResponse reportFrom(TestDevice &device, const std::string &deviceId, const json &posture)
    {
        const std::string nonceUrl = m_verifier->url("/v1/nonces");
        const auto nonce =
            m_client->postJson(nonceUrl, R"({"version":1})", {device.dpopHeader("POST", nonceUrl)});
        if (nonce.status != 200)
            return nonce;
        const json issued = body(nonce);
        const json report = {
            {"version", 1},
            {"report",
             device.report(deviceId, issued.at("nonce"),
                           issued.at("pcrs").get<std::vector<unsigned>>(),
                           posture.is_null() ? std::nullopt : std::optional<json>(posture))}};
        return m_client->postJson(m_verifier->url("/v1/reports"), report.dump());
    }

    HttpResponse requestToken(TestDevice &device)
    {
        return m_client->postJson(tokenUrl(), R"({"version":1})",
                                  {device.dpopHeader("POST", tokenUrl())});
    }

    // A token for the TPM device after a fresh compliant report (tests move the clock).
    std::string tpmToken()
    {
        const auto appraisal = reportFrom(*m_tpm, m_tpmId, {});
        if (appraisal.status != 200 || body(appraisal).at("verdict") != "compliant")
            throw std::runtime_error("TPM device report failed: " + appraisal.body);
        const auto response = requestToken(*m_tpm);
        if (response.status != 200)
            throw std::runtime_error("token request failed: " + response.body);
        return body(response).at("access_token");
    }

    HttpResponse whoami(const std::string &accessToken, const std::vector<std::string> &dpop)
    {
        std::vector<std::string> headers{"Authorization: DPoP " + accessToken};
        headers.insert(headers.end(), dpop.begin(), dpop.end());
        return m_client->get(whoamiUrl(), headers);
    }

    static json claimsOf(const std::string &token)
    {
        return json::parse(protocol::parseJws(token).payload);
    }

    protocol::DeviceKey &otherKey()
    {
        if (!m_otherKey)
            m_otherKey = protocol::SoftwareDeviceKey::create(path("other-key.pem"));
        return *m_otherKey;
    }

    QTemporaryDir m_state;
    std::unique_ptr<SwtpmSimulator> m_swtpm;
    std::unique_ptr<TestVerifier> m_verifier;
    std::unique_ptr<HttpsClient> m_client;
    std::unique_ptr<TestDevice> m_tpm;
    std::string m_tpmId;
    std::unique_ptr<protocol::SoftwareDeviceKey> m_otherKey;
    bool m_policyChanged = false;
};

QTEST_GUILESS_MAIN(TestTokens)
#include "tst_tokens.moc"

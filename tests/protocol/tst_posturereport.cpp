#include "independentpython.h"
#include "posture/posturesnapshot.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/jwt.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocol/posturereport.h"
#include "protocol/rfc3339.h"
#include "protocoltesthelpers.h"

#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace vigil;
using namespace vigil::protocol;
using namespace vigil::protocol::test;
using nlohmann::json;
using vigil::test::runPython;

namespace {

std::string encoded(std::size_t size, std::uint8_t fill = 0xa5)
{
    return base64UrlEncode(Bytes(size, fill));
}

constexpr char ecKeyX[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char ecKeyY[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

// Verifies the EAT with jwcrypto given only the public JWK, and reports what a re-implementer
// would check: header, claims, and the ueid recomputed from jwcrypto's own thumbprint.
constexpr char jwcryptoCheckEat[] = R"PY(
import base64, json, sys
from jwcrypto import jwk, jws
data = json.loads(sys.stdin.read())
key = jwk.JWK(**data['jwk'])
token = jws.JWS()
token.deserialize(data['token'])
token.verify(key, alg='ES256')
claims = json.loads(token.payload.decode('utf-8'))
def unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))
ueid = unb64(claims['ueid'])
thumbprint = unb64(key.thumbprint())
print(json.dumps({
    'header': token.jose_header,
    'claims': claims,
    'ueid_length': len(ueid),
    'ueid_type': ueid[0],
    'ueid_is_thumbprint': ueid[1:] == thumbprint,
    'nonce_length': len(claims['eat_nonce']),
    'lifetime': claims['exp'] - claims['iat'],
}))
)PY";

void addRow(const char *name, const std::string &pointer, const std::optional<json> &value,
            const std::string &field, const std::string &message)
{
    QTest::newRow(name) << QByteArray::fromStdString(pointer)
                        << (value ? QByteArray::fromStdString(value->dump()) : QByteArray())
                        << QByteArray::fromStdString(field)
                        << QByteArray::fromStdString(field + ": " + message);
}

void addRow(const char *name, const std::string &pointer, const std::optional<json> &value,
            const std::string &message)
{
    addRow(name, pointer, value, pointer, message);
}

void addBytesRows(const std::string &p, std::size_t max)
{
    const std::string tag = p.substr(p.rfind('/') + 1) + " ";
    addRow((tag + "removed").c_str(), p, std::nullopt, "missing");
    addRow((tag + "number").c_str(), p, 7, "must be a base64url string");
    addRow((tag + "padded").c_str(), p, "AAAAAA==", "not base64url without padding");
    addRow((tag + "standard alphabet").c_str(), p, "AB+/", "not base64url without padding");
    addRow((tag + "oversize").c_str(), p, encoded(max + 1),
           "decodes to more than " + std::to_string(max) + " bytes");
    addRow((tag + "empty").c_str(), p, "", "must not be empty");
}

} // namespace

class TestPostureReport : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::unique_ptr<SoftwareDeviceKey> newKey(const char *name)
    {
        return SoftwareDeviceKey::create(m_dir.filePath(QString::fromLatin1(name)).toStdString());
    }

    PostureReport reportFor(const DeviceKey &key)
    {
        PostureReport report = PostureReport::fromClaims(fixture("posture-report-claims"));
        report.ueid = ueidForKey(key.publicKey());
        return report;
    }

private Q_SLOTS:
    void exampleRoundTrips()
    {
        const json claims = fixture("posture-report-claims");
        const PostureReport report = PostureReport::fromClaims(claims);
        QCOMPARE(report.toClaims(), claims);
    }

    void exampleFields()
    {
        const PostureReport report = PostureReport::fromClaims(fixture("posture-report-claims"));
        QCOMPARE(formatRfc3339(report.iat), std::string("2026-11-24T16:05:00Z"));
        QCOMPARE(formatRfc3339(report.exp), std::string("2026-11-24T16:10:00Z"));
        QCOMPARE(report.swname, std::string("vigil"));
        QCOMPARE(report.swversion, std::string("0.1.0"));
        QCOMPARE(report.posture["checks"].size(), std::size_t(7));
        QVERIFY(report.tpm);
        QCOMPARE(report.tpm->quote.pcrs.size(), std::size_t(8));
        QCOMPARE(report.tpm->quote.pcrs.at(7).size(), std::size_t(32));
        QVERIFY(report.tpm->eventLog);
        // The example's ueid is the RFC 7515 A.3 key's, the device key of the enrollment example.
        QVERIFY(report.ueid ==
                ueidForKey(EcPublicKey{*base64UrlDecode(ecKeyX), *base64UrlDecode(ecKeyY)}));
    }

    // The example's posture is a snapshot the verifier's full parser accepts.
    void examplePostureIsASnapshot()
    {
        const PostureReport report = PostureReport::fromClaims(fixture("posture-report-claims"));
        const auto snapshot = vigil::posture::PostureSnapshot::fromJson(report.posture);
        QCOMPARE(snapshot.checks.size(), std::size_t(7));
        QCOMPARE(snapshot.toJson(), report.posture);
    }

    // Independent implementation the other way: the example EAT, signed by jwcrypto with the
    // RFC 7515 A.3 key (generate-eat.py), verifies here and holds the example claims.
    void jwcryptoSignedExampleVerifies()
    {
        const std::string compact = trimmed(fileText("posture-report.jws"));
        QCOMPARE(fixture("report-request")["report"], json(compact));
        const Jws jws = parseJws(compact, limits::maxReport);
        QCOMPARE(jws.header, json({{"alg", "ES256"},
                                   {"typ", "eat+jwt"},
                                   {"kid", "8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764"}}));
        QVERIFY(verifyJws(jws, EcPublicKey{*base64UrlDecode(ecKeyX), *base64UrlDecode(ecKeyY)}));
        JwtExpectations expect;
        expect.typ = "eat+jwt";
        expect.maxAge = std::chrono::seconds(600);
        const json claims = validateJwt(jws, expect, *parseRfc3339("2026-11-24T16:05:10Z"));
        QCOMPARE(PostureReport::fromClaims(claims).toClaims(), fixture("posture-report-claims"));
    }

    // RFC 7515 A.3's key has the jwcrypto thumbprint oKIywvGU… (tst_jwk).
    void ueidKnownAnswer()
    {
        const Bytes ueid =
            ueidForKey(EcPublicKey{*base64UrlDecode(ecKeyX), *base64UrlDecode(ecKeyY)});
        QCOMPARE(ueid.size(), std::size_t(33));
        QCOMPARE(ueid[0], std::uint8_t(0x01));
        QCOMPARE(base64UrlEncode(std::span(ueid).subspan(1)),
                 std::string("oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U"));
    }

    // A software-assurance device sends no submods; submods without tpm mean the same.
    void softwareReportsHaveNoTpmSubmodule()
    {
        json claims = fixture("posture-report-claims");
        claims.erase("submods");
        const PostureReport report = PostureReport::fromClaims(claims);
        QVERIFY(!report.tpm);
        QCOMPARE(report.toClaims(), claims);
        claims["submods"] = {{"other_module", {{"x", 1}}}};
        QVERIFY(!PostureReport::fromClaims(claims).tpm);
    }

    void optionalEventLogAndEmptyPcrs()
    {
        json claims = fixture("posture-report-claims");
        claims["submods"]["tpm"].erase("event_log");
        claims["submods"]["tpm"]["pcrs"] = json::object();
        const PostureReport report = PostureReport::fromClaims(claims);
        QVERIFY(report.tpm && !report.tpm->eventLog && report.tpm->quote.pcrs.empty());
        QCOMPARE(report.toClaims(), claims);
        claims["submods"]["tpm"]["pcrs"] = {{"23", encoded(32)}, {"0", encoded(32, 0)}};
        QCOMPARE(PostureReport::fromClaims(claims).tpm->quote.pcrs.size(), std::size_t(2));
    }

    // Forward compatibility: claims and posture members this version does not know are kept
    // out of the struct (posture is kept whole: the verifier parses it).
    void unknownClaimsAreIgnored()
    {
        json claims = fixture("posture-report-claims");
        claims["nbf"] = 1795536300;
        claims["eat_future"] = {{"a", 1}};
        claims["submods"]["tpm"]["future_evidence"] = "AAAA";
        QCOMPARE(PostureReport::fromClaims(claims).toClaims(), fixture("posture-report-claims"));
    }

    void limitsAreAccepted()
    {
        json claims = fixture("posture-report-claims");
        claims["eat_nonce"] = std::string(10, 'A');
        claims["exp"] = claims["iat"].get<long long>() + 600;
        claims["jti"] = encoded(64);
        claims["submods"]["tpm"]["event_log"] = encoded(limits::maxEventLog);
        const PostureReport report = PostureReport::fromClaims(claims);
        QCOMPARE(report.nonce, std::string(10, 'A'));
        QCOMPARE(report.tpm->eventLog->size(), limits::maxEventLog);
        claims["eat_nonce"] = std::string(74, '_');
        claims["exp"] = claims["iat"].get<long long>() + 1;
        QCOMPARE(PostureReport::fromClaims(claims).nonce, std::string(74, '_'));
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("pointer");
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("field");
        QTest::addColumn<QByteArray>("message");
        const std::string profile = "must be \"tag:vigil.dev,2026:posture-report/v1\"";
        addRow("eat_profile removed", "/eat_profile", std::nullopt, "missing");
        addRow("eat_profile number", "/eat_profile", 1, "must be a string");
        addRow("eat_profile v2", "/eat_profile", "tag:vigil.dev,2026:posture-report/v2", profile);
        addRow("eat_profile oversize", "/eat_profile", std::string(257, 'a'),
               "longer than 256 bytes");
        addRow("eat_nonce removed", "/eat_nonce", std::nullopt, "missing");
        addRow("eat_nonce array", "/eat_nonce", json::array({"AAAAAAAAAAAA"}), "must be a string");
        addRow("eat_nonce 9", "/eat_nonce", std::string(9, 'A'), "shorter than 10 bytes");
        addRow("eat_nonce empty", "/eat_nonce", "", "shorter than 10 bytes");
        addRow("eat_nonce 75", "/eat_nonce", std::string(75, 'A'), "longer than 74 bytes");
        addRow("eat_nonce not base64url", "/eat_nonce", "AAAA+AAAA/AAAA", "must be base64url text");
        addRow("eat_nonce padded", "/eat_nonce", "AAAAAAAAAA==", "must be base64url text");
        const std::string dateRange = "must be an integer from 0 to 9223372036";
        for (const char *claim : {"/iat", "/exp"}) {
            addRow((std::string(claim) + " removed").c_str(), claim, std::nullopt, "missing");
            addRow((std::string(claim) + " string").c_str(), claim, "1795536300", dateRange);
            addRow((std::string(claim) + " fraction").c_str(), claim, 1795536300.5, dateRange);
            addRow((std::string(claim) + " negative").c_str(), claim, -1, dateRange);
            addRow((std::string(claim) + " beyond the clock").c_str(), claim, 9223372037LL,
                   dateRange);
        }
        const std::string lifetime = "must be 1 to 600 seconds after iat";
        addRow("exp equals iat", "/exp", 1795536300, lifetime);
        addRow("exp before iat", "/exp", 1795536299, lifetime);
        addRow("exp 601 s after iat", "/exp", 1795536901, lifetime);
        addRow("iat after exp", "/iat", 1795536700, "/exp", lifetime);
        addRow("jti removed", "/jti", std::nullopt, "missing");
        addRow("jti number", "/jti", 7, "must be a base64url string");
        addRow("jti 15 bytes", "/jti", encoded(15), "decodes to fewer than 16 bytes");
        addRow("jti 65 bytes", "/jti", encoded(65), "decodes to more than 64 bytes");
        addRow("jti padded", "/jti", encoded(16) + "==", "not base64url without padding");
        addRow("jti not base64url", "/jti", "AAAAAAAAAAAAAAAAAAAAA+",
               "not base64url without padding");
        addRow("ueid removed", "/ueid", std::nullopt, "missing");
        addRow("ueid 32 bytes", "/ueid", encoded(32), "must decode to exactly 33 bytes");
        addRow("ueid 34 bytes", "/ueid", encoded(34), "must decode to exactly 33 bytes");
        addRow("ueid type 2", "/ueid", encoded(33, 0x02), "must start with the type byte 0x01");
        addRow("swname removed", "/swname", std::nullopt, "missing");
        addRow("swname number", "/swname", 7, "must be a string");
        addRow("swname empty", "/swname", "", "must not be empty");
        addRow("swname oversize", "/swname", std::string(65, 'v'), "longer than 64 bytes");
        addRow("swversion removed", "/swversion", std::nullopt, "missing");
        addRow("swversion string", "/swversion", "0.1.0", "must be an array");
        addRow("swversion one element", "/swversion", json::array({"0.1.0"}),
               "must be [version, 16384]");
        addRow("swversion three elements", "/swversion", json::array({"0.1.0", 16384, 1}),
               "more than 2 items");
        addRow("swversion number", "/swversion", json::array({1, 16384}), "/swversion/0",
               "must be a string");
        addRow("swversion empty", "/swversion", json::array({"", 16384}), "/swversion/0",
               "must not be empty");
        addRow("swversion oversize", "/swversion", json::array({std::string(65, '1'), 16384}),
               "/swversion/0", "longer than 64 bytes");
        addRow("swversion scheme", "/swversion", json::array({"0.1.0", 1}), "/swversion/1",
               "must be an integer from 16384 to 16384");
        addRow("swversion scheme string", "/swversion", json::array({"0.1.0", "semver"}),
               "/swversion/1", "must be an integer from 16384 to 16384");
        addRow("posture removed", "/posture", std::nullopt, "missing");
        addRow("posture array", "/posture", json::array(), "must be a JSON object");
        addRow("posture schema removed", "/posture/schema_version", std::nullopt, "missing");
        const std::string schema = "must be 1, the schema this implementation supports";
        addRow("posture schema 2", "/posture/schema_version", 2, schema);
        addRow("posture schema string", "/posture/schema_version", "1", schema);
        addRow("posture schema float", "/posture/schema_version", 1.0, schema);
        addRow("posture checks removed", "/posture/checks", std::nullopt, "missing");
        addRow("posture checks array", "/posture/checks", json::array(), "must be a JSON object");
        addRow("submods number", "/submods", 7, "must be a JSON object");
        addRow("submods tpm array", "/submods/tpm", json::array(), "must be a JSON object");
        addBytesRows("/submods/tpm/quote", 1024);
        addBytesRows("/submods/tpm/signature", 1024);
        addRow("pcr number", "/submods/tpm/pcrs/7", 7, "must be a base64url string");
        addRow("pcr empty", "/submods/tpm/pcrs/7", "", "must decode to exactly 32 bytes");
        addRow("pcr padded", "/submods/tpm/pcrs/7", encoded(31) + "=",
               "not base64url without padding");
        addRow("pcr 31 bytes", "/submods/tpm/pcrs/7", encoded(31),
               "must decode to exactly 32 bytes");
        addRow("pcr sha384", "/submods/tpm/pcrs/0", encoded(48), "must decode to exactly 32 bytes");
        const std::string index = "not a PCR index 0 to 23 in decimal without leading zeros";
        addRow("pcrs removed", "/submods/tpm/pcrs", std::nullopt, "missing");
        addRow("pcrs array", "/submods/tpm/pcrs", json::array({encoded(32)}),
               "must be a JSON object");
        addRow("pcr 24", "/submods/tpm/pcrs/24", encoded(32), index);
        addRow("pcr 07", "/submods/tpm/pcrs/07", encoded(32), index);
        addRow("pcr -1", "/submods/tpm/pcrs/-1", encoded(32), index);
        addRow("pcr +1", "/submods/tpm/pcrs/+1", encoded(32), index);
        addRow("pcr 100", "/submods/tpm/pcrs/100", encoded(32), index);
        addRow("pcr named", "/submods/tpm/pcrs/boot", encoded(32), index);
        addRow("pcr with a slash", "/submods/tpm/pcrs/a~1b", encoded(32), index);
        addRow("pcr empty name", "/submods/tpm/pcrs/", encoded(32), index);
        json many = json::object();
        for (int i = 0; i <= 24; ++i)
            many[std::to_string(i)] = encoded(32);
        addRow("25 pcrs", "/submods/tpm/pcrs", many, "more than 24 members");
        addRow("event_log number", "/submods/tpm/event_log", 7, "must be a base64url string");
        addRow("event_log empty", "/submods/tpm/event_log", "", "must not be empty");
        addRow("event_log oversize", "/submods/tpm/event_log", encoded(limits::maxEventLog + 1),
               "decodes to more than 393216 bytes");
        addRow("event_log padded", "/submods/tpm/event_log",
               "AAAAAA==", "not base64url without padding");
    }

    // One claim spoiled: the error names exactly that claim.
    void rejects()
    {
        QFETCH(QByteArray, pointer);
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, field);
        QFETCH(QByteArray, message);
        const json claims = mutated(
            fixture("posture-report-claims"), pointer.toStdString(),
            value.isEmpty() ? std::nullopt : std::optional(json::parse(value.toStdString())));
        QCOMPARE_REJECTION(PostureReport::fromClaims(claims), field.constData(),
                           message.constData());
    }

    void nonObjectIsRejected()
    {
        QCOMPARE_REJECTION(PostureReport::fromClaims(json::array()), "", "must be a JSON object");
        QCOMPARE_REJECTION(PostureReport::fromClaims(json("claims")), "", "must be a JSON object");
    }

    void toClaimsFloorsTimes()
    {
        PostureReport report = PostureReport::fromClaims(fixture("posture-report-claims"));
        report.iat += std::chrono::milliseconds(999);
        report.exp += std::chrono::milliseconds(1);
        QCOMPARE(report.toClaims(), fixture("posture-report-claims"));
    }

    void randomJtis()
    {
        const std::string a = randomJti();
        const std::string b = randomJti();
        QCOMPARE(a.size(), std::size_t(22));
        QCOMPARE(base64UrlDecode(a)->size(), std::size_t(16));
        QVERIFY(a != b);
    }

    // Our own parse and verify: header members, claims as written.
    void signedReportVerifies()
    {
        const auto key = newKey("device.pem");
        const PostureReport report = reportFor(*key);
        const std::string deviceId = "8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764";
        const std::string compact = signPostureReport(report, deviceId, *key);
        QVERIFY(compact.size() <= limits::maxReport);
        const Jws jws = parseJws(compact, limits::maxReport);
        QVERIFY(verifyJws(jws, key->publicKey()));
        QCOMPARE(jws.header, json({{"alg", "ES256"}, {"typ", "eat+jwt"}, {"kid", deviceId}}));
        const PostureReport parsed = PostureReport::fromClaims(json::parse(jws.payload));
        QCOMPARE(parsed.toClaims(), report.toClaims());
        QVERIFY(!verifyJws(jws, newKey("other.pem")->publicKey()));
    }

    // Independent implementation: jwcrypto verifies the EAT with the public JWK alone, and the
    // claims are what the contract says.
    void signedReportVerifiesInJwcrypto()
    {
        const auto key = newKey("jwcrypto.pem");
        PostureReport report = reportFor(*key);
        report.jti = randomJti();
        const std::string deviceId = "8d3b1f4a-6c2e-4e7b-a1f0-93c5d2e8b764";
        const json input = {{"token", signPostureReport(report, deviceId, *key)},
                            {"jwk", key->publicJwk()}};
        QByteArray output;
        QByteArray error;
        QVERIFY2(
            runPython(jwcryptoCheckEat, QByteArray::fromStdString(input.dump()), output, error),
            error.constData());
        const json result = json::parse(output.toStdString());
        QCOMPARE(result["header"], json({{"alg", "ES256"}, {"typ", "eat+jwt"}, {"kid", deviceId}}));
        const json &claims = result["claims"];
        QCOMPARE(claims, report.toClaims());
        QCOMPARE(claims["eat_profile"], json("tag:vigil.dev,2026:posture-report/v1"));
        QCOMPARE(claims["swname"], json("vigil"));
        QCOMPARE(claims["swversion"], json::array({"0.1.0", 16384}));
        QCOMPARE(claims["posture"]["schema_version"], json(1));
        QCOMPARE(claims["submods"]["tpm"]["pcrs"].size(), std::size_t(8));
        QCOMPARE(result["nonce_length"], json(43));
        QCOMPARE(result["lifetime"], json(300));
        QCOMPARE(result["ueid_length"], json(33));
        QCOMPARE(result["ueid_type"], json(1));
        QCOMPARE(result["ueid_is_thumbprint"], json(true));
    }

    void signRefusesAnotherKeysUeid()
    {
        const auto key = newKey("refuse.pem");
        const auto other = newKey("refuse-other.pem");
        const PostureReport report = reportFor(*other);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, signPostureReport(report, "d", *key));
    }

    // A device never sends what the verifier must refuse for its form.
    void signRefusesMalformedReports()
    {
        const auto key = newKey("malformed.pem");
        PostureReport report = reportFor(*key);
        report.nonce = "short";
        QCOMPARE_REJECTION(signPostureReport(report, "d", *key), "/eat_nonce",
                           "/eat_nonce: shorter than 10 bytes");
        report = reportFor(*key);
        report.exp = report.iat + std::chrono::seconds(601);
        QCOMPARE_REJECTION(signPostureReport(report, "d", *key), "/exp",
                           "/exp: must be 1 to 600 seconds after iat");
        report = reportFor(*key);
        report.posture = json::object();
        QCOMPARE_REJECTION(signPostureReport(report, "d", *key), "/posture/schema_version",
                           "/posture/schema_version: missing");
    }
};

QTEST_APPLESS_MAIN(TestPostureReport)
#include "tst_posturereport.moc"

#include "independentpython.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"
#include "protocol/jose/jws.h"
#include "protocol/jose/softwaredevicekey.h"
#include "protocoltesthelpers.h"
#include "testprinters.h"

#include <QTemporaryDir>
#include <QTest>
#include <memory>

using namespace vigil;
using namespace vigil::protocol;
using vigil::protocol::test::enc;
using vigil::protocol::test::split;
using vigil::test::runPython;
using vigil::test::thrownMessage;

namespace {

// RFC 7515 appendix A.3: the ES256 example and its key.
constexpr char rfc7515A3[] =
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
constexpr char rfc7515A3Payload[] =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

EcPublicKey rfc7515A3Key()
{
    return EcPublicKey{*base64UrlDecode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"),
                       *base64UrlDecode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0")};
}

// Verifies a compact JWS with jwcrypto and prints its protected header and payload.
constexpr char jwcryptoVerify[] = R"PY(
import json, sys
from jwcrypto import jwk, jws
data = json.loads(sys.stdin.read())
token = jws.JWS()
token.deserialize(data['token'])
token.verify(jwk.JWK(**data['jwk']), alg='ES256')
print(json.dumps({'header': token.jose_header, 'payload': token.payload.decode('utf-8')}))
)PY";

// Signs argv[1] with a fresh jwcrypto P-256 key; prints the public JWK and the compact JWS.
constexpr char jwcryptoSign[] = R"PY(
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
key = jwk.JWK.generate(kty='EC', crv='P-256')
token = jws.JWS(sys.argv[1].encode('utf-8'))
token.add_signature(key, None, json_encode({'alg': 'ES256', 'typ': 'JOSE', 'kid': 'py'}))
print(json.dumps({'jwk': key.export_public(as_dict=True), 'token': token.serialize(compact=True)}))
)PY";

} // namespace

class TestJws : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<SoftwareDeviceKey> m_key;
    std::unique_ptr<SoftwareDeviceKey> m_otherKey;
    std::string m_token; // {"alg":"ES256","kid":"k1","typ":"JWT"} . {"sub":"device"}

    std::string withHeader(const std::string &headerJson) const
    {
        const auto parts = split(m_token);
        return enc(headerJson) + "." + parts[1] + "." + parts[2];
    }

    std::string withSignature(std::span<const std::uint8_t> signature) const
    {
        const auto parts = split(m_token);
        return parts[0] + "." + parts[1] + "." + base64UrlEncode(signature);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_key =
            SoftwareDeviceKey::create(m_dir.filePath(QStringLiteral("device.pem")).toStdString());
        m_otherKey =
            SoftwareDeviceKey::create(m_dir.filePath(QStringLiteral("other.pem")).toStdString());
        m_token = signJws({{"typ", "JWT"}, {"kid", "k1"}}, R"({"sub":"device"})", *m_key);
    }

    void signedTokenParsesAndVerifies()
    {
        const auto parts = split(m_token);
        QCOMPARE(parts.size(), std::size_t(3));
        QCOMPARE(base64UrlDecode(parts[0]).value(),
                 toBytes(R"({"alg":"ES256","kid":"k1","typ":"JWT"})"));
        const Jws jws = parseJws(m_token);
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"}, {"kid", "k1"}, {"typ", "JWT"}}));
        QCOMPARE(jws.payload, std::string(R"({"sub":"device"})"));
        QCOMPARE(jws.signingInput, parts[0] + "." + parts[1]);
        QCOMPARE(jws.signature.size(), std::size_t(64));
        QVERIFY(verifyJws(jws, m_key->publicKey()));
    }

    void signJwsForcesEs256()
    {
        const Jws jws = parseJws(signJws({{"alg", "HS256"}}, "x", *m_key));
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"}}));
        QVERIFY(verifyJws(jws, m_key->publicKey()));
    }

    void emptyPayloadRoundTrips()
    {
        const std::string token = signJws(nlohmann::json::object(), "", *m_key);
        QVERIFY(token.find("..") != std::string::npos);
        const Jws jws = parseJws(token);
        QCOMPARE(jws.payload, std::string());
        QVERIFY(verifyJws(jws, m_key->publicKey()));
    }

    void signJwsRefusesBadHeaders()
    {
        QCOMPARE(thrownMessage<JoseError>([&] { signJws(nlohmann::json::array(), "x", *m_key); }),
                 QByteArray("JWS header is not a JSON object"));
        QCOMPARE(thrownMessage<JoseError>([&] {
                     signJws({{"crit", {"exp"}}, {"exp", 1}}, "x", *m_key);
                 }),
                 QByteArray("JWS header has \"crit\"; no JWS extension is understood"));
        QCOMPARE(thrownMessage<JoseError>([&] {
                     signJws({{"kid", "\xff"}}, "x", *m_key);
                 }),
                 QByteArray("JWS header is not valid UTF-8 JSON"));
    }

    // RFC 7515 appendix A.3 (a high-S signature, which JOSE does not forbid).
    void rfc7515AppendixA3Verifies()
    {
        const Jws jws = parseJws(rfc7515A3);
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"}}));
        QCOMPARE(jws.payload, std::string(rfc7515A3Payload));
        QVERIFY(verifyJws(jws, rfc7515A3Key()));
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
        Jws tampered = jws;
        tampered.signingInput.back() ^= 1;
        QVERIFY(!verifyJws(tampered, rfc7515A3Key()));
    }

    void malformedIsRefused_data()
    {
        QTest::addColumn<QByteArray>("compact");
        QTest::addColumn<QByteArray>("message");
        const auto parts = split(m_token);
        const std::string &h = parts[0];
        const std::string &p = parts[1];
        const std::string &s = parts[2];
        auto row = [](const char *name, const std::string &compact, const char *message) {
            QTest::newRow(name) << QByteArray::fromStdString(compact) << QByteArray(message);
        };
        const char *threeParts = "JWS compact serialisation must have exactly 3 parts separated "
                                 "by '.'";
        row("empty", "", threeParts);
        row("2 parts", h + "." + p, threeParts);
        row("4 parts", h + "." + p + "." + s + "." + s, threeParts);
        row("4 parts, empty last", m_token + ".", threeParts);

        // The algorithm is refused from the header alone, before the signature is looked at.
        row("alg none", enc(R"({"alg":"none"})") + "." + p + ".",
            "JWS algorithm \"none\" is not accepted; only \"ES256\" is");
        // RFC 7515 appendix A.1, an HS256 JWS.
        row("HS256 (RFC 7515 A.1)",
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzOD"
            "AsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-"
            "mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "JWS algorithm \"HS256\" is not accepted; only \"ES256\" is");
        row("HS256 with an ES256-sized signature", withHeader(R"({"alg":"HS256"})"),
            "JWS algorithm \"HS256\" is not accepted; only \"ES256\" is");
        row("RS256", withHeader(R"({"alg":"RS256"})"),
            "JWS algorithm \"RS256\" is not accepted; only \"ES256\" is");
        row("ES384", withHeader(R"({"alg":"ES384"})"),
            "JWS algorithm \"ES384\" is not accepted; only \"ES256\" is");
        row("es256 lower case", withHeader(R"({"alg":"es256"})"),
            "JWS algorithm \"es256\" is not accepted; only \"ES256\" is");
        row("alg unprintable", withHeader(R"({"alg":"ES256\n"})"),
            "JWS algorithm (unprintable) is not accepted; only \"ES256\" is");
        row("alg missing", withHeader(R"({"typ":"JWT"})"), "JWS header has no \"alg\"");
        row("alg not a string", withHeader(R"({"alg":["ES256"]})"),
            "JWS header \"alg\" is not a string");
        row("crit", withHeader(R"({"alg":"ES256","crit":["exp"],"exp":1})"),
            "JWS header has \"crit\"; no JWS extension is understood");
        row("crit empty", withHeader(R"({"alg":"ES256","crit":[]})"),
            "JWS header has \"crit\"; no JWS extension is understood");
        row("typ not a string", withHeader(R"({"alg":"ES256","typ":1})"),
            "JWS header \"typ\" is not a string");
        row("kid not a string", withHeader(R"({"alg":"ES256","kid":null})"),
            "JWS header \"kid\" is not a string");
        row("cty not a string", withHeader(R"({"alg":"ES256","cty":{}})"),
            "JWS header \"cty\" is not a string");

        row("header an array", withHeader(R"(["alg","ES256"])"), "JWS header is not a JSON object");
        row("header a string", withHeader(R"("ES256")"), "JWS header is not a JSON object");
        row("header not JSON", withHeader(R"({"alg":"ES256")"),
            "JWS header is not valid UTF-8 JSON");
        row("header empty", "." + p + "." + s, "JWS header is not valid UTF-8 JSON");
        row("header trailing data", withHeader(R"({"alg":"ES256"}{})"),
            "JWS header is not valid UTF-8 JSON");
        row("header invalid UTF-8", withHeader("{\"alg\":\"ES256\",\"kid\":\"\xc3\x28\"}"),
            "JWS header is not valid UTF-8 JSON");
        row("header with a byte order mark", withHeader("\xEF\xBB\xBF{\"alg\":\"ES256\"}"),
            "JWS header starts with a byte order mark");
        // nlohmann keeps the last duplicate; another parser may keep the first.
        row("duplicate alg", withHeader(R"({"alg":"none","alg":"ES256"})"),
            "JWS header has the member name \"alg\" more than once");
        row("duplicate nested member", withHeader(R"({"alg":"ES256","jwk":{"x":"a","x":"b"}})"),
            "JWS header has the member name \"x\" more than once");
        row("same name in sibling objects is fine but duplicate kid is not",
            withHeader(R"({"alg":"ES256","a":{"k":1},"b":{"k":2},"kid":"1","kid":"1"})"),
            "JWS header has the member name \"kid\" more than once");
        row("nested too deep",
            withHeader(R"({"alg":"ES256","x":)" + std::string(32, '[') + std::string(32, ']') +
                       "}"),
            "JWS header nests deeper than 32 levels");

        row("header padded", h + "=." + p + "." + s, "JWS header is not unpadded base64url");
        row("header standard base64", std::string(1, '+').append(h, 1) + "." + p + "." + s,
            "JWS header is not unpadded base64url");
        row("payload with '+'", h + "." + p + "+." + s, "JWS payload is not unpadded base64url");
        row("payload with whitespace", h + "." + p.substr(0, 4) + " " + p.substr(4) + "." + s,
            "JWS payload is not unpadded base64url");
        row("signature with '/'", h + "." + p + "." + s.substr(1) + "/",
            "JWS signature is not unpadded base64url");
        row("signature padded",
            h + "." + p + "." + s + "==", "JWS signature is not unpadded base64url");
        row("signature empty", h + "." + p + ".",
            "JWS signature is 0 bytes; ES256 needs 64 bytes r||s");
    }

    void malformedIsRefused()
    {
        QFETCH(QByteArray, compact);
        QFETCH(QByteArray, message);
        QCOMPARE(thrownMessage<JoseError>([&] { parseJws(compact.toStdString()); }), message);
    }

    void signatureLengthIsExactly64()
    {
        const Bytes signature = parseJws(m_token).signature;
        for (std::size_t size : {63u, 65u, 32u, 128u}) {
            Bytes resized = signature;
            resized.resize(size, 0x01);
            QCOMPARE(thrownMessage<JoseError>([&] { parseJws(withSignature(resized)); }),
                     QByteArray::fromStdString("JWS signature is " + std::to_string(size) +
                                               " bytes; ES256 needs 64 bytes r||s"));
        }
    }

    // An ASN.1 DER ECDSA-Sig-Value is what OpenSSL produces; JOSE needs raw r||s.
    void derSignatureIsRefused()
    {
        const Bytes der = ecdsaRawToDer(parseJws(m_token).signature);
        QVERIFY(der.size() != 64);
        QCOMPARE(thrownMessage<JoseError>([&] { parseJws(withSignature(der)); }),
                 QByteArray::fromStdString("JWS signature is " + std::to_string(der.size()) +
                                           " bytes; ES256 needs 64 bytes r||s"));
    }

    void oversizeIsRefused()
    {
        QCOMPARE(thrownMessage<JoseError>([&] { parseJws(m_token, m_token.size() - 1); }),
                 QByteArray::fromStdString("JWS is " + std::to_string(m_token.size()) +
                                           " bytes; the limit is " +
                                           std::to_string(m_token.size() - 1)));
        QVERIFY(verifyJws(parseJws(m_token, m_token.size()), m_key->publicKey()));
        const std::string big = signJws({{"typ", "JWT"}}, std::string(50 * 1024, 'a'), *m_key);
        QVERIFY(big.size() > 64 * 1024);
        QCOMPARE(thrownMessage<JoseError>([&] { parseJws(big); }),
                 QByteArray::fromStdString("JWS is " + std::to_string(big.size()) +
                                           " bytes; the limit is 65536"));
    }

    void tamperingFailsVerification()
    {
        const auto parts = split(m_token);
        // Payload swapped, header and signature kept.
        const Jws payload = parseJws(parts[0] + "." + enc(R"({"sub":"admin"})") + "." + parts[2]);
        QVERIFY(!verifyJws(payload, m_key->publicKey()));
        // Header changed (another kid), payload and signature kept.
        const Jws header = parseJws(withHeader(R"({"alg":"ES256","kid":"k2","typ":"JWT"})"));
        QVERIFY(!verifyJws(header, m_key->publicKey()));
        // Same header meaning, different bytes: the signature covers the encoded bytes.
        const Jws reordered = parseJws(withHeader(R"({"typ":"JWT","kid":"k1","alg":"ES256"})"));
        QCOMPARE(reordered.header, parseJws(m_token).header);
        QVERIFY(!verifyJws(reordered, m_key->publicKey()));
        // Every bit of the signature matters.
        const Jws good = parseJws(m_token);
        for (std::size_t i = 0; i < good.signature.size(); i += 7) {
            Jws flipped = good;
            flipped.signature[i] ^= 0x80;
            QVERIFY2(!verifyJws(flipped, m_key->publicKey()), std::to_string(i).c_str());
        }
        // r = 0 and s = 0 are out of range, not a crash.
        QVERIFY(!verifyJws(parseJws(withSignature(Bytes(64, 0))), m_key->publicKey()));
    }

    void wrongKeyFailsVerification()
    {
        QVERIFY(!verifyJws(parseJws(m_token), m_otherKey->publicKey()));
        QVERIFY(!verifyJws(parseJws(m_token), rfc7515A3Key()));
    }

    // A Jws built by hand (not by parseJws) still cannot pass with another algorithm.
    void verifyChecksAlgorithmOfHandMadeJws()
    {
        Jws jws = parseJws(m_token);
        QVERIFY(verifyJws(jws, m_key->publicKey()));
        jws.header["alg"] = "none";
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
        jws.header.erase("alg");
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
        jws = parseJws(m_token);
        jws.header["crit"] = nlohmann::json::array();
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
        jws = parseJws(m_token);
        jws.signature.pop_back();
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
    }

    void parseJsonObjectIsStrict()
    {
        QCOMPARE(parseJsonObject(R"({"a":[{"b":1},{"b":2}]})", "X"),
                 nlohmann::json::parse(R"({"a":[{"b":1},{"b":2}]})"));
        // Every kind of value, in objects and arrays at several depths, comes out as
        // nlohmann's own parser builds it.
        const std::string everything =
            "{\"n\":null,\"t\":true,\"f\":false,\"i\":-42,\"u\":18446744073709551615,"
            "\"d\":-1.5e-3,\"s\":\"caf\\u00e9 \\\"q\\\" \\ud83d\\ude00\",\"e\":{},\"ea\":[],"
            "\"nest\":[[1,[2,{\"x\":[3,{\"y\":\"z\"}]}]],{\"k\":[{}]}],\"last\":\"v\"}";
        QCOMPARE(parseJsonObject(everything, "X"), nlohmann::json::parse(everything));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject(R"({"a":1,"a":1})", "X"); }),
                 QByteArray("X has the member name \"a\" more than once"));
        QCOMPARE(thrownMessage<JoseError>(
                     [] { parseJsonObject(R"({"a":[{"b":1},{"c":1,"c":2}]})", "X"); }),
                 QByteArray("X has the member name \"c\" more than once"));
        // The same name in two different objects is no duplicate.
        QCOMPARE(parseJsonObject(R"({"a":{"a":{"a":1}}})", "X")["a"]["a"]["a"], 1);
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject("{} x", "X"); }),
                 QByteArray("X is not valid UTF-8 JSON"));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject("{\"a\":\"\xff\"}", "X"); }),
                 QByteArray("X is not valid UTF-8 JSON"));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject("\xEF\xBB\xBF{}", "X"); }),
                 QByteArray("X starts with a byte order mark"));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject(R"({"a":{"b":1,"b":1}})", "X"); }),
                 QByteArray("X has the member name \"b\" more than once"));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject("[]", "X"); }),
                 QByteArray("X is not a JSON object"));
        QCOMPARE(thrownMessage<JoseError>([] { parseJsonObject("", "X"); }),
                 QByteArray("X is not valid UTF-8 JSON"));
        const std::string deepest =
            std::string(31, '[') + std::string(31, ']'); // 32 levels with the object
        QCOMPARE(parseJsonObject("{\"a\":" + deepest + "}", "X").size(), std::size_t(1));
        QCOMPARE(thrownMessage<JoseError>(
                     [] { parseJsonObject("{\"a\":" + std::string(100000, '[') + "}", "X"); }),
                 QByteArray("X nests deeper than 32 levels"));
    }

    // Independent implementation: our JWS verifies in jwcrypto with the public JWK alone.
    void ourJwsVerifiesInJwcrypto()
    {
        const std::string payload = "caf\xc3\xa9 \r\n {\"x\":1}";
        const std::string token = signJws({{"typ", "JOSE"}, {"kid", "device-1"}}, payload, *m_key);
        const nlohmann::json input{{"token", token}, {"jwk", m_key->publicJwk()}};
        QByteArray output, error;
        QVERIFY2(runPython(jwcryptoVerify, QByteArray::fromStdString(input.dump()), output, error),
                 error.constData());
        const auto result = nlohmann::json::parse(output.toStdString());
        QCOMPARE(result["header"],
                 nlohmann::json({{"alg", "ES256"}, {"typ", "JOSE"}, {"kid", "device-1"}}));
        QCOMPARE(result["payload"].get<std::string>(), payload);

        // jwcrypto refuses it with another key: the check above is not vacuous.
        const nlohmann::json wrong{{"token", token}, {"jwk", m_otherKey->publicJwk()}};
        QVERIFY(!runPython(jwcryptoVerify, QByteArray::fromStdString(wrong.dump()), output, error));
    }

    // Independent implementation: a JWS signed by jwcrypto with its own key verifies here.
    void jwcryptoJwsVerifiesHere()
    {
        QByteArray output, error;
        QVERIFY2(
            runPython(jwcryptoSign, {QStringLiteral("hello from jwcrypto")}, {}, output, error),
            error.constData());
        const auto result = nlohmann::json::parse(output.toStdString());
        const EcPublicKey key = parseEcPublicJwk(result["jwk"]);
        const Jws jws = parseJws(result["token"].get<std::string>());
        QCOMPARE(jws.header, nlohmann::json({{"alg", "ES256"}, {"typ", "JOSE"}, {"kid", "py"}}));
        QCOMPARE(jws.payload, std::string("hello from jwcrypto"));
        QVERIFY(verifyJws(jws, key));
        QVERIFY(!verifyJws(jws, m_key->publicKey()));
    }
};

QTEST_APPLESS_MAIN(TestJws)
#include "tst_jws.moc"

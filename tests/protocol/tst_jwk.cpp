#include "independentpython.h"
#include "protocol/jose/jwk.h"

#include <QTest>
#include <openssl/evp.h>

using namespace vigil;
using namespace vigil::protocol;
using vigil::test::runPython;
using vigil::test::thrownMessage;

namespace {

EvpPkeyPtr generate(const char *curve)
{
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}

EcPublicKey generateP256()
{
    const EvpPkeyPtr key = generate("P-256");
    return fromEvpPkey(key.get());
}

// RFC 7517 appendix A.1, the EC key.
constexpr char rfc7517X[] = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
constexpr char rfc7517Y[] = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";
// RFC 7515 appendix A.3, the ES256 example key.
constexpr char rfc7515X[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr char rfc7515Y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

EcPublicKey keyFrom(const char *x, const char *y)
{
    return EcPublicKey{*base64UrlDecode(x), *base64UrlDecode(y)};
}

} // namespace

class TestJwk : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // Thumbprints computed once with jwcrypto 1.1.0 (Debian 12 python3-jwcrypto):
    //   jwcrypto.jwk.JWK(kty="EC", crv="P-256", x=…, y=…).thumbprint()
    void thumbprintKnownAnswers_data()
    {
        QTest::addColumn<QByteArray>("x");
        QTest::addColumn<QByteArray>("y");
        QTest::addColumn<QByteArray>("thumbprint");
        QTest::newRow("RFC 7517 A.1") << QByteArray(rfc7517X) << QByteArray(rfc7517Y)
                                      << QByteArray("cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
        QTest::newRow("RFC 7515 A.3") << QByteArray(rfc7515X) << QByteArray(rfc7515Y)
                                      << QByteArray("oKIywvGUpTVTyxMQ3bwIIeQUudfr_CkLMjCE19ECD-U");
    }

    void thumbprintKnownAnswers()
    {
        QFETCH(QByteArray, x);
        QFETCH(QByteArray, y);
        QFETCH(QByteArray, thumbprint);
        const EcPublicKey key = keyFrom(x.constData(), y.constData());
        QCOMPARE(QByteArray::fromStdString(jwkThumbprint(key)), thumbprint);
    }

    void publicJwkIsExactlyTheRequiredMembers()
    {
        const EcPublicKey key = keyFrom(rfc7515X, rfc7515Y);
        QCOMPARE(QByteArray::fromStdString(ecPublicJwk(key).dump()),
                 QByteArray("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"") + rfc7515X +
                     "\",\"y\":\"" + rfc7515Y + "\"}");
    }

    // Fresh keys, and keys with a leading zero byte in a coordinate (which must stay 32 bytes in
    // the JWK), against jwcrypto's own thumbprint of the same x and y.
    void thumbprintMatchesJwcrypto()
    {
        std::vector<EcPublicKey> keys;
        for (int i = 0; i < 4; ++i)
            keys.push_back(generateP256());
        bool leadingZeroX = false;
        bool leadingZeroY = false;
        for (int i = 0; i < 20000 && !(leadingZeroX && leadingZeroY); ++i) {
            EcPublicKey key = generateP256();
            if (key.x[0] == 0 && !leadingZeroX) {
                leadingZeroX = true;
                keys.push_back(key);
            } else if (key.y[0] == 0 && !leadingZeroY) {
                leadingZeroY = true;
                keys.push_back(key);
            }
        }
        QVERIFY(leadingZeroX && leadingZeroY);

        QByteArray input;
        for (const EcPublicKey &key : keys)
            input += QByteArray::fromStdString(base64UrlEncode(key.x) + " " +
                                               base64UrlEncode(key.y) + "\n");
        const char *script = R"(
import sys
from jwcrypto import jwk
for line in sys.stdin:
    x, y = line.split()
    print(jwk.JWK(kty="EC", crv="P-256", x=x, y=y).thumbprint())
)";
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script, input, output, error), error.constData());
        const QList<QByteArray> lines = output.trimmed().split('\n');
        QCOMPARE(lines.size(), qsizetype(keys.size()));
        for (std::size_t i = 0; i < keys.size(); ++i)
            QCOMPARE(QByteArray::fromStdString(jwkThumbprint(keys[i])), lines[int(i)]);
    }

    void parseAcceptsPublicJwks_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("RFC 7517 A.1 with use and kid")
            << QByteArray("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"") + rfc7517X + "\",\"y\":\"" +
                   rfc7517Y + "\",\"use\":\"enc\",\"kid\":\"1\"}";
        QTest::newRow("whitespace and other order")
            << QByteArray("{\n  \"y\" : \"") + rfc7517Y + "\",\n\t\"x\": \"" + rfc7517X +
                   "\" , \"crv\":\"P-256\",  \"kty\" :\"EC\"\n}\n";
    }

    void parseAcceptsPublicJwks()
    {
        QFETCH(QByteArray, json);
        const EcPublicKey key = parseEcPublicJwk(std::string_view(json.constData(), json.size()));
        QVERIFY(key.x == *base64UrlDecode(rfc7517X));
        QVERIFY(key.y == *base64UrlDecode(rfc7517Y));
    }

    void parseRejects_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QByteArray>("message");
        const QByteArray x(rfc7517X);
        const QByteArray y(rfc7517Y);
        const auto jwk = [](const QByteArray &members) { return "{" + members + "}"; };
        const QByteArray kc = "\"kty\":\"EC\",\"crv\":\"P-256\",";
        // y of RFC 7517 A.1 with its last character changed: 32 bytes, but not on the curve.
        QByteArray offCurveY = y;
        offCurveY[offCurveY.size() - 1] = 'Q';

        QTest::newRow("not JSON") << QByteArray("{\"kty\":") << QByteArray("JWK is not valid JSON");
        QTest::newRow("array") << QByteArray("[]") << QByteArray("JWK is not a JSON object");
        QTest::newRow("string") << QByteArray("\"EC\"") << QByteArray("JWK is not a JSON object");
        QTest::newRow("no kty") << jwk("\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"")
                                << QByteArray("JWK has no \"kty\" string member");
        QTest::newRow("kty number")
            << jwk("\"kty\":1,\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK has no \"kty\" string member");
        QTest::newRow("kty RSA") << jwk("\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"")
                                 << QByteArray("JWK key type (\"kty\") is not \"EC\"");
        QTest::newRow("kty lower case")
            << jwk("\"kty\":\"ec\",\"crv\":\"P-256\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK key type (\"kty\") is not \"EC\"");
        QTest::newRow("no crv") << jwk("\"kty\":\"EC\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"")
                                << QByteArray("JWK has no \"crv\" string member");
        QTest::newRow("crv P-384")
            << jwk("\"kty\":\"EC\",\"crv\":\"P-384\",\"x\":\"" + x + "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK curve (\"crv\") is not \"P-256\"");
        QTest::newRow("private d")
            << jwk(kc + "\"x\":\"" + x + "\",\"y\":\"" + y +
                   "\",\"d\":\"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE\"")
            << QByteArray("JWK contains the private key member \"d\"; a public JWK must not");
        QTest::newRow("d null")
            << jwk(kc + "\"x\":\"" + x + "\",\"y\":\"" + y + "\",\"d\":null")
            << QByteArray("JWK contains the private key member \"d\"; a public JWK must not");
        QTest::newRow("no x") << jwk(kc + "\"y\":\"" + y + "\"")
                              << QByteArray("JWK has no \"x\" string member");
        QTest::newRow("x number") << jwk(kc + "\"x\":5,\"y\":\"" + y + "\"")
                                  << QByteArray("JWK has no \"x\" string member");
        QTest::newRow("x padded") << jwk(kc + "\"x\":\"" + x + "=\",\"y\":\"" + y + "\"")
                                  << QByteArray("JWK \"x\" is not unpadded base64url");
        QTest::newRow("x standard alphabet")
            << jwk(kc + "\"x\":\"+/" + x.mid(2) + "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK \"x\" is not unpadded base64url");
        QTest::newRow("x 31 bytes")
            << jwk(kc + "\"x\":\"" + QByteArray::fromStdString(base64UrlEncode(Bytes(31, 1))) +
                   "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK \"x\" decodes to 31 bytes; P-256 needs 32");
        QTest::newRow("x 33 bytes with a zero byte in front")
            << jwk(kc + "\"x\":\"" + QByteArray::fromStdString(base64UrlEncode(Bytes(33, 0))) +
                   "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK \"x\" decodes to 33 bytes; P-256 needs 32");
        QTest::newRow("no y") << jwk(kc + "\"x\":\"" + x + "\"")
                              << QByteArray("JWK has no \"y\" string member");
        QTest::newRow("y empty") << jwk(kc + "\"x\":\"" + x + "\",\"y\":\"\"")
                                 << QByteArray("JWK \"y\" decodes to 0 bytes; P-256 needs 32");
        QTest::newRow("not on the curve")
            << jwk(kc + "\"x\":\"" + x + "\",\"y\":\"" + offCurveY + "\"")
            << QByteArray("JWK \"x\" and \"y\" are not a point on P-256");
        QTest::newRow("x and y zero")
            << jwk(kc + "\"x\":\"" + QByteArray::fromStdString(base64UrlEncode(Bytes(32, 0))) +
                   "\",\"y\":\"" + QByteArray::fromStdString(base64UrlEncode(Bytes(32, 0))) + "\"")
            << QByteArray("JWK \"x\" and \"y\" are not a point on P-256");
        QTest::newRow("x is the field prime")
            << jwk(kc + "\"x\":\"" +
                   QByteArray::fromStdString(base64UrlEncode(*fromHex(
                       "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"))) +
                   "\",\"y\":\"" + y + "\"")
            << QByteArray("JWK \"x\" and \"y\" are not a point on P-256");
    }

    void parseRejects()
    {
        QFETCH(QByteArray, json);
        QFETCH(QByteArray, message);
        QCOMPARE(thrownMessage<JwkError>(
                     [&] { parseEcPublicJwk(std::string_view(json.constData(), json.size())); }),
                 message);
    }

    void parseOwnOutput()
    {
        const EcPublicKey key = generateP256();
        const EcPublicKey parsed = parseEcPublicJwk(ecPublicJwk(key));
        QVERIFY(parsed.x == key.x);
        QVERIFY(parsed.y == key.y);
    }

    void evpRoundTrip()
    {
        const EvpPkeyPtr generated = generate("P-256");
        const EcPublicKey key = fromEvpPkey(generated.get());
        QCOMPARE(key.x.size(), std::size_t(32));
        QCOMPARE(key.y.size(), std::size_t(32));
        const EvpPkeyPtr imported = toEvpPkey(key);
        QCOMPARE(EVP_PKEY_eq(imported.get(), generated.get()), 1);
        const EcPublicKey again = fromEvpPkey(imported.get());
        QVERIFY(again.x == key.x && again.y == key.y);
    }

    void fromEvpRejectsOtherKeys()
    {
        const EvpPkeyPtr p384 = generate("P-384");
        QCOMPARE(thrownMessage<KeyError>([&] { fromEvpPkey(p384.get()); }),
                 QByteArray("EC key is on curve secp384r1, expected P-256 (prime256v1)"));
        const EvpPkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
        QVERIFY(ed25519);
        QCOMPARE(thrownMessage<KeyError>([&] { fromEvpPkey(ed25519.get()); }),
                 QByteArray("key is not an EC key"));
        QCOMPARE(thrownMessage<KeyError>([&] { fromEvpPkey(nullptr); }),
                 QByteArray("key is not an EC key"));
    }

    void toEvpRejectsBadPoints()
    {
        EcPublicKey offCurve = keyFrom(rfc7517X, rfc7517Y);
        offCurve.y[31] ^= 1;
        QCOMPARE(thrownMessage<KeyError>([&] { toEvpPkey(offCurve); }),
                 QByteArray("EC public key is not a point on P-256"));
        EcPublicKey shortX = keyFrom(rfc7517X, rfc7517Y);
        shortX.x.erase(shortX.x.begin());
        QCOMPARE(
            thrownMessage<KeyError>([&] { toEvpPkey(shortX); }),
            QByteArray("EC P-256 public key coordinates must be 32 bytes each (got 31 and 32)"));
        QCOMPARE(
            thrownMessage<KeyError>([&] { jwkThumbprint(shortX); }),
            QByteArray("EC P-256 public key coordinates must be 32 bytes each (got 31 and 32)"));
        QCOMPARE(
            thrownMessage<KeyError>([&] { ecPublicJwk(shortX); }),
            QByteArray("EC P-256 public key coordinates must be 32 bytes each (got 31 and 32)"));
    }
};

QTEST_APPLESS_MAIN(TestJwk)
#include "tst_jwk.moc"

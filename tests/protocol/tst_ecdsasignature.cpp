#include "independentpython.h"
#include "protocol/jose/ecdsasignature.h"
#include "protocol/jose/jwk.h"

#include <QTest>
#include <openssl/rand.h>

using namespace vigil;
using namespace vigil::protocol;
using vigil::test::runPython;
using vigil::test::thrownMessage;

namespace {

Bytes hex(const char *text)
{
    return *fromHex(text);
}

QByteArray hexOf(const Bytes &bytes)
{
    return QByteArray::fromStdString(toHex(bytes));
}

// The P-256 group order n and friends, big-endian hex.
constexpr char order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
constexpr char orderMinusOne[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550";
constexpr char one[] = "0000000000000000000000000000000000000000000000000000000000000001";
constexpr char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char low[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr char high[] = "8123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
// 31 significant bytes: one zero byte of padding in the raw form.
constexpr char short31[] = "00723456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";
// 30 significant bytes with a high bit: two zero bytes of padding, a sign byte in DER.
constexpr char short30High[] = "0000923456789abcdef0123456789abcdef0123456789abcdef0123456789abc";

Bytes digestOf(const char *text)
{
    Bytes digest(32);
    unsigned int size = 0;
    EVP_Digest(text, std::strlen(text), digest.data(), &size, EVP_sha256(), nullptr);
    return digest;
}

} // namespace

class TestEcdsaSignature : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // DER built by hand from X.690: SEQUENCE { INTEGER r, INTEGER s }, minimal two's complement.
    void conversions_data()
    {
        QTest::addColumn<QByteArray>("der");
        QTest::addColumn<QByteArray>("raw");
        QTest::newRow("32-byte r and s")
            << QByteArray("30440220") + low + "0220" + low << QByteArray(low) + low;
        QTest::newRow("33-byte integers with sign byte")
            << QByteArray("304602210") + "0" + high + "022100" + high << QByteArray(high) + high;
        QTest::newRow("short r padded")
            << QByteArray("3043021f") + QByteArray(short31).mid(2) + "0220" + low
            << QByteArray(short31) + low;
        QTest::newRow("short s with sign byte padded")
            << QByteArray("30430220") + low + "021f00" + QByteArray(short30High).mid(4)
            << QByteArray(low) + short30High;
        QTest::newRow("r = 1, s = 1") << QByteArray("3006020101020101") << QByteArray(one) + one;
        QTest::newRow("r = s = n - 1")
            << QByteArray("3046022100") + orderMinusOne + "022100" + orderMinusOne
            << QByteArray(orderMinusOne) + orderMinusOne;
    }

    void conversions()
    {
        QFETCH(QByteArray, der);
        QFETCH(QByteArray, raw);
        const Bytes derBytes = hex(der.constData());
        const Bytes rawBytes = hex(raw.constData());
        QCOMPARE(hexOf(ecdsaDerToRaw(derBytes)), raw);
        QCOMPARE(hexOf(ecdsaRawToDer(rawBytes)), der);
    }

    void derRejects_data()
    {
        QTest::addColumn<QByteArray>("der");
        QTest::addColumn<QByteArray>("message");
        const QByteArray s = QByteArray("0220") + low;
        QTest::newRow("empty") << QByteArray() << QByteArray("ECDSA signature DER is truncated");
        QTest::newRow("tag only") << QByteArray("30")
                                  << QByteArray("ECDSA signature DER is truncated");
        QTest::newRow("not a SEQUENCE") << QByteArray("3106020101020101")
                                        << QByteArray("ECDSA signature DER is not a SEQUENCE");
        QTest::newRow("long-form length")
            << QByteArray("308106020101020101")
            << QByteArray("ECDSA signature DER uses a long-form length");
        QTest::newRow("sequence truncated")
            << QByteArray("30070201010201") << QByteArray("ECDSA signature DER is truncated");
        QTest::newRow("trailing bytes") << QByteArray("300602010102010100")
                                        << QByteArray("ECDSA signature DER has trailing bytes");
        QTest::newRow("r not an INTEGER") << QByteArray("3006040101020101")
                                          << QByteArray("ECDSA signature DER: r is not an INTEGER");
        QTest::newRow("r empty") << QByteArray("30050200020101")
                                 << QByteArray("ECDSA signature DER: r is empty");
        QTest::newRow("r long-form length")
            << QByteArray("300702810101020101")
            << QByteArray("ECDSA signature DER: r uses a long-form length");
        QTest::newRow("r past the sequence")
            << QByteArray("3003020201") << QByteArray("ECDSA signature DER: r is truncated");
        QTest::newRow("r negative")
            << QByteArray("3006020181020101") << QByteArray("ECDSA signature DER: r is negative");
        QTest::newRow("r negative 32 bytes") << QByteArray("30440220") + high + s
                                             << QByteArray("ECDSA signature DER: r is negative");
        QTest::newRow("r leading zero not needed")
            << QByteArray("300702020001020101")
            << QByteArray("ECDSA signature DER: r is not minimally encoded");
        QTest::newRow("r 33 bytes without sign need")
            << QByteArray("3045022100") + low + s
            << QByteArray("ECDSA signature DER: r is not minimally encoded");
        QTest::newRow("r 33 significant bytes")
            << QByteArray("3045022101") + low + s
            << QByteArray("ECDSA signature DER: r is longer than 32 bytes");
        QTest::newRow("r 34 bytes with sign byte")
            << QByteArray("3046022200ff") + high + "0220" + low
            << QByteArray("ECDSA signature DER: r is longer than 32 bytes");
        QTest::newRow("s missing")
            << QByteArray("3003020101") << QByteArray("ECDSA signature DER: s is truncated");
        QTest::newRow("s negative")
            << QByteArray("3006020101020180") << QByteArray("ECDSA signature DER: s is negative");
        QTest::newRow("a third INTEGER") << QByteArray("3009020101020101020101")
                                         << QByteArray("ECDSA signature DER has bytes after s");
        QTest::newRow("r zero") << QByteArray("3006020100020101")
                                << QByteArray("ECDSA signature r is zero");
        QTest::newRow("s zero") << QByteArray("3006020101020100")
                                << QByteArray("ECDSA signature s is zero");
        QTest::newRow("r = n") << QByteArray("3046022100") + order + "022100" + orderMinusOne
                               << QByteArray(
                                      "ECDSA signature r is not less than the P-256 group order");
        QTest::newRow("s = n") << QByteArray("3046022100") + orderMinusOne + "022100" + order
                               << QByteArray(
                                      "ECDSA signature s is not less than the P-256 group order");
        QTest::newRow("s = 2^256 - 1")
            << QByteArray("30450220") + low + "022100" + QByteArray(64, 'f')
            << QByteArray("ECDSA signature s is not less than the P-256 group order");
    }

    void derRejects()
    {
        QFETCH(QByteArray, der);
        QFETCH(QByteArray, message);
        const Bytes bytes = hex(der.constData());
        QCOMPARE(thrownMessage<SignatureError>([&] { ecdsaDerToRaw(bytes); }), message);
    }

    void rawRejects_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("empty") << QByteArray()
                               << QByteArray("ES256 signature is 0 bytes; r||s is 64");
        QTest::newRow("63 bytes") << QByteArray(low) + QByteArray(low).mid(2)
                                  << QByteArray("ES256 signature is 63 bytes; r||s is 64");
        QTest::newRow("65 bytes") << QByteArray(low) + low + "00"
                                  << QByteArray("ES256 signature is 65 bytes; r||s is 64");
        QTest::newRow("DER passed as raw") << QByteArray("30440220") + low + "0220" + low
                                           << QByteArray("ES256 signature is 70 bytes; r||s is 64");
        QTest::newRow("r zero") << QByteArray(zero) + low
                                << QByteArray("ECDSA signature r is zero");
        QTest::newRow("s zero") << QByteArray(low) + zero
                                << QByteArray("ECDSA signature s is zero");
        QTest::newRow("r = n") << QByteArray(order) + low
                               << QByteArray(
                                      "ECDSA signature r is not less than the P-256 group order");
        QTest::newRow("s all ones")
            << QByteArray(low) + QByteArray(64, 'f')
            << QByteArray("ECDSA signature s is not less than the P-256 group "
                          "order");
    }

    void rawRejects()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QByteArray, message);
        const Bytes bytes = hex(raw.constData());
        QCOMPARE(thrownMessage<SignatureError>([&] { ecdsaRawToDer(bytes); }), message);
    }

    // Our DER encoder against python cryptography's encode_dss_signature for random and edge
    // values, and our decoder against its decode_dss_signature.
    void derMatchesPythonCryptography()
    {
        std::vector<Bytes> raws{hex((QByteArray(short31) + short30High).constData()),
                                hex((QByteArray(one) + orderMinusOne).constData()),
                                hex((QByteArray(high) + low).constData())};
        for (int i = 0; i < 20; ++i) {
            Bytes raw(64);
            RAND_bytes(raw.data(), int(raw.size()));
            raw[0] &= 0x7f; // keep r below n
            raw[32] = std::uint8_t(i < 10 ? 0 : raw[32] & 0x7f);
            raws.push_back(raw);
        }
        QByteArray input;
        for (const Bytes &raw : raws)
            input += hexOf(raw) + "\n";
        const char *script = R"(
import sys
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
for line in sys.stdin:
    raw = bytes.fromhex(line.strip())
    r = int.from_bytes(raw[:32], "big")
    s = int.from_bytes(raw[32:], "big")
    print(encode_dss_signature(r, s).hex())
)";
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script, input, output, error), error.constData());
        const QList<QByteArray> lines = output.trimmed().split('\n');
        QCOMPARE(lines.size(), qsizetype(raws.size()));
        for (std::size_t i = 0; i < raws.size(); ++i) {
            QCOMPARE(hexOf(ecdsaRawToDer(raws[i])), lines[qsizetype(i)]);
            QCOMPARE(hexOf(ecdsaDerToRaw(hex(lines[qsizetype(i)].constData()))), hexOf(raws[i]));
        }
    }

    // Signatures made by python cryptography (its own OpenSSL binding, DER converted to r||s in
    // python) verify with verifyEs256; altered ones do not.
    void verifiesPythonSignatures()
    {
        const char *script = R"(
import hashlib
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
key = ec.generate_private_key(ec.SECP256R1())
numbers = key.public_key().public_numbers()
print(numbers.x.to_bytes(32, "big").hex(), numbers.y.to_bytes(32, "big").hex())
for i in range(8):
    digest = hashlib.sha256(b"message %d" % i).digest()
    der = key.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    r, s = utils.decode_dss_signature(der)
    print(digest.hex(), (r.to_bytes(32, "big") + s.to_bytes(32, "big")).hex())
)";
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script, {}, output, error), error.constData());
        const QList<QByteArray> lines = output.trimmed().split('\n');
        QCOMPARE(lines.size(), qsizetype(9));
        const QList<QByteArray> point = lines[0].split(' ');
        const EcPublicKey key{hex(point[0].constData()), hex(point[1].constData())};
        const EcPublicKey otherKey = [] {
            EvpPkeyPtr other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
            return fromEvpPkey(other.get());
        }();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const QList<QByteArray> fields = lines[i].split(' ');
            const Bytes digest = hex(fields[0].constData());
            const Bytes raw = hex(fields[1].constData());
            QVERIFY(verifyEs256(key, digest, raw));
            QVERIFY(!verifyEs256(otherKey, digest, raw));

            Bytes alteredDigest = digest;
            alteredDigest[0] ^= 1;
            QVERIFY(!verifyEs256(key, alteredDigest, raw));
            Bytes alteredR = raw;
            alteredR[31] ^= 1;
            QVERIFY(!verifyEs256(key, digest, alteredR));
            Bytes alteredS = raw;
            alteredS[63] ^= 1;
            QVERIFY(!verifyEs256(key, digest, alteredS));
            // r||s swapped, and the signature as DER: neither is an ES256 signature.
            Bytes swapped(raw.begin() + 32, raw.end());
            swapped.insert(swapped.end(), raw.begin(), raw.begin() + 32);
            QVERIFY(!verifyEs256(key, digest, swapped));
            QVERIFY(!verifyEs256(key, digest, ecdsaRawToDer(raw)));
            QVERIFY(!verifyEs256(key, digest, Bytes(raw.begin(), raw.begin() + 63)));
            Bytes zeroR = raw;
            std::fill(zeroR.begin(), zeroR.begin() + 32, 0);
            QVERIFY(!verifyEs256(key, digest, zeroR));
        }
    }

    void verifyRejectsBadArguments()
    {
        const EvpPkeyPtr generated(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        const EcPublicKey key = fromEvpPkey(generated.get());
        const Bytes digest = digestOf("abc");
        const Bytes raw = hex((QByteArray(low) + low).constData());
        QCOMPARE(thrownMessage<SignatureError>(
                     [&] { verifyEs256(key, Bytes(digest.begin(), digest.end() - 1), raw); }),
                 QByteArray("ES256 digest is 31 bytes; SHA-256 is 32"));
        QCOMPARE(thrownMessage<SignatureError>([&] { verifyEs256(key, Bytes(48, 1), raw); }),
                 QByteArray("ES256 digest is 48 bytes; SHA-256 is 32"));
        EcPublicKey offCurve = key;
        offCurve.y[31] ^= 1;
        QCOMPARE(thrownMessage<KeyError>([&] { verifyEs256(offCurve, digest, raw); }),
                 QByteArray("EC public key is not a point on P-256"));
    }
};

QTEST_APPLESS_MAIN(TestEcdsaSignature)
#include "tst_ecdsasignature.moc"

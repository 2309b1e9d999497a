#include "attestation/tpmkdf.h"

#include <QTest>
#include <openssl/evp.h>
#include <stdexcept>

using namespace vigil;
using namespace vigil::attestation;

namespace {

Bytes hex(std::string_view text)
{
    return fromHex(text).value();
}

Bytes digest(const EVP_MD *md, std::string_view text)
{
    Bytes out(EVP_MD_get_size(md));
    unsigned int length = 0;
    EVP_Digest(text.data(), text.size(), out.data(), &length, md, nullptr);
    return out;
}

} // namespace

// Two independent sources:
//  - the KDFa self-test vector of the TCG TPM 2.0 reference implementation (KdfTestData.h, as
//    shipped in libtpms, which swtpm runs): key 271FA08B…, label "KDFSELFTESTLABEL", contexts
//    CE244F39… and DA504031…, 160 bits, one expected output per hash;
//  - python3-cryptography's KBKDFHMAC (counter mode, rlen=4, llen=4, counter before the fixed
//    data "label || 00 || context") and ConcatKDFHash (otherinfo = label || 00 || U || V), e.g.
//      KBKDFHMAC(algorithm=SHA256(), mode=Mode.CounterMode, length=16, rlen=4, llen=4,
//                location=CounterLocation.BeforeFixed, label=b"STORAGE", context=u + v,
//                fixed=None).derive(key)
//      ConcatKDFHash(algorithm=SHA256(), length=32,
//                    otherinfo=b"IDENTITY\0" + u + v).derive(z)
//    Both agree with the reference vectors above.
class TestTpmKdf : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void kdfaReferenceVector_data()
    {
        QTest::addColumn<int>("hashAlg");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("sha1") << int(TPM2_ALG_SHA1)
                              << QByteArray("55b5a7184aa07423c47dae766c26a2377d7cf851");
        QTest::newRow("sha256") << int(TPM2_ALG_SHA256)
                                << QByteArray("bb0259e1c8ba607e6a2cd704b69a902e9ade84c4");
        QTest::newRow("sha384") << int(TPM2_ALG_SHA384)
                                << QByteArray("1dce70c9113eb2dba47bd9cfc72bf46f45b09312");
        QTest::newRow("sha512") << int(TPM2_ALG_SHA512)
                                << QByteArray("8be2c1b85b78569b9fa759f5857c56d684810fd3");
    }

    void kdfaReferenceVector()
    {
        QFETCH(int, hashAlg);
        QFETCH(QByteArray, expected);
        const Bytes out =
            kdfa(TPM2_ALG_ID(hashAlg), hex("271FA08BBDC5060EC3DFA928FF9B73123A12DA0C"),
                 "KDFSELFTESTLABEL", hex("CE244F395DCA7391"), hex("DA504031DDF12E83"), 160);
        QCOMPARE(QByteArray::fromStdString(toHex(out)), expected);
    }

    // The shapes MakeCredential uses: a 128-bit "STORAGE" key with the object name as contextU,
    // and an "INTEGRITY" key with no context; the 640-bit one spans several HMAC blocks and
    // checks that bits (not the block size) goes into every block.
    void kdfaPython_data()
    {
        QTest::addColumn<int>("hashAlg");
        QTest::addColumn<QByteArray>("seed");
        QTest::addColumn<QByteArray>("label");
        QTest::addColumn<QByteArray>("contextU");
        QTest::addColumn<int>("bits");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray seed32 =
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
        const QByteArray seed48 = seed32 + "202122232425262728292a2b2c2d2e2f";
        const QByteArray name =
            "000b7f093592aebbb47767b5655699cdab8c86c4b24f5c93e3b22a3c2538856e9bf1";
        QTest::newRow("storage sha256")
            << int(TPM2_ALG_SHA256) << seed32 << QByteArray("STORAGE") << name << 128
            << QByteArray("5a02fd7c7454d58831350af38dbbd17d");
        QTest::newRow("integrity multi-block")
            << int(TPM2_ALG_SHA256) << seed32 << QByteArray("INTEGRITY") << QByteArray() << 640
            << QByteArray("badc317b72d5f821130c21d0abf4db80a664ed23812e84bab1c6ec63b4dccff90df088"
                          "530ab7f79fb1f218de974eaa9cf30eabb572f2825210eddb2b3bf735a65fe7bcc030bd"
                          "01b33ce925a9bbee675f");
        QTest::newRow("storage sha384")
            << int(TPM2_ALG_SHA384) << seed48 << QByteArray("STORAGE") << name << 256
            << QByteArray("7116ae0d7c4977775f587823d677e05032f45ef9e5d09623ee55591137895b59");
    }

    void kdfaPython()
    {
        QFETCH(int, hashAlg);
        QFETCH(QByteArray, seed);
        QFETCH(QByteArray, label);
        QFETCH(QByteArray, contextU);
        QFETCH(int, bits);
        QFETCH(QByteArray, expected);
        const Bytes out = kdfa(TPM2_ALG_ID(hashAlg), hex(seed.toStdString()), label.toStdString(),
                               hex(contextU.toStdString()), {}, std::uint32_t(bits));
        QCOMPARE(QByteArray::fromStdString(toHex(out)), expected);
    }

    void kdfePython_data()
    {
        QTest::addColumn<int>("hashAlg");
        QTest::addColumn<int>("bits");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("sha256")
            << int(TPM2_ALG_SHA256) << 256
            << QByteArray("496afb478a53f9afd7c74165b52eb2b12bd16145828fc1894d4a13bfa311f064");
        QTest::newRow("sha256 multi-block")
            << int(TPM2_ALG_SHA256) << 576
            << QByteArray("496afb478a53f9afd7c74165b52eb2b12bd16145828fc1894d4a13bfa311f064a9d1e7"
                          "fefbc71006edebb651a5cccd8af91ae002e5b5030a34154663c44543eb85357bef04db"
                          "67d7");
        QTest::newRow("sha384") << int(TPM2_ALG_SHA384) << 384
                                << QByteArray("acb3ec9e8ccd369038a28a3d61330b585492623601766c6e8f"
                                              "a754756401cfb7e0b08d63a9b585fe0550c37293e70124");
    }

    // Z, U and V are the digests of "z", "u" and "v" with the KDF's own hash.
    void kdfePython()
    {
        QFETCH(int, hashAlg);
        QFETCH(int, bits);
        QFETCH(QByteArray, expected);
        const EVP_MD *md = hashAlg == TPM2_ALG_SHA384 ? EVP_sha384() : EVP_sha256();
        const Bytes out = kdfe(TPM2_ALG_ID(hashAlg), digest(md, "z"), "IDENTITY", digest(md, "u"),
                               digest(md, "v"), std::uint32_t(bits));
        QCOMPARE(QByteArray::fromStdString(toHex(out)), expected);
    }

    // The label's terminating NUL is part of the input (so "AB" hashes like the bytes "AB\0"
    // moved into contextU), and an empty label adds no bytes at all.
    void labelLayout()
    {
        const Bytes key(32, 7);
        const Bytes withNul = kdfa(TPM2_ALG_SHA256, key, "AB", {}, {}, 256);
        const Bytes manual = kdfa(TPM2_ALG_SHA256, key, {}, Bytes{'A', 'B', 0}, {}, 256);
        QVERIFY(withNul == manual);
        const Bytes noLabel = kdfa(TPM2_ALG_SHA256, key, {}, Bytes{'x'}, {}, 256);
        const Bytes contextOnly = kdfa(TPM2_ALG_SHA256, key, {}, {}, Bytes{'x'}, 256);
        QVERIFY(noLabel == contextOnly);
    }

    void rejects()
    {
        const Bytes key(32, 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kdfa(TPM2_ALG_SHA256, key, "L", {}, {}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 kdfa(TPM2_ALG_SHA256, key, "L", {}, {}, 12));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 kdfa(TPM2_ALG_SM3_256, key, "L", {}, {}, 128));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kdfe(TPM2_ALG_NULL, key, "L", {}, {}, 128));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, kdfe(TPM2_ALG_SHA256, key, "L", {}, {}, 7));
    }
};

QTEST_APPLESS_MAIN(TestTpmKdf)
#include "tst_tpmkdf.moc"

#include "attestation/tpmpublic.h"
#include "attestation/tpmsignature.h"
#include "evidencetesthelpers.h"
#include "tpm2tools.h"

#include <QTest>
#include <memory>
#include <tss2/tss2_mu.h>

using namespace vigil;
using namespace vigil::attestation;
using vigil::attestation::test::errorOf;
using vigil::attestation::test::toBytes;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

Bytes marshalSignature(const TPMT_SIGNATURE &signature)
{
    Bytes out(sizeof(TPMT_SIGNATURE));
    std::size_t offset = 0;
    if (Tss2_MU_TPMT_SIGNATURE_Marshal(&signature, out.data(), out.size(), &offset) !=
        TSS2_RC_SUCCESS)
        throw std::runtime_error("Tss2_MU_TPMT_SIGNATURE_Marshal");
    out.resize(offset);
    return out;
}

// r and s of a DER ECDSA signature made by OpenSSL.
std::pair<BignumPtr, BignumPtr> ecdsaComponents(const Bytes &der)
{
    const unsigned char *p = der.data();
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
    if (!sig)
        throw std::runtime_error("d2i_ECDSA_SIG");
    return {BignumPtr(BN_dup(ECDSA_SIG_get0_r(sig.get()))),
            BignumPtr(BN_dup(ECDSA_SIG_get0_s(sig.get())))};
}

void setParameter(TPM2B_ECC_PARAMETER &out, const BIGNUM *value, int padTo)
{
    const int length = std::max(BN_num_bytes(value), padTo);
    out.size = static_cast<UINT16>(BN_bn2binpad(value, out.buffer, length));
}

} // namespace

class TestTpmSignature : public QObject
{
    Q_OBJECT

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::unique_ptr<Tpm2Tools> m_tools;
    const QByteArray m_message = QByteArrayLiteral("the message the TPM signed");

    Bytes file(const QString &name) const { return toBytes(m_tools->readFile(name)); }

    EvpPkeyPtr key(const QString &name) const
    {
        return TpmPublic::parse(file(name + QStringLiteral(".pub"))).publicKey();
    }

    Bytes signature(const QString &name) const { return file(name + QStringLiteral(".sig")); }

    // A child key of the storage primary that signs m_message into <name>.sig.
    void createSigner(const QString &name, const QString &alg, const QString &hash,
                      const QString &scheme)
    {
        const QString pub = name + QStringLiteral(".pub");
        const QString priv = name + QStringLiteral(".priv");
        const QString ctx = name + QStringLiteral(".ctx");
        m_tools->run(QStringLiteral("tpm2_create"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-G"),
                      alg, QStringLiteral("-a"),
                      QStringLiteral("fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"),
                      QStringLiteral("-u"), pub, QStringLiteral("-r"), priv});
        m_tools->run(QStringLiteral("tpm2_load"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-u"),
                      pub, QStringLiteral("-r"), priv, QStringLiteral("-c"), ctx});
        m_tools->run(QStringLiteral("tpm2_sign"),
                     {QStringLiteral("-c"), ctx, QStringLiteral("-g"), hash, QStringLiteral("-s"),
                      scheme, QStringLiteral("-o"), name + QStringLiteral(".sig"),
                      QStringLiteral("message.bin")});
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tools = std::make_unique<Tpm2Tools>(*m_sim);
        m_tools->writeFile(QStringLiteral("message.bin"), m_message);
        m_tools->run(QStringLiteral("tpm2_createprimary"),
                     {QStringLiteral("-C"), QStringLiteral("o"), QStringLiteral("-g"),
                      QStringLiteral("sha256"), QStringLiteral("-G"), QStringLiteral("ecc"),
                      QStringLiteral("-c"), QStringLiteral("primary.ctx")});
        createSigner(QStringLiteral("p256"), QStringLiteral("ecc256:ecdsa-sha256"),
                     QStringLiteral("sha256"), QStringLiteral("ecdsa"));
        createSigner(QStringLiteral("other256"), QStringLiteral("ecc256:ecdsa-sha256"),
                     QStringLiteral("sha256"), QStringLiteral("ecdsa"));
        createSigner(QStringLiteral("p384"), QStringLiteral("ecc384:ecdsa-sha384"),
                     QStringLiteral("sha384"), QStringLiteral("ecdsa"));
        createSigner(QStringLiteral("rsassa"), QStringLiteral("rsa2048:rsassa-sha256:null"),
                     QStringLiteral("sha256"), QStringLiteral("rsassa"));
        createSigner(QStringLiteral("rsassa512"), QStringLiteral("rsa2048:rsassa-sha512:null"),
                     QStringLiteral("sha512"), QStringLiteral("rsassa"));
        createSigner(QStringLiteral("rsapss"), QStringLiteral("rsa2048:rsapss-sha256:null"),
                     QStringLiteral("sha256"), QStringLiteral("rsapss"));
    }

    void cleanupTestCase()
    {
        m_tools.reset();
        m_sim.reset();
    }

    void verifiesTpmSignature_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("scheme");
        QTest::addColumn<int>("hash");
        QTest::newRow("ecdsa p-256 sha256")
            << QStringLiteral("p256") << int(TPM2_ALG_ECDSA) << int(TPM2_ALG_SHA256);
        QTest::newRow("ecdsa p-384 sha384")
            << QStringLiteral("p384") << int(TPM2_ALG_ECDSA) << int(TPM2_ALG_SHA384);
        QTest::newRow("rsassa sha256")
            << QStringLiteral("rsassa") << int(TPM2_ALG_RSASSA) << int(TPM2_ALG_SHA256);
        QTest::newRow("rsassa sha512")
            << QStringLiteral("rsassa512") << int(TPM2_ALG_RSASSA) << int(TPM2_ALG_SHA512);
        QTest::newRow("rsapss sha256")
            << QStringLiteral("rsapss") << int(TPM2_ALG_RSAPSS) << int(TPM2_ALG_SHA256);
    }

    void verifiesTpmSignature()
    {
        QFETCH(QString, name);
        QFETCH(int, scheme);
        QFETCH(int, hash);
        const TpmSignature sig = TpmSignature::parse(signature(name));
        QCOMPARE(int(sig.scheme()), scheme);
        QCOMPARE(int(sig.hashAlg()), hash);
        verifyTpmSignature(sig, key(name).get(), toBytes(m_message));
    }

    void wrongMessage_data() { verifiesTpmSignature_data(); }

    void wrongMessage()
    {
        QFETCH(QString, name);
        QByteArray other = m_message;
        other[0] = 'T';
        QCOMPARE_ERROR(verifyTpmSignature(TpmSignature::parse(signature(name)), key(name).get(),
                                          toBytes(other)),
                       EvidenceError::BadSignature);
    }

    void flippedByte_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("offset");
        // Every byte of r, s or the RSA signature: sigAlg(2), hash(2), then the values.
        for (const char *name : {"p256", "p384", "rsassa", "rsapss"}) {
            const Bytes sig =
                toBytes(m_tools->readFile(QLatin1String(name) + QStringLiteral(".sig")));
            for (std::size_t offset = 4; offset < sig.size(); ++offset)
                QTest::addRow("%s %zu", name, offset) << QString::fromLatin1(name) << int(offset);
        }
    }

    // A flipped size byte makes the blob malformed; any other flipped byte a bad signature.
    void flippedByte()
    {
        QFETCH(QString, name);
        QFETCH(int, offset);
        Bytes sig = signature(name);
        sig[offset] ^= 0x01;
        std::string message;
        const EvidenceError error = errorOf(
            [&] {
                verifyTpmSignature(TpmSignature::parse(sig), key(name).get(), toBytes(m_message));
            },
            &message);
        const bool sizeByte = name.startsWith(QLatin1String("rsa"))
                                  ? offset < 6
                                  : offset < 6 || offset == 6 + int(sig[4] << 8 | sig[5]) ||
                                        offset == 7 + int(sig[4] << 8 | sig[5]);
        QVERIFY2(error == (sizeByte ? EvidenceError::Malformed : EvidenceError::BadSignature),
                 message.c_str());
    }

    void wrongKey_data()
    {
        QTest::addColumn<QString>("signer");
        QTest::addColumn<QString>("verifier");
        QTest::newRow("other p-256 key") << QStringLiteral("p256") << QStringLiteral("other256");
        QTest::newRow("ecdsa with rsa key") << QStringLiteral("p256") << QStringLiteral("rsassa");
        QTest::newRow("rsa with ecc key") << QStringLiteral("rsassa") << QStringLiteral("p256");
        QTest::newRow("p-256 with p-384 key") << QStringLiteral("p256") << QStringLiteral("p384");
        QTest::newRow("p-384 with p-256 key") << QStringLiteral("p384") << QStringLiteral("p256");
        QTest::newRow("rsassa as rsapss") << QStringLiteral("rsassa") << QStringLiteral("rsapss");
    }

    void wrongKey()
    {
        QFETCH(QString, signer);
        QFETCH(QString, verifier);
        QCOMPARE_ERROR(verifyTpmSignature(TpmSignature::parse(signature(signer)),
                                          key(verifier).get(), toBytes(m_message)),
                       EvidenceError::BadSignature);
    }

    // The same RSA bytes relabelled as the other padding scheme must not verify.
    void rsaSchemeRelabelled()
    {
        Bytes sig = signature(QStringLiteral("rsassa"));
        sig[1] = TPM2_ALG_RSAPSS;
        QCOMPARE_ERROR(verifyTpmSignature(TpmSignature::parse(sig),
                                          key(QStringLiteral("rsassa")).get(), toBytes(m_message)),
                       EvidenceError::BadSignature);
    }

    void truncated_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("length");
        for (const char *name : {"p256", "rsapss"}) {
            const Bytes sig =
                toBytes(m_tools->readFile(QLatin1String(name) + QStringLiteral(".sig")));
            for (std::size_t length = 0; length < sig.size(); ++length)
                QTest::addRow("%s %zu", name, length) << QString::fromLatin1(name) << int(length);
        }
    }

    void truncated()
    {
        QFETCH(QString, name);
        QFETCH(int, length);
        const Bytes sig = signature(name);
        QCOMPARE_ERROR(TpmSignature::parse(Bytes(sig.begin(), sig.begin() + length)),
                       EvidenceError::Malformed);
    }

    void trailingBytes()
    {
        Bytes sig = signature(QStringLiteral("p256"));
        sig.push_back(0);
        QCOMPARE_ERROR(TpmSignature::parse(sig), EvidenceError::Malformed);
    }

    void unknownSignatureAlgorithm()
    {
        Bytes sig = signature(QStringLiteral("p256"));
        sig[0] = 0x7f;
        QCOMPARE_ERROR(TpmSignature::parse(sig), EvidenceError::Malformed);
    }

    void unsupportedScheme_data()
    {
        QTest::addColumn<int>("scheme");
        QTest::addColumn<int>("hash");
        QTest::newRow("ecdsa sha1") << int(TPM2_ALG_ECDSA) << int(TPM2_ALG_SHA1);
        QTest::newRow("ecdsa sm3") << int(TPM2_ALG_ECDSA) << int(TPM2_ALG_SM3_256);
        QTest::newRow("ecschnorr") << int(TPM2_ALG_ECSCHNORR) << int(TPM2_ALG_SHA256);
        QTest::newRow("sm2") << int(TPM2_ALG_SM2) << int(TPM2_ALG_SHA256);
        QTest::newRow("ecdaa") << int(TPM2_ALG_ECDAA) << int(TPM2_ALG_SHA256);
    }

    // The real ECDSA signature's scheme or hash relabelled to one Vigil does not accept.
    void unsupportedScheme()
    {
        QFETCH(int, scheme);
        QFETCH(int, hash);
        Bytes sig = signature(QStringLiteral("p256"));
        sig[0] = static_cast<std::uint8_t>(scheme >> 8);
        sig[1] = static_cast<std::uint8_t>(scheme);
        sig[2] = static_cast<std::uint8_t>(hash >> 8);
        sig[3] = static_cast<std::uint8_t>(hash);
        const TpmSignature parsed = TpmSignature::parse(sig);
        QCOMPARE_ERROR(
            verifyTpmSignature(parsed, key(QStringLiteral("p256")).get(), toBytes(m_message)),
            EvidenceError::UnsupportedAlgorithm);
    }

    void hmacAndNullSignatures()
    {
        TPMT_SIGNATURE hmac{};
        hmac.sigAlg = TPM2_ALG_HMAC;
        hmac.signature.hmac.hashAlg = TPM2_ALG_SHA256;
        TPMT_SIGNATURE null{};
        null.sigAlg = TPM2_ALG_NULL;
        for (const TPMT_SIGNATURE &s : {hmac, null}) {
            const TpmSignature parsed = TpmSignature::parse(marshalSignature(s));
            QCOMPARE_ERROR(
                verifyTpmSignature(parsed, key(QStringLiteral("p256")).get(), toBytes(m_message)),
                EvidenceError::UnsupportedAlgorithm);
        }
    }

    // TPMs may return r or s without leading zero bytes, or padded to the key size; both are
    // the same signature. OpenSSL signs until both forms occur for r and for s.
    void ecdsaComponentLengths()
    {
        EvpPkeyPtr pkey(EVP_EC_gen("P-256"));
        QVERIFY(pkey);
        const Bytes message = toBytes(m_message);
        bool shortR = false;
        bool shortS = false;
        for (int attempt = 0; attempt < 20000 && !(shortR && shortS); ++attempt) {
            EvpMdCtxPtr md(EVP_MD_CTX_new());
            std::size_t length = 0;
            QVERIFY(EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) == 1);
            QVERIFY(EVP_DigestSign(md.get(), nullptr, &length, message.data(), message.size()) ==
                    1);
            Bytes der(length);
            QVERIFY(EVP_DigestSign(md.get(), der.data(), &length, message.data(), message.size()) ==
                    1);
            der.resize(length);
            const auto [r, s] = ecdsaComponents(der);
            const bool rIsShort = BN_num_bytes(r.get()) < 32;
            const bool sIsShort = BN_num_bytes(s.get()) < 32;
            if (!(rIsShort && !shortR) && !(sIsShort && !shortS))
                continue;
            shortR = shortR || rIsShort;
            shortS = shortS || sIsShort;
            TPMT_SIGNATURE sig{};
            sig.sigAlg = TPM2_ALG_ECDSA;
            sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
            for (int padTo : {0, 32}) {
                setParameter(sig.signature.ecdsa.signatureR, r.get(), padTo);
                setParameter(sig.signature.ecdsa.signatureS, s.get(), padTo);
                QCOMPARE(sig.signature.ecdsa.signatureR.size == 32, padTo == 32 || !rIsShort);
                verifyTpmSignature(TpmSignature::parse(marshalSignature(sig)), pkey.get(), message);
            }
            // One byte more than the order is refused, even as a leading zero.
            setParameter(sig.signature.ecdsa.signatureR, r.get(), 33);
            QCOMPARE_ERROR(
                verifyTpmSignature(TpmSignature::parse(marshalSignature(sig)), pkey.get(), message),
                EvidenceError::BadSignature);
            sig.signature.ecdsa.signatureR.size = 0;
            QCOMPARE_ERROR(
                verifyTpmSignature(TpmSignature::parse(marshalSignature(sig)), pkey.get(), message),
                EvidenceError::BadSignature);
        }
        QVERIFY(shortR);
        QVERIFY(shortS);
    }
};

QTEST_APPLESS_MAIN(TestTpmSignature)
#include "tst_tpmsignature.moc"

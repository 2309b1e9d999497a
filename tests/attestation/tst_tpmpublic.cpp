#include "attestation/tpmpublic.h"
#include "evidencetesthelpers.h"
#include "tpm2tools.h"

#include <QTest>
#include <memory>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <tss2/tss2_mu.h>

using namespace vigil;
using namespace vigil::attestation;
using vigil::attestation::test::errorOf;
using vigil::attestation::test::toBytes;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

// Offset of objectAttributes in a marshalled TPM2B_PUBLIC: size, type, nameAlg.
constexpr std::size_t attributesOffset = 2 + 2 + 2;

std::uint32_t readU32(const Bytes &b, std::size_t at)
{
    return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 |
           std::uint32_t(b[at + 2]) << 8 | b[at + 3];
}

void writeU32(Bytes &b, std::size_t at, std::uint32_t value)
{
    for (int i = 0; i < 4; ++i)
        b[at + i] = static_cast<std::uint8_t>(value >> (24 - 8 * i));
}

// Offset of the ECC scheme's hash algorithm: after attributes, authPolicy (TPM2B), symmetric
// (TPM_ALG_NULL, 2 bytes) and the scheme's algorithm.
std::size_t eccSchemeHashOffset(const Bytes &pub)
{
    const std::size_t policy = attributesOffset + 4;
    const std::size_t policySize = std::size_t(pub[policy]) << 8 | pub[policy + 1];
    return policy + 2 + policySize + 2 + 2;
}

EvpPkeyPtr pemKey(const QByteArray &pem)
{
    BioPtr bio(BIO_new_mem_buf(pem.constData(), static_cast<int>(pem.size())));
    return EvpPkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

Bytes marshalPublic(const TPMT_PUBLIC &area)
{
    TPM2B_PUBLIC pub{};
    pub.publicArea = area;
    Bytes out(sizeof(TPM2B_PUBLIC));
    std::size_t offset = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS)
        throw std::runtime_error("Tss2_MU_TPM2B_PUBLIC_Marshal");
    out.resize(offset);
    return out;
}

} // namespace

class TestTpmPublic : public QObject
{
    Q_OBJECT

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::unique_ptr<Tpm2Tools> m_tools;

    Bytes file(const char *name) const { return toBytes(m_tools->readFile(QLatin1String(name))); }

    // A child of the storage primary: public in <name>.pub, name in <name>.name, PEM in
    // <name>.pem (tpm2_readpublic's own conversion).
    void createChild(const QString &name, const QString &alg, const QString &attributes)
    {
        m_tools->run(QStringLiteral("tpm2_create"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-G"),
                      alg, QStringLiteral("-a"), attributes, QStringLiteral("-u"),
                      name + QStringLiteral(".pub"), QStringLiteral("-r"),
                      name + QStringLiteral(".priv")});
        m_tools->run(QStringLiteral("tpm2_load"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-u"),
                      name + QStringLiteral(".pub"), QStringLiteral("-r"),
                      name + QStringLiteral(".priv"), QStringLiteral("-c"),
                      name + QStringLiteral(".ctx"), QStringLiteral("-n"),
                      name + QStringLiteral(".name")});
        readPem(name);
    }

    void readPem(const QString &name)
    {
        m_tools->run(QStringLiteral("tpm2_readpublic"),
                     {QStringLiteral("-c"), name + QStringLiteral(".ctx"), QStringLiteral("-f"),
                      QStringLiteral("pem"), QStringLiteral("-o"), name + QStringLiteral(".pem")});
    }

    void createAk(const QString &name, const QString &alg, const QString &scheme)
    {
        m_tools->run(QStringLiteral("tpm2_createak"),
                     {QStringLiteral("-C"), QStringLiteral("ek.ctx"), QStringLiteral("-c"),
                      name + QStringLiteral(".ctx"), QStringLiteral("-G"), alg,
                      QStringLiteral("-g"), QStringLiteral("sha256"), QStringLiteral("-s"), scheme,
                      QStringLiteral("-u"), name + QStringLiteral(".pub"), QStringLiteral("-n"),
                      name + QStringLiteral(".name"), QStringLiteral("-r"),
                      name + QStringLiteral(".priv")});
        readPem(name);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tools = std::make_unique<Tpm2Tools>(*m_sim);
        const QString ak =
            QStringLiteral("fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign");
        const QString signer =
            QStringLiteral("fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign");
        m_tools->run(QStringLiteral("tpm2_createprimary"),
                     {QStringLiteral("-C"), QStringLiteral("o"), QStringLiteral("-g"),
                      QStringLiteral("sha256"), QStringLiteral("-G"), QStringLiteral("ecc"),
                      QStringLiteral("-c"), QStringLiteral("primary.ctx")});
        m_tools->run(QStringLiteral("tpm2_readpublic"),
                     {QStringLiteral("-c"), QStringLiteral("primary.ctx"), QStringLiteral("-o"),
                      QStringLiteral("primary.pub"), QStringLiteral("-n"),
                      QStringLiteral("primary.name")});
        // A restricted sign key must not name a symmetric algorithm: hence ":null".
        createChild(QStringLiteral("ak"), QStringLiteral("ecc256:ecdsa-sha256:null"), ak);
        createChild(QStringLiteral("device"), QStringLiteral("ecc256:ecdsa-sha256"), signer);
        createChild(QStringLiteral("p384"), QStringLiteral("ecc384:ecdsa-sha384"), signer);
        createChild(QStringLiteral("rsa"), QStringLiteral("rsa2048:rsapss-sha256:null"), signer);
        createChild(QStringLiteral("rsa3072"), QStringLiteral("rsa3072:rsassa-sha384:null"),
                    signer);
        m_tools->run(QStringLiteral("tpm2_createek"),
                     {QStringLiteral("-c"), QStringLiteral("ek.ctx"), QStringLiteral("-G"),
                      QStringLiteral("rsa"), QStringLiteral("-u"), QStringLiteral("ek.pub")});
        createAk(QStringLiteral("rsassaak"), QStringLiteral("rsa"), QStringLiteral("rsassa"));
        createAk(QStringLiteral("rsapssak"), QStringLiteral("rsa"), QStringLiteral("rsapss"));
        createAk(QStringLiteral("eccak"), QStringLiteral("ecc"), QStringLiteral("ecdsa"));
    }

    void cleanupTestCase()
    {
        m_tools.reset();
        m_sim.reset();
    }

    void nameMatchesTpm2Tools_data()
    {
        QTest::addColumn<QString>("key");
        for (const char *key :
             {"primary", "ak", "device", "p384", "rsa", "rsa3072", "rsassaak", "rsapssak", "eccak"})
            QTest::newRow(key) << QString::fromLatin1(key);
    }

    // The name the TPM itself reported (tpm2_load -n, tpm2_createak -n), byte for byte.
    void nameMatchesTpm2Tools()
    {
        QFETCH(QString, key);
        const Bytes pub = toBytes(m_tools->readFile(key + QStringLiteral(".pub")));
        const Bytes expected = toBytes(m_tools->readFile(key + QStringLiteral(".name")));
        QCOMPARE(toHex(tpmName(pub)), toHex(expected));
        QCOMPARE(toHex(TpmPublic::parse(pub).name()), toHex(expected));
    }

    void publicKeyMatchesTpm2Tools_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("bits");
        QTest::newRow("ecc p-256 ak") << QStringLiteral("ak") << EVP_PKEY_EC << 256;
        QTest::newRow("ecc p-256 device") << QStringLiteral("device") << EVP_PKEY_EC << 256;
        QTest::newRow("ecc p-384") << QStringLiteral("p384") << EVP_PKEY_EC << 384;
        QTest::newRow("rsa 2048") << QStringLiteral("rsa") << EVP_PKEY_RSA << 2048;
        QTest::newRow("rsa 3072") << QStringLiteral("rsa3072") << EVP_PKEY_RSA << 3072;
        QTest::newRow("rsa ak") << QStringLiteral("rsassaak") << EVP_PKEY_RSA << 2048;
        QTest::newRow("ecc ak") << QStringLiteral("eccak") << EVP_PKEY_EC << 256;
    }

    // Against tpm2_readpublic's own conversion to a SubjectPublicKeyInfo.
    void publicKeyMatchesTpm2Tools()
    {
        QFETCH(QString, key);
        QFETCH(int, type);
        QFETCH(int, bits);
        const EvpPkeyPtr ours =
            TpmPublic::parse(toBytes(m_tools->readFile(key + QStringLiteral(".pub")))).publicKey();
        const EvpPkeyPtr theirs = pemKey(m_tools->readFile(key + QStringLiteral(".pem")));
        QVERIFY(ours);
        QVERIFY(theirs);
        QCOMPARE(EVP_PKEY_get_base_id(ours.get()), type);
        QCOMPARE(EVP_PKEY_get_bits(ours.get()), bits);
        QCOMPARE(EVP_PKEY_eq(ours.get(), theirs.get()), 1);
    }

    // The TPM may drop a coordinate's leading zero bytes; the key must still be the same point.
    void shortEccCoordinates()
    {
        int found = 0;
        for (int attempts = 0; found < 2 && attempts < 5000; ++attempts) {
            EvpPkeyPtr key(EVP_EC_gen("P-256"));
            QVERIFY(key);
            BIGNUM *xRaw = nullptr;
            BIGNUM *yRaw = nullptr;
            QVERIFY(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, &xRaw) == 1);
            QVERIFY(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &yRaw) == 1);
            BignumPtr x(xRaw);
            BignumPtr y(yRaw);
            if (BN_num_bytes(x.get()) == 32 && BN_num_bytes(y.get()) == 32)
                continue;
            ++found;
            TPMT_PUBLIC area{};
            area.type = TPM2_ALG_ECC;
            area.nameAlg = TPM2_ALG_SHA256;
            area.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT;
            area.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
            area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
            area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
            area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
            area.unique.ecc.x.size =
                static_cast<UINT16>(BN_bn2bin(x.get(), area.unique.ecc.x.buffer));
            area.unique.ecc.y.size =
                static_cast<UINT16>(BN_bn2bin(y.get(), area.unique.ecc.y.buffer));
            const EvpPkeyPtr parsed = TpmPublic::parse(marshalPublic(area)).publicKey();
            QCOMPARE(EVP_PKEY_eq(parsed.get(), key.get()), 1);
        }
        QCOMPARE(found, 2);
    }

    void attestationKeyAccepted_data()
    {
        QTest::addColumn<QString>("key");
        QTest::newRow("tpm2_create ecc") << QStringLiteral("ak");
        QTest::newRow("tpm2_createak ecc") << QStringLiteral("eccak");
        QTest::newRow("tpm2_createak rsassa") << QStringLiteral("rsassaak");
        QTest::newRow("tpm2_createak rsapss") << QStringLiteral("rsapssak");
    }

    void attestationKeyAccepted()
    {
        QFETCH(QString, key);
        checkAttestationKey(
            TpmPublic::parse(toBytes(m_tools->readFile(key + QStringLiteral(".pub")))));
    }

    void attestationKeyRejected_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<EvidenceError>("error");
        QTest::addColumn<QString>("message");
        QTest::newRow("non-restricted ecc signing key")
            << QStringLiteral("device") << EvidenceError::KeyAttributes
            << QStringLiteral("attestation key attributes: restricted is not set");
        QTest::newRow("non-restricted rsa signing key")
            << QStringLiteral("rsa") << EvidenceError::KeyAttributes
            << QStringLiteral("attestation key attributes: restricted is not set");
        QTest::newRow("storage primary")
            << QStringLiteral("primary") << EvidenceError::KeyAttributes
            << QStringLiteral("attestation key attributes: sign is not set, decrypt is set");
        QTest::newRow("p-384") << QStringLiteral("p384") << EvidenceError::UnsupportedAlgorithm
                               << QStringLiteral("attestation key is not on curve P-256");
        QTest::newRow("rsa 3072") << QStringLiteral("rsa3072")
                                  << EvidenceError::UnsupportedAlgorithm
                                  << QStringLiteral("attestation key is RSA but not RSA-2048");
    }

    // Real keys from the TPM that are not attestation keys.
    void attestationKeyRejected()
    {
        QFETCH(QString, key);
        QFETCH(EvidenceError, error);
        QFETCH(QString, message);
        const TpmPublic pub =
            TpmPublic::parse(toBytes(m_tools->readFile(key + QStringLiteral(".pub"))));
        std::string text;
        QCOMPARE(errorOf([&] { checkAttestationKey(pub); }, &text), error);
        QCOMPARE(QString::fromStdString(text), message);
    }

    void attestationKeyAttributeChanged_data()
    {
        QTest::addColumn<quint32>("clear");
        QTest::addColumn<quint32>("set");
        QTest::addColumn<QString>("message");
        const QString prefix = QStringLiteral("attestation key attributes: ");
        QTest::newRow("restricted") << quint32(TPMA_OBJECT_RESTRICTED) << 0u
                                    << prefix + QStringLiteral("restricted is not set");
        QTest::newRow("sign") << quint32(TPMA_OBJECT_SIGN_ENCRYPT) << 0u
                              << prefix + QStringLiteral("sign is not set");
        QTest::newRow("fixedTPM") << quint32(TPMA_OBJECT_FIXEDTPM) << 0u
                                  << prefix + QStringLiteral("fixedTPM is not set");
        QTest::newRow("fixedParent") << quint32(TPMA_OBJECT_FIXEDPARENT) << 0u
                                     << prefix + QStringLiteral("fixedParent is not set");
        QTest::newRow("sensitiveDataOrigin")
            << quint32(TPMA_OBJECT_SENSITIVEDATAORIGIN) << 0u
            << prefix + QStringLiteral("sensitiveDataOrigin is not set");
        QTest::newRow("decrypt") << 0u << quint32(TPMA_OBJECT_DECRYPT)
                                 << prefix + QStringLiteral("decrypt is set");
        QTest::newRow("two at once")
            << quint32(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT) << 0u
            << prefix + QStringLiteral("fixedTPM is not set, fixedParent is not set");
    }

    // The real AK with one attribute changed in its marshalled form.
    void attestationKeyAttributeChanged()
    {
        QFETCH(quint32, clear);
        QFETCH(quint32, set);
        QFETCH(QString, message);
        Bytes pub = file("ak.pub");
        writeU32(pub, attributesOffset, (readU32(pub, attributesOffset) & ~clear) | set);
        const TpmPublic parsed = TpmPublic::parse(pub);
        std::string text;
        QCOMPARE(errorOf([&] { checkAttestationKey(parsed); }, &text),
                 EvidenceError::KeyAttributes);
        QCOMPARE(QString::fromStdString(text), message);
    }

    void attestationKeySchemeHash()
    {
        Bytes pub = file("ak.pub");
        const std::size_t at = eccSchemeHashOffset(pub);
        QCOMPARE(int(pub[at] << 8 | pub[at + 1]), int(TPM2_ALG_SHA256));
        pub[at + 1] = TPM2_ALG_SHA384;
        std::string text;
        QCOMPARE(errorOf([&] { checkAttestationKey(TpmPublic::parse(pub)); }, &text),
                 EvidenceError::KeyAttributes);
        QCOMPARE(QString::fromStdString(text),
                 QStringLiteral("attestation key scheme ecdsa/sha384 is not ecdsa/sha256"));
    }

    void pointNotOnCurve()
    {
        Bytes pub = file("ak.pub");
        pub.back() ^= 0x01; // last byte of y
        const TpmPublic parsed = TpmPublic::parse(pub);
        QCOMPARE_ERROR(parsed.publicKey(), EvidenceError::Malformed);
    }

    void unsupportedNameAlgorithm()
    {
        Bytes pub = file("device.pub");
        pub[4] = 0x00;
        pub[5] = 0x12; // TPM_ALG_SM3_256
        const TpmPublic parsed = TpmPublic::parse(pub);
        QCOMPARE_ERROR(parsed.name(), EvidenceError::UnsupportedAlgorithm);
    }

    void truncated_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("length");
        for (const char *key : {"ak", "rsassaak"}) {
            const Bytes pub =
                toBytes(m_tools->readFile(QLatin1String(key) + QStringLiteral(".pub")));
            for (std::size_t length = 0; length < pub.size(); ++length)
                QTest::addRow("%s %zu", key, length) << QString::fromLatin1(key) << int(length);
        }
    }

    void truncated()
    {
        QFETCH(QString, key);
        QFETCH(int, length);
        const Bytes pub = toBytes(m_tools->readFile(key + QStringLiteral(".pub")));
        const Bytes cut(pub.begin(), pub.begin() + length);
        QCOMPARE_ERROR(TpmPublic::parse(cut), EvidenceError::Malformed);
        QCOMPARE_ERROR(tpmName(cut), EvidenceError::Malformed);
    }

    void trailingBytes()
    {
        Bytes pub = file("ak.pub");
        pub.push_back(0);
        QCOMPARE_ERROR(TpmPublic::parse(pub), EvidenceError::Malformed);
    }

    void sizePrefixDisagrees_data()
    {
        QTest::addColumn<int>("delta");
        QTest::newRow("one less") << -1;
        QTest::newRow("one more") << 1;
        QTest::newRow("zero") << -100000;
    }

    void sizePrefixDisagrees()
    {
        QFETCH(int, delta);
        Bytes pub = file("ak.pub");
        const int size = std::max(0, int(pub[0] << 8 | pub[1]) + delta);
        pub[0] = static_cast<std::uint8_t>(size >> 8);
        pub[1] = static_cast<std::uint8_t>(size);
        QCOMPARE_ERROR(TpmPublic::parse(pub), EvidenceError::Malformed);
    }

    void unsupportedKeyType()
    {
        TPMT_PUBLIC area{};
        area.type = TPM2_ALG_KEYEDHASH;
        area.nameAlg = TPM2_ALG_SHA256;
        area.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;
        area.unique.keyedHash.size = 32;
        const TpmPublic parsed = TpmPublic::parse(marshalPublic(area));
        QCOMPARE(parsed.name().size(), std::size_t(34));
        QCOMPARE_ERROR(parsed.publicKey(), EvidenceError::UnsupportedAlgorithm);
        QCOMPARE_ERROR(checkAttestationKey(parsed), EvidenceError::UnsupportedAlgorithm);
    }
};

QTEST_APPLESS_MAIN(TestTpmPublic)
#include "tst_tpmpublic.moc"

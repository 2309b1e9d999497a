#include "attestation/attestverifier.h"
#include "evidencetesthelpers.h"
#include "tpm2tools.h"

#include <QProcess>
#include <QRegularExpression>
#include <QTest>
#include <map>
#include <memory>

using namespace vigil;
using namespace vigil::attestation;
using vigil::protocol::QuoteEvidence;
using vigil::protocol::CertifyEvidence;
using vigil::attestation::test::errorOf;
using vigil::attestation::test::toBytes;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

// tpm2_certify (tpm2-tools 5.4) always qualifies with these bytes.
const Bytes certifyQualifyingData{0x00, 0xff, 0x55, 0xaa};

QString yamlField(const QByteArray &yaml, const QString &key)
{
    const QRegularExpression re(QStringLiteral("^\\s*%1: (\\S+)$").arg(key),
                                QRegularExpression::MultilineOption);
    const auto match = re.match(QString::fromUtf8(yaml));
    return match.hasMatch() ? match.captured(1) : QString();
}

} // namespace

class TestAttestVerifier : public QObject
{
    Q_OBJECT

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::unique_ptr<Tpm2Tools> m_tools;
    const Bytes m_nonce =
        *fromHex("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    // Quote name -> the AK that signed it and the PCRs it covers.
    std::map<QString, std::pair<QString, std::vector<unsigned>>> m_quotes;

    Bytes file(const QString &name) const { return toBytes(m_tools->readFile(name)); }
    Bytes pub(const QString &key) const { return file(key + QStringLiteral(".pub")); }

    QuoteEvidence quoteEvidence(const QString &name) const
    {
        QuoteEvidence evidence;
        evidence.attest = file(name + QStringLiteral(".msg"));
        evidence.signature = file(name + QStringLiteral(".sig"));
        const Bytes values = file(name + QStringLiteral(".values"));
        const std::vector<unsigned> &indices = m_quotes.at(name).second;
        if (values.size() != 32 * indices.size())
            throw std::runtime_error("tpm2_pcrread wrote " + std::to_string(values.size()) +
                                     " bytes");
        for (std::size_t i = 0; i < indices.size(); ++i)
            evidence.pcrs[indices[i]] =
                Bytes(values.begin() + 32 * i, values.begin() + 32 * (i + 1));
        return evidence;
    }

    CertifyEvidence certifyEvidence() const
    {
        return {file(QStringLiteral("certify.attest")), file(QStringLiteral("certify.sig"))};
    }

    void createChild(const QString &name, const QString &attributes)
    {
        m_tools->run(QStringLiteral("tpm2_create"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-G"),
                      QStringLiteral("ecc256:ecdsa-sha256:null"), QStringLiteral("-a"), attributes,
                      QStringLiteral("-u"), name + QStringLiteral(".pub"), QStringLiteral("-r"),
                      name + QStringLiteral(".priv")});
        m_tools->run(QStringLiteral("tpm2_load"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-u"),
                      name + QStringLiteral(".pub"), QStringLiteral("-r"),
                      name + QStringLiteral(".priv"), QStringLiteral("-c"),
                      name + QStringLiteral(".ctx"), QStringLiteral("-n"),
                      name + QStringLiteral(".name")});
    }

    // tpm2_quote with key over the SHA-256 PCRs, then tpm2_pcrread of the same PCRs (nothing
    // extends them in between): <name>.msg, .sig, .pcrs (tpm2_checkquote's form), .values.
    void makeQuote(const QString &name, const QString &key, const std::vector<unsigned> &pcrs,
                   const QString &scheme = QStringLiteral("ecdsa"))
    {
        QStringList list;
        for (unsigned pcr : pcrs)
            list << QString::number(pcr);
        const QString selection = QStringLiteral("sha256:") + list.join(QLatin1Char(','));
        m_tools->run(QStringLiteral("tpm2_quote"),
                     {QStringLiteral("-c"), key + QStringLiteral(".ctx"), QStringLiteral("-l"),
                      selection, QStringLiteral("-q"), QString::fromStdString(toHex(m_nonce)),
                      QStringLiteral("-m"), name + QStringLiteral(".msg"), QStringLiteral("-s"),
                      name + QStringLiteral(".sig"), QStringLiteral("-o"),
                      name + QStringLiteral(".pcrs"), QStringLiteral("-g"),
                      QStringLiteral("sha256"), QStringLiteral("--scheme"), scheme});
        m_tools->run(QStringLiteral("tpm2_pcrread"),
                     {selection, QStringLiteral("-o"), name + QStringLiteral(".values")});
        m_quotes[name] = {key, pcrs};
    }

    int checkquote(const QString &name, const Bytes &nonce) const
    {
        return m_tools->runUnchecked(
            QStringLiteral("tpm2_checkquote"),
            {QStringLiteral("-u"), m_quotes.at(name).first + QStringLiteral(".pub"),
             QStringLiteral("-m"), name + QStringLiteral(".msg"), QStringLiteral("-s"),
             name + QStringLiteral(".sig"), QStringLiteral("-f"), name + QStringLiteral(".pcrs"),
             QStringLiteral("-g"), QStringLiteral("sha256"), QStringLiteral("-q"),
             QString::fromStdString(toHex(nonce))});
    }

    // clockInfo, firmwareVersion and qualifiedSigner as tpm2_print decodes them.
    void compareWithTpm2Print(const VerifiedAttest &result, const QString &attestFile) const
    {
        QByteArray yaml;
        // tpm2_print prints the common header even for types it cannot decode further.
        m_tools->runUnchecked(QStringLiteral("tpm2_print"),
                              {QStringLiteral("-t"), QStringLiteral("TPMS_ATTEST"), attestFile},
                              &yaml);
        QCOMPARE(QString::number(result.clockInfo.clock), yamlField(yaml, QStringLiteral("clock")));
        QCOMPARE(QString::number(result.clockInfo.resetCount),
                 yamlField(yaml, QStringLiteral("resetCount")));
        QCOMPARE(QString::number(result.clockInfo.restartCount),
                 yamlField(yaml, QStringLiteral("restartCount")));
        QCOMPARE(QString::number(result.clockInfo.safe ? 1 : 0),
                 yamlField(yaml, QStringLiteral("safe")));
        // tpm2_print shows firmwareVersion's bytes in host (little-endian) order.
        Bytes firmware(8);
        for (int i = 0; i < 8; ++i)
            firmware[i] = static_cast<std::uint8_t>(result.firmwareVersion >> (8 * i));
        QCOMPARE(QString::fromStdString(toHex(firmware)),
                 yamlField(yaml, QStringLiteral("firmwareVersion")));
        QCOMPARE(QString::fromStdString(toHex(result.qualifiedSigner)),
                 yamlField(yaml, QStringLiteral("qualifiedSigner")));
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tools = std::make_unique<Tpm2Tools>(*m_sim);
        const QString ak =
            QStringLiteral("fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign");
        m_tools->run(QStringLiteral("tpm2_createprimary"),
                     {QStringLiteral("-C"), QStringLiteral("o"), QStringLiteral("-g"),
                      QStringLiteral("sha256"), QStringLiteral("-G"), QStringLiteral("ecc"),
                      QStringLiteral("-c"), QStringLiteral("primary.ctx")});
        createChild(QStringLiteral("ak"), ak);
        createChild(QStringLiteral("ak2"), ak);
        createChild(QStringLiteral("device"),
                    QStringLiteral("fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign"));
        m_tools->run(QStringLiteral("tpm2_createek"),
                     {QStringLiteral("-c"), QStringLiteral("ek.ctx"), QStringLiteral("-G"),
                      QStringLiteral("rsa"), QStringLiteral("-u"), QStringLiteral("ek.pub")});
        for (const char *scheme : {"rsassa", "rsapss"})
            m_tools->run(QStringLiteral("tpm2_createak"),
                         {QStringLiteral("-C"), QStringLiteral("ek.ctx"), QStringLiteral("-c"),
                          QLatin1String(scheme) + QStringLiteral("ak.ctx"), QStringLiteral("-G"),
                          QStringLiteral("rsa"), QStringLiteral("-g"), QStringLiteral("sha256"),
                          QStringLiteral("-s"), QLatin1String(scheme), QStringLiteral("-u"),
                          QLatin1String(scheme) + QStringLiteral("ak.pub"), QStringLiteral("-r"),
                          QLatin1String(scheme) + QStringLiteral("ak.priv")});

        // Distinct, non-zero values in every quoted PCR.
        for (unsigned pcr : {0u, 1u, 7u, 9u, 16u, 23u})
            m_tools->run(QStringLiteral("tpm2_pcrextend"),
                         {QStringLiteral("%1:sha256=%2")
                              .arg(pcr)
                              .arg(QString::number(pcr + 1, 16).repeated(64).left(64))});

        makeQuote(QStringLiteral("quote"), QStringLiteral("ak"), {0, 1, 7});
        makeQuote(QStringLiteral("wide"), QStringLiteral("ak"),
                  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 23});
        makeQuote(QStringLiteral("rsassa"), QStringLiteral("rsassaak"), {0, 1, 7},
                  QStringLiteral("rsassa"));
        makeQuote(QStringLiteral("rsapss"), QStringLiteral("rsapssak"), {0, 1, 7},
                  QStringLiteral("rsapss"));
        makeQuote(QStringLiteral("device"), QStringLiteral("device"), {0, 1, 7});
        m_tools->run(QStringLiteral("tpm2_certify"),
                     {QStringLiteral("-c"), QStringLiteral("device.ctx"), QStringLiteral("-C"),
                      QStringLiteral("ak.ctx"), QStringLiteral("-g"), QStringLiteral("sha256"),
                      QStringLiteral("-o"), QStringLiteral("certify.attest"), QStringLiteral("-s"),
                      QStringLiteral("certify.sig")});
    }

    void cleanupTestCase()
    {
        m_tools.reset();
        m_sim.reset();
    }

    void quoteVerifies_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("ecdsa ak, pcrs 0,1,7") << QStringLiteral("quote");
        QTest::newRow("ecdsa ak, twelve pcrs") << QStringLiteral("wide");
        QTest::newRow("rsassa ak") << QStringLiteral("rsassa");
        QTest::newRow("rsapss ak") << QStringLiteral("rsapss");
    }

    void quoteVerifies()
    {
        QFETCH(QString, name);
        const VerifiedAttest result =
            verifyQuote(quoteEvidence(name), pub(m_quotes.at(name).first), m_nonce);
        compareWithTpm2Print(result, name + QStringLiteral(".msg"));
        QVERIFY(result.clockInfo.safe);
        QCOMPARE(result.qualifiedSigner.size(), std::size_t(34));
    }

    // The TPM adds a per-key offset to resetCount, restartCount and firmwareVersion in what an
    // AK outside the endorsement and platform hierarchies signs; verifyQuote() returns the
    // values as signed, so rollback checks must compare values from the same AK only.
    void countersObfuscatedOutsideEndorsementHierarchy()
    {
        const QByteArray caps =
            m_tools->run(QStringLiteral("tpm2_getcap"), {QStringLiteral("properties-fixed")});
        const QRegularExpression re(
            QStringLiteral("TPM2_PT_FIRMWARE_VERSION_(\\d):\\s*raw: 0x([0-9a-fA-F]+)"));
        std::uint64_t firmware = 0;
        int found = 0;
        for (auto it = re.globalMatch(QString::fromUtf8(caps)); it.hasNext(); ++found) {
            const auto match = it.next();
            const std::uint64_t part = match.captured(2).toULongLong(nullptr, 16);
            firmware |= match.captured(1) == QLatin1String("1") ? part << 32 : part;
        }
        QCOMPARE(found, 2);
        const VerifiedAttest endorsement = verifyQuote(quoteEvidence(QStringLiteral("rsassa")),
                                                       pub(QStringLiteral("rsassaak")), m_nonce);
        QCOMPARE(endorsement.firmwareVersion, firmware);
        const VerifiedAttest owner =
            verifyQuote(quoteEvidence(QStringLiteral("quote")), pub(QStringLiteral("ak")), m_nonce);
        QVERIFY(owner.firmwareVersion != firmware);
    }

    void checkquoteAgrees_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("ecdsa ak, pcrs 0,1,7") << QStringLiteral("quote");
        QTest::newRow("ecdsa ak, twelve pcrs") << QStringLiteral("wide");
        QTest::newRow("rsassa ak") << QStringLiteral("rsassa");
    }

    // The independent implementation accepts exactly what this one accepts, so the inputs are
    // sound; and both refuse another nonce.
    void checkquoteAgrees()
    {
        QFETCH(QString, name);
        QCOMPARE(checkquote(name, m_nonce), 0);
        Bytes other = m_nonce;
        other[0] ^= 1;
        QVERIFY(checkquote(name, other) != 0);
        QCOMPARE_ERROR(verifyQuote(quoteEvidence(name), pub(m_quotes.at(name).first), other),
                       EvidenceError::NonceMismatch);
    }

    // tpm2_checkquote 5.4 refuses the TPM's own RSAPSS quotes (it expects another salt
    // length), so python-cryptography checks the signature instead: PSS, MGF1-SHA-256, salt of
    // the hash's length, over the attest bytes.
    void rsapssAgreesWithPythonCryptography()
    {
        verifyQuote(quoteEvidence(QStringLiteral("rsapss")), pub(QStringLiteral("rsapssak")),
                    m_nonce);
        QByteArray pem;
        QCOMPARE(m_tools->runUnchecked(QStringLiteral("tpm2_print"),
                                       {QStringLiteral("-t"), QStringLiteral("TPM2B_PUBLIC"),
                                        QStringLiteral("-f"), QStringLiteral("pem"),
                                        QStringLiteral("rsapssak.pub")},
                                       &pem),
                 0);
        m_tools->writeFile(QStringLiteral("rsapssak.pem"), pem);
        // TPMT_SIGNATURE: sigAlg, hash, size, then the signature itself.
        m_tools->writeFile(QStringLiteral("rsapss.rawsig"),
                           m_tools->readFile(QStringLiteral("rsapss.sig")).mid(6));
        const QString script = QStringLiteral(
            "import sys\n"
            "from cryptography.hazmat.primitives import serialization, hashes\n"
            "from cryptography.hazmat.primitives.asymmetric import padding\n"
            "key = serialization.load_pem_public_key(open(sys.argv[1], 'rb').read())\n"
            "key.verify(open(sys.argv[2], 'rb').read(), open(sys.argv[3], 'rb').read(),\n"
            "           padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),\n"
            "           hashes.SHA256())\n");
        QProcess python;
        python.start(QStringLiteral("/usr/bin/python3"),
                     {QStringLiteral("-c"), script, m_tools->path(QStringLiteral("rsapssak.pem")),
                      m_tools->path(QStringLiteral("rsapss.rawsig")),
                      m_tools->path(QStringLiteral("rsapss.msg"))});
        QVERIFY(python.waitForFinished(30000));
        QVERIFY2(python.exitStatus() == QProcess::NormalExit && python.exitCode() == 0,
                 python.readAllStandardError().constData());
    }

    void nonceMismatch_data()
    {
        QTest::addColumn<QByteArray>("nonce");
        QTest::newRow("one bit") << QByteArray::fromHex(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a09");
        QTest::newRow("prefix") << QByteArray::fromHex("9f86d081884c7d659a2feaa0c55ad015");
        QTest::newRow("longer") << QByteArray::fromHex(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0800");
        QTest::newRow("empty") << QByteArray();
    }

    void nonceMismatch()
    {
        QFETCH(QByteArray, nonce);
        QCOMPARE_ERROR(verifyQuote(quoteEvidence(QStringLiteral("quote")),
                                   pub(QStringLiteral("ak")), toBytes(nonce)),
                       EvidenceError::NonceMismatch);
    }

    void pcrValueChanged_data()
    {
        QTest::addColumn<int>("pcr");
        QTest::addColumn<int>("byte");
        for (int pcr : {0, 1, 7})
            for (int byte : {0, 31})
                QTest::addRow("pcr %d byte %d", pcr, byte) << pcr << byte;
    }

    void pcrValueChanged()
    {
        QFETCH(int, pcr);
        QFETCH(int, byte);
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("quote"));
        evidence.pcrs.at(unsigned(pcr))[byte] ^= 0x80;
        QCOMPARE_ERROR(verifyQuote(evidence, pub(QStringLiteral("ak")), m_nonce),
                       EvidenceError::PcrDigestMismatch);
    }

    // The same values in another order give another digest: values are bound to indices.
    void pcrValuesSwapped()
    {
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("quote"));
        std::swap(evidence.pcrs.at(0), evidence.pcrs.at(7));
        QCOMPARE_ERROR(verifyQuote(evidence, pub(QStringLiteral("ak")), m_nonce),
                       EvidenceError::PcrDigestMismatch);
    }

    void pcrSelectionMismatch_data()
    {
        QTest::addColumn<QList<int>>("remove");
        QTest::addColumn<QList<int>>("add");
        QTest::newRow("pcr 7 missing") << QList<int>{7} << QList<int>{};
        QTest::newRow("pcr 0 missing") << QList<int>{0} << QList<int>{};
        QTest::newRow("all missing") << QList<int>{0, 1, 7} << QList<int>{};
        QTest::newRow("pcr 2 extra") << QList<int>{} << QList<int>{2};
        QTest::newRow("pcr 23 extra") << QList<int>{} << QList<int>{23};
        QTest::newRow("pcr 8 instead of 7") << QList<int>{7} << QList<int>{8};
    }

    void pcrSelectionMismatch()
    {
        QFETCH(QList<int>, remove);
        QFETCH(QList<int>, add);
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("quote"));
        for (int pcr : remove)
            evidence.pcrs.erase(unsigned(pcr));
        for (int pcr : add)
            evidence.pcrs[unsigned(pcr)] = Bytes(32, 0);
        QCOMPARE_ERROR(verifyQuote(evidence, pub(QStringLiteral("ak")), m_nonce),
                       EvidenceError::PcrSelectionMismatch);
    }

    void pcrValueMalformed_data()
    {
        QTest::addColumn<int>("pcr");
        QTest::addColumn<int>("size");
        QTest::newRow("31 bytes") << 7 << 31;
        QTest::newRow("33 bytes") << 7 << 33;
        QTest::newRow("empty") << 0 << 0;
        QTest::newRow("sha384 size") << 1 << 48;
        QTest::newRow("pcr 24") << 24 << 32;
        QTest::newRow("pcr 1000") << 1000 << 32;
    }

    void pcrValueMalformed()
    {
        QFETCH(int, pcr);
        QFETCH(int, size);
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("quote"));
        evidence.pcrs[unsigned(pcr)] = Bytes(std::size_t(size), 0x11);
        QCOMPARE_ERROR(verifyQuote(evidence, pub(QStringLiteral("ak")), m_nonce),
                       EvidenceError::PcrValueMalformed);
    }

    void signatureByteFlipped_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("offset");
        // Every byte of r and s (sigAlg, hash, r size come first; s has its own size).
        const Bytes ecc = toBytes(m_tools->readFile(QStringLiteral("quote.sig")));
        const std::size_t rSize = std::size_t(ecc[4]) << 8 | ecc[5];
        for (std::size_t offset = 6; offset < ecc.size(); ++offset)
            if (offset != 6 + rSize && offset != 7 + rSize)
                QTest::addRow("ecdsa %zu", offset) << QStringLiteral("quote") << int(offset);
        const Bytes rsa = toBytes(m_tools->readFile(QStringLiteral("rsassa.sig")));
        for (std::size_t offset = 6; offset < rsa.size(); offset += 17)
            QTest::addRow("rsassa %zu", offset) << QStringLiteral("rsassa") << int(offset);
    }

    void signatureByteFlipped()
    {
        QFETCH(QString, name);
        QFETCH(int, offset);
        QuoteEvidence evidence = quoteEvidence(name);
        evidence.signature[offset] ^= 0x01;
        QCOMPARE_ERROR(verifyQuote(evidence, pub(m_quotes.at(name).first), m_nonce),
                       EvidenceError::BadSignature);
    }

    // A field changed in the signed bytes, with the checks after the signature satisfied.
    void attestByteFlipped_data()
    {
        QTest::addColumn<int>("offset");
        // magic(4) type(2) qualifiedSigner(2+34) extraData(2+32) clock(8) resetCount(4)
        // restartCount(4) safe(1) firmwareVersion(8)
        QTest::newRow("qualifiedSigner") << 4 + 2 + 2 + 10;
        QTest::newRow("extraData (nonce adjusted)") << 4 + 2 + 36 + 2 + 5;
        QTest::newRow("clock") << 4 + 2 + 36 + 34 + 7;
        QTest::newRow("resetCount") << 4 + 2 + 36 + 34 + 8 + 3;
        QTest::newRow("restartCount") << 4 + 2 + 36 + 34 + 8 + 4 + 3;
        QTest::newRow("firmwareVersion") << 4 + 2 + 36 + 34 + 8 + 4 + 4 + 1 + 7;
        QTest::newRow("pcrDigest") << -1;
    }

    void attestByteFlipped()
    {
        QFETCH(int, offset);
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("quote"));
        Bytes nonce = m_nonce;
        if (offset < 0) {
            // The last byte of pcrDigest: the signature covers it and is checked first.
            evidence.attest.back() ^= 0x01;
        } else {
            evidence.attest[std::size_t(offset)] ^= 0x01;
            if (offset >= 4 + 2 + 36 + 2 && offset < 4 + 2 + 36 + 34)
                nonce[std::size_t(offset - (4 + 2 + 36 + 2))] ^= 0x01;
        }
        QCOMPARE_ERROR(verifyQuote(evidence, pub(QStringLiteral("ak")), nonce),
                       EvidenceError::BadSignature);
    }

    void differentAk_data()
    {
        QTest::addColumn<QString>("ak");
        QTest::newRow("another ecdsa ak") << QStringLiteral("ak2");
        QTest::newRow("rsassa ak") << QStringLiteral("rsassaak");
        QTest::newRow("rsapss ak") << QStringLiteral("rsapssak");
    }

    void differentAk()
    {
        QFETCH(QString, ak);
        QCOMPARE_ERROR(verifyQuote(quoteEvidence(QStringLiteral("quote")), pub(ak), m_nonce),
                       EvidenceError::BadSignature);
        QCOMPARE_ERROR(verifyCertify(certifyEvidence(), pub(ak), pub(QStringLiteral("device")),
                                     certifyQualifyingData),
                       EvidenceError::BadSignature);
    }

    // The RSASSA AK's signature relabelled as RSAPSS: refused before any RSA arithmetic.
    void signatureSchemeNotTheAks()
    {
        QuoteEvidence evidence = quoteEvidence(QStringLiteral("rsassa"));
        evidence.signature[1] = TPM2_ALG_RSAPSS;
        std::string message;
        QCOMPARE(errorOf([&] { verifyQuote(evidence, pub(QStringLiteral("rsassaak")), m_nonce); },
                         &message),
                 EvidenceError::BadSignature);
        QCOMPARE(message, std::string("signature scheme rsapss/sha256 is not the attestation key's "
                                      "rsassa/sha256"));
    }

    // A perfectly valid quote, signed by a key that is not restricted: such a key signs any
    // bytes, including forged TPMS_ATTEST structures, so it proves nothing.
    void signedByNonRestrictedKey()
    {
        const QuoteEvidence evidence = quoteEvidence(QStringLiteral("device"));
        QCOMPARE(checkquote(QStringLiteral("device"), m_nonce), 0);
        std::string message;
        QCOMPARE(errorOf([&] { verifyQuote(evidence, pub(QStringLiteral("device")), m_nonce); },
                         &message),
                 EvidenceError::KeyAttributes);
        QCOMPARE(message, std::string("attestation key attributes: restricted is not set"));
    }

    void badMagic_data()
    {
        QTest::addColumn<int>("offset");
        for (int offset = 0; offset < 4; ++offset)
            QTest::addRow("byte %d", offset) << offset;
    }

    void badMagic()
    {
        QFETCH(int, offset);
        QuoteEvidence quote = quoteEvidence(QStringLiteral("quote"));
        quote.attest[std::size_t(offset)] ^= 0x10;
        QCOMPARE_ERROR(verifyQuote(quote, pub(QStringLiteral("ak")), m_nonce),
                       EvidenceError::BadMagic);
        CertifyEvidence certify = certifyEvidence();
        certify.attest[std::size_t(offset)] ^= 0x10;
        QCOMPARE_ERROR(verifyCertify(certify, pub(QStringLiteral("ak")),
                                     pub(QStringLiteral("device")), certifyQualifyingData),
                       EvidenceError::BadMagic);
    }

    void wrongType()
    {
        const CertifyEvidence certify = certifyEvidence();
        QuoteEvidence asQuote = quoteEvidence(QStringLiteral("quote"));
        asQuote.attest = certify.attest;
        asQuote.signature = certify.signature;
        std::string message;
        QCOMPARE(
            errorOf([&] { verifyQuote(asQuote, pub(QStringLiteral("ak")), m_nonce); }, &message),
            EvidenceError::WrongType);
        QCOMPARE(message, std::string("attestation is a certify, not a quote"));

        const QuoteEvidence quote = quoteEvidence(QStringLiteral("quote"));
        QCOMPARE_ERROR(verifyCertify({quote.attest, quote.signature}, pub(QStringLiteral("ak")),
                                     pub(QStringLiteral("device")), m_nonce),
                       EvidenceError::WrongType);
    }

    void truncated_data()
    {
        QTest::addColumn<QString>("blob");
        QTest::addColumn<int>("length");
        const std::pair<const char *, const char *> blobs[] = {{"attest", "quote.msg"},
                                                               {"signature", "quote.sig"},
                                                               {"ak public", "ak.pub"},
                                                               {"certify attest", "certify.attest"},
                                                               {"certified public", "device.pub"}};
        for (const auto &[blob, fileName] : blobs) {
            const qsizetype size = m_tools->readFile(QLatin1String(fileName)).size();
            for (qsizetype length = 0; length < size; ++length)
                QTest::addRow("%s %lld", blob, static_cast<long long>(length))
                    << QString::fromLatin1(blob) << int(length);
        }
    }

    // Every proper prefix of every blob is malformed; nothing reads past the end (ASan).
    void truncated()
    {
        QFETCH(QString, blob);
        QFETCH(int, length);
        QuoteEvidence quote = quoteEvidence(QStringLiteral("quote"));
        CertifyEvidence certify = certifyEvidence();
        Bytes ak = pub(QStringLiteral("ak"));
        Bytes device = pub(QStringLiteral("device"));
        Bytes &target = blob == QLatin1String("attest")           ? quote.attest
                        : blob == QLatin1String("signature")      ? quote.signature
                        : blob == QLatin1String("ak public")      ? ak
                        : blob == QLatin1String("certify attest") ? certify.attest
                                                                  : device;
        // Shrink into a fresh allocation so ASan sees any read past the new end.
        target = Bytes(target.begin(), target.begin() + length);
        target.shrink_to_fit();
        if (blob.startsWith(QLatin1String("cert")))
            QCOMPARE_ERROR(verifyCertify(certify, ak, device, certifyQualifyingData),
                           EvidenceError::Malformed);
        else
            QCOMPARE_ERROR(verifyQuote(quote, ak, m_nonce), EvidenceError::Malformed);
    }

    void trailingBytes_data()
    {
        QTest::addColumn<QString>("blob");
        for (const char *blob : {"attest", "signature", "ak public", "certify attest",
                                 "certify signature", "certified public"})
            QTest::newRow(blob) << QString::fromLatin1(blob);
    }

    void trailingBytes()
    {
        QFETCH(QString, blob);
        QuoteEvidence quote = quoteEvidence(QStringLiteral("quote"));
        CertifyEvidence certify = certifyEvidence();
        Bytes ak = pub(QStringLiteral("ak"));
        Bytes device = pub(QStringLiteral("device"));
        Bytes &target = blob == QLatin1String("attest")              ? quote.attest
                        : blob == QLatin1String("signature")         ? quote.signature
                        : blob == QLatin1String("ak public")         ? ak
                        : blob == QLatin1String("certify attest")    ? certify.attest
                        : blob == QLatin1String("certify signature") ? certify.signature
                                                                     : device;
        target.push_back(0x00);
        if (blob.startsWith(QLatin1String("cert")))
            QCOMPARE_ERROR(verifyCertify(certify, ak, device, certifyQualifyingData),
                           EvidenceError::Malformed);
        else
            QCOMPARE_ERROR(verifyQuote(quote, ak, m_nonce), EvidenceError::Malformed);
    }

    void certifyVerifies()
    {
        const VerifiedAttest result =
            verifyCertify(certifyEvidence(), pub(QStringLiteral("ak")),
                          pub(QStringLiteral("device")), certifyQualifyingData);
        compareWithTpm2Print(result, QStringLiteral("certify.attest"));
        // The AK that signed the quote signed this too: same qualified signer.
        const VerifiedAttest quote =
            verifyQuote(quoteEvidence(QStringLiteral("quote")), pub(QStringLiteral("ak")), m_nonce);
        QCOMPARE(toHex(result.qualifiedSigner), toHex(quote.qualifiedSigner));
        QVERIFY(result.clockInfo.clock >= quote.clockInfo.clock);
        QCOMPARE(result.clockInfo.resetCount, quote.clockInfo.resetCount);
    }

    void certifyNameMismatch_data()
    {
        QTest::addColumn<QString>("certified");
        QTest::newRow("the ak itself") << QStringLiteral("ak");
        QTest::newRow("another key") << QStringLiteral("ak2");
        QTest::newRow("an rsa key") << QStringLiteral("rsassaak");
    }

    void certifyNameMismatch()
    {
        QFETCH(QString, certified);
        QCOMPARE_ERROR(verifyCertify(certifyEvidence(), pub(QStringLiteral("ak")), pub(certified),
                                     certifyQualifyingData),
                       EvidenceError::NameMismatch);
    }

    void certifyQualifyingDataMismatch()
    {
        QCOMPARE_ERROR(verifyCertify(certifyEvidence(), pub(QStringLiteral("ak")),
                                     pub(QStringLiteral("device")), m_nonce),
                       EvidenceError::NonceMismatch);
        QCOMPARE_ERROR(verifyCertify(certifyEvidence(), pub(QStringLiteral("ak")),
                                     pub(QStringLiteral("device")), Bytes{}),
                       EvidenceError::NonceMismatch);
    }

    void certifySignatureFlipped()
    {
        CertifyEvidence evidence = certifyEvidence();
        evidence.signature[10] ^= 0x01;
        QCOMPARE_ERROR(verifyCertify(evidence, pub(QStringLiteral("ak")),
                                     pub(QStringLiteral("device")), certifyQualifyingData),
                       EvidenceError::BadSignature);
    }

    void errorNamesAreStable()
    {
        QCOMPARE(evidenceErrorName(EvidenceError::NonceMismatch),
                 std::string_view("nonce_mismatch"));
        QCOMPARE(evidenceErrorName(EvidenceError::PcrDigestMismatch),
                 std::string_view("pcr_digest_mismatch"));
    }
};

QTEST_APPLESS_MAIN(TestAttestVerifier)
#include "tst_attestverifier.moc"

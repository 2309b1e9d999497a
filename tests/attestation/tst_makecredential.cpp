#include "attestation/evidenceerror.h"
#include "attestation/makecredential.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QTest>
#include <fstream>
#include <memory>
#include <openssl/rand.h>
#include <tss2/tss2_mu.h>

using namespace vigil::attestation;
using vigil::Bytes;
using vigil::toHex;
using vigil::protocol::CredentialChallenge;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

struct ToolResult
{
    int exitCode = -1;
    QByteArray standardError;
};

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const std::filesystem::path &path, const Bytes &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

Bytes randomBytes(std::size_t size)
{
    Bytes bytes(size);
    RAND_bytes(bytes.data(), int(size));
    return bytes;
}

// tpm2-tools' credential file (tpm2_makecredential -o, tpm2_activatecredential -i): magic
// 0xBADCC0DE and version 1, both big-endian, then TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET
// with their size prefixes. Checked against `tpm2_makecredential -T none` output in
// toolCredentialFileLayout.
Bytes credentialFile(const CredentialChallenge &challenge)
{
    Bytes file{0xba, 0xdc, 0xc0, 0xde, 0x00, 0x00, 0x00, 0x01};
    file.insert(file.end(), challenge.credentialBlob.begin(), challenge.credentialBlob.end());
    file.insert(file.end(), challenge.encryptedSecret.begin(), challenge.encryptedSecret.end());
    return file;
}

EvidenceError evidenceError(const std::function<void()> &operation)
{
    try {
        operation();
    } catch (const EvidenceException &e) {
        return e.error();
    }
    qFatal("expected an EvidenceException");
}

Bytes marshalPublic(const TPM2B_PUBLIC &source)
{
    TPM2B_PUBLIC copy = source;
    copy.size = 0; // recomputed by the marshaller
    Bytes out(sizeof(TPM2B_PUBLIC));
    std::size_t offset = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Marshal(&copy, out.data(), out.size(), &offset) != TSS2_RC_SUCCESS)
        qFatal("cannot marshal TPM2B_PUBLIC");
    out.resize(offset);
    return out;
}

TPM2B_PUBLIC unmarshalPublic(const Bytes &bytes)
{
    TPM2B_PUBLIC result{};
    std::size_t offset = 0;
    if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(bytes.data(), bytes.size(), &offset, &result) !=
        TSS2_RC_SUCCESS)
        qFatal("cannot unmarshal TPM2B_PUBLIC");
    return result;
}

} // namespace

class TestMakeCredential : public QObject
{
    Q_OBJECT

    std::unique_ptr<SwtpmSimulator> m_sim;
    std::filesystem::path m_dir;
    Bytes m_akName;

    ToolResult tool(const std::string &program, const std::vector<std::string> &argv)
    {
        QStringList arguments;
        for (const std::string &a : argv)
            arguments << QString::fromStdString(a);
        // Sessions and EKs must outlive a single tool here, so nothing is flushed behind our back.
        const Tpm2Tools tools(*m_sim, Tpm2Tools::Flush::Never);
        QByteArray standardError;
        const int exitCode =
            tools.runUnchecked(QString::fromStdString(program), arguments, nullptr, &standardError);
        return {exitCode, standardError};
    }

    void mustRun(const std::string &program, const std::vector<std::string> &arguments)
    {
        const ToolResult result = tool(program, arguments);
        if (result.exitCode != 0)
            qFatal("%s failed: %s", program.c_str(), result.standardError.constData());
    }

    Bytes ekPublic(const QByteArray &ek) { return readFile(m_dir / (ek.toStdString() + ".pub")); }

    // TPM2_ActivateCredential by tpm2-tools under the EK's PolicySecret(endorsement) session.
    // The P-384 key's policy is a SHA-384 digest, so its session hashes with SHA-384.
    ToolResult activate(const QByteArray &ekName, const CredentialChallenge &challenge)
    {
        writeFile(m_dir / "cred.bin", credentialFile(challenge));
        std::filesystem::remove(m_dir / "recovered.bin");
        const std::string ek = ekName.toStdString();
        const std::string hash = ek == "ek_p384" ? "sha384" : "sha256";
        mustRun("tpm2_startauthsession", {"--policy-session", "-g", hash, "-S", "session.ctx"});
        mustRun("tpm2_policysecret", {"-S", "session.ctx", "-c", "e"});
        const ToolResult result =
            tool("tpm2_activatecredential", {"-c", "ak.ctx", "-C", ek + ".ctx", "-i", "cred.bin",
                                             "-o", "recovered.bin", "-P", "session:session.ctx"});
        // tpm2-tools leaves what it loaded from context files in the TPM's few slots.
        tool("tpm2_flushcontext", {"session.ctx"}); // gone already if activation consumed it
        mustRun("tpm2_flushcontext", {"-t"});
        return result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_dir = m_sim->scratchDirectory();
        // swtpm has three transient slots: tpm2_createek leaves its EK loaded (and saved in
        // the context file, which later commands load again), so flush after each.
        for (const std::string alg : {"rsa", "ecc", "ecc384"}) {
            mustRun("tpm2_createek",
                    {"-c", "ek_" + alg + ".ctx", "-G", alg, "-u", "ek_" + alg + ".pub"});
            mustRun("tpm2_flushcontext", {"-t"});
        }
        // The high-range P-384 EK's policy is PolicyOR(PolicySecret(endorsement),
        // PolicyAuthorizeNV), which tpm2_activatecredential cannot satisfy on its own. For the
        // P-384/SHA-384/AES-256 activation round trip, a storage primary with the same
        // algorithms and the PolicySecret(endorsement) branch alone as its policy stands in.
        mustRun("tpm2_startauthsession", {"-S", "trial.ctx", "-g", "sha384"});
        mustRun("tpm2_policysecret", {"-S", "trial.ctx", "-c", "e", "-L", "policy384.dig"});
        mustRun("tpm2_flushcontext", {"trial.ctx"});
        mustRun("tpm2_createprimary",
                {"-C", "e", "-G", "ecc384:aes256cfb", "-g", "sha384", "-a",
                 "fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|decrypt",
                 "-L", "policy384.dig", "-c", "ek_p384.ctx"});
        mustRun("tpm2_readpublic", {"-c", "ek_p384.ctx", "-o", "ek_p384.pub"});
        mustRun("tpm2_flushcontext", {"-t"});
        mustRun("tpm2_createak", {"-C", "ek_rsa.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256",
                                  "-s", "ecdsa", "-u", "ak.pub", "-n", "ak.name"});
        mustRun("tpm2_flushcontext", {"-t"});
        m_akName = readFile(m_dir / "ak.name");
        QCOMPARE(m_akName.size(), std::size_t(34));
    }

    void cleanupTestCase() { m_sim.reset(); }

    // The file layout credentialFile() writes is the one tpm2-tools writes itself.
    void toolCredentialFileLayout()
    {
        writeFile(m_dir / "tool_secret.bin", randomBytes(32));
        mustRun("tpm2_makecredential", {"-T", "none", "-u", "ek_rsa.pub", "-s", "tool_secret.bin",
                                        "-n", toHex(m_akName), "-o", "tool_cred.bin"});
        const Bytes file = readFile(m_dir / "tool_cred.bin");
        QVERIFY(file.size() > 8);
        QVERIFY(Bytes(file.begin(), file.begin() + 8) ==
                (Bytes{0xba, 0xdc, 0xc0, 0xde, 0x00, 0x00, 0x00, 0x01}));
        TPM2B_ID_OBJECT idObject{};
        TPM2B_ENCRYPTED_SECRET secret{};
        std::size_t offset = 8;
        QCOMPARE(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(file.data(), file.size(), &offset, &idObject),
                 TSS2_RC_SUCCESS);
        QCOMPARE(
            Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(file.data(), file.size(), &offset, &secret),
            TSS2_RC_SUCCESS);
        QCOMPARE(offset, file.size());
        // Ours has the same shape: same sizes for the same EK, name and secret length.
        const CredentialChallenge ours =
            makeCredential(ekPublic("ek_rsa"), m_akName, randomBytes(32));
        QCOMPARE(credentialFile(ours).size(), file.size());
        QCOMPARE(ours.credentialBlob.size(), std::size_t(2 + idObject.size));
        QCOMPARE(ours.encryptedSecret.size(), std::size_t(2 + secret.size));
    }

    void structure_data()
    {
        QTest::addColumn<QByteArray>("ek");
        QTest::addColumn<int>("hmacSize");
        QTest::addColumn<int>("secretSize");
        QTest::newRow("rsa") << QByteArray("ek_rsa") << 32 << 256;
        QTest::newRow("ecc p256") << QByteArray("ek_ecc") << 32 << 2 + 32 + 2 + 32;
        QTest::newRow("ecc p384") << QByteArray("ek_ecc384") << 48 << 2 + 48 + 2 + 48;
    }

    void structure()
    {
        QFETCH(QByteArray, ek);
        QFETCH(int, hmacSize);
        QFETCH(int, secretSize);
        const Bytes secret = randomBytes(20);
        const CredentialChallenge challenge = makeCredential(ekPublic(ek), m_akName, secret);

        TPM2B_ID_OBJECT idObject{};
        std::size_t offset = 0;
        QCOMPARE(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(challenge.credentialBlob.data(),
                                                   challenge.credentialBlob.size(), &offset,
                                                   &idObject),
                 TSS2_RC_SUCCESS);
        QCOMPARE(offset, challenge.credentialBlob.size());
        // TPM2B_DIGEST(outer HMAC) || AES-CFB(TPM2B_DIGEST(secret)); CFB keeps the length.
        QCOMPARE(int(idObject.size), 2 + hmacSize + 2 + int(secret.size()));
        QCOMPARE(int(idObject.credential[0] << 8 | idObject.credential[1]), hmacSize);

        TPM2B_ENCRYPTED_SECRET encrypted{};
        offset = 0;
        QCOMPARE(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(challenge.encryptedSecret.data(),
                                                          challenge.encryptedSecret.size(), &offset,
                                                          &encrypted),
                 TSS2_RC_SUCCESS);
        QCOMPARE(offset, challenge.encryptedSecret.size());
        QCOMPARE(int(encrypted.size), secretSize);

        // Fresh seed every time: the same inputs never give the same challenge.
        const CredentialChallenge again = makeCredential(ekPublic(ek), m_akName, secret);
        QVERIFY(again.credentialBlob != challenge.credentialBlob);
        QVERIFY(again.encryptedSecret != challenge.encryptedSecret);
    }

    // The real TPM recovers exactly the secret.
    void activation_data()
    {
        QTest::addColumn<QByteArray>("ek");
        QTest::addColumn<int>("secretSize");
        QTest::newRow("rsa 32") << QByteArray("ek_rsa") << 32;
        QTest::newRow("rsa 1") << QByteArray("ek_rsa") << 1;
        QTest::newRow("ecc p256 32") << QByteArray("ek_ecc") << 32;
        QTest::newRow("ecc p256 16") << QByteArray("ek_ecc") << 16;
        QTest::newRow("ecc p384 48") << QByteArray("ek_p384") << 48;
    }

    void activation()
    {
        QFETCH(QByteArray, ek);
        QFETCH(int, secretSize);
        const Bytes secret = randomBytes(std::size_t(secretSize));
        const ToolResult result = activate(ek, makeCredential(ekPublic(ek), m_akName, secret));
        QVERIFY2(result.exitCode == 0, result.standardError.constData());
        QVERIFY(readFile(m_dir / "recovered.bin") == secret);
    }

    // Every protected part is bound: the TPM refuses a challenge with any of them changed.
    void tampered_data()
    {
        QTest::addColumn<QByteArray>("ek");
        QTest::addColumn<QByteArray>("part");
        QTest::addColumn<QByteArray>("tpmError");
        for (const QByteArray &ek : {QByteArray("ek_rsa"), QByteArray("ek_ecc")}) {
            // The outer HMAC covers encIdentity and the name: TPM_RC_INTEGRITY, parameter 1.
            QTest::newRow(ek + " hmac") << ek << QByteArray("hmac") << QByteArray("(0x1DF)");
            QTest::newRow(ek + " encIdentity")
                << ek << QByteArray("encIdentity") << QByteArray("(0x1DF)");
            QTest::newRow(ek + " name") << ek << QByteArray("name") << QByteArray("(0x1DF)");
        }
        // A changed RSA seed fails OAEP decoding, which libtpms (swtpm) reports as TPM_RC_FAILURE
        // (0x101) where the spec has TPM_RC_VALUE; the TPM does not enter failure mode (the
        // activation that follows succeeds). A changed ECC x coordinate leaves the curve:
        // TPM_RC_ECC_POINT, parameter 2.
        QTest::newRow("ek_rsa seed")
            << QByteArray("ek_rsa") << QByteArray("seed") << QByteArray("(0x101)");
        QTest::newRow("ek_ecc seed")
            << QByteArray("ek_ecc") << QByteArray("seed") << QByteArray("(0x2E7)");
    }

    void tampered()
    {
        QFETCH(QByteArray, ek);
        QFETCH(QByteArray, part);
        QFETCH(QByteArray, tpmError);
        const Bytes secret = randomBytes(32);
        Bytes name = m_akName;
        if (part == "name")
            name.back() ^= 0x01;
        CredentialChallenge challenge = makeCredential(ekPublic(ek), name, secret);
        if (part == "hmac")
            challenge.credentialBlob[4] ^= 0x01; // after the two size prefixes
        else if (part == "encIdentity")
            challenge.credentialBlob.back() ^= 0x01;
        else if (part == "seed")
            challenge.encryptedSecret[10] ^= 0x01;

        const ToolResult result = activate(ek, challenge);
        QVERIFY2(result.exitCode != 0, "the TPM accepted a tampered challenge");
        QVERIFY(!std::filesystem::exists(m_dir / "recovered.bin"));
        QVERIFY2(result.standardError.contains(tpmError), result.standardError.constData());

        // The untampered challenge for the real name still works on the same TPM.
        const ToolResult good = activate(ek, makeCredential(ekPublic(ek), m_akName, secret));
        QVERIFY2(good.exitCode == 0, good.standardError.constData());
        QVERIFY(readFile(m_dir / "recovered.bin") == secret);
    }

    void rejectsEkPublic()
    {
        const Bytes rsa = ekPublic("ek_rsa");
        const Bytes truncated(rsa.begin(), rsa.end() - 1);
        QCOMPARE(evidenceError([&] { makeCredential(truncated, m_akName, Bytes(32)); }),
                 EvidenceError::Malformed);
        Bytes trailing = rsa;
        trailing.push_back(0);
        QCOMPARE(evidenceError([&] { makeCredential(trailing, m_akName, Bytes(32)); }),
                 EvidenceError::Malformed);
        QCOMPARE(evidenceError([&] { makeCredential(Bytes{}, m_akName, Bytes(32)); }),
                 EvidenceError::Malformed);

        // The AK is a restricted signing key, not a decryption key.
        QCOMPARE(
            evidenceError([&] { makeCredential(readFile(m_dir / "ak.pub"), m_akName, Bytes(32)); }),
            EvidenceError::KeyAttributes);

        TPM2B_PUBLIC area = unmarshalPublic(rsa);
        area.publicArea.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
        QCOMPARE(evidenceError([&] { makeCredential(marshalPublic(area), m_akName, Bytes(32)); }),
                 EvidenceError::KeyAttributes);

        area = unmarshalPublic(rsa);
        area.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CBC;
        QCOMPARE(evidenceError([&] { makeCredential(marshalPublic(area), m_akName, Bytes(32)); }),
                 EvidenceError::UnsupportedAlgorithm);

        area = unmarshalPublic(rsa);
        area.publicArea.nameAlg = TPM2_ALG_SM3_256;
        QCOMPARE(evidenceError([&] { makeCredential(marshalPublic(area), m_akName, Bytes(32)); }),
                 EvidenceError::UnsupportedAlgorithm);

        area = unmarshalPublic(ekPublic("ek_ecc"));
        area.publicArea.parameters.eccDetail.curveID = TPM2_ECC_BN_P256;
        QCOMPARE(evidenceError([&] { makeCredential(marshalPublic(area), m_akName, Bytes(32)); }),
                 EvidenceError::UnsupportedAlgorithm);

        area = unmarshalPublic(ekPublic("ek_ecc"));
        area.publicArea.unique.ecc.y.buffer[5] ^= 0x01; // no longer on the curve
        QCOMPARE(evidenceError([&] { makeCredential(marshalPublic(area), m_akName, Bytes(32)); }),
                 EvidenceError::Malformed);
    }

    void rejectsNameAndSecret()
    {
        const Bytes rsa = ekPublic("ek_rsa");
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeCredential(rsa, m_akName, Bytes(33)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeCredential(rsa, m_akName, Bytes{}));
        // SHA-384 EK: up to 48 bytes.
        makeCredential(ekPublic("ek_ecc384"), m_akName, Bytes(48));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 makeCredential(ekPublic("ek_ecc384"), m_akName, Bytes(49)));

        const Bytes shortName(m_akName.begin(), m_akName.end() - 1);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeCredential(rsa, shortName, Bytes(32)));
        Bytes unknownAlg = m_akName;
        unknownAlg[1] = 0x12; // SM3_256
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, makeCredential(rsa, unknownAlg, Bytes(32)));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 makeCredential(rsa, Bytes{0x00}, Bytes(32)));
    }
};

QTEST_APPLESS_MAIN(TestMakeCredential)
#include "tst_makecredential.moc"

#include "attestation/tpm/tpm.h"
#include "attestation/tpm/tpmerror.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QTest>
#include <fstream>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace vigil::attestation;
using vigil::Bytes;
using vigil::toHex;
using vigil::protocol::PcrValues;
using vigil::protocol::QuoteEvidence;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

namespace {

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

TpmError::Kind errorKind(const std::function<void()> &operation, std::string *message = nullptr)
{
    try {
        operation();
    } catch (const TpmError &e) {
        if (message)
            *message = e.what();
        return e.kind();
    }
    qFatal("expected a TpmError");
}

Bytes sha256Of(const Bytes &data)
{
    Bytes digest(32);
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
    return digest;
}

} // namespace

class TestTpm : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_sim = std::make_unique<SwtpmSimulator>();
        m_tpm = std::make_unique<Tpm>(m_sim->tcti());
        // Never flush everything: that would unload the keys these tests hold in the TPM.
        m_tools = std::make_unique<Tpm2Tools>(*m_sim, Tpm2Tools::Flush::Never);
    }

    void info()
    {
        const TpmInfo info = m_tpm->info();
        QCOMPARE(info.manufacturer, std::string("IBM")); // libtpms identifies as IBM
        QVERIFY(info.specification.starts_with("2.0 level 0 revision 1."));
        QVERIFY(std::find(info.pcrBanks.begin(), info.pcrBanks.end(), "sha256") !=
                info.pcrBanks.end());
        QVERIFY(!info.inLockout);
        QVERIFY(info.maxAuthFail > 0);
    }

    // The EK certificate swtpm_setup stored, byte for byte as tpm2_nvread reads it.
    void readsEkCertificateFromNv()
    {
        const auto certificate = m_tpm->readNv(ekCertificateIndexRsa2048);
        QVERIFY(certificate);
        QVERIFY(certificate->size() > 500);
        QCOMPARE((*certificate)[0], std::uint8_t(0x30)); // DER SEQUENCE
        m_tools->run(
            QStringLiteral("tpm2_nvread"),
            {QStringLiteral("0x01c00002"), QStringLiteral("-o"), QStringLiteral("ek.der")});
        QVERIFY(*certificate == readFile(m_sim->scratchDirectory() / "ek.der"));
    }

    void undefinedNvIndexIsAbsent()
    {
        // swtpm stores its ECC EK certificate for P-384 (0x01c00016), not at the P-256 index.
        QVERIFY(!m_tpm->readNv(ekCertificateIndexEccP256));
        QVERIFY(!m_tpm->readNv(0x01c0ffff));
    }

    // The EK from the TCG default template is the one tpm2_createek makes from the same seed.
    void endorsementKeyMatchesTpm2Tools_data()
    {
        QTest::addColumn<int>("type");
        QTest::addColumn<QString>("algorithm");
        QTest::newRow("rsa") << int(EkType::Rsa2048) << QStringLiteral("rsa");
        QTest::newRow("ecc") << int(EkType::EccP256) << QStringLiteral("ecc");
    }

    void endorsementKeyMatchesTpm2Tools()
    {
        QFETCH(int, type);
        QFETCH(QString, algorithm);
        const TpmObject ek = m_tpm->createEndorsementKey(static_cast<EkType>(type));
        m_tools->run(QStringLiteral("tpm2_createek"),
                     {QStringLiteral("-c"), QStringLiteral("-"), QStringLiteral("-G"), algorithm,
                      QStringLiteral("-u"), QStringLiteral("ek.pub")});
        QVERIFY(ek.publicArea() == readFile(m_sim->scratchDirectory() / "ek.pub"));
    }

    // More than eight PCRs take several TPM2_PCR_Read calls; values match tpm2_pcrread.
    void readsAnyPcrSelection()
    {
        m_tools->run(QStringLiteral("tpm2_pcrextend"),
                     {QStringLiteral("9:sha256=") + QString(64, QLatin1Char('a'))});
        std::vector<unsigned> all(24);
        std::iota(all.begin(), all.end(), 0u);
        const PcrValues values = m_tpm->readPcrs(all);
        QCOMPARE(values.size(), std::size_t(24));
        m_tools->run(
            QStringLiteral("tpm2_pcrread"),
            {QStringLiteral("sha256:0,9,23"), QStringLiteral("-o"), QStringLiteral("pcrs.bin")});
        const Bytes expected = readFile(m_sim->scratchDirectory() / "pcrs.bin");
        Bytes ours = values.at(0);
        ours.insert(ours.end(), values.at(9).begin(), values.at(9).end());
        ours.insert(ours.end(), values.at(23).begin(), values.at(23).end());
        QVERIFY(ours == expected);
        QVERIFY(values.at(9) != Bytes(32, 0));
    }

    void quoteCoversExactlyTheSelection()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestationKeyTemplate()));
        const Bytes nonce(32, 0x5a);
        const std::vector<unsigned> pcrs{0, 1, 2, 3, 4, 5, 6, 7, 9, 14, 23};
        const QuoteEvidence quote = m_tpm->quote(ak, nonce, pcrs);
        QCOMPARE(quote.pcrs.size(), pcrs.size());
        for (unsigned pcr : pcrs)
            QCOMPARE(quote.pcrs.count(pcr), std::size_t(1));
        // TPMS_ATTEST: magic, type ATTEST_QUOTE; the signature is ECDSA/SHA-256.
        QCOMPARE(toHex(Bytes(quote.attest.begin(), quote.attest.begin() + 6)),
                 std::string("ff5443478018"));
        QCOMPARE(toHex(Bytes(quote.signature.begin(), quote.signature.begin() + 4)),
                 std::string("0018000b"));
        // The digest in the quote covers the returned values in ascending order.
        Bytes concatenated;
        for (const auto &[pcr, value] : quote.pcrs)
            concatenated.insert(concatenated.end(), value.begin(), value.end());
        const Bytes digest = sha256Of(concatenated);
        QVERIFY(std::search(quote.attest.begin(), quote.attest.end(), digest.begin(),
                            digest.end()) != quote.attest.end());
    }

    void badRequestsAreRefused()
    {
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestationKeyTemplate()));
        std::string message;
        QCOMPARE(errorKind([&] { m_tpm->quote(ak, Bytes(32), {24}); }, &message),
                 TpmError::Kind::Other);
        QVERIFY(message.find("PCR 24 does not exist") != std::string::npos);
        QCOMPARE(errorKind([&] { m_tpm->quote(ak, Bytes(32), {}); }), TpmError::Kind::Other);
        QCOMPARE(errorKind([&] { m_tpm->quote(ak, Bytes(65), {0}); }, &message),
                 TpmError::Kind::Other);
        QVERIFY(message.find("longer than the TPM accepts") != std::string::npos);
        QCOMPARE(errorKind([&] { m_tpm->sign(ak, Bytes(31)); }), TpmError::Kind::Other);
        // The AK is restricted: the TPM itself refuses to sign an outside digest with it.
        QCOMPARE(errorKind([&] { m_tpm->sign(ak, Bytes(32)); }, &message), TpmError::Kind::Other);
        QVERIFY(message.find("sign: ") == 0);
        QCOMPARE(errorKind([&] {
                     m_tpm->loadKey(srk, TpmKeyBlobs{Bytes{0, 4, 1, 2}, Bytes{}});
                 }),
                 TpmError::Kind::BadState);
    }

    // Thousands of operations leave no object or session behind (swtpm has 3 object slots and no
    // resource manager, so a single leak would make the next create fail).
    void noTransientObjectLeaks()
    {
        const std::size_t before = m_tpm->loadedTransientObjects();
        TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestationKeyTemplate()));
        const TpmObject key = m_tpm->loadKey(srk, m_tpm->createKey(srk, signingKeyTemplate()));
        srk = TpmObject(); // the third slot is for the EK below
        QCOMPARE(m_tpm->loadedTransientObjects(), before + 2);
        for (int i = 0; i < 500; ++i) {
            m_tpm->quote(ak, Bytes(32, std::uint8_t(i)), {0, 7});
            m_tpm->certify(key, ak, Bytes(16, 1));
            m_tpm->sign(key, Bytes(32, 2));
            try {
                m_tpm->sign(ak, Bytes(32, 2)); // fails inside the TPM
            } catch (const TpmError &) {
            }
        }
        for (int i = 0; i < 50; ++i)
            m_tpm->createEndorsementKey(EkType::EccP256);
        QCOMPARE(m_tpm->loadedTransientObjects(), before + 2);
    }

    // A library may not write the environment of a process whose other threads read it:
    // QtTest's watchdog thread reads it as each test function starts, and a Tpm that set
    // TSS2_LOG there crashed verifier.protocolflow under ASan (getenv on the freed array).
    void leavesTheEnvironmentAlone()
    {
        qunsetenv("TSS2_LOG"); // Qt's functions take the lock the watchdog's reads take
        char **const before = environ;
        Tpm tpm(m_sim->tcti());
        QVERIFY(!qEnvironmentVariableIsSet("TSS2_LOG"));
        QVERIFY(environ == before); // nothing added either
        qputenv("TSS2_LOG", "all+NONE");
    }

    void missingDeviceIsNoTpm()
    {
        std::string message;
        QCOMPARE(errorKind([] { Tpm("device:/nonexistent/tpmrm0"); }, &message),
                 TpmError::Kind::NoTpm);
        QVERIFY(message.find("/nonexistent/tpmrm0 does not exist") != std::string::npos);
    }

    void unreachableSimulatorIsNoTpm()
    {
        SwtpmSimulator stopped;
        stopped.stop();
        QCOMPARE(errorKind([&] { Tpm tpm(stopped.tcti()); }), TpmError::Kind::NoTpm);
    }

    // A device node this user may not open: the error names the tss group. Checked in a child
    // that drops to an unprivileged uid when the test runs as root (root bypasses modes).
    void unreadableDeviceNamesTheTssGroup()
    {
        const auto node = m_sim->scratchDirectory() / "tpmrm0";
        std::ofstream(node).put('\0');
        chmod(node.c_str(), 0600);
        const pid_t child = fork();
        if (child == 0) {
            if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
                _exit(3);
            std::string message;
            const auto kind = errorKind([&] { Tpm("device:" + node.string()); }, &message);
            _exit(kind == TpmError::Kind::PermissionDenied &&
                          message.find("'tss' group") != std::string::npos
                      ? 0
                      : 1);
        }
        int status = 0;
        waitpid(child, &status, 0);
        QVERIFY(WIFEXITED(status));
        QCOMPARE(WEXITSTATUS(status), 0);
    }

    // Lockout: after a wrong authorization with max-tries 1, DA-protected keys (a user key) are
    // refused, and the error says so; the AK and device key (noDA, empty authValue) keep working,
    // so users' wrong PINs cannot stop attestation. Runs last: it leaves this TPM locked out.
    void lockoutIsNamed()
    {
        m_tools->run(QStringLiteral("tpm2_dictionarylockout"),
                     {QStringLiteral("-s"), QStringLiteral("-n"), QStringLiteral("1"),
                      QStringLiteral("-t"), QStringLiteral("600"), QStringLiteral("-l"),
                      QStringLiteral("600")});
        m_tools->run(QStringLiteral("tpm2_createprimary"),
                     {QStringLiteral("-C"), QStringLiteral("o"), QStringLiteral("-c"),
                      QStringLiteral("primary.ctx")});
        m_tools->run(QStringLiteral("tpm2_flushcontext"), {QStringLiteral("-t")});
        m_tools->run(QStringLiteral("tpm2_create"),
                     {QStringLiteral("-C"), QStringLiteral("primary.ctx"), QStringLiteral("-p"),
                      QStringLiteral("right"), QStringLiteral("-c"), QStringLiteral("secret.ctx"),
                      QStringLiteral("-G"), QStringLiteral("ecc")});
        // Expected to fail: that failure is what trips the lockout.
        QVERIFY(m_tools->runUnchecked(QStringLiteral("tpm2_sign"),
                                      {QStringLiteral("-c"), QStringLiteral("secret.ctx"),
                                       QStringLiteral("-p"), QStringLiteral("wrong"),
                                       QStringLiteral("-o"), QStringLiteral("sig"),
                                       QStringLiteral("/etc/hostname")}) != 0);
        m_tools->run(QStringLiteral("tpm2_flushcontext"), {QStringLiteral("-t")});

        QVERIFY(m_tpm->info().inLockout);
        // Creating and loading under the SRK still works (noDA), and so does the AK; a key
        // without noDA does not, even with its right authorization.
        const TpmObject srk = m_tpm->createStorageRootKey();
        const TpmObject ak = m_tpm->loadKey(srk, m_tpm->createKey(srk, attestationKeyTemplate()));
        m_tpm->quote(ak, Bytes(32), {0});
        const vigil::SecretBytes pin(std::string_view("right-pin"));
        const TpmObject userKey = m_tpm->loadKey(srk, m_tpm->createPinKey(srk, pin));
        std::string message;
        const auto kind =
            errorKind([&] { m_tpm->signWithPin(userKey, pin, srk, Bytes(32)); }, &message);
        QVERIFY2(kind == TpmError::Kind::Lockout, message.c_str());
        QVERIFY(message.find("dictionary-attack lockout") != std::string::npos);
    }

    void cleanupTestCase()
    {
        m_tools.reset();
        m_tpm.reset();
        m_sim.reset();
    }

private:
    std::unique_ptr<SwtpmSimulator> m_sim;
    std::unique_ptr<Tpm> m_tpm;
    std::unique_ptr<Tpm2Tools> m_tools;
};

QTEST_APPLESS_MAIN(TestTpm)
#include "tst_tpm.moc"

#include "ecdsasignature.h"
#include "swtpmsimulator.h"
#include "tpmdevicekey.h"
#include "tpmerror.h"
#include "tpmidentity.h"

#include <QTest>
#include <fstream>
#include <openssl/evp.h>
#include <sys/stat.h>

using namespace vigil::attestation;
using vigil::test::SwtpmSimulator;

namespace {

unsigned modeOf(const std::filesystem::path &path)
{
    struct stat status
    {
    };
    stat(path.c_str(), &status);
    return status.st_mode & 07777;
}

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::string stateError(const std::function<void()> &operation)
{
    try {
        operation();
    } catch (const TpmError &e) {
        if (e.kind() == TpmError::Kind::BadState)
            return e.what();
        return std::string("wrong kind: ") + e.what();
    }
    return "no error";
}

} // namespace

class TestTpmIdentity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { m_sim = std::make_unique<SwtpmSimulator>(); }

    void init() { std::filesystem::remove_all(stateDirectory()); }

    // Keys are created once, stored 0600 in a 0700 directory, and after a TPM power cycle and a
    // new process (new Tpm) the same keys come back.
    void keysSurviveARestart()
    {
        Bytes akPublic;
        std::string thumbprint;
        {
            auto identity = std::make_shared<TpmIdentity>(std::make_shared<Tpm>(m_sim->tcti()),
                                                          stateDirectory());
            QVERIFY(identity->createdKeys());
            akPublic = identity->attestationKeyPublic();
            thumbprint = TpmDeviceKey(identity).thumbprint();
        }
        for (const char *name : {"ak.pub", "ak.priv", "devicekey.pub", "devicekey.priv"})
            QCOMPARE(modeOf(stateDirectory() / name), 0600u);
        QCOMPARE(modeOf(stateDirectory()), 0700u);
        QVERIFY(readFile(stateDirectory() / "ak.pub") == akPublic);

        m_sim->restart();
        auto identity =
            std::make_shared<TpmIdentity>(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        QVERIFY(!identity->createdKeys());
        QVERIFY(identity->attestationKeyPublic() == akPublic);
        QCOMPARE(TpmDeviceKey(identity).thumbprint(), thumbprint);
    }

    // ES256 from the TPM verifies with OpenSSL over the same digest (raw r||s, 64 bytes).
    void deviceKeySignsEs256()
    {
        auto identity =
            std::make_shared<TpmIdentity>(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        TpmDeviceKey key(identity);
        QCOMPARE(key.assurance(), Assurance::Tpm);
        QCOMPARE(std::string(assuranceName(key.assurance())), std::string("tpm"));
        Bytes digest(32);
        unsigned int length = 0;
        const std::string message = "header.payload";
        EVP_Digest(message.data(), message.size(), digest.data(), &length, EVP_sha256(), nullptr);
        for (int i = 0; i < 20; ++i) {
            const Bytes signature = key.sign(digest);
            QCOMPARE(signature.size(), std::size_t(64));
            QVERIFY(verifyEs256(key.publicKey(), digest, signature));
        }
        Bytes other = digest;
        other[0] ^= 1;
        QVERIFY(!verifyEs256(key.publicKey(), other, key.sign(digest)));
        QVERIFY_THROWS_EXCEPTION(KeyError, key.sign(Bytes(20)));
    }

    void halfAKeyIsAClearError()
    {
        {
            TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        }
        std::filesystem::remove(stateDirectory() / "devicekey.priv");
        const std::string error = stateError(
            [&] { TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory()); });
        QVERIFY2(error.find("incomplete TPM key") != std::string::npos &&
                     error.find("devicekey.priv is missing") != std::string::npos,
                 error.c_str());
    }

    void openModesAreRefused()
    {
        {
            TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        }
        chmod((stateDirectory() / "ak.priv").c_str(), 0644);
        const std::string error = stateError(
            [&] { TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory()); });
        QVERIFY2(error.find("mode 0644") != std::string::npos &&
                     error.find("chmod 600") != std::string::npos,
                 error.c_str());
    }

    // Blobs from another TPM (or from before a TPM clear) do not load: say so, keep the files.
    void blobsFromAnotherTpmAreNamed()
    {
        {
            SwtpmSimulator other;
            TpmIdentity(std::make_shared<Tpm>(other.tcti()), stateDirectory());
        }
        const Bytes before = readFile(stateDirectory() / "ak.pub");
        const std::string error = stateError(
            [&] { TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory()); });
        QVERIFY2(error.find("does not load into this TPM") != std::string::npos, error.c_str());
        QVERIFY(readFile(stateDirectory() / "ak.pub") == before);
    }

    void corruptBlobIsAClearError()
    {
        {
            TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        }
        const auto path = stateDirectory() / "devicekey.pub";
        Bytes blob = readFile(path);
        blob.resize(blob.size() / 2);
        std::ofstream(path, std::ios::binary | std::ios::trunc)
            .write(reinterpret_cast<const char *>(blob.data()), std::streamsize(blob.size()));
        const std::string error = stateError(
            [&] { TpmIdentity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory()); });
        QVERIFY2(error.find("devicekey.pub/.priv in") != std::string::npos &&
                     error.find("are corrupt (TPM2B_PUBLIC is malformed") != std::string::npos,
                 error.c_str());
    }

    void cleanupTestCase() { m_sim.reset(); }

private:
    std::filesystem::path stateDirectory() const { return m_sim->scratchDirectory() / "state"; }

    std::unique_ptr<SwtpmSimulator> m_sim;
};

QTEST_APPLESS_MAIN(TestTpmIdentity)
#include "tst_tpmidentity.moc"

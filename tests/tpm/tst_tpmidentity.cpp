#include "attestation/attestverifier.h"
#include "attestation/makecredential.h"
#include "attestation/tpm/tpmdevicekey.h"
#include "attestation/tpm/tpmerror.h"
#include "attestation/tpm/tpmidentity.h"
#include "attestation/tpmpublic.h"
#include "protocol/jose/ecdsasignature.h"
#include "swtpmsimulator.h"

#include <QTest>
#include <fstream>
#include <openssl/evp.h>
#include <sys/stat.h>

using namespace vigil;
using namespace vigil::attestation;
using namespace vigil::protocol;
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

    // The evidence the TPM produces verifies with the verifier's own code; a TPM reset in
    // between shows in the clock info that the verifier's rollback check reads.
    void quoteAndCertifyVerify()
    {
        const Bytes nonce(32, 0x17);
        VerifiedAttest first;
        {
            TpmIdentity identity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
            const QuoteEvidence quote = identity.quote(nonce, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
            first = verifyQuote(quote, identity.attestationKeyPublic(), nonce);
            const CertifyEvidence certify = identity.certifyDeviceKey(nonce);
            verifyCertify(certify, identity.attestationKeyPublic(), identity.deviceKeyPublic(),
                          nonce);
            QVERIFY_THROWS_EXCEPTION(EvidenceException,
                                     verifyCertify(certify, identity.attestationKeyPublic(),
                                                   identity.attestationKeyPublic(), nonce));
        }
        m_sim->restart();
        TpmIdentity identity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        const VerifiedAttest second =
            verifyQuote(identity.quote(nonce, {7}), identity.attestationKeyPublic(), nonce);
        QCOMPARE(second.clockInfo.resetCount, first.clockInfo.resetCount + 1);
        // swtpm was stopped without TPM2_Shutdown, like a power loss: the TPM can no longer
        // vouch that its clock never went back, and says so.
        QVERIFY(!second.clockInfo.safe);
        QVERIFY(second.clockInfo.clock > 0);
    }

    // The verifier's software MakeCredential, answered by this TPM's EK and AK.
    void activatesACredentialMadeInSoftware_data()
    {
        QTest::addColumn<int>("ekType");
        QTest::newRow("rsa 2048 EK") << int(EkType::Rsa2048);
        QTest::newRow("ecc p-256 EK") << int(EkType::EccP256);
    }

    void activatesACredentialMadeInSoftware()
    {
        QFETCH(int, ekType);
        const auto type = static_cast<EkType>(ekType);
        TpmIdentity identity(std::make_shared<Tpm>(m_sim->tcti()), stateDirectory());
        const Bytes ekPublic = identity.tpm().createEndorsementKey(type).publicArea();
        const Bytes secret =
            *fromHex("6a1f0c9b2e7d4a58b3c6e0f19d2a7b4c5e8f01a2b3c4d5e6f708192a3b4c5d6e");

        const auto challenge =
            makeCredential(ekPublic, tpmName(identity.attestationKeyPublic()), secret);
        QVERIFY(identity.activateCredential(type, challenge) == secret);

        // Made for another key (the device key): the TPM refuses to release the secret.
        const auto forOtherKey =
            makeCredential(ekPublic, tpmName(identity.deviceKeyPublic()), secret);
        QVERIFY_THROWS_EXCEPTION(TpmError, identity.activateCredential(type, forOtherKey));
        // Truncated on the way: refused before it reaches the TPM.
        auto truncated = challenge;
        truncated.credentialBlob.pop_back();
        QVERIFY_THROWS_EXCEPTION(TpmError, identity.activateCredential(type, truncated));
        // Nothing stays loaded after any of these (EK and session flushed).
        QCOMPARE(identity.tpm().loadedTransientObjects(), std::size_t(2));
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

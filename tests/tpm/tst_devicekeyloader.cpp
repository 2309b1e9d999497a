#include "attestation/tpm/devicekeyloader.h"
#include "attestation/tpm/tpmerror.h"
#include "protocol/jose/ecdsasignature.h"
#include "swtpmsimulator.h"

#include <QTest>
#include <sys/stat.h>

using namespace vigil::attestation;
using namespace vigil::protocol;
using vigil::Bytes;
using vigil::test::SwtpmSimulator;

namespace {

bool signatureVerifies(DeviceKey &key)
{
    const Bytes digest(32, 0x33);
    return verifyEs256(key.publicKey(), digest, key.sign(digest));
}

} // namespace

class TestDeviceKeyLoader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_state = std::make_unique<QTemporaryDir>();
        QVERIFY(m_state->isValid());
    }

    void tpmKeyWhenThereIsATpm()
    {
        SwtpmSimulator sim;
        const auto loaded = loadDeviceKey(sim.tcti(), state());
        QCOMPARE(loaded.key->assurance(), Assurance::Tpm);
        QVERIFY(loaded.identity);
        QVERIFY(loaded.fallbackReason.empty());
        QVERIFY(signatureVerifies(*loaded.key));
        QVERIFY(std::filesystem::exists(state() / "tpm" / "devicekey.priv"));
        QVERIFY(!std::filesystem::exists(state() / "software"));
    }

    // No TPM: the clear reason, and a working software key that stays the same across loads.
    void softwareKeyWithoutTpm()
    {
        const auto first = loadDeviceKey("device:/nonexistent/tpmrm0", state());
        QCOMPARE(first.key->assurance(), Assurance::Software);
        QVERIFY(!first.identity);
        QVERIFY2(first.fallbackReason.find("no TPM: /nonexistent/tpmrm0 does not exist") == 0,
                 first.fallbackReason.c_str());
        QVERIFY(signatureVerifies(*first.key));
        struct stat status
        {
        };
        QCOMPARE(stat((state() / "software" / "devicekey.pem").c_str(), &status), 0);
        QCOMPARE(status.st_mode & 07777, 0600u);

        const auto second = loadDeviceKey("device:/nonexistent/tpmrm0", state());
        QCOMPARE(second.key->thumbprint(), first.key->thumbprint());
    }

    // A TPM that is there but refuses is an error, not a quiet switch to another identity.
    void brokenTpmStateDoesNotFallBack()
    {
        SwtpmSimulator sim;
        {
            loadDeviceKey(sim.tcti(), state());
        }
        std::filesystem::remove(state() / "tpm" / "ak.pub");
        QVERIFY_THROWS_EXCEPTION(TpmError, loadDeviceKey(sim.tcti(), state()));
        QVERIFY(!std::filesystem::exists(state() / "software"));
    }

private:
    std::filesystem::path state() const { return m_state->path().toStdString(); }

    std::unique_ptr<QTemporaryDir> m_state;
};

QTEST_APPLESS_MAIN(TestDeviceKeyLoader)
#include "tst_devicekeyloader.moc"

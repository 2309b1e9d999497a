#include "attestation/ekcertificate.h"
#include "attestation/tpm/endorsementkey.h"
#include "attestation/tpm/tpmerror.h"
#include "swtpmsimulator.h"
#include "tpm2tools.h"

#include <QTest>
#include <chrono>

using namespace vigil::attestation;
using vigil::test::SwtpmSimulator;
using vigil::test::Tpm2Tools;

class TestEndorsementKey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // swtpm_setup stored an RSA EK certificate from its local CA: it certifies the EK made from
    // the default template and chains to that CA, as the verifier will check.
    void readsTheCertifiedEk()
    {
        SwtpmSimulator sim;
        Tpm tpm(sim.tcti());
        const EndorsementKey ek = readEndorsementKey(tpm);
        QCOMPARE(int(ek.type), int(EkType::Rsa2048));
        QVERIFY(ek.certificate);
        QVERIFY(ek.publicArea == tpm.createEndorsementKey(EkType::Rsa2048).publicArea());

        const EkCertificate certificate = EkCertificate::parse(*ek.certificate);
        QVERIFY(ekCertificateMatchesPublic(certificate, ek.publicArea));
        const auto info =
            verifyEkCertificate(certificate, EkTrustStore::fromDirectory(sim.caDirectory()), {},
                                std::chrono::system_clock::now());
        QCOMPARE(info.keyType, std::string("RSA 2048"));
        QCOMPARE(tpm.loadedTransientObjects(), std::size_t(0));
    }

    // A certificate for another key in the RSA EK index (here swtpm's own P-384 EK certificate)
    // must not be passed off as this EK's.
    void certificateForAnotherKeyIsRefused()
    {
        SwtpmSimulator sim;
        const Tpm2Tools tools(sim);
        tools.run(QStringLiteral("tpm2_nvread"),
                  {QStringLiteral("0x01c00016"), QStringLiteral("-o"), QStringLiteral("p384.der")});
        const qsizetype size = tools.readFile(QStringLiteral("p384.der")).size();
        tools.run(QStringLiteral("tpm2_nvundefine"),
                  {QStringLiteral("-C"), QStringLiteral("p"), QStringLiteral("0x01c00002")});
        tools.run(QStringLiteral("tpm2_nvdefine"),
                  {QStringLiteral("-C"), QStringLiteral("p"), QStringLiteral("-s"),
                   QString::number(size), QStringLiteral("-a"),
                   QStringLiteral("ppwrite|ppread|ownerread|authread|no_da|platformcreate"),
                   QStringLiteral("0x01c00002")});
        tools.run(QStringLiteral("tpm2_nvwrite"),
                  {QStringLiteral("-C"), QStringLiteral("p"), QStringLiteral("-i"),
                   QStringLiteral("p384.der"), QStringLiteral("0x01c00002")});

        Tpm tpm(sim.tcti());
        try {
            readEndorsementKey(tpm);
            QFAIL("a certificate for another key was accepted");
        } catch (const TpmError &e) {
            QVERIFY2(std::string(e.what()).find("0x01c00002 certifies another key") !=
                         std::string::npos,
                     e.what());
        }

        // Garbage in the index is named as such.
        tools.writeFile(QStringLiteral("garbage.der"), QByteArray(size, 'x'));
        tools.run(QStringLiteral("tpm2_nvwrite"),
                  {QStringLiteral("-C"), QStringLiteral("p"), QStringLiteral("-i"),
                   QStringLiteral("garbage.der"), QStringLiteral("0x01c00002")});
        try {
            readEndorsementKey(tpm);
            QFAIL("garbage was accepted as a certificate");
        } catch (const TpmError &e) {
            QVERIFY2(std::string(e.what()).find("0x01c00002 is unreadable") != std::string::npos,
                     e.what());
        }
    }

    // No certificate at all (some firmware TPMs): the RSA EK alone, for the policy to judge.
    void noCertificateGivesTheEkAlone()
    {
        SwtpmSimulator sim;
        const Tpm2Tools tools(sim);
        tools.run(QStringLiteral("tpm2_nvundefine"),
                  {QStringLiteral("-C"), QStringLiteral("p"), QStringLiteral("0x01c00002")});
        Tpm tpm(sim.tcti());
        const EndorsementKey ek = readEndorsementKey(tpm);
        QVERIFY(!ek.certificate);
        QVERIFY(ek.publicArea == tpm.createEndorsementKey(EkType::Rsa2048).publicArea());
    }
};

QTEST_APPLESS_MAIN(TestEndorsementKey)
#include "tst_endorsementkey.moc"

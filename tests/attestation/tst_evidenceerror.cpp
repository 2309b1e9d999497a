#include "attestation/evidenceerror.h"

#include <QTest>

using namespace vigil::attestation;

class TestEvidenceError : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The verifier sends these names to clients: they are protocol, not prose.
    void namesAreStable_data()
    {
        QTest::addColumn<EvidenceError>("error");
        QTest::addColumn<QString>("name");
        QTest::newRow("malformed") << EvidenceError::Malformed << QStringLiteral("malformed");
        QTest::newRow("bad magic") << EvidenceError::BadMagic << QStringLiteral("bad_magic");
        QTest::newRow("wrong type") << EvidenceError::WrongType << QStringLiteral("wrong_type");
        QTest::newRow("unsupported algorithm")
            << EvidenceError::UnsupportedAlgorithm << QStringLiteral("unsupported_algorithm");
        QTest::newRow("key attributes")
            << EvidenceError::KeyAttributes << QStringLiteral("key_attributes");
        QTest::newRow("bad signature")
            << EvidenceError::BadSignature << QStringLiteral("bad_signature");
        QTest::newRow("nonce mismatch")
            << EvidenceError::NonceMismatch << QStringLiteral("nonce_mismatch");
        QTest::newRow("pcr selection mismatch")
            << EvidenceError::PcrSelectionMismatch << QStringLiteral("pcr_selection_mismatch");
        QTest::newRow("pcr value malformed")
            << EvidenceError::PcrValueMalformed << QStringLiteral("pcr_value_malformed");
        QTest::newRow("pcr digest mismatch")
            << EvidenceError::PcrDigestMismatch << QStringLiteral("pcr_digest_mismatch");
        QTest::newRow("name mismatch")
            << EvidenceError::NameMismatch << QStringLiteral("name_mismatch");
    }

    void namesAreStable()
    {
        QFETCH(EvidenceError, error);
        QFETCH(QString, name);
        QCOMPARE(QString::fromLatin1(evidenceErrorName(error)), name);
    }

    void exceptionCarriesKindAndMessage()
    {
        try {
            throw EvidenceException(EvidenceError::NameMismatch, "certified name differs");
        } catch (const std::runtime_error &e) {
            const auto *evidence = dynamic_cast<const EvidenceException *>(&e);
            QVERIFY(evidence);
            QCOMPARE(evidence->error(), EvidenceError::NameMismatch);
            QCOMPARE(std::string(e.what()), std::string("certified name differs"));
        }
    }
};

QTEST_APPLESS_MAIN(TestEvidenceError)
#include "tst_evidenceerror.moc"

// userKeyPublicProblem: the one definition of a user key's public area that vigild and the
// verifier share; each deviation is named.
#include "attestation/userkeypublic.h"

#include <QTest>

using vigil::attestation::userKeyPublicProblem;

namespace {

TPMT_PUBLIC userKey()
{
    TPMT_PUBLIC area{};
    area.type = TPM2_ALG_ECC;
    area.nameAlg = TPM2_ALG_SHA256;
    area.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                            TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                            TPMA_OBJECT_SIGN_ENCRYPT;
    area.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
    area.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
    area.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
    area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    area.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    return area;
}

} // namespace

class TestUserKeyPublic : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsTheTemplate() { QCOMPARE(userKeyPublicProblem(userKey()), std::string()); }

    void namesEveryDeviation_data()
    {
        QTest::addColumn<int>("change");
        QTest::addColumn<QString>("problem");
        QTest::newRow("noDA") << 0 << "has noDA";
        QTest::newRow("no userWithAuth") << 1 << "lacks userWithAuth";
        QTest::newRow("restricted, decrypt") << 2 << "has restricted, decrypt";
        QTest::newRow("adminWithPolicy") << 3 << "has adminWithPolicy";
        QTest::newRow("P-384") << 4 << "curve is not NIST P-256";
        QTest::newRow("no scheme") << 5 << "scheme is not ECDSA with SHA-256";
        QTest::newRow("SHA-1 name") << 6 << "name algorithm is not SHA-256";
        QTest::newRow("RSA") << 7 << "not an ECC key";
        QTest::newRow("several") << 8 << "lacks fixedTPM, sign; has noDA";
        QTest::newRow("authPolicy") << 9
                                    << "has an authPolicy (a policy session could sign "
                                       "without the PIN)";
    }

    void namesEveryDeviation()
    {
        QFETCH(int, change);
        QFETCH(QString, problem);
        TPMT_PUBLIC area = userKey();
        switch (change) {
        case 0:
            area.objectAttributes |= TPMA_OBJECT_NODA;
            break;
        case 1:
            area.objectAttributes &= ~TPMA_OBJECT_USERWITHAUTH;
            break;
        case 2:
            area.objectAttributes |= TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
            break;
        case 3:
            area.objectAttributes |= TPMA_OBJECT_ADMINWITHPOLICY;
            break;
        case 4:
            area.parameters.eccDetail.curveID = TPM2_ECC_NIST_P384;
            break;
        case 5:
            area.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
            break;
        case 6:
            area.nameAlg = TPM2_ALG_SHA1;
            break;
        case 7:
            area.type = TPM2_ALG_RSA;
            break;
        case 9:
            area.authPolicy.size = 32;
            std::fill_n(area.authPolicy.buffer, 32, std::uint8_t{0x5a});
            break;
        default:
            area.objectAttributes &= ~(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_SIGN_ENCRYPT);
            area.objectAttributes |= TPMA_OBJECT_NODA;
            break;
        }
        QCOMPARE(QString::fromStdString(userKeyPublicProblem(area)), problem);
    }
};

QTEST_APPLESS_MAIN(TestUserKeyPublic)
#include "tst_userkeypublic.moc"

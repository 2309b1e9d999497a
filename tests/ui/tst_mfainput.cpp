// What the MFA screens accept: invite codes as pasted (whitespace, dashes and case of the
// grouped base32 form do not matter; other forms are kept), PINs of 6 to 32 bytes that must be
// typed twice alike, TOTP codes of six digits, the otpauth URI's secret grouped for typing, and
// what vigild's errors mean to a person.
#include "ui/mfa/mfainput.h"

#include <QtTest>

using namespace vigil::ui;

class TestMfaInput : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void inviteCodes_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("normalized");
        QTest::newRow("grouped") << "ABCD-EFGH-IJKL-MNOP"
                                 << "ABCDEFGHIJKLMNOP";
        QTest::newRow("lower case, spaces") << " abcd efgh\tijkl-mnop \n"
                                            << "ABCDEFGHIJKLMNOP";
        QTest::newRow("pasted over two lines") << "ABCD-EFGH-\nIJKL"
                                               << "ABCDEFGHIJKL";
        QTest::newRow("digits of base32") << "ab23-4567"
                                          << "AB234567";
        // Not base32 (0, 1, 8, 9, _ or =): case and dashes may matter, only whitespace goes.
        QTest::newRow("base64url kept") << " aB-_9xZ0 "
                                        << "aB-_9xZ0";
        QTest::newRow("digit 1 kept") << "abc-1"
                                      << "abc-1";
        QTest::newRow("only spaces") << "   "
                                     << "";
    }
    void inviteCodes()
    {
        QFETCH(QString, typed);
        QFETCH(QString, normalized);
        QCOMPARE(normalizeInviteCode(typed), normalized);
    }

    void inviteProblems()
    {
        QVERIFY(inviteProblem(QStringLiteral("ABCDEFGH")).isEmpty());
        QVERIFY(!inviteProblem({}).isEmpty());
        QVERIFY(inviteProblem(QString(5000, QLatin1Char('A'))).contains(QStringLiteral("longer")));
        QVERIFY(!inviteProblem(QStringLiteral("ABC\u00e9")).isEmpty());
    }

    void pins_data()
    {
        QTest::addColumn<QString>("pin");
        QTest::addColumn<QString>("repeated");
        QTest::addColumn<int>("check");
        QTest::newRow("empty") << ""
                               << "" << int(PinCheck::Empty);
        QTest::newRow("5") << "12345"
                           << "12345" << int(PinCheck::TooShort);
        QTest::newRow("6") << "123456"
                           << "123456" << int(PinCheck::Ok);
        QTest::newRow("32") << QString(32, QLatin1Char('x')) << QString(32, QLatin1Char('x'))
                            << int(PinCheck::Ok);
        QTest::newRow("33") << QString(33, QLatin1Char('x')) << QString(33, QLatin1Char('x'))
                            << int(PinCheck::TooLong);
        // Bytes of UTF-8 count: three characters of two bytes each are enough.
        QTest::newRow("utf-8 6 bytes") << "\u00e9\u00e9\u00e9"
                                       << "\u00e9\u00e9\u00e9" << int(PinCheck::Ok);
        QTest::newRow("utf-8 34 bytes")
            << QString(17, QChar(0xe9)) << QString(17, QChar(0xe9)) << int(PinCheck::TooLong);
        QTest::newRow("differ") << "123456"
                                << "123457" << int(PinCheck::Mismatch);
        QTest::newRow("second empty") << "123456"
                                      << "" << int(PinCheck::Mismatch);
        QTest::newRow("short wins over differ") << "123"
                                                << "456" << int(PinCheck::TooShort);
    }
    void pins()
    {
        QFETCH(QString, pin);
        QFETCH(QString, repeated);
        QFETCH(int, check);
        QCOMPARE(int(checkNewPin(pin, repeated)), check);
        QCOMPARE(describePinCheck(PinCheck(check)).isEmpty(), check == int(PinCheck::Ok));
    }

    void pinMessagesSayWhat()
    {
        QVERIFY(describePinCheck(PinCheck::TooShort).contains(QStringLiteral("at least 6")));
        QVERIFY(describePinCheck(PinCheck::TooLong).contains(QStringLiteral("at most 32")));
        QVERIFY(describePinCheck(PinCheck::Mismatch).contains(QStringLiteral("differ")));
    }

    void totpCodes_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("code");
        QTest::newRow("plain") << "123456"
                               << "123456";
        QTest::newRow("as apps show it") << "123 456"
                                         << "123456";
        QTest::newRow("leading zero") << " 012345 "
                                      << "012345";
        QTest::newRow("five digits") << "12345"
                                     << "";
        QTest::newRow("seven digits") << "1234567"
                                      << "";
        QTest::newRow("letter") << "12345a"
                                << "";
        QTest::newRow("arabic-indic digits")
            << QStringLiteral("\u0661\u0662\u0663\u0664\u0665\u0666") << "";
        QTest::newRow("empty") << ""
                               << "";
    }
    void totpCodes()
    {
        QFETCH(QString, typed);
        QFETCH(QString, code);
        QCOMPARE(normalizeTotpCode(typed), code);
    }

    void secretOfTheUri()
    {
        const QString uri = QStringLiteral(
            "otpauth://totp/Example%20Corp:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
            "&issuer=Example%20Corp&algorithm=SHA1&digits=6&period=30");
        QCOMPARE(totpSecretOf(uri), QStringLiteral("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
        QCOMPARE(groupedSecret(totpSecretOf(uri)),
                 QStringLiteral("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP"));
        QCOMPARE(groupedSecret(QStringLiteral("ABCDEF")), QStringLiteral("ABCD EF"));
        QCOMPARE(groupedSecret(totpSecretOf(uri), 4),
                 QStringLiteral("JBSW Y3DP EHPK 3PXP\nJBSW Y3DP EHPK 3PXP"));
        QCOMPARE(groupedSecret(QStringLiteral("ABCDEFGH"), 4), QStringLiteral("ABCD EFGH"));
        QCOMPARE(totpSecretOf(QStringLiteral("https://x/?secret=ABC")), QString());
        QCOMPARE(totpSecretOf(QStringLiteral("otpauth://totp/a?issuer=x")), QString());
        QCOMPARE(totpSecretOf(QStringLiteral("not a uri")), QString());
    }

    void errorsInWords_data()
    {
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("message");
        QTest::addColumn<QString>("says");
        QTest::newRow("invite") << "refused"
                                << "invalid_invite: unknown, used or expired"
                                << "invite code is not valid";
        QTest::newRow("tpm busy") << "busy"
                                  << "the TPM is busy"
                                  << "TPM is busy";
        QTest::newRow("no vigild") << "not_running"
                                   << ""
                                   << "service is not running";
        QTest::newRow("verifier down") << "unavailable"
                                       << "timeout"
                                       << "cannot be reached";
        QTest::newRow("wrong code") << "invalid_code"
                                    << ""
                                    << "not accepted";
        QTest::newRow("locked codes") << "refused"
                                      << "user_locked: too many"
                                      << "locked";
        QTest::newRow("rate limited") << "refused"
                                      << "rate_limited: retry after 4 s"
                                      << "Wait";
        QTest::newRow("not compliant") << "refused"
                                       << "not_compliant: disk"
                                       << "not compliant";
        QTest::newRow("newer vigild") << "something_new"
                                      << "it went wrong"
                                      << "it went wrong";
    }
    void errorsInWords()
    {
        QFETCH(QString, code);
        QFETCH(QString, message);
        QFETCH(QString, says);
        const QString text = describeMfaError({code, message});
        QVERIFY2(text.contains(says), qPrintable(text));
    }

    void problemCodes()
    {
        QCOMPARE((MfaError{QStringLiteral("refused"), QStringLiteral("invalid_invite: x: y")})
                     .problemCode(),
                 QStringLiteral("invalid_invite"));
        QCOMPARE(
            (MfaError{QStringLiteral("refused"), QStringLiteral("user_disabled")}).problemCode(),
            QStringLiteral("user_disabled"));
        QCOMPARE(
            (MfaError{QStringLiteral("busy"), QStringLiteral("invalid_invite: x")}).problemCode(),
            QString());
    }
};

QTEST_APPLESS_MAIN(TestMfaInput)
#include "tst_mfainput.moc"

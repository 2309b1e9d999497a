// What every user key shares: the PIN's format (6 to 32 bytes of UTF-8, no control characters)
// and the wording of a wrong PIN.
#include "app/agent/mfa/userkey.h"

#include <QtTest>

using namespace vigil;
using namespace std::chrono_literals;
using agent::PinAttempts;
using agent::UserKeyError;

namespace {

std::string formatError(const QByteArray &pin)
{
    try {
        agent::checkPinFormat(
            SecretBytes(std::string_view(pin.constData(), std::size_t(pin.size()))));
    } catch (const UserKeyError &e) {
        if (e.kind() != UserKeyError::Kind::BadPin)
            return "wrong kind";
        return e.what();
    }
    return "";
}

} // namespace

class TestUserKey : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void pinFormat_data()
    {
        QTest::addColumn<QByteArray>("pin");
        QTest::addColumn<QString>("error");
        const QString size = QStringLiteral("a PIN is 6 to 32 bytes of UTF-8");
        const QString utf8 = QStringLiteral("a PIN must be valid UTF-8");
        const QString control = QStringLiteral("a PIN may not contain control characters");
        QTest::newRow("six digits") << QByteArray("123456") << QString();
        QTest::newRow("32 ASCII") << QByteArray(32, 'a') << QString();
        // 8 four-byte characters: 32 bytes, the most the TPM takes.
        QTest::newRow("32 bytes of emoji")
            << QByteArray("\xf0\x9f\x98\x80").repeated(8) << QString();
        QTest::newRow("umlauts") << QStringLiteral("Grüße!").toUtf8() << QString();
        QTest::newRow("empty") << QByteArray() << size;
        QTest::newRow("five") << QByteArray("12345") << size;
        QTest::newRow("33") << QByteArray(33, 'a') << size;
        QTest::newRow("NUL") << QByteArray("123\0"
                                           "456",
                                           7)
                             << control;
        QTest::newRow("newline") << QByteArray("123456\n") << control;
        QTest::newRow("DEL") << QByteArray("123456\x7f") << control;
        QTest::newRow("lone continuation") << QByteArray("123456\x80") << utf8;
        QTest::newRow("truncated sequence") << QByteArray("123456\xc3") << utf8;
        QTest::newRow("overlong slash") << QByteArray("123456\xc0\xaf") << utf8;
        QTest::newRow("overlong 3-byte") << QByteArray("123456\xe0\x80\xaf") << utf8;
        QTest::newRow("surrogate") << QByteArray("123456\xed\xa0\x80") << utf8;
        QTest::newRow("above U+10FFFF") << QByteArray("123456\xf4\x90\x80\x80") << utf8;
        QTest::newRow("Latin-1") << QByteArray("gr\xfc\xdf"
                                               "e!")
                                 << utf8;
    }

    void pinFormat()
    {
        QFETCH(QByteArray, pin);
        QFETCH(QString, error);
        QCOMPARE(QString::fromStdString(formatError(pin)), error);
    }

    void wrongPinMessages()
    {
        PinAttempts attempts;
        attempts.attemptsLeft = 4;
        QCOMPARE(agent::wrongPinMessage(attempts, "the TPM locks the key"),
                 std::string("wrong PIN: 4 attempts left before the TPM locks the key"));
        attempts.attemptsLeft = 1;
        attempts.lockedOutFor = 8s;
        QCOMPARE(agent::wrongPinMessage(attempts, "the key is locked"),
                 std::string("wrong PIN: 1 attempt left before the key is locked; next attempt "
                             "within 8 s"));
        attempts.attemptsLeft = 0;
        attempts.lockedOutFor = 600s;
        QCOMPARE(agent::wrongPinMessage(attempts, "the TPM locks the key"),
                 std::string("wrong PIN: no attempt left; next attempt within 600 s"));
        attempts.locked = true;
        QCOMPARE(agent::wrongPinMessage(attempts, "the key is locked"),
                 std::string("wrong PIN: the key is now locked; a recovery code or a new invite "
                             "replaces it"));
        QCOMPARE(agent::wrongPinMessage(PinAttempts{}, "x"), std::string("wrong PIN"));
    }

    void kindNames()
    {
        QCOMPARE(agent::userKeyErrorKindName(UserKeyError::Kind::WrongPin), "wrong_pin");
        QCOMPARE(agent::userKeyErrorKindName(UserKeyError::Kind::LockedOut), "locked_out");
        QCOMPARE(agent::userKeyErrorKindName(UserKeyError::Kind::Locked), "locked");
        QCOMPARE(agent::userKeyErrorKindName(UserKeyError::Kind::Corrupt), "corrupt");
    }
};

QTEST_GUILESS_MAIN(TestUserKey)
#include "tst_userkey.moc"

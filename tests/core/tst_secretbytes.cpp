#include "core/secretbytes.h"

#include <QTest>
#include <cstring>
#include <type_traits>

using namespace vigil;

class TestSecretBytes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void holdsACopy()
    {
        const std::string text = "123456";
        const SecretBytes secret(text);
        QCOMPARE(secret.size(), std::size_t(6));
        QCOMPARE(secret.view(), std::string_view("123456"));
        QVERIFY(secret.data() != reinterpret_cast<const std::uint8_t *>(text.data()));
        const SecretBytes fromBytes(Bytes{1, 2, 3});
        QVERIFY(Bytes(fromBytes.span().begin(), fromBytes.span().end()) == (Bytes{1, 2, 3}));
        QVERIFY(SecretBytes().empty());
        QVERIFY(SecretBytes(std::string_view()).data() == nullptr);
    }

    // The source is zeroed before it is cleared: a long string's heap buffer and a short
    // string's inline buffer alike.
    void takeFromWipesTheSource_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::newRow("inline") << QByteArray("pin123");
        QTest::newRow("heap") << QByteArray("a PIN longer than the small-string buffer holds");
    }

    void takeFromWipesTheSource()
    {
        QFETCH(QByteArray, value);
        std::string source = value.toStdString();
        const char *buffer = source.data();
        const std::size_t size = source.size();
        const SecretBytes secret = SecretBytes::takeFrom(source);
        QCOMPARE(secret.view(), std::string_view(value.constData(), std::size_t(value.size())));
        QVERIFY(source.empty());
        QCOMPARE(source.data(), buffer); // clear() keeps the buffer, so its bytes are readable
        for (std::size_t i = 0; i < size; ++i)
            QCOMPARE(buffer[i], '\0');

        Bytes bytes{9, 8, 7, 6, 5, 4};
        const std::uint8_t *raw = bytes.data();
        const SecretBytes fromBytes = SecretBytes::takeFrom(bytes);
        QVERIFY(bytes.empty());
        QCOMPARE(fromBytes.size(), std::size_t(6));
        for (std::size_t i = 0; i < 6; ++i)
            QCOMPARE(raw[i], std::uint8_t(0));
    }

    void wipeZeroesAndEmpties()
    {
        SecretBytes secret = SecretBytes::zeroed(4);
        QCOMPARE(secret.size(), std::size_t(4));
        QVERIFY(secret.span()[0] == 0 && secret.span()[3] == 0);
        std::memcpy(secret.data(), "abcd", 4);
        secret.wipe();
        QVERIFY(secret.empty());
        QVERIFY(secret.data() == nullptr);
        secret.wipe(); // twice is harmless
    }

    // Moving hands over the one buffer; nothing is left behind in the source.
    void movesWithoutCopies()
    {
        SecretBytes a(std::string_view("secret-pin"));
        const std::uint8_t *buffer = a.data();
        SecretBytes b = std::move(a);
        QVERIFY(a.empty()); // NOLINT(bugprone-use-after-move): that is the point
        QVERIFY(a.data() == nullptr);
        QCOMPARE(b.data(), buffer);
        SecretBytes c(std::string_view("other"));
        c = std::move(b);
        QCOMPARE(c.view(), std::string_view("secret-pin"));
        QVERIFY(b.empty()); // NOLINT(bugprone-use-after-move)
        static_assert(!std::is_copy_constructible_v<SecretBytes>);
        static_assert(!std::is_copy_assignable_v<SecretBytes>);
        const SecretBytes d = c.clone();
        QVERIFY(d.data() != c.data());
        QVERIFY(d == c);
    }

    void comparesContents()
    {
        QVERIFY(SecretBytes(std::string_view("123456")) == SecretBytes(std::string_view("123456")));
        QVERIFY(
            !(SecretBytes(std::string_view("123456")) == SecretBytes(std::string_view("123457"))));
        QVERIFY(
            !(SecretBytes(std::string_view("123456")) == SecretBytes(std::string_view("12345"))));
        QVERIFY(SecretBytes() == SecretBytes());
    }
};

QTEST_APPLESS_MAIN(TestSecretBytes)
#include "tst_secretbytes.moc"

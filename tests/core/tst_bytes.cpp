#include "core/bytes.h"

#include <QTest>
#include <cctype>

using namespace vigil;

class TestBytes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hexRoundTrip()
    {
        const Bytes bytes{0x00, 0x01, 0xab, 0xff};
        QCOMPARE(toHex(bytes), std::string("0001abff"));
        QVERIFY(fromHex("0001ABff") == bytes);
        QVERIFY(!fromHex("abc"));
        QVERIFY(!fromHex("zz"));
        QVERIFY(fromHex("")->empty());
    }

    // RFC 4648 section 10 test vectors, URL-safe alphabet, no padding.
    void base64Url_data()
    {
        QTest::addColumn<QByteArray>("plain");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("f") << QByteArray("f") << QByteArray("Zg");
        QTest::newRow("fo") << QByteArray("fo") << QByteArray("Zm8");
        QTest::newRow("foo") << QByteArray("foo") << QByteArray("Zm9v");
        QTest::newRow("foob") << QByteArray("foob") << QByteArray("Zm9vYg");
        QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("Zm9vYmE");
        QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("Zm9vYmFy");
        QTest::newRow("url-safe") << QByteArray("\xfb\xff\xbf", 3) << QByteArray("-_-_");
    }

    void base64Url()
    {
        QFETCH(QByteArray, plain);
        QFETCH(QByteArray, encoded);
        const Bytes bytes(plain.begin(), plain.end());
        QCOMPARE(QByteArray::fromStdString(base64UrlEncode(bytes)), encoded);
        const auto decoded = base64UrlDecode(encoded.toStdString());
        QVERIFY(decoded);
        QVERIFY(*decoded == bytes);
    }

    void base64UrlRejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("padding") << QByteArray("Zg==");
        QTest::newRow("standard alphabet") << QByteArray("+/+/");
        QTest::newRow("one leftover char") << QByteArray("Zm9vY");
        QTest::newRow("non-zero trailing bits after two digits") << QByteArray("Zh");
        QTest::newRow("non-zero trailing bits after three digits") << QByteArray("Zm9");
        QTest::newRow("bad digit in a full group") << QByteArray("Zm9vY*Fy");
        QTest::newRow("bad digit in the tail") << QByteArray("Zm9vY.E");
        QTest::newRow("NUL") << QByteArray("Zm9v\0mFy", 8);
        QTest::newRow("high byte") << QByteArray("Zm9v\xffmFy");
        QTest::newRow("space") << QByteArray("Zm 9v");
    }

    void base64UrlRejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!base64UrlDecode(text.toStdString()));
    }

    // RFC 4648 section 10 test vectors (base32), written without padding as otpauth:// URIs do.
    void base32_data()
    {
        QTest::addColumn<QByteArray>("plain");
        QTest::addColumn<QByteArray>("encoded");
        QTest::newRow("empty") << QByteArray() << QByteArray();
        QTest::newRow("f") << QByteArray("f") << QByteArray("MY");
        QTest::newRow("fo") << QByteArray("fo") << QByteArray("MZXQ");
        QTest::newRow("foo") << QByteArray("foo") << QByteArray("MZXW6");
        QTest::newRow("foob") << QByteArray("foob") << QByteArray("MZXW6YQ");
        QTest::newRow("fooba") << QByteArray("fooba") << QByteArray("MZXW6YTB");
        QTest::newRow("foobar") << QByteArray("foobar") << QByteArray("MZXW6YTBOI");
        // RFC 6238 Appendix B's SHA-1 key, as authenticator apps are given it.
        QTest::newRow("rfc 6238 key") << QByteArray("12345678901234567890")
                                      << QByteArray("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    void base32()
    {
        QFETCH(QByteArray, plain);
        QFETCH(QByteArray, encoded);
        const Bytes bytes(plain.begin(), plain.end());
        QCOMPARE(QByteArray::fromStdString(base32Encode(bytes)), encoded);
        const auto decoded = base32Decode(encoded.toStdString());
        QVERIFY(decoded && *decoded == bytes);
        // As people type it, and as RFC 4648 pads it.
        QVERIFY(base32Decode(encoded.toLower().toStdString()) == bytes);
        QByteArray padded = encoded;
        while (padded.size() % 8)
            padded.append('=');
        QVERIFY(base32Decode(padded.toStdString()) == bytes);
    }

    void base32Rejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("one leftover char") << QByteArray("MZXW6YTBO");
        QTest::newRow("three leftover chars") << QByteArray("MZX");
        QTest::newRow("six leftover chars") << QByteArray("MZXW6Y");
        QTest::newRow("non-zero trailing bits") << QByteArray("MZ");
        QTest::newRow("digit 1 (not in the alphabet)") << QByteArray("MZXW1");
        QTest::newRow("digit 8") << QByteArray("MZXW8");
        QTest::newRow("padding inside") << QByteArray("MY=ZXW6Y");
        QTest::newRow("space") << QByteArray("MZXW 6");
        QTest::newRow("NUL") << QByteArray("MZ\0W6", 5);
    }

    void base32Rejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!base32Decode(text.toStdString()));
    }

    void base32RoundTripsEveryLength()
    {
        for (std::size_t length = 0; length <= 70; ++length) {
            Bytes bytes(length);
            for (std::size_t i = 0; i < length; ++i)
                bytes[i] = static_cast<std::uint8_t>(i * 53 + length * 7);
            const std::string encoded = base32Encode(bytes);
            const auto decoded = base32Decode(encoded);
            QVERIFY2(decoded && *decoded == bytes, qPrintable(QString::number(length)));
            QCOMPARE(base32Encode(*decoded), encoded);
        }
    }

    // Decoding is the inverse of encoding for every length and byte value, and the canonical
    // form is the only one accepted: any text that decodes encodes back to itself.
    void base64UrlRoundTripsEveryByte()
    {
        for (std::size_t length = 0; length <= 70; ++length) {
            Bytes bytes(length);
            for (std::size_t i = 0; i < length; ++i)
                bytes[i] = static_cast<std::uint8_t>(i * 37 + length * 11);
            const auto decoded = base64UrlDecode(base64UrlEncode(bytes));
            QVERIFY2(decoded && *decoded == bytes, qPrintable(QString::number(length)));
        }
        for (int value = 0; value < 256; ++value) {
            for (std::size_t at = 0; at < 7; ++at) {
                std::string text = "Zm9vYmE";
                text[at] = static_cast<char>(value);
                const auto decoded = base64UrlDecode(text);
                if (decoded)
                    QCOMPARE(base64UrlEncode(*decoded), text);
                const bool digit = std::isalnum(value) || value == '-' || value == '_';
                if (!digit)
                    QVERIFY2(!decoded, qPrintable(QString::number(value)));
            }
        }
    }

    void constantTimeCompare()
    {
        QVERIFY(constantTimeEqual(Bytes{1, 2, 3}, Bytes{1, 2, 3}));
        QVERIFY(!constantTimeEqual(Bytes{1, 2, 3}, Bytes{1, 2, 4}));
        QVERIFY(!constantTimeEqual(Bytes{1, 2, 3}, Bytes{1, 2}));
    }
};

QTEST_APPLESS_MAIN(TestBytes)
#include "tst_bytes.moc"

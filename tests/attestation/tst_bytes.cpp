#include "bytes.h"

#include <QTest>

using namespace vigil::attestation;

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
        QTest::newRow("non-zero trailing bits") << QByteArray("Zh");
        QTest::newRow("space") << QByteArray("Zm 9v");
    }

    void base64UrlRejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!base64UrlDecode(text.toStdString()));
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

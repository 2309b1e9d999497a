#include "posture/parsers/versioncompare.h"

#include <QtTest>

using namespace vigil;

class TestVersionCompare : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void order_data()
    {
        QTest::addColumn<QString>("older");
        QTest::addColumn<QString>("newer");
        QTest::newRow("numeric segment") << "1.0"
                                         << "1.1";
        QTest::newRow("numbers not strings") << "1.9"
                                             << "1.10";
        QTest::newRow("leading zeros ignored in size") << "1.002"
                                                       << "1.10";
        QTest::newRow("longer wins") << "1.0"
                                     << "1.0.1";
        QTest::newRow("number beats letters") << "1.a"
                                              << "1.1";
        QTest::newRow("letters") << "1.0a"
                                 << "1.0b";
        QTest::newRow("tilde is a pre-release") << "1.0~rc1"
                                                << "1.0";
        QTest::newRow("tilde against tilde") << "1.0~rc1"
                                             << "1.0~rc2";
        QTest::newRow("caret after base") << "1.0"
                                          << "1.0^git1";
        QTest::newRow("caret before next segment") << "1.0^git1"
                                                   << "1.0.1";
        QTest::newRow("debian abi") << "6.1.0-26-amd64"
                                    << "6.1.0-27-amd64";
        QTest::newRow("debian abi two digits") << "6.1.0-9-amd64"
                                               << "6.1.0-27-amd64";
        QTest::newRow("ubuntu") << "6.8.0-48-generic"
                                << "6.8.0-49-generic";
        QTest::newRow("fedora patch level") << "6.11.4-301.fc41.x86_64"
                                            << "6.11.5-300.fc41.x86_64";
        QTest::newRow("fedora minor") << "6.9.12-200.fc40.x86_64"
                                      << "6.11.4-301.fc41.x86_64";
        QTest::newRow("arch") << "6.11.5-arch1-1"
                              << "6.11.6-arch1-1";
        QTest::newRow("arch pkgrel") << "6.11.6-arch1-1"
                                     << "6.11.6-arch1-2";
        QTest::newRow("arch arch2") << "6.11.6-arch1-1"
                                    << "6.11.6-arch2-1";
    }

    void order()
    {
        QFETCH(QString, older);
        QFETCH(QString, newer);
        const auto a = older.toStdString();
        const auto b = newer.toStdString();
        QVERIFY2(posture::compareVersions(a, b) < 0,
                 qPrintable(older + QStringLiteral(" < ") + newer));
        QVERIFY2(posture::compareVersions(b, a) > 0,
                 qPrintable(newer + QStringLiteral(" > ") + older));
        QCOMPARE(posture::compareVersions(a, a), 0);
    }

    void equalDespiteSeparators()
    {
        QCOMPARE(posture::compareVersions("1.0.1", "1_0_1"), 0);
        QCOMPARE(posture::compareVersions("1.01", "1.1"), 0);
        QCOMPARE(posture::compareVersions("", ""), 0);
        QVERIFY(posture::compareVersions("", "1") < 0);
    }

    void flavour_data()
    {
        QTest::addColumn<QString>("release");
        QTest::addColumn<QString>("flavour");
        QTest::newRow("debian") << "6.1.0-27-amd64"
                                << "amd64";
        QTest::newRow("debian cloud") << "6.1.0-27-cloud-amd64"
                                      << "cloud-amd64";
        QTest::newRow("ubuntu") << "6.8.0-48-generic"
                                << "generic";
        QTest::newRow("ubuntu lowlatency") << "6.8.0-48-lowlatency"
                                           << "lowlatency";
        QTest::newRow("fedora") << "6.11.4-301.fc41.x86_64"
                                << "";
        QTest::newRow("fedora debug") << "6.11.4-301.fc41.x86_64+debug"
                                      << "+debug";
        QTest::newRow("arch") << "6.11.6-arch1-1"
                              << "";
        QTest::newRow("arch lts") << "6.6.58-1-lts"
                                  << "lts";
        QTest::newRow("arch zen") << "6.11.6-zen1-1-zen"
                                  << "zen";
        QTest::newRow("bare") << "6.11.6"
                              << "";
        QTest::newRow("trailing dash") << "6.11.6-"
                                       << "";
    }

    void flavour()
    {
        QFETCH(QString, release);
        QFETCH(QString, flavour);
        const auto text = release.toStdString();
        QCOMPARE(QString::fromStdString(std::string(posture::kernelFlavour(text))), flavour);
    }

    void arbitraryBytesAreTotal()
    {
        // Every byte value on both sides, in every position: antisymmetric and no crash.
        for (int c = 0; c < 256; ++c) {
            const std::string a = std::string("1.") + static_cast<char>(c) + "2~^";
            const std::string b = std::string(1, static_cast<char>(c)) + "1^~.";
            const int ab = posture::compareVersions(a, b);
            const int ba = posture::compareVersions(b, a);
            QCOMPARE(ab<0, ba> 0);
            QCOMPARE(ab == 0, ba == 0);
            (void)posture::kernelFlavour(a);
            (void)posture::kernelFlavour(b);
        }
    }
};

QTEST_APPLESS_MAIN(TestVersionCompare)
#include "tst_versioncompare.moc"

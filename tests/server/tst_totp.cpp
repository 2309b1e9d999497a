// TOTP: the test vectors of RFC 6238 Appendix B (SHA-1, SHA-256, SHA-512, 8 digits) and of
// RFC 4226 Appendix D (HOTP, 6 digits), the time step at its edges, and the otpauth:// URI
// authenticator apps read.
#include "server/mfa/totp.h"

#include <QtTest>

using namespace vigil;
using server::TotpAlgorithm;
using server::TotpParameters;

namespace {

std::chrono::system_clock::time_point at(std::int64_t unixSeconds)
{
    return std::chrono::system_clock::time_point(std::chrono::seconds(unixSeconds));
}

// Appendix B's seeds: the ASCII digits repeated to the hash's own length.
Bytes seedFor(TotpAlgorithm algorithm)
{
    const std::size_t length = algorithm == TotpAlgorithm::Sha1     ? 20
                               : algorithm == TotpAlgorithm::Sha256 ? 32
                                                                    : 64;
    Bytes seed;
    for (std::size_t i = 0; i < length; ++i)
        seed.push_back(static_cast<std::uint8_t>('0' + (i + 1) % 10));
    return seed;
}

} // namespace

Q_DECLARE_METATYPE(TotpAlgorithm)

class TestTotp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rfc6238AppendixB_data()
    {
        QTest::addColumn<qint64>("time");
        QTest::addColumn<TotpAlgorithm>("algorithm");
        QTest::addColumn<QString>("code");
        const struct
        {
            qint64 time;
            const char *sha1;
            const char *sha256;
            const char *sha512;
        } table[] = {
            {59, "94287082", "46119246", "90693936"},
            {1111111109, "07081804", "68084774", "25091201"},
            {1111111111, "14050471", "67062674", "99943326"},
            {1234567890, "89005924", "91819424", "93441116"},
            {2000000000, "69279037", "90698825", "38618901"},
            {20000000000, "65353130", "77737706", "47863826"},
        };
        for (const auto &row : table) {
            QTest::addRow("%lld SHA1", row.time)
                << row.time << TotpAlgorithm::Sha1 << QString::fromLatin1(row.sha1);
            QTest::addRow("%lld SHA256", row.time)
                << row.time << TotpAlgorithm::Sha256 << QString::fromLatin1(row.sha256);
            QTest::addRow("%lld SHA512", row.time)
                << row.time << TotpAlgorithm::Sha512 << QString::fromLatin1(row.sha512);
        }
    }

    void rfc6238AppendixB()
    {
        QFETCH(qint64, time);
        QFETCH(TotpAlgorithm, algorithm);
        QFETCH(QString, code);
        TotpParameters parameters;
        parameters.algorithm = algorithm;
        parameters.digits = 8;
        // T of section 4.2, as the appendix's table lists it.
        const auto step = static_cast<std::uint64_t>(time) / 30;
        QCOMPARE(QString::fromStdString(server::hotp(seedFor(algorithm), step, parameters)), code);
        // The last row, in the year 2603, is past what std::chrono::system_clock holds here
        // (nanoseconds in 64 bits end in 2262); the others also go through the clock.
        if (time < 9'000'000'000)
            QCOMPARE(QString::fromStdString(server::totp(seedFor(algorithm), at(time), parameters)),
                     code);
    }

    void rfc4226AppendixD()
    {
        const Bytes secret = toBytes("12345678901234567890");
        const char *expected[] = {"755224", "287082", "359152", "969429", "338314",
                                  "254676", "287922", "162583", "399871", "520489"};
        for (std::uint64_t counter = 0; counter < 10; ++counter)
            QCOMPARE(server::hotp(secret, counter), std::string(expected[counter]));
    }

    void timeStepEdges()
    {
        const auto period = std::chrono::seconds(30);
        QCOMPARE(server::totpTimeStep(at(0), period), std::optional<std::uint64_t>(0));
        QCOMPARE(server::totpTimeStep(at(29), period), std::optional<std::uint64_t>(0));
        QCOMPARE(server::totpTimeStep(at(30), period), std::optional<std::uint64_t>(1));
        QCOMPARE(server::totpTimeStep(at(-1), period), std::nullopt);
        QCOMPARE(server::totpTimeStep(at(30), std::chrono::seconds(0)), std::nullopt);
        // A code stays the same through its period and changes at its end.
        const Bytes key = seedFor(TotpAlgorithm::Sha1);
        QCOMPARE(server::totp(key, at(1111111110)), server::totp(key, at(1111111139)));
        QVERIFY(server::totp(key, at(1111111139)) != server::totp(key, at(1111111140)));
    }

    void refusesWhatNoAppCouldShow()
    {
        const Bytes key = seedFor(TotpAlgorithm::Sha1);
        TotpParameters five;
        five.digits = 5;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::hotp(key, 0, five));
        TotpParameters nine;
        nine.digits = 9;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::hotp(key, 0, nine));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::hotp(Bytes{}, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::totp(key, at(-30)));
    }

    void otpauthUri()
    {
        const Bytes key = toBytes("12345678901234567890");
        QCOMPARE(server::otpauthUri("Acme Corp", "alice@acme.example", key),
                 std::string("otpauth://totp/Acme%20Corp:alice%40acme.example"
                             "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Corp"
                             "&algorithm=SHA1&digits=6&period=30"));
        TotpParameters sha256;
        sha256.algorithm = TotpAlgorithm::Sha256;
        sha256.digits = 8;
        sha256.period = std::chrono::seconds(60);
        QCOMPARE(server::otpauthUri("Vigil", "bob", key, sha256),
                 std::string("otpauth://totp/Vigil:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                             "&issuer=Vigil&algorithm=SHA256&digits=8&period=60"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::otpauthUri("", "bob", key));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::otpauthUri("A:B", "bob", key));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, server::otpauthUri("Vigil", "b:ob", key));
    }
};

QTEST_APPLESS_MAIN(TestTotp)
#include "tst_totp.moc"

#include "independentpython.h"
#include "protocol/rfc3339.h"
#include "testprinters.h"

#include <QTest>
#include <random>

using namespace vigil::protocol;
using std::chrono::system_clock;
using vigil::test::runPython;

namespace {

system_clock::time_point at(long long seconds)
{
    return system_clock::time_point(std::chrono::seconds(seconds));
}

} // namespace

class TestRfc3339 : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void knownAnswers_data()
    {
        QTest::addColumn<qint64>("seconds");
        QTest::addColumn<QByteArray>("text");
        QTest::newRow("epoch") << qint64(0) << QByteArray("1970-01-01T00:00:00Z");
        QTest::newRow("contract example")
            << qint64(1795536300) << QByteArray("2026-11-24T16:05:00Z");
        QTest::newRow("leap day") << qint64(1709164800) << QByteArray("2024-02-29T00:00:00Z");
        QTest::newRow("2000-02-29") << qint64(951782400) << QByteArray("2000-02-29T00:00:00Z");
        QTest::newRow("end of a year") << qint64(1767225599) << QByteArray("2025-12-31T23:59:59Z");
        QTest::newRow("after 2038") << qint64(2147483648) << QByteArray("2038-01-19T03:14:08Z");
        QTest::newRow("last representable")
            << qint64(9223372036) << QByteArray("2262-04-11T23:47:16Z");
    }

    void knownAnswers()
    {
        QFETCH(qint64, seconds);
        QFETCH(QByteArray, text);
        QCOMPARE(formatRfc3339(at(seconds)), text.toStdString());
        const auto parsed = parseRfc3339(text.toStdString());
        QVERIFY(parsed);
        QVERIFY(*parsed == at(seconds));
        QCOMPARE(toNumericDate(*parsed), seconds);
    }

    void rejects_data()
    {
        QTest::addColumn<QByteArray>("text");
        for (const char *text : {"",
                                 "2026-11-24T16:05:00",
                                 "2026-11-24T16:05:00z",
                                 "2026-11-24t16:05:00Z",
                                 "2026-11-24T16:05:00+00:00",
                                 "2026-11-24T16:05:00.5Z",
                                 "2026-11-24T16:05:00.000Z",
                                 "2026-11-24 16:05:00Z",
                                 "2026-11-24T16:05Z",
                                 "2026-11-24T16:05:00ZZ",
                                 " 2026-11-24T16:05:00Z",
                                 "2026-11-24T16:05:00Z ",
                                 "26-11-24T16:05:00Z",
                                 "2026-1-24T16:05:00Z",
                                 "2026-00-10T00:00:00Z",
                                 "2026-13-10T00:00:00Z",
                                 "2026-11-00T00:00:00Z",
                                 "2026-11-31T00:00:00Z",
                                 "2026-02-29T00:00:00Z",
                                 "2100-02-29T00:00:00Z",
                                 "2026-11-24T24:00:00Z",
                                 "2026-11-24T23:60:00Z",
                                 "2016-12-31T23:59:60Z",
                                 "1969-12-31T23:59:59Z",
                                 "0000-01-01T00:00:00Z",
                                 "2262-04-11T23:47:17Z",
                                 "9999-12-31T23:59:59Z",
                                 "+026-11-24T16:05:00Z",
                                 "2026-11-24T-6:05:00Z",
                                 "2026-11-24T16:05:0 Z",
                                 "2026/11/24T16:05:00Z",
                                 "2026-11-24T16:05:00\xef\xbc\xba"})
            QTest::newRow(text) << QByteArray(text);
        QTest::newRow("NUL inside") << QByteArray("2026-11-24T16:05:00Z\0", 21);
    }

    void rejects()
    {
        QFETCH(QByteArray, text);
        QVERIFY(!parseRfc3339(std::string_view(text.constData(), std::size_t(text.size()))));
    }

    void formatFloorsToSeconds()
    {
        QCOMPARE(formatRfc3339(at(1795536300) + std::chrono::nanoseconds(999999999)),
                 std::string("2026-11-24T16:05:00Z"));
        QCOMPARE(toNumericDate(at(1795536300) + std::chrono::milliseconds(999)), 1795536300LL);
    }

    void formatRefusesTimesBefore1970()
    {
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, formatRfc3339(at(-1)));
        QCOMPARE(formatRfc3339(at(0) + std::chrono::milliseconds(1)),
                 std::string("1970-01-01T00:00:00Z"));
    }

    void numericDateRange()
    {
        QVERIFY(!fromNumericDate(-1));
        QVERIFY(fromNumericDate(0));
        QVERIFY(fromNumericDate(9223372036));
        QVERIFY(!fromNumericDate(9223372037));
    }

    // Python's datetime (an independent calendar implementation) formats the same seconds.
    void agreesWithPython()
    {
        std::mt19937_64 random(20261124);
        std::uniform_int_distribution<long long> seconds(0, 9223372036);
        QByteArray input;
        std::vector<long long> values;
        for (int i = 0; i < 2000; ++i) {
            values.push_back(seconds(random));
            input += QByteArray::number(values.back()) + "\n";
        }
        const char *script = R"(
import sys, datetime
for line in sys.stdin:
    t = datetime.datetime.fromtimestamp(int(line), tz=datetime.timezone.utc)
    print(t.strftime('%Y-%m-%dT%H:%M:%SZ'))
)";
        QByteArray output;
        QByteArray error;
        QVERIFY2(runPython(script, input, output, error), error.constData());
        const QList<QByteArray> lines = output.trimmed().split('\n');
        QCOMPARE(lines.size(), qsizetype(values.size()));
        for (std::size_t i = 0; i < values.size(); ++i) {
            QCOMPARE(formatRfc3339(at(values[i])), lines[qsizetype(i)].toStdString());
            const auto parsed = parseRfc3339(lines[qsizetype(i)].toStdString());
            QVERIFY(parsed && *parsed == at(values[i]));
        }
    }
};

QTEST_APPLESS_MAIN(TestRfc3339)
#include "tst_rfc3339.moc"

#include "protocol/ipc/envelope.h"
#include "protocol/ipc/lineframer.h"

#include <QTest>
#include <string>
#include <vector>

using vigil::protocol::ipc::LineFramer;
using vigil::protocol::ipc::maxRequestLineSize;

namespace {

std::vector<std::string> drain(LineFramer &framer)
{
    std::vector<std::string> lines;
    while (auto line = framer.nextLine())
        lines.push_back(*line);
    return lines;
}

} // namespace

class TestIpcLineFramer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void yieldsLinesInOrderWithoutTheirNewline()
    {
        LineFramer framer(100);
        framer.feed("{\"a\":1}\n\n{\"b\":2}\r\n");
        QCOMPARE(drain(framer), (std::vector<std::string>{"{\"a\":1}", "", "{\"b\":2}\r"}));
        QVERIFY(!framer.hasPartialLine());
        QVERIFY(!framer.overLimit());
    }

    // A socket delivers whatever it has: a line may come a byte at a time or many at once.
    void joinsLinesCutAnywhere()
    {
        const std::string stream = "first line\nsecond\nthird one\n";
        for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
            LineFramer framer(16);
            std::vector<std::string> lines;
            for (std::size_t at = 0; at < stream.size(); at += chunk) {
                framer.feed(std::string_view(stream).substr(at, chunk));
                for (auto &line : drain(framer))
                    lines.push_back(line);
            }
            QCOMPARE(lines, (std::vector<std::string>{"first line", "second", "third one"}));
            QVERIFY(!framer.hasPartialLine());
        }
    }

    void holdsAnUnfinishedLineUntilItsNewline()
    {
        LineFramer framer(100);
        framer.feed("{\"v\":1,");
        QVERIFY(!framer.nextLine());
        QVERIFY(framer.hasPartialLine());
        framer.feed("\"id\":1}\nnext");
        QCOMPARE(*framer.nextLine(), std::string("{\"v\":1,\"id\":1}"));
        QVERIFY(!framer.nextLine());
        // The stream ended here: "next" is a truncated request.
        QVERIFY(framer.hasPartialLine());
        QVERIFY(!framer.overLimit());
    }

    void takesALineOfExactlyTheLimit()
    {
        LineFramer framer(8);
        framer.feed("12345678\n");
        QCOMPARE(*framer.nextLine(), std::string("12345678"));
        QVERIFY(!framer.overLimit());
    }

    // The line passes the limit before its newline arrives: nothing is buffered past it.
    void refusesALineOverTheLimitBeforeItEnds()
    {
        LineFramer framer(8);
        framer.feed("12345678");
        QVERIFY(!framer.nextLine());
        QVERIFY(!framer.overLimit());
        framer.feed("9");
        QVERIFY(!framer.nextLine());
        QVERIFY(framer.overLimit());
        QVERIFY(!framer.hasPartialLine());
        // The stream has no more lines, whatever follows.
        framer.feed("\nok\n");
        QVERIFY(!framer.nextLine());
        QVERIFY(framer.overLimit());
    }

    // Lines that arrived before the oversize one are still answered, in order.
    void returnsEarlierLinesBeforeTheOversizeOne()
    {
        LineFramer framer(8);
        framer.feed("one\ntwo\n" + std::string(100, 'x') + "\nthree\n");
        QCOMPARE(drain(framer), (std::vector<std::string>{"one", "two"}));
        QVERIFY(framer.overLimit());
    }

    // At the socket's own limit: a request of 64 KiB passes, one byte more is too large.
    void appliesTheRequestLimit()
    {
        LineFramer framer(maxRequestLineSize);
        const std::string longest(maxRequestLineSize, ' ');
        framer.feed(longest + "\n" + longest);
        QCOMPARE(framer.nextLine()->size(), maxRequestLineSize);
        QVERIFY(!framer.nextLine());
        framer.feed("x");
        QVERIFY(!framer.nextLine());
        QVERIFY(framer.overLimit());
    }

    void refusesAnOversizeLineThatEndsInTheSameChunk()
    {
        LineFramer framer(8);
        framer.feed("123456789\n");
        QVERIFY(!framer.nextLine());
        QVERIFY(framer.overLimit());
    }

    // Lines of all sizes, many times the buffer over: the counts stay right after compaction.
    void keepsCountAcrossManyLines()
    {
        LineFramer framer(64);
        std::size_t count = 0;
        for (std::size_t i = 0; i < 2000; ++i) {
            const std::string line(i % 65, static_cast<char>('a' + i % 26));
            framer.feed(line + "\n");
            if (i % 3 == 0)
                continue; // let lines pile up
            for (auto &got : drain(framer)) {
                QCOMPARE(got.size(), count % 65);
                ++count;
            }
        }
        count += drain(framer).size();
        QCOMPARE(count, std::size_t(2000));
        QVERIFY(!framer.overLimit());
    }
};

QTEST_APPLESS_MAIN(TestIpcLineFramer)
#include "tst_ipclineframer.moc"

// The no-rollback rule for TPM clock state between two accepted quotes from one AK. The AK lives
// under the owner hierarchy, so resetCount and restartCount carry a per-key offset and may sit
// anywhere in 0..2^32-1: only their differences (mod 2^32) mean anything.
#include "server/api/reporthandler.h"
#include "testprinters.h"

#include <QTest>

using vigil::server::counterRollback;
using vigil::server::TpmCounters;

Q_DECLARE_METATYPE(TpmCounters)

namespace {

TpmCounters counters(std::uint64_t clock, std::uint32_t resetCount, std::uint32_t restartCount)
{
    return TpmCounters{clock, resetCount, restartCount};
}

} // namespace

class TestCounterRollback : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsWhatATpmCanDo_data()
    {
        QTest::addColumn<TpmCounters>("previous");
        QTest::addColumn<TpmCounters>("current");

        QTest::newRow("clock forward") << counters(1000, 5, 2) << counters(1001, 5, 2);
        QTest::newRow("clock far forward") << counters(1000, 5, 2) << counters(1ull << 40, 5, 2);
        QTest::newRow("equal counters") << counters(1000, 5, 2) << counters(1000, 5, 2);
        QTest::newRow("all zero") << counters(0, 0, 0) << counters(0, 0, 0);
        // A reset (reboot, Startup(CLEAR)) restores the clock from its last NV save, which may
        // be behind the last quote, and sets restartCount back to 0.
        QTest::newRow("reset with the clock back")
            << counters(90000, 5, 0) << counters(60000, 6, 0);
        QTest::newRow("reset with restartCount back")
            << counters(90000, 5, 7) << counters(95000, 6, 0);
        QTest::newRow("reset with clock and restartCount back")
            << counters(90000, 5, 7) << counters(100, 6, 0);
        QTest::newRow("several resets") << counters(90000, 5, 0) << counters(10, 105, 0);
        // Restart and resume (after Shutdown(STATE)) keep the saved clock running.
        QTest::newRow("restart, clock forward") << counters(90000, 5, 2) << counters(90001, 5, 3);
        QTest::newRow("restart, clock equal") << counters(90000, 5, 2) << counters(90000, 5, 3);
        QTest::newRow("resetCount wraps 0xffffffff to 0")
            << counters(90000, 0xffffffffu, 0) << counters(100, 0, 0);
        QTest::newRow("restartCount wraps 0xffffffff to 0")
            << counters(90000, 5, 0xffffffffu) << counters(90001, 5, 0);
        QTest::newRow("resetCount forward across the wrap by 2^31-1")
            << counters(1, 0x80000001u, 0) << counters(0, 0, 0);
        QTest::newRow("largest clock")
            << counters(0xfffffffffffffffeull, 1, 1) << counters(0xffffffffffffffffull, 1, 1);
    }

    void acceptsWhatATpmCanDo()
    {
        QFETCH(TpmCounters, previous);
        QFETCH(TpmCounters, current);
        QCOMPARE(counterRollback(previous, current), std::string());
    }

    void namesWhatWentBack_data()
    {
        QTest::addColumn<TpmCounters>("previous");
        QTest::addColumn<TpmCounters>("current");
        QTest::addColumn<QString>("expected");

        QTest::newRow("clock back by 1 ms")
            << counters(90000, 5, 2) << counters(89999, 5, 2)
            << QStringLiteral("the TPM clock went back from 90000 to 89999 ms without a reset");
        QTest::newRow("clock back to 0")
            << counters(90000, 5, 2) << counters(0, 5, 2)
            << QStringLiteral("the TPM clock went back from 90000 to 0 ms without a reset");
        // A restart needs an orderly Shutdown(STATE), which saves the clock: it cannot go back.
        QTest::newRow("restart with the clock back")
            << counters(90000, 5, 2) << counters(80000, 5, 3)
            << QStringLiteral("the TPM clock went back from 90000 to 80000 ms without a reset");
        QTest::newRow("restartCount back") << counters(90000, 5, 3) << counters(95000, 5, 2)
                                           << QStringLiteral("restartCount went back");
        QTest::newRow("restartCount 0 back to 0xffffffff")
            << counters(90000, 5, 0) << counters(95000, 5, 0xffffffffu)
            << QStringLiteral("restartCount went back");
        QTest::newRow("resetCount back") << counters(90000, 6, 0) << counters(95000, 5, 0)
                                         << QStringLiteral("resetCount went back");
        QTest::newRow("resetCount 0 back to 0xffffffff")
            << counters(90000, 0, 0) << counters(95000, 0xffffffffu, 0)
            << QStringLiteral("resetCount went back");
        QTest::newRow("resetCount back, restartCount forward")
            << counters(90000, 6, 0) << counters(95000, 5, 9)
            << QStringLiteral("resetCount went back");
        // 2^31 ahead is as far behind: not taken as forward.
        QTest::newRow("resetCount exactly 2^31 away")
            << counters(1, 0, 0) << counters(0, 0x80000000u, 0)
            << QStringLiteral("resetCount went back");
    }

    void namesWhatWentBack()
    {
        QFETCH(TpmCounters, previous);
        QFETCH(TpmCounters, current);
        QFETCH(QString, expected);
        QCOMPARE(QString::fromStdString(counterRollback(previous, current)), expected);
    }
};

QTEST_APPLESS_MAIN(TestCounterRollback)
#include "tst_counterrollback.moc"

// ReportSchedule: the early, jittered report before the verifier's time, triggers and their
// debounce, exponential backoff with full jitter and retryAfter, stop and reportSoon, driven
// by a manual clock and scripted random numbers.
#include "app/agent/reportschedule.h"
#include "manualclock.h"

#include <QtTest>
#include <chrono>
#include <cmath>
#include <optional>

using namespace vigil;
using namespace std::chrono_literals;
using agent::ReportSchedule;

namespace {

const auto start = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 9h;

// Almost 1: the largest value a Random may return.
const double almostOne = std::nextafter(1.0, 0.0);

} // namespace

class TestReportSchedule : public QObject
{
    Q_OBJECT

private:
    // Milliseconds from the start to when the schedule is due; -1 when nothing is.
    qint64 dueMs() const
    {
        const auto due = m_schedule->due();
        if (!due)
            return -1;
        return std::chrono::duration_cast<std::chrono::milliseconds>(*due - start).count();
    }

    static qint64 ms(std::chrono::system_clock::duration duration)
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
    }

    qint64 nowMs() const { return ms(m_clock->now() - start); }

private Q_SLOTS:
    void init()
    {
        m_clock.emplace(start);
        m_random = 0.0;
        m_schedule.emplace(*m_clock, ReportSchedule::Options{}, [this] { return m_random; });
    }

    void nothingIsDueBeforeStart()
    {
        QCOMPARE(dueMs(), -1);
        QCOMPARE(m_schedule->failures(), 0);
    }

    void succeededIsDueAtTheVerifiersTimeWithRandomZero()
    {
        m_random = 0.0;
        m_schedule->succeeded(start + 1h);
        QCOMPARE(dueMs(), ms(1h));
    }

    void succeededIsDueAtMostAMinuteEarly()
    {
        // A tenth of an hour is 6 min; the minute cap applies.
        m_random = almostOne;
        m_schedule->succeeded(start + 1h);
        QVERIFY2(dueMs() >= ms(1h - 60s) && dueMs() < ms(1h - 60s) + 1,
                 QByteArray::number(dueMs()).constData());
    }

    void succeededIsDueAtMostATenthOfTheIntervalEarly()
    {
        m_clock->advance(30s);
        m_random = almostOne;
        m_schedule->succeeded(start + 30s + 100s); // a tenth: 10 s, under the cap
        QVERIFY2(dueMs() >= ms(30s + 90s) && dueMs() < ms(30s + 90s) + 1,
                 QByteArray::number(dueMs()).constData());

        m_random = 0.5;
        m_schedule->succeeded(start + 30s + 100s);
        QCOMPARE(dueMs(), ms(30s + 95s));
    }

    void succeededStaysWithinTheWindowForAnyRandom()
    {
        for (const double random : {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, almostOne}) {
            m_random = random;
            m_schedule->succeeded(start + 10min);
            QVERIFY(dueMs() <= ms(10min));
            QVERIFY(dueMs() >= ms(10min - 60s));
            const qint64 expected = ms(10min) - qint64(std::llround(60000 * random));
            QVERIFY2(std::abs(dueMs() - expected) <= 1, QByteArray::number(dueMs()).constData());
        }
    }

    void triggerReportsAfterTheDebounce()
    {
        m_schedule->succeeded(start + 1h);
        m_clock->advance(10s);
        m_schedule->triggered();
        QCOMPARE(dueMs(), ms(10s + 2s));
    }

    void burstOfTriggersCoalesces()
    {
        m_schedule->succeeded(start + 1h);
        m_schedule->triggered();
        QCOMPARE(dueMs(), ms(2s));
        m_clock->advance(1s);
        m_schedule->triggered(); // within the debounce: not pushed to 3 s
        QCOMPARE(dueMs(), ms(2s));
        m_clock->advance(500ms);
        m_schedule->triggered();
        QCOMPARE(dueMs(), ms(2s));
    }

    void triggerDoesNotPostponeAnEarlierDue()
    {
        m_random = 0.0;
        QCOMPARE(m_schedule->failed(), 1s); // due in 1 s, sooner than the debounce
        m_schedule->triggered();
        QCOMPARE(dueMs(), ms(1s));
    }

    void triggerDoesNothingWhenNeverStarted()
    {
        m_schedule->triggered();
        QCOMPARE(dueMs(), -1);
    }

    void triggerDoesNothingWhenStopped()
    {
        m_schedule->succeeded(start + 1h);
        m_schedule->stop();
        QCOMPARE(dueMs(), -1);
        m_schedule->triggered();
        QCOMPARE(dueMs(), -1);
    }

    void backoffBoundDoublesUpToTheCap()
    {
        // Half of each bound (full jitter with 0.5), in whole seconds: 5/2 is 2.
        m_random = 0.5;
        const std::vector<qint64> expected{2, 5, 10, 20, 40, 80, 160, 320, 450, 450, 450};
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const auto wait = m_schedule->failed();
            QCOMPARE(wait.count(), expected[i]);
            QCOMPARE(dueMs(), nowMs() + expected[i] * 1000);
            QCOMPARE(m_schedule->failures(), int(i + 1));
            m_clock->advance(wait);
        }
    }

    void backoffReachesAlmostTheBoundWithRandomNearOne()
    {
        m_random = almostOne;
        for (const qint64 bound : {5, 10, 20, 40, 80, 160, 320, 640, 900, 900}) {
            const auto wait = m_schedule->failed().count();
            QVERIFY2(
                wait <= bound && wait >= bound - 1,
                (QByteArray::number(wait) + " for bound " + QByteArray::number(bound)).constData());
        }
    }

    void backoffStaysCappedAfterManyFailures()
    {
        m_random = almostOne;
        for (int i = 0; i < 100; ++i) {
            const auto wait = m_schedule->failed();
            QVERIFY(wait >= 1s);
            QVERIFY(wait <= 15min);
        }
        QCOMPARE(m_schedule->failures(), 100);
        QVERIFY(m_schedule->failed() >= 15min - 1s);
    }

    void backoffIsNeverUnderOneSecond()
    {
        m_random = 0.0;
        QCOMPARE(m_schedule->failed(), 1s);
        QCOMPARE(dueMs(), ms(1s));
        m_random = 0.1; // 0.5 s of the first bound
        QCOMPARE(m_schedule->failed(), 1s);
    }

    void retryAfterIsHonoured()
    {
        m_random = 0.5;
        QCOMPARE(m_schedule->failed(30s), 30s);
        QCOMPARE(dueMs(), ms(30s));
        QCOMPARE(m_schedule->failures(), 1);
    }

    void retryAfterIsClamped()
    {
        QCOMPARE(m_schedule->failed(0s), 1s);
        QCOMPARE(dueMs(), ms(1s));
        QCOMPARE(m_schedule->failed(-10s), 1s);
        QCOMPARE(m_schedule->failed(2h), 15min);
        QCOMPARE(dueMs(), ms(15min));
        QCOMPARE(m_schedule->failures(), 3);
    }

    void successResetsTheBackoff()
    {
        m_random = 0.5;
        m_schedule->failed();
        m_schedule->failed();
        QCOMPARE(m_schedule->failed(), 10s);
        m_schedule->succeeded(start + 1h);
        QCOMPARE(m_schedule->failures(), 0);
        QCOMPARE(m_schedule->failed(), 2s); // the first bound again
    }

    void triggerDuringBackoffRetriesAfterTheDebounce()
    {
        m_random = 0.5;
        for (int i = 0; i < 4; ++i)
            m_schedule->failed();
        QCOMPARE(dueMs(), ms(20s));
        m_clock->advance(3s);
        m_schedule->triggered(); // the network came up
        QCOMPARE(dueMs(), ms(3s + 2s));
        QCOMPARE(m_schedule->failures(), 4); // a retry, not a success
    }

    void stopClearsDue()
    {
        m_schedule->failed();
        QVERIFY(dueMs() >= 0);
        m_schedule->stop();
        QCOMPARE(dueMs(), -1);
    }

    void reportSoonStartsAStoppedSchedule()
    {
        m_schedule->reportSoon();
        QCOMPARE(dueMs(), ms(2s));
        m_schedule->stop();
        m_clock->advance(1min);
        m_schedule->reportSoon();
        QCOMPARE(dueMs(), ms(1min + 2s));
    }

    void reportSoonBringsALaterDueForward()
    {
        m_schedule->succeeded(start + 1h);
        m_clock->advance(5s);
        m_schedule->reportSoon();
        QCOMPARE(dueMs(), ms(5s + 2s));
    }

    void reportSoonDoesNotPostponeAnEarlierDue()
    {
        m_random = 0.0;
        m_schedule->failed(); // due in 1 s
        m_schedule->reportSoon();
        QCOMPARE(dueMs(), ms(1s));
        // Nor does a burst of them push the report out for ever.
        m_schedule->stop();
        m_schedule->reportSoon();
        m_clock->advance(1s);
        m_schedule->reportSoon();
        QCOMPARE(dueMs(), ms(2s));
    }

    void optionsAreUsed()
    {
        ReportSchedule::Options options;
        options.debounce = 7s;
        options.firstBackoff = 3s;
        options.maxBackoff = 20s;
        ReportSchedule schedule(*m_clock, options, [] { return almostOne; });
        QCOMPARE(schedule.failed().count(), 2);  // bound 3
        QCOMPARE(schedule.failed().count(), 5);  // bound 6
        QCOMPARE(schedule.failed().count(), 11); // bound 12
        QCOMPARE(schedule.failed().count(), 19); // bound 20, the cap
        QCOMPARE(schedule.failed(1h), 20s);
        schedule.triggered();
        QCOMPARE(*schedule.due(), start + 7s);
    }

    void systemRandomStaysWithinTheWindow()
    {
        ReportSchedule schedule(*m_clock);
        for (int i = 0; i < 200; ++i) {
            schedule.succeeded(start + 1h);
            QVERIFY(*schedule.due() <= start + 1h);
            QVERIFY(*schedule.due() >= start + 1h - 60s);
        }
    }

private:
    std::optional<test::ManualClock> m_clock;
    std::optional<ReportSchedule> m_schedule;
    double m_random = 0.0;
};

QTEST_GUILESS_MAIN(TestReportSchedule)
#include "tst_reportschedule.moc"

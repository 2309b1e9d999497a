// TerminationSignals: SIGTERM and SIGINT sent to the process arrive as received(signal) through
// the event loop, and the process lives on to handle them.
#include "app/agent/service/terminationsignals.h"

#include <QSignalSpy>
#include <QtTest>
#include <csignal>
#include <pthread.h>
#include <set>
#include <unistd.h>

using namespace vigil;
using agent::TerminationSignals;

namespace {

bool isBlocked(int signal)
{
    sigset_t set;
    sigemptyset(&set);
    return pthread_sigmask(SIG_BLOCK, nullptr, &set) == 0 && sigismember(&set, signal) == 1;
}

} // namespace

class TestTerminationSignals : public QObject
{
    Q_OBJECT

public:
    // Constructed before Qt Test starts its watchdog thread, as vigild makes it before any
    // thread starts: a thread that did not inherit the mask would take kill()'s signal.
    TestTerminationSignals() { m_signals.emplace(); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(isBlocked(SIGTERM));
        QVERIFY(isBlocked(SIGINT));
    }

    void sigtermArrivesThroughTheEventLoop()
    {
        QSignalSpy spy(&*m_signals, &TerminationSignals::received);
        QCOMPARE(::raise(SIGTERM), 0);
        QCOMPARE(spy.count(), 0); // not from a handler: only once the loop reads it
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        QCOMPARE(spy.at(0).at(0).toInt(), SIGTERM);
    }

    void sigintArrivesThroughTheEventLoop()
    {
        QSignalSpy spy(&*m_signals, &TerminationSignals::received);
        QCOMPARE(::raise(SIGINT), 0);
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        QCOMPARE(spy.at(0).at(0).toInt(), SIGINT);
    }

    void signalToTheProcessArrives()
    {
        QSignalSpy spy(&*m_signals, &TerminationSignals::received);
        QCOMPARE(::kill(::getpid(), SIGTERM), 0);
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        QCOMPARE(spy.at(0).at(0).toInt(), SIGTERM);
    }

    void bothArriveAndNothingMore()
    {
        QSignalSpy spy(&*m_signals, &TerminationSignals::received);
        QCOMPARE(::kill(::getpid(), SIGINT), 0);
        QCOMPARE(::raise(SIGTERM), 0);
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
        QCOMPARE((std::set<int>{spy.at(0).at(0).toInt(), spy.at(1).at(0).toInt()}),
                 (std::set<int>{SIGINT, SIGTERM}));
        QTest::qWait(200);
        QCOMPARE(spy.count(), 2);
    }

    void otherSignalsAreLeftAlone()
    {
        QVERIFY(!isBlocked(SIGHUP));
        QVERIFY(!isBlocked(SIGUSR1));
    }

private:
    std::optional<TerminationSignals> m_signals;
};

int main(int argc, char **argv)
{
    QCoreApplication application(argc, argv);
    TestTerminationSignals test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_terminationsignals.moc"

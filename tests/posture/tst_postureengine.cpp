// The engine's scheduling is tested with scripted collectors: what matters here is how it
// treats collectors that are slow, stuck or throwing, which real collectors can't be made to
// do on demand. Real collectors against fixture hosts are tested in their own suites.
#include "fixturehost.h"
#include "posture/postureengine.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <thread>

using namespace vigil;
using namespace std::chrono_literals;
using posture::CheckResult;
using posture::CheckStatus;

namespace {

class ScriptedCollector final : public posture::Collector
{
public:
    ScriptedCollector(std::string id, std::chrono::milliseconds delay, bool throws = false)
        : m_id(std::move(id)), m_delay(delay), m_throws(throws)
    {
    }
    std::string_view id() const override { return m_id; }
    CheckResult collect(const posture::CollectContext &) override
    {
        ++calls;
        std::this_thread::sleep_for(m_delay);
        {
            std::lock_guard lock(m_mutex);
            ++m_finished;
        }
        m_finishedChanged.notify_all();
        if (m_throws)
            throw std::runtime_error("boom");
        return CheckResult::pass(m_id, "done");
    }
    // Waits (up to 10 s) until `count` calls have returned from their sleep.
    bool waitUntilFinished(int count)
    {
        std::unique_lock lock(m_mutex);
        return m_finishedChanged.wait_for(lock, 10s, [&] { return m_finished >= count; });
    }
    std::atomic<int> calls{0};

private:
    std::string m_id;
    std::chrono::milliseconds m_delay;
    bool m_throws;
    std::mutex m_mutex;
    std::condition_variable m_finishedChanged;
    int m_finished = 0;
};

// Returns only once `expected` collectors are inside collect() at the same time (or after 10 s,
// saying it was alone): proof of concurrency that a loaded machine cannot make flaky.
class RendezvousCollector final : public posture::Collector
{
public:
    struct Meeting
    {
        std::mutex mutex;
        std::condition_variable arrived;
        int present = 0;
    };
    RendezvousCollector(std::string id, std::shared_ptr<Meeting> meeting, int expected)
        : m_id(std::move(id)), m_meeting(std::move(meeting)), m_expected(expected)
    {
    }
    std::string_view id() const override { return m_id; }
    CheckResult collect(const posture::CollectContext &) override
    {
        std::unique_lock lock(m_meeting->mutex);
        ++m_meeting->present;
        m_meeting->arrived.notify_all();
        const bool met = m_meeting->arrived.wait_for(
            lock, 10s, [&] { return m_meeting->present >= m_expected; });
        lock.unlock();
        std::this_thread::sleep_for(200ms);
        return CheckResult::pass(m_id, met ? "met the others" : "alone");
    }

private:
    std::string m_id;
    std::shared_ptr<Meeting> m_meeting;
    int m_expected;
};

// Runs a real command through the context, so the deadline reaches the command runner, and
// publishes what the runner said: the engine's own result may already be its timeout when a
// loaded machine takes longer than the grace to reap the command.
class CommandCollector final : public posture::Collector
{
public:
    std::string_view id() const override { return "command"; }
    CheckResult collect(const posture::CollectContext &context) override
    {
        const auto result = context.run({"/usr/bin/sleep", {"30"}, 5000ms});
        m_outcome.set_value(result.outcome);
        return CheckResult::unknown("command", "sleep ended");
    }
    std::future<posture::CommandResult::Outcome> outcome() { return m_outcome.get_future(); }

private:
    std::promise<posture::CommandResult::Outcome> m_outcome;
};

// Overruns its deadline in a wait that only a stop request ends early (after 60 s otherwise),
// and says when it has returned.
class StopAwareCollector final : public posture::Collector
{
public:
    std::string_view id() const override { return "stop_aware"; }
    CheckResult collect(const posture::CollectContext &context) override
    {
        std::mutex mutex;
        std::condition_variable_any never;
        std::unique_lock lock(mutex);
        never.wait_for(lock, context.stopToken(), 60s, [] { return false; });
        returned = true;
        return CheckResult::unknown("stop_aware", "stopped");
    }
    std::atomic<bool> returned{false};
};

// Starts a child that writes its pid to a file and sleeps 30 s, run through the host's runner
// with its own 60 s limit rather than the deadline (as the package-manager query is), so the
// collection overruns while the child lives.
class ChildProcessCollector final : public posture::Collector
{
public:
    explicit ChildProcessCollector(std::string pidFile) : m_pidFile(std::move(pidFile)) {}
    std::string_view id() const override { return "child"; }
    CheckResult collect(const posture::CollectContext &context) override
    {
        context.host().commands().run(
            {"/bin/sh",
             {"-c", "echo $$ > \"$0\"; exec /usr/bin/sleep 30", m_pidFile},
             60s,
             context.stopToken()});
        return CheckResult::unknown("child", "sleep ended");
    }

private:
    std::string m_pidFile;
};

// Returns bytes as a Latin-1 hostname or mount point would bring them.
class Latin1Collector final : public posture::Collector
{
public:
    std::string_view id() const override { return "latin1"; }
    CheckResult collect(const posture::CollectContext &) override
    {
        return CheckResult::pass("latin1", "caf\xe9", {{"mount", "/mnt/\xff"}});
    }
};

} // namespace

class TestPostureEngine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void runsCollectorsConcurrentlyInOrder()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        std::vector<std::shared_ptr<posture::Collector>> collectors;
        auto meeting = std::make_shared<RendezvousCollector::Meeting>();
        for (const char *id : {"a", "b", "c", "d"})
            collectors.push_back(std::make_shared<RendezvousCollector>(id, meeting, 4));
        posture::PostureEngine engine(fixture.host, collectors, 20s);
        const auto snapshot = engine.collect();
        QCOMPARE(snapshot.checks.size(), std::size_t(4));
        QCOMPARE(snapshot.checks[0].id, "a");
        QCOMPARE(snapshot.checks[3].id, "d");
        for (const auto &check : snapshot.checks)
            QCOMPARE(check.summary, "met the others"); // all four were running at once
        QVERIFY(snapshot.checks[0].duration >= 200ms);
        QCOMPARE(snapshot.collectedAt, test::fixtureNow());
    }

    void stuckCollectorIsUnknownAndNotRestarted()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        auto stuck = std::make_shared<ScriptedCollector>("stuck", 3000ms);
        auto quick = std::make_shared<ScriptedCollector>("quick", 0ms);
        posture::PostureEngine engine(fixture.host, {stuck, quick}, 200ms);
        QElapsedTimer timer;
        timer.start();
        auto snapshot = engine.collect();
        QVERIFY2(timer.elapsed() < 2500, "waited for the stuck collector");
        QCOMPARE(snapshot.checks[0].status, CheckStatus::Unknown);
        QCOMPARE(snapshot.checks[0].reason, "timed out after 200 ms");
        QCOMPARE(snapshot.checks[1].status, CheckStatus::Pass);

        snapshot = engine.collect();
        QCOMPARE(snapshot.checks[0].reason,
                 "the previous collection is still running past its timeout");
        QCOMPARE(stuck->calls.load(), 1);

        QVERIFY(stuck->waitUntilFinished(1));
        // The engine frees the slot a moment after the collector returns.
        for (int attempt = 0; attempt < 100 && stuck->calls.load() < 2; ++attempt) {
            std::this_thread::sleep_for(attempt == 0 ? 0ms : 10ms);
            snapshot = engine.collect();
        }
        QCOMPARE(stuck->calls.load(), 2);
        QCOMPARE(snapshot.checks[1].status, CheckStatus::Pass);
    }

    void backToBackCollectionsNeverSeeAFinishedRunAsStuck()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        std::vector<std::shared_ptr<posture::Collector>> collectors;
        for (const char *id : {"a", "b", "c", "d", "e", "f", "g", "h"})
            collectors.push_back(std::make_shared<ScriptedCollector>(id, 0ms));
        posture::PostureEngine engine(fixture.host, collectors);
        for (int i = 0; i < 500; ++i)
            for (const auto &check : engine.collect().checks)
                QVERIFY2(check.status == CheckStatus::Pass, check.reason.c_str());
    }

    void throwingCollectorIsUnknown()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::PostureEngine engine(fixture.host,
                                      {std::make_shared<ScriptedCollector>("bad", 0ms, true)});
        QTest::ignoreMessage(QtWarningMsg, "bad threw: boom");
        const auto snapshot = engine.collect();
        QCOMPARE(snapshot.checks[0].status, CheckStatus::Unknown);
        QCOMPARE(snapshot.checks[0].reason, "internal error: boom");
    }

    void invalidUtf8IsReplaced()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        posture::PostureEngine engine(fixture.host, {std::make_shared<Latin1Collector>()});
        const auto snapshot = engine.collect();
        QCOMPARE(snapshot.checks[0].summary, "caf\xef\xbf\xbd");
        QCOMPARE(snapshot.checks[0].details["mount"], "/mnt/\xef\xbf\xbd");
        const auto text = snapshot.toJson().dump(); // would throw on invalid UTF-8
        QVERIFY(text.find("caf\xef\xbf\xbd") != std::string::npos);
    }

    void deadlineReachesCommands()
    {
        auto host = std::make_shared<const posture::Host>(posture::Host::local());
        auto collector = std::make_shared<CommandCollector>();
        auto outcome = collector->outcome();
        posture::PostureEngine engine(host, {collector}, 300ms);
        QElapsedTimer timer;
        timer.start();
        engine.collect();
        // Killed at the engine's deadline, long before the command's own 5 s.
        QCOMPARE(outcome.wait_for(10s), std::future_status::ready);
        QVERIFY(outcome.get() == posture::CommandResult::Outcome::TimedOut);
        QVERIFY2(timer.elapsed() < 4000, "the command ran to its own timeout");
    }

    void destroyingTheEngineStopsAndJoinsAnOverrunningCollector()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        auto collector = std::make_shared<StopAwareCollector>();
        QElapsedTimer timer;
        {
            posture::PostureEngine engine(fixture.host, {collector}, 100ms);
            QCOMPARE(engine.collect().checks[0].reason, "timed out after 100 ms");
            QVERIFY(!collector->returned);
            timer.start();
        }
        // Joined, not left behind: the collection has returned once the engine is gone, long
        // before its own 60 s and before the engine would give up on it.
        QVERIFY(collector->returned);
        QVERIFY(timer.elapsed() < posture::PostureEngine::shutdownTimeout.count());
    }

    void childOfAnOverrunningCollectorIsGoneWithTheEngine()
    {
        QTemporaryDir dir;
        const auto pidFile = dir.filePath(QStringLiteral("pid")).toStdString();
        auto host = std::make_shared<const posture::Host>(posture::Host::local());
        pid_t child = 0;
        {
            posture::PostureEngine engine(host, {std::make_shared<ChildProcessCollector>(pidFile)},
                                          300ms);
            QCOMPARE(engine.collect().checks[0].reason, "timed out after 300 ms");
            // The shell may start late on a loaded machine; the collection goes on meanwhile.
            QTRY_VERIFY_WITH_TIMEOUT(QFile(QString::fromStdString(pidFile)).size() > 0, 10000);
            QFile file(QString::fromStdString(pidFile));
            QVERIFY(file.open(QIODevice::ReadOnly));
            child = static_cast<pid_t>(file.readAll().trimmed().toInt());
            QVERIFY(child > 0);
            QCOMPARE(::kill(child, 0), 0);
        }
        // Killed and reaped before the destructor returned, not 30 s later.
        QCOMPARE(::kill(child, 0), -1);
        QCOMPARE(errno, ESRCH);
    }
};

QTEST_APPLESS_MAIN(TestPostureEngine)
#include "tst_postureengine.moc"

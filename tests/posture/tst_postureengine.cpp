// The engine's scheduling is tested with scripted collectors: what matters here is how it
// treats collectors that are slow, stuck or throwing, which real collectors can't be made to
// do on demand. Real collectors against fixture hosts are tested in their own suites.
#include "fixturehost.h"
#include "postureengine.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
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
        if (m_throws)
            throw std::runtime_error("boom");
        return CheckResult::pass(m_id, "done");
    }
    std::atomic<int> calls{0};

private:
    std::string m_id;
    std::chrono::milliseconds m_delay;
    bool m_throws;
};

// Runs a real command through the context, so the deadline reaches the command runner.
class CommandCollector final : public posture::Collector
{
public:
    std::string_view id() const override { return "command"; }
    CheckResult collect(const posture::CollectContext &context) override
    {
        const auto result = context.run({"/usr/bin/sleep", {"30"}, 5000ms});
        const bool timedOut = result.outcome == posture::CommandResult::Outcome::TimedOut;
        return CheckResult::unknown("command", timedOut ? "sleep timed out" : "sleep ended");
    }
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
        for (const char *id : {"a", "b", "c", "d"})
            collectors.push_back(std::make_shared<ScriptedCollector>(id, 200ms));
        posture::PostureEngine engine(fixture.host, collectors);
        QElapsedTimer timer;
        timer.start();
        const auto snapshot = engine.collect();
        QVERIFY2(timer.elapsed() < 700, "four 200 ms collectors must overlap");
        QCOMPARE(snapshot.checks.size(), std::size_t(4));
        QCOMPARE(snapshot.checks[0].id, "a");
        QCOMPARE(snapshot.checks[3].id, "d");
        QVERIFY(snapshot.checks[0].duration >= 200ms);
        QCOMPARE(snapshot.collectedAt, test::fixtureNow());
    }

    void stuckCollectorIsUnknownAndNotRestarted()
    {
        QTemporaryDir dir;
        auto fixture = test::FixtureHost::fromRoot(dir.path().toStdString());
        auto stuck = std::make_shared<ScriptedCollector>("stuck", 1500ms);
        auto quick = std::make_shared<ScriptedCollector>("quick", 0ms);
        posture::PostureEngine engine(fixture.host, {stuck, quick}, 200ms);
        QElapsedTimer timer;
        timer.start();
        auto snapshot = engine.collect();
        QVERIFY(timer.elapsed() < 1000);
        QCOMPARE(snapshot.checks[0].status, CheckStatus::Unknown);
        QCOMPARE(snapshot.checks[0].reason, "timed out after 200 ms");
        QCOMPARE(snapshot.checks[1].status, CheckStatus::Pass);

        snapshot = engine.collect();
        QCOMPARE(snapshot.checks[0].reason,
                 "the previous collection is still running past its timeout");
        QCOMPARE(stuck->calls.load(), 1);

        std::this_thread::sleep_for(1600ms);
        snapshot = engine.collect();
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
        posture::PostureEngine engine(host, {std::make_shared<CommandCollector>()}, 300ms);
        QElapsedTimer timer;
        timer.start();
        const auto snapshot = engine.collect();
        QVERIFY(timer.elapsed() < 1500);
        QCOMPARE(snapshot.checks[0].reason, "sleep timed out");
    }
};

QTEST_APPLESS_MAIN(TestPostureEngine)
#include "tst_postureengine.moc"

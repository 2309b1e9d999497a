// The real ProcessRunner against real programs from coreutils.
#include "fixturehost.h"
#include "posture/host/commandrunner.h"

#include <QElapsedTimer>
#include <QtTest>
#include <stop_token>
#include <thread>

using vigil::posture::Command;
using vigil::posture::CommandResult;
using vigil::posture::ProcessRunner;
using namespace std::chrono_literals;

class TestCommandRunner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void capturesOutputAndExitCode()
    {
        ProcessRunner runner;
        const auto result = runner.run({"/usr/bin/printf", {"a b\\n%s", "c"}, 2000ms});
        QVERIFY(result.succeeded());
        QCOMPARE(result.standardOutput, "a b\nc");

        const auto failed = runner.run({"/usr/bin/ls", {"/definitely/not/here"}, 2000ms});
        QCOMPARE(failed.outcome, CommandResult::Outcome::Exited);
        QVERIFY(failed.exitCode != 0);
        QVERIFY(!failed.standardError.empty());
        QVERIFY(failed.describe({"/usr/bin/ls", {}, 2000ms})
                    .starts_with("/usr/bin/ls exited with code"));
    }

    void argumentsAreNotInterpretedByAShell()
    {
        ProcessRunner runner;
        const auto result = runner.run({"/usr/bin/echo", {"$HOME; rm -rf /tmp/x `id`"}, 2000ms});
        QCOMPARE(result.standardOutput, "$HOME; rm -rf /tmp/x `id`\n");
    }

    void localeIsC()
    {
        qputenv("LANG", "de_DE.UTF-8");
        qputenv("LC_MESSAGES", "de_DE.UTF-8");
        ProcessRunner runner;
        const auto result = runner.run({"/usr/bin/env", {}, 2000ms});
        QVERIFY(result.standardOutput.find("LC_ALL=C\n") != std::string::npos);
        QVERIFY(result.standardOutput.find("LANG=") == std::string::npos);
        QVERIFY(result.standardOutput.find("LC_MESSAGES=") == std::string::npos);
    }

    void missingProgram()
    {
        ProcessRunner runner;
        const Command command{"/usr/sbin/vigil-no-such-program", {}, 2000ms};
        const auto result = runner.run(command);
        QCOMPARE(result.outcome, CommandResult::Outcome::NotFound);
        QCOMPARE(result.describe(command), "/usr/sbin/vigil-no-such-program is not installed");
    }

    void relativePathRefused()
    {
        ProcessRunner runner;
        const auto result = runner.run({"ls", {}, 2000ms});
        QCOMPARE(result.outcome, CommandResult::Outcome::FailedToStart);
    }

    void hangingCommandIsKilledAtTheTimeout()
    {
        ProcessRunner runner;
        QElapsedTimer timer;
        timer.start();
        const Command command{"/usr/bin/sleep", {"30"}, 300ms};
        const auto result = runner.run(command);
        QCOMPARE(result.outcome, CommandResult::Outcome::TimedOut);
        QVERIFY2(timer.elapsed() < 2000, "the runner must not wait for the sleeping child");
        QCOMPARE(result.describe(command), "/usr/bin/sleep timed out after 300 ms");
    }

    void grandchildHoldingThePipeIsKilledToo()
    {
        // timeout(1) runs sleep as a child that inherits stdout; killing only timeout(1)
        // would leave sleep holding the pipe open.
        ProcessRunner runner;
        QElapsedTimer timer;
        timer.start();
        const auto result =
            runner.run({"/usr/bin/timeout", {"--foreground", "60", "/usr/bin/sleep", "30"}, 300ms});
        QCOMPARE(result.outcome, CommandResult::Outcome::TimedOut);
        QVERIFY(timer.elapsed() < 2000);
    }

    void programThatClosesItsOutputAndHangsIsStillTimedOut()
    {
        ProcessRunner runner;
        QElapsedTimer timer;
        timer.start();
        const auto result =
            runner.run({"/bin/sh", {"-c", "exec >&- 2>&-; exec /usr/bin/sleep 30"}, 300ms});
        QCOMPARE(result.outcome, CommandResult::Outcome::TimedOut);
        QVERIFY(timer.elapsed() < 2000);
    }

    void stopKillsTheProcessGroup()
    {
        // As at the timeout, the grandchild holding the pipe goes too.
        ProcessRunner runner;
        std::stop_source stop;
        QElapsedTimer timer;
        timer.start();
        const std::jthread stopper([&stop] {
            std::this_thread::sleep_for(200ms);
            stop.request_stop();
        });
        const Command command{
            "/usr/bin/timeout", {"--foreground", "60", "/usr/bin/sleep", "30"}, 20000ms,
            stop.get_token()};
        const auto result = runner.run(command);
        QCOMPARE(result.outcome, CommandResult::Outcome::Stopped);
        QVERIFY2(timer.elapsed() < 10000, "the runner waited past the stop request");
    }

    void stopRequestedBeforehandStartsNothing()
    {
        ProcessRunner runner;
        std::stop_source stop;
        stop.request_stop();
        const Command command{"/usr/bin/true", {}, 2000ms, stop.get_token()};
        const auto result = runner.run(command);
        QCOMPARE(result.outcome, CommandResult::Outcome::Stopped);
        QCOMPARE(result.describe(command),
                 "/usr/bin/true was stopped: stop requested before it started");
    }

    void crashIsReported()
    {
        ProcessRunner runner;
        const Command command{"/bin/sh", {"-c", "kill -SEGV $$"}, 3000ms};
        const auto result = runner.run(command);
        QCOMPARE(result.outcome, CommandResult::Outcome::Crashed);
        QCOMPARE(result.describe(command), "/bin/sh crashed: killed by signal SIGSEGV");
    }

    void largeOutputIsComplete()
    {
        ProcessRunner runner;
        const auto result = runner.run({"/usr/bin/head", {"-c", "3000000", "/dev/zero"}, 5000ms});
        QVERIFY(result.succeeded());
        QCOMPARE(result.standardOutput.size(), std::size_t(3000000));
    }

    void stdinIsEmpty()
    {
        ProcessRunner runner;
        const auto result = runner.run({"/usr/bin/cat", {}, 2000ms});
        QVERIFY(result.succeeded());
        QVERIFY(result.standardOutput.empty());
    }
};

QTEST_APPLESS_MAIN(TestCommandRunner)
#include "tst_commandrunner.moc"

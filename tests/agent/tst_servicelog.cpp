// Service log: stderrIsJournal is true only when $JOURNAL_STREAM names the device and inode of
// this process's stderr, as systemd sets it for a unit logging to the journal; otherwise
// messages go to stderr, one line each, filtered by the configured level.
#include "app/agent/service/servicelog.h"

#include <QLoggingCategory>
#include <QTemporaryFile>
#include <QtTest>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;

namespace {

std::string stderrIdentity()
{
    struct stat status
    {
    };
    if (::fstat(STDERR_FILENO, &status) != 0)
        return {};
    return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
}

Q_LOGGING_CATEGORY(lcTest, "vigil.test")

// What the messages logged by log() wrote to stderr.
QByteArray stderrOf(const std::function<void()> &log)
{
    QTemporaryFile file;
    if (!file.open())
        return "cannot make a file";
    std::fflush(stderr);
    const int saved = ::dup(STDERR_FILENO);
    ::dup2(file.handle(), STDERR_FILENO);
    log();
    std::fflush(stderr);
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    file.seek(0);
    return file.readAll();
}

} // namespace

class TestServiceLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { ::unsetenv("JOURNAL_STREAM"); }
    void cleanup() { ::unsetenv("JOURNAL_STREAM"); }

    void notTheJournalWithoutJournalStream() { QVERIFY(!agent::stderrIsJournal()); }

    void journalWhenItNamesStderr()
    {
        const std::string identity = stderrIdentity();
        QVERIFY(!identity.empty());
        ::setenv("JOURNAL_STREAM", identity.c_str(), 1);
        QVERIFY(agent::stderrIsJournal());
    }

    void notTheJournalWhenItNamesAnotherFile()
    {
        // What a child of a journal-logging service inherits after its stderr was redirected.
        struct stat status
        {
        };
        QCOMPARE(::fstat(STDERR_FILENO, &status), 0);
        const std::string otherInode =
            std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino + 1);
        ::setenv("JOURNAL_STREAM", otherInode.c_str(), 1);
        QVERIFY(!agent::stderrIsJournal());
        const std::string otherDevice =
            std::to_string(status.st_dev + 1) + ":" + std::to_string(status.st_ino);
        ::setenv("JOURNAL_STREAM", otherDevice.c_str(), 1);
        QVERIFY(!agent::stderrIsJournal());
    }

    void notTheJournalWhenMalformed()
    {
        for (const char *value : {"", ":", "garbage", "1:2:3"}) {
            ::setenv("JOURNAL_STREAM", value, 1);
            QVERIFY2(!agent::stderrIsJournal(), value);
        }
        const std::string trailing = stderrIdentity() + "x";
        ::setenv("JOURNAL_STREAM", trailing.c_str(), 1);
        QVERIFY(!agent::stderrIsJournal());
    }

    void stderrLinesFilteredByLevel()
    {
        const QtMessageHandler previous = qInstallMessageHandler(nullptr);
        const QByteArray written = stderrOf([] {
            agent::installServiceLog(agent::LogLevel::Warning);
            qCDebug(lcTest, "a debug line");
            qCInfo(lcTest, "an info line");
            qCWarning(lcTest, "a warning line");
            qCCritical(lcTest, "an error line");
            agent::installServiceLog(agent::LogLevel::Debug);
            qCDebug(lcTest, "now debug shows");
        });
        qInstallMessageHandler(previous);
        QLoggingCategory::setFilterRules(QString());
        QCOMPARE(written, QByteArray("vigild: warning: vigil.test: a warning line\n"
                                     "vigild: error: vigil.test: an error line\n"
                                     "vigild: debug: vigil.test: now debug shows\n"));
    }
};

QTEST_GUILESS_MAIN(TestServiceLog)
#include "tst_servicelog.moc"

// PathMonitor over real inotify in a temporary directory: a file created, written or renamed
// into a watched directory is announced once, after the settle time, however many events it
// made; nothing is announced without a change; a missing path is tolerated and watched once it
// appears.
#include "app/agent/triggers/pathmonitor.h"

#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace vigil;
using namespace std::chrono_literals;
using agent::PathMonitor;

namespace {

namespace fs = std::filesystem;

constexpr auto settle = 100ms;

void writeFile(const fs::path &path, const std::string &text)
{
    std::ofstream out(path, std::ios::app);
    out << text;
}

} // namespace

class TestPathMonitor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_root = fs::path(m_dir->path().toStdString());
    }

    void fileCreatedIsAnnouncedOnceAfterTheSettleTime()
    {
        PathMonitor monitor({m_root}, settle);
        QVERIFY(monitor.isActive());
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        QElapsedTimer sinceChange;
        qint64 announcedAfter = -1;
        connect(&monitor, &PathMonitor::changed, this,
                [&] { announcedAfter = sinceChange.elapsed(); });

        sinceChange.start();
        writeFile(m_root / "enrollment-token", "token\n");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        // A coarse timer may fire up to 5 % early.
        QVERIFY2(announcedAfter >= 90, QByteArray::number(announcedAfter).constData());
        QTest::qWait(500);
        QCOMPARE(spy.count(), 1);
    }

    void fileRenamedIntoTheDirectoryIsAnnouncedOnce()
    {
        QTemporaryDir elsewhere;
        QVERIFY(elsewhere.isValid());
        const fs::path staged = fs::path(elsewhere.path().toStdString()) / "staged";
        writeFile(staged, "token\n");

        PathMonitor monitor({m_root}, settle);
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        fs::rename(staged, m_root / "enrollment-token");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        QTest::qWait(500);
        QCOMPARE(spy.count(), 1);
    }

    void burstOfWritesIsAnnouncedOnceAfterIt()
    {
        // A longer settle here, so that a loaded machine does not leave a gap of a settle time
        // between two writes of the burst.
        constexpr auto longSettle = 1000ms;
        PathMonitor monitor({m_root}, longSettle);
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        QElapsedTimer clock;
        clock.start();
        qint64 lastWrite = 0;
        qint64 announcedAt = -1;
        connect(&monitor, &PathMonitor::changed, this, [&] { announcedAt = clock.elapsed(); });
        // Writes 20 ms apart for 500 ms: each restarts the quiet period.
        for (int i = 0; i < 25; ++i) {
            writeFile(m_root / "status", "line " + std::to_string(i) + "\n");
            lastWrite = clock.elapsed();
            QTest::qWait(20);
        }
        QCOMPARE(spy.count(), 0);
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        // Counted from the last write, not the first (a coarse timer may fire 5 % early).
        QVERIFY2(announcedAt - lastWrite >= 900,
                 QByteArray::number(announcedAt - lastWrite).constData());
        QTest::qWait(300);
        QCOMPARE(spy.count(), 1);
    }

    void separateChangesAreAnnouncedSeparately()
    {
        PathMonitor monitor({m_root}, settle);
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        writeFile(m_root / "a", "a\n");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        fs::remove(m_root / "a");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
        QTest::qWait(300);
        QCOMPARE(spy.count(), 2);
    }

    void nothingIsAnnouncedWithoutAChange()
    {
        writeFile(m_root / "before", "made before the monitor\n");
        PathMonitor monitor({m_root}, settle);
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        // Reading is no change.
        std::ifstream(m_root / "before").get();
        QTest::qWait(500);
        QCOMPARE(spy.count(), 0);
    }

    void missingPathIsTolerated()
    {
        PathMonitor monitor({m_root / "missing"}, settle);
        QVERIFY(monitor.isActive()); // a path that does not exist is not a failure
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        QTest::qWait(300);
        QCOMPARE(spy.count(), 0);
    }

    void missingPathIsWatchedOnceItAppears()
    {
        const fs::path later = m_root / "later";
        PathMonitor monitor({later, m_root}, settle);
        QVERIFY(monitor.isActive());
        QSignalSpy spy(&monitor, &PathMonitor::changed);
        fs::create_directory(later);
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 5000);
        writeFile(later / "inside", "x\n");
        QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 2, 5000);
    }

    void unwatchablePathMakesItInactive()
    {
        if (::geteuid() == 0)
            QSKIP("root may watch any directory");
        const fs::path closed = m_root / "closed";
        fs::create_directory(closed);
        fs::create_directory(closed / "inner");
        fs::permissions(closed, fs::perms::none);
        PathMonitor monitor({closed / "inner"}, settle);
        fs::permissions(closed, fs::perms::owner_all);
        QVERIFY(!monitor.isActive());
    }

private:
    std::optional<QTemporaryDir> m_dir;
    fs::path m_root;
};

QTEST_GUILESS_MAIN(TestPathMonitor)
#include "tst_pathmonitor.moc"

#include "fixturehost.h"
#include "posture/host/changewatch.h"

#include <QTemporaryDir>
#include <QtTest>
#include <unistd.h>

using vigil::posture::ChangeWatch;

class TestChangeWatch : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::filesystem::path m_root;

private Q_SLOTS:
    void init()
    {
        QVERIFY(m_dir.isValid());
        m_root = m_dir.path().toStdString();
        std::filesystem::remove_all(m_root / "lists");
        std::filesystem::create_directories(m_root / "lists");
    }

    void quietUntilSomethingChanges()
    {
        ChangeWatch watch({m_root / "lists"});
        QVERIFY(watch.isActive());
        QVERIFY(!watch.changedSinceLastCheck());
        vigil::test::writeFile(m_root, "/lists/Packages", "x");
        QVERIFY(watch.changedSinceLastCheck());
        QVERIFY(!watch.changedSinceLastCheck()); // events were consumed
    }

    void replacementByRenameIsSeen()
    {
        vigil::test::writeFile(m_root, "/lists/status", "old");
        ChangeWatch watch({m_root / "lists"});
        vigil::test::writeFile(m_root, "/status-new", "new");
        std::filesystem::rename(m_root / "status-new", m_root / "lists/status");
        QVERIFY(watch.changedSinceLastCheck());
    }

    void watchedFileReplacedKeepsBeingWatched()
    {
        vigil::test::writeFile(m_root, "/lists/status", "old");
        ChangeWatch watch({m_root / "lists/status"});
        vigil::test::writeFile(m_root, "/status-new", "new");
        std::filesystem::rename(m_root / "status-new", m_root / "lists/status");
        QVERIFY(watch.changedSinceLastCheck());
        QVERIFY(!watch.changedSinceLastCheck());
        vigil::test::writeFile(m_root, "/lists/status", "newer");
        QVERIFY(watch.changedSinceLastCheck());
    }

    void unwatchablePathMakesTheWatchInactive()
    {
        if (::geteuid() == 0)
            QSKIP("root may watch any directory; covered when run as a user");
        std::filesystem::create_directories(m_root / "locked/inner");
        std::filesystem::permissions(m_root / "locked", std::filesystem::perms::none);
        ChangeWatch watch({m_root / "lists", m_root / "locked/inner"});
        QVERIFY(!watch.isActive());
        std::filesystem::permissions(m_root / "locked", std::filesystem::perms::owner_all);
        ChangeWatch missingIsFine({m_root / "lists", m_root / "not-yet"});
        QVERIFY(missingIsFine.isActive());
    }

    void pathAppearingLaterCountsAsChange()
    {
        ChangeWatch watch({m_root / "later"});
        QVERIFY(!watch.changedSinceLastCheck());
        std::filesystem::create_directories(m_root / "later");
        QVERIFY(watch.changedSinceLastCheck());
        QVERIFY(!watch.changedSinceLastCheck());
        vigil::test::writeFile(m_root, "/later/x", "1");
        QVERIFY(watch.changedSinceLastCheck());
    }
};

QTEST_APPLESS_MAIN(TestChangeWatch)
#include "tst_changewatch.moc"

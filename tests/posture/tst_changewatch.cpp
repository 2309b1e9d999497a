#include "changewatch.h"
#include "fixturehost.h"

#include <QTemporaryDir>
#include <QtTest>

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

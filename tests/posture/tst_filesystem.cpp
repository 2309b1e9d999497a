#include "fixturehost.h"
#include "posture/host/filesystem.h"

#include <QTemporaryDir>
#include <QtTest>
#include <sys/stat.h>
#include <unistd.h>

using vigil::posture::FileSystem;

class TestFileSystem : public QObject
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
    }

    void readsBelowTheRoot()
    {
        vigil::test::writeFile(m_root, "/etc/hostname", "box\n");
        FileSystem fs(m_root);
        const auto result = fs.readFile("/etc/hostname");
        QVERIFY(result.ok());
        QCOMPARE(result.data, "box\n");
        QCOMPARE(fs.readTrimmed("/etc/hostname").value(), "box");
        QCOMPARE(fs.hostPath("/etc/hostname"), m_root / "etc/hostname");
    }

    void absoluteSymlinksStayInsideTheRoot()
    {
        vigil::test::writeFile(m_root, "/usr/lib/os-release", "ID=x\n");
        std::filesystem::create_directories(m_root / "etc");
        std::filesystem::create_symlink("/usr/lib/os-release", m_root / "etc/os-release");
        std::filesystem::create_directories(m_root / "dev/mapper");
        vigil::test::writeFile(m_root, "/dev/dm-0", "");
        std::filesystem::create_symlink("../dm-0", m_root / "dev/mapper/root");
        FileSystem fs(m_root);
        QCOMPARE(fs.readFile("/etc/os-release").data, "ID=x\n");
        QCOMPARE(fs.canonicalPath("/etc/os-release").value(), "/usr/lib/os-release");
        QCOMPARE(fs.canonicalPath("/dev/mapper/root").value(), "/dev/dm-0");
        QCOMPARE(fs.canonicalPath("/dev/mapper/../../etc/./os-release").value(),
                 "/usr/lib/os-release");
        // ".." at the root stays at the root, as in a chroot.
        QCOMPARE(fs.canonicalPath("/../../etc/os-release").value(), "/usr/lib/os-release");
    }

    void symlinkLoopsEnd()
    {
        std::filesystem::create_symlink("b", m_root / "a");
        std::filesystem::create_symlink("a", m_root / "b");
        FileSystem fs(m_root);
        QVERIFY(!fs.canonicalPath("/a"));
        QVERIFY(!fs.readFile("/a").ok());
        QVERIFY(!fs.exists("/a"));
    }

    void errorsAreNamed()
    {
        std::filesystem::create_directories(m_root / "dir");
        FileSystem fs(m_root);
        const auto missing = fs.readFile("/nope");
        QVERIFY(!missing.ok());
        QCOMPARE(missing.errorText(), "not found");
        QCOMPARE(fs.readFile("/dir").errorText(), "is a directory");
        QVERIFY(!fs.readTrimmed("/nope"));
    }

    void permissionDenied()
    {
        if (::geteuid() == 0)
            QSKIP("root reads files whatever their mode; covered when run as a user");
        vigil::test::writeFile(m_root, "/secret", "x", std::filesystem::perms::owner_write);
        FileSystem fs(m_root);
        QCOMPARE(fs.readFile("/secret").errorText(), "permission denied");
    }

    void readLimitTruncates()
    {
        vigil::test::writeFile(m_root, "/big", std::string(1000, 'x'));
        FileSystem fs(m_root);
        const auto result = fs.readFile("/big", 100);
        QCOMPARE(result.data.size(), std::size_t(100));
        QVERIFY(result.truncated);
        QVERIFY(!fs.readFile("/big", 1000).truncated);
    }

    void fifoDoesNotHang()
    {
        QVERIFY(::mkfifo((m_root / "fifo").c_str(), 0600) == 0);
        FileSystem fs(m_root);
        QElapsedTimer timer;
        timer.start();
        const auto result = fs.readFile("/fifo");
        QVERIFY(result.ok());
        QVERIFY(result.data.empty());
        QVERIFY(timer.elapsed() < 1000);
    }

    void listsSorted()
    {
        for (const char *name : {"/d/c", "/d/a", "/d/b"})
            vigil::test::writeFile(m_root, name, "");
        FileSystem fs(m_root);
        QCOMPARE(fs.listDirectory("/d"), (std::vector<std::string>{"a", "b", "c"}));
        std::error_code error;
        QVERIFY(fs.listDirectory("/missing", error).empty());
        QVERIFY(bool(error));
    }

    void modificationTime()
    {
        vigil::test::writeFile(m_root, "/f", "");
        const auto when = std::filesystem::file_time_type::clock::now() - std::chrono::hours(48);
        std::filesystem::last_write_time(m_root / "f", when);
        FileSystem fs(m_root);
        const auto mtime = fs.modificationTime("/f");
        QVERIFY(mtime);
        const auto age = std::chrono::system_clock::now() - *mtime;
        QVERIFY(age > std::chrono::hours(47) && age < std::chrono::hours(49));
        QVERIFY(!fs.modificationTime("/missing"));
    }

    void tryOpen()
    {
        vigil::test::writeFile(m_root, "/dev/tpmrm0", "");
        FileSystem fs(m_root);
        QVERIFY(!fs.tryOpen("/dev/tpmrm0", true));
        QCOMPARE(fs.tryOpen("/dev/none", false),
                 std::make_error_code(std::errc::no_such_file_or_directory));
    }
};

QTEST_APPLESS_MAIN(TestFileSystem)
#include "tst_filesystem.moc"

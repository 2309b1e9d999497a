#include "core/privatefile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
namespace fs = std::filesystem;

namespace {

template <typename F> QByteArray keyErrorOf(F f)
{
    try {
        f();
    } catch (const KeyError &e) {
        return QByteArray(e.what());
    } catch (const std::exception &e) {
        return "<other exception: " + QByteArray(e.what()) + ">";
    }
    return "<no exception>";
}

QByteArray quoted(const fs::path &path)
{
    return "'" + QByteArray::fromStdString(path.string()) + "'";
}

Bytes bytesOf(std::string_view text)
{
    return Bytes(text.begin(), text.end());
}

// Written with plain POSIX calls, independent of the code under test.
bool writeFile(const fs::path &path, std::string_view content, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    const bool written = ::write(fd, content.data(), content.size()) == ssize_t(content.size());
    return ::close(fd) == 0 && written && ::chmod(path.c_str(), mode) == 0;
}

QByteArray contentsOf(const fs::path &path)
{
    QFile file(QString::fromStdString(path.string()));
    if (!file.open(QIODevice::ReadOnly))
        return "<unreadable>";
    return file.readAll();
}

mode_t modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_mode;
}

ino_t inodeOf(const fs::path &path)
{
    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0)
        return 0;
    return st.st_ino;
}

struct UmaskGuard
{
    explicit UmaskGuard(mode_t mask) : previous(::umask(mask)) {}
    ~UmaskGuard() { ::umask(previous); }
    mode_t previous;
};

} // namespace

class TestPrivateFile : public QObject
{
    Q_OBJECT

    std::unique_ptr<QTemporaryDir> m_dir;
    fs::path dir() const { return fs::path(m_dir->path().toStdString()); }
    QStringList entries(const fs::path &directory) const
    {
        return QDir(QString::fromStdString(directory.string()))
            .entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot);
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void writeThenReadRoundTrips()
    {
        const fs::path path = dir() / "blob";
        const Bytes contents{0x00, 0x01, 0xfe, 0xff, 0x0a};
        QVERIFY(writePrivateFile(path, contents));
        QCOMPARE(modeOf(path), mode_t(S_IFREG | 0600));
        QVERIFY(readPrivateFile(path) == contents);
        QCOMPARE(contentsOf(path), QByteArray("\x00\x01\xfe\xff\x0a", 5));
        QCOMPARE(entries(dir()), QStringList{QStringLiteral("blob")}); // no temporary left

        // An empty file is a file.
        QVERIFY(writePrivateFile(dir() / "empty", Bytes{}));
        QVERIFY(readPrivateFile(dir() / "empty").empty());
    }

    void readIntoCallersBuffer()
    {
        const fs::path path = dir() / "key";
        QVERIFY(writeFile(path, "secret", 0600));
        Bytes buffer(6, 0xee);
        QCOMPARE(readPrivateFile(path, std::span<std::uint8_t>(buffer), "device key"),
                 std::size_t(6));
        QVERIFY(buffer == bytesOf("secret"));
        Bytes larger(10, 0xee);
        QCOMPARE(readPrivateFile(path, std::span<std::uint8_t>(larger)), std::size_t(6));
        QVERIFY(Bytes(larger.begin(), larger.begin() + 6) == bytesOf("secret"));
    }

    void createdDirectoriesAre0700UnderAnyUmask()
    {
        const UmaskGuard umask(0277);
        const fs::path path = dir() / "state" / "vigil" / "ak.priv";
        QVERIFY(writePrivateFile(path, bytesOf("blob"), Replace::Allowed, "TPM key"));
        QCOMPARE(modeOf(dir() / "state"), mode_t(S_IFDIR | 0700));
        QCOMPARE(modeOf(dir() / "state" / "vigil"), mode_t(S_IFDIR | 0700));
        // umask 0277 would give 0400; the file is exactly 0600.
        QCOMPARE(modeOf(path), mode_t(S_IFREG | 0600));
        QVERIFY(readPrivateFile(path) == bytesOf("blob"));
    }

    void existingDirectoriesKeepTheirMode()
    {
        const fs::path shared = dir() / "shared";
        QVERIFY(::mkdir(shared.c_str(), 0755) == 0);
        QVERIFY(::chmod(shared.c_str(), 0755) == 0);
        QVERIFY(writePrivateFile(shared / "key", bytesOf("x")));
        QCOMPARE(modeOf(shared), mode_t(S_IFDIR | 0755));
    }

    void writeUnderAFileFails()
    {
        const fs::path file = dir() / "file";
        QVERIFY(writeFile(file, "x", 0600));
        QCOMPARE(keyErrorOf([&] {
                     writePrivateFile(file / "key", bytesOf("y"), Replace::Allowed, "TPM key");
                 }),
                 "cannot create the TPM key in " + quoted(file) + ": it is not a directory");
        QCOMPARE(keyErrorOf([&] { writePrivateFile(dir() / "", bytesOf("y")); }),
                 "key path " + quoted(dir() / "") + " does not name a file");
    }

    void replaceAllowedReplacesAtomically()
    {
        const fs::path path = dir() / "blob";
        QVERIFY(writeFile(path, "old", 0600));
        const ino_t before = inodeOf(path);
        QVERIFY(writePrivateFile(path, bytesOf("new contents"), Replace::Allowed));
        QCOMPARE(contentsOf(path), QByteArray("new contents"));
        // A new inode renamed over the name, not the old file truncated and rewritten in place.
        QVERIFY(inodeOf(path) != before);
        QCOMPARE(modeOf(path), mode_t(S_IFREG | 0600));
        QCOMPARE(entries(dir()), QStringList{QStringLiteral("blob")});
    }

    void replaceForbiddenLeavesTheExistingFile()
    {
        const fs::path path = dir() / "device-key.pem";
        QVERIFY(writePrivateFile(path, bytesOf("first"), Replace::Forbidden));
        QVERIFY(!writePrivateFile(path, bytesOf("second"), Replace::Forbidden));
        QCOMPARE(contentsOf(path), QByteArray("first"));
        QCOMPARE(entries(dir()), QStringList{QStringLiteral("device-key.pem")});

        // Nor through a symlink, dangling or not: the name is taken.
        const fs::path target = dir() / "target";
        const fs::path link = dir() / "link";
        QVERIFY(::symlink(target.c_str(), link.c_str()) == 0);
        QVERIFY(!writePrivateFile(link, bytesOf("x"), Replace::Forbidden));
        QVERIFY(!fs::exists(target));
        QCOMPARE(modeOf(link) & S_IFMT, mode_t(S_IFLNK));
    }

    void readChecksMode_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<bool>("accepted");
        QTest::newRow("0600") << 0600 << true;
        QTest::newRow("0400") << 0400 << true;
        QTest::newRow("0700") << 0700 << true;
        QTest::newRow("0644") << 0644 << false;
        QTest::newRow("0640") << 0640 << false;
        QTest::newRow("0604") << 0604 << false;
        QTest::newRow("0660") << 0660 << false;
        QTest::newRow("0610") << 0610 << false;
        QTest::newRow("0601") << 0601 << false;
        QTest::newRow("0602") << 0602 << false;
    }

    void readChecksMode()
    {
        QFETCH(int, mode);
        QFETCH(bool, accepted);
        const fs::path path = dir() / "ak.priv";
        QVERIFY(writeFile(path, "blob", mode_t(mode)));
        if (accepted) {
            QVERIFY(readPrivateFile(path) == bytesOf("blob"));
            return;
        }
        QCOMPARE(keyErrorOf([&] { readPrivateFile(path, 1024, "TPM key"); }),
                 "TPM key file " + quoted(path) + " has mode 0" + QByteArray::number(mode, 8) +
                     ", which lets group or others access it; fix: chmod 600 " + quoted(path));
        QVERIFY(::chmod(path.c_str(), 0600) == 0);
        QVERIFY(readPrivateFile(path, 1024, "TPM key") == bytesOf("blob"));
    }

    void readRefusesOtherOwners()
    {
        if (::geteuid() != 0)
            QSKIP("giving the file to another user needs root");
        const fs::path path = dir() / "ak.priv";
        QVERIFY(writePrivateFile(path, bytesOf("blob")));
        QVERIFY(::chown(path.c_str(), 65534, 65534) == 0); // nobody:nogroup
        QCOMPARE(keyErrorOf([&] { readPrivateFile(path); }),
                 "key file " + quoted(path) +
                     " is owned by uid 65534, not by this process's user (uid 0); fix: chown 0 " +
                     quoted(path) + " (or remove it)");
    }

    void readRefusesSymlinks()
    {
        const fs::path real = dir() / "real";
        const fs::path link = dir() / "link";
        QVERIFY(writePrivateFile(real, bytesOf("blob")));
        QVERIFY(::symlink(real.c_str(), link.c_str()) == 0);
        QCOMPARE(keyErrorOf([&] { readPrivateFile(link); }),
                 "key file " + quoted(link) +
                     " is a symbolic link; refusing to follow it. Replace the link with the key "
                     "file itself.");
        const fs::path dangling = dir() / "dangling";
        QVERIFY(::symlink((dir() / "nowhere").c_str(), dangling.c_str()) == 0);
        QCOMPARE(keyErrorOf([&] { readPrivateFile(dangling); }),
                 "key file " + quoted(dangling) +
                     " is a symbolic link; refusing to follow it. Replace the link with the key "
                     "file itself.");
    }

    void readRefusesNonFiles()
    {
        const fs::path directory = dir() / "directory";
        QVERIFY(::mkdir(directory.c_str(), 0700) == 0);
        QCOMPARE(keyErrorOf([&] { readPrivateFile(directory); }),
                 "key file " + quoted(directory) + " is not a regular file");
        // Refused without blocking on open (no writer ever appears).
        const fs::path fifo = dir() / "fifo";
        QVERIFY(::mkfifo(fifo.c_str(), 0600) == 0);
        QCOMPARE(keyErrorOf([&] { readPrivateFile(fifo); }),
                 "key file " + quoted(fifo) + " is not a regular file");
        const fs::path missing = dir() / "missing";
        QCOMPARE(keyErrorOf([&] { readPrivateFile(missing); }),
                 "cannot open key file " + quoted(missing) + ": No such file or directory");
    }

    void readCapsTheSize()
    {
        const fs::path path = dir() / "big";
        QVERIFY(writeFile(path, std::string(101, 'A'), 0600));
        QCOMPARE(keyErrorOf([&] { readPrivateFile(path, 100); }),
                 "key file " + quoted(path) + " is 101 bytes, more than the 100 a key file can be");
        QCOMPARE(readPrivateFile(path, 101).size(), std::size_t(101));

        Bytes buffer(100, 0);
        QCOMPARE(keyErrorOf(
                     [&] { readPrivateFile(path, std::span<std::uint8_t>(buffer), "device key"); }),
                 "device key file " + quoted(path) +
                     " is 101 bytes, more than the 100 a key file can be");
        // Exactly the cap fits.
        QVERIFY(writeFile(path, std::string(100, 'B'), 0600));
        QCOMPARE(readPrivateFile(path, std::span<std::uint8_t>(buffer)), std::size_t(100));
        QVERIFY(buffer == Bytes(100, 'B'));
    }
};

QTEST_APPLESS_MAIN(TestPrivateFile)
#include "tst_privatefile.moc"

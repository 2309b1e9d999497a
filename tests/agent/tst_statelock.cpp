// One vigild per state directory: the lock is refused to a second open in this process and to
// another process, with the holder's PID in the message; it goes when its holder does. Python's
// fcntl.lockf (a POSIX lock, which conflicts with OFD locks) stands in for the other process, an
// implementation that shares no code with StateLock.
#include "app/agent/statelock.h"
#include "independentpython.h"
#include "testprinters.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using agent::StateLock;
using agent::StateLockError;
using test::thrownMessage;

namespace {

namespace fs = std::filesystem;

unsigned modeOf(const fs::path &path)
{
    struct stat status
    {
    };
    if (::lstat(path.c_str(), &status) != 0)
        return 0;
    return status.st_mode & 07777;
}

std::string readText(const fs::path &path)
{
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

bool contains(const QByteArray &text, const std::string &part)
{
    return text.contains(QByteArray::fromStdString(part));
}

// Holds a POSIX write lock on the file until its standard input closes; prints its PID once
// it has the lock.
const char *holderScript = "import fcntl, os, sys\n"
                           "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
                           "fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                           "print(os.getpid(), flush=True)\n"
                           "sys.stdin.read()\n";

// Tries the lock once: prints "free", or "held by " and the PID the file records.
const char *tryScript = "import fcntl, os, sys\n"
                        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
                        "try:\n"
                        "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
                        "    print('free')\n"
                        "except OSError:\n"
                        "    print('held by', os.pread(fd, 16, 0).decode().strip())\n";

QByteArray tryLock(const fs::path &file)
{
    QByteArray out, error;
    if (!test::runPython(tryScript, {QString::fromStdString(file.string())}, {}, out, error))
        return "python: " + error;
    return out.trimmed();
}

} // namespace

class TestStateLock : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        m_state = fs::path(m_dir->path().toStdString()) / "state";
    }

    void createsThePrivateDirectoryAndLockFile()
    {
        QVERIFY(!StateLock::isHeld(m_state));
        const StateLock lock(m_state);
        QCOMPARE(lock.stateDirectory(), m_state);
        QCOMPARE(modeOf(m_state), 0700u);
        QCOMPARE(modeOf(StateLock::lockFile(m_state)), 0600u);
        QCOMPARE(readText(StateLock::lockFile(m_state)), std::to_string(::getpid()) + "\n");
    }

    void secondLockInThisProcessIsRefused()
    {
        const StateLock first(m_state);
        const auto message = thrownMessage<StateLockError>([&] { StateLock second(m_state); });
        QCOMPARE(message.toStdString(),
                 "another vigild (pid " + std::to_string(::getpid()) +
                     ") holds the state directory '" + m_state.string() + "' (its lock '" +
                     StateLock::lockFile(m_state).string() +
                     "'); stop it first, or give this one another state_directory");
        const auto holder = StateLock::isHeld(m_state);
        QVERIFY(holder);
        QCOMPARE(holder->pid, ::getpid());
    }

    void releasedWhenTheHolderGoesAway()
    {
        {
            const StateLock first(m_state);
        }
        QVERIFY(!StateLock::isHeld(m_state)); // the file stays, the lock does not
        QVERIFY(fs::exists(StateLock::lockFile(m_state)));
        const StateLock again(m_state);
        QVERIFY(StateLock::isHeld(m_state));
    }

    void anotherProcessSeesTheLock()
    {
        {
            const StateLock lock(m_state);
            QCOMPARE(tryLock(StateLock::lockFile(m_state)),
                     "held by " + QByteArray::number(::getpid()));
        }
        QCOMPARE(tryLock(StateLock::lockFile(m_state)), QByteArray("free"));
    }

    void lockOfAnotherProcessIsRefusedWithItsPid()
    {
        fs::create_directory(m_state);
        fs::permissions(m_state, fs::perms(0700));
        QProcess holder;
        holder.start(QStringLiteral("/usr/bin/python3"),
                     {QStringLiteral("-c"), QString::fromUtf8(holderScript),
                      QString::fromStdString(StateLock::lockFile(m_state).string())});
        QVERIFY(holder.waitForReadyRead(10000));
        const QByteArray pid = holder.readLine().trimmed();
        QVERIFY(!pid.isEmpty());

        const auto message = thrownMessage<StateLockError>([&] { StateLock lock(m_state); });
        QVERIFY2(contains(message, "another vigild (pid " + pid.toStdString() + ")"),
                 message.constData());
        QVERIFY2(contains(message, "'" + m_state.string() + "'"), message.constData());
        const auto held = StateLock::isHeld(m_state);
        QVERIFY(held);
        QCOMPARE(QByteArray::number(held->pid), pid);
        QCOMPARE(QString::fromStdString(agent::vigildOwnsStateMessage(m_state, *held)),
                 QStringLiteral("vigild is running (pid ") + QString::fromLatin1(pid) +
                     QStringLiteral(") and owns '") + QString::fromStdString(m_state.string()) +
                     QStringLiteral("'; use it: vigilctl status / report"));

        // However the holder ends, SIGKILL included, the kernel drops its lock.
        holder.kill();
        QVERIFY(holder.waitForFinished(10000));
        QVERIFY(!StateLock::isHeld(m_state));
        const StateLock lock(m_state);
    }

    void stateDirectoryWritableByOthersIsRefused()
    {
        fs::create_directory(m_state);
        QCOMPARE(::chmod(m_state.c_str(), 0770), 0);
        const auto message = thrownMessage<StateLockError>([&] { StateLock lock(m_state); });
        QCOMPARE(message.toStdString(),
                 "state directory '" + m_state.string() +
                     "' has mode 0770, so users other than its owner can change it; fix: chmod "
                     "go-w '" +
                     m_state.string() + "'");
        QVERIFY(!fs::exists(StateLock::lockFile(m_state)));
    }

    void symbolicLinkAsLockFileIsRefused()
    {
        fs::create_directory(m_state);
        fs::permissions(m_state, fs::perms(0700));
        const fs::path elsewhere = fs::path(m_dir->path().toStdString()) / "elsewhere";
        fs::create_symlink(elsewhere, StateLock::lockFile(m_state));
        const auto message = thrownMessage<StateLockError>([&] { StateLock lock(m_state); });
        QVERIFY2(message.contains("is a symbolic link"), message.constData());
        QVERIFY(!fs::exists(elsewhere));
    }

    void unknownPidIsLeftOut()
    {
        QCOMPARE(agent::vigildOwnsStateMessage("/var/lib/vigil", {}),
                 std::string("vigild is running and owns '/var/lib/vigil'; use it: vigilctl "
                             "status / report"));
    }

private:
    std::optional<QTemporaryDir> m_dir;
    fs::path m_state;
};

QTEST_GUILESS_MAIN(TestStateLock)
#include "tst_statelock.moc"

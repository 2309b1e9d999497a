// ServiceNotifier against a datagram socket standing in for systemd's $NOTIFY_SOCKET: READY,
// STATUS (one line, whatever it is given), STOPPING, and WATCHDOG pings at half of WatchdogSec
// that stop with stopping(); nothing is sent without $NOTIFY_SOCKET.
#include "app/agent/service/servicenotifier.h"

#include <QTemporaryDir>
#include <QtTest>
#include <cstdlib>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

using namespace vigil;
using agent::ServiceNotifier;

class TestServiceNotifier : public QObject
{
    Q_OBJECT

private:
    // The next datagram, or "" when none comes within timeoutMs.
    QByteArray receive(int timeoutMs = 5000)
    {
        pollfd descriptor{m_socket, POLLIN, 0};
        if (::poll(&descriptor, 1, timeoutMs) != 1)
            return {};
        char buffer[4096];
        const auto got = ::recv(m_socket, buffer, sizeof buffer, 0);
        return got > 0 ? QByteArray(buffer, int(got)) : QByteArray();
    }

    // Every datagram that came while the event loop ran for ms.
    std::vector<QByteArray> receiveFor(int ms)
    {
        QTest::qWait(ms);
        std::vector<QByteArray> all;
        for (QByteArray got = receive(0); !got.isEmpty(); got = receive(0))
            all.push_back(got);
        return all;
    }

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        const std::string path = m_dir->path().toStdString() + "/notify";
        m_socket = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        QVERIFY(m_socket >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        QVERIFY(path.size() < sizeof address.sun_path);
        path.copy(address.sun_path, path.size());
        QCOMPARE(::bind(m_socket, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
    }

    void cleanup()
    {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        ::close(m_socket);
        m_socket = -1;
        m_dir.reset();
    }

    void readyStatusStopping()
    {
        ServiceNotifier notifier;
        notifier.ready();
        QCOMPARE(receive(), QByteArray("READY=1"));
        notifier.status("compliant");
        QCOMPARE(receive(), QByteArray("STATUS=compliant"));
        notifier.stopping();
        QCOMPARE(receive(), QByteArray("STOPPING=1"));
        QCOMPARE(receive(200), QByteArray());
    }

    void statusIsOneLine()
    {
        // A reason with a line break must not become a second assignment systemd would obey.
        ServiceNotifier notifier;
        notifier.status("error: bad\nREADY=1\r\nMAINPID=1");
        QCOMPARE(receive(), QByteArray("STATUS=error: bad READY=1  MAINPID=1"));
    }

    void noWatchdogWithoutWatchdogSec()
    {
        ServiceNotifier notifier;
        QVERIFY(receiveFor(300).empty());
    }

    void watchdogPingsAtHalfTheTimeoutUntilStopping()
    {
        ::setenv("WATCHDOG_USEC", "200000", 1); // 200 ms: a ping every 100 ms
        ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
        ServiceNotifier notifier;
        const auto pings = receiveFor(550);
        QVERIFY2(pings.size() >= 3 && pings.size() <= 6,
                 QByteArray::number(qsizetype(pings.size())).constData());
        for (const auto &ping : pings)
            QCOMPARE(ping, QByteArray("WATCHDOG=1"));
        notifier.stopping();
        QCOMPARE(receive(), QByteArray("STOPPING=1"));
        QVERIFY(receiveFor(300).empty());
    }

    void watchdogForAnotherProcessIsNotOurs()
    {
        ::setenv("WATCHDOG_USEC", "200000", 1);
        ::setenv("WATCHDOG_PID", std::to_string(::getpid() + 1).c_str(), 1);
        ServiceNotifier notifier;
        QVERIFY(receiveFor(300).empty());
    }

    void nothingWithoutNotifySocket()
    {
        ::unsetenv("NOTIFY_SOCKET");
        ServiceNotifier notifier;
        notifier.ready();
        notifier.status("compliant");
        notifier.stopping();
        QCOMPARE(receive(200), QByteArray());
    }

private:
    std::optional<QTemporaryDir> m_dir;
    int m_socket = -1;
};

QTEST_GUILESS_MAIN(TestServiceNotifier)
#include "tst_servicenotifier.moc"

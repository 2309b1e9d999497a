#include "app/agent/triggers/networkmonitor.h"

#include <QtTest>
#include <cerrno>
#include <cstring>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

using vigil::agent::NetworkMonitor;

// Real kernel events: the suite moves itself into a fresh network namespace (initTestCase),
// where it may create and change links without touching the machine's network, and where
// nothing else makes a sound. The functions run in order and share that namespace: vt0/vt1 are
// created by one and used by the next.
class TestNetworkMonitor : public QObject
{
    Q_OBJECT

private:
    QString m_ip;

    bool ip(const QStringList &arguments)
    {
        QProcess process;
        process.setProcessChannelMode(QProcess::MergedChannels);
        process.start(m_ip, arguments);
        if (!process.waitForFinished(10000) || process.exitStatus() != QProcess::NormalExit ||
            process.exitCode() != 0) {
            qWarning().noquote() << "ip" << arguments.join(u' ') << "failed:" << process.readAll();
            return false;
        }
        return true;
    }

    // The kernel queues a notification before the command that caused it returns, so a short
    // wait that sees nothing means nothing was emitted.
    static bool staysQuiet(QSignalSpy &spy) { return !spy.wait(500) && spy.isEmpty(); }

    // The monitor's port, from the namespace's socket table: the only NETLINK_ROUTE socket
    // here that joined the link group.
    static std::uint32_t monitorPort()
    {
        QFile table(QStringLiteral("/proc/net/netlink"));
        if (!table.open(QIODevice::ReadOnly))
            return 0;
        for (const auto &line : table.readAll().split('\n')) {
            const auto fields = line.simplified().split(' ');
            bool ok = false;
            if (fields.size() < 4 || fields[1] != "0")
                continue;
            const auto groups = fields[3].toUInt(&ok, 16);
            if (ok && (groups & RTMGRP_LINK))
                return fields[2].toUInt();
        }
        return 0;
    }

    static bool hasCapability(int capability)
    {
        QFile status(QStringLiteral("/proc/self/status"));
        if (!status.open(QIODevice::ReadOnly))
            return false;
        for (const auto &line : status.readAll().split('\n')) {
            if (line.startsWith("CapEff:"))
                return (line.mid(7).trimmed().toULongLong(nullptr, 16) >> capability) & 1u;
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (::geteuid() != 0)
            QSKIP("needs root: the test makes a network namespace and veth links in it");
        if (!hasCapability(CAP_SYS_ADMIN) || !hasCapability(CAP_NET_ADMIN))
            QSKIP("needs CAP_SYS_ADMIN (a network namespace) and CAP_NET_ADMIN (links in it)");
        if (::unshare(CLONE_NEWNET) != 0) {
            if (errno == EPERM)
                QSKIP("not allowed to make a network namespace here (EPERM)");
            QFAIL(qPrintable(QStringLiteral("unshare(CLONE_NEWNET): %1")
                                 .arg(QString::fromLocal8Bit(std::strerror(errno)))));
        }
        m_ip = QStandardPaths::findExecutable(QStringLiteral("ip"),
                                              {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"),
                                               QStringLiteral("/usr/bin"), QStringLiteral("/bin")});
        QVERIFY2(!m_ip.isEmpty(), "iproute2's ip is needed");
    }

    void idleEmitsNothing()
    {
        NetworkMonitor monitor;
        QVERIFY2(monitor.isActive(), qPrintable(monitor.inactiveReason()));
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QVERIFY(!changed.wait(1500));
    }

    void loopbackIsIgnored()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QVERIFY(ip({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"),
                    QStringLiteral("up")}));
        // A global-scope address on lo is still loopback.
        QVERIFY(ip({QStringLiteral("address"), QStringLiteral("add"),
                    QStringLiteral("10.55.0.1/32"), QStringLiteral("dev"), QStringLiteral("lo")}));
        QVERIFY(staysQuiet(changed));
    }

    void newLinkIsAChange()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QSignalSpy up(&monitor, &NetworkMonitor::networkUp);
        // No automatic IPv6 link-local addresses: each function sees only what it does.
        QVERIFY(ip({QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("vt0"),
                    QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                    QStringLiteral("name"), QStringLiteral("vt1")}));
        QVERIFY(changed.wait(10000));
        for (const auto *name : {"vt0", "vt1"})
            QVERIFY(ip({QStringLiteral("link"), QStringLiteral("set"), QString::fromLatin1(name),
                        QStringLiteral("addrgenmode"), QStringLiteral("none")}));
        QVERIFY(staysQuiet(up)); // both ends are down
    }

    void linkUpIsNetworkUpAndDownIsNot()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QSignalSpy up(&monitor, &NetworkMonitor::networkUp);
        for (const auto *name : {"vt0", "vt1"})
            QVERIFY(ip({QStringLiteral("link"), QStringLiteral("set"), QString::fromLatin1(name),
                        QStringLiteral("up")}));
        // A veth end runs once its peer is up too: carrier, then operstate UP.
        QVERIFY(up.wait(10000));

        changed.clear();
        up.clear();
        QVERIFY(ip({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("vt1"),
                    QStringLiteral("down")}));
        QVERIFY(changed.wait(10000));
        QVERIFY(staysQuiet(up));

        // Up again: the step to running counts each time, not only the first.
        QVERIFY(ip({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("vt1"),
                    QStringLiteral("up")}));
        QVERIFY(up.wait(10000));
    }

    void addressIsNetworkUp()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QSignalSpy up(&monitor, &NetworkMonitor::networkUp);
        QVERIFY(
            ip({QStringLiteral("address"), QStringLiteral("add"), QStringLiteral("10.200.0.1/24"),
                QStringLiteral("dev"), QStringLiteral("vt0")}));
        QVERIFY(up.wait(10000));
        QVERIFY(!changed.isEmpty());

        changed.clear();
        up.clear();
        QVERIFY(
            ip({QStringLiteral("address"), QStringLiteral("del"), QStringLiteral("10.200.0.1/24"),
                QStringLiteral("dev"), QStringLiteral("vt0")}));
        QVERIFY(changed.wait(10000));
        QVERIFY(staysQuiet(up));
    }

    void ipv6AddressCountsOnceUsable()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QSignalSpy up(&monitor, &NetworkMonitor::networkUp);
        // Duplicate address detection keeps it tentative for about a second first.
        QVERIFY(
            ip({QStringLiteral("-6"), QStringLiteral("address"), QStringLiteral("add"),
                QStringLiteral("2001:db8::1/64"), QStringLiteral("dev"), QStringLiteral("vt0")}));
        QVERIFY(changed.wait(10000));
        QVERIFY(up.isEmpty());
        QVERIFY(up.wait(15000));
    }

    void otherSendersAreIgnored()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        const auto port = monitorPort();
        QVERIFY(port != 0);

        // A running link, as any local process could unicast it to the monitor's port.
        struct
        {
            nlmsghdr header;
            ifinfomsg info;
        } forged{};
        forged.header.nlmsg_len = sizeof forged;
        forged.header.nlmsg_type = RTM_NEWLINK;
        forged.info.ifi_index = 77;
        forged.info.ifi_flags = IFF_UP | IFF_RUNNING;
        const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        QVERIFY(fd >= 0);
        sockaddr_nl to{};
        to.nl_family = AF_NETLINK;
        to.nl_pid = port;
        const auto sent = ::sendto(fd, &forged, sizeof forged, 0,
                                   reinterpret_cast<const sockaddr *>(&to), sizeof to);
        ::close(fd);
        QCOMPARE(sent, static_cast<ssize_t>(sizeof forged));
        QVERIFY(staysQuiet(changed));
    }

    void overrunForgetsWhatItKnew()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QSignalSpy up(&monitor, &NetworkMonitor::networkUp);
        const auto mtu = [this](int bytes) {
            return ip({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("vt0"),
                       QStringLiteral("mtu"), QString::number(bytes)});
        };
        // A fresh monitor has not seen vt0: running counts once, a repeat does not.
        QVERIFY(mtu(1400));
        QVERIFY(up.wait(10000));
        up.clear();
        changed.clear();
        QVERIFY(mtu(1300));
        QVERIFY(changed.wait(10000));
        QVERIFY(staysQuiet(up));

        // Far more notifications than the socket's default buffer holds, queued while the
        // event loop does not run: the kernel drops some and reports ENOBUFS.
        QTemporaryDir directory;
        QFile batch(directory.filePath(QStringLiteral("batch")));
        QVERIFY(batch.open(QIODevice::WriteOnly));
        for (int i = 0; i < 2000; ++i)
            batch.write(QStringLiteral("address add 10.201.%1.%2/32 dev vt0\n")
                            .arg(i / 250)
                            .arg(i % 250 + 1)
                            .toLatin1());
        batch.close();
        QVERIFY(ip({QStringLiteral("-batch"), batch.fileName()}));
        changed.clear();
        QVERIFY(changed.wait(10000));
        up.clear();

        // What it knew of vt0 was forgotten with the lost notifications, so it counts again.
        QVERIFY(mtu(1200));
        QVERIFY2(up.wait(10000), "no overrun: was the socket's buffer raised past 4 MB?");
    }

    void removedLinkIsAChange()
    {
        NetworkMonitor monitor;
        QSignalSpy changed(&monitor, &NetworkMonitor::changed);
        QVERIFY(ip({QStringLiteral("link"), QStringLiteral("del"), QStringLiteral("vt0")}));
        QVERIFY(changed.wait(10000));
    }
};

QTEST_GUILESS_MAIN(TestNetworkMonitor)
#include "tst_networkmonitor.moc"

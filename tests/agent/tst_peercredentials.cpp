// What the kernel says of a socket's peer, checked against this process's own identity over a
// socket pair, and the rule for privileged calls: root, or the group as primary or supplementary
// group.
#include "app/agent/ipc/peercredentials.h"

#include <QtTest>
#include <algorithm>
#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace vigil;
using agent::PeerCredentials;

class TestPeerCredentials : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void readsThePeerOfASocketPair()
    {
        int pair[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        std::string error;
        const auto peer = PeerCredentials::ofSocket(pair[0], error);
        ::close(pair[0]);
        ::close(pair[1]);
        QVERIFY2(peer, error.c_str());
        QCOMPARE(error, std::string());
        QCOMPARE(peer->uid, ::geteuid());
        QCOMPARE(peer->gid, ::getegid());
        QCOMPARE(peer->pid, ::getpid());
        std::vector<gid_t> groups(static_cast<std::size_t>(::getgroups(0, nullptr)));
        QCOMPARE(::getgroups(static_cast<int>(groups.size()), groups.data()),
                 static_cast<int>(groups.size()));
        auto got = peer->groups;
        std::sort(got.begin(), got.end());
        std::sort(groups.begin(), groups.end());
        QVERIFY(got == groups);
    }

    void notASocketIsAnError()
    {
        std::string error;
        QVERIFY(!PeerCredentials::ofSocket(-1, error));
        QVERIFY(error.starts_with("SO_PEERCRED: "));
    }

    void groupsAreLookedUpByName()
    {
        std::string error;
        const group *own = ::getgrgid(::getgid());
        QVERIFY(own);
        QCOMPARE(agent::groupIdOf(own->gr_name, error), std::optional<gid_t>(::getgid()));
        QVERIFY(!agent::groupIdOf("vigil-test-no-such-group", error));
        QCOMPARE(error, std::string("there is no group 'vigil-test-no-such-group'"));
    }

    void rootAndMembersMayCallPrivileged()
    {
        PeerCredentials peer;
        peer.uid = 1000;
        peer.gid = 1000;
        peer.groups = {24, 27};
        QVERIFY(!agent::mayCallPrivileged(peer, std::nullopt));
        QVERIFY(!agent::mayCallPrivileged(peer, gid_t(990)));
        QVERIFY(agent::mayCallPrivileged(peer, gid_t(1000))); // primary group
        QVERIFY(agent::mayCallPrivileged(peer, gid_t(27)));   // supplementary group
        peer.uid = 0;
        QVERIFY(agent::mayCallPrivileged(peer, std::nullopt));
        QVERIFY(agent::mayCallPrivileged(peer, gid_t(990)));
    }
};

QTEST_GUILESS_MAIN(TestPeerCredentials)
#include "tst_peercredentials.moc"

#include "app/agent/ipc/peercredentials.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <grp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 // Linux 4.13; older C libraries lack the name
#endif

namespace vigil::agent {

namespace {

// The supplementary groups the peer had at connect. The kernel says how much room it needs
// when the buffer is too small (ERANGE), and a peer has at most NGROUPS_MAX (65536) groups.
void readGroups(int fd, std::vector<gid_t> &groups, std::string &error)
{
    groups.resize(64);
    for (int attempt = 0; attempt < 2; ++attempt) {
        socklen_t length = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &length) == 0) {
            groups.resize(length / sizeof(gid_t));
            return;
        }
        if (errno != ERANGE)
            break;
        groups.resize(length / sizeof(gid_t) + 1);
    }
    error = std::string("SO_PEERGROUPS: ") + std::strerror(errno);
    groups.clear();
}

} // namespace

std::optional<PeerCredentials> PeerCredentials::ofSocket(int fd, std::string &error)
{
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
        error = std::string("SO_PEERCRED: ") + std::strerror(errno);
        return std::nullopt;
    }
    PeerCredentials peer;
    peer.uid = credentials.uid;
    peer.gid = credentials.gid;
    peer.pid = credentials.pid;
    readGroups(fd, peer.groups, error);
    return peer;
}

bool PeerCredentials::isInGroup(gid_t group) const
{
    return gid == group || std::find(groups.begin(), groups.end(), group) != groups.end();
}

std::optional<gid_t> groupIdOf(const std::string &name, std::string &error)
{
    long size = ::sysconf(_SC_GETGR_R_SIZE_MAX);
    std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
    for (;;) {
        group entry{};
        group *found = nullptr;
        const int result = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (result == ERANGE && buffer.size() < 1024 * 1024) { // a group with many members
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (result != 0) {
            error = "cannot look up the group '" + name + "': " + std::strerror(result);
            return std::nullopt;
        }
        if (!found) {
            error = "there is no group '" + name + "'";
            return std::nullopt;
        }
        return found->gr_gid;
    }
}

bool mayCallPrivileged(const PeerCredentials &peer, std::optional<gid_t> group)
{
    return peer.uid == 0 || (group && peer.isInGroup(*group));
}

} // namespace vigil::agent

#pragma once

// Who is at the other end of a connection to vigild's socket, as the kernel recorded it at
// connect (SO_PEERCRED, SO_PEERGROUPS): nothing the client sends can change it. The IPC server
// decides from it whether a caller may use a privileged method (docs/ipc.md section 4).

#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace vigil::agent {

struct PeerCredentials
{
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    pid_t pid = 0;
    std::vector<gid_t> groups; // supplementary groups

    // Reads both options from a connected Unix socket: nullopt, with error set, when the kernel
    // does not tell who the peer is. When only the supplementary groups cannot be read (a kernel
    // before 4.13), they are left empty and error says why: the peer then counts by its uid and
    // gid alone, which can only refuse more, never allow more.
    static std::optional<PeerCredentials> ofSocket(int fd, std::string &error);

    bool isInGroup(gid_t group) const;
};

// The group allowed privileged calls, resolved once (getgrnam_r): nullopt when no group has that
// name, and only root is privileged then.
std::optional<gid_t> groupIdOf(const std::string &name, std::string &error);

// Root, or a member of group by primary or supplementary group.
bool mayCallPrivileged(const PeerCredentials &peer, std::optional<gid_t> group);

} // namespace vigil::agent

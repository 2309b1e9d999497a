#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vigil::agent {

// One rtnetlink notification that may matter to reachability, reduced to what NetworkMonitor
// decides on. Loopback links, host-scope addresses, local-table and cloned routes and wireless
// extension chatter never appear here: they change nothing a verifier could be reached through.
struct RtnetlinkEvent
{
    enum class Kind : std::uint8_t
    {
        LinkChanged, // RTM_NEWLINK: created or any flag or state changed
        LinkRemoved,
        AddressAdded,
        AddressRemoved,
        RouteAdded,
        RouteRemoved,
    };

    Kind kind = Kind::LinkChanged;
    std::int32_t interfaceIndex = 0;
    // Links: administratively up and operationally running (IFF_UP and IFF_RUNNING).
    // Addresses: usable, i.e. not still tentative (IPv6 duplicate address detection) or failed.
    bool up = false;

    bool operator==(const RtnetlinkEvent &) const = default;
};

struct RtnetlinkBatch
{
    std::vector<RtnetlinkEvent> events;
    // The kernel dropped notifications (NLMSG_ERROR with ENOBUFS): anything may have changed.
    bool overrun = false;
    // Messages that were malformed (bad lengths, truncated headers or attributes) and skipped.
    int rejected = 0;
};

// Parses one datagram read from a NETLINK_ROUTE socket. Pure and bounds-checked: every length
// is checked against what is left before anything is read, nothing is assumed aligned in memory,
// and a malformed message is counted in `rejected` instead of being read. A message whose header
// is malformed ends the datagram, since the next one cannot be found.
RtnetlinkBatch parseRtnetlink(std::span<const std::uint8_t> datagram);

} // namespace vigil::agent

#include "app/agent/triggers/rtnetlinkparser.h"

#include <cerrno>
#include <cstring>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <optional>

namespace vigil::agent {

namespace {

using Bytes = std::span<const std::uint8_t>;

// memcpy, not a cast: the fuzzer and recv() promise no alignment.
template <typename T> std::optional<T> readAt(Bytes bytes, std::size_t offset)
{
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T))
        return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}

constexpr std::size_t align4(std::size_t n)
{
    return (n + 3u) & ~std::size_t{3};
}

// Calls visit(type, payload) for each rtattr in `area`; false if an attribute is malformed or
// visit refuses its payload. The last attribute may lack its padding, as the kernel allows.
template <typename Visit> bool walkAttributes(Bytes area, Visit &&visit)
{
    while (!area.empty()) {
        const auto header = readAt<rtattr>(area, 0);
        if (!header || header->rta_len < sizeof(rtattr) || header->rta_len > area.size())
            return false;
        if (!visit(header->rta_type & NLA_TYPE_MASK,
                   area.subspan(sizeof(rtattr), header->rta_len - sizeof(rtattr))))
            return false;
        const auto next = align4(header->rta_len);
        if (next >= area.size())
            break;
        area = area.subspan(next);
    }
    return true;
}

std::optional<std::uint32_t> u32Payload(Bytes payload)
{
    if (payload.size() != sizeof(std::uint32_t))
        return std::nullopt;
    return readAt<std::uint32_t>(payload, 0);
}

struct Outcome
{
    bool malformed = false;
    std::optional<RtnetlinkEvent> event; // empty: well-formed but irrelevant
};

constexpr Outcome malformed{true, std::nullopt};

Outcome parseLink(std::uint16_t type, Bytes body)
{
    const auto info = readAt<ifinfomsg>(body, 0);
    if (!info)
        return malformed;
    bool wireless = false;
    if (!walkAttributes(body.subspan(align4(sizeof(ifinfomsg))), [&](unsigned attr, Bytes) {
            wireless = wireless || attr == IFLA_WIRELESS;
            return true;
        }))
        return malformed;
    // Wireless extension events (scans, association chatter) arrive as RTM_NEWLINK, often.
    if ((info->ifi_flags & IFF_LOOPBACK) || wireless)
        return {};
    RtnetlinkEvent event;
    event.kind =
        type == RTM_NEWLINK ? RtnetlinkEvent::Kind::LinkChanged : RtnetlinkEvent::Kind::LinkRemoved;
    event.interfaceIndex = info->ifi_index;
    event.up = (info->ifi_flags & IFF_UP) && (info->ifi_flags & IFF_RUNNING);
    return {false, event};
}

Outcome parseAddress(std::uint16_t type, Bytes body)
{
    const auto address = readAt<ifaddrmsg>(body, 0);
    if (!address)
        return malformed;
    std::uint32_t flags = address->ifa_flags;
    if (!walkAttributes(body.subspan(align4(sizeof(ifaddrmsg))), [&](unsigned attr, Bytes data) {
            if (attr != IFA_FLAGS)
                return true;
            const auto wide = u32Payload(data); // the full set; ifa_flags holds the low 8 bits
            if (wide)
                flags = *wide;
            return wide.has_value();
        }))
        return malformed;
    if (address->ifa_scope == RT_SCOPE_HOST) // 127.0.0.1, ::1 and their kind
        return {};
    RtnetlinkEvent event;
    event.kind = type == RTM_NEWADDR ? RtnetlinkEvent::Kind::AddressAdded
                                     : RtnetlinkEvent::Kind::AddressRemoved;
    event.interfaceIndex = static_cast<std::int32_t>(address->ifa_index);
    event.up = !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED));
    return {false, event};
}

Outcome parseRoute(std::uint16_t type, Bytes body)
{
    const auto route = readAt<rtmsg>(body, 0);
    if (!route)
        return malformed;
    std::uint32_t table = route->rtm_table;
    std::uint32_t outputInterface = 0;
    if (!walkAttributes(body.subspan(align4(sizeof(rtmsg))), [&](unsigned attr, Bytes data) {
            if (attr != RTA_TABLE && attr != RTA_OIF)
                return true;
            const auto value = u32Payload(data);
            if (value)
                (attr == RTA_TABLE ? table : outputInterface) = *value;
            return value.has_value();
        }))
        return malformed;
    // The local table follows the addresses (already reported); cloned routes are a cache.
    if (table == RT_TABLE_LOCAL || (route->rtm_flags & RTM_F_CLONED))
        return {};
    RtnetlinkEvent event;
    event.kind = type == RTM_NEWROUTE ? RtnetlinkEvent::Kind::RouteAdded
                                      : RtnetlinkEvent::Kind::RouteRemoved;
    event.interfaceIndex = static_cast<std::int32_t>(outputInterface);
    return {false, event};
}

} // namespace

RtnetlinkBatch parseRtnetlink(std::span<const std::uint8_t> datagram)
{
    RtnetlinkBatch batch;
    std::size_t offset = 0;
    while (offset < datagram.size()) {
        const auto header = readAt<nlmsghdr>(datagram, offset);
        // The kernel pads every message to 4 bytes; a length that is not is not its own.
        if (!header || header->nlmsg_len < sizeof(nlmsghdr) ||
            header->nlmsg_len > datagram.size() - offset || header->nlmsg_len % 4 != 0) {
            ++batch.rejected;
            break;
        }
        const auto body =
            datagram.subspan(offset + sizeof(nlmsghdr), header->nlmsg_len - sizeof(nlmsghdr));
        offset += header->nlmsg_len;

        Outcome outcome;
        switch (header->nlmsg_type) {
        case NLMSG_ERROR: {
            const auto error = readAt<std::int32_t>(body, 0); // nlmsgerr.error
            if (!error)
                outcome = malformed;
            else if (*error == -ENOBUFS)
                batch.overrun = true;
            break;
        }
        case RTM_NEWLINK:
        case RTM_DELLINK:
            outcome = parseLink(header->nlmsg_type, body);
            break;
        case RTM_NEWADDR:
        case RTM_DELADDR:
            outcome = parseAddress(header->nlmsg_type, body);
            break;
        case RTM_NEWROUTE:
        case RTM_DELROUTE:
            outcome = parseRoute(header->nlmsg_type, body);
            break;
        default: // NLMSG_DONE, NLMSG_NOOP and groups we did not join
            break;
        }
        if (outcome.malformed)
            ++batch.rejected;
        else if (outcome.event)
            batch.events.push_back(*outcome.event);
    }
    return batch;
}

} // namespace vigil::agent

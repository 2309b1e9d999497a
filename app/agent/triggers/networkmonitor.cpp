#include "app/agent/triggers/networkmonitor.h"

#include "app/agent/agentlogging.h"
#include "app/agent/triggers/rtnetlinkparser.h"

#include <QSocketNotifier>
#include <cerrno>
#include <cstring>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::agent {

namespace {

// Notifications are at most a page; 64 KiB also holds anything the kernel batches. A datagram
// larger than this is reported by MSG_TRUNC and treated as lost notifications.
constexpr std::size_t bufferSize = 64 * 1024;

int openRtnetlink(QString &reason)
{
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (fd < 0) {
        reason = QStringLiteral("cannot open an rtnetlink socket: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return -1;
    }
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE;
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&local), sizeof local) != 0) {
        reason = QStringLiteral("cannot join the rtnetlink groups: %1")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

NetworkMonitor::NetworkMonitor(QObject *parent)
    : QObject(parent), m_socket(openRtnetlink(m_inactiveReason)),
      m_loopbackIndex(static_cast<std::int32_t>(::if_nametoindex("lo")))
{
    if (!isActive()) {
        qCWarning(lcAgent).noquote()
            << "network changes will not trigger reports:" << m_inactiveReason;
        return;
    }
    m_buffer.resize(bufferSize);
    m_notifier = new QSocketNotifier(m_socket.get(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &NetworkMonitor::readPending);
}

NetworkMonitor::~NetworkMonitor() = default;

void NetworkMonitor::readPending()
{
    bool anyChange = false;
    bool becameUp = false;
    for (;;) {
        sockaddr_nl from{};
        socklen_t fromLength = sizeof from;
        const auto n =
            ::recvfrom(m_socket.get(), m_buffer.data(), m_buffer.size(), MSG_DONTWAIT | MSG_TRUNC,
                       reinterpret_cast<sockaddr *>(&from), &fromLength);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == ENOBUFS) { // the socket's queue overflowed: notifications were lost
                qCInfo(lcAgent) << "rtnetlink overrun: treating the network as changed";
                m_linkUp.clear();
                anyChange = true;
                continue;
            }
            m_inactiveReason = QStringLiteral("reading rtnetlink failed: %1")
                                   .arg(QString::fromLocal8Bit(std::strerror(errno)));
            qCWarning(lcAgent).noquote()
                << "network changes will no longer trigger reports:" << m_inactiveReason;
            m_notifier->setEnabled(false);
            break;
        }
        // Any local process may send to our port; only the kernel speaks for the network.
        if (from.nl_pid != 0)
            continue;
        if (static_cast<std::size_t>(n) > m_buffer.size()) { // truncated: as good as lost
            m_linkUp.clear();
            anyChange = true;
            continue;
        }
        apply(parseRtnetlink(
                  std::span<const std::uint8_t>(m_buffer.data(), static_cast<std::size_t>(n))),
              anyChange, becameUp);
    }
    if (anyChange)
        Q_EMIT changed();
    if (becameUp)
        Q_EMIT networkUp();
}

void NetworkMonitor::apply(const RtnetlinkBatch &batch, bool &anyChange, bool &becameUp)
{
    if (batch.rejected > 0)
        qCWarning(lcAgent) << "ignored" << batch.rejected << "malformed rtnetlink message(s)";
    if (batch.overrun) {
        m_linkUp.clear(); // the next sighting of a running link must count
        anyChange = true;
    }
    for (const auto &event : batch.events) {
        if (event.interfaceIndex != 0 && event.interfaceIndex == m_loopbackIndex)
            continue;
        anyChange = true;
        switch (event.kind) {
        case RtnetlinkEvent::Kind::LinkChanged: {
            // RTM_NEWLINK repeats for every flag change; only the step to running counts. A link
            // not seen before counts when running: its past is unknown (after start or an
            // overrun), and one needless retry is cheaper than a missed one.
            const bool wasUp = m_linkUp.value(event.interfaceIndex, false);
            m_linkUp.insert(event.interfaceIndex, event.up);
            becameUp = becameUp || (event.up && !wasUp);
            break;
        }
        case RtnetlinkEvent::Kind::LinkRemoved:
            m_linkUp.remove(event.interfaceIndex);
            break;
        case RtnetlinkEvent::Kind::AddressAdded:
            becameUp = becameUp || event.up;
            break;
        case RtnetlinkEvent::Kind::AddressRemoved:
        case RtnetlinkEvent::Kind::RouteAdded:
        case RtnetlinkEvent::Kind::RouteRemoved:
            break;
        }
    }
}

} // namespace vigil::agent

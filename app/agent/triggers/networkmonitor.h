#pragma once

#include "core/filedescriptor.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <cstdint>
#include <vector>

class QSocketNotifier;

namespace vigil::agent {

struct RtnetlinkBatch;

// Network changes from the kernel, as they happen: an rtnetlink socket (links, IPv4 and IPv6
// addresses, IPv4 routes) read through a QSocketNotifier, so an idle network costs no wake-up.
// Loopback is ignored. Never blocks: the socket is non-blocking and each notification reads
// every datagram pending.
class NetworkMonitor : public QObject
{
    Q_OBJECT

public:
    explicit NetworkMonitor(QObject *parent = nullptr);
    ~NetworkMonitor() override;

    // False when the socket could not be opened or failed; the reason says why. An inactive
    // monitor emits nothing, and the agent reports on its timer alone.
    bool isActive() const { return m_inactiveReason.isEmpty(); }
    QString inactiveReason() const { return m_inactiveReason; }

Q_SIGNALS:
    // Something that may change what the verifier sees or whether it can be reached; one
    // emission per batch the kernel delivered, also when it dropped notifications (overrun).
    void changed();
    // A link became up and running, or a usable address was added: worth retrying at once
    // when offline. Always accompanied by changed().
    void networkUp();

private:
    void readPending();
    void apply(const RtnetlinkBatch &batch, bool &anyChange, bool &becameUp);

    QString m_inactiveReason;
    FileDescriptor m_socket;
    QSocketNotifier *m_notifier = nullptr;
    std::vector<std::uint8_t> m_buffer;
    QHash<std::int32_t, bool> m_linkUp; // interface index -> last seen up and running
    std::int32_t m_loopbackIndex = 0;   // its addresses and routes are ignored too
};

} // namespace vigil::agent

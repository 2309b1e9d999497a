#pragma once

// vigild's local socket (docs/ipc.md): accepts vigilctl, the tray and any other local client,
// tells who each one is from the kernel (SO_PEERCRED), checks every request, refuses the
// privileged methods to callers outside root and the privileged group, and hands the rest to
// the agent through AgentRequests, the MFA methods with the caller's uid. Subscribers get a
// state event at every statusChanged(), and the prompts of their own uid only.
//
// Everything runs on the event-loop thread and nothing waits: slow methods answer through a
// Reply, in any order, and a client that stops reading is dropped (IpcConnection).

#include "app/agent/agentrequests.h"
#include "protocol/ipc/envelope.h"

#include <QObject>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/types.h>

class QLocalServer;

namespace vigil::agent {

class IpcConnection;

class IpcServerError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

struct IpcServerOptions
{
    // Unwritten output past which a client counts as not reading and is dropped: one line of the
    // largest size (protocol::ipc::maxServerLineSize) always fits, and 1 MiB more holds hundreds
    // of state events (a few KiB each) behind it. With the connection cap it bounds what clients
    // can make vigild hold.
    static constexpr std::size_t defaultOutputLimit =
        protocol::ipc::maxServerLineSize + 1024 * 1024;
    // Each connection costs a descriptor and its buffers; the tray of each session, a few
    // vigilctl and scripts stay far below.
    static constexpr std::size_t defaultMaxConnections = 64;

    std::filesystem::path socketPath = "/run/vigil/vigild.sock";
    std::string privilegedGroup = "vigil";
    std::size_t outputLimit = defaultOutputLimit;
    std::size_t maxConnections = defaultMaxConnections;
};

class IpcServer : public QObject
{
    Q_OBJECT

public:
    IpcServer(AgentRequests &agent, IpcServerOptions options, QObject *parent = nullptr);
    // Closes every connection and removes the socket file.
    ~IpcServer() override;

    // Creates the socket's directory (0755) when missing and refuses one that others could
    // change; replaces a stale socket file but refuses a path where another vigild answers;
    // listens with mode 0666. Throws IpcServerError saying what and where.
    void listen();

    const IpcServerOptions &options() const { return m_options; }
    std::size_t connectionCount() const { return m_connections.size(); }

private:
    void prepareSocketPath();
    void acceptPending();
    void handleLine(IpcConnection &connection, std::string line);
    void dispatch(IpcConnection &connection, protocol::ipc::Request request);
    Reply replyTo(IpcConnection &connection, protocol::ipc::RequestId id);
    void publishStatus();
    // Only to the subscribed connections whose peer is uid.
    void publishToUid(uid_t uid, const nlohmann::json &event);
    // The MFA methods, for the caller's own uid.
    void dispatchUserMethod(IpcConnection &connection, protocol::ipc::Request request);
    void removeSocketFile();

    AgentRequests &m_agent;
    IpcServerOptions m_options;
    QLocalServer *m_server;
    std::optional<gid_t> m_privilegedGid;
    std::set<IpcConnection *> m_connections;
    // The socket file this server made, so that it removes that one only.
    dev_t m_socketDevice = 0;
    ino_t m_socketInode = 0;
};

} // namespace vigil::agent

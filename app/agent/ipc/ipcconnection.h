#pragma once

// One client of vigild's socket: cuts what it sends into request lines (LineFramer) and writes
// the answers back, each message one line. It never waits for the client: a client that leaves
// more than outputLimit bytes unread is dropped, so it cannot hold the others up or make vigild
// buffer without bound. What a line asks for is the IpcServer's business.

#include "app/agent/ipc/peercredentials.h"
#include "core/filedescriptor.h"
#include "protocol/ipc/lineframer.h"

#include <QObject>
#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

class QLocalSocket;

namespace vigil::agent {

class IpcConnection : public QObject
{
    Q_OBJECT

public:
    using LineHandler = std::function<void(IpcConnection &connection, std::string line)>;

    // Takes socket over; onLine gets each complete request line, in order.
    IpcConnection(QLocalSocket *socket, PeerCredentials peer, std::size_t outputLimit,
                  LineHandler onLine, QObject *parent = nullptr);
    ~IpcConnection() override;

    const PeerCredentials &peer() const { return m_peer; }
    bool isSubscribed() const { return m_subscribed; }
    void setSubscribed() { m_subscribed = true; }

    // Writes one message as one line, unless the connection is closing or gone.
    void send(const nlohmann::json &message);
    // The same for a line made once for many connections (protocol::ipc::toLine).
    void sendLine(const std::string &line);

    // Ends the connection at once, unwritten output and all.
    void abort();

    // A slow method's answer is on its way: a client that has shut down its sending side still
    // gets it before the connection closes. answered() when it has been sent.
    void expectAnswer() { ++m_pendingAnswers; }
    void answered();

Q_SIGNALS:
    // The connection is over; the server deletes it (later, never from within a signal).
    void finished();

private:
    void readAvailable();
    void takeLines();
    void endOfInput();
    bool clientHasGone() const;
    void closeAfterWrite();
    void finish();

    QLocalSocket *m_socket;
    PeerCredentials m_peer;
    std::size_t m_outputLimit;
    LineHandler m_onLine;
    protocol::ipc::LineFramer m_framer;
    // Qt closes its socket when the client shuts down its sending side, but the client may
    // still read: this duplicate lets the last answer (malformed_request for a cut-off line)
    // reach it.
    FileDescriptor m_lastWords;
    int m_pendingAnswers = 0;
    bool m_inputEnded = false; // no more requests: the close waits for the pending answers
    bool m_subscribed = false;
    bool m_closing = false; // no more requests are read, no more answers written
    bool m_finished = false;
};

} // namespace vigil::agent

#pragma once

// A client of vigild's local socket (docs/ipc.md). The core is asynchronous, for the tray: it
// sends requests and signals each response, each event and the end of the connection. call()
// is the blocking form vigilctl uses, a local event loop over the same signals. Every failure
// is a CallError whose kind tells "vigild is not there" from "vigild said no".

#include "protocol/ipc/lineframer.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"

#include <QLocalSocket>
#include <QObject>
#include <QString>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

namespace vigil::ipcclient {

class CallError : public std::runtime_error
{
public:
    enum class Kind
    {
        Unreachable,       // nothing listens at the path (no socket, ENOENT, ECONNREFUSED)
        AccessDenied,      // the socket exists but this user may not connect to it (EACCES)
        ConnectionLost,    // vigild closed the connection before it answered
        Timeout,           // no connection or no answer in time
        ProtocolViolation, // vigild sent a line that is not a message of docs/ipc.md
        ErrorResponse,     // vigild answered with an error: error() says which
    };

    CallError(Kind kind, const std::string &message,
              std::optional<protocol::ipc::Error> error = std::nullopt);

    Kind kind() const { return m_kind; }
    // Set for ErrorResponse: the code and message vigild gave.
    const std::optional<protocol::ipc::Error> &error() const { return m_error; }

private:
    Kind m_kind;
    std::optional<protocol::ipc::Error> m_error;
};

class VigildClient : public QObject
{
    Q_OBJECT

public:
    explicit VigildClient(QObject *parent = nullptr);
    ~VigildClient() override;

    // Starts connecting to the socket at path: connected() or failed() follows, possibly
    // before this returns.
    void connectToServer(const QString &path);
    bool isConnected() const;
    void close();

    // Sends request with a fresh id (the one given is replaced) and returns that id; the
    // answer comes as responseReceived with it. Needs a connection.
    protocol::ipc::RequestId send(protocol::ipc::Request request);

    // Blocking forms for command-line tools; they run a local event loop, so a
    // QCoreApplication must exist. Both throw CallError.
    void connectAndWait(const QString &path, std::chrono::milliseconds timeout);
    // The result of request (connected first), or CallError: ErrorResponse for vigild's error,
    // Timeout when no answer came in time. Events that arrive meanwhile are still signalled.
    nlohmann::json call(protocol::ipc::Request request, std::chrono::milliseconds timeout);

Q_SIGNALS:
    void connected();
    // A response to a request sent on this connection; id is nullopt only for an error vigild
    // could not tie to a request.
    void responseReceived(const vigil::protocol::ipc::Response &response);
    void eventReceived(const vigil::protocol::ipc::Event &event);
    // vigild asks this user to sign in (after subscribe), and that prompt is over.
    void promptReceived(const vigil::protocol::ipc::Prompt &prompt);
    void promptClosed(const std::string &id);
    // The connection could not be made, or ended (ConnectionLost), or was closed by this client
    // because vigild broke the protocol (ProtocolViolation). Not emitted for close().
    void failed(const vigil::ipcclient::CallError &error);

private:
    void onReadyRead();
    void onSocketError(QLocalSocket::LocalSocketError error);
    void onDisconnected();
    void fail(const CallError &error);

    QLocalSocket *m_socket;
    QString m_path;
    protocol::ipc::LineFramer m_framer{protocol::ipc::maxServerLineSize};
    std::int64_t m_nextId = 1;
    bool m_failed = false;     // failed() was emitted for this connection, or close() called
    bool m_connecting = false; // connectToServer called, connected() not yet emitted
};

} // namespace vigil::ipcclient

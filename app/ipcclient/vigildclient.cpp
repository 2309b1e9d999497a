#include "app/ipcclient/vigildclient.h"

#include "protocol/ipc/envelope.h"

#include <QEventLoop>
#include <QTimer>
#include <exception>
#include <utility>

namespace vigil::ipcclient {

using protocol::ipc::Request;
using protocol::ipc::RequestId;
using protocol::ipc::Response;

CallError::CallError(Kind kind, const std::string &message,
                     std::optional<protocol::ipc::Error> error)
    : std::runtime_error(message), m_kind(kind), m_error(std::move(error))
{
}

VigildClient::VigildClient(QObject *parent) : QObject(parent), m_socket(new QLocalSocket(this))
{
    connect(m_socket, &QLocalSocket::connected, this, [this] {
        m_connecting = false;
        Q_EMIT connected();
    });
    connect(m_socket, &QLocalSocket::readyRead, this, &VigildClient::onReadyRead);
    connect(m_socket, &QLocalSocket::errorOccurred, this, &VigildClient::onSocketError);
    connect(m_socket, &QLocalSocket::disconnected, this, &VigildClient::onDisconnected);
}

VigildClient::~VigildClient()
{
    // No signals from a client being destroyed.
    m_failed = true;
    m_socket->disconnect(this);
}

void VigildClient::connectToServer(const QString &path)
{
    m_failed = true; // the old connection, if any, ends without a signal
    m_socket->abort();
    m_path = path;
    m_framer = protocol::ipc::LineFramer(protocol::ipc::maxServerLineSize);
    m_failed = false;
    m_connecting = true;
    m_socket->connectToServer(path);
}

bool VigildClient::isConnected() const
{
    return !m_failed && m_socket->state() == QLocalSocket::ConnectedState;
}

void VigildClient::close()
{
    m_failed = true;
    m_socket->abort();
}

RequestId VigildClient::send(Request request)
{
    if (!isConnected())
        throw CallError(CallError::Kind::ConnectionLost,
                        "not connected to vigild at " + m_path.toStdString());
    request.id = m_nextId++;
    const std::string line = protocol::ipc::toLine(request.toJson());
    m_socket->write(line.data(), static_cast<qint64>(line.size()));
    return request.id;
}

void VigildClient::connectAndWait(const QString &path, std::chrono::milliseconds timeout)
{
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    // A coarse timer may fire up to 5 % early; a timeout the caller asked for is a promise.
    timer.setTimerType(Qt::PreciseTimer);
    std::optional<CallError> failure;
    connect(this, &VigildClient::connected, &loop, [&] { loop.quit(); });
    connect(this, &VigildClient::failed, &loop, [&](const CallError &error) {
        failure = error;
        loop.quit();
    });
    connect(&timer, &QTimer::timeout, &loop, [&] {
        failure = CallError(CallError::Kind::Timeout, "no connection to vigild at " +
                                                          path.toStdString() + " within " +
                                                          std::to_string(timeout.count()) + " ms");
        loop.quit();
    });
    // Connecting may succeed or fail before connectToServer returns: the loop runs only if not.
    connectToServer(path);
    if (!failure && !isConnected()) {
        timer.start(timeout);
        loop.exec();
    }
    if (!failure && !isConnected())
        failure = CallError(CallError::Kind::ConnectionLost,
                            "the connection to vigild at " + path.toStdString() + " ended");
    if (failure) {
        close();
        throw *failure;
    }
}

nlohmann::json VigildClient::call(Request request, std::chrono::milliseconds timeout)
{
    const std::string method(protocol::ipc::methodName(request.method));
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    timer.setTimerType(Qt::PreciseTimer); // as in connectAndWait
    std::optional<RequestId> id;
    std::optional<Response> answer;
    std::optional<CallError> failure;
    connect(this, &VigildClient::responseReceived, &loop, [&](const Response &response) {
        // A response without an id is vigild's answer to a line it could not read: this one.
        if (!answer && id && (!response.id || *response.id == *id)) {
            answer = response;
            loop.quit();
        }
    });
    connect(this, &VigildClient::failed, &loop, [&](const CallError &error) {
        if (!failure)
            failure = error;
        loop.quit();
    });
    connect(&timer, &QTimer::timeout, &loop, [&] {
        failure =
            CallError(CallError::Kind::Timeout, "vigild did not answer " + method + " within " +
                                                    std::to_string(timeout.count()) + " ms");
        loop.quit();
    });
    id = send(std::move(request));
    if (!answer && !failure) {
        timer.start(timeout);
        loop.exec();
    }
    if (failure)
        throw *failure;
    if (!answer)
        throw CallError(CallError::Kind::ConnectionLost, "vigild did not answer " + method);
    if (answer->error)
        throw CallError(CallError::Kind::ErrorResponse, answer->error->message, answer->error);
    return answer->result;
}

void VigildClient::onReadyRead()
{
    while (!m_failed && m_socket->bytesAvailable() > 0) {
        const QByteArray bytes = m_socket->readAll();
        m_framer.feed(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
        while (!m_failed) {
            std::optional<std::string> line = m_framer.nextLine();
            if (!line) {
                if (m_framer.overLimit())
                    fail(CallError(CallError::Kind::ProtocolViolation,
                                   "vigild sent a line longer than " +
                                       std::to_string(protocol::ipc::maxServerLineSize) +
                                       " bytes"));
                break;
            }
            protocol::ipc::ServerMessage message;
            try {
                message = protocol::ipc::parseServerMessage(*line);
            } catch (const std::exception &e) {
                // Never the line itself: it may hold a token.
                fail(CallError(CallError::Kind::ProtocolViolation,
                               std::string("vigild sent a line that is not a message of its "
                                           "protocol: ") +
                                   e.what()));
                break;
            }
            if (const auto *response = std::get_if<Response>(&message))
                Q_EMIT responseReceived(*response);
            else if (const auto *state = std::get_if<protocol::ipc::Event>(&message))
                Q_EMIT eventReceived(*state);
            else if (const auto *prompt = std::get_if<protocol::ipc::PromptEvent>(&message))
                Q_EMIT promptReceived(prompt->prompt);
            else
                Q_EMIT promptClosed(std::get<protocol::ipc::PromptClosedEvent>(message).id);
        }
    }
}

void VigildClient::onSocketError(QLocalSocket::LocalSocketError error)
{
    const std::string where =
        " at " + m_path.toStdString() + ": " + m_socket->errorString().toStdString();
    switch (error) {
    case QLocalSocket::ServerNotFoundError:
    case QLocalSocket::ConnectionRefusedError:
        fail(CallError(CallError::Kind::Unreachable, "nothing listens" + where));
        break;
    case QLocalSocket::SocketAccessError:
        fail(CallError(CallError::Kind::AccessDenied, "not allowed to connect" + where));
        break;
    case QLocalSocket::SocketTimeoutError:
        fail(CallError(CallError::Kind::Timeout, "timed out" + where));
        break;
    case QLocalSocket::PeerClosedError:
        break; // disconnected() follows, after the last bytes are read
    default:
        fail(
            CallError(m_connecting ? CallError::Kind::Unreachable : CallError::Kind::ConnectionLost,
                      (m_connecting ? "cannot connect" : "connection failed") + where));
        break;
    }
}

void VigildClient::onDisconnected()
{
    onReadyRead(); // the lines vigild wrote before it closed
    fail(CallError(CallError::Kind::ConnectionLost,
                   "vigild closed the connection at " + m_path.toStdString()));
}

void VigildClient::fail(const CallError &error)
{
    if (m_failed)
        return;
    m_failed = true;
    m_connecting = false;
    m_socket->abort();
    Q_EMIT failed(error);
}

} // namespace vigil::ipcclient

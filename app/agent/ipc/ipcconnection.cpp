#include "app/agent/ipc/ipcconnection.h"

#include "app/agent/agentlogging.h"
#include "protocol/ipc/envelope.h"
#include "protocol/ipc/response.h"

#include <QLocalSocket>
#include <QTimer>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

namespace vigil::agent {

namespace ipc = protocol::ipc;

namespace {

// How long a connection that is closing may take to hand over its last answer; a client that
// does not read it by then is cut off, so that it cannot keep its slot.
constexpr std::chrono::seconds closeTimeout{5};
// How long answers still owed to a client that has stopped sending are waited for: a report
// on a slow TPM, or an enrollment, takes seconds to tens of seconds.
constexpr std::chrono::seconds pendingAnswersTimeout{120};

int duplicate(int fd)
{
    return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

} // namespace

IpcConnection::IpcConnection(QLocalSocket *socket, PeerCredentials peer, std::size_t outputLimit,
                             LineHandler onLine, QObject *parent)
    : QObject(parent), m_socket(socket), m_peer(std::move(peer)), m_outputLimit(outputLimit),
      m_onLine(std::move(onLine)), m_framer(ipc::maxRequestLineSize),
      m_lastWords(duplicate(static_cast<int>(socket->socketDescriptor())))
{
    m_socket->setParent(this);
    connect(m_socket, &QLocalSocket::readyRead, this, &IpcConnection::readAvailable);
    connect(m_socket, &QLocalSocket::readChannelFinished, this, &IpcConnection::endOfInput);
    connect(m_socket, &QLocalSocket::disconnected, this, [this] {
        endOfInput();
        if (m_pendingAnswers == 0 || clientHasGone())
            finish();
    });
    if (m_socket->bytesAvailable() > 0)
        QTimer::singleShot(0, this, &IpcConnection::readAvailable);
}

IpcConnection::~IpcConnection()
{
    // The socket, a child, goes after this object: it must not call back into it.
    disconnect(m_socket, nullptr, this, nullptr);
}

void IpcConnection::send(const nlohmann::json &message)
{
    if (!m_closing)
        sendLine(ipc::toLine(message));
}

void IpcConnection::sendLine(const std::string &line)
{
    if (m_closing)
        return;
    if (m_socket->state() != QLocalSocket::ConnectedState) {
        // Qt saw the end of the client's input and closed its socket; the client may still
        // read. One try without waiting: an answer that does not fit is lost with the client.
        if (m_lastWords.get() >= 0)
            (void)::send(m_lastWords.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return;
    }
    m_socket->write(line.data(), static_cast<qint64>(line.size()));
    m_socket->flush(); // hands the kernel what it takes now; never waits
    if (m_socket->bytesToWrite() > static_cast<qint64>(m_outputLimit)) {
        qCWarning(lcAgent).nospace()
            << "dropping the client uid " << m_peer.uid << " pid " << m_peer.pid << ": more than "
            << m_outputLimit << " bytes of its answers and events are unread";
        abort();
    }
}

void IpcConnection::abort()
{
    if (m_finished)
        return;
    m_closing = true;
    m_socket->abort();
    finish();
}

// Whether the client closed its socket altogether, rather than only its sending side (after
// which it still reads): the kernel then reports a hang-up on ours.
bool IpcConnection::clientHasGone() const
{
    if (m_lastWords.get() < 0)
        return true;
    pollfd descriptor{m_lastWords.get(), POLLOUT, 0};
    return ::poll(&descriptor, 1, 0) > 0 && (descriptor.revents & (POLLHUP | POLLERR));
}

void IpcConnection::answered()
{
    if (m_pendingAnswers > 0 && --m_pendingAnswers == 0 && m_inputEnded)
        closeAfterWrite();
}

void IpcConnection::readAvailable()
{
    const QByteArray bytes = m_socket->readAll();
    if (m_closing || m_inputEnded)
        return; // read only to be dropped: a closing connection takes no more requests
    m_framer.feed(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
    takeLines();
}

void IpcConnection::takeLines()
{
    while (!m_closing && !m_inputEnded) {
        auto line = m_framer.nextLine();
        if (!line)
            break;
        m_onLine(*this, std::move(*line));
    }
    if (m_closing || !m_framer.overLimit())
        return;
    qCInfo(lcAgent).nospace() << "closing the connection of uid " << m_peer.uid << " pid "
                              << m_peer.pid << ": a request line passed " << ipc::maxRequestLineSize
                              << " bytes";
    send(ipc::Response::failure(std::nullopt,
                                ipc::Error{ipc::ErrorCode::RequestTooLarge,
                                           "the request line is longer than " +
                                               std::to_string(ipc::maxRequestLineSize) + " bytes",
                                           {}})
             .toJson());
    closeAfterWrite();
}

// The client shut down its sending side, or went away: the lines Qt read before it saw the end
// are answered, then a line cut off without its "\n".
void IpcConnection::endOfInput()
{
    if (m_closing || m_inputEnded)
        return;
    readAvailable();
    if (m_closing)
        return;
    m_inputEnded = true;
    if (m_framer.hasPartialLine())
        send(ipc::Response::failure(
                 std::nullopt, ipc::Error{ipc::ErrorCode::MalformedRequest,
                                          "the request line was cut off by the end of the stream",
                                          {}})
                 .toJson());
    if (m_pendingAnswers == 0) {
        closeAfterWrite();
        return;
    }
    QTimer::singleShot(pendingAnswersTimeout, this, &IpcConnection::abort);
}

void IpcConnection::closeAfterWrite()
{
    m_closing = true;
    if (m_socket->state() == QLocalSocket::UnconnectedState) {
        finish();
        return;
    }
    QTimer::singleShot(closeTimeout, this, &IpcConnection::abort);
    m_socket->disconnectFromServer(); // closes once the answers are written
}

void IpcConnection::finish()
{
    if (m_finished)
        return;
    m_closing = true;
    m_finished = true;
    if (m_lastWords.get() >= 0)
        m_lastWords.close();
    Q_EMIT finished();
}

} // namespace vigil::agent

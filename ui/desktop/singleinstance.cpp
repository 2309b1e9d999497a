#include "ui/desktop/singleinstance.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QLocalServer>
#include <QLocalSocket>
#include <QLoggingCategory>
#include <QStandardPaths>
#include <QThread>
#include <QTimer>

namespace vigil::ui {

namespace {

Q_LOGGING_CATEGORY(lcInstance, "vigil.tray.instance")

constexpr QByteArrayView acknowledgement = "ok\n";
// How often a second instance looks again while the first one holds the lock but does not
// listen yet (it is starting) or has just let go of it (it is quitting).
constexpr unsigned long retryMs = 50;

QString runtimeDirectory(const QString &directory)
{
    if (!directory.isEmpty())
        return directory;
    return QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
}

} // namespace

SingleInstance::SingleInstance(QString directory, SingleInstanceLimits limits, QObject *parent)
    : QObject(parent), m_limits(limits),
      m_lockPath(QDir(runtimeDirectory(directory)).filePath(QStringLiteral("vigil-tray.lock"))),
      m_socketPath(QDir(runtimeDirectory(directory)).filePath(QStringLiteral("vigil-tray.socket"))),
      m_lock(m_lockPath)
{
    // A tray runs for the whole session: only a dead process makes its lock stale, never age.
    m_lock.setStaleLockTime(0);
}

SingleInstance::~SingleInstance()
{
    // Clients first, so that none of them calls back into a half-destroyed object.
    for (QLocalSocket *client : std::as_const(m_clients)) {
        client->disconnect(this);
        delete client;
    }
    m_clients.clear();
    if (m_server)
        m_server->close();
}

QStringList SingleInstance::commands()
{
    return {QStringLiteral("show"), QStringLiteral("details")};
}

SingleInstance::Role SingleInstance::start(const QString &command,
                                           std::chrono::milliseconds timeout)
{
    if (m_server)
        return Role::Primary;
    if (m_lock.tryLock(0))
        return listen() ? Role::Primary : Role::Failed;
    if (m_lock.error() != QLockFile::LockFailedError) {
        m_error = QStringLiteral("cannot create the lock file %1 (%2)")
                      .arg(m_lockPath, m_lock.error() == QLockFile::PermissionError
                                           ? QStringLiteral("permission denied")
                                           : QStringLiteral("unknown error"));
        return Role::Failed;
    }
    return forward(command, timeout);
}

bool SingleInstance::listen()
{
    // The lock is ours, so a socket file there was left by an instance that crashed.
    QLocalServer::removeServer(m_socketPath);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(m_socketPath)) {
        m_error =
            QStringLiteral("cannot listen on %1: %2").arg(m_socketPath, m_server->errorString());
        m_lock.unlock();
        return false;
    }
    connect(m_server, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
    return true;
}

SingleInstance::Role SingleInstance::forward(const QString &command,
                                             std::chrono::milliseconds timeout)
{
    const QDeadlineTimer deadline(timeout);
    QLocalSocket socket;
    while (true) {
        socket.connectToServer(m_socketPath);
        if (socket.waitForConnected(static_cast<int>(deadline.remainingTime()))) {
            socket.write(command.toUtf8() + '\n');
            socket.waitForBytesWritten(static_cast<int>(deadline.remainingTime()));
            while (!socket.canReadLine() && socket.state() == QLocalSocket::ConnectedState &&
                   socket.waitForReadyRead(static_cast<int>(deadline.remainingTime()))) {
            }
            if (socket.canReadLine() && socket.readLine(16) == acknowledgement)
                return Role::Secondary;
            m_error = QStringLiteral("the running tray did not acknowledge \"%1\" within %2 ms")
                          .arg(command)
                          .arg(timeout.count());
            return Role::Failed;
        }
        socket.abort();
        // The running instance may have quit meanwhile: then this one is the tray.
        if (m_lock.tryLock(0))
            return listen() ? Role::Primary : Role::Failed;
        if (deadline.hasExpired()) {
            m_error = QStringLiteral("another tray holds %1 but does not answer on %2")
                          .arg(m_lockPath, m_socketPath);
            return Role::Failed;
        }
        QThread::msleep(retryMs);
    }
}

void SingleInstance::onNewConnection()
{
    while (QLocalSocket *client = m_server->nextPendingConnection()) {
        if (m_clients.size() >= m_limits.maxClients) {
            qCWarning(lcInstance) << "refused a connection: already" << m_clients.size()
                                  << "clients";
            client->abort();
            client->deleteLater();
            continue;
        }
        m_clients.insert(client);
        // The socket stops reading once a line could no longer fit: a flood is never buffered.
        client->setReadBufferSize(m_limits.maxLineBytes + 1);
        auto *deadline = new QTimer(client);
        deadline->setSingleShot(true);
        deadline->setTimerType(Qt::PreciseTimer);
        connect(deadline, &QTimer::timeout, this, [this, client] {
            qCInfo(lcInstance) << "dropped a client that was too slow";
            drop(client);
        });
        deadline->start(m_limits.clientTimeout);
        connect(client, &QLocalSocket::readyRead, this, [this, client] { onReadyRead(client); });
        connect(client, &QLocalSocket::disconnected, this, [this, client] { drop(client); });
        if (client->bytesAvailable() > 0)
            onReadyRead(client);
    }
}

void SingleInstance::onReadyRead(QLocalSocket *client)
{
    if (!m_clients.contains(client))
        return;
    if (!client->canReadLine()) {
        if (client->bytesAvailable() > m_limits.maxLineBytes) {
            qCWarning(lcInstance) << "dropped a client whose line is longer than"
                                  << m_limits.maxLineBytes << "bytes";
            drop(client);
        }
        return;
    }
    const QString command =
        QString::fromUtf8(client->readLine(m_limits.maxLineBytes + 1)).trimmed();
    // One line per connection: whatever follows it is not read.
    client->disconnect(this);
    if (!commands().contains(command)) {
        qCWarning(lcInstance) << "ignored an unknown command" << command;
        drop(client);
        return;
    }
    client->write(acknowledgement.data(), acknowledgement.size());
    // The deadline still runs: a client that does not read its answer is dropped with it.
    connect(client, &QLocalSocket::disconnected, this, [this, client] { drop(client); });
    client->disconnectFromServer();
    Q_EMIT activated(command);
}

void SingleInstance::drop(QLocalSocket *client)
{
    if (!m_clients.remove(client))
        return;
    client->disconnect(this);
    client->abort();
    client->deleteLater();
}

} // namespace vigil::ui

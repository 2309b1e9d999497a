#pragma once

// One tray per user session. The first instance holds a QLockFile and listens on a local socket
// (mode 0600) beside it in $XDG_RUNTIME_DIR; a second launch finds the lock taken, sends the
// first one command ("show", "details") and returns once it acknowledged, and its caller exits.
// A lock left by an instance that crashed is taken over (QLockFile checks whether its process
// still runs), and so is its socket.
//
// The socket is only reachable by the same user, but the server still treats its clients as
// hostile: one short line each, a few at a time, a deadline for each, unknown commands ignored
// with a log line. Nothing a client sends can block or crash the tray.

#include <QLockFile>
#include <QObject>
#include <QSet>
#include <QString>
#include <QStringList>
#include <chrono>

class QLocalServer;
class QLocalSocket;

namespace vigil::ui {

struct SingleInstanceLimits
{
    qsizetype maxLineBytes = 64;
    std::chrono::milliseconds clientTimeout{2000}; // to send a line and read the answer
    int maxClients = 4;
};

class SingleInstance : public QObject
{
    Q_OBJECT

public:
    enum class Role
    {
        Primary,   // this is the tray: it holds the lock and listens
        Secondary, // another tray runs and took the command: exit
        Failed,    // neither; error() says why
    };

    // directory: where the lock and the socket go; empty for $XDG_RUNTIME_DIR (Qt's runtime
    // location, which falls back to a private directory when that is not set).
    explicit SingleInstance(QString directory = {}, SingleInstanceLimits limits = {},
                            QObject *parent = nullptr);
    ~SingleInstance() override;

    // Becomes the primary instance or hands command to the one that runs, waiting at most
    // timeout for its acknowledgement: it blocks, so call it before the tray shows anything.
    Role start(const QString &command = QStringLiteral("show"),
               std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));
    QString error() const { return m_error; }
    QString socketPath() const { return m_socketPath; }
    QString lockPath() const { return m_lockPath; }

    // The commands a second instance may send.
    static QStringList commands();

Q_SIGNALS:
    // A second launch asked for command (one of commands()).
    void activated(const QString &command);

private:
    bool listen();
    Role forward(const QString &command, std::chrono::milliseconds timeout);
    void onNewConnection();
    void onReadyRead(QLocalSocket *client);
    void drop(QLocalSocket *client);

    SingleInstanceLimits m_limits;
    QString m_lockPath;
    QString m_socketPath;
    QLockFile m_lock;
    QLocalServer *m_server = nullptr;
    QSet<QLocalSocket *> m_clients;
    QString m_error;
};

} // namespace vigil::ui

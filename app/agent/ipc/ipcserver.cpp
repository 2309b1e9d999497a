#include "app/agent/ipc/ipcserver.h"

#include "app/agent/agentlogging.h"
#include "app/agent/ipc/ipcconnection.h"
#include "app/agent/ipc/peercredentials.h"
#include "app/agent/pathsafety.h"
#include "core/filedescriptor.h"
#include "core/text.h"
#include "protocol/ipc/request.h"
#include "protocol/ipc/response.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QPointer>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace vigil::agent {

namespace ipc = protocol::ipc;
namespace fs = std::filesystem;

namespace {

std::string errnoText(int error)
{
    return std::strerror(error);
}

// Whether something accepts connections at path, such as a vigild that runs. Without waiting:
// a listener whose backlog is full counts as one that runs.
bool somethingListens(const fs::path &path)
{
    FileDescriptor fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0)
        throw IpcServerError("cannot open a socket to test " + quoted(path) + ": " +
                             errnoText(errno));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.native().size() + 1);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&address), sizeof address) == 0)
        return true;
    const int error = errno;
    if (error == EAGAIN || error == EINPROGRESS)
        return true;
    if (error == ECONNREFUSED)
        return false;
    throw IpcServerError("cannot test whether another vigild is listening on " + quoted(path) +
                         ": " + errnoText(error));
}

// docs/ipc.md promises lines of at most maxServerLineSize and clients refuse longer ones, so an
// answer past it goes out as an internal error with the request's id.
void answer(IpcConnection &connection, const ipc::Response &response)
{
    const std::string line = ipc::toLine(response.toJson());
    if (line.size() <= ipc::maxServerLineSize + 1) { // and its "\n"
        connection.sendLine(line);
        return;
    }
    qCWarning(lcAgent) << "an answer of" << line.size() << "bytes is over the"
                       << ipc::maxServerLineSize << "a line may hold";
    answer(connection,
           ipc::Response::failure(response.id, ipc::Error{ipc::ErrorCode::Internal,
                                                          "the answer is longer than a line may be",
                                                          {}}));
}

} // namespace

IpcServer::IpcServer(AgentRequests &agent, IpcServerOptions options, QObject *parent)
    : QObject(parent), m_agent(agent), m_options(std::move(options)),
      m_server(new QLocalServer(this))
{
    connect(m_server, &QLocalServer::newConnection, this, &IpcServer::acceptPending);
    connect(&m_agent, &AgentRequests::statusChanged, this, &IpcServer::publishStatus);
    connect(&m_agent, &AgentRequests::promptRaised, this,
            [this](uid_t uid, const ipc::Prompt &prompt) {
                publishToUid(uid, ipc::PromptEvent{prompt}.toJson());
            });
    connect(&m_agent, &AgentRequests::promptClosed, this, [this](uid_t uid, const std::string &id) {
        publishToUid(uid, ipc::PromptClosedEvent{id}.toJson());
    });
}

IpcServer::~IpcServer()
{
    for (IpcConnection *connection : m_connections)
        delete connection;
    m_connections.clear();
    if (m_server->isListening()) {
        m_server->close();
        removeSocketFile();
    }
}

void IpcServer::listen()
{
    if (m_server->isListening())
        return;
    std::string groupError;
    m_privilegedGid = groupIdOf(m_options.privilegedGroup, groupError);
    if (!m_privilegedGid)
        qCWarning(lcAgent).noquote() << QString::fromStdString(groupError)
                                     << "; only root may call report, token, dpop and enroll";

    prepareSocketPath();
    const fs::path &path = m_options.socketPath;
    if (!m_server->listen(QString::fromStdString(path.string())))
        throw IpcServerError("cannot listen on " + quoted(path) + ": " +
                             m_server->errorString().toStdString());
    // Every local user may connect; what each may do is decided per request.
    struct stat st
    {
    };
    if (::chmod(path.c_str(), 0666) != 0 || ::lstat(path.c_str(), &st) != 0) {
        const int error = errno;
        m_server->close();
        throw IpcServerError("cannot set mode 0666 on the socket " + quoted(path) + ": " +
                             errnoText(error));
    }
    m_socketDevice = st.st_dev;
    m_socketInode = st.st_ino;
    qCInfo(lcAgent).noquote() << "listening on" << QString::fromStdString(quoted(path));
}

void IpcServer::prepareSocketPath()
{
    const fs::path &path = m_options.socketPath;
    if (!path.is_absolute())
        throw IpcServerError("the socket path " + quoted(path) + " is not absolute");
    if (path.native().size() >= sizeof(sockaddr_un::sun_path))
        throw IpcServerError("the socket path " + quoted(path) + " is longer than " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
    const fs::path directory = path.parent_path();
    std::error_code error;
    if (fs::create_directories(directory, error) && ::chmod(directory.c_str(), 0755) != 0)
        throw IpcServerError("cannot set mode 0755 on the new socket directory " +
                             quoted(directory) + ": " + errnoText(errno));
    if (error)
        throw IpcServerError("cannot create the socket directory " + quoted(directory) + ": " +
                             error.message());
    // Whoever could change the directory could put their own socket in vigild's place.
    if (const auto problem = writeAccessProblem(directory, "socket directory"); !problem.empty())
        throw IpcServerError(problem);

    struct stat st
    {
    };
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT)
            return;
        throw IpcServerError("cannot check " + quoted(path) + ": " + errnoText(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        throw IpcServerError(quoted(path) +
                             " exists and is not a socket; remove it or set another socket_path");
    if (somethingListens(path))
        throw IpcServerError("another vigild is listening on " + quoted(path) +
                             "; stop it first, or give this one another socket_path");
    // Left behind by a vigild that ended without removing it: nobody answers there.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw IpcServerError("cannot remove the stale socket " + quoted(path) + ": " +
                             errnoText(errno));
    qCInfo(lcAgent).noquote() << "removed the stale socket" << QString::fromStdString(quoted(path));
}

void IpcServer::removeSocketFile()
{
    // QLocalServer::close() removes it too; this is for the path it may have left, and never
    // removes a socket another vigild has put there since.
    struct stat st
    {
    };
    const fs::path &path = m_options.socketPath;
    if (::lstat(path.c_str(), &st) == 0 && st.st_dev == m_socketDevice &&
        st.st_ino == m_socketInode)
        ::unlink(path.c_str());
}

void IpcServer::acceptPending()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        if (m_connections.size() >= m_options.maxConnections) {
            qCWarning(lcAgent) << "refusing a connection: already" << m_connections.size()
                               << "clients, the most vigild serves at once";
            socket->abort();
            socket->deleteLater();
            continue;
        }
        std::string error;
        const auto peer =
            PeerCredentials::ofSocket(static_cast<int>(socket->socketDescriptor()), error);
        if (!peer) {
            qCWarning(lcAgent).noquote()
                << "refusing a connection whose peer is unknown:" << QString::fromStdString(error);
            socket->abort();
            socket->deleteLater();
            continue;
        }
        if (!error.empty())
            qCWarning(lcAgent).noquote()
                << "supplementary groups of uid" << peer->uid
                << "unknown; only its primary group counts:" << QString::fromStdString(error);
        auto *connection = new IpcConnection(
            socket, *peer, m_options.outputLimit,
            [this](IpcConnection &from, std::string line) { handleLine(from, std::move(line)); },
            this);
        m_connections.insert(connection);
        connect(connection, &IpcConnection::finished, this, [this, connection] {
            m_connections.erase(connection);
            connection->deleteLater();
        });
        qCDebug(lcAgent) << "client connected: uid" << peer->uid << "pid" << peer->pid;
    }
}

void IpcServer::handleLine(IpcConnection &connection, std::string line)
{
    ipc::Request request;
    try {
        request = ipc::parseRequest(line);
        // It may hold a PIN or a code: the request's SecretText is the copy that lives on.
        ipc::wipeString(line);
    } catch (const ipc::RequestError &refused) {
        ipc::wipeString(line);
        // The code and member only: the message may quote what the client sent.
        qCDebug(lcAgent).nospace()
            << "refused a request of uid " << connection.peer().uid << " pid "
            << connection.peer().pid << ": "
            << QString::fromStdString(std::string(ipc::errorCodeName(refused.error().code))) << ' '
            << QString::fromStdString(refused.error().field);
        answer(connection, ipc::Response::failure(refused.id(), refused.error()));
        return;
    }
    const ipc::RequestId id = request.id;
    try {
        dispatch(connection, std::move(request));
    } catch (const std::exception &failure) {
        // A fault of the agent's must not take the service down, nor leave the caller waiting.
        qCWarning(lcAgent) << "a request of uid" << connection.peer().uid
                           << "failed:" << failure.what();
        answer(connection, ipc::Response::failure(id, ipc::Error{ipc::ErrorCode::Internal,
                                                                 "vigild failed; its log says why",
                                                                 {}}));
    }
}

void IpcServer::dispatch(IpcConnection &connection, ipc::Request request)
{
    const PeerCredentials &peer = connection.peer();
    qCDebug(lcAgent).noquote() << "request" << QString::fromStdString(ipc::describe(request))
                               << "from uid" << peer.uid << "pid" << peer.pid;
    if (ipc::isPrivileged(request.method) && !mayCallPrivileged(peer, m_privilegedGid)) {
        answer(connection, ipc::Response::failure(
                               request.id, ipc::Error{ipc::ErrorCode::PermissionDenied,
                                                      std::string(ipc::methodName(request.method)) +
                                                          " is for root and the group " +
                                                          m_options.privilegedGroup,
                                                      {}}));
        return;
    }
    if (ipc::isUserMethod(request.method)) {
        dispatchUserMethod(connection, std::move(request));
        return;
    }
    switch (request.method) {
    case ipc::Method::Status:
        answer(connection, ipc::Response::success(request.id, m_agent.status().toJson()));
        return;
    case ipc::Method::Subscribe:
        // The status first, then events: nothing runs in between on this thread.
        answer(connection, ipc::Response::success(request.id, m_agent.status().toJson()));
        connection.setSubscribed();
        return;
    case ipc::Method::Posture:
        m_agent.posture(replyTo(connection, request.id));
        return;
    case ipc::Method::Report:
        m_agent.report(mayCallPrivileged(peer, m_privilegedGid) ? AgentRequests::Caller::Privileged
                                                                : AgentRequests::Caller::User,
                       replyTo(connection, request.id));
        return;
    case ipc::Method::Token:
        m_agent.token(replyTo(connection, request.id));
        return;
    case ipc::Method::Dpop:
        m_agent.dpop(std::get<ipc::DpopParams>(std::move(request.params)),
                     replyTo(connection, request.id));
        return;
    case ipc::Method::Enroll:
        m_agent.enroll(std::get<ipc::EnrollParams>(std::move(request.params)).token,
                       replyTo(connection, request.id));
        return;
    case ipc::Method::SessionPosture:
        // Filed under the uid the kernel gave, never one the caller names.
        m_agent.submitSessionPosture(peer.uid,
                                     std::get<ipc::SessionPostureParams>(std::move(request.params)),
                                     replyTo(connection, request.id));
        return;
    default: // the user methods, above
        return;
    }
}

void IpcServer::dispatchUserMethod(IpcConnection &connection, ipc::Request request)
{
    // Always the uid the kernel gave: no request can name another user.
    const uid_t uid = connection.peer().uid;
    Reply reply = replyTo(connection, request.id);
    switch (request.method) {
    case ipc::Method::MfaStatus:
        m_agent.mfaStatus(uid, std::move(reply));
        return;
    case ipc::Method::MfaEnroll:
        m_agent.mfaEnroll(uid, std::get<ipc::MfaEnrollParams>(std::move(request.params)),
                          std::move(reply));
        return;
    case ipc::Method::MfaPinChange:
        m_agent.mfaPinChange(uid, std::get<ipc::PinChangeParams>(std::move(request.params)),
                             std::move(reply));
        return;
    case ipc::Method::MfaPinReset:
        m_agent.mfaPinReset(uid, std::get<ipc::PinResetParams>(std::move(request.params)),
                            std::move(reply));
        return;
    case ipc::Method::MfaTotpBegin:
        m_agent.mfaTotpBegin(uid, std::get<ipc::PinParams>(std::move(request.params)),
                             std::move(reply));
        return;
    case ipc::Method::MfaTotpActivate:
        m_agent.mfaTotpActivate(uid, std::get<ipc::TotpActivateParams>(std::move(request.params)),
                                std::move(reply));
        return;
    case ipc::Method::MfaRecoveryCodes:
        m_agent.mfaRecoveryCodes(uid, std::get<ipc::PinParams>(std::move(request.params)),
                                 std::move(reply));
        return;
    case ipc::Method::SignIn:
        m_agent.signIn(uid, std::get<ipc::SignInParams>(std::move(request.params)),
                       std::move(reply));
        return;
    case ipc::Method::SignOut:
        m_agent.signOut(uid, std::move(reply));
        return;
    case ipc::Method::UserToken:
        m_agent.userToken(uid, std::move(reply));
        return;
    default:
        reply(ipc::Error{ipc::ErrorCode::Internal, "not a user method", {}});
        return;
    }
}

Reply IpcServer::replyTo(IpcConnection &connection, ipc::RequestId id)
{
    QPointer<IpcConnection> target(&connection);
    connection.expectAnswer();
    return [target, id = std::move(id)](Outcome outcome) {
        if (!target)
            return; // the client went away: nobody to answer
        if (auto *error = std::get_if<ipc::Error>(&outcome))
            answer(*target, ipc::Response::failure(id, std::move(*error)));
        else
            answer(*target,
                   ipc::Response::success(id, std::get<nlohmann::json>(std::move(outcome))));
        target->answered();
    };
}

void IpcServer::publishStatus()
{
    std::vector<IpcConnection *> subscribers;
    for (IpcConnection *connection : m_connections)
        if (connection->isSubscribed())
            subscribers.push_back(connection);
    if (subscribers.empty())
        return;
    const std::string line = ipc::toLine(ipc::Event{m_agent.status()}.toJson());
    // Deleted only later, so every pointer holds; one that is dropped here writes nothing more.
    for (IpcConnection *connection : subscribers)
        connection->sendLine(line);
}

void IpcServer::publishToUid(uid_t uid, const nlohmann::json &event)
{
    std::string line;
    for (IpcConnection *connection : m_connections) {
        if (!connection->isSubscribed() || connection->peer().uid != uid)
            continue;
        if (line.empty())
            line = ipc::toLine(event);
        connection->sendLine(line);
    }
}

} // namespace vigil::agent

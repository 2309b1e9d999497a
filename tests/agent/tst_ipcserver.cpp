// vigild's IPC server over a real socket in a temporary directory, with a scripted agent behind
// AgentRequests: framing, the exact errors of docs/ipc.md, answers out of order, events, the
// privileged group (checked against child processes that really run as other users), slow
// readers, the connection cap and the socket file's life. Clients are plain sockets, so that a
// test decides exactly what is sent, when the sending side ends and whether anything is read.
#include "app/agent/agentrequests.h"
#include "app/agent/ipc/ipcserver.h"
#include "ipctestclient.h"
#include "protocol/ipc/response.h"
#include "scriptedagent.h"
#include "testprinters.h"

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

using namespace vigil;
using agent::IpcServer;
using agent::IpcServerError;
using agent::IpcServerOptions;
using agent::Reply;
using nlohmann::json;
using test::ScriptedAgent;
namespace ipc = protocol::ipc;
namespace fs = std::filesystem;

namespace {

// A request as written in the tests, with ' for " so that it reads like the JSON it is.
std::string q(std::string text)
{
    std::replace(text.begin(), text.end(), '\'', '"');
    return text;
}

json error(json id, std::string code, std::string message, std::string field = {})
{
    json error{{"code", code}, {"message", message}};
    if (!field.empty())
        error["field"] = field;
    return {{"v", 1}, {"id", id}, {"error", error}};
}

json result(json id, json value)
{
    return {{"v", 1}, {"id", id}, {"result", value}};
}

unsigned modeOf(const fs::path &path)
{
    struct stat st
    {
    };
    return ::lstat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

std::string groupName(gid_t gid)
{
    const group *entry = ::getgrgid(gid);
    return entry ? entry->gr_name : std::string();
}

} // namespace

class TestIpcServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        // Other users' clients must reach the socket below it.
        QCOMPARE(::chmod(m_dir->path().toLocal8Bit().constData(), 0755), 0);
        m_socket = fs::path(m_dir->path().toStdString()) / "run" / "vigild.sock";
        m_agent.emplace();
        m_agent->current.state = ipc::AgentState::NonCompliant;
        m_agent->current.reason = "1 check fails: firewall";
        m_agent->current.verifierReachable = true;
    }

    void cleanup()
    {
        m_server.reset();
        m_agent.reset();
        m_dir.reset();
    }

    void statusIsAnswered()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.connected());
        QCOMPARE(client.ask(q("{'v':1,'id':1,'method':'status','params':{}}")),
                 result(1, statusJson()));
        QCOMPARE(client.ask(q("{'v':1,'id':'no-params','method':'status'}")),
                 result("no-params", statusJson()));
    }

    void refusedRequestsGetTheDocumentedErrorAndTheConnectionStays()
    {
        start();
        test::Client client(m_socket);
        QCOMPARE(client.ask("not json"),
                 error(nullptr, "malformed_request", "not valid UTF-8 JSON"));
        QCOMPARE(client.ask(q("{'v':1,'id':8,'method':'reboot','params':{}}")),
                 error(8, "unknown_method",
                       "unknown method \"reboot\" (expected one of: status, posture, subscribe, "
                       "report, token, dpop, enroll, session_posture, mfa_status, mfa_enroll, "
                       "mfa_pin_change, mfa_pin_reset, mfa_totp_begin, mfa_totp_activate, "
                       "mfa_recovery_codes, sign_in, sign_out, user_token)",
                       "/method"));
        QCOMPARE(client.ask(q("{'v':2,'id':9,'method':'status','params':{}}")),
                 error(9, "unsupported_version",
                       "unsupported version 2; this implementation supports version 1", "/v"));
        QCOMPARE(client.ask(q("{'v':1,'id':10,'method':'status','params':{'verbose':true}}")),
                 error(10, "invalid_params", "unknown member (status takes no params)",
                       "/params/verbose"));
        QCOMPARE(
            client.ask(q("{'v':1,'id':6,'method':'dpop','params':{'method':'GET',"
                         "'url':'http://intranet.example/'}}")),
            error(6, "invalid_params", "must be an absolute https URL with a host", "/params/url"));
        QCOMPARE(
            client.ask(q("{'v':1,'id':'x','method':'enroll','params':{'token':'a',"
                         "'token':'b'}}")),
            error(nullptr, "malformed_request", "member given more than once", "/params/token"));
        QVERIFY(m_agent->calls.empty());
        QCOMPARE(client.ask(q("{'v':1,'id':11,'method':'status'}")), result(11, statusJson()));
    }

    void oversizeLineIsRefusedAndTheConnectionClosed()
    {
        start();
        test::Client client(m_socket);
        const std::string line = q("{'v':1,'id':1,'method':'status','params':{'x':'") +
                                 std::string(ipc::maxRequestLineSize, 'a') + "\"}}\n";
        QTest::ignoreMessage(
            QtInfoMsg, QRegularExpression(QStringLiteral("a request line passed 65536 bytes")));
        client.send(line); // the server may close before it has all
        QCOMPARE(client.next(), error(nullptr, "request_too_large",
                                      "the request line is longer than 65536 bytes"));
        QVERIFY(client.waitEnded());
        QCOMPARE(client.received(), std::string()); // nothing after the answer
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0u, 5000);
    }

    void lineCutOffByTheEndOfTheStreamIsMalformed()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':1,'method':'status'}"
                              "\n"
                              "{'v':1,'id':2,'meth")));
        QCOMPARE(client.next(), result(1, statusJson()));
        client.endSending();
        QCOMPARE(client.next(), error(nullptr, "malformed_request",
                                      "the request line was cut off by the end of the stream"));
        QVERIFY(client.waitEnded());
        QCOMPARE(client.received(), std::string()); // nothing after the answer
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0u, 5000);
    }

    void requestsTogetherAndByteByByte()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':1,'method':'status'}"
                              "\n"
                              "{'v':1,'id':2,'method':'status'}"
                              "\n")));
        QCOMPARE(client.next(), result(1, statusJson()));
        QCOMPARE(client.next(), result(2, statusJson()));

        const std::string split = q("{'v':1,'id':'split','method':'status'}"
                                    "\r\n");
        for (const char byte : split) {
            QVERIFY(client.send(std::string_view(&byte, 1)));
            QCoreApplication::processEvents(); // the server reads each byte on its own
        }
        QCOMPARE(client.next(), result("split", statusJson()));
    }

    void slowAnswersComeOutOfOrderByIdAndCarryTheParams()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':1,'method':'report'}"
                              "\n"
                              "{'v':1,'id':'t','method':'token'}"
                              "\n"
                              "{'v':1,'id':3,'method':'dpop','params':{'method':'GET',"
                              "'url':'https://verifier.example.com/v1/whoami?q=1'}}"
                              "\n"
                              "{'v':1,'id':4,'method':'enroll','params':{'token':'vgl_enr_secret'}}"
                              "\n"
                              "{'v':1,'id':5,'method':'posture'}"
                              "\n")));
        QTRY_COMPARE_WITH_TIMEOUT(m_agent->calls.size(), std::size_t(5), 5000);
        QCOMPARE(m_agent->calls[0].method, "report");
        QCOMPARE(m_agent->calls[1].method, "token");
        QCOMPARE(m_agent->calls[4].method, "posture");
        QCOMPARE(m_agent->lastDpop->url, "https://verifier.example.com/v1/whoami?q=1");
        QCOMPARE(m_agent->lastEnrollToken, std::optional<std::string>("vgl_enr_secret"));

        m_agent->calls[1].reply(json{{"token_type", "DPoP"}});
        m_agent->calls[3].reply(ipc::Error{ipc::ErrorCode::Busy, "an enrollment runs", {}});
        m_agent->calls[0].reply(statusJson());
        QCOMPARE(client.next(), result("t", json{{"token_type", "DPoP"}}));
        QCOMPARE(client.next(), error(4, "busy", "an enrollment runs"));
        QCOMPARE(client.next(), result(1, statusJson()));
    }

    void answersTooLongOrFailedBecomeInternalErrors()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':1,'method':'posture'}\n")));
        QTRY_COMPARE_WITH_TIMEOUT(m_agent->calls.size(), std::size_t(1), 5000);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "an answer of \\d+ bytes is over the 4194304")));
        m_agent->calls[0].reply(json{{"huge", std::string(ipc::maxServerLineSize, 'x')}});
        QCOMPARE(client.next(), error(1, "internal", "the answer is longer than a line may be"));

        m_agent->fail = true;
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("failed: scripted failure")));
        QCOMPARE(client.ask(q("{'v':1,'id':2,'method':'report'}")),
                 error(2, "internal", "vigild failed; its log says why"));
        QCOMPARE(client.ask(q("{'v':1,'id':3,'method':'status'}")), result(3, statusJson()));
    }

    void replyAfterTheClientLeftIsDropped()
    {
        start();
        {
            test::Client client(m_socket);
            QVERIFY(client.send(q("{'v':1,'id':1,'method':'posture'}"
                                  "\n")));
            QTRY_COMPARE_WITH_TIMEOUT(m_agent->calls.size(), std::size_t(1), 5000);
        }
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0u, 5000);
        QTest::qWait(10); // the connection is deleted later
        m_agent->calls[0].reply(json::object());
        test::Client other(m_socket);
        QCOMPARE(other.ask(q("{'v':1,'id':2,'method':'status'}")), result(2, statusJson()));
    }

    void aClientThatStoppedSendingStillGetsItsSlowAnswer()
    {
        start();
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':1,'method':'posture'}\n")));
        QTRY_COMPARE_WITH_TIMEOUT(m_agent->calls.size(), std::size_t(1), 5000);
        client.endSending();
        QTest::qWait(200); // the server sees the end of its input
        m_agent->calls[0].reply(json{{"answer", "late"}});
        QCOMPARE(client.next(), result(1, json{{"answer", "late"}}));
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 0u, 5000);
    }

    void subscribersGetTheStatusThenAnEventPerChange()
    {
        start();
        test::Client subscriber(m_socket);
        test::Client bystander(m_socket);
        QCOMPARE(subscriber.ask(q("{'v':1,'id':'tray-1','method':'subscribe','params':{}}")),
                 result("tray-1", statusJson()));
        QCOMPARE(bystander.ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));

        m_agent->change("first");
        QCOMPARE(subscriber.next(), json({{"v", 1}, {"event", "state"}, {"data", statusJson()}}));
        QCOMPARE(subscriber.ask(q("{'v':1,'id':'again','method':'subscribe'}")),
                 result("again", statusJson()));
        m_agent->change("second");
        QCOMPARE(subscriber.next(), json({{"v", 1}, {"event", "state"}, {"data", statusJson()}}));
        // One event for the change, however often it subscribed: the next line is an answer.
        QCOMPARE(subscriber.ask(q("{'v':1,'id':2,'method':'status'}")), result(2, statusJson()));
        bystander.pump();
        QCOMPARE(bystander.received(), std::string());
    }

    void privilegedMethodsAreRefusedToOthers_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("method");
        QTest::newRow("token") << QByteArray::fromStdString(
                                      q("{'v':1,'id':12,'method':'token','params':{}}"))
                               << QByteArray("token");
        QTest::newRow("dpop") << QByteArray::fromStdString(
                                     q("{'v':1,'id':12,'method':'dpop','params':{"
                                       "'method':'GET','url':'https://a.example/'}}"))
                              << QByteArray("dpop");
        QTest::newRow("enroll") << QByteArray::fromStdString(q(
                                       "{'v':1,'id':12,'method':'enroll','params':{'token':'t'}}"))
                                << QByteArray("enroll");
    }

    void privilegedMethodsAreRefusedToOthers()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, method);
        start();
        m_agent->answerAtOnce = true;
        const std::string group = m_server->options().privilegedGroup;
        const auto answer =
            test::askAs(m_socket, test::nobody, test::nogroup, {}, request.toStdString());
        QCOMPARE(json::parse(answer, nullptr, false),
                 error(12, "permission_denied",
                       method.toStdString() + " is for root and the group " + group));
        QVERIFY(m_agent->calls.empty());
        // What any user may call, it may.
        QCOMPARE(json::parse(test::askAs(m_socket, test::nobody, test::nogroup, {},
                                         q("{'v':1,'id':1,'method':'status'}")),
                             nullptr, false),
                 result(1, statusJson()));
    }

    // Anyone may ask for a report (the tray's "Check now"); the agent learns who, to limit how
    // often someone outside the group may.
    void reportTellsTheAgentWhoAsked()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        start(); // the group is this process's own primary group
        m_agent->answerAtOnce = true;
        const std::string request = q("{'v':1,'id':3,'method':'report'}");
        const json answered = result(3, json{{"answered", "report"}});
        QCOMPARE(json::parse(test::askAs(m_socket, test::nobody, test::nogroup, {}, request),
                             nullptr, false),
                 answered);
        test::Client root(m_socket);
        QCOMPARE(root.ask(request), answered);
        QCOMPARE(m_agent->reportCallers, (std::vector<agent::AgentRequests::Caller>{
                                             agent::AgentRequests::Caller::User,
                                             agent::AgentRequests::Caller::Privileged}));
    }

    // Any user may file their session's screen lock, and it is filed under the uid the kernel
    // gives, whatever the request says.
    void sessionPostureIsForEveryoneUnderTheirOwnUid()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        start();
        m_agent->answerAtOnce = true;
        const std::string request =
            q("{'v':1,'id':5,'method':'session_posture','params':{'checks':{'screen_lock':{"
              "'status':'pass','summary':'KDE locks the screen after 300 s idle',"
              "'details':{'seconds_to_lock':300},'duration_ms':2}}}}");
        QCOMPARE(json::parse(test::askAs(m_socket, test::nobody, test::nogroup, {}, request),
                             nullptr, false),
                 result(5, json{{"answered", "session_posture"}}));
        QCOMPARE(m_agent->lastSessionUid, std::optional<uid_t>(test::nobody));
        QCOMPARE(m_agent->lastSessionPosture->screenLock.at("details").at("seconds_to_lock"),
                 json(300));
    }

    void privilegedMethodsAreAllowedToRootAndTheGroup()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        start(); // the group is this process's own primary group
        m_agent->answerAtOnce = true;
        const std::string request = q("{'v':1,'id':4,'method':'token'}");
        const json allowed = result(4, json{{"answered", "token"}});
        test::Client root(m_socket);
        QCOMPARE(root.ask(request), allowed);
        const gid_t group = ::getgid();
        QCOMPARE(
            json::parse(test::askAs(m_socket, test::nobody, group, {}, request), nullptr, false),
            allowed);
        QCOMPARE(json::parse(test::askAs(m_socket, test::nobody, test::nogroup, {group}, request),
                             nullptr, false),
                 allowed);
    }

    void withoutTheGroupOnlyRootIsPrivileged()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "no group 'vigil-test-no-such-group'.*only root")));
        auto options = defaults();
        options.privilegedGroup = "vigil-test-no-such-group";
        start(options);
        m_agent->answerAtOnce = true;
        const std::string request = q("{'v':1,'id':4,'method':'token'}");
        test::Client root(m_socket);
        QCOMPARE(root.ask(request), result(4, json{{"answered", "token"}}));
        QCOMPARE(json::parse(test::askAs(m_socket, test::nobody, test::nogroup, {}, request),
                             nullptr, false),
                 error(4, "permission_denied",
                       "token is for root and the group vigil-test-no-such-group"));
    }

    void clientThatStopsReadingIsDroppedAndOthersGoOn()
    {
        auto options = defaults();
        options.outputLimit = 64 * 1024;
        start(options);
        test::Client stalled(m_socket);
        test::Client reader(m_socket);
        QCOMPARE(stalled.ask(q("{'v':1,'id':1,'method':'subscribe'}")), result(1, statusJson()));
        QCOMPARE(reader.ask(q("{'v':1,'id':1,'method':'subscribe'}")), result(1, statusJson()));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "dropping the client uid \\d+ pid \\d+: more "
                                               "than 65536 bytes of its answers and events")));
        constexpr int events = 2000; // about 6 MB each, far past the socket's buffers
        for (int i = 0; i < events; ++i) {
            m_agent->change(std::to_string(i) + std::string(3000, '.'));
            if (i % 16 == 0)
                reader.pump(); // keeps up, without the event loop
        }
        QCOMPARE(m_server->connectionCount(), 1u);
        // Every event reached the reader, in order.
        for (int i = 0; i < events; ++i) {
            const json event = reader.next();
            QVERIFY(!event.is_null());
            QCOMPARE(event["data"]["reason"], std::to_string(i) + std::string(3000, '.'));
        }
        QElapsedTimer answered;
        answered.start();
        QCOMPARE(reader.ask(q("{'v':1,'id':2,'method':'status'}")), result(2, statusJson()));
        QVERIFY(answered.elapsed() < 1000);
        QVERIFY(stalled.waitEnded());
        const auto unread = std::count(stalled.received().begin(), stalled.received().end(), '\n');
        QVERIFY2(unread < events, std::to_string(unread).c_str());
    }

    void connectionsOverTheCapAreClosed()
    {
        auto options = defaults();
        options.maxConnections = 2;
        start(options);
        std::optional<test::Client> first(std::in_place, m_socket);
        test::Client second(m_socket);
        QCOMPARE(first->ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));
        QCOMPARE(second.ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                               "refusing a connection: already 2 clients")));
        test::Client third(m_socket);
        QVERIFY(third.waitEnded());
        first.reset();
        QTRY_COMPARE_WITH_TIMEOUT(m_server->connectionCount(), 1u, 5000);
        test::Client fourth(m_socket);
        QCOMPARE(fourth.ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));
    }

    void socketFileIsWorldWritableAndRemovedAtTheEnd()
    {
        start();
        QCOMPARE(modeOf(m_socket.parent_path()), 0755u);
        struct stat st
        {
        };
        QCOMPARE(::lstat(m_socket.c_str(), &st), 0);
        QVERIFY(S_ISSOCK(st.st_mode));
        QCOMPARE(st.st_mode & 07777, 0666u);
        m_server.reset();
        QVERIFY(!fs::exists(fs::symlink_status(m_socket)));
    }

    void staleSocketIsReplaced()
    {
        fs::create_directories(m_socket.parent_path());
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, m_socket.c_str(), sizeof address.sun_path - 1);
        QCOMPARE(::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address), 0);
        ::close(fd); // the file stays; nobody listens
        QVERIFY(fs::is_socket(m_socket));

        QTest::ignoreMessage(QtInfoMsg,
                             QRegularExpression(QStringLiteral("removed the stale socket")));
        start();
        test::Client client(m_socket);
        QCOMPARE(client.ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));
    }

    void secondServerOnThePathIsRefused()
    {
        start();
        IpcServer second(*m_agent, defaults());
        try {
            second.listen();
            QFAIL("the second server listened");
        } catch (const IpcServerError &refused) {
            QCOMPARE(std::string(refused.what()),
                     "another vigild is listening on '" + m_socket.string() +
                         "'; stop it first, or give this one another socket_path");
        }
        test::Client client(m_socket); // the first one still serves
        QCOMPARE(client.ask(q("{'v':1,'id':1,'method':'status'}")), result(1, statusJson()));
    }

    void directoryOthersCanWriteIsRefused()
    {
        fs::create_directories(m_socket.parent_path());
        QCOMPARE(::chmod(m_socket.parent_path().c_str(), 0777), 0);
        IpcServer server(*m_agent, defaults());
        try {
            server.listen();
            QFAIL("listened in a directory anyone can change");
        } catch (const IpcServerError &refused) {
            QVERIFY2(std::string(refused.what()).find("has mode 0777") != std::string::npos,
                     refused.what());
        }
        QVERIFY(!fs::exists(fs::symlink_status(m_socket)));
    }

private:
    // The socket in the temporary directory; the group is this process's primary group.
    IpcServerOptions defaults() const
    {
        IpcServerOptions options;
        options.socketPath = m_socket;
        options.privilegedGroup = groupName(::getgid());
        return options;
    }

    void start() { start(defaults()); }
    void start(const IpcServerOptions &options)
    {
        m_server.emplace(*m_agent, options);
        m_server->listen();
    }

    json statusJson() const { return m_agent->current.toJson(); }

    std::optional<QTemporaryDir> m_dir;
    fs::path m_socket;
    std::optional<ScriptedAgent> m_agent;
    std::optional<IpcServer> m_server;
};

QTEST_GUILESS_MAIN(TestIpcServer)
#include "tst_ipcserver.moc"

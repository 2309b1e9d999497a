// vigild's IPC server and the MFA methods (docs/ipc.md 7.9, 9): each reaches the agent with the
// caller's uid from SO_PEERCRED and its params, from any local user; prompts reach only the
// subscriptions of the uid they concern (checked against a child process that really runs as
// another user); and no PIN, code or invite reaches a log line.
#include "app/agent/agentlogging.h"
#include "app/agent/ipc/ipcserver.h"
#include "ipctestclient.h"
#include "protocol/ipc/response.h"
#include "scriptedagent.h"

#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QtTest>
#include <grp.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

using namespace vigil;
using agent::IpcServer;
using agent::IpcServerOptions;
using nlohmann::json;
using test::ScriptedAgent;
namespace ipc = protocol::ipc;
namespace fs = std::filesystem;

namespace {

std::string q(std::string text)
{
    std::replace(text.begin(), text.end(), '\'', '"');
    return text;
}

ipc::Prompt promptFor(std::string id)
{
    ipc::Prompt prompt;
    prompt.id = std::move(id);
    prompt.reason = ipc::PromptReason::Unlock;
    prompt.factors = {ipc::Factor::Pin};
    return prompt;
}

json promptEvent(const std::string &id)
{
    return ipc::PromptEvent{promptFor(id)}.toJson();
}

json closedEvent(const std::string &id)
{
    return ipc::PromptClosedEvent{id}.toJson();
}

// Every message Qt's logging writes while it is installed, debug included.
class LogCapture
{
public:
    LogCapture()
    {
        s_lines.clear();
        QLoggingCategory::setFilterRules(QStringLiteral("vigil.*.debug=true"));
        m_previous = qInstallMessageHandler(&LogCapture::handle);
    }
    ~LogCapture()
    {
        qInstallMessageHandler(m_previous);
        QLoggingCategory::setFilterRules(QString());
    }
    static QStringList lines()
    {
        std::lock_guard lock(s_mutex);
        return s_lines;
    }

private:
    static void handle(QtMsgType, const QMessageLogContext &, const QString &message)
    {
        std::lock_guard lock(s_mutex);
        s_lines.push_back(message);
    }

    QtMessageHandler m_previous = nullptr;
    static inline std::mutex s_mutex;
    static inline QStringList s_lines;
};

} // namespace

class TestIpcServerMfa : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_dir.emplace();
        QVERIFY(m_dir->isValid());
        QCOMPARE(::chmod(m_dir->path().toLocal8Bit().constData(), 0755), 0);
        m_socket = fs::path(m_dir->path().toStdString()) / "run" / "vigild.sock";
        m_agent.emplace();
        IpcServerOptions options;
        options.socketPath = m_socket;
        const group *own = ::getgrgid(::getgid()); // this process's group, as tst_ipcserver
        options.privilegedGroup = own ? own->gr_name : "root";
        m_server.emplace(*m_agent, options);
        m_server->listen();
    }

    void cleanup()
    {
        m_server.reset();
        m_agent.reset();
        m_dir.reset();
    }

    void eachMethodReachesItsCallWithTheCallersUid_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<QByteArray>("method");
        const auto row = [](const char *method, const char *params) {
            QTest::newRow(method) << QByteArray::fromStdString(q("{'v':1,'id':3,'method':'" +
                                                                 std::string(method) +
                                                                 "','params':" + params + "}"))
                                  << QByteArray(method);
        };
        row("mfa_status", "{}");
        row("mfa_enroll", "{'invite_code':'INV','pin':'271828'}");
        row("mfa_pin_change", "{'pin':'271828','new_pin':'314159'}");
        row("mfa_pin_reset", "{'recovery_code':'ABCD-EFGH-IJKL','new_pin':'314159'}");
        row("mfa_totp_begin", "{'pin':'271828'}");
        row("mfa_totp_activate", "{'pin':'271828','code':'123456'}");
        row("mfa_recovery_codes", "{'pin':'271828'}");
        row("sign_in", "{'otp':'123456'}");
        row("sign_out", "{}");
        row("user_token", "{}");
    }

    void eachMethodReachesItsCallWithTheCallersUid()
    {
        QFETCH(QByteArray, request);
        QFETCH(QByteArray, method);
        test::Client client(m_socket);
        QVERIFY(client.send(request.toStdString() + "\n"));
        QTRY_COMPARE(m_agent->calls.size(), std::size_t(1));
        QCOMPARE(QByteArray::fromStdString(m_agent->calls.at(0).method), method);
        QCOMPARE(m_agent->lastUserUid, std::optional<uid_t>(::getuid()));
        // The params as parsed, whatever the method, answered when the agent answers.
        const ipc::Request parsed = ipc::parseRequest(request.toStdString());
        QCOMPARE(m_agent->lastUserParams.index(), parsed.params.index());
        m_agent->calls.at(0).reply(json{{"done", true}});
        QCOMPARE(client.next(), (json{{"v", 1}, {"id", 3}, {"result", {{"done", true}}}}));
    }

    void theAgentGetsTheSecretsAsSent()
    {
        test::Client client(m_socket);
        QVERIFY(client.send(q("{'v':1,'id':4,'method':'sign_in','params':{'pin':'271828',"
                              "'otp':'654321'}}\n")));
        QTRY_COMPARE(m_agent->calls.size(), std::size_t(1));
        const auto &params = std::get<ipc::SignInParams>(m_agent->lastUserParams);
        QCOMPARE(params.pin->reveal(), "271828");
        QCOMPARE(params.otp->reveal(), "654321");
    }

    // Never privileged: every user enrolls and signs in their own account, under their own uid.
    void anyUserCallsThemForTheirOwnUid()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        m_agent->answerAtOnce = true;
        for (const char *method : {"mfa_status", "sign_out", "user_token"}) {
            const std::string answer =
                test::askAs(m_socket, test::nobody, test::nogroup, {},
                            q("{'v':1,'id':5,'method':'" + std::string(method) + "'}"));
            QCOMPARE(json::parse(answer, nullptr, false),
                     (json{{"v", 1}, {"id", 5}, {"result", {{"answered", method}}}}));
            QCOMPARE(m_agent->lastUserUid, std::optional<uid_t>(test::nobody));
        }
        // A request cannot name another user: a uid in the params is refused.
        const std::string answer =
            test::askAs(m_socket, test::nobody, test::nogroup, {},
                        q("{'v':1,'id':6,'method':'user_token','params':{'uid':0}}"));
        QCOMPARE(json::parse(answer, nullptr, false).at("error").at("code"), "invalid_params");
    }

    void promptsGoToTheSubscribersOfTheirUidOnly()
    {
        test::Client subscribed(m_socket);
        test::Client notSubscribed(m_socket);
        QCOMPARE(subscribed.ask(q("{'v':1,'id':1,'method':'subscribe'}")).at("id"), 1);
        QCOMPARE(notSubscribed.ask(q("{'v':1,'id':1,'method':'status'}")).at("id"), 1);
        const uid_t me = ::getuid();
        Q_EMIT m_agent->promptRaised(me + 1, promptFor("other-1"));
        Q_EMIT m_agent->promptClosed(me + 1, "other-1");
        Q_EMIT m_agent->promptRaised(me, promptFor("mine-1"));
        Q_EMIT m_agent->promptClosed(me, "mine-1");
        m_agent->change("fence"); // a state event to every subscriber, after the prompts
        QCOMPARE(subscribed.next(), promptEvent("mine-1"));
        QCOMPARE(subscribed.next(), closedEvent("mine-1"));
        QCOMPARE(subscribed.next().at("event"), "state");
        // The one that did not subscribe got nothing at all.
        QCOMPARE(notSubscribed.next(200), json(nullptr));
    }

    // A hostile local user subscribes too: it gets its own prompts and the state, never
    // another user's prompt.
    void anotherUsersSubscriptionGetsNoPrompt()
    {
        if (::geteuid() != 0)
            QSKIP("needs root to run a client as another user");
        test::SubscriberAs nobody(m_socket, test::nobody, test::nogroup);
        QVERIFY(nobody.waitForLines(1)); // the answer to subscribe: subscribed now
        const uid_t me = ::getuid();
        Q_EMIT m_agent->promptRaised(me, promptFor("root-1"));
        Q_EMIT m_agent->promptClosed(me, "root-1");
        Q_EMIT m_agent->promptRaised(test::nobody, promptFor("nobody-1"));
        Q_EMIT m_agent->promptClosed(test::nobody, "nobody-1");
        m_agent->change("fence");
        QVERIFY(nobody.waitForLines(4));
        const auto lines = nobody.lines();
        QCOMPARE(lines.size(), std::size_t(4));
        QCOMPARE(lines.at(0).at("id"), 1);
        QCOMPARE(lines.at(1), promptEvent("nobody-1"));
        QCOMPARE(lines.at(2), closedEvent("nobody-1"));
        QCOMPARE(lines.at(3).at("event"), "state");
    }

    // The log, debug included, while requests with a PIN, a code and an invite come and go,
    // accepted or refused: the requests are logged, their secrets never.
    void noSecretReachesTheLog()
    {
        LogCapture log;
        test::Client client(m_socket);
        m_agent->answerAtOnce = true;
        const std::string requests[] = {
            q("{'v':1,'id':1,'method':'sign_in','params':{'pin':'SECRETPIN1','otp':'918273'}}"),
            q("{'v':1,'id':2,'method':'mfa_enroll','params':{'invite_code':'SECRETINVITE',"
              "'pin':'SECRETPIN1'}}"),
            q("{'v':1,'id':3,'method':'mfa_pin_reset','params':{'recovery_code':'SECR-ETCO-DEZZ',"
              "'new_pin':'SECRETPIN2'}}"),
            // Refused, each for another member.
            q("{'v':1,'id':4,'method':'mfa_pin_change','params':{'pin':'SECRETPIN1',"
              "'new_pin':'SECRET\\n'}}"),
            q("{'v':1,'id':5,'method':'sign_in','params':{'pin':'SECRETPIN1','otp':'91827'}}"),
            q("{'v':1,'id':6,'method':'mfa_enroll','params':{'invite_code':'SECRET INVITE',"
              "'pin':'SECRETPIN1'}}"),
            q("{'v':2,'id':7,'method':'sign_in','params':{'pin':'SECRETPIN1'}}"),
        };
        for (const std::string &request : requests) {
            const json answer = client.ask(request);
            QVERIFY(!answer.is_null());
            QVERIFY2(answer.dump().find("SECRET") == std::string::npos, answer.dump().c_str());
        }
        const QStringList lines = LogCapture::lines();
        const QString all = lines.join(u'\n');
        // The capture works: the requests are there, by method.
        QVERIFY2(all.contains(u"request sign_in (id 1) with pin and otp"), qPrintable(all));
        QVERIFY2(all.contains(u"request mfa_enroll (id 2)"), qPrintable(all));
        QVERIFY2(all.contains(u"refused a request"), qPrintable(all));
        for (const char *secret : {"SECRET", "SECR-", "918273", "91827"})
            QVERIFY2(!all.contains(QLatin1StringView(secret)), qPrintable(all));
    }

private:
    std::optional<QTemporaryDir> m_dir;
    fs::path m_socket;
    std::optional<ScriptedAgent> m_agent;
    std::optional<IpcServer> m_server;
};

QTEST_GUILESS_MAIN(TestIpcServerMfa)
#include "tst_ipcservermfa.moc"

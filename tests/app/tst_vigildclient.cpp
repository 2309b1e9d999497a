// VigildClient against a stand-in for vigild on a real local socket: responses matched by id in
// any order, events between them, and each way a call can fail told apart.
#include "app/ipcclient/vigildclient.h"
#include "scriptedvigild.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace vigil;
using ipcclient::CallError;
using ipcclient::VigildClient;
using protocol::ipc::Method;
using protocol::ipc::Request;
using test::Reply;

namespace {

using namespace std::chrono_literals;

Request request(Method method)
{
    Request r;
    r.method = method;
    return r;
}

// The kind of CallError that body throws, or nullopt when it throws none.
template <typename Body> std::optional<CallError::Kind> failureOf(Body &&body)
{
    try {
        body();
    } catch (const CallError &e) {
        return e.kind();
    }
    return std::nullopt;
}

} // namespace

class TestVigildClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void callReturnsTheResult()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &r) {
            return Reply{test::responseLine(r["id"], test::compliantStatus().toJson())};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        const auto result = client.call(request(Method::Status), 5s);
        QCOMPARE(protocol::ipc::Status::fromJson(result, "/result").state,
                 protocol::ipc::AgentState::Compliant);
        QCOMPARE(vigild.lines().size(), std::size_t{1});
        const auto sent = nlohmann::json::parse(vigild.lines()[0]);
        QCOMPARE(sent["method"], "status");
        QCOMPARE(sent["v"], 1);
    }

    void responsesOutOfOrderAreMatchedById()
    {
        // The first request is answered only after the second, as a slow report would be.
        nlohmann::json held;
        test::ScriptedVigild vigild(path(), [&](const nlohmann::json &r) {
            if (held.is_null()) {
                held = r["id"];
                return Reply{};
            }
            return Reply{test::responseLine(r["id"], {{"proof", "second"}}) +
                         test::responseLine(held, {{"proof", "first"}})};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QSignalSpy responses(&client, &VigildClient::responseReceived);
        const auto first = client.send(request(Method::Report));
        const auto second = client.send(request(Method::Status));
        QVERIFY(first != second);
        QTRY_COMPARE(responses.size(), 2);
        const auto answer = [&](int i) {
            return responses.at(i).at(0).value<protocol::ipc::Response>();
        };
        QVERIFY(answer(0).id == second);
        QCOMPARE(answer(0).result["proof"], "second");
        QVERIFY(answer(1).id == first);
        QCOMPARE(answer(1).result["proof"], "first");
    }

    void anEventBeforeTheResponseIsDelivered()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &r) {
            return Reply{test::eventLine(test::nonCompliantStatus()) +
                         test::responseLine(r["id"], test::compliantStatus().toJson())};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QSignalSpy events(&client, &VigildClient::eventReceived);
        const auto result = client.call(request(Method::Subscribe), 5s);
        QCOMPARE(result["state"], "compliant");
        QCOMPARE(events.size(), 1);
        QCOMPARE(events.at(0).at(0).value<protocol::ipc::Event>().status.state,
                 protocol::ipc::AgentState::NonCompliant);
    }

    void anErrorResponseCarriesItsCode()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &r) {
            return Reply{test::errorLine(r["id"], protocol::ipc::ErrorCode::PermissionDenied,
                                         "token is for root and the group vigil")};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        try {
            client.call(request(Method::Token), 5s);
            QFAIL("no error");
        } catch (const CallError &e) {
            QCOMPARE(e.kind(), CallError::Kind::ErrorResponse);
            QVERIFY(e.error());
            QCOMPARE(e.error()->code, protocol::ipc::ErrorCode::PermissionDenied);
            QCOMPARE(std::string(e.what()), "token is for root and the group vigil");
        }
        // The connection stays usable after an error response.
        QVERIFY(client.isConnected());
    }

    void aLineOverTheLimitIsRefused()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &) {
            return Reply{std::string(protocol::ipc::maxServerLineSize + 1, 'x') + "\n"};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QSignalSpy failures(&client, &VigildClient::failed);
        QCOMPARE(failureOf([&] { client.call(request(Method::Posture), 10s); }),
                 CallError::Kind::ProtocolViolation);
        QCOMPARE(failures.size(), 1);
        QVERIFY(!client.isConnected());
    }

    void aLineJustAtTheLimitIsRead()
    {
        // A result padded so that the line, without its "\n", is exactly the limit.
        std::size_t padding = 0;
        test::ScriptedVigild vigild(path(), [&](const nlohmann::json &r) {
            const std::string empty = test::responseLine(r["id"], {{"proof", ""}});
            padding = protocol::ipc::maxServerLineSize - (empty.size() - 1);
            return Reply{test::responseLine(r["id"], {{"proof", std::string(padding, 'p')}})};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        const auto result = client.call(request(Method::Dpop), 10s);
        QCOMPARE(result["proof"].get<std::string>().size(), padding);
    }

    void garbageIsAProtocolViolation_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::newRow("not json") << QByteArray("hello vigilctl\n");
        QTest::newRow("wrong version") << QByteArray(R"({"v":2,"id":1,"result":{}})"
                                                     "\n");
        QTest::newRow("unknown member") << QByteArray(R"({"v":1,"id":1,"result":{},"x":1})"
                                                      "\n");
        QTest::newRow("nul byte") << QByteArray("{\"v\":1,\0}\n", 10);
    }

    void garbageIsAProtocolViolation()
    {
        QFETCH(QByteArray, line);
        test::ScriptedVigild vigild(
            path(), [&](const nlohmann::json &) { return Reply{line.toStdString()}; });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        try {
            client.call(request(Method::Status), 5s);
            QFAIL("no error");
        } catch (const CallError &e) {
            QCOMPARE(e.kind(), CallError::Kind::ProtocolViolation);
            // The offending line is never quoted: it could hold a token.
            QVERIFY(!QByteArray(e.what()).contains("hello"));
        }
    }

    void theServerClosingMidCallIsALostConnection()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &) { return Reply{"", true}; });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QCOMPARE(failureOf([&] { client.call(request(Method::Report), 5s); }),
                 CallError::Kind::ConnectionLost);
        // And a later call says so without waiting.
        QCOMPARE(failureOf([&] { client.call(request(Method::Status), 5s); }),
                 CallError::Kind::ConnectionLost);
    }

    void aResponseWrittenJustBeforeClosingIsRead()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &r) {
            return Reply{test::responseLine(r["id"], test::compliantStatus().toJson()), true};
        });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QCOMPARE(client.call(request(Method::Status), 5s)["state"], "compliant");
    }

    void noSocketIsUnreachable()
    {
        VigildClient client;
        QSignalSpy failures(&client, &VigildClient::failed);
        QCOMPARE(failureOf([&] { client.connectAndWait(path(), 5s); }),
                 CallError::Kind::Unreachable);
        QCOMPARE(failures.size(), 1);
        // A call without a connection does not wait either.
        QCOMPARE(failureOf([&] { client.call(request(Method::Status), 5s); }),
                 CallError::Kind::ConnectionLost);
    }

    void aSocketNobodyListensOnIsUnreachable()
    {
        // Bound but never listened on, as a crashed vigild leaves it: ECONNREFUSED.
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        const QByteArray name = path().toLocal8Bit();
        std::strncpy(address.sun_path, name.constData(), sizeof address.sun_path - 1);
        QCOMPARE(::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address), 0);
        VigildClient client;
        QCOMPARE(failureOf([&] { client.connectAndWait(path(), 5s); }),
                 CallError::Kind::Unreachable);
        ::close(fd);
        ::unlink(name.constData());
    }

    void noAnswerInTimeIsATimeout()
    {
        test::ScriptedVigild vigild(path(), [](const nlohmann::json &) { return Reply{}; });
        VigildClient client;
        client.connectAndWait(path(), 5s);
        QElapsedTimer timer;
        timer.start();
        QCOMPARE(failureOf([&] { client.call(request(Method::Report), 200ms); }),
                 CallError::Kind::Timeout);
        QVERIFY(timer.elapsed() >= 190);
        QVERIFY(timer.elapsed() < 5000);
    }

private:
    QString path() const { return m_directory.filePath(QStringLiteral("vigild.sock")); }

    QTemporaryDir m_directory;
};

QTEST_GUILESS_MAIN(TestVigildClient)
#include "tst_vigildclient.moc"

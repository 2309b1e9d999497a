// TrayConnection against a stand-in for vigild on a real local socket: the first status, events,
// vigild going away and coming back (nullopt, reconnect with backoff, subscribe again), and
// "Check now" with each kind of answer.
#include "protocol/ipc/mfaresults.h"
#include "tests/app/scriptedvigild.h"
#include "ui/mfa/ipcmfabackend.h"
#include "ui/model/trayconnection.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <functional>
#include <vector>

using namespace vigil;
using namespace std::chrono_literals;
using protocol::ipc::AgentState;
using protocol::ipc::Status;
using ui::ActionResult;
using ui::TrayConnection;

namespace {

// vigild's side: answers subscribe with its status, report with what the test sets, and can send
// an event to every subscriber or go away.
class FakeVigild : public QObject
{
public:
    explicit FakeVigild(const QString &path)
    {
        QLocalServer::removeServer(path);
        if (!m_server.listen(path))
            qFatal("cannot listen on %s", qPrintable(path));
        connect(&m_server, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket *socket = m_server.nextPendingConnection()) {
                connect(socket, &QLocalSocket::readyRead, this, [this, socket] { read(socket); });
                connect(socket, &QLocalSocket::disconnected, this, [this, socket] {
                    std::erase(m_subscribers, socket);
                    socket->deleteLater();
                });
            }
        });
    }

    ~FakeVigild() override
    {
        // The sockets go with the server, after this object's members: they must not call back.
        for (QLocalSocket *socket : m_server.findChildren<QLocalSocket *>())
            socket->disconnect(this);
    }

    Status status = test::compliantStatus();
    // The answer to report: a line built from the request's id. Empty: no answer (yet).
    std::function<std::string(const nlohmann::json &id)> reportAnswer;
    // The answer to enroll, given the request's id and token.
    std::function<std::string(const nlohmann::json &id, const std::string &token)> enrollAnswer;
    // The answer to any other method, given its request; empty: no answer (yet).
    std::function<std::string(const nlohmann::json &request)> otherAnswer;
    int subscribes = 0;
    int reports = 0;

    // A line to every subscriber (a prompt event).
    void sendToSubscribers(const std::string &line)
    {
        for (QLocalSocket *socket : m_subscribers)
            write(socket, line);
    }

    void broadcast(const Status &next)
    {
        status = next;
        for (QLocalSocket *socket : m_subscribers)
            write(socket, test::eventLine(next));
    }

    // vigild stopping: every connection ends and the socket goes away.
    void stop()
    {
        m_subscribers.clear();
        for (QLocalSocket *socket : m_server.findChildren<QLocalSocket *>())
            socket->abort();
        m_server.close();
    }

private:
    void read(QLocalSocket *socket)
    {
        while (socket->canReadLine()) {
            QByteArray line = socket->readLine();
            line.chop(1);
            const auto request = nlohmann::json::parse(line.toStdString());
            if (request["method"] == "subscribe") {
                ++subscribes;
                m_subscribers.push_back(socket);
                write(socket, test::responseLine(request["id"], status.toJson()));
            } else if (request["method"] == "report") {
                ++reports;
                if (reportAnswer)
                    write(socket, reportAnswer(request["id"]));
            } else if (request["method"] == "enroll" && enrollAnswer) {
                write(socket, enrollAnswer(request["id"], request["params"]["token"]));
            } else if (request["method"] != "enroll" && otherAnswer) {
                write(socket, otherAnswer(request));
            }
        }
    }

    static void write(QLocalSocket *socket, const std::string &bytes)
    {
        socket->write(bytes.data(), static_cast<qint64>(bytes.size()));
    }

    QLocalServer m_server{this};
    std::vector<QLocalSocket *> m_subscribers;
};

ui::TrayConnectionTimings quick()
{
    ui::TrayConnectionTimings timings;
    timings.firstRetry = 20ms;
    timings.maxRetry = 80ms;
    timings.answerTimeout = 500ms;
    return timings;
}

std::optional<Status> statusAt(const QSignalSpy &spy, qsizetype index)
{
    return spy.at(index).at(0).value<std::optional<Status>>();
}

} // namespace

class TestTrayConnection : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstStatusThenEvents()
    {
        FakeVigild vigild(path());
        TrayConnection connection(path(), quick());
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        connection.start();
        QVERIFY(statuses.wait(5000));
        QCOMPARE(statusAt(statuses, 0)->state, AgentState::Compliant);
        QVERIFY(connection.isSubscribed());
        QCOMPARE(vigild.subscribes, 1);

        vigild.broadcast(test::nonCompliantStatus());
        QVERIFY(statuses.wait(5000));
        QCOMPARE(statusAt(statuses, 1)->state, AgentState::NonCompliant);
        QCOMPARE(connection.status()->lastVerdict->failingChecks.size(), std::size_t{1});
        // Nothing else is asked while connected: no polling.
        QTest::qWait(200);
        QCOMPARE(statuses.size(), 2);
        QCOMPARE(vigild.subscribes, 1);
    }

    void noVigildIsServiceNotRunningUntilItComes()
    {
        TrayConnection connection(path(), quick());
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        connection.start();
        QTRY_COMPARE(statuses.size(), 1);
        QCOMPARE(statusAt(statuses, 0), std::nullopt);
        // Retries do not repeat "not running"; the wait grows up to its limit.
        QTRY_COMPARE(connection.nextRetryDelay(), 80ms);
        QCOMPARE(statuses.size(), 1);

        FakeVigild vigild(path());
        QTRY_COMPARE_WITH_TIMEOUT(statuses.size(), 2, 5000);
        QCOMPARE(statusAt(statuses, 1)->state, AgentState::Compliant);
        QCOMPARE(connection.nextRetryDelay(), 20ms); // reset once subscribed
    }

    void vigildRestartingIsNoticedAndResubscribed()
    {
        auto vigild = std::make_unique<FakeVigild>(path());
        TrayConnection connection(path(), quick());
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        connection.start();
        QTRY_COMPARE(statuses.size(), 1);

        vigild->stop();
        QTRY_COMPARE(statuses.size(), 2);
        QCOMPARE(statusAt(statuses, 1), std::nullopt);
        QVERIFY(!connection.isSubscribed());
        vigild.reset();
        QTest::qWait(150); // a few failed attempts while vigild is away

        FakeVigild restarted(path());
        restarted.status = test::nonCompliantStatus();
        QTRY_COMPARE_WITH_TIMEOUT(statuses.size(), 3, 5000);
        QCOMPARE(statusAt(statuses, 2)->state, AgentState::NonCompliant);
        QCOMPARE(restarted.subscribes, 1);
        // The new subscription carries events.
        restarted.broadcast(test::compliantStatus());
        QTRY_COMPARE(statuses.size(), 4);
        QCOMPARE(statusAt(statuses, 3)->state, AgentState::Compliant);
    }

    void checkNowReportsAndSaysWhenDone()
    {
        FakeVigild vigild(path());
        vigild.status = test::nonCompliantStatus();
        vigild.reportAnswer = [&vigild](const nlohmann::json &id) {
            // As vigild does: the state event, then the answer with the same status.
            return test::eventLine(test::compliantStatus()) +
                   test::responseLine(id, test::compliantStatus().toJson());
        };
        TrayConnection connection(path(), quick());
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        QSignalSpy running(&connection, &TrayConnection::checkRunningChanged);
        QSignalSpy finished(&connection, &TrayConnection::checkFinished);
        connection.start();
        QTRY_COMPARE(statuses.size(), 1);

        connection.checkNow();
        QVERIFY(connection.isCheckRunning());
        connection.checkNow(); // one at a time
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(vigild.reports, 1);
        const auto result = finished.at(0).at(0).value<ActionResult>();
        QCOMPARE(result.outcome, ActionResult::Outcome::Succeeded);
        QCOMPARE(result.status->state, AgentState::Compliant);
        QCOMPARE(running.size(), 2);
        QCOMPARE(running.at(0).at(0).toBool(), true);
        QCOMPARE(running.at(1).at(0).toBool(), false);
        QVERIFY(!connection.isCheckRunning());
        QCOMPARE(connection.status()->state, AgentState::Compliant);
    }

    void checkNowRefusals_data()
    {
        QTest::addColumn<int>("code");
        QTest::addColumn<int>("outcome");
        using protocol::ipc::ErrorCode;
        using Outcome = ActionResult::Outcome;
        QTest::newRow("permission_denied")
            << int(ErrorCode::PermissionDenied) << int(Outcome::PermissionDenied);
        QTest::newRow("not_enrolled") << int(ErrorCode::NotEnrolled) << int(Outcome::NotEnrolled);
        QTest::newRow("unavailable") << int(ErrorCode::Unavailable) << int(Outcome::Unavailable);
        QTest::newRow("internal") << int(ErrorCode::Internal) << int(Outcome::Failed);
    }

    void checkNowRefusals()
    {
        QFETCH(int, code);
        QFETCH(int, outcome);
        FakeVigild vigild(path());
        vigild.reportAnswer = [code](const nlohmann::json &id) {
            return test::errorLine(id, protocol::ipc::ErrorCode(code), "no");
        };
        TrayConnection connection(path(), quick());
        QSignalSpy finished(&connection, &TrayConnection::checkFinished);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());
        connection.checkNow();
        QTRY_COMPARE(finished.size(), 1);
        const auto result = finished.at(0).at(0).value<ActionResult>();
        QCOMPARE(int(result.outcome), outcome);
        QCOMPARE(result.message, std::string("no"));
        QVERIFY(connection.isSubscribed()); // a refusal is no reason to reconnect
    }

    void enrollSendsTheTokenAndSaysHowItWent()
    {
        FakeVigild vigild(path());
        vigild.status = test::notEnrolledStatus();
        vigild.enrollAnswer = [](const nlohmann::json &id, const std::string &token) {
            if (token != "vgl_good")
                return test::errorLine(id, protocol::ipc::ErrorCode::Unavailable,
                                       "the verifier refused the enrollment token");
            return test::eventLine(test::compliantStatus()) +
                   test::responseLine(id, test::compliantStatus().toJson());
        };
        TrayConnection connection(path(), quick());
        QSignalSpy finished(&connection, &TrayConnection::enrollFinished);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());

        connection.enroll("vgl_bad");
        QVERIFY(connection.isEnrollRunning());
        QTRY_COMPARE(finished.size(), 1);
        auto result = finished.at(0).at(0).value<ActionResult>();
        QCOMPARE(result.outcome, ActionResult::Outcome::Unavailable);
        QCOMPARE(result.message, std::string("the verifier refused the enrollment token"));
        QCOMPARE(connection.status()->state, AgentState::NotEnrolled);

        connection.enroll("vgl_good");
        QTRY_COMPARE(finished.size(), 2);
        result = finished.at(1).at(0).value<ActionResult>();
        QCOMPARE(result.outcome, ActionResult::Outcome::Succeeded);
        QCOMPARE(connection.status()->state, AgentState::Compliant);
        QVERIFY(!connection.isEnrollRunning());
    }

    // The MFA methods go through call(): each answered once, by id, in the screens' terms.
    void mfaCallsAreAnsweredByTheirIds()
    {
        FakeVigild vigild(path());
        std::vector<nlohmann::json> requests;
        vigild.otherAnswer = [&requests](const nlohmann::json &request) {
            requests.push_back(request);
            if (request["method"] == "sign_in")
                return test::errorLine(request["id"], protocol::ipc::ErrorCode::WrongPin,
                                       "wrong PIN: 2 attempts left");
            protocol::ipc::MfaStatus status;
            status.user = protocol::ipc::MfaUserInfo{};
            status.user->userId = "0f6c1a52-8a0e-4f55-9b1e-2d7c4e0b9a11";
            status.user->name = "alice";
            status.user->pinAttemptsLeft = 3;
            return test::responseLine(request["id"], status.toJson());
        };
        TrayConnection connection(path(), quick());
        ui::IpcMfaBackend backend(connection);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());

        std::optional<ui::MfaReply<ui::MfaStatus>> status;
        std::optional<ui::MfaReply<ui::MfaStatus>> signIn;
        backend.signIn(QStringLiteral("123456"), std::nullopt,
                       [&](const auto &reply) { signIn = reply; });
        backend.status([&](const auto &reply) { status = reply; });
        QTRY_VERIFY(status && signIn);
        QVERIFY(status->ok());
        QVERIFY(status->value.enrolled);
        QCOMPARE(status->value.name, QStringLiteral("alice"));
        QCOMPARE(status->value.pinAttemptsLeft, std::optional<int>(3));
        QVERIFY(!status->value.signedIn);
        QCOMPARE(signIn->error->code, ui::mfaerror::wrongPin);
        QCOMPARE(signIn->error->message, QStringLiteral("wrong PIN: 2 attempts left"));
        QCOMPARE(requests.size(), std::size_t(2));
        QCOMPARE(requests[0]["params"]["pin"], "123456");
        QVERIFY(!requests[0]["params"].contains("otp"));
    }

    void mfaCallsWithoutVigildAnswerLaterAsNotRunning()
    {
        TrayConnection connection(path(), quick());
        ui::IpcMfaBackend backend(connection);
        connection.start();
        std::optional<ui::MfaReply<ui::MfaStatus>> status;
        backend.status([&](const auto &reply) { status = reply; });
        QVERIFY(!status); // never inside the call: the caller may not be ready
        QTRY_VERIFY(status);
        QCOMPARE(status->error->code, ui::mfaerror::notRunning);
    }

    void vigildStoppingAnswersTheCallsWaiting()
    {
        FakeVigild vigild(path()); // never answers the MFA methods
        TrayConnection connection(path(), quick());
        ui::IpcMfaBackend backend(connection);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());
        std::optional<ui::MfaReply<QStringList>> codes;
        backend.newRecoveryCodes(QStringLiteral("123456"),
                                 [&](const auto &reply) { codes = reply; });
        QTest::qWait(50);
        QVERIFY(!codes);
        vigild.stop();
        QTRY_VERIFY(codes);
        QCOMPARE(codes->error->code, ui::mfaerror::notRunning);
    }

    void promptsArePassedOn()
    {
        FakeVigild vigild(path());
        TrayConnection connection(path(), quick());
        QSignalSpy prompts(&connection, &TrayConnection::promptReceived);
        QSignalSpy closed(&connection, &TrayConnection::promptClosed);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());

        protocol::ipc::PromptEvent event;
        event.prompt.id = "unlock-7";
        event.prompt.reason = protocol::ipc::PromptReason::Unlock;
        event.prompt.factors = {protocol::ipc::Factor::Pin, protocol::ipc::Factor::Otp};
        vigild.sendToSubscribers(event.toJson().dump() + "\n");
        QTRY_COMPARE(prompts.size(), 1);
        const auto prompt = prompts.at(0).at(0).value<protocol::ipc::Prompt>();
        QCOMPARE(prompt.id, std::string("unlock-7"));
        QCOMPARE(prompt.reason, protocol::ipc::PromptReason::Unlock);

        vigild.sendToSubscribers(protocol::ipc::PromptClosedEvent{"unlock-7"}.toJson().dump() +
                                 "\n");
        QTRY_COMPARE(closed.size(), 1);
        QCOMPARE(closed.at(0).at(0).value<std::string>(), std::string("unlock-7"));
    }

    void checkNowWithoutVigild()
    {
        TrayConnection connection(path(), quick());
        QSignalSpy finished(&connection, &TrayConnection::checkFinished);
        connection.start();
        connection.checkNow();
        QCOMPARE(finished.size(), 1);
        QCOMPARE(finished.at(0).at(0).value<ActionResult>().outcome,
                 ActionResult::Outcome::ServiceNotRunning);
    }

    void vigildStoppingDuringACheck()
    {
        FakeVigild vigild(path()); // never answers report
        TrayConnection connection(path(), quick());
        QSignalSpy finished(&connection, &TrayConnection::checkFinished);
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        connection.start();
        QTRY_VERIFY(connection.isSubscribed());
        connection.checkNow();
        QTRY_COMPARE(vigild.reports, 1);
        vigild.stop();
        QTRY_COMPARE(finished.size(), 1);
        QCOMPARE(finished.at(0).at(0).value<ActionResult>().outcome,
                 ActionResult::Outcome::ServiceNotRunning);
        QVERIFY(!connection.isCheckRunning());
        QTRY_COMPARE(statuses.size(), 2);
        QCOMPARE(statusAt(statuses, 1), std::nullopt);
    }

    void silentVigildIsTreatedAsGone()
    {
        // Accepts connections and never answers: the answer timeout ends each one.
        QLocalServer::removeServer(path());
        QLocalServer silent;
        QVERIFY(silent.listen(path()));
        TrayConnection connection(path(), quick());
        QSignalSpy statuses(&connection, &TrayConnection::statusChanged);
        connection.start();
        QTRY_COMPARE_WITH_TIMEOUT(statuses.size(), 1, 5000);
        QCOMPARE(statusAt(statuses, 0), std::nullopt);
    }

private:
    QString path() const { return m_directory.filePath(QStringLiteral("vigild.sock")); }

    QTemporaryDir m_directory;
};

QTEST_GUILESS_MAIN(TestTrayConnection)
#include "tst_trayconnection.moc"

#pragma once

// The tray's one connection to vigild (docs/ipc.md sections 7.3 and 9): connect, subscribe, and
// pass on the status of the answer and of every event. When vigild is not there, stops or
// restarts, the status becomes nullopt ("service not running") and the connection is tried again
// with exponential backoff, then subscribes again. Nothing is polled while connected: vigild
// speaks when something changes. "Check now" is a report request on the same connection.

#include "app/ipcclient/vigildclient.h"
#include "protocol/ipc/status.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace vigil::ui {

struct TrayConnectionTimings
{
    std::chrono::milliseconds firstRetry{500}; // vigild restarting is back within a second or two
    std::chrono::milliseconds maxRetry{30'000};
    // vigild answers subscribe at once; a connection that stays silent is treated as lost.
    std::chrono::milliseconds answerTimeout{10'000};
};

// How a "Check now" or an enrollment ended. The tray words it; message is vigild's or the
// connection's English text, for the details and the log.
struct ActionResult
{
    enum class Outcome
    {
        Succeeded,        // a verdict or an enrollment came back (status is set)
        PermissionDenied, // report is for root and vigild's group
        NotEnrolled,
        Unavailable,       // the verifier could not be reached or refused (a bad token)
        Failed,            // vigild failed, or answered something else
        ServiceNotRunning, // no connection, or it ended before the answer
    };
    Outcome outcome = Outcome::Failed;
    std::string message;
    std::optional<protocol::ipc::Status> status;
};

class TrayConnection : public QObject
{
    Q_OBJECT

public:
    explicit TrayConnection(QString socketPath, TrayConnectionTimings timings = {},
                            QObject *parent = nullptr);
    ~TrayConnection() override;

    // Connects and keeps connecting until stop() or destruction.
    void start();
    void stop();

    // The last status vigild gave, nullopt while it is not reachable.
    const std::optional<protocol::ipc::Status> &status() const { return m_status; }
    bool isSubscribed() const { return m_subscribed; }
    bool isCheckRunning() const { return m_reportId.has_value(); }
    bool isEnrollRunning() const { return m_enrollId.has_value(); }
    // The wait before the next connection attempt after a failure.
    std::chrono::milliseconds nextRetryDelay() const { return m_retryDelay; }

    // Asks vigild to report now. checkRunningChanged(true) and, later, checkFinished follow;
    // checkFinished comes at once when there is no connection. A second call while one runs does
    // nothing (vigild would only wait for the first).
    void checkNow();
    // Asks vigild to enroll the device with an enrollment token (a secret: never logged).
    // enrollFinished follows, at once when there is no connection or one is running.
    void enroll(const std::string &token);

    // Any other request on the same connection (the MFA methods): done gets vigild's response
    // exactly once, later; a response with an error and no result when there is no connection
    // or it ends before the answer (code internal, message saying so, and notConnected true).
    struct CallOutcome
    {
        protocol::ipc::Response response;
        bool notConnected = false;
    };
    using CallDone = std::function<void(const CallOutcome &outcome)>;
    void call(protocol::ipc::Request request, CallDone done);

Q_SIGNALS:
    // On the answer to subscribe, on each event, on a report's answer, and once (not at every
    // retry) when the connection fails or ends: nullopt.
    void statusChanged(const std::optional<vigil::protocol::ipc::Status> &status);
    void subscribedChanged(bool subscribed);
    void checkRunningChanged(bool running);
    void checkFinished(const vigil::ui::ActionResult &result);
    void enrollFinished(const vigil::ui::ActionResult &result);
    // vigild asks this user to sign in, and that request is over (docs/ipc.md section 9).
    void promptReceived(const vigil::protocol::ipc::Prompt &prompt);
    void promptClosed(const std::string &id);

private:
    void connectNow();
    void onConnected();
    void onResponse(const protocol::ipc::Response &response);
    void onEvent(const protocol::ipc::Event &event);
    void onFailed(const ipcclient::CallError &error);
    // Drops the connection, reports "not running" once and arms the next attempt.
    void lose(const std::string &why);
    void setStatus(const std::optional<protocol::ipc::Status> &status);
    void finishCheck(ActionResult result);
    void finishEnroll(ActionResult result);
    // Answers every call() waiting with "not connected".
    void failCalls(const std::string &why);
    // The result of a report or enroll answer.
    ActionResult actionResult(const protocol::ipc::Response &response);

    QString m_socketPath;
    TrayConnectionTimings m_timings;
    ipcclient::VigildClient m_client;
    QTimer m_retryTimer;
    QTimer m_answerTimer;
    std::chrono::milliseconds m_retryDelay;
    bool m_running = false;
    bool m_subscribed = false;
    bool m_announcedDown = false; // statusChanged(nullopt) was emitted for this outage
    std::optional<protocol::ipc::RequestId> m_subscribeId;
    std::optional<protocol::ipc::RequestId> m_reportId;
    std::optional<protocol::ipc::RequestId> m_enrollId;
    std::optional<protocol::ipc::Status> m_status;
    QHash<std::int64_t, CallDone> m_calls; // call()s waiting, by their request id
};

} // namespace vigil::ui
